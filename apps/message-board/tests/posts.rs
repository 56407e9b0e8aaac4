//! The message board end to end: a real node (HTTP, hub, spoke, the validating and
//! projecting consumers) on each backend, signed sessions from the authorization app,
//! requests through the testkit's HTTP client.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use message_board::post::project_read_model::PROJECT_READ_MODEL;
use message_board::post::read_model::{READ_MODEL, ReadModel};
use message_board::post::{
    POST, POST_CREATED, POST_REJECTED, REPLY, REPLY_CREATED, REPLY_REJECTED,
};
use serde_json::{Value, json};
use superhero_app::read_model::Progress;
use superhero_auth::signature::Algorithm;
use superhero_eventflow::service::{Consumer, STORE, StoreService};
use superhero_eventflow::{EventLog, SqlStore};
use superhero_testkit::http::{Proto, Reply};
use superhero_testkit::signed::SignedClient;
use superhero_testkit::{Backend, TestNode, eventually};

/// A node with both apps, `mallory` banned.
async fn board(backend: Backend) -> TestNode {
    TestNode::builder()
        .app(authorization::APP)
        .app(message_board::APP)
        .config(json!({"message-board": {"banned": ["mallory"]}}))
        .eventflow(backend)
        .start()
        .await
}

async fn user(node: &TestNode, name: &str) -> SignedClient {
    SignedClient::sign_up(node, &Proto::Http1, name, Algorithm::HmacSha256).await
}

async fn post(client: &mut SignedClient, title: &str, body: &str) -> Reply {
    let json = json!({"title": title, "body": body}).to_string();
    client.send(Method::POST, "/posts", json.as_bytes()).await
}

async fn reply(client: &mut SignedClient, post_id: &str, body: &str) -> Reply {
    let json = json!({"body": body}).to_string();
    let path = format!("/posts/{post_id}/replies");
    client.send(Method::POST, &path, json.as_bytes()).await
}

fn created(reply: &Reply) -> Value {
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

fn read_model(node: &TestNode) -> Arc<ReadModel> {
    node.locator().locate::<ReadModel>(READ_MODEL).unwrap()
}

fn store(node: &TestNode) -> SqlStore {
    node.locator()
        .locate::<StoreService>(STORE)
        .unwrap()
        .sql_store()
        .clone()
}

/// Waits until the read model holds `posts` posts and `replies` replies.
async fn projected(node: &TestNode, posts: usize, replies: usize) {
    let model = read_model(node);
    let what = format!("{posts} posts and {replies} replies in the read model");
    eventually(Duration::from_secs(20), &what, || async {
        let (p, r) = model.dump().await.unwrap();
        p.len() == posts && r.len() == replies
    })
    .await;
}

superhero_testkit::each_backend!(
    a_post_is_created_shown_and_listed,
    every_rule_refuses_with_its_code_and_leaves_no_row,
    a_title_is_free_again_after_the_window,
    bad_input_has_its_status_and_code,
    replies_are_linked_to_their_post_by_cpid,
    a_retried_post_with_its_idempotency_key_gets_the_first_outcome,
    paging_while_posts_are_added_shows_each_post_once,
    a_redelivered_post_created_changes_nothing,
    the_rebuilt_read_model_equals_the_live_one,
);

async fn a_post_is_created_shown_and_listed(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let answer = post(&mut alice, "Hello", "First post").await;
    let body = created(&answer);
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        answer.header("location"),
        Some(format!("/posts/{id}").as_str())
    );
    assert_eq!(body["title"], "Hello");
    assert_eq!(body["body"], "First post");
    assert_eq!(body["author"], "alice");
    assert_eq!(body["author_id"], json!(alice.session.user_id));
    assert_eq!(body["replies"], json!([]));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));

    // The event-log holds the request and its outcome, answering the request.
    let events = node.spoke().store().read_stream(POST, &id).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["post-create-requested", "post-created"]);
    assert_eq!(events[1].rid, Some(events[0].id));

    projected(&node, 1, 0).await;
    let shown = node.get(&format!("/posts/{id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let shown = shown.json();
    for field in ["id", "title", "body", "author", "author_id", "created_at"] {
        assert_eq!(shown[field], body[field], "{field}");
    }
    assert_eq!(shown["reply_count"], 0);
    let list = node.get("/posts").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], json!(id));
    assert_eq!(list["next"], Value::Null);
    node.shutdown().await;
}

