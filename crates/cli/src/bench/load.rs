//! The HTTP load generator every HTTP benchmark shares: a fixed number of
//! connections, each sending the same request back to back (one request in flight per
//! connection), a warm-up that is not measured, then a bounded measuring window; and
//! [`once`], one request for a benchmark's set-up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper::client::conn::{http1, http2};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use superhero_auth::signature::Signer;
use tokio::net::TcpStream;

/// How to talk to the target.
#[derive(Clone)]
pub enum Transport {
    /// HTTP/1.1 in clear text.
    Http1,
    /// HTTP/2 with prior knowledge in clear text.
    H2c,
    /// HTTP/1.1 over TLS.
    Https {
        /// Trusts the target's certificate; offers ALPN http/1.1.
        config: Arc<rustls::ClientConfig>,
        /// The name to verify.
        server_name: ServerName<'static>,
    },
}

/// What to load.
#[derive(Clone)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    /// The request path (and query).
    pub path: String,
    /// The protocol.
    pub transport: Transport,
    /// The method.
    pub method: Method,
    /// More header fields.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Bytes,
}

impl Target {
    /// `GET path` on `addr`, naming `host`.
    pub fn get(addr: SocketAddr, host: String, path: String, transport: Transport) -> Self {
        Target {
            addr,
            host,
            path,
            transport,
            method: Method::GET,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `method path` with `body` (JSON, when not empty), signed by `signer` (RFC 9421:
    /// `Signature-Input`, `Signature` and, with a body, `Content-Digest`), in clear text
    /// HTTP/1.1.
    pub fn signed(
        addr: SocketAddr,
        signer: &Signer,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Self, String> {
        let headers = signer
            .sign(method.as_str(), &addr.to_string(), path, &body)
            .map_err(|e| e.to_string())?;
        let mut target = Target {
            method,
            body,
            ..Target::post_json(addr, path, &serde_json::Value::Null)
        };
        let value = |text: String| HeaderValue::try_from(text).map_err(|e| e.to_string());
        target.headers.push((
            HeaderName::from_static("signature-input"),
            value(headers.signature_input)?,
        ));
        target.headers.push((
            HeaderName::from_static("signature"),
            value(headers.signature)?,
        ));
        if let Some(digest) = headers.content_digest {
            target
                .headers
                .push((HeaderName::from_static("content-digest"), value(digest)?));
        }
        Ok(target)
    }

    /// A JSON `POST path` with `body`, in clear text HTTP/1.1.
    pub fn post_json(addr: SocketAddr, path: &str, body: &serde_json::Value) -> Self {
        Target {
            method: Method::POST,
            headers: vec![(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from(body.to_string()),
            ..Target::get(addr, addr.to_string(), path.to_owned(), Transport::Http1)
        }
    }
}

/// Sends `target`'s request once on a new connection: the status and the body.
pub async fn once(target: &Target) -> Result<(u16, Bytes), String> {
    let mut sender = connect(target).await?;
    sender.send(target).await
}

/// How much load, for how long.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent connections.
    pub connections: usize,
    /// Unmeasured warm-up.
    pub warmup: Duration,
    /// Measured window.
    pub duration: Duration,
}

/// The measured window's results.
pub struct Report {
    /// Completed 200 responses in the window.
    pub requests: u64,
    /// Failed requests or non-200 responses (whole run).
    pub errors: u64,
    /// The window's length.
    pub window: Duration,
    /// Latency of the measured requests, microseconds.
    pub latency: Histogram<u64>,
}

impl Report {
    /// Requests per second in the window.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// A latency quantile.
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(q))
    }
}

/// Runs `plan` against `target`.
pub async fn drive(target: &Target, plan: Plan) -> Result<Report, String> {
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let until = measure_from + plan.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..plan.connections {
        let target = target.clone();
        tasks.spawn(async move { connection(&target, measure_from, until).await });
    }
    let mut latency = histogram()?;
    let (mut requests, mut errors) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        let local = joined.map_err(|e| format!("load task failed: {e}"))??;
        latency.add(&local.latency).map_err(|e| e.to_string())?;
        requests += local.requests;
        errors += local.errors;
    }
    Ok(Report {
        requests,
        errors,
        window: plan.duration,
        latency,
    })
}

struct Local {
    requests: u64,
    errors: u64,
    latency: Histogram<u64>,
}

fn histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    async fn send(&mut self, target: &Target) -> Result<(u16, Bytes), String> {
        let mut request = hyper::Request::builder()
            .method(target.method.clone())
            .uri(target.path.as_str())
            .header(hyper::header::HOST, target.host.as_str());
        for (name, value) in &target.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(target.body.clone()))
            .map_err(|e| e.to_string())?;
        let response = match self {
            Sender::H1(sender) => {
                sender.ready().await.map_err(|e| e.to_string())?;
                sender.send_request(request).await
            }
            Sender::H2(sender) => sender.send_request(request).await,
        }
        .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }
}

async fn connect(target: &Target) -> Result<Sender, String> {
    let tcp = TcpStream::connect(target.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", target.addr))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    match &target.transport {
        Transport::Http1 => {
            let (sender, connection) = http1::handshake(TokioIo::new(tcp))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            Ok(Sender::H1(sender))
        }
        Transport::H2c => {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            Ok(Sender::H2(sender))
        }
        Transport::Https {
            config,
            server_name,
        } => {
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(server_name.clone(), tcp)
                .await
                .map_err(|e| format!("TLS handshake: {e}"))?;
            let (sender, connection) = http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            Ok(Sender::H1(sender))
        }
    }
}

async fn connection(
    target: &Target,
    measure_from: Instant,
    until: Instant,
) -> Result<Local, String> {
    let mut local = Local {
        requests: 0,
        errors: 0,
        latency: histogram()?,
    };
    let mut sender = connect(target).await?;
    while Instant::now() < until {
        let sent = Instant::now();
        match sender.send(target).await.map(|(status, _)| status) {
            Ok(200..=299) => {
                let done = Instant::now();
                if sent >= measure_from && done <= until {
                    local.requests += 1;
                    let micros = done.duration_since(sent).as_micros().max(1) as u64;
                    local.latency.saturating_record(micros);
                }
            }
            Ok(_) => local.errors += 1,
            Err(_) => {
                local.errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                sender = connect(target).await?;
            }
        }
    }
    Ok(local)
}
