//! Message framing is the same on every protocol and every path: HEAD, 204, 205 and 304
//! answers have no content (over HTTP/2 their HEADERS frame ends the stream), a HEAD
//! answer has the headers of the GET, a body is sent with its own length, and no exchange
//! ends on a 1xx status — whether the answer comes from a dispatcher, an error, a
//! middleware that short-circuits, an SSE stream or a tower layer in front of the app.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use common::h2::{END_STREAM, HEADERS, RawH2};
use common::{Proto, Setup, TestServer};
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

/// Every kind of path an answer can take.
const PATHS: [&str; 7] = [
    "/hello",    // a dispatcher's view
    "/nope",     // no route: the error body of problem.rs
    "/conflict", // a dispatcher's error
    "/panic",    // a panicking dispatcher: 500
    "/denied",   // a middleware that answers without calling the dispatcher
    "/sse",      // an SSE stream
    "/layer",    // a tower layer in front of the app answers itself
];

fn routes() -> serde_json::Value {
    json!({
        "hello": {"condition": "/hello", "method": "GET", "dispatcher": "hello"},
        "conflict": {"condition": "/conflict", "dispatcher": "conflict"},
        "panic": {"condition": "/panic", "dispatcher": "panic"},
        "denied": {"condition": "/denied", "middleware": ["deny"], "dispatcher": "hello"},
        "sse": {"condition": "/sse", "dispatcher": "sse"},
        "status": {"condition": "/status", "dispatcher": "status"},
        "wrong-length": {"condition": "/wrong-length", "dispatcher": "wrong-length"}
    })
}

/// The test app behind a layer that answers `/layer` itself with 403 and a text body.
async fn server(tls: bool) -> TestServer {
    let setup = Setup::new(routes());
    let shutdown = CancellationToken::new();
    let app = setup.app(&shutdown);
    let service = tower::service_fn(move |request: http::Request<Incoming>| {
        let app = app.clone();
        async move {
            if request.uri().path() == "/layer" {
                let body = Full::new(Bytes::from_static(b"refused by a layer")).boxed();
                let response = http::Response::builder()
                    .status(403)
                    .header("content-type", "text/plain")
                    .body(body)
                    .unwrap();
                return Ok::<_, Infallible>(response);
            }
            Ok(app.handle(request).await.map(BodyExt::boxed))
        }
    });
    common::serve(service, setup.config, tls, shutdown).await
}

async fn servers() -> [(TestServer, [Proto; 2]); 2] {
    [
        (server(false).await, [Proto::Http1, Proto::H2c]),
        (server(true).await, [Proto::TlsHttp1, Proto::TlsH2]),
    ]
}

#[tokio::test]
async fn head_answers_have_the_headers_of_the_get_and_no_content_on_every_protocol_and_path() {
    for (server, protos) in servers().await {
        for proto in protos {
            let mut client = common::connect(&server, proto).await;
            for path in PATHS {
                let get = client.get(path).await;
                let head = client.request(Method::HEAD, path, &[], "").await;
                let what = format!("{proto:?} HEAD {path}");
                assert_eq!(head.status, get.status, "{what}");
                assert!(head.body.is_empty(), "{what}: {:?}", head.text());
                assert_eq!(
                    head.header("content-type"),
                    get.header("content-type"),
                    "{what}"
                );
                if path == "/sse" {
                    assert_eq!(head.header("content-length"), None, "{what}: a stream");
                } else {
                    assert!(!get.body.is_empty(), "{what}: the GET has content");
                    assert_eq!(
                        head.header("content-length"),
                        Some(get.body.len().to_string().as_str()),
                        "{what}: the length of the GET's content"
                    );
                }
            }
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn head_over_http2_ends_the_stream_on_the_headers_frame() {
    let server = server(false).await;
    let mut raw = RawH2::handshake(server.addr).await;
    for (index, path) in PATHS.iter().enumerate() {
        let stream = 1 + 2 * index as u32;
        raw.request(stream, "HEAD", path).await;
        let frames = raw.response(stream, WAIT).await;
        assert_eq!(frames.len(), 1, "HEAD {path}: one frame, got {frames:?}");
        assert_eq!(frames[0].kind, HEADERS, "HEAD {path}: {frames:?}");
        assert!(
            frames[0].has(END_STREAM),
            "HEAD {path}: END_STREAM on the HEADERS frame"
        );
    }
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn no_content_statuses_have_no_content_on_every_protocol() {
    for (server, protos) in servers().await {
        for proto in protos {
            let mut client = common::connect(&server, proto).await;
            for code in [204u16, 205, 304] {
                let reply = client.get(&format!("/status?code={code}")).await;
                let what = format!("{proto:?} {code}");
                assert_eq!(reply.status.as_u16(), code, "{what}");
                assert!(reply.body.is_empty(), "{what}: {:?}", reply.text());
                let length = reply.header("content-length");
                assert!(
                    length.is_none() || length == Some("0"),
                    "{what}: {length:?}"
                );
            }
        }
        server.stop().await;
    }
    // Over HTTP/2, END_STREAM is on the HEADERS frame.
    let server = server(false).await;
    let mut raw = RawH2::handshake(server.addr).await;
    for (index, code) in [204, 205, 304].into_iter().enumerate() {
        let stream = 1 + 2 * index as u32;
        raw.request(stream, "GET", &format!("/status?code={code}"))
            .await;
        let frames = raw.response(stream, WAIT).await;
        assert_eq!(frames.len(), 1, "{code}: {frames:?}");
        assert!(
            frames[0].kind == HEADERS && frames[0].has(END_STREAM),
            "{code}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_handler_s_wrong_content_length_gives_way_to_the_body_s_on_every_protocol() {
    for (server, protos) in servers().await {
        for proto in protos {
            let mut client = common::connect(&server, proto).await;
            for length in ["999", "3", "abc"] {
                let reply = client.get(&format!("/wrong-length?length={length}")).await;
                let what = format!("{proto:?} content-length {length}");
                assert_eq!(reply.status, 200, "{what}");
                assert_eq!(reply.json(), json!({"hello": "world"}), "{what}");
                assert_eq!(reply.header("content-length"), Some("17"), "{what}");
                let path = format!("/wrong-length?length={length}");
                let head = client.request(Method::HEAD, &path, &[], "").await;
                assert!(head.body.is_empty(), "HEAD {what}");
                assert_eq!(head.header("content-length"), Some("17"), "HEAD {what}");
            }
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_final_1xx_status_is_answered_500_on_every_protocol() {
    for (server, protos) in servers().await {
        for proto in protos {
            let mut client = common::connect(&server, proto).await;
            for code in [100, 101, 103] {
                let reply = client.get(&format!("/status?code={code}")).await;
                let body = reply.error(500, "E_HTTP_INFORMATIONAL_STATUS");
                assert_eq!(body["details"], json!([]), "{proto:?} {code}");
                let head = client
                    .request(Method::HEAD, &format!("/status?code={code}"), &[], "")
                    .await;
                assert_eq!(head.status, 500, "{proto:?} HEAD {code}");
                assert!(head.body.is_empty());
            }
        }
        server.stop().await;
    }
}
