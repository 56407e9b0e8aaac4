//! RFC 9421 Appendix B test vectors (B.2.5 hmac-sha256, B.2.6 ed25519) and the parser's
//! refusals.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};

use super::input::{self, MAX_FIELD_LEN};
use super::*;

/// The test-request of RFC 9421 Appendix B.2 (its header fields).
fn test_request_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("host", "example.com"),
        ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("content-type", "application/json"),
        (
            "content-digest",
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        ),
        ("content-length", "18"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
}

fn parts(headers: &HeaderMap) -> RequestParts<'_> {
    RequestParts {
        method: "POST",
        authority: "example.com",
        path: "/foo",
        query: Some("param=Value&Pet=dog"),
        headers,
    }
}

/// B.1.5: the shared secret `test-shared-secret`.
const SHARED_SECRET: &str =
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==";

/// B.1.4: `test-key-ed25519`, the PKCS#8 private key (its last 32 bytes are the seed)
/// and the SubjectPublicKeyInfo (its last 32 bytes are the raw public key).
const ED25519_PRIVATE: &str = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
const ED25519_PUBLIC: &str = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";

fn last_32(base64: &str) -> Vec<u8> {
    let bytes = STANDARD.decode(base64).unwrap();
    bytes[bytes.len() - 32..].to_vec()
}

#[test]
fn b_2_5_hmac_sha256_verifies_and_is_reproduced() {
    let headers = test_request_headers();
    let signature_input = r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#;
    let signature = "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:";
    let parsed = input::parse(signature_input.as_bytes(), signature.as_bytes()).unwrap();
    assert_eq!(parsed.len(), 1);
    let sig = &parsed[0];
    let base = sig.base(&parts(&headers)).unwrap();
    assert_eq!(
        base,
        concat!(
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n",
            "\"@authority\": example.com\n",
            "\"content-type\": application/json\n",
            "\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\""
        )
    );
    let secret = STANDARD.decode(SHARED_SECRET).unwrap();
    assert!(VerifyingKey::hmac(&secret).verify(base.as_bytes(), &sig.value));
    assert_eq!(SigningKey::hmac(&secret).sign(base.as_bytes()), sig.value);
    assert!(!VerifyingKey::hmac(b"another secret").verify(base.as_bytes(), &sig.value));
}

#[test]
fn b_2_6_ed25519_verifies_and_is_reproduced() {
    let headers = test_request_headers();
    let signature_input = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
    let signature = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
    let parsed = input::parse(signature_input.as_bytes(), signature.as_bytes()).unwrap();
    let sig = &parsed[0];
    let base = sig.base(&parts(&headers)).unwrap();
    assert!(
        base.starts_with(
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n"
        ),
        "{base}"
    );
    let public = VerifyingKey::ed25519(&last_32(ED25519_PUBLIC)).unwrap();
    assert!(public.verify(base.as_bytes(), &sig.value));
    // Ed25519 is deterministic: signing the same base with the private key gives the
    // RFC's signature.
    let private = SigningKey::ed25519_from_seed(&last_32(ED25519_PRIVATE)).unwrap();
    assert_eq!(
        private.public_key().unwrap().to_vec(),
        last_32(ED25519_PUBLIC)
    );
    assert_eq!(private.sign(base.as_bytes()), sig.value);
    let mut tampered = base.into_bytes();
    tampered[10] ^= 1;
    assert!(!public.verify(&tampered, &sig.value));
}

#[test]
fn our_signer_covers_the_required_components_and_verifies() {
    let signer = Signer::new("session-1", SigningKey::hmac(&[9; 32]));
    let body = br#"{"title":"Hi"}"#;
    let signed = signer
        .sign_at(
            "POST",
            "localhost:8080",
            "/posts?draft=1",
            body,
            1_700_000_000,
            "n-1",
        )
        .unwrap();
    assert_eq!(
        signed.signature_input,
        r#"sig=("@method" "@authority" "@path" "@query" "content-digest");created=1700000000;nonce="n-1";alg="hmac-sha256";keyid="session-1""#
    );
    let mut headers = HeaderMap::new();
    for (name, value) in signed.pairs() {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let request = RequestParts {
        method: "POST",
        authority: "localhost:8080",
        path: "/posts",
        query: Some("draft=1"),
        headers: &headers,
    };
    let parsed = input::parse(
        signed.signature_input.as_bytes(),
        signed.signature.as_bytes(),
    )
    .unwrap();
    let base = parsed[0].base(&request).unwrap();
    assert!(base.contains("\"@query\": ?draft=1\n"), "{base}");
    assert!(VerifyingKey::hmac(&[9; 32]).verify(base.as_bytes(), &parsed[0].value));
    assert_eq!(parsed[0].params.nonce.as_deref(), Some("n-1"));

    let no_query = signer.sign_at("GET", "h", "/a", b"", 1, "n").unwrap();
    assert!(no_query.content_digest.is_none());
    assert!(!no_query.signature_input.contains("content-digest"));
}

#[test]
fn malformed_oversized_and_unsupported_fields_are_refused_without_panicking() {
    let ok_input = r#"sig=("@method");created=1;keyid="k""#;
    let ok_value = "sig=:AAAA:";
    let cases: Vec<(String, String)> = vec![
        ("sig=(".into(), ok_value.into()),
        (ok_input.into(), "sig=AAAA".into()),
        (ok_input.into(), "other=:AAAA:".into()),
        (r#"sig="@method""#.into(), ok_value.into()),
        (r#"sig=("@method";sf)"#.into(), ok_value.into()),
        (r#"sig=("@target-uri")"#.into(), ok_value.into()),
        (r#"sig=("Content-Type")"#.into(), ok_value.into()),
        (r#"sig=("@method" "@method")"#.into(), ok_value.into()),
        (r#"sig=(@method)"#.into(), ok_value.into()),
        (
            r#"sig=("@method");created="yesterday""#.into(),
            ok_value.into(),
        ),
        (r#"sig=("@method");keyid=12"#.into(), ok_value.into()),
        (
            format!(r#"sig=("@method");nonce="{}""#, "n".repeat(300)),
            ok_value.into(),
        ),
        (format!("sig=({})", "\"a\" ".repeat(40)), ok_value.into()),
        ("x".repeat(MAX_FIELD_LEN + 1), ok_value.into()),
        ("\u{0}".into(), ok_value.into()),
    ];
    for (input_field, value) in cases {
        let parsed = input::parse(input_field.as_bytes(), value.as_bytes());
        assert!(
            matches!(parsed, Err(SignatureError::Invalid { .. })),
            "{input_field:?} / {value:?}: {parsed:?}"
        );
    }
    let two = input::parse(
        br#"a=("@method");created=1, b=("@path");created=1"#,
        b"a=:AAAA:, b=:AAAA:",
    )
    .unwrap();
    assert_eq!(
        two.len(),
        2,
        "several labels parse; the verifier refuses them"
    );
}

#[test]
fn a_covered_field_missing_from_the_request_is_component_missing() {
    let headers = HeaderMap::new();
    let parsed = input::parse(br#"sig=("content-digest");created=1"#, b"sig=:AAAA:").unwrap();
    assert_eq!(
        parsed[0].base(&parts(&headers)).unwrap_err(),
        SignatureError::ComponentMissing {
            component: "content-digest".into()
        }
    );
}
