//! Use case 4 end to end over real HTTP: users, sessions, signed requests and every way a
//! signed request is refused, on a node with the authorization app and an embedded hub
//! and spoke (SQLite, and PostgreSQL / MySQL when their URLs are set).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{Method, header::HeaderValue};
use serde_json::json;
use superhero_auth::signature::input::{SignatureParams, serialize_params, signature_base};
use superhero_auth::signature::{Algorithm, Component, RequestParts, SignedHeaders, SigningKey};
use superhero_eventflow::SqlStore;
use superhero_testkit::http::{Proto, Reply};
use superhero_testkit::signed::{PASSWORD, SignedClient};
use superhero_testkit::{Backend, TestNode, eventually};

async fn node(backend: Backend) -> TestNode {
    TestNode::builder()
        .app(authorization::APP)
        .eventflow(backend)
        .start()
        .await
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A signature made by hand: any components and parameters, with `key`.
fn craft(
    alice: &SignedClient,
    method: &Method,
    path: &str,
    components: &[Component],
    params: SignatureParams,
    key: &SigningKey,
    digest: Option<&str>,
) -> SignedHeaders {
    let mut headers = http::HeaderMap::new();
    if let Some(digest) = digest {
        headers.insert("content-digest", HeaderValue::from_str(digest).unwrap());
    }
    let (path_only, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let parts = RequestParts {
        method: method.as_str(),
        authority: alice.client.authority(),
        path: path_only,
        query,
        headers: &headers,
    };
    let serialized = serialize_params(components, &params).unwrap();
    let base = signature_base(components, &serialized, &parts).unwrap();
    SignedHeaders {
        content_digest: digest.map(str::to_owned),
        signature_input: format!("sig={serialized}"),
        signature: format!("sig=:{}:", STANDARD.encode(key.sign(base.as_bytes()))),
    }
}

fn required() -> Vec<Component> {
    ["@method", "@authority", "@path", "@query"]
        .iter()
        .map(|n| Component::parse(n).unwrap())
        .collect()
}

fn params(alice: &SignedClient, created: i64, nonce: &str) -> SignatureParams {
    SignatureParams {
        created: Some(created),
        nonce: Some(nonce.into()),
        keyid: Some(alice.session.session_id.clone()),
        alg: Some("hmac-sha256".into()),
        ..SignatureParams::default()
    }
}

fn refused(reply: &Reply, code: &str) {
    reply.error(401, code);
    let accept = reply
        .header("accept-signature")
        .unwrap_or_else(|| panic!("{code}: no Accept-Signature"));
    assert!(
        accept.starts_with(r#"sig=("@method" "@authority" "@path" "@query""#)
            && accept.contains("created")
            && accept.contains("nonce"),
        "{accept}"
    );
}

superhero_testkit::each_backend!(
    a_user_registers_signs_in_and_is_known_by_signed_requests,
    an_ed25519_session_signs_with_its_key_only,
    a_second_digest_line_is_checked_as_signed,
    a_node_with_another_secret_refuses_the_sessions_it_cannot_open,
    every_rejection_has_its_code_and_stores_nothing,
    a_session_ended_by_sign_out_is_refused_at_once,
    activity_is_recorded_and_readable_by_its_user_only,
);

async fn a_user_registers_signs_in_and_is_known_by_signed_requests(backend: Backend) {
    let node = node(backend).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let answer = alice.session.answer.clone();
    assert_eq!(
        answer.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["session_id", "session_key", "user_id", "expires_at"]
    );
    assert!(alice.session.session_id.len() >= 22, "≥ 128 bits");
    assert_eq!(alice.session.session_key.len(), 32);
    let me = alice.send(Method::GET, "/sessions/current", b"").await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["name"], "alice");
    assert_eq!(me.json()["user_id"], answer["user_id"]);
    assert_eq!(me.json()["session"]["algorithm"], "hmac-sha256");

    let mut bob = SignedClient::sign_up(&node, &Proto::H2c, "bob", Algorithm::Ed25519).await;
    let me = bob.send(Method::GET, "/sessions/current", b"").await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(
        (
            me.json()["name"].clone(),
            me.json()["session"]["algorithm"].clone()
        ),
        (json!("bob"), json!("ed25519"))
    );

    let mut anon = node.client(&Proto::Http1).await;
    let taken = anon
        .post_json("/users", &json!({"name": "ALICE", "password": PASSWORD}))
        .await;
    taken.error(409, "E_AUTH_NAME_TAKEN");
    let invalid = anon
        .post_json(
            "/users",
            &json!({"name": "no spaces", "password": PASSWORD}),
        )
        .await;
    invalid.error(400, "E_OAS_INVALID_REQUEST_BODY");
    let wrong = anon
        .post_json(
            "/sessions",
            &json!({"name": "alice", "password": "not the password"}),
        )
        .await;
    let unknown = anon
        .post_json(
            "/sessions",
            &json!({"name": "nobody", "password": PASSWORD}),
        )
        .await;
    let wrong = wrong.error(401, "E_AUTH_CREDENTIALS");
    let unknown = unknown.error(401, "E_AUTH_CREDENTIALS");
    assert_eq!(wrong, unknown, "one answer for both");
    let bad_key = anon
        .post_json(
            "/sessions",
            &json!({"name": "alice", "password": PASSWORD, "public_key": "AAAA"}),
        )
        .await;
    bad_key.error(400, "E_AUTH_INVALID");
    node.shutdown().await;
}

async fn an_ed25519_session_signs_with_its_key_only(backend: Backend) {
    let node = node(backend).await;
    let mut bob = SignedClient::sign_up(&node, &Proto::Http1, "bob", Algorithm::Ed25519).await;
    assert!(
        bob.session.answer["session_key"].is_null(),
        "no HMAC key for a session with a public key: {}",
        bob.session.answer
    );
    let get = Method::GET;
    let mut as_hmac = params(&bob, now(), "n-1");
    as_hmac.alg = Some("hmac-sha256".into());
    let signed = craft(
        &bob,
        &get,
        "/sessions/current",
        &required(),
        as_hmac,
        &SigningKey::hmac(&[0; 32]),
        None,
    );
    refused(
        &bob.send_signed(get.clone(), "/sessions/current", &signed, b"")
            .await,
        "E_AUTH_SIGNATURE_INVALID",
    );
    let ok = bob.send(get, "/sessions/current", b"").await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    node.shutdown().await;
}

async fn a_second_digest_line_is_checked_as_signed(backend: Backend) {
    let node = node(backend).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let key = SigningKey::hmac(&alice.session.session_key);
    let delete = Method::DELETE;
    let body = b"{\"a\":1}";
    let right = superhero_auth::signature::digest::content_digest(body);
    let wrong = superhero_auth::signature::digest::content_digest(b"{\"a\":2}");
    // Two Content-Digest lines, signed joined: the second (the one that counts) is wrong.
    let joined = format!("{right}, {wrong}");
    let mut components = required();
    components.push(Component::Field("content-digest".into()));
    let signed = craft(
        &alice,
        &delete,
        "/sessions/current",
        &components,
        params(&alice, now(), "n-1"),
        &key,
        Some(&joined),
    );
    let headers = [
        ("content-digest", right.as_str()),
        ("content-digest", wrong.as_str()),
        ("signature-input", signed.signature_input.as_str()),
        ("signature", signed.signature.as_str()),
        ("content-type", "application/json"),
    ];
    let reply = alice
        .client
        .request(delete, "/sessions/current", &headers, &body[..])
        .await;
    refused(&reply, "E_AUTH_DIGEST_MISMATCH");
    node.shutdown().await;
}

async fn a_node_with_another_secret_refuses_the_sessions_it_cannot_open(backend: Backend) {
    let node = node(backend).await;
    let alice = SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let other = TestNode::builder()
        .app(authorization::APP)
        .join(node.store_config().clone())
        .config(json!({"auth": {"secret": "another secret, 0123456789"}}))
        .start()
        .await;
    let signed = alice.sign(&Method::GET, "/sessions/current", b"");
    let headers: Vec<(&str, &str)> = signed.pairs().collect();
    let mut client = other
        .client(&Proto::Http1)
        .await
        .with_authority(alice.client.authority());
    let reply = client
        .request(Method::GET, "/sessions/current", &headers, "")
        .await;
    refused(&reply, "E_AUTH_SESSION_UNKNOWN");
    other.shutdown().await;
    node.shutdown().await;
}

async fn every_rejection_has_its_code_and_stores_nothing(backend: Backend) {
    let node = node(backend).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let mut bob = SignedClient::sign_up(&node, &Proto::Http1, "bob", Algorithm::HmacSha256).await;
    let key = SigningKey::hmac(&alice.session.session_key);
    let get = Method::GET;
    let path = "/users/x/activity?limit=5";

    // Not signed at all.
    let reply = alice.client.get("/sessions/current").await;
    refused(&reply, "E_AUTH_SIGNATURE_MISSING");

    // No keyid.
    let mut no_keyid = params(&alice, now(), "n-1");
    no_keyid.keyid = None;
    let signed = craft(&alice, &get, path, &required(), no_keyid, &key, None);
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SESSION_MISSING",
    );

    // A session that does not exist.
    let mut stranger = params(&alice, now(), "n-2");
    stranger.keyid = Some("no-such-session".into());
    let signed = craft(&alice, &get, path, &required(), stranger, &key, None);
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SESSION_UNKNOWN",
    );

    // Bob's session id with a signature made by Alice's key: looks valid, is not.
    let mut borrowed = params(&alice, now(), "n-3");
    borrowed.keyid = Some(bob.session.session_id.clone());
    let signed = craft(&alice, &get, path, &required(), borrowed, &key, None);
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SIGNATURE_INVALID",
    );

    // An unknown algorithm, a tampered signature, several labels, garbage, oversize.
    let mut odd = params(&alice, now(), "n-4");
    odd.alg = Some("rsa-v1_5-sha256".into());
    let signed = craft(&alice, &get, path, &required(), odd, &key, None);
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SIGNATURE_INVALID",
    );
    let mut tampered = alice.sign(&get, path, b"");
    tampered.signature = tampered.signature.replacen(":", ":AAAA", 1);
    refused(
        &alice.send_signed(get.clone(), path, &tampered, b"").await,
        "E_AUTH_SIGNATURE_INVALID",
    );
    let good = alice.sign(&get, path, b"");
    let twice = SignedHeaders {
        signature_input: format!("{}, b={}", good.signature_input, &good.signature_input[4..]),
        signature: format!("{}, b={}", good.signature, &good.signature[4..]),
        ..good.clone()
    };
    refused(
        &alice.send_signed(get.clone(), path, &twice, b"").await,
        "E_AUTH_SIGNATURE_INVALID",
    );
    for (input, value) in [
        ("sig=(".to_owned(), "sig=:AA==:".to_owned()),
        (good.signature_input.clone(), "sig=AAAA".to_owned()),
        (
            format!("{}{}", good.signature_input, ";x=".repeat(3000)),
            good.signature.clone(),
        ),
    ] {
        let headers = [
            ("signature-input", input.as_str()),
            ("signature", value.as_str()),
        ];
        let reply = alice.client.request(get.clone(), path, &headers, "").await;
        refused(&reply, "E_AUTH_SIGNATURE_INVALID");
    }

    // Outside the window, both ways.
    let signed = craft(
        &alice,
        &get,
        path,
        &required(),
        params(&alice, now() - 301, "n-5"),
        &key,
        None,
    );
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SIGNATURE_EXPIRED",
    );
    let mut expiring = params(&alice, now(), "n-6");
    expiring.expires = Some(now() - 1);
    let signed = craft(&alice, &get, path, &required(), expiring, &key, None);
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SIGNATURE_EXPIRED",
    );
    let signed = craft(
        &alice,
        &get,
        path,
        &required(),
        params(&alice, now() + 301, "n-7"),
        &key,
        None,
    );
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SIGNATURE_NOT_YET_VALID",
    );

    // A required component left out; a body without content-digest.
    let without_query: Vec<Component> = required().into_iter().take(3).collect();
    let signed = craft(
        &alice,
        &get,
        path,
        &without_query,
        params(&alice, now(), "n-8"),
        &key,
        None,
    );
    refused(
        &alice.send_signed(get.clone(), path, &signed, b"").await,
        "E_AUTH_SIGNATURE_COMPONENT_MISSING",
    );
    let delete = Method::DELETE;
    let signed = craft(
        &alice,
        &delete,
        "/sessions/current",
        &required(),
        params(&alice, now(), "n-9"),
        &key,
        None,
    );
    let reply = alice
        .send_signed(
            delete.clone(),
            "/sessions/current",
            &signed,
            b"{\"sneaky\":true}",
        )
        .await;
    refused(&reply, "E_AUTH_SIGNATURE_COMPONENT_MISSING");

    // A body that is not the one signed.
    let signed = alice.sign(&delete, "/sessions/current", b"{\"a\":1}");
    let reply = alice
        .send_signed(delete.clone(), "/sessions/current", &signed, b"{\"a\":2}")
        .await;
    refused(&reply, "E_AUTH_DIGEST_MISMATCH");

    // Nothing of the above was stored: no nonce, the session still live.
    let store = SqlStore::open(node.store_config()).await.unwrap();
    let nonces = |store: SqlStore| async move {
        let tables = store.tables();
        let count: i64 = sqlx::Row::get(
            &tables
                .query("SELECT COUNT(*) FROM auth_nonce")
                .fetch_one(tables.pool())
                .await
                .unwrap(),
            0,
        );
        count
    };
    assert_eq!(
        nonces(store.clone()).await,
        0,
        "refused requests store no nonce"
    );

    // The same signature twice: the second is a replay.
    let once = alice.sign(&get, "/sessions/current", b"");
    let first = alice
        .send_signed(get.clone(), "/sessions/current", &once, b"")
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let again = alice
        .send_signed(get.clone(), "/sessions/current", &once, b"")
        .await;
    refused(&again, "E_AUTH_SIGNATURE_REPLAYED");
    assert_eq!(nonces(store.clone()).await, 1);
    let still = bob.send(Method::GET, "/sessions/current", b"").await;
    assert_eq!(
        still.status,
        200,
        "bob's session is untouched: {}",
        still.text()
    );
    store.close().await;
    node.shutdown().await;
}

