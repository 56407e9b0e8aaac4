//! Event-log streams end to end: a real node (HTTP, hub, spoke) on each backend, tickets
//! obtained by signed requests of the authorization app's users, streams read by the
//! testkit's SSE client (an independent parser).

use std::time::Duration;

use eventlog_stream::eventlog::feeds::{FEEDS, Feeds};
use http::Method;
use serde_json::{Value, json};
use superhero_auth::signature::Algorithm;
use superhero_eventflow::{AppendRequest, NewEvent};
use superhero_testkit::http::Proto;
use superhero_testkit::signed::SignedClient;
use superhero_testkit::sse::{SseEvent, SseStream};
use superhero_testkit::{Backend, TestNode, eventually};

const WITHIN: Duration = Duration::from_secs(20);

/// A node streaming the domain `shop` and the private `activity`, with `settings` on top.
async fn node(backend: Backend, settings: Value) -> TestNode {
    let mut config = json!({
        "domains": ["shop", "audit", "deal", "activity"],
        "owners": {"deal": {"domain": "deal", "field": "owner"}},
    });
    for (key, value) in settings.as_object().unwrap() {
        config[key] = value.clone();
    }
    TestNode::builder()
        .app(authorization::APP)
        .app(eventlog_stream::APP)
        .config(json!({ "eventlog-stream": config }))
        .eventflow(backend)
        .start()
        .await
}

async fn user(node: &TestNode, name: &str) -> SignedClient {
    SignedClient::sign_up(node, &Proto::Http1, name, Algorithm::HmacSha256).await
}

async fn ticket(user: &mut SignedClient) -> String {
    let answer = user.send(Method::POST, "/eventlog/tickets", b"").await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["user_id"], json!(user.session.user_id));
    body["ticket"].as_str().unwrap().to_owned()
}

/// Opens `path` (`?ticket=` appended) with `headers`; panics unless 200.
async fn open(
    node: &TestNode,
    user: &mut SignedClient,
    path: &str,
    headers: &[(&str, &str)],
) -> SseStream {
    let ticket = ticket(user).await;
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut client = node.client(&Proto::Http1).await;
    match SseStream::open(&mut client, &format!("{path}{sep}ticket={ticket}"), headers).await {
        Ok(stream) => stream,
        Err(reply) => panic!("{path}: {} {}", reply.status, reply.text()),
    }
}

/// Publishes `count` events `n0…` to `shop`/`pid`; their positions.
async fn publish(node: &TestNode, pid: &str, count: usize) -> Vec<u64> {
    let spoke = node.spoke();
    let mut positions = Vec::with_capacity(count);
    for i in 0..count {
        let event = NewEvent::new("shop", pid, format!("n{i}")).with_data(json!({"i": i}));
        positions.push(spoke.publish(event).await.unwrap().position);
    }
    positions
}

fn ids(events: &[SseEvent]) -> Vec<u64> {
    events.iter().map(|e| e.id.parse().unwrap()).collect()
}

superhero_testkit::each_backend!(
    a_stream_catches_up_from_a_position_then_follows_live_events,
    a_resumed_stream_gets_exactly_the_events_it_missed_mid_burst,
    a_process_stream_and_names_show_only_their_events,
    a_stream_of_several_domains_is_one_position_order,
    a_slow_client_catches_up_from_the_store_by_position,
    a_thousand_clients_each_receive_every_event_of_a_burst_in_order,
    a_ticket_opens_one_stream_once_and_expires,
    activity_is_streamed_only_to_its_own_user,
    an_owned_process_is_streamed_only_to_its_owner,
    beyond_the_stream_limit_the_answer_is_503_and_the_ticket_survives,
    bad_input_has_its_status_and_code,
);

async fn a_stream_catches_up_from_a_position_then_follows_live_events(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let before = publish(&node, "order-1", 5).await;
    let mut stream = open(&node, &mut alice, "/eventlog/shop/stream?from=0", &[]).await;
    assert_eq!(
        stream.headers.get("content-type").unwrap(),
        "text/event-stream"
    );
    let caught_up = stream.take(5, WITHIN).await;
    assert_eq!(ids(&caught_up), before);
    assert_eq!(caught_up[0].event, "n0");
    let data: Value = serde_json::from_str(&caught_up[2].data).unwrap();
    assert_eq!(data["domain"], "shop");
    assert_eq!(data["pid"], "order-1");
    assert_eq!(data["name"], "n2");
    assert_eq!(data["data"], json!({"i": 2}));
    assert_eq!(data["position"], json!(before[2]));

    let live = publish(&node, "order-2", 5).await;
    assert_eq!(ids(&stream.take(5, WITHIN).await), live);

    // Without a position the stream starts now.
    let mut now = open(&node, &mut alice, "/eventlog/shop/stream", &[]).await;
    let next = publish(&node, "order-3", 2).await;
    assert_eq!(ids(&now.take(2, WITHIN).await), next);
}

