//! The eventflow ↔ HTTP glue end to end: a test app (`things`) on a real node with an
//! embedded hub and spoke, driven over real HTTP, on SQLite (and PostgreSQL and
//! MySQL/MariaDB when their URLs are set).

mod things;

use std::time::Duration;

use http::Method;
use serde_json::{Value, json};
use superhero_app::idempotency::{CommandIds, IdempotencyKey};
use superhero_eventflow::{CatchUp, DeliveryStore, EventLog, NewEvent, ParkedQuery, SqlStore};
use superhero_testkit::http::{Client, Proto, Reply};
use superhero_testkit::{Backend, TestNode, eventually};
use things::{CREATED, REQUESTED, ThingCreated};

const WITHIN: Duration = Duration::from_secs(30);

async fn things_node(backend: Backend) -> TestNode {
    TestNode::builder()
        .app(things::APP)
        .eventflow(backend)
        .start()
        .await
}

async fn post(client: &mut Client, body: &Value, key: Option<&str>) -> Reply {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(key) = key {
        headers.push(("idempotency-key", key));
    }
    client
        .request(Method::POST, "/things", &headers, body.to_string())
        .await
}

fn location(reply: &Reply) -> String {
    reply
        .header("location")
        .unwrap_or_else(|| panic!("a Location header: {reply:?}"))
        .to_owned()
}

/// The `thing-requested` events stored for the thing at `location`.
async fn requests(node: &TestNode, location: &str) -> usize {
    let pid = location.trim_start_matches("/things/");
    let events = node.spoke().read_eventlog("thing", pid).await.unwrap();
    events.iter().filter(|e| REQUESTED.matches(e)).count()
}

superhero_testkit::each_backend!(
    a_command_whose_outcome_arrives_answers_201_with_the_projected_state,
    a_second_command_on_a_process_is_answered_by_its_own_outcome,
    a_rejection_answers_422_with_its_code_reason_and_details,
    an_idempotency_claim_holds_until_its_time_to_live_then_is_taken_over,
    no_outcome_within_the_wait_answers_202_and_the_late_outcome_shows_at_the_location,
    a_retry_with_the_same_key_and_body_gets_the_first_outcome_and_publishes_nothing_new,
    concurrent_requests_with_one_key_become_one_command,
);

async fn a_command_whose_outcome_arrives_answers_201_with_the_projected_state(backend: Backend) {
    let node = things_node(backend).await;
    let mut client = node.client(&Proto::Http1).await;
    let created = post(&mut client, &json!({"name": "pen"}), None).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let at = location(&created);
    assert!(at.starts_with("/things/"), "{at}");
    assert_eq!(created.json(), json!({"name": "pen", "created": true}));

    let shown = client.get(&at).await;
    assert_eq!((shown.status.as_u16(), shown.json()), (200, created.json()));
    node.shutdown().await;
}

async fn a_second_command_on_a_process_is_answered_by_its_own_outcome(backend: Backend) {
    let node = things_node(backend).await;
    let mut client = node.client(&Proto::Http1).await;
    let created = post(&mut client, &json!({"id": "t-1", "name": "cup"}), None).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let renamed = post(&mut client, &json!({"id": "t-1", "name": "bad cup"}), None).await;
    renamed.error(422, "E_THING_NAME");
    let again = post(&mut client, &json!({"id": "t-1", "name": "mug"}), None).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json()["name"], "mug");
    node.shutdown().await;
}

async fn a_rejection_answers_422_with_its_code_reason_and_details(backend: Backend) {
    let node = things_node(backend).await;
    let mut client = node.client(&Proto::H2c).await;
    let rejected = post(&mut client, &json!({"name": "bad idea"}), None).await;
    let body = rejected.error(422, "E_THING_NAME");
    assert_eq!(body["error"], "\"bad idea\" is not a good name");
    assert_eq!(
        body["details"],
        json!([{"path": "/body/name", "code": "E_THING_NAME",
                "message": "a good name does not start with \"bad\""}])
    );
    node.shutdown().await;
}

