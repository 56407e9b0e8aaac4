//! Passwords, session ids, session keys and signatures never reach the logs or the
//! events: a whole session's life (register, sign in, signed requests, refused ones,
//! sign out) runs with every log line captured at debug level, then the captured log
//! and every stored event are searched for each secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde_json::json;
use superhero_auth::signature::Algorithm;
use superhero_eventflow::{CatchUp, EventLog, SqlStore};
use superhero_testkit::http::Proto;
use superhero_testkit::signed::{PASSWORD, SignedClient};
use superhero_testkit::{Backend, TestNode, eventually};

/// Every log line, as written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_or_an_event() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .init();

    let node = TestNode::builder()
        .app(authorization::APP)
        .eventflow(Backend::Sqlite)
        .start()
        .await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let mut bob = SignedClient::sign_up(&node, &Proto::Http1, "bob", Algorithm::Ed25519).await;
    let mut signatures = Vec::new();
    for client in [&mut alice, &mut bob] {
        for path in ["/sessions/current", "/users/nobody/activity"] {
            let signed = client.sign(&Method::GET, path, b"");
            signatures.push(signed.signature.clone());
            client.send_signed(Method::GET, path, &signed, b"").await;
            // A replay, refused.
            client.send_signed(Method::GET, path, &signed, b"").await;
        }
    }
    let mut anonymous = node.client(&Proto::Http1).await;
    let wrong = anonymous
        .post_json(
            "/sessions",
            &json!({"name": "alice", "password": "wrong password 123"}),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let ended = alice.send(Method::DELETE, "/sessions/current", b"").await;
    assert_eq!(ended.status, 204);
    let spoke = node.spoke();
    let alice_id = alice.session.user_id.clone();
    eventually(
        std::time::Duration::from_secs(20),
        "alice's activity is stored",
        || async {
            spoke
                .read_eventlog("activity", &alice_id)
                .await
                .is_ok_and(|events| events.len() >= 3)
        },
    )
    .await;

    let store = SqlStore::open(node.store_config()).await.unwrap();
    let events = store.read_from(&CatchUp::after(0, 10_000)).await.unwrap();
    store.close().await;
    assert!(
        events.iter().any(|e| e.name == "user-activity"),
        "activity events exist to be searched"
    );
    let events = serde_json::to_string(&events).unwrap();
    node.shutdown().await;
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("session started"), "the log was captured");

    let mut secrets = vec![
        ("the password", PASSWORD.to_owned()),
        ("the wrong password", "wrong password 123".to_owned()),
    ];
    for client in [&alice, &bob] {
        secrets.push(("a session id", client.session.session_id.clone()));
        if !client.session.session_key.is_empty() {
            let key = STANDARD.encode(&client.session.session_key);
            secrets.push(("a session key", key));
        }
    }
    for signature in &signatures {
        let value = signature.trim_start_matches("sig=:").trim_end_matches(':');
        secrets.push(("a signature", value.to_owned()));
    }
    for (what, secret) in secrets {
        assert!(!log.contains(&secret), "{what} is in the log");
        assert!(!events.contains(&secret), "{what} is in an event");
    }
}