async fn a_resumed_stream_gets_exactly_the_events_it_missed_mid_burst(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let start = node
        .spoke()
        .store()
        .head_position()
        .await
        .unwrap()
        .to_string();
    let mut first = open(
        &node,
        &mut alice,
        "/eventlog/shop/stream",
        &[("last-event-id", &start)],
    )
    .await;
    let burst = {
        let node_spoke = node.spoke();
        tokio::spawn(async move {
            let mut positions = Vec::new();
            for i in 0..300 {
                let event = NewEvent::new("shop", format!("p{}", i % 7), "burst");
                positions.push(node_spoke.publish(event).await.unwrap().position);
            }
            positions
        })
    };
    let mut received = ids(&first.take(60, WITHIN).await);
    drop(first); // the connection drops mid-burst
    let last = received.last().unwrap().to_string();
    let mut second = open(
        &node,
        &mut alice,
        "/eventlog/shop/stream",
        &[("last-event-id", &last)],
    )
    .await;
    let burst = burst.await.unwrap();
    received.extend(ids(&second
        .take(burst.len() - received.len(), WITHIN)
        .await));
    assert_eq!(received, burst, "every event once, in order");
}

async fn a_process_stream_and_names_show_only_their_events(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let mine = publish(&node, "mine", 4).await;
    publish(&node, "other", 4).await;
    let mut process = open(&node, &mut alice, "/eventlog/shop/mine/stream?from=0", &[]).await;
    assert_eq!(ids(&process.take(4, WITHIN).await), mine);
    let mut named = open(
        &node,
        &mut alice,
        "/eventlog/shop/stream?from=0&names=n1,n3",
        &[],
    )
    .await;
    let events = named.take(4, WITHIN).await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["n1", "n3", "n1", "n3"]);
    // Live: only this process's events reach the process stream.
    publish(&node, "other", 3).await;
    let live = publish(&node, "mine", 1).await;
    assert_eq!(ids(&process.take(1, WITHIN).await), live);
}

async fn a_stream_of_several_domains_is_one_position_order(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let spoke = node.spoke();
    let interleave = |round: usize| {
        let spoke = spoke.clone();
        async move {
            let mut mine = Vec::new();
            for i in 0..12 {
                let domain = if i % 2 == 0 { "shop" } else { "audit" };
                let pid = if i % 3 == 0 { "other" } else { "o-1" };
                let event = NewEvent::new(domain, pid, format!("e{round}-{i}"));
                let position = spoke.publish(event).await.unwrap().position;
                if pid == "o-1" {
                    mine.push(position);
                }
            }
            mine
        }
    };
    let before = interleave(0).await;
    let mut both = open(
        &node,
        &mut alice,
        "/eventlog/shop,audit/o-1/stream?from=0",
        &[],
    )
    .await;
    let caught_up = both.take(before.len(), WITHIN).await;
    assert_eq!(ids(&caught_up), before);
    let live = interleave(1).await;
    assert_eq!(ids(&both.take(live.len(), WITHIN).await), live);
    // Resumed from the middle of the first round: exactly the rest, in order.
    let middle = before[3].to_string();
    let mut resumed = open(
        &node,
        &mut alice,
        "/eventlog/audit,shop/o-1/stream",
        &[("last-event-id", &middle)],
    )
    .await;
    let rest: Vec<u64> = before[4..].iter().chain(&live).copied().collect();
    assert_eq!(ids(&resumed.take(rest.len(), WITHIN).await), rest);
    // A private domain among several still needs its own pid.
    let ticket = ticket(&mut alice).await;
    let mut client = node.client(&Proto::Http1).await;
    let refused = SseStream::open(
        &mut client,
        &format!("/eventlog/shop,activity/o-1/stream?ticket={ticket}"),
        &[],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(refused.status, 403);
}

async fn a_slow_client_catches_up_from_the_store_by_position(backend: Backend) {
    // A fan-out buffer of 16 events, and 3,000 events of 16 KiB (48 MiB): far more than
    // the socket buffers hold, so a client that does not read falls behind the buffer
    // and must be resynchronised from the store, while another client reads along.
    // The slow client reads nothing until the burst is over, which on a server backend
    // under the other tests' load takes longer than the HTTP server lets a client take
    // no bytes at all (`write_timeout_ms`, 30 s, which then rightly closes it): the
    // limit is raised here, where the subject is the resynchronisation.
    let node = TestNode::builder()
        .app(authorization::APP)
        .app(eventlog_stream::APP)
        .config(json!({
            "eventlog-stream": {"domains": ["shop"], "buffer": 16},
            "http": {"server": {"limits": {"write_timeout_ms": 600_000}}},
        }))
        .eventflow(backend)
        .start()
        .await;
    let mut alice = user(&node, "alice").await;
    let mut slow = open(&node, &mut alice, "/eventlog/shop/stream", &[]).await;
    let mut fast = open(&node, &mut alice, "/eventlog/shop/stream", &[]).await;
    let filler = "x".repeat(16 * 1024);
    let spoke = node.spoke();
    let publishing = tokio::spawn(async move {
        let mut positions = Vec::new();
        for batch in 0..30 {
            let events = (0..100)
                .map(|i| {
                    NewEvent::new("shop", "busy", "big")
                        .with_data(json!({"i": batch * 100 + i, "filler": filler}))
                })
                .collect();
            let appended = spoke.publish_all(AppendRequest::new(events)).await.unwrap();
            positions.extend(appended.iter().map(|a| a.position));
        }
        positions
    });
    let fast_ids = ids(&fast.take(3_000, WITHIN).await);
    let burst = publishing.await.unwrap();
    assert_eq!(fast_ids, burst);
    let feeds = node.locator().locate::<Feeds>(FEEDS).unwrap();
    assert!(
        feeds.resyncs() > 0,
        "the slow client fell behind the buffer"
    );
    assert_eq!(ids(&slow.take(3_000, WITHIN).await), burst);
}

async fn a_thousand_clients_each_receive_every_event_of_a_burst_in_order(backend: Backend) {
    const CLIENTS: usize = 1_000;
    const BURST: usize = 100;
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let mut streams = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        streams.push(open(&node, &mut alice, "/eventlog/shop/stream", &[]).await);
    }
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| tokio::spawn(async move { ids(&stream.take(BURST, WITHIN).await) }))
        .collect();
    let spoke = node.spoke();
    let mut burst = Vec::with_capacity(BURST);
    for i in 0..BURST {
        let event = NewEvent::new("shop", format!("p{}", i % 10), "tick");
        burst.push(spoke.publish(event).await.unwrap().position);
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), burst);
    }
}