async fn an_idempotency_claim_holds_until_its_time_to_live_then_is_taken_over(backend: Backend) {
    let node = things_node(backend).await;
    let spoke = node.spoke();
    let key = |body: &[u8]| IdempotencyKey::new("k-1", "alice", &[b"POST", b"/things", body]);
    let first = key(b"{}")
        .claim(&spoke, CommandIds::new("p-1"))
        .await
        .unwrap();
    assert_eq!(first.pid, "p-1");
    let held = key(b"{}")
        .claim(&spoke, CommandIds::new("p-2"))
        .await
        .unwrap();
    assert_eq!(held, first, "a retry gets the first command's ids");
    let reused = key(b"{\"x\":1}")
        .claim(&spoke, CommandIds::new("p-3"))
        .await;
    assert_eq!(reused.unwrap_err().code(), "E_APP_IDEMPOTENCY_KEY_REUSED");
    let expired = key(b"{\"x\":1}")
        .ttl(Duration::ZERO)
        .claim(&spoke, CommandIds::new("p-4"))
        .await
        .unwrap();
    assert_eq!(expired.pid, "p-4", "an expired claim is taken over");
    let now_held = key(b"{\"x\":1}")
        .claim(&spoke, CommandIds::new("p-5"))
        .await
        .unwrap();
    assert_eq!(now_held, expired);
    node.shutdown().await;
}

async fn no_outcome_within_the_wait_answers_202_and_the_late_outcome_shows_at_the_location(
    backend: Backend,
) {
    let node = things_node(backend).await;
    let mut client = node.client(&Proto::Http1).await;
    let accepted = post(&mut client, &json!({"name": "slow boat"}), None).await;
    accepted.error(202, "E_EVENTFLOW_WAIT_TIMEOUT");
    let at = location(&accepted);
    assert_eq!(requests(&node, &at).await, 1, "the request is durable");

    let pid = at.trim_start_matches("/things/");
    let late = ThingCreated {
        name: "slow boat".into(),
        created: true,
    };
    node.spoke()
        .publish(CREATED.event(pid, &late).unwrap())
        .await
        .unwrap();
    let shown = client.get(&at).await;
    assert_eq!(
        (shown.status.as_u16(), shown.json()),
        (200, json!({"name": "slow boat", "created": true}))
    );
    node.shutdown().await;
}

async fn a_retry_with_the_same_key_and_body_gets_the_first_outcome_and_publishes_nothing_new(
    backend: Backend,
) {
    let node = things_node(backend).await;
    let mut client = node.client(&Proto::Http1).await;
    let body = json!({"name": "cup"});
    let first = post(&mut client, &body, Some("key-1")).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = post(&mut client, &body, Some("key-1")).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(location(&again), location(&first), "the same thing");
    assert_eq!(again.json(), first.json());
    assert_eq!(requests(&node, &location(&first)).await, 1);
    let pid = location(&first).trim_start_matches("/things/").to_owned();
    let stream = node.spoke().read_eventlog("thing", &pid).await.unwrap();
    assert_eq!(
        stream.iter().filter(|e| CREATED.matches(e)).count(),
        1,
        "one outcome: the retry published no second request"
    );

    let other = post(&mut client, &json!({"name": "mug"}), Some("key-1")).await;
    other.error(422, "E_APP_IDEMPOTENCY_KEY_REUSED");

    let fresh = post(&mut client, &body, Some("key-2")).await;
    assert_eq!(fresh.status, 201);
    assert_ne!(
        location(&fresh),
        location(&first),
        "another key, another thing"
    );

    let rejected_first = post(&mut client, &json!({"name": "bad"}), Some("key-3")).await;
    rejected_first.error(422, "E_THING_NAME");
    let rejected_again = post(&mut client, &json!({"name": "bad"}), Some("key-3")).await;
    rejected_again.error(422, "E_THING_NAME");
    let bad_requests = SqlStore::open(node.store_config())
        .await
        .unwrap()
        .read_from(
            &CatchUp::after(0, 1000)
                .domain("thing")
                .names(["thing-requested"]),
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.data["name"] == "bad")
        .count();
    assert_eq!(
        bad_requests, 1,
        "the retried rejection was not requested again"
    );

    let invalid = post(&mut client, &body, Some("two words")).await;
    invalid.error(400, "E_APP_IDEMPOTENCY_KEY_INVALID");
    node.shutdown().await;
}

