//! The config loader on text a user writes: a JSON or TOML file
//! (`superhero_core::config::Format::parse`, which reports exact positions), then
//! environment variables applied over it (`superhero_core::config::env::apply`).
//! Input: a selector byte, the file's text, then `NAME=value` lines after a NUL byte.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use superhero_core::config::{Format, env};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (file, vars) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &b""[..]),
    };
    let Ok(text) = std::str::from_utf8(file) else {
        return;
    };
    let format = if selector % 2 == 0 {
        Format::Json
    } else {
        Format::Toml
    };
    let Ok(mut config) = format.parse(text, Path::new("fuzz.toml")) else {
        return;
    };
    let vars: Vec<(String, String)> = String::from_utf8_lossy(vars)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (format!("SUPERHERO__{name}"), value.to_owned()))
        .collect();
    let _ = env::apply("SUPERHERO", vars, &mut config);
});