async fn every_rule_refuses_with_its_code_and_leaves_no_row(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    let mut mallory = user(&node, "Mallory").await;
    let long_title = "é".repeat(201);
    let long_body = "b".repeat(10_001);
    for (title, body, code) in [
        ("", "body", "E_POST_TITLE"),
        ("   ", "body", "E_POST_TITLE"),
        (long_title.as_str(), "body", "E_POST_TITLE"),
        ("Title", "", "E_POST_BODY"),
        ("Title", long_body.as_str(), "E_POST_BODY"),
    ] {
        let refused = post(&mut alice, title, body).await;
        let answer = refused.error(422, code);
        assert!(!answer["error"].as_str().unwrap().is_empty());
    }
    post(&mut mallory, "Hi", "all")
        .await
        .error(422, "E_POST_AUTHOR_BANNED");

    // The limits themselves pass.
    let fits = created(&post(&mut alice, &"é".repeat(200), &"b".repeat(10_000)).await);
    let hello = created(&post(&mut alice, "Hello  world", "one").await);
    post(&mut alice, " hello world ", "again")
        .await
        .error(422, "E_POST_DUPLICATE_TITLE");
    let bobs = created(&post(&mut bob, "Hello world", "mine").await);

    let hello_id = hello["id"].as_str().unwrap();
    reply(&mut alice, hello_id, "")
        .await
        .error(422, "E_POST_BODY");
    reply(&mut mallory, hello_id, "hi")
        .await
        .error(422, "E_POST_AUTHOR_BANNED");

    // Every refusal is in the event-log; the read model has the three posts only.
    let store = store(&node);
    let mut rejected = 0;
    for (domain, outcome) in [(POST, POST_REJECTED), (REPLY, REPLY_REJECTED)] {
        for pid in store.distinct_pids(domain).await.unwrap() {
            let events = store.read_stream(domain, &pid).await.unwrap();
            rejected += events.iter().filter(|e| outcome.matches(e)).count();
        }
    }
    assert_eq!(rejected, 7 + 2, "seven posts and two replies refused");
    projected(&node, 3, 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (posts, replies) = read_model(&node).dump().await.unwrap();
    let ids: HashSet<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let expected: HashSet<&str> = [&fits, &hello, &bobs]
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected);
    assert!(replies.is_empty());
    node.shutdown().await;
}

async fn a_title_is_free_again_after_the_window(backend: Backend) {
    let node = TestNode::builder()
        .app(authorization::APP)
        .app(message_board::APP)
        .config(json!({"message-board": {"duplicate_window_secs": 0}}))
        .eventflow(backend)
        .start()
        .await;
    let mut alice = user(&node, "alice").await;
    let first = created(&post(&mut alice, "Same", "one").await);
    let second = created(&post(&mut alice, "same", "two").await);
    assert_ne!(first["id"], second["id"]);
    node.shutdown().await;
}

async fn bad_input_has_its_status_and_code(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut anonymous = node.client(&Proto::Http1).await;
    anonymous
        .post_json("/posts", &json!({"title": "t", "body": "b"}))
        .await
        .error(401, "E_AUTH_SIGNATURE_MISSING");

    for body in [
        &b"{"[..],
        br#"{"title": "t"}"#,
        br#"{"title": "t", "body": "b", "x": 1}"#,
    ] {
        let answer = alice.send(Method::POST, "/posts", body).await;
        assert_eq!(answer.status, 400, "{}", answer.text());
    }
    let body = br#"{"title": "t", "body": "b"}"#;
    let signed = alice.sign(&Method::POST, "/posts", body);
    let mut headers: Vec<(&str, &str)> = signed.pairs().collect();
    headers.push(("content-type", "application/json"));
    headers.push(("idempotency-key", "two words"));
    alice
        .client
        .request(Method::POST, "/posts", &headers, &body[..])
        .await
        .error(400, "E_APP_IDEMPOTENCY_KEY_INVALID");

    node.get("/posts/nope").await.error(404, "E_POST_NOT_FOUND");
    reply(&mut alice, "nope", "hi")
        .await
        .error(404, "E_POST_NOT_FOUND");
    let hello = created(&post(&mut alice, "Hello", "x").await);
    let id = hello["id"].as_str().unwrap();
    node.get(&format!("/posts/{id}/replies/nope"))
        .await
        .error(404, "E_REPLY_NOT_FOUND");
    for query in ["limit=0", "limit=101", "after=0", "after=x"] {
        let answer = node.get(&format!("/posts?{query}")).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
    }
    node.shutdown().await;
}

