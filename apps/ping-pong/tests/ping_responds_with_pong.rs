//! Use case 1 end to end: a real node, real sockets, a real client.

mod common;

use std::time::{Duration, Instant};

use common::{Protocol, get, start, start_with, write};
use hyper::Version;
use serde_json::json;
use superhero_http::tls::DevCertificate;

#[tokio::test]
async fn ping_answers_pong_over_http1() {
    let node = start(json!({})).await;
    let answer = get(node.addr, "/ping", &Protocol::Http1).await;
    assert_eq!((answer.status, answer.version), (200, Version::HTTP_11));
    assert_eq!(answer.body, json!("pong"));
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn ping_answers_pong_over_h2c() {
    let node = start(json!({})).await;
    let answer = get(node.addr, "/ping?sleep=0", &Protocol::H2c).await;
    assert_eq!((answer.status, answer.version), (200, Version::HTTP_2));
    assert_eq!(answer.body, json!("pong"));
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn ping_answers_pong_over_tls_with_alpn_h2_and_certificates_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = DevCertificate::generate(&["localhost"]).unwrap();
    std::fs::create_dir_all(dir.path().join("tls")).unwrap();
    certificate.write_pem(&dir.path().join("tls")).unwrap();
    let config = write(
        dir.path(),
        "site.toml",
        "[http.server.tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n",
    );
    let node = start_with(|builder| builder.add(config)).await;

    let h2 = Protocol::Tls(certificate.client_config(&[b"h2", b"http/1.1"]).unwrap());
    let answer = get(node.addr, "/ping", &h2).await;
    assert_eq!(
        (answer.status, answer.version, answer.body),
        (200, Version::HTTP_2, json!("pong"))
    );

    let h1 = Protocol::Tls(certificate.client_config(&[b"http/1.1"]).unwrap());
    let answer = get(node.addr, "/ping", &h1).await;
    assert_eq!(
        (answer.status, answer.version, answer.body),
        (200, Version::HTTP_11, json!("pong"))
    );
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn sleep_delays_the_pong() {
    let node = start(json!({})).await;
    let started = Instant::now();
    let answer = get(node.addr, "/ping?sleep=300", &Protocol::Http1).await;
    assert_eq!(answer.body, json!("pong"));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered after {:?}",
        started.elapsed()
    );
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_invalid_sleep_is_a_400_with_oas_details() {
    let node = start(json!({})).await;
    for (query, code) in [
        ("sleep=-1", "E_OAS_SCHEMA_MINIMUM"),
        ("sleep=10001", "E_OAS_SCHEMA_MAXIMUM"),
        ("sleep=abc", "E_OAS_"),
        ("sleep=1.5", "E_OAS_"),
    ] {
        let answer = get(node.addr, &format!("/ping?{query}"), &Protocol::Http1).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert_eq!(answer.body["status"], 400);
        let details = answer.body["details"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            details
                .iter()
                .any(|d| d["code"].as_str().is_some_and(|c| c.starts_with(code))
                    && d["path"].as_str().is_some_and(|p| p.contains("sleep"))),
            "{query}: {}",
            answer.body
        );
    }
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_merged_openapi_document_lists_the_ping_route() {
    let node = start(json!({})).await;
    let answer = get(node.addr, "/openapi.json", &Protocol::Http1).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["paths"]["/ping"]["get"]["parameters"][0]["name"],
        "sleep"
    );
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn other_paths_are_404() {
    let node = start(json!({})).await;
    assert_eq!(get(node.addr, "/pong", &Protocol::Http1).await.status, 404);
    node.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_an_in_flight_request_before_it_completes() {
    let node = start(json!({})).await;
    let addr = node.addr;
    let request = tokio::spawn(async move { get(addr, "/ping?sleep=500", &Protocol::Http1).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    node.running.shutdown().await.unwrap();
    let answer = request.await.unwrap();
    assert_eq!((answer.status, answer.body), (200, json!("pong")));
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "shutdown waited for the request"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}