async fn a_ticket_opens_one_stream_once_and_expires(backend: Backend) {
    let node = node(backend, json!({"ticket_ttl_ms": 1_000})).await;
    let mut alice = user(&node, "alice").await;
    let ticket = ticket(&mut alice).await;
    let path = format!("/eventlog/shop/stream?ticket={ticket}");
    let mut client = node.client(&Proto::Http1).await;
    let first = SseStream::open(&mut client, &path, &[]).await;
    assert!(first.is_ok(), "the first use opens the stream");
    let mut client = node.client(&Proto::Http1).await;
    let again = SseStream::open(&mut client, &path, &[])
        .await
        .err()
        .unwrap();
    assert_eq!(again.status, 401);
    assert_eq!(again.json()["code"], "E_EVENTLOG_TICKET");

    let late = ticket_after_expiry(&mut alice).await;
    let mut client = node.client(&Proto::Http1).await;
    let refused = SseStream::open(
        &mut client,
        &format!("/eventlog/shop/stream?ticket={late}"),
        &[],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["code"], "E_EVENTLOG_TICKET");
}

/// A ticket whose lifetime (1 s) has passed.
async fn ticket_after_expiry(user: &mut SignedClient) -> String {
    let ticket = ticket(user).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    ticket
}

async fn activity_is_streamed_only_to_its_own_user(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let bob = user(&node, "bob").await;
    let refused = |path: String| {
        let node = &node;
        async move {
            let mut client = node.client(&Proto::Http1).await;
            SseStream::open(&mut client, &path, &[])
                .await
                .err()
                .unwrap()
        }
    };
    for path in [
        "/eventlog/activity/stream".to_owned(),
        format!("/eventlog/activity/{}/stream", bob.session.user_id),
    ] {
        let ticket = ticket(&mut alice).await;
        let answer = refused(format!("{path}?ticket={ticket}")).await;
        assert_eq!(answer.status, 403, "{path}");
        assert_eq!(answer.json()["code"], "E_EVENTLOG_FORBIDDEN");
    }
    let own = format!("/eventlog/activity/{}/stream?from=0", alice.session.user_id);
    let mut stream = open(&node, &mut alice, &own, &[]).await;
    // Her signed requests (the tickets) are recorded as her activity, and only hers.
    let events = stream.take(3, WITHIN).await;
    for event in &events {
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["pid"], json!(alice.session.user_id));
        assert_eq!(event.event, "user-activity");
    }
}

