//! Graceful shutdown: stop accepting, end SSE streams, finish in-flight requests within the
//! deadline, GOAWAY on HTTP/2, then return — without waiting on clients that have nothing
//! open and do not answer (a silent HTTP/2 client costs `goaway_grace_ms`, not the
//! deadline).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::h2::{DATA, END_STREAM, HEADERS, RawH2, WINDOW_UPDATE};
use common::{Proto, Setup};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Liveness bound for a shutdown that should be quick: far above any real drain here,
/// far below the deadline these tests configure (so hitting it means "did not drain").
const LIVENESS: Duration = Duration::from_secs(10);

fn routes() -> serde_json::Value {
    json!({
        "sleep": {"condition": "/sleep", "dispatcher": "sleep"},
        "forever": {"condition": "/forever", "dispatcher": "sse-forever"},
        "hello": {"condition": "/hello", "dispatcher": "hello"},
        "bulk": {"condition": "/bulk", "dispatcher": "bulk"}
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
    let mut raw = RawH2::handshake(server.addr).await;
    let handle = server.take_handle();
    let shutdown = tokio::spawn(handle.shutdown());
    // Read until the server closes, acknowledging its PINGs as a real client would
    // (h2's graceful close uses a PING round trip after the first GOAWAY).
    let (frames, closed) = raw.frames_until_closed(true, LIVENESS).await;
    assert!(closed, "closed: {frames:?}");
    assert!(
        frames.iter().any(|f| f.goaway_error() == Some(0)),
        "a GOAWAY frame with NO_ERROR arrived: {frames:?}"
    );
    tokio::time::timeout(LIVENESS, shutdown)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_silent_http2_client_does_not_hold_up_shutdown() {
    // The deadline is far beyond LIVENESS: waiting for it is the fault under test.
    let mut server = server(30_000).await;
    // Completes the handshake, then never reads nor answers a PING.
    let mut raw = RawH2::handshake(server.addr).await;
    let handle = server.take_handle();
    tokio::time::timeout(LIVENESS, handle.shutdown())
        .await
        .expect("stopped without waiting for the silent client until the deadline")
        .unwrap();
    // What the client finds when it reads at last: GOAWAY NO_ERROR, then the close.
    let (frames, closed) = raw.frames_until_closed(false, LIVENESS).await;
    assert!(closed, "closed: {frames:?}");
    assert!(
        frames.iter().any(|f| f.goaway_error() == Some(0)),
        "told with GOAWAY NO_ERROR: {frames:?}"
    );
}

#[tokio::test]
async fn a_stream_still_open_at_shutdown_is_finished_for_a_client_that_answers_no_ping() {
    let mut server = server(30_000).await;
    let mut raw = RawH2::handshake(server.addr).await;
    raw.request(1, "GET", "/sleep?ms=1500").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let handle = server.take_handle();
    let shutdown = tokio::spawn(handle.shutdown());
    let (frames, closed) = raw.frames_until_closed(false, LIVENESS).await;
    assert!(closed, "closed once the stream was done: {frames:?}");
    let stream: Vec<_> = frames.iter().filter(|f| f.stream == 1).collect();
    assert!(
        stream.first().is_some_and(|f| f.kind == HEADERS),
        "the response arrived: {frames:?}"
    );
    assert!(
        stream.last().is_some_and(|f| f.has(END_STREAM)),
        "the whole response: {frames:?}"
    );
    tokio::time::timeout(LIVENESS, shutdown)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_response_held_back_by_http2_flow_control_is_finished_after_shutdown_starts() {
    let mut server = server(30_000).await;
    let mut raw = RawH2::handshake(server.addr).await;
    // 1 MiB against the initial 64 KiB window: hyper hands it all to h2 at once, h2 sends
    // as the client's window allows. The client reads nothing for a while.
    raw.request(1, "GET", "/bulk?kib=1024").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let handle = server.take_handle();
    let shutdown = tokio::spawn(handle.shutdown());
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // Then it reads, granting window as it goes.
    let mut received = 0usize;
    let mut ended = false;
    while !ended {
        let frame = tokio::time::timeout(LIVENESS, raw.next_frame(true))
            .await
            .expect("the rest of the response in time")
            .unwrap_or_else(|| panic!("cut off after {received} bytes"));
        if frame.stream == 1 && frame.kind == DATA {
            received += frame.payload.len();
            ended = frame.has(END_STREAM);
            if !frame.payload.is_empty() {
                let grant = (frame.payload.len() as u32).to_be_bytes();
                // The server may have closed once the last frame was out.
                let _ = raw.try_send(WINDOW_UPDATE, 0, 0, &grant).await;
                let _ = raw.try_send(WINDOW_UPDATE, 0, 1, &grant).await;
            }
        }
    }
    assert_eq!(received, 1024 * 1024, "the whole response");
    let (frames, closed) = raw.frames_until_closed(true, LIVENESS).await;
    assert!(closed, "then the connection closes: {frames:?}");
    tokio::time::timeout(LIVENESS, shutdown)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_tail_of_a_response_to_a_slow_http1_reader_is_not_cut_off_at_shutdown() {
    let mut server = server(30_000).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // 16 MiB, more than the socket buffers hold: the server's writes wait for the reader.
    stream
        .write_all(b"GET /bulk?kib=16384 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let handle = server.take_handle();
    let shutdown = tokio::spawn(handle.shutdown());
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let (bytes, closed) = common::read_until_closed(&mut stream, LIVENESS).await;
    assert!(closed, "closed after the response");
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    assert_eq!(bytes.len() - head_end, 16 * 1024 * 1024, "the whole body");
    tokio::time::timeout(LIVENESS, shutdown)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
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
