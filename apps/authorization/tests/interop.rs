//! Interoperability with an independent RFC 9421 implementation, the `httpsig` crate:
//! requests it signs are accepted by the signed-session middleware over real HTTP, and
//! signatures our `Signer` makes verify with it; `hmac-sha256` and `ed25519`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use httpsig::prelude::message_component::{HttpMessageComponent, HttpMessageComponentId};
use httpsig::prelude::{
    AlgorithmName, HttpSignatureBase, HttpSignatureHeaders, HttpSignatureParams, PublicKey,
    SecretKey, SharedKey, VerifyingKey as _,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use superhero_auth::signature::{Signer, SigningKey};
use superhero_testkit::TestNode;
use superhero_testkit::http::{Client, Proto};
use superhero_testkit::signed::PASSWORD;

async fn node() -> TestNode {
    TestNode::builder()
        .app(authorization::APP)
        .eventflow(superhero_testkit::Backend::Sqlite)
        .start()
        .await
}

/// Registers `name` and signs in (with `public_key` for ed25519); the session's answer.
async fn session(
    client: &mut Client,
    name: &str,
    public_key: Option<[u8; 32]>,
) -> serde_json::Value {
    let registered = client
        .post_json("/users", &json!({"name": name, "password": PASSWORD}))
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let mut body = json!({"name": name, "password": PASSWORD});
    if let Some(key) = public_key {
        body["public_key"] = json!(STANDARD.encode(key));
    }
    let answer = client.post_json("/sessions", &body).await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    answer.json()
}

/// The components the server requires, with their values, as `httpsig` builds them.
fn components(
    method: &str,
    authority: &str,
    path: &str,
    query: &str,
    digest: Option<&str>,
) -> Vec<HttpMessageComponent> {
    let mut lines = vec![
        ("\"@method\"", method.to_owned()),
        ("\"@authority\"", authority.to_owned()),
        ("\"@path\"", path.to_owned()),
        ("\"@query\"", format!("?{query}")),
    ];
    if let Some(digest) = digest {
        lines.push(("\"content-digest\"", digest.to_owned()));
    }
    lines
        .into_iter()
        .map(|(id, value)| {
            let id = HttpMessageComponentId::try_from(id).expect("a component id");
            HttpMessageComponent::try_from((&id, &[value][..])).expect("a component")
        })
        .collect()
}

/// RFC 9530 `sha-256`, computed here without our crate.
fn digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// `httpsig`'s Signature-Input and Signature for a request.
fn httpsig_sign(
    key: &impl httpsig::prelude::SigningKey,
    alg: AlgorithmName,
    keyid: &str,
    lines: &[HttpMessageComponent],
) -> (String, String) {
    let ids: Vec<HttpMessageComponentId> = lines.iter().map(|c| c.id.clone()).collect();
    let mut params = HttpSignatureParams::try_new(&ids).expect("params");
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    params
        .set_created(created)
        .set_random_nonce()
        .set_keyid(keyid)
        .set_alg(&alg);
    let base = HttpSignatureBase::try_new(lines, &params).expect("a signature base");
    let headers = base
        .build_signature_headers(key, Some("sig"))
        .expect("signed");
    (
        headers.signature_input_header_value(),
        headers.signature_header_value(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_signed_by_httpsig_are_accepted_with_either_algorithm() {
    let node = node().await;
    let mut client = node.client(&Proto::Http1).await;
    let authority = client.authority().to_owned();

    // hmac-sha256 with the session key.
    let hmac = session(&mut client, "alice", None).await;
    let keyid = hmac["session_id"].as_str().unwrap();
    let shared = SharedKey::from_base64(
        &AlgorithmName::HmacSha256,
        hmac["session_key"].as_str().unwrap(),
    )
    .unwrap();
    let lines = components("GET", &authority, "/sessions/current", "", None);
    let (input, signature) = httpsig_sign(&shared, AlgorithmName::HmacSha256, keyid, &lines);
    let headers = [
        ("signature-input", input.as_str()),
        ("signature", signature.as_str()),
    ];
    let reply = client
        .request(Method::GET, "/sessions/current", &headers, "")
        .await;
    assert_eq!(reply.status, 200, "{input}: {}", reply.text());
    assert_eq!(reply.json()["name"], "alice");

    // ed25519 with a key pair httpsig holds; the server knows its public key.
    let seed = [42u8; 32];
    let public = SigningKey::ed25519_from_seed(&seed)
        .unwrap()
        .public_key()
        .unwrap();
    let ed = session(&mut client, "bob", Some(public)).await;
    let secret = SecretKey::from_bytes(&AlgorithmName::Ed25519, &seed).unwrap();
    assert_eq!(
        secret.public_key().key_id(),
        PublicKey::from_bytes(&AlgorithmName::Ed25519, &public)
            .unwrap()
            .key_id(),
        "both libraries derive the same public key"
    );
    let body = br#"{"note":"signed by httpsig"}"#;
    let digest = digest(body);
    let path = format!("/users/{}/activity", ed["user_id"].as_str().unwrap());
    let lines = components("GET", &authority, &path, "limit=3", Some(&digest));
    let (input, signature) = httpsig_sign(
        &secret,
        AlgorithmName::Ed25519,
        ed["session_id"].as_str().unwrap(),
        &lines,
    );
    let headers = [
        ("signature-input", input.as_str()),
        ("signature", signature.as_str()),
        ("content-digest", digest.as_str()),
        ("content-type", "application/json"),
    ];
    let reply = client
        .request(Method::GET, &format!("{path}?limit=3"), &headers, &body[..])
        .await;
    assert_eq!(reply.status, 200, "{input}: {}", reply.text());
    node.shutdown().await;
}

/// Whether httpsig verifies a signature over a base.
type Check = Box<dyn Fn(&HttpSignatureBase, &HttpSignatureHeaders) -> bool>;

#[test]
fn our_signatures_verify_with_httpsig_for_either_algorithm() {
    let authority = "api.example.com:8443";
    let body = br#"{"title":"Hello"}"#;
    let key_bytes = [7u8; 32];
    let seed = [9u8; 32];
    let cases: Vec<(SigningKey, Check)> = vec![
        (
            SigningKey::hmac(&key_bytes),
            Box::new(move |base, headers| {
                let shared =
                    SharedKey::from_base64(&AlgorithmName::HmacSha256, &STANDARD.encode(key_bytes))
                        .unwrap();
                base.verify_signature_headers(&shared, headers).is_ok()
            }),
        ),
        (
            SigningKey::ed25519_from_seed(&seed).unwrap(),
            Box::new(move |base, headers| {
                let public = SecretKey::from_bytes(&AlgorithmName::Ed25519, &seed)
                    .unwrap()
                    .public_key();
                base.verify_signature_headers(&public, headers).is_ok()
            }),
        ),
    ];
    for (key, verify) in cases {
        let alg = key.algorithm().name();
        let signer = Signer::new("session-1", key);
        let signed = signer
            .sign("POST", authority, "/posts?draft=1", body)
            .unwrap();
        assert_eq!(
            signed.content_digest.as_deref(),
            Some(digest(body).as_str())
        );
        let parsed = HttpSignatureHeaders::try_parse(&signed.signature, &signed.signature_input)
            .expect("httpsig parses our fields");
        let headers = parsed.get("sig").expect("our label");
        assert_eq!(headers.signature_params().alg.as_deref(), Some(alg));
        let lines = components("POST", authority, "/posts", "draft=1", Some(&digest(body)));
        let base = HttpSignatureBase::try_new(&lines, headers.signature_params()).unwrap();
        assert!(
            verify(&base, headers),
            "{alg}: httpsig verifies our signature"
        );
        let other = components("POST", authority, "/posts", "draft=2", Some(&digest(body)));
        let other = HttpSignatureBase::try_new(&other, headers.signature_params()).unwrap();
        assert!(
            !verify(&other, headers),
            "{alg}: and refuses it for another query"
        );
    }
}
