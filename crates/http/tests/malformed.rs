//! Hostile and broken input: each case gets its status or a closed connection, and the
//! server keeps serving normal requests (the original froze or crashed on several).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Setup, raw, raw_status};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(3);

async fn server() -> common::TestServer {
    Setup::new(json!({
        "root": {"condition": "/", "method": "GET", "dispatcher": "echo"},
        "hello": {"condition": "/hello", "method": "GET", "dispatcher": "hello"},
        "items": {"condition": "/items", "method": "POST", "dispatcher": "echo"}
    }))
    .config(|c| {
        c.limits.header_read_timeout_ms = 400;
        c.limits.max_header_bytes = 16 * 1024;
        c.limits.max_headers = 50;
        c.limits.max_body_bytes = 1024;
    })
    .start()
    .await
}

#[tokio::test]
async fn a_malformed_request_line_gets_400_and_a_closed_connection() {
    let server = server().await;
    for line in [
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\nhost: x\r\n\r\n",
    ] {
        let (bytes, closed) = raw(server.addr, line.as_bytes(), WAIT).await;
        assert!(closed, "{line:?}: connection closed");
        let status = raw_status(&bytes);
        assert!(
            status.is_none() || status == Some(400),
            "{line:?}: got {status:?}"
        );
        common::assert_still_serving(&server).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_double_slash_target_is_routed_as_the_root_instead_of_crashing() {
    let server = server().await;
    let (bytes, _) = raw(
        server.addr,
        b"GET // HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        WAIT,
    )
    .await;
    assert_eq!(
        raw_status(&bytes),
        Some(200),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let (bytes, _) = raw(
        server.addr,
        b"GET //hello// HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        WAIT,
    )
    .await;
    assert_eq!(raw_status(&bytes), Some(200));
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn one_byte_then_silence_is_closed_after_the_header_timeout() {
    let server = server().await;
    // "G" starts an HTTP/1.1 request; "P" could still be the HTTP/2 preface.
    for first in [&b"G"[..], &b"P"[..], &b"PRI * HTTP/2.0\r\n"[..]] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(first).await.unwrap();
        // Others are served while this connection waits.
        common::assert_still_serving(&server).await;
        let (bytes, closed) = common::read_until_closed(&mut stream, WAIT).await;
        assert!(
            closed,
            "{:?}: closed by the server",
            String::from_utf8_lossy(first)
        );
        assert!(raw_status(&bytes).is_none_or(|s| s == 408 || s == 400));
    }
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let (bytes, closed) = common::read_until_closed(&mut stream, WAIT).await;
    assert!(closed && bytes.is_empty());
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off_while_others_are_served() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = b"GET /hello HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed = false;
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        common::assert_still_serving(&server).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !closed {
        let (_, eof) = common::read_until_closed(&mut stream, WAIT).await;
        closed = eof;
    }
    assert!(closed, "the slow head was cut off");
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn huge_headers_get_431() {
    let server = server().await;
    let big = format!(
        "GET /hello HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let (bytes, closed) = raw(server.addr, big.as_bytes(), WAIT).await;
    assert!(closed);
    assert_eq!(raw_status(&bytes), Some(431));
    let many: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
    let many = format!("GET /hello HTTP/1.1\r\nhost: x\r\n{many}\r\n");
    let (bytes, _) = raw(server.addr, many.as_bytes(), WAIT).await;
    assert_eq!(raw_status(&bytes), Some(431));
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_huge_declared_body_gets_413_without_being_read() {
    let server = server().await;
    let head = "POST /items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n{";
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (bytes, _) = common::read_until_closed(&mut stream, WAIT).await;
    assert_eq!(raw_status(&bytes), Some(413));
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn binary_garbage_and_a_broken_http2_session_are_closed() {
    let server = server().await;
    let garbage: Vec<u8> = (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (_, closed) = raw(server.addr, &garbage, WAIT).await;
    assert!(closed, "garbage: closed");
    let mut broken = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    broken.extend_from_slice(&[0xff; 64]);
    let (_, closed) = raw(server.addr, &broken, WAIT).await;
    assert!(closed, "broken h2: closed");
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_vanishes_mid_body_does_not_disturb_the_server() {
    let server = server().await;
    for _ in 0..20 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = "POST /items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":";
        stream.write_all(head.as_bytes()).await.unwrap();
        drop(stream);
    }
    common::assert_still_serving(&server).await;
    server.stop().await;
}
