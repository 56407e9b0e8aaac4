//! RFC 9421 `Signature-Input` / `Signature` structured fields as a client sends them
//! (`superhero_auth::signature::input::parse`), and the signature base built from what
//! parsed. Input: the two header values separated by a NUL byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use superhero_auth::signature::RequestParts;
use superhero_auth::signature::input::parse;

fuzz_target!(|data: &[u8]| {
    let (input, signature) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(signatures) = parse(input, signature) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-digest",
        http::HeaderValue::from_static("sha-256=:AAAA:"),
    );
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    let parts = RequestParts {
        method: "POST",
        authority: "example.com",
        path: "/posts",
        query: Some("a=1"),
        headers: &headers,
    };
    for signature in &signatures {
        let _ = signature.base(&parts);
    }
});
