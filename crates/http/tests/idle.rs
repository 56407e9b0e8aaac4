//! Connections that do nothing are closed: an HTTP/2 connection with no open stream after
//! `idle_timeout_ms` (with GOAWAY `NO_ERROR`, however many PINGs it answers), an HTTP/1.1
//! one between requests likewise, an HTTP/2 header block that does not end within
//! `header_read_timeout_ms`, and a client that takes none of its response for
//! `write_timeout_ms` — the same bounds whatever the protocol.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::h2::{CONTINUATION, END_STREAM, GOAWAY, HEADERS, RawH2, hpack};
use common::{Proto, Setup, TestServer};
use http::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;

/// Far above the limits these tests configure, far below what a connection would be
/// held without them (for ever, or the 60 s set where a limit is not under test).
const LIVENESS: Duration = Duration::from_secs(10);

/// A server with these idle and header timeouts that PINGs every 200 ms (a client that
/// answers them is still idle).
async fn server(idle_ms: u64, header_ms: u64) -> TestServer {
    server_pinging(idle_ms, header_ms, 200).await
}

async fn server_pinging(idle_ms: u64, header_ms: u64, ping_ms: u64) -> TestServer {
    server_with(|c| {
        c.limits.idle_timeout_ms = idle_ms;
        c.limits.header_read_timeout_ms = header_ms;
        c.limits.keep_alive_timeout_ms = ping_ms;
    })
    .await
}

async fn server_with(change: impl FnOnce(&mut superhero_http::ServerConfig)) -> TestServer {
    Setup::new(json!({
        "hello": {"condition": "/hello", "dispatcher": "hello"},
        "sleep": {"condition": "/sleep", "dispatcher": "sleep"},
        "bulk": {"condition": "/bulk", "dispatcher": "bulk"}
    }))
    .config(change)
    .start()
    .await
}

#[tokio::test]
async fn an_http2_connection_with_no_open_stream_is_closed_with_goaway_no_error() {
    let server = server(500, 60_000).await;
    let start = Instant::now();
    let mut raw = RawH2::handshake(server.addr).await;
    let (frames, closed) = raw.frames_until_closed(true, LIVENESS).await;
    assert!(closed, "closed by the server; frames: {frames:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(450),
        "not before the idle timeout"
    );
    let goaways: Vec<_> = frames.iter().filter(|f| f.kind == GOAWAY).collect();
    assert!(!goaways.is_empty(), "told with GOAWAY: {frames:?}");
    assert!(
        goaways.iter().all(|f| f.goaway_error() == Some(0)),
        "NO_ERROR: {goaways:?}"
    );
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn an_http2_connection_is_idle_only_while_no_stream_is_open() {
    let server = server(1_000, 60_000).await;
    let mut client = common::connect(&server, Proto::H2c).await;
    // A request that outlasts the idle timeout is not cut off.
    let reply = client.get("/sleep?ms=2500").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!("slept"));
    // The idle time counts from its end: the connection is still there.
    let again = client.get("/hello").await;
    assert_eq!(again.status, StatusCode::OK);
    // Then, with nothing open, the server closes it gracefully.
    let ended = tokio::time::timeout(LIVENESS, client.connection)
        .await
        .expect("closed by the server once idle");
    ended.unwrap().expect("a graceful close");
    server.stop().await;
}

#[tokio::test]
async fn an_idle_http1_connection_is_closed_after_the_idle_timeout() {
    let server = server(500, 60_000).await;
    let mut client = common::connect(&server, Proto::Http1).await;
    assert_eq!(client.get("/hello").await.status, StatusCode::OK);
    let ended = tokio::time::timeout(LIVENESS, client.connection)
        .await
        .expect("closed by the server once idle");
    ended.unwrap().expect("a graceful close");
    server.stop().await;
}

fn request_block() -> Vec<u8> {
    hpack(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/hello"),
        (":authority", "localhost"),
    ])
}

#[tokio::test]
async fn an_unfinished_http2_header_block_is_closed_after_the_header_timeout() {
    // No keep-alive PING in the test's time: inside a header block, answering one would
    // be a protocol error, and not answering one would close the connection too.
    let server = server_pinging(60_000, 500, 60_000).await;
    let mut raw = RawH2::handshake(server.addr).await;
    let start = Instant::now();
    // HEADERS without END_HEADERS, then silence.
    let block = request_block();
    raw.send(HEADERS, END_STREAM, 1, &block[..10]).await;
    let (frames, closed) = raw.frames_until_closed(false, LIVENESS).await;
    assert!(closed, "closed by the server; frames: {frames:?}");
    assert!(start.elapsed() >= Duration::from_millis(450), "{frames:?}");
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_header_block_trickled_in_continuation_frames_is_bounded_as_a_whole() {
    let server = server_pinging(60_000, 1_000, 60_000).await;
    let mut raw = RawH2::handshake(server.addr).await;
    let block = request_block();
    raw.send(HEADERS, END_STREAM, 1, &block[..1]).await;
    // A CONTINUATION frame every 900 ms, never END_HEADERS: each comes within the header
    // timeout of the one before, so only a deadline on the whole block ends it. (h2
    // refuses a sixth CONTINUATION frame by itself, so four are sent.)
    let mut closed = false;
    for byte in &block[1..5] {
        if let Ok(None) =
            tokio::time::timeout(Duration::from_millis(900), raw.next_frame(false)).await
        {
            closed = true;
            break;
        }
        let frame = [0, 0, 1, CONTINUATION, 0, 0, 0, 0, 1, *byte];
        if raw.stream.write_all(&frame).await.is_err() {
            closed = true;
            break;
        }
    }
    assert!(closed, "closed while the block was still trickling in");
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_the_write_timeout() {
    let server = server_with(|c| {
        c.limits.write_timeout_ms = 500;
        c.limits.header_read_timeout_ms = 60_000;
        c.limits.idle_timeout_ms = 60_000;
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // 16 MiB, more than the socket buffers hold, and the client reads none of it.
    stream
        .write_all(b"GET /bulk?kib=16384 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (bytes, closed) = common::read_until_closed(&mut stream, LIVENESS).await;
    assert!(closed, "closed by the server");
    assert!(
        bytes.len() < 16 * 1024 * 1024,
        "cut off: {} bytes arrived",
        bytes.len()
    );
    common::assert_still_serving(&server).await;
    server.stop().await;
}