async fn an_owned_process_is_streamed_only_to_its_owner(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    let spoke = node.spoke();
    let deal = |pid: &str, owner: &str, name: &str| {
        NewEvent::new("deal", pid, name).with_data(json!({"owner": owner}))
    };
    let mut hers = Vec::new();
    for (pid, owner) in [
        ("d-1", &alice.session.user_id),
        ("d-2", &bob.session.user_id),
    ] {
        for name in ["opened", "closed"] {
            let position = spoke
                .publish(deal(pid, owner, name))
                .await
                .unwrap()
                .position;
            if pid == "d-1" {
                hers.push(position);
            }
        }
    }
    // The domain stream shows her processes only, from the store and live.
    let mut domain = open(&node, &mut alice, "/eventlog/deal/stream?from=0", &[]).await;
    assert_eq!(ids(&domain.take(2, WITHIN).await), hers);
    let alice_id = alice.session.user_id.clone();
    spoke
        .publish(deal("d-2", &bob.session.user_id, "reopened"))
        .await
        .unwrap();
    let live = spoke
        .publish(deal("d-1", &alice_id, "reopened"))
        .await
        .unwrap()
        .position;
    assert_eq!(ids(&domain.take(1, WITHIN).await), [live]);
    // Another's process: 403; one's own: the stream.
    let ticket = ticket(&mut alice).await;
    let mut client = node.client(&Proto::Http1).await;
    let refused = SseStream::open(
        &mut client,
        &format!("/eventlog/deal/d-2/stream?ticket={ticket}"),
        &[],
    )
    .await
    .err()
    .unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["code"], "E_EVENTLOG_FORBIDDEN");
    let mut his = open(&node, &mut bob, "/eventlog/deal/d-2/stream?from=0", &[]).await;
    assert_eq!(his.take(3, WITHIN).await.len(), 3);
}

async fn beyond_the_stream_limit_the_answer_is_503_and_the_ticket_survives(backend: Backend) {
    let node = node(backend, json!({"max_streams": 2})).await;
    let mut alice = user(&node, "alice").await;
    let one = open(&node, &mut alice, "/eventlog/shop/stream", &[]).await;
    let _two = open(&node, &mut alice, "/eventlog/shop/stream", &[]).await;
    let ticket = ticket(&mut alice).await;
    let path = format!("/eventlog/shop/stream?ticket={ticket}");
    let mut client = node.client(&Proto::Http1).await;
    let full = SseStream::open(&mut client, &path, &[])
        .await
        .err()
        .unwrap();
    assert_eq!(full.status, 503);
    assert_eq!(full.json()["code"], "E_EVENTLOG_STREAM_LIMIT");
    assert_eq!(full.header("retry-after"), Some("5"));
    drop(one);
    eventually(WITHIN, "a slot freed by the closed stream", || async {
        let mut client = node.client(&Proto::Http1).await;
        SseStream::open(&mut client, &path, &[]).await.is_ok()
    })
    .await;
}

async fn bad_input_has_its_status_and_code(backend: Backend) {
    let node = node(backend, json!({})).await;
    let mut alice = user(&node, "alice").await;
    let cases = [
        ("/eventlog/secret/stream", 404, "E_EVENTLOG_DOMAIN_UNKNOWN"),
        (
            "/eventlog/shop,secret/stream",
            404,
            "E_EVENTLOG_DOMAIN_UNKNOWN",
        ),
        ("/eventlog/shop/stream?from=-1", 400, "E_EVENTLOG_FROM"),
        ("/eventlog/shop/stream?from=abc", 400, "E_EVENTLOG_FROM"),
        (
            "/eventlog/shop/stream?from=9223372036854775808",
            400,
            "E_EVENTLOG_FROM",
        ),
    ];
    for (path, status, code) in cases {
        let ticket = ticket(&mut alice).await;
        let mut client = node.client(&Proto::Http1).await;
        let sep = if path.contains('?') { '&' } else { '?' };
        let answer = SseStream::open(&mut client, &format!("{path}{sep}ticket={ticket}"), &[])
            .await
            .err()
            .unwrap();
        assert_eq!(answer.status, status, "{path}: {}", answer.text());
        assert_eq!(answer.json()["code"], code, "{path}");
    }
    let mut client = node.client(&Proto::Http1).await;
    let unticketed = SseStream::open(&mut client, "/eventlog/shop/stream", &[])
        .await
        .err()
        .unwrap();
    assert_eq!(unticketed.status, 401);
    assert_eq!(unticketed.json()["code"], "E_EVENTLOG_TICKET");
    let unsigned = node
        .client(&Proto::Http1)
        .await
        .post_json("/eventlog/tickets", &json!({}))
        .await;
    assert_eq!(unsigned.status, 401);
}
