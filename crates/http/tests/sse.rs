//! Server-Sent Events: frames read back with an independent SSE parser
//! (`eventsource-stream`), over HTTP/1.1 and HTTP/2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::convert::Infallible;
use std::time::Duration;

use common::{Proto, Setup};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use http::StatusCode;
use http_body_util::BodyExt;
use serde_json::json;
use superhero_testkit::sse::SseStream;

fn routes() -> serde_json::Value {
    json!({
        "sse": {"condition": "/events", "method": "GET", "dispatcher": "sse"},
        "forever": {"condition": "/forever", "method": "GET", "dispatcher": "sse-forever"},
        "frames": {"condition": "/frames", "method": "GET", "dispatcher": "sse-frames"},
        "hello": {"condition": "/hello", "dispatcher": "hello"}
    })
}

#[tokio::test]
async fn events_carry_id_event_data_and_retry_and_the_stream_ends_with_the_sender() {
    let server = Setup::new(routes()).start().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let reply = common::get(&server, proto, "/events").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("text/event-stream"));
        assert_eq!(reply.header("cache-control"), Some("no-cache"));
        assert!(
            reply.body.starts_with(b"retry: 1500\n\n"),
            "retry comes first"
        );
        let chunks = futures_util::stream::iter([Ok::<_, Infallible>(reply.body.clone())]);
        let events: Vec<_> = chunks
            .eventsource()
            .map(|e| e.expect("well-formed event"))
            .collect()
            .await;
        let seen: Vec<(String, String, String)> = events
            .iter()
            .map(|e| (e.id.clone(), e.event.clone(), e.data.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                ("1".into(), "count".into(), r#"{"n":1}"#.into()),
                ("2".into(), "message".into(), "line one\nline two".into()),
                ("3".into(), "count".into(), r#"{"n":3}"#.into()),
            ],
            "{proto:?}"
        );
        let first: serde_json::Value = serde_json::from_str(&events[0].data).unwrap();
        assert_eq!(first, json!({"n": 1}));
    }
    server.stop().await;
}

#[tokio::test]
async fn a_stream_of_frames_is_polled_by_the_connection_and_ends_with_it() {
    let server = Setup::new(routes()).start().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let reply = common::get(&server, proto, "/frames").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("text/event-stream"));
        assert!(
            reply.body.starts_with(b"retry: 700\n\n"),
            "retry comes first"
        );
        let chunks = futures_util::stream::iter([Ok::<_, Infallible>(reply.body.clone())]);
        let events: Vec<_> = chunks
            .eventsource()
            .map(|e| e.expect("an event"))
            .collect()
            .await;
        let seen: Vec<(String, String)> = events
            .iter()
            .map(|e| (e.id.clone(), e.data.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                ("1".into(), "frame 1".into()),
                ("2".into(), "frame 2".into()),
                ("3".into(), "frame 3".into())
            ],
            "{proto:?}"
        );
        // A stream that never ends is left by its client without harm.
        let mut client = common::connect(&server, proto).await;
        let mut open = SseStream::open(&mut client, "/frames?forever", &[])
            .await
            .expect("a stream");
        assert_eq!(open.take(3, Duration::from_secs(5)).await.len(), 3);
    }
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn events_arrive_while_the_stream_is_open() {
    let server = Setup::new(routes()).start().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let mut stream = SseStream::open(&mut client, "/forever", &[])
            .await
            .expect("a 200 event stream");
        for expected in 1..=3 {
            let event = stream.next(Duration::from_secs(5)).await.expect("an event");
            assert_eq!(event.data, expected.to_string());
            assert_eq!(event.id, expected.to_string());
        }
        // Dropping the response closes the stream; the producer notices and stops.
    }
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn idle_streams_get_heartbeat_comments() {
    let server = Setup::new(routes()).start().await;
    let mut client = common::connect(&server, Proto::Http1).await;
    let request = client.build(http::Method::GET, "/forever?quiet", &[], "");
    let mut body = client.send(request).await.unwrap().into_body();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                seen.extend_from_slice(&data);
                if seen.windows(13).any(|w| w == b": heartbeat\n\n") {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(
        found,
        Ok(true),
        "a heartbeat comment arrived: {:?}",
        String::from_utf8_lossy(&seen)
    );
    server.stop().await;
}
