//! HTTP/1.1, h2c with prior knowledge, and TLS with ALPN on one port, over real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Proto, Setup};
use http::{Method, StatusCode};
use serde_json::json;
use superhero_http::tls::{DevCertificate, KeyAlgorithm};
use superhero_http::{App, HttpServer, ServerConfig, TlsFiles};
use tokio_util::sync::CancellationToken;

fn routes() -> serde_json::Value {
    json!({
        "hello": {"condition": "/hello", "method": "GET", "dispatcher": "hello"},
        "echo": {"condition": "/echo/{id}", "method": ["GET", "POST"], "dispatcher": "echo"}
    })
}

#[tokio::test]
async fn http1_and_h2c_are_served_on_the_same_clear_text_port() {
    let server = Setup::new(routes()).start().await;
    for (proto, version) in [(Proto::Http1, "HTTP/1.1"), (Proto::H2c, "HTTP/2.0")] {
        let mut client = common::connect(&server, proto).await;
        let reply = client.get("/echo/42").await;
        assert_eq!(reply.status, StatusCode::OK, "{proto:?}");
        let body = reply.json();
        assert_eq!(body["params"], json!({"id": "42"}));
        assert_eq!(body["version"], json!(version));
        // Several requests on one connection (keep-alive / multiplexing).
        let again = client.get("/hello").await;
        assert_eq!(again.json(), json!({"hello": "world"}));
    }
    server.stop().await;
}

#[tokio::test]
async fn tls_negotiates_h2_and_http1_by_alpn() {
    let server = Setup::new(routes()).tls().start().await;
    for (proto, alpn, version) in [
        (Proto::TlsH2, &b"h2"[..], "HTTP/2.0"),
        (Proto::TlsHttp1, &b"http/1.1"[..], "HTTP/1.1"),
    ] {
        let mut client = common::connect(&server, proto).await;
        assert_eq!(
            client.alpn.as_deref(),
            Some(alpn),
            "{proto:?} negotiated by ALPN"
        );
        let reply = client.get("/echo/7").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["version"], json!(version));
    }
    server.stop().await;
}

#[tokio::test]
async fn h2_streams_are_multiplexed_on_one_connection() {
    let server = Setup::new(json!({
        "sleep": {"condition": "/sleep", "dispatcher": "sleep"},
        "hello": {"condition": "/hello", "dispatcher": "hello"}
    }))
    .start()
    .await;
    let client = common::connect(&server, Proto::H2c).await;
    let slow = client.send_h2(client.build(Method::GET, "/sleep?ms=300", &[], ""));
    let fast = client.send_h2(client.build(Method::GET, "/hello", &[], ""));
    // Both streams share the connection; the fast one does not wait for the slow one.
    let slow = tokio::spawn(slow);
    let fast = superhero_testkit::http::read(fast.await.expect("fast response")).await;
    assert_eq!(fast.status, StatusCode::OK);
    assert!(
        !slow.is_finished(),
        "the slow stream is still open when the fast one answered"
    );
    let slow = slow.await.unwrap().expect("slow response");
    assert_eq!(
        superhero_testkit::http::read(slow).await.json(),
        json!("slept")
    );
    server.stop().await;
}

#[tokio::test]
async fn tls_certificate_and_key_are_read_from_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let dev = DevCertificate::generate(&["localhost"]).unwrap();
    let files = dev.write_pem(dir.path()).unwrap();
    let config = ServerConfig {
        tls: Some(files),
        ..common::config()
    };
    let shutdown = CancellationToken::new();
    let app = Setup::new(routes()).app(&shutdown);
    let server = HttpServer::bind(config).await.unwrap();
    assert!(server.is_tls());
    let addr = server.local_addr();
    let handle = server.spawn(app, shutdown.clone());
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = superhero_testkit::http::tls_connect(tcp, dev.client_config(&[b"h2"]).unwrap()).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn unreadable_tls_files_fail_with_a_tls_error() {
    let config = ServerConfig {
        tls: Some(TlsFiles {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        }),
        ..common::config()
    };
    let error = HttpServer::bind(config)
        .await
        .expect_err("missing files are refused");
    assert_eq!(error.code(), "E_HTTP_TLS");
}

#[tokio::test]
async fn binding_a_used_address_fails_with_the_os_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = ServerConfig {
        listen: taken.local_addr().unwrap(),
        ..common::config()
    };
    let error = HttpServer::bind(config).await.expect_err("address in use");
    assert_eq!(error.code(), "E_HTTP_BIND");
    assert!(
        error
            .to_string()
            .contains(&taken.local_addr().unwrap().to_string())
    );
}

#[tokio::test]
async fn an_already_bound_std_listener_can_be_served() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::from_std(listener, common::config()).unwrap();
    assert_eq!(server.local_addr(), addr);
    let shutdown = CancellationToken::new();
    let app: App = Setup::new(routes()).app(&shutdown);
    let handle = server.spawn(app, shutdown);
    let test_server = common::TestServer::attach(addr);
    let reply = common::get(&test_server, Proto::Http1, "/hello").await;
    assert_eq!(reply.status, StatusCode::OK);
    handle.shutdown().await.unwrap();
}

/// Ported from the original's HTTPS matrix (TLS 1.2 and 1.3 × key types): HTTP/1.1 with
/// one request and HTTP/2 with two requests on one session, all dispatched.
#[tokio::test]
async fn https_works_for_tls12_and_tls13_with_each_key_type() {
    for algorithm in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Ed25519,
    ] {
        let dev = DevCertificate::generate_with(&["localhost"], algorithm).unwrap();
        let shutdown = CancellationToken::new();
        let app = Setup::new(routes()).app(&shutdown);
        let server = HttpServer::bind(common::config())
            .await
            .unwrap()
            .with_tls(dev.server_config().unwrap());
        let addr = server.local_addr();
        let handle = server.spawn(app, shutdown);
        for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
            for alpn in [&b"http/1.1"[..], &b"h2"[..]] {
                let config = dev.client_config_with(&[alpn], &[version]).unwrap();
                let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
                let tls = superhero_testkit::http::tls_connect(tcp, config).await;
                assert_eq!(tls.get_ref().1.protocol_version(), Some(version.version));
                let io = hyper_util::rt::TokioIo::new(tls);
                let label = format!(
                    "{algorithm:?} {:?} {}",
                    version.version,
                    String::from_utf8_lossy(alpn)
                );
                if alpn == b"h2" {
                    let (mut sender, conn) = hyper::client::conn::http2::handshake(
                        hyper_util::rt::TokioExecutor::new(),
                        io,
                    )
                    .await
                    .unwrap();
                    tokio::spawn(conn);
                    for _ in 0..2 {
                        let request =
                            http::Request::get(format!("https://localhost:{}/hello", addr.port()))
                                .body(http_body_util::Full::new(bytes::Bytes::new()))
                                .unwrap();
                        let reply = superhero_testkit::http::read(
                            sender.send_request(request).await.unwrap(),
                        )
                        .await;
                        assert_eq!(reply.status, StatusCode::OK, "{label}");
                    }
                } else {
                    let (mut sender, conn) =
                        hyper::client::conn::http1::handshake(io).await.unwrap();
                    tokio::spawn(conn);
                    let request = http::Request::get("/hello")
                        .header("host", "localhost")
                        .body(http_body_util::Full::new(bytes::Bytes::new()))
                        .unwrap();
                    let reply =
                        superhero_testkit::http::read(sender.send_request(request).await.unwrap())
                            .await;
                    assert_eq!(reply.json(), json!({"hello": "world"}), "{label}");
                }
            }
        }
        handle.shutdown().await.unwrap();
    }
}