async fn concurrent_requests_with_one_key_become_one_command(backend: Backend) {
    let node = things_node(backend).await;
    let addr = node.addr();
    let sends = (0..4).map(|_| async move {
        let mut client = Client::connect(addr, &Proto::Http1).await;
        post(&mut client, &json!({"name": "lamp"}), Some("race")).await
    });
    let replies = futures_join(sends).await;
    let locations: Vec<String> = replies.iter().map(location).collect();
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
    assert!(
        locations.iter().all(|l| *l == locations[0]),
        "{locations:?}"
    );
    assert_eq!(requests(&node, &locations[0]).await, 1);
    node.shutdown().await;
}

/// Runs the futures concurrently on the runtime and collects their outputs in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("the request task"));
    }
    outputs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_payload_is_parked_with_its_reason() {
    let node = things_node(Backend::Sqlite).await;
    let spoke = node.spoke();
    let id = spoke
        .publish(NewEvent::new("thing", "t-bad", "thing-requested").with_data(json!({"name": 5})))
        .await
        .unwrap()
        .id;
    let store = SqlStore::open(node.store_config()).await.unwrap();
    eventually(WITHIN, "the malformed request is parked", || async {
        !store
            .parked(&ParkedQuery::after(0, 10))
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let parked = store.parked(&ParkedQuery::after(0, 10)).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].event.id, id);
    let reason = parked[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("E_APP_EVENT_PAYLOAD")
            && reason.contains("thing › thing-requested")
            && reason.contains("ThingRequested")
            && reason.contains("name"),
        "{reason}"
    );
    assert_eq!(
        store.read_stream("thing", "t-bad").await.unwrap().len(),
        1,
        "no outcome was published"
    );
    store.close().await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_unavailable_answers_503_with_retry_after() {
    let node = things_node(Backend::Sqlite).await;
    let mut client = node.client(&Proto::Http1).await;
    node.locator()
        .locate::<superhero_eventflow::service::StoreService>(superhero_eventflow::service::STORE)
        .unwrap()
        .sql_store()
        .close()
        .await;
    let reply = post(&mut client, &json!({"name": "pen"}), None).await;
    let body = reply.error(503, "E_EVENTFLOW_STORE_UNAVAILABLE");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        !body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("sqlite"),
        "no internals: {body}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misdeclared_command_is_a_fault_and_publishes_nothing() {
    let node = things_node(Backend::Sqlite).await;
    let reply = superhero_testkit::http::get(node.addr(), "/things/misdeclared").await;
    reply.error(404, "E_THING_NOT_FOUND");
    let mut client = node.client(&Proto::Http1).await;
    let answer = client.request(Method::POST, "/misdeclared", &[], "").await;
    answer.error(500, "E_APP_COMMAND");
    assert!(
        node.spoke()
            .read_eventlog("thing", "misdeclared")
            .await
            .unwrap()
            .is_empty(),
        "nothing was published"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_dispatcher_stops_start_up_naming_the_name_and_the_file() {
    let error = TestNode::builder()
        .app(things::MISSPELT)
        .eventflow(Backend::Sqlite)
        .try_start()
        .await
        .err()
        .expect("the node refuses to start");
    let text = superhero_core::report(&error);
    assert!(
        text.contains("E_BOOTSTRAP")
            && text.contains("\"things/thing/shwo\"")
            && text.contains("crates/app/tests/glue/misspelt.json")
            && text.contains("GET /things/{id}"),
        "{text}"
    );
}
