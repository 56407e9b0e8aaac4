//! Scaffolding for the ping-pong end-to-end tests: a real node (core + HTTP service +
//! the app) on a loopback port, and a small hyper client for HTTP/1.1, h2c and TLS.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Version;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use superhero_core::config::{Config, ConfigBuilder};
use superhero_core::{Core, Registry, Running};
use superhero_http::service::HttpService;
use tokio::net::TcpStream;

/// A started node serving ping-pong.
pub struct Node {
    pub running: Running,
    pub addr: SocketAddr,
}

/// Starts ping-pong on an ephemeral loopback port, plus `extra` config layered on top.
pub async fn start(extra: Value) -> Node {
    start_with(|builder| builder.add_value("extra", extra)).await
}

/// Starts ping-pong with the config builder adjusted by `adjust`.
pub async fn start_with(adjust: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Node {
    let mut registry = Registry::new();
    superhero_http::service::register(&mut registry);
    ping_pong::register(&mut registry);
    let builder = ping_pong::configure(Config::builder()).add_value(
        "test",
        json!({"http": {"server": {"listen": "127.0.0.1:0"}}}),
    );
    let config = adjust(builder).env_vars([]).build().expect("config");
    let running = Core::new(config, registry)
        .start()
        .await
        .expect("node starts");
    let addr = running
        .locator()
        .locate::<HttpService>("http")
        .expect("http service")
        .local_addr()
        .expect("bound");
    Node { running, addr }
}

/// How the client talks to the server.
#[derive(Clone)]
pub enum Protocol {
    /// HTTP/1.1 in clear text.
    Http1,
    /// HTTP/2 with prior knowledge in clear text.
    H2c,
    /// TLS, offering ALPN h2 and http/1.1.
    Tls(Arc<rustls::ClientConfig>),
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub version: Version,
    pub body: Value,
}

/// `GET path` over a fresh connection.
pub async fn get(addr: SocketAddr, path: &str, protocol: &Protocol) -> Answer {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let request = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = match protocol {
        Protocol::Http1 => http1(TokioIo::new(tcp), request).await,
        Protocol::H2c => http2(TokioIo::new(tcp), request).await,
        Protocol::Tls(config) => {
            let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .expect("TLS handshake");
            if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                http2(TokioIo::new(tls), request).await
            } else {
                http1(TokioIo::new(tls), request).await
            }
        }
    };
    let status = response.status().as_u16();
    let version = response.version();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        version,
        body,
    }
}

async fn http1<I>(
    io: I,
    request: hyper::Request<Empty<Bytes>>,
) -> hyper::Response<hyper::body::Incoming>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("h1 handshake");
    tokio::spawn(connection);
    sender.send_request(request).await.expect("h1 response")
}

async fn http2<I>(
    io: I,
    request: hyper::Request<Empty<Bytes>>,
) -> hyper::Response<hyper::body::Incoming>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .expect("h2 handshake");
    tokio::spawn(connection);
    sender.send_request(request).await.expect("h2 response")
}

/// Writes a config file `name` with `text` into `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}