async fn replies_are_linked_to_their_post_by_cpid(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    let hello = created(&post(&mut alice, "Hello", "x").await);
    let post_id = hello["id"].as_str().unwrap().to_owned();
    let answer = reply(&mut bob, &post_id, "Hi alice").await;
    let first = created(&answer);
    let reply_id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["post_id"], json!(post_id));
    assert_eq!(first["author"], "bob");
    let location = format!("/posts/{post_id}/replies/{reply_id}");
    assert_eq!(answer.header("location"), Some(location.as_str()));
    created(&reply(&mut alice, &post_id, "Hi bob").await);

    let linked = node
        .spoke()
        .store()
        .read_by_cpid(POST, &post_id)
        .await
        .unwrap();
    let created_replies: Vec<&str> = linked
        .iter()
        .filter(|e| REPLY_CREATED.matches(e))
        .map(|e| e.pid.as_str())
        .collect();
    assert_eq!(created_replies.len(), 2);
    assert!(created_replies.contains(&reply_id.as_str()));
    assert_eq!(
        linked
            .iter()
            .filter(|e| e.name == "reply-create-requested")
            .count(),
        2
    );

    projected(&node, 1, 2).await;
    let shown = node.get(&format!("/posts/{post_id}")).await.json();
    assert_eq!(shown["reply_count"], 2);
    let bodies: Vec<&str> = shown["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Hi alice", "Hi bob"], "oldest first");
    let one = node.get(&location).await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.json()["body"], "Hi alice");
    node.get(&format!("/posts/other/replies/{reply_id}"))
        .await
        .error(404, "E_REPLY_NOT_FOUND");
    assert_eq!(
        node.get("/posts").await.json()["items"][0]["reply_count"],
        2
    );
    node.shutdown().await;
}

