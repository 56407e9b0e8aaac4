//! Tells `each_backend!` which database servers the tests can reach.
//!
//! The PostgreSQL and MySQL/MariaDB variants of a test are marked `#[ignore]` (reported
//! as skipped, never as passed) when their URL variable is unset. The decision is made
//! here, once, when the kit is compiled; the macros it selects are expanded in the
//! crates that use them, so those crates need no build script of their own.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(superhero_no_postgres)");
    println!("cargo::rustc-check-cfg=cfg(superhero_no_mysql)");
    println!("cargo::rerun-if-env-changed=EVENTFLOW_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=EVENTFLOW_TEST_MYSQL_URL");
    println!("cargo::rustc-check-cfg=cfg(superhero_no_browser)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    // Browser tests drive Debian's chromium through chromedriver (`.ci/run` installs
    // both); without chromedriver on PATH they are marked ignored with the reason.
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("chromedriver").is_file())
    });
    if !found {
        println!("cargo::rustc-cfg=superhero_no_browser");
    }
    if std::env::var_os("EVENTFLOW_TEST_POSTGRES_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=superhero_no_postgres");
    }
    if std::env::var_os("EVENTFLOW_TEST_MYSQL_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=superhero_no_mysql");
    }
}
