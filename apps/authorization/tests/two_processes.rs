//! Two processes of one cluster on one store (this test and a child process it starts):
//! a nonce used on one is refused by the other, and a session ended on one is refused
//! by the other at once.

use http::Method;
use superhero_auth::signature::Algorithm;
use superhero_eventflow::StoreConfig;
use superhero_testkit::http::{Client, Proto};
use superhero_testkit::signed::SignedClient;
use superhero_testkit::{Backend, ChildTest, TestNode};

/// Set for the child: the store configuration as JSON.
const CHILD_STORE: &str = "AUTH_TEST_CHILD_STORE";

/// The second process: the authorization app on the parent's store. Runs only when
/// the tests below start it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the two-process tests; it runs only when they spawn it"]
async fn second_process() {
    let store: StoreConfig =
        serde_json::from_str(&std::env::var(CHILD_STORE).expect("spawned by a test"))
            .expect("a store configuration");
    let node = TestNode::builder()
        .app(authorization::APP)
        .join(store)
        .start()
        .await;
    println!("READY {}", node.addr().port());
    std::future::pending::<()>().await;
}

superhero_testkit::each_backend!(replays_and_sign_outs_reach_every_process);

async fn replays_and_sign_outs_reach_every_process(backend: Backend) {
    let first = TestNode::builder()
        .app(authorization::APP)
        .eventflow(backend)
        .start()
        .await;
    let store = serde_json::to_string(first.store_config()).unwrap();
    let child = ChildTest::spawn("second_process", &[(CHILD_STORE, store)]);
    let port: u16 = child
        .expect_line("READY")
        .parse()
        .expect("the child's port");
    let second = std::net::SocketAddr::from(([127, 0, 0, 1], port));

    let mut alice =
        SignedClient::sign_up(&first, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    // Both processes are one service to the client: the same authority.
    let mut other = Client::connect(second, &Proto::Http1)
        .await
        .with_authority(alice.client.authority());

    let once = alice.sign(&Method::GET, "/sessions/current", b"");
    let headers: Vec<(&str, &str)> = once.pairs().collect();
    let first_use = alice
        .send_signed(Method::GET, "/sessions/current", &once, b"")
        .await;
    assert_eq!(first_use.status, 200, "{}", first_use.text());
    let replayed = other
        .request(Method::GET, "/sessions/current", &headers, "")
        .await;
    replayed.error(401, "E_AUTH_SIGNATURE_REPLAYED");

    let fresh = alice.sign(&Method::GET, "/sessions/current", b"");
    let headers: Vec<(&str, &str)> = fresh.pairs().collect();
    let elsewhere = other
        .request(Method::GET, "/sessions/current", &headers, "")
        .await;
    assert_eq!(
        elsewhere.status,
        200,
        "the session is known everywhere: {}",
        elsewhere.text()
    );

    let ended = alice.send(Method::DELETE, "/sessions/current", b"").await;
    assert_eq!(ended.status, 204);
    let after = alice.sign(&Method::GET, "/sessions/current", b"");
    let headers: Vec<(&str, &str)> = after.pairs().collect();
    let refused = other
        .request(Method::GET, "/sessions/current", &headers, "")
        .await;
    refused.error(401, "E_AUTH_SESSION_UNKNOWN");
    drop(child);
    first.shutdown().await;
}
