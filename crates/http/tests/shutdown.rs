//! Graceful shutdown: stop accepting, end SSE streams, finish in-flight requests within the
//! deadline, GOAWAY on HTTP/2, then return.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Proto, Setup};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Liveness bound for a shutdown that should be quick: far above any real drain here,
/// far below the deadline these tests configure (so hitting it means "did not drain").
const LIVENESS: Duration = Duration::from_secs(10);

fn routes() -> serde_json::Value {
    json!({
        "sleep": {"condition": "/sleep", "dispatcher": "sleep"},
        "forever": {"condition": "/forever", "dispatcher": "sse-forever"},
        "hello": {"condition": "/hello", "dispatcher": "hello"}
    })
}

async fn server(deadline_ms: u64) -> common::TestServer {
    Setup::new(routes())
        .config(|c| c.shutdown_deadline_ms = deadline_ms)
        .start()
        .await
}

#[tokio::test]
async fn shutdown_finishes_an_in_flight_slow_request_then_stops_accepting() {
    for proto in [Proto::Http1, Proto::H2c] {
        let mut server = server(30_000).await;
        let addr = server.addr;
        let mut client = common::connect(&server, proto).await;
        let request = client.build(Method::GET, "/sleep?ms=500", &[], "");
        let in_flight = tokio::spawn(async move {
            let response = client
                .send(request)
                .await
                .expect("response despite shutdown");
            superhero_testkit::http::read(response).await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let handle = server.take_handle();
        tokio::time::timeout(LIVENESS, handle.shutdown())
            .await
            .expect("drained")
            .unwrap();
        let reply = in_flight.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{proto:?}");
        assert_eq!(reply.json(), json!("slept"));
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer accepting"
        );
    }
}

#[tokio::test]
async fn shutdown_ends_open_sse_streams_cleanly() {
    for proto in [Proto::Http1, Proto::H2c] {
        let mut server = server(30_000).await;
        let mut client = common::connect(&server, proto).await;
        let request = client.build(Method::GET, "/forever", &[], "");
        let response = client.send(request).await.unwrap();
        let mut events = response.into_body().into_data_stream().eventsource();
        let first = events.next().await.expect("an event").expect("well-formed");
        assert_eq!(first.data, "1");
        let handle = server.take_handle();
        let shutdown = tokio::spawn(handle.shutdown());
        // The stream ends normally (a forced close would surface as an error).
        let rest = tokio::time::timeout(LIVENESS, async {
            let mut count = 0;
            while let Some(event) = events.next().await {
                event.expect("the stream ends cleanly, not by a reset");
                count += 1;
            }
            count
        })
        .await
        .expect("the stream ended");
        assert!(rest < 1000, "{proto:?}: ended after {rest} more events");
        tokio::time::timeout(LIVENESS, shutdown)
            .await
            .expect("drained")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn http2_connections_get_goaway_on_shutdown() {
    let mut server = server(30_000).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    stream
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .unwrap(); // empty SETTINGS
    // Wait for the server's SETTINGS so the connection is established.
    let first = read_frame(&mut stream).await.expect("server SETTINGS");
    assert_eq!(first.0, 4);
    let handle = server.take_handle();
    let shutdown = tokio::spawn(handle.shutdown());
    let mut kinds = Vec::new();
    // Read until the server closes, acknowledging its PINGs as a real client would
    // (h2's graceful close uses a PING round trip after the first GOAWAY).
    while let Some((kind, flags, payload)) = tokio::time::timeout(LIVENESS, read_frame(&mut stream))
        .await
        .expect("frames")
    {
        kinds.push(kind);
        if kind == 6 && flags & 1 == 0 {
            let mut ack = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
            ack.extend_from_slice(&payload);
            let _ = stream.write_all(&ack).await;
        }
    }
    assert!(
        kinds.contains(&7),
        "a GOAWAY frame (type 7) arrived: {kinds:?}"
    );
    tokio::time::timeout(LIVENESS, shutdown)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
}

/// Reads one HTTP/2 frame: (type, flags, payload); `None` at EOF.
async fn read_frame(stream: &mut TcpStream) -> Option<(u8, u8, Vec<u8>)> {
    let mut header = [0u8; 9];
    stream.read_exact(&mut header).await.ok()?;
    let len =
        (usize::from(header[0]) << 16) | (usize::from(header[1]) << 8) | usize::from(header[2]);
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.ok()?;
    Some((header[3], header[4], payload))
}

#[tokio::test]
async fn idle_keep_alive_connections_do_not_delay_shutdown() {
    let mut server = server(30_000).await;
    let mut h1 = common::connect(&server, Proto::Http1).await;
    let mut h2 = common::connect(&server, Proto::H2c).await;
    assert_eq!(h1.get("/hello").await.status, StatusCode::OK);
    assert_eq!(h2.get("/hello").await.status, StatusCode::OK);
    let handle = server.take_handle();
    tokio::time::timeout(LIVENESS, handle.shutdown())
        .await
        .expect("drained")
        .unwrap();
    for connection in [h1.connection, h2.connection] {
        let ended = tokio::time::timeout(LIVENESS, connection)
            .await
            .expect("closed by the server");
        ended.unwrap().expect("closed gracefully");
    }
}

#[tokio::test]
async fn the_drain_deadline_closes_what_is_still_running() {
    let mut server = server(300).await;
    let mut client = common::connect(&server, Proto::Http1).await;
    let request = client.build(Method::GET, "/sleep?ms=20000", &[], "");
    let in_flight = tokio::spawn(async move {
        match client.send(request).await {
            Ok(response) => response.into_body().collect().await.is_ok(),
            Err(_) => false,
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let handle = server.take_handle();
    tokio::time::timeout(LIVENESS, handle.shutdown())
        .await
        .expect("returned after the deadline")
        .unwrap();
    let completed = tokio::time::timeout(LIVENESS, in_flight)
        .await
        .expect("client saw the close")
        .unwrap();
    assert!(!completed, "the too-slow request was cut off");
}