async fn a_session_ended_by_sign_out_is_refused_at_once(backend: Backend) {
    let node = node(backend).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let ended = alice.send(Method::DELETE, "/sessions/current", b"").await;
    assert_eq!(ended.status, 204, "{}", ended.text());
    let after = alice.send(Method::GET, "/sessions/current", b"").await;
    refused(&after, "E_AUTH_SESSION_UNKNOWN");
    node.shutdown().await;
}

async fn activity_is_recorded_and_readable_by_its_user_only(backend: Backend) {
    let node = node(backend).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let mut bob = SignedClient::sign_up(&node, &Proto::Http1, "bob", Algorithm::HmacSha256).await;
    let id = alice.session.user_id.clone();
    for _ in 0..3 {
        let me = alice.send(Method::GET, "/sessions/current", b"").await;
        assert_eq!(me.status, 200);
    }
    let path = format!("/users/{id}/activity?limit=2");
    let spoke = node.spoke();
    eventually(
        Duration::from_secs(20),
        "three records are stored",
        || async {
            spoke
                .read_eventlog("activity", &id)
                .await
                .is_ok_and(|events| events.len() >= 3)
        },
    )
    .await;
    let reply = alice.send(Method::GET, &path, b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(items[0]["method"], "GET");
    assert_eq!(items[0]["path"], "/sessions/current");
    assert_eq!(items[0]["status"], 200);
    assert!(
        items[0]["version"].as_u64() > items[1]["version"].as_u64(),
        "newest first"
    );
    let next = page["next"].as_str().expect("a next page");
    let older = alice.send(Method::GET, next, b"").await;
    assert_eq!(older.status, 200, "{}", older.text());
    assert!(!older.json()["items"].as_array().unwrap().is_empty());

    let forbidden = bob.send(Method::GET, &path, b"").await;
    forbidden.error(403, "E_AUTH_FORBIDDEN");
    node.shutdown().await;
}
