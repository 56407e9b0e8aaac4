//! Shared test scaffolding: a real server on loopback (plain or TLS), real hyper clients
//! for HTTP/1.1, h2c and TLS with ALPN, raw TCP helpers, and (in `dispatchers`) the test
//! dispatchers and middleware.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod dispatchers;

pub use dispatchers::*;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
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

/// The protocols the tests speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Http1,
    H2c,
    TlsHttp1,
    TlsH2,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// One client connection.
pub struct Client {
    sender: Sender,
    base: String,
    pub connection: tokio::task::JoinHandle<Result<(), hyper::Error>>,
    pub alpn: Option<Vec<u8>>,
}

/// A fully read response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the error body shape and returns it.
    pub fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "status; body: {:?}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        let keys: Vec<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["status", "error", "code", "details"],
            "error body fields in order"
        );
        assert_eq!(body["status"], json!(status));
        assert_eq!(body["code"], json!(code));
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
        for detail in body["details"].as_array().expect("details is a list") {
            for key in ["path", "code", "message"] {
                assert!(detail[key].is_string(), "detail has {key}: {detail}");
            }
        }
        body
    }
}

impl Client {
    pub async fn connect(server: &TestServer, proto: Proto) -> Self {
        let tcp = TcpStream::connect(server.addr).await.expect("connects");
        tcp.set_nodelay(true).expect("nodelay");
        let scheme = if matches!(proto, Proto::TlsHttp1 | Proto::TlsH2) {
            "https"
        } else {
            "http"
        };
        let base = format!("{scheme}://localhost:{}", server.addr.port());
        match proto {
            Proto::Http1 => Self::h1(TokioIo::new(tcp), base, None).await,
            Proto::H2c => Self::h2(TokioIo::new(tcp), base, None).await,
            Proto::TlsHttp1 | Proto::TlsH2 => {
                let alpn: &[&[u8]] = if proto == Proto::TlsH2 {
                    &[b"h2"]
                } else {
                    &[b"http/1.1"]
                };
                let cert = server.cert.as_ref().expect("a TLS server");
                let config = cert.client_config(alpn).expect("client config");
                let tls = tls_connect(tcp, config).await;
                let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                if proto == Proto::TlsH2 {
                    Self::h2(TokioIo::new(tls), base, negotiated).await
                } else {
                    Self::h1(TokioIo::new(tls), base, negotiated).await
                }
            }
        }
    }

    async fn h1<I>(io: I, base: String, alpn: Option<Vec<u8>>) -> Self
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .expect("h1 handshake");
        let connection = tokio::spawn(connection);
        Self {
            sender: Sender::H1(sender),
            base,
            connection,
            alpn,
        }
    }

    async fn h2<I>(io: I, base: String, alpn: Option<Vec<u8>>) -> Self
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .expect("h2 handshake");
        let connection = tokio::spawn(connection);
        Self {
            sender: Sender::H2(sender),
            base,
            connection,
            alpn,
        }
    }

    /// Sends a request and returns the response head with its streaming body.
    pub async fn send(
        &mut self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<Incoming>, hyper::Error> {
        match &mut self.sender {
            Sender::H1(sender) => {
                sender.ready().await?;
                sender.send_request(request).await
            }
            Sender::H2(sender) => {
                sender.ready().await?;
                sender.send_request(request).await
            }
        }
    }

    /// Sends on a clone of the HTTP/2 sender, so several streams can be open at once.
    pub fn send_h2(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> impl Future<Output = Result<http::Response<Incoming>, hyper::Error>> + use<> {
        let Sender::H2(sender) = &self.sender else {
            panic!("not an HTTP/2 client")
        };
        let mut sender = sender.clone();
        async move {
            sender.ready().await?;
            sender.send_request(request).await
        }
    }

    /// Builds a request for `path` on this connection.
    pub fn build(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> http::Request<Full<Bytes>> {
        let uri = match self.sender {
            Sender::H1(_) => path.to_owned(),
            Sender::H2(_) => format!("{}{path}", self.base),
        };
        let mut builder = http::Request::builder().method(method).uri(uri);
        if matches!(self.sender, Sender::H1(_)) {
            builder = builder.header("host", "localhost");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(Full::new(body.into()))
            .expect("request builds")
    }

    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let request = self.build(method, path, headers, body);
        let response = self.send(request).await.expect("response");
        read(response).await
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.request(Method::GET, path, &[], Bytes::new()).await
    }

    pub async fn post_json(&mut self, path: &str, body: &Value) -> Reply {
        let headers = [("content-type", "application/json")];
        self.request(Method::POST, path, &headers, body.to_string())
            .await
    }
}

pub async fn tls_connect(
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("server name");
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("TLS handshake")
}

/// Reads a whole response.
pub async fn read(response: http::Response<Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// One GET on a fresh connection.
pub async fn get(server: &TestServer, proto: Proto, path: &str) -> Reply {
    Client::connect(server, proto).await.get(path).await
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
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
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
