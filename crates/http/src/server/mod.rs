//! The listening server: accepts TCP connections (optionally TLS), serves HTTP/1.1 and
//! HTTP/2 on one port through hyper-util's auto builder, and shuts down gracefully.
//!
//! Shutdown is driven by a [`CancellationToken`]: when it is cancelled the server stops
//! accepting, SSE streams end (through [`App`](crate::App), which holds the same token),
//! HTTP/1.1 connections finish their in-flight request and close, HTTP/2 connections get
//! GOAWAY and finish their open streams; an HTTP/2 connection with nothing open (no
//! stream, no response still on its way) closes once the client acknowledges the
//! GOAWAY's PING, or after `goaway_grace_ms` if it does not; whatever is still open when
//! `shutdown_deadline_ms` has passed is closed. [`HttpServer::serve`] returns then.
//!
//! Outside shutdown, connections with nothing open are closed after `idle_timeout_ms`
//! (HTTP/2 with GOAWAY), an HTTP/2 header block must end within `header_read_timeout_ms`
//! and a client must take some of a response within `write_timeout_ms`; accept errors
//! that outlast one connection (out of file descriptors) back off from 50 ms to 1 s and
//! warn once per interval.
//!
//! ```no_run
//! use std::sync::Arc;
//! use superhero_http::{App, HttpServer, Registry, Router, ServerConfig};
//! use tokio_util::sync::CancellationToken;
//! # async fn run() -> Result<(), superhero_http::HttpError> {
//! let config = ServerConfig::default();
//! let router = Router::builder(Arc::new(Registry::new())).build()?;
//! let shutdown = CancellationToken::new();
//! let app = App::new(router, shutdown.clone()).with_limits(&config.limits);
//! let server = HttpServer::bind(config).await?;
//! let handle = server.spawn(app, shutdown);
//! println!("listening on {}", handle.local_addr());
//! handle.shutdown().await?; // resolves when drained
//! # Ok(()) }
//! ```

mod accept;
mod activity;
mod connection;
mod frames;
mod sniff;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use crate::config::{Limits, ServerConfig};
use crate::error::{BoxError, HttpError};
use connection::Shared;

/// A bound listener with its configuration, ready to serve.
pub struct HttpServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    config: ServerConfig,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("local_addr", &self.local_addr)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Binds `config.listen` and loads `config.tls` (if set) from its files.
    pub async fn bind(config: ServerConfig) -> Result<Self, HttpError> {
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Bind { addr, source })?;
        Self::from_listener(listener, config)
    }

    /// Uses a listener bound elsewhere (e.g. shared across worker processes with
    /// `SO_REUSEPORT`); `config.listen` is ignored. Call inside a tokio runtime.
    pub fn from_std(
        listener: std::net::TcpListener,
        config: ServerConfig,
    ) -> Result<Self, HttpError> {
        listener
            .set_nonblocking(true)
            .map_err(|source| HttpError::Listener { source })?;
        let listener =
            TcpListener::from_std(listener).map_err(|source| HttpError::Listener { source })?;
        Self::from_listener(listener, config)
    }

    fn from_listener(listener: TcpListener, config: ServerConfig) -> Result<Self, HttpError> {
        let local_addr = listener
            .local_addr()
            .map_err(|source| HttpError::Listener { source })?;
        let tls = match &config.tls {
            Some(files) => Some(crate::tls::server_config_from_files(files)?),
            None => None,
        };
        Ok(Self {
            listener,
            local_addr,
            tls,
            config,
        })
    }

    /// Serves TLS with this configuration instead of (or without) `config.tls`.
    /// ALPN `h2`, `http/1.1` is set if the configuration advertises nothing.
    #[must_use]
    pub fn with_tls(mut self, mut tls: Arc<rustls::ServerConfig>) -> Self {
        if tls.alpn_protocols.is_empty() {
            Arc::make_mut(&mut tls).alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }
        self.tls = Some(tls);
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves `service` (an [`App`](crate::App), possibly wrapped in tower layers) until
    /// `shutdown` is cancelled and the connections have drained (or the deadline passed).
    pub async fn serve<S, B>(self, service: S, shutdown: CancellationToken) -> Result<(), HttpError>
    where
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let Self {
            listener,
            local_addr,
            tls,
            config,
        } = self;
        let force = CancellationToken::new();
        let shared = Arc::new(Shared {
            builder: builder(&config.limits),
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            header_timeout: config.limits.header_read_timeout(),
            idle_timeout: config.limits.idle_timeout(),
            write_timeout: config.limits.write_timeout(),
            goaway_grace: config.limits.goaway_grace(),
            shutdown: shutdown.clone(),
            force: force.clone(),
        });
        tracing::info!(%local_addr, tls = shared.tls.is_some(), "listening");
        let tracker = TaskTracker::new();
        let mut backoff = accept::Backoff::default();
        loop {
            let accepted = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _peer)) => {
                    if let Some(failures) = backoff.succeeded() {
                        tracing::debug!(failures, "accepting again");
                    }
                    let _ = stream.set_nodelay(true);
                    tracker.spawn(connection::serve(
                        stream,
                        Arc::clone(&shared),
                        service.clone(),
                    ));
                }
                Err(error) if is_per_connection(&error) => {}
                Err(error) => {
                    // Out of file descriptors and the like: the connection stays in the
                    // backlog and an immediate retry fails the same way, so back off.
                    let retry = backoff.failed(std::time::Instant::now());
                    if let Some(failures) = retry.warn {
                        tracing::warn!(
                            %error,
                            failures,
                            retry_in_ms = retry.delay.as_millis() as u64,
                            "accept failed; backing off"
                        );
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(retry.delay) => {}
                    }
                }
            }
        }
        drop(listener);
        tracker.close();
        tracing::info!(%local_addr, connections = tracker.len(), "shutting down: draining");
        if tokio::time::timeout(config.shutdown_deadline(), tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                connections = tracker.len(),
                "drain deadline passed; closing the rest"
            );
            force.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(1), tracker.wait()).await;
        }
        tracing::info!(%local_addr, "stopped");
        Ok(())
    }

    /// Runs [`serve`](Self::serve) on a task; the handle shuts it down and waits.
    pub fn spawn<S, B>(self, service: S, shutdown: CancellationToken) -> ServerHandle
    where
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let local_addr = self.local_addr;
        let token = shutdown.clone();
        let task = tokio::spawn(self.serve(service, shutdown));
        ServerHandle {
            local_addr,
            shutdown: token,
            task,
        }
    }
}

fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

fn builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(limits.keep_alive_timeout())
        .keep_alive_timeout(limits.keep_alive_timeout());
    builder
}

/// A running server: its address, and the way to stop it.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), HttpError>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The token that shuts the server down.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Starts shutdown and resolves when the server has drained and stopped.
    pub async fn shutdown(self) -> Result<(), HttpError> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Resolves when the server has stopped (after someone cancelled its token).
    pub async fn wait(self) -> Result<(), HttpError> {
        self.task.await.map_err(|e| HttpError::ServerTask {
            reason: e.to_string(),
        })?
    }
}
