//! The one HTTP client of the tests: HTTP/1.1, h2c (prior knowledge) and TLS with ALPN,
//! on hyper's low-level connection API so a test controls exactly one connection.
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr) {
//! use superhero_testkit::http::{Client, Proto};
//!
//! let mut client = Client::connect(addr, &Proto::H2c).await;
//! let reply = client.get("/ping?sleep=-1").await;
//! reply.error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpStream;

/// How a client talks to the server.
#[derive(Debug, Clone)]
pub enum Proto {
    /// HTTP/1.1 in clear text.
    Http1,
    /// HTTP/2 with prior knowledge in clear text.
    H2c,
    /// TLS with this client configuration (its trust anchors and ALPN list); HTTP/2 when
    /// the server picks `h2`, HTTP/1.1 otherwise. The server name is `localhost`.
    Tls(Arc<rustls::ClientConfig>),
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// One client connection.
pub struct Client {
    sender: Sender,
    base: String,
    authority: String,
    /// The connection task; it ends when the server closes the connection.
    pub connection: tokio::task::JoinHandle<Result<(), hyper::Error>>,
    /// The protocol the TLS handshake negotiated (`None` in clear text).
    pub alpn: Option<Vec<u8>>,
}

/// A fully read response.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The protocol version it came over.
    pub version: Version,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts that this is the error answer `status` with `code` in the project's one
    /// error shape (`{"status", "error", "code", "details": [{path, code, message}]}`, in
    /// that order, as `application/json`) and returns the body.
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
            .expect("the error body is an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["status", "error", "code", "details"],
            "error body fields in order"
        );
        assert_eq!(body["status"], json!(status));
        assert_eq!(body["code"], json!(code), "code; body: {body}");
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
    /// Opens a connection to `addr` speaking `proto`; panics when it cannot.
    pub async fn connect(addr: SocketAddr, proto: &Proto) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connects");
        tcp.set_nodelay(true).expect("nodelay");
        let authority = format!("localhost:{}", addr.port());
        match proto {
            Proto::Http1 => Self::h1(TokioIo::new(tcp), "http", authority, None).await,
            Proto::H2c => Self::h2(TokioIo::new(tcp), "http", authority, None).await,
            Proto::Tls(config) => {
                let tls = tls_connect(tcp, config.clone()).await;
                let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                if negotiated.as_deref() == Some(b"h2") {
                    Self::h2(TokioIo::new(tls), "https", authority, negotiated).await
                } else {
                    Self::h1(TokioIo::new(tls), "https", authority, negotiated).await
                }
            }
        }
    }

    async fn h1<I>(io: I, scheme: &str, authority: String, alpn: Option<Vec<u8>>) -> Client
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .expect("h1 handshake");
        Client {
            sender: Sender::H1(sender),
            base: format!("{scheme}://{authority}"),
            authority,
            connection: tokio::spawn(connection),
            alpn,
        }
    }

    async fn h2<I>(io: I, scheme: &str, authority: String, alpn: Option<Vec<u8>>) -> Client
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .expect("h2 handshake");
        Client {
            sender: Sender::H2(sender),
            base: format!("{scheme}://{authority}"),
            authority,
            connection: tokio::spawn(connection),
            alpn,
        }
    }

    /// The protocol version this connection speaks.
    pub fn version(&self) -> Version {
        match self.sender {
            Sender::H1(_) => Version::HTTP_11,
            Sender::H2(_) => Version::HTTP_2,
        }
    }

    /// The `host:port` requests name (`Host`, or `:authority` over HTTP/2).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Names `authority` in every request instead of this connection's own address, as
    /// a client behind a load balancer in front of several processes would.
    #[must_use]
    pub fn with_authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = authority.into();
        let scheme = self.base.split("://").next().unwrap_or("http").to_owned();
        self.base = format!("{scheme}://{}", self.authority);
        self
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

    /// Sends on a clone of the HTTP/2 sender, so several streams can be open at once;
    /// panics on an HTTP/1.1 connection.
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

    /// Builds a request for `path` (with its query) on this connection: an origin-form
    /// target and `Host` over HTTP/1.1, an absolute URI over HTTP/2.
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
            builder = builder.header("host", &self.authority);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(Full::new(body.into()))
            .expect("request builds")
    }

    /// Sends a request and reads the whole response; panics when the exchange fails.
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

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Reply {
        self.request(Method::GET, path, &[], Bytes::new()).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&mut self, path: &str, body: &Value) -> Reply {
        let headers = [("content-type", "application/json")];
        self.request(Method::POST, path, &headers, body.to_string())
            .await
    }
}

/// A TLS handshake with server name `localhost`; panics when it fails.
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

/// Reads a whole response (from a connection, or from a tower service called in memory).
pub async fn read<B>(response: http::Response<B>) -> Reply
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body,
    }
}

/// One `GET path` over HTTP/1.1 on a fresh connection.
pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    Client::connect(addr, &Proto::Http1).await.get(path).await
}

/// [`get`] for synchronous tests (those that drive a real binary, say): runs on a
/// runtime of its own.
pub fn get_blocking(addr: SocketAddr, path: &str) -> Reply {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a client runtime")
        .block_on(get(addr, path))
}
