//! Every status of the mapping, with the error body `{status, error, code, details}`,
//! over HTTP/1.1 and h2c.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Proto, Setup};
use http::{Method, StatusCode};
use serde_json::json;
use tokio::io::AsyncWriteExt;

fn routes() -> serde_json::Value {
    json!({
        "hello": {"condition": "/hello", "method": "GET", "dispatcher": "hello"},
        "items": {"condition": "/items", "method": ["GET", "POST"], "dispatcher": "echo",
                  "consumes": ["application/json"], "produces": ["application/json"]},
        "conflict": {"condition": "/conflict", "dispatcher": "conflict"},
        "panic": {"condition": "/panic", "dispatcher": "panic"},
        "internal": {"condition": "/internal", "dispatcher": "internal"},
        "no-content": {"condition": "/no-content", "dispatcher": "no-content"}
    })
}

async fn server() -> common::TestServer {
    Setup::new(routes())
        .config(|c| {
            c.limits.max_body_bytes = 1024;
            c.limits.body_read_timeout_ms = 300;
        })
        .start()
        .await
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let reply = common::get(&server, proto, "/nowhere").await;
        let body = reply.error(404, "E_HTTP_NOT_FOUND");
        assert_eq!(body["details"], json!([]));
    }
    server.stop().await;
}

#[tokio::test]
async fn a_known_path_with_another_method_gets_405_with_allow() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let reply = client.request(Method::DELETE, "/items", &[], "").await;
        let body = reply.error(405, "E_HTTP_METHOD_NOT_ALLOWED");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
        assert_eq!(body["details"][0]["path"], json!("/method"));
    }
    server.stop().await;
}

#[tokio::test]
async fn options_on_a_known_path_lists_the_allowed_methods() {
    let server = server().await;
    let mut client = common::connect(&server, Proto::Http1).await;
    let reply = client.request(Method::OPTIONS, "/hello", &[], "").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    server.stop().await;
}

#[tokio::test]
async fn head_is_answered_by_get_routes_without_a_body() {
    let server = server().await;
    let mut client = common::connect(&server, Proto::Http1).await;
    let reply = client.request(Method::HEAD, "/hello", &[], "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("content-length"), Some("17"));
    server.stop().await;
}

#[tokio::test]
async fn an_accept_header_that_excludes_what_the_route_produces_gets_406() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let reply = client
            .request(Method::GET, "/items", &[("accept", "text/html")], "")
            .await;
        let body = reply.error(406, "E_HTTP_NOT_ACCEPTABLE");
        assert_eq!(body["details"][0]["path"], json!("/header/accept"));
        let refused = client
            .request(
                Method::GET,
                "/items",
                &[("accept", "application/json;q=0, text/html")],
                "",
            )
            .await;
        refused.error(406, "E_HTTP_NOT_ACCEPTABLE");
        let accepted = client
            .request(
                Method::GET,
                "/items",
                &[("accept", "text/html, application/*;q=0.2")],
                "",
            )
            .await;
        assert_eq!(accepted.status, StatusCode::OK);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_body_of_a_type_the_route_does_not_consume_gets_415() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let wrong = client
            .request(
                Method::POST,
                "/items",
                &[("content-type", "text/plain")],
                "hi",
            )
            .await;
        wrong.error(415, "E_HTTP_UNSUPPORTED_MEDIA_TYPE");
        assert_eq!(wrong.header("accept-post"), Some("application/json"));
        let missing = client.request(Method::POST, "/items", &[], "{}").await;
        missing.error(415, "E_HTTP_CONTENT_TYPE_MISSING");
        let right = client
            .request(
                Method::POST,
                "/items",
                &[("content-type", "application/json; charset=utf-8")],
                r#"{"a":1}"#,
            )
            .await;
        assert_eq!(right.status, StatusCode::OK);
        assert_eq!(right.json()["body"], json!({"a": 1}));
    }
    server.stop().await;
}

#[tokio::test]
async fn invalid_json_gets_400_with_the_parser_message() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let reply = client
            .request(
                Method::POST,
                "/items",
                &[("content-type", "application/json")],
                "{nope",
            )
            .await;
        let body = reply.error(400, "E_HTTP_INVALID_JSON");
        assert_eq!(body["details"][0]["path"], json!("/body"));
        assert_eq!(body["details"][0]["code"], json!("E_HTTP_INVALID_JSON"));
    }
    server.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_by_length_or_while_streaming() {
    let server = server().await;
    let big = format!("\"{}\"", "x".repeat(4096));
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let reply = client
            .request(
                Method::POST,
                "/items",
                &[("content-type", "application/json")],
                big.clone(),
            )
            .await;
        reply.error(413, "E_HTTP_BODY_TOO_LARGE");
    }
    // Chunked, so no Content-Length warns the server in advance.
    let chunk = "x".repeat(600);
    let request = format!(
        "POST /items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len(),
        chunk.len()
    );
    let (bytes, _) = common::raw(server.addr, request.as_bytes(), Duration::from_secs(2)).await;
    assert_eq!(common::raw_status(&bytes), Some(413));
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_body_slower_than_the_read_timeout_gets_408() {
    let server = server().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{\"a\"";
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes; the configured 300 ms body timeout answers.
    let (bytes, _) = common::read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert_eq!(common::raw_status(&bytes), Some(408));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("E_HTTP_BODY_TIMEOUT"), "{text}");
    common::assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn application_errors_keep_their_status_code_and_details() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let reply = common::get(&server, proto, "/conflict").await;
        let body = reply.error(409, "E_TEST_CONFLICT");
        assert_eq!(body["error"], json!("Already there"));
        assert_eq!(
            body["details"],
            json!([{"path": "/body/name", "code": "E_TEST_TAKEN", "message": "The name is taken"}])
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn faults_get_500_without_leaking_their_cause() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let reply = common::get(&server, proto, "/internal").await;
        let body = reply.error(500, "E_TEST_DATABASE");
        assert!(
            !reply.json().to_string().contains("secret"),
            "cause not sent: {body}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_dispatcher_gets_500_and_the_connection_survives() {
    let server = server().await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        client
            .get("/panic")
            .await
            .error(500, "E_HTTP_DISPATCHER_PANICKED");
        assert_eq!(
            client.get("/hello").await.status,
            StatusCode::OK,
            "same connection still usable"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_204_has_no_body() {
    let server = server().await;
    let reply = common::get(&server, Proto::Http1, "/no-content").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn invalid_percent_encoding_in_a_parameter_gets_400() {
    let server = Setup::new(json!({"echo": {"condition": "/echo/{id}", "dispatcher": "echo"}}))
        .start()
        .await;
    let reply = common::get(&server, Proto::Http1, "/echo/%FF").await;
    reply.error(400, "E_HTTP_INVALID_TARGET");
    let ok = common::get(&server, Proto::Http1, "/echo/a%20b").await;
    assert_eq!(ok.json()["params"], json!({"id": "a b"}));
    server.stop().await;
}