async fn a_retried_post_with_its_idempotency_key_gets_the_first_outcome(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let send = |alice: &mut SignedClient, key: &'static str, body: &'static [u8]| {
        let signed = alice.sign(&Method::POST, "/posts", body);
        let mut headers: Vec<(String, String)> = signed
            .pairs()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        headers.push(("content-type".into(), "application/json".into()));
        headers.push(("idempotency-key".into(), key.into()));
        headers
    };
    let body: &[u8] = br#"{"title": "Once", "body": "only once"}"#;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let headers = send(&mut alice, "k-1", body);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        answers.push(
            alice
                .client
                .request(Method::POST, "/posts", &pairs, body)
                .await,
        );
    }
    let first = created(&answers[0]);
    let again = created(&answers[1]);
    assert_eq!(first, again, "the retry answers the first outcome");

    // A refused request's retry is refused the same way.
    let empty: &[u8] = br#"{"title": "", "body": "x"}"#;
    for _ in 0..2 {
        let headers = send(&mut alice, "k-2", empty);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        alice
            .client
            .request(Method::POST, "/posts", &pairs, empty)
            .await
            .error(422, "E_POST_TITLE");
    }
    let other: &[u8] = br#"{"title": "Other", "body": "x"}"#;
    let headers = send(&mut alice, "k-1", other);
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    alice
        .client
        .request(Method::POST, "/posts", &pairs, other)
        .await
        .error(422, "E_APP_IDEMPOTENCY_KEY_REUSED");

    projected(&node, 1, 0).await;
    let events = node
        .spoke()
        .store()
        .read_stream(POST, first["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "one request, one outcome: {events:?}");
    node.shutdown().await;
}

async fn paging_while_posts_are_added_shows_each_post_once(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    let mut before = Vec::new();
    for n in 0..23 {
        let body = created(&post(&mut alice, &format!("Post {n}"), "x").await);
        before.push(body["id"].as_str().unwrap().to_owned());
    }
    projected(&node, 23, 0).await;

    let adding = tokio::spawn(async move {
        for n in 0..10 {
            created(&post(&mut bob, &format!("Late {n}"), "y").await);
        }
    });
    let mut seen = Vec::new();
    let mut next = Some("/posts?limit=4".to_owned());
    while let Some(path) = next {
        let page = node.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        next = page["next"].as_str().map(str::to_owned);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    adding.await.unwrap();

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no post twice: {seen:?}");
    for id in &before {
        assert!(unique.contains(id), "post {id} was skipped");
    }
    // Newest first: the posts that existed appear in reverse order of creation.
    let order: Vec<&String> = seen.iter().filter(|id| before.contains(id)).collect();
    let newest_first: Vec<&String> = before.iter().rev().collect();
    assert_eq!(order, newest_first);
    node.shutdown().await;
}

async fn a_redelivered_post_created_changes_nothing(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let hello = created(&post(&mut alice, "Hello", "x").await);
    let id = hello["id"].as_str().unwrap();
    projected(&node, 1, 0).await;
    let before = read_model(&node).dump().await.unwrap();

    let event = node
        .spoke()
        .store()
        .read_stream_by_names(POST, id, &[POST_CREATED.name()])
        .await
        .unwrap()
        .remove(0);
    let projector = node
        .locator()
        .locate::<dyn Consumer>(PROJECT_READ_MODEL)
        .unwrap();
    for _ in 0..2 {
        projector
            .consume(&POST_CREATED.method(), event.clone())
            .await
            .unwrap();
    }
    assert_eq!(read_model(&node).dump().await.unwrap(), before);
    let list = node.get("/posts").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    node.shutdown().await;
}

async fn the_rebuilt_read_model_equals_the_live_one(backend: Backend) {
    let node = board(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let body = created(&post(&mut alice, &format!("Post {n}"), "x").await);
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    created(&reply(&mut bob, &ids[0], "first").await);
    created(&reply(&mut bob, &ids[2], "second").await);
    post(&mut bob, "", "refused")
        .await
        .error(422, "E_POST_TITLE");
    projected(&node, 3, 2).await;
    let model = read_model(&node);
    let live = model.dump().await.unwrap();

    // Damage it: a row lost, a row changed, a row that no event made.
    let tables = model.tables();
    let mut write = tables.write("damage the read model").await.unwrap();
    for sql in [
        "DELETE FROM mb_post WHERE id = ?",
        "UPDATE mb_reply SET body = 'changed' WHERE post_id = ?",
    ] {
        tables
            .dynamic_query(sql.to_owned())
            .bind(ids[0].clone())
            .execute(write.connection())
            .await
            .unwrap();
    }
    tables
        .dynamic_query(
            "INSERT INTO mb_post (id, event_id, position, author_id, author, title, body, created_at) \
             VALUES ('bogus', '0190a000-0000-7000-8000-000000000000', 1, 'u', 'u', 't', 'b', 0)"
                .to_owned(),
        )
        .execute(write.connection())
        .await
        .unwrap();
    write.commit().await.unwrap();
    assert_ne!(model.dump().await.unwrap(), live);

    let rebuild = message_board::APP
        .rebuild
        .expect("the app rebuilds its read model");
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = reports.clone();
    let progress = Progress::new(move |position, head| seen.lock().unwrap().push((position, head)));
    let summary = rebuild(store(&node), progress).await.unwrap();
    assert_eq!(model.dump().await.unwrap(), live);
    assert!(
        summary.contains("3 posts, 2 replies, 1 stale rows removed"),
        "{summary}"
    );
    let reports = reports.lock().unwrap().clone();
    let (last, head) = *reports.last().expect("progress was reported");
    assert_eq!(last, head, "the rebuild reaches the head: {reports:?}");

    // From nothing at all.
    let mut write = tables.write("empty the read model").await.unwrap();
    for sql in ["DELETE FROM mb_reply", "DELETE FROM mb_post"] {
        tables
            .dynamic_query(sql.to_owned())
            .execute(write.connection())
            .await
            .unwrap();
    }
    write.commit().await.unwrap();
    rebuild(store(&node), Progress::silent()).await.unwrap();
    assert_eq!(model.dump().await.unwrap(), live);
    node.shutdown().await;
}
