//! Shared scaffolding of the HTTP server's tests: a real server on loopback (plain or
//! TLS), connections to it through the kit's client (`superhero_testkit::http`), raw
//! TCP helpers, a raw HTTP/2 client (`h2`), and (in `dispatchers`) the test dispatchers
//! and middleware.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod dispatchers;
pub mod h2;

pub use dispatchers::*;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{Value, json};
use superhero_http::tls::DevCertificate;
use superhero_http::{
    App, HttpServer, OpenApi, Registry, Router, RoutesConfig, ServerConfig, ServerHandle,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// A server configuration for tests: loopback, any port, short timeouts.
pub fn config() -> ServerConfig {
    let mut config = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        shutdown_deadline_ms: 3_000,
        ..ServerConfig::default()
    };
    config.limits.header_read_timeout_ms = 2_000;
    config.limits.body_read_timeout_ms = 2_000;
    config.limits.max_body_bytes = 64 * 1024;
    config
}

/// A running test server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub cert: Option<Arc<DevCertificate>>,
    pub shutdown: CancellationToken,
    handle: Option<ServerHandle>,
}

impl TestServer {
    /// A server started elsewhere, reachable at `addr` (clear text).
    pub fn attach(addr: SocketAddr) -> Self {
        Self {
            addr,
            cert: None,
            shutdown: CancellationToken::new(),
            handle: None,
        }
    }

    /// Shuts down and waits until drained.
    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await.expect("server stops cleanly");
        }
    }

    /// Takes the handle (to shut down from a test while requests are running).
    pub fn take_handle(&mut self) -> ServerHandle {
        self.handle.take().expect("handle present")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// How a test server is built.
pub struct Setup {
    pub routes: Value,
    pub openapi: Vec<Value>,
    pub registry: Registry,
    pub config: ServerConfig,
    pub tls: bool,
}

impl Setup {
    pub fn new(routes: Value) -> Self {
        Self {
            routes,
            openapi: Vec::new(),
            registry: registry(),
            config: config(),
            tls: false,
        }
    }

    pub fn openapi(mut self, document: Value) -> Self {
        self.openapi.push(document);
        self
    }

    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    pub fn config(mut self, change: impl FnOnce(&mut ServerConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// Builds the app for these routes and documents.
    pub fn app(&self, shutdown: &CancellationToken) -> App {
        router_app(&self.routes, &self.openapi, self.registry.clone(), shutdown)
            .with_limits(&self.config.limits)
    }

    pub async fn start(self) -> TestServer {
        let shutdown = CancellationToken::new();
        let app = self.app(&shutdown);
        serve(app, self.config, self.tls, shutdown).await
    }
}

/// An app over JSON routes, OpenAPI documents and a registry.
pub fn router_app(
    routes: &Value,
    openapi: &[Value],
    registry: Registry,
    shutdown: &CancellationToken,
) -> App {
    let routes: RoutesConfig = serde_json::from_value(routes.clone()).expect("routes deserialize");
    let mut builder = Router::builder(Arc::new(registry))
        .routes(&routes)
        .expect("routes compile");
    for document in openapi {
        builder = builder
            .openapi(OpenApi::from_value(document.clone()).expect("document loads"))
            .expect("documents merge");
    }
    App::new(builder.build().expect("router builds"), shutdown.clone())
}

/// Serves any tower service (an app, possibly layered) on loopback.
pub async fn serve<S, B>(
    service: S,
    config: ServerConfig,
    tls: bool,
    shutdown: CancellationToken,
) -> TestServer
where
    S: tower::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<superhero_http::BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<superhero_http::BoxError>,
{
    let mut server = HttpServer::bind(config).await.expect("binds");
    let mut cert = None;
    if tls {
        let dev = DevCertificate::generate(&["localhost", "127.0.0.1"]).expect("certificate");
        server = server.with_tls(dev.server_config().expect("server config"));
        cert = Some(Arc::new(dev));
    }
    let addr = server.local_addr();
    let handle = server.spawn(service, shutdown.clone());
    TestServer {
        addr,
        cert,
        shutdown,
        handle: Some(handle),
    }
}

// ---------------------------------------------------------------- clients

pub use superhero_testkit::http::{Client, Reply};

/// The protocols the tests speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Http1,
    H2c,
    TlsHttp1,
    TlsH2,
}

/// One client connection to a test server (TLS ones trust the server's certificate and
/// offer only the named ALPN protocol).
pub async fn connect(server: &TestServer, proto: Proto) -> Client {
    let kit = match proto {
        Proto::Http1 => superhero_testkit::http::Proto::Http1,
        Proto::H2c => superhero_testkit::http::Proto::H2c,
        Proto::TlsHttp1 | Proto::TlsH2 => {
            let alpn: &[&[u8]] = if proto == Proto::TlsH2 {
                &[b"h2"]
            } else {
                &[b"http/1.1"]
            };
            let cert = server.cert.as_ref().expect("a TLS server");
            superhero_testkit::http::Proto::Tls(cert.client_config(alpn).expect("client config"))
        }
    };
    Client::connect(server.addr, &kit).await
}

/// One GET on a fresh connection.
pub async fn get(server: &TestServer, proto: Proto, path: &str) -> Reply {
    connect(server, proto).await.get(path).await
}

/// Asserts the server still answers a normal request.
pub async fn assert_still_serving(server: &TestServer) {
    let reply = get(server, Proto::Http1, "/hello").await;
    assert_eq!(reply.status, StatusCode::OK, "the server keeps serving");
    assert_eq!(reply.json(), json!({"hello": "world"}));
}

/// Calls an app in memory (no sockets), as a tower service.
pub async fn call(
    app: &App,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    use tower::ServiceExt as _;
    let mut request = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request builds");
    let response = app.clone().oneshot(request).await.expect("infallible");
    superhero_testkit::http::read(response).await
}

// ---------------------------------------------------------------- raw TCP

/// Writes `bytes` on a fresh connection and reads until the server closes it (or `wait`).
pub async fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(bytes).await.expect("writes");
    read_until_closed(&mut stream, wait).await
}

/// Reads until EOF (returns `true`) or until `wait` passes (returns `false`).
pub async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0) | Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The status code of the first response line in raw bytes.
pub fn raw_status(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().next()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}
