//! The validating consumer in another process than the controller: this test's node
//! serves HTTP with the validator switched off in its consumer map; a child process (the
//! test binary, started by the test) runs the validator on the same hub and store.
//!
//! While no validator runs, `POST /posts` answers 202 with `Location`; once the child
//! starts, the request is decided, the post appears at that location exactly once, and
//! new posts are answered 201 across the two processes.

use std::time::Duration;

use http::Method;
use message_board::post::read_model::{READ_MODEL, ReadModel};
use message_board::post::{POST, POST_CREATED};
use serde_json::json;
use superhero_auth::signature::Algorithm;
use superhero_eventflow::StoreConfig;
use superhero_testkit::http::Proto;
use superhero_testkit::signed::SignedClient;
use superhero_testkit::{Backend, ChildTest, TestNode, eventually};

/// Set for the child: the store configuration as JSON.
const CHILD_STORE: &str = "MESSAGE_BOARD_TEST_CHILD_STORE";

/// How long the controller waits for an outcome.
const WAIT_MS: u64 = 3_000;

/// The second process: the message board with only its validator consuming (the
/// projector stays in the first process). Runs only when the test below starts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the two-process test; it runs only when the test spawns it"]
async fn validator_process() {
    let store: StoreConfig =
        serde_json::from_str(&std::env::var(CHILD_STORE).expect("spawned by a test"))
            .expect("a store configuration");
    let node = TestNode::builder()
        .app(message_board::APP)
        .config(json!({"eventflow": {"spoke": {"consume": {
            "message-board/post/project-read-model@post": false,
            "message-board/post/project-read-model@reply": false,
        }}}}))
        .join(store)
        .start()
        .await;
    println!("READY {}", node.addr().port());
    std::future::pending::<()>().await;
}

superhero_testkit::each_backend!(a_validator_in_another_process_decides_the_requests);

async fn a_validator_in_another_process_decides_the_requests(backend: Backend) {
    let first = TestNode::builder()
        .app(authorization::APP)
        .app(message_board::APP)
        .config(json!({
            "message-board": {"wait_ms": WAIT_MS},
            "eventflow": {"spoke": {"consume": {
                "message-board/post/validate-request@post": false,
                "message-board/post/validate-request@reply": false,
            }}},
        }))
        .eventflow(backend)
        .start()
        .await;
    let mut alice =
        SignedClient::sign_up(&first, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let body = json!({"title": "Waiting", "body": "for a validator"}).to_string();

    // No validator anywhere: the request is kept, the answer says where to look.
    let pending = alice.send(Method::POST, "/posts", body.as_bytes()).await;
    pending.error(202, "E_EVENTFLOW_WAIT_TIMEOUT");
    let location = pending.header("location").expect("a Location").to_owned();
    let id = location
        .strip_prefix("/posts/")
        .expect("/posts/{id}")
        .to_owned();
    first
        .get(&location)
        .await
        .error(202, "E_EVENTFLOW_WAIT_TIMEOUT");

    let store = serde_json::to_string(first.store_config()).unwrap();
    let child = ChildTest::spawn("validator_process", &[(CHILD_STORE, store)]);
    child.expect_line("READY");

    // The child's validator decides the waiting request; this process projects it.
    let model = first.locator().locate::<ReadModel>(READ_MODEL).unwrap();
    eventually(
        Duration::from_secs(30),
        "the pending post is projected",
        || async { model.post(&id).await.unwrap().is_some() },
    )
    .await;
    let shown = first.get(&location).await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(shown.json()["title"], "Waiting");
    let outcomes = first
        .spoke()
        .store()
        .read_stream_by_names(POST, &id, &[POST_CREATED.name()])
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1, "decided exactly once");

    // With the validator running elsewhere, a new post is answered within the wait.
    let next = json!({"title": "Answered", "body": "by the other process"}).to_string();
    let answer = alice.send(Method::POST, "/posts", next.as_bytes()).await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let post_id = answer.json()["id"].as_str().unwrap().to_owned();
    let replied = alice
        .send(
            Method::POST,
            &format!("/posts/{post_id}/replies"),
            br#"{"body": "and a reply"}"#,
        )
        .await;
    assert_eq!(replied.status, 201, "{}", replied.text());

    eventually(Duration::from_secs(30), "both posts listed", || async {
        first.get("/posts").await.json()["items"]
            .as_array()
            .is_some_and(|items| items.len() == 2)
    })
    .await;
    let list = first.get("/posts").await.json();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [post_id.as_str(), id.as_str()],
        "newest first, each once"
    );
    drop(child);
    first.shutdown().await;
}
