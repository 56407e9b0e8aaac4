//! The app is a tower `Service`: tower-http layers wrap it before it is served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read as _;
use std::time::Duration;

use common::{Proto, Setup};
use http::{Method, StatusCode};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

fn setup() -> Setup {
    Setup::new(json!({
        "big": {"condition": "/big", "dispatcher": "big"},
        "sleep": {"condition": "/sleep", "dispatcher": "sleep"},
        "hello": {"condition": "/hello", "dispatcher": "hello"}
    }))
}

#[tokio::test]
async fn a_compression_layer_gzips_responses_for_clients_that_accept_it() {
    let setup = setup();
    let shutdown = CancellationToken::new();
    let service = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .service(setup.app(&shutdown));
    let server = common::serve(service, setup.config, false, shutdown).await;
    for proto in [Proto::Http1, Proto::H2c] {
        let mut client = common::connect(&server, proto).await;
        let reply = client
            .request(Method::GET, "/big", &[("accept-encoding", "gzip")], "")
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-encoding"), Some("gzip"), "{proto:?}");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&reply.body[..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(reply.body.len() < text.len() / 10, "compressed well");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            json!("superhero ".repeat(1600))
        );
        let plain = client.get("/big").await;
        assert_eq!(plain.header("content-encoding"), None);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_timeout_layer_answers_slow_requests_with_its_own_status() {
    let setup = setup();
    let shutdown = CancellationToken::new();
    let layered = ServiceBuilder::new()
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(100),
        ))
        .service(setup.app(&shutdown));
    // Type-erased (and not `Sync`), as an application assembling layers at run time would.
    let service = tower::util::BoxCloneService::new(layered);
    let server = common::serve(service, setup.config, false, shutdown).await;
    let mut client = common::connect(&server, Proto::Http1).await;
    assert_eq!(
        client.get("/sleep?ms=5000").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(client.get("/hello").await.status, StatusCode::OK);
    server.stop().await;
}
