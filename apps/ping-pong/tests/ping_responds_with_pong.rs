//! Use case 1 end to end: a real node, real sockets, a real client.

use std::time::{Duration, Instant};

use serde_json::json;
use superhero_http::tls::DevCertificate;
use superhero_testkit::http::{Proto, Reply};
use superhero_testkit::{TempDir, TestNode, TestNodeBuilder};

fn ping_pong() -> TestNodeBuilder {
    TestNode::builder().app(ping_pong::APP)
}

async fn get(node: &TestNode, path: &str, proto: &Proto) -> Reply {
    node.client(proto).await.get(path).await
}

#[tokio::test]
async fn ping_answers_pong_over_http1() {
    let node = ping_pong().start().await;
    let answer = get(&node, "/ping", &Proto::Http1).await;
    assert_eq!(
        (answer.status.as_u16(), answer.version),
        (200, http::Version::HTTP_11)
    );
    assert_eq!(answer.json(), json!("pong"));
    node.shutdown().await;
}

#[tokio::test]
async fn ping_answers_pong_over_h2c() {
    let node = ping_pong().start().await;
    let answer = get(&node, "/ping?sleep=0", &Proto::H2c).await;
    assert_eq!(
        (answer.status.as_u16(), answer.version),
        (200, http::Version::HTTP_2)
    );
    assert_eq!(answer.json(), json!("pong"));
    node.shutdown().await;
}

#[tokio::test]
async fn ping_answers_pong_over_tls_with_alpn_h2_and_certificates_relative_to_the_config_file() {
    let dir = TempDir::new();
    let certificate = DevCertificate::generate(&["localhost"]).unwrap();
    std::fs::create_dir_all(dir.path().join("tls")).unwrap();
    certificate.write_pem(&dir.path().join("tls")).unwrap();
    let config = dir.write(
        "site.toml",
        "[http.server.tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n",
    );
    let node = ping_pong()
        .with(|builder| builder.add(config))
        .start()
        .await;

    let h2 = Proto::Tls(certificate.client_config(&[b"h2", b"http/1.1"]).unwrap());
    let answer = get(&node, "/ping", &h2).await;
    assert_eq!(
        (answer.status.as_u16(), answer.version, answer.json()),
        (200, http::Version::HTTP_2, json!("pong"))
    );

    let h1 = Proto::Tls(certificate.client_config(&[b"http/1.1"]).unwrap());
    let answer = get(&node, "/ping", &h1).await;
    assert_eq!(
        (answer.status.as_u16(), answer.version, answer.json()),
        (200, http::Version::HTTP_11, json!("pong"))
    );
    node.shutdown().await;
}

#[tokio::test]
async fn sleep_delays_the_pong() {
    let node = ping_pong().start().await;
    let started = Instant::now();
    let answer = get(&node, "/ping?sleep=300", &Proto::Http1).await;
    assert_eq!(answer.json(), json!("pong"));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered after {:?}",
        started.elapsed()
    );
    node.shutdown().await;
}

#[tokio::test]
async fn an_invalid_sleep_is_a_400_with_oas_details() {
    let node = ping_pong().start().await;
    for (query, code) in [
        ("sleep=-1", "E_OAS_SCHEMA_MINIMUM"),
        ("sleep=10001", "E_OAS_SCHEMA_MAXIMUM"),
        ("sleep=abc", "E_OAS_"),
        ("sleep=1.5", "E_OAS_"),
    ] {
        let answer = get(&node, &format!("/ping?{query}"), &Proto::Http1).await;
        let body = answer.error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
        let details = body["details"].as_array().cloned().unwrap_or_default();
        assert!(
            details
                .iter()
                .any(|d| d["code"].as_str().is_some_and(|c| c.starts_with(code))
                    && d["path"].as_str().is_some_and(|p| p.contains("sleep"))),
            "{query}: {body}"
        );
    }
    node.shutdown().await;
}

#[tokio::test]
async fn the_merged_openapi_document_lists_the_ping_route() {
    let node = ping_pong().start().await;
    let answer = get(&node, "/openapi.json", &Proto::Http1).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json()["paths"]["/ping"]["get"]["parameters"][0]["name"],
        "sleep"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn other_paths_are_404() {
    let node = ping_pong().start().await;
    get(&node, "/pong", &Proto::Http1)
        .await
        .error(404, "E_HTTP_NOT_FOUND");
    node.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_an_in_flight_request_before_it_completes() {
    let node = ping_pong().start().await;
    let addr = node.addr();
    let request =
        tokio::spawn(async move { superhero_testkit::http::get(addr, "/ping?sleep=500").await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    node.shutdown().await;
    let answer = request.await.unwrap();
    assert_eq!(
        (answer.status.as_u16(), answer.json()),
        (200, json!("pong"))
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "shutdown waited for the request"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}
