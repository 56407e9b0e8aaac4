//! The servers a benchmark compares: ours (a real node running ping-pong) and the
//! bare hyper baseline, each on its own runtime so every server gets the same
//! runtime settings.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::json;
use superhero_core::config::Config;
use superhero_core::{CancellationToken, Core, Registry, Running};
use superhero_http::service::HttpService;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// A server to measure, with how to stop it.
pub enum Server {
    /// A superhero node.
    Node(Running),
    /// The baseline's accept loop.
    Baseline(CancellationToken),
}

impl Server {
    /// Stops the server.
    pub async fn stop(self) {
        match self {
            Server::Node(running) => {
                let _ = running.shutdown().await;
            }
            Server::Baseline(token) => token.cancel(),
        }
    }
}

/// Starts ping-pong on our stack (`tls`: certificate and key files) on `runtime`.
pub async fn start_ping_pong(
    runtime: &Runtime,
    tls: Option<(&Path, &Path)>,
) -> Result<(Server, SocketAddr), String> {
    let mut server = json!({"listen": "127.0.0.1:0"});
    if let Some((cert, key)) = tls {
        server["tls"] = json!({"cert": cert, "key": key});
    }
    let layer = json!({"http": {"server": server}, "core": {"log": {"level": "warn"}}});
    let started = runtime.spawn(async move {
        let mut registry = Registry::new();
        superhero_http::service::register(&mut registry);
        (ping_pong::APP.register)(&mut registry);
        let config = ping_pong::APP
            .configure(Config::builder())
            .add_value("bench", layer)
            .env_vars([])
            .build()?;
        let running = Core::new(config, registry).start().await?;
        let addr = running
            .locator()
            .locate::<HttpService>("http")?
            .local_addr();
        Ok::<_, superhero_core::Error>((running, addr))
    });
    let (running, addr) = started
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| superhero_core::report(&e))?;
    let addr = addr.ok_or("the HTTP service did not bind")?;
    Ok((Server::Node(running), addr))
}

/// Starts the baseline: hyper-util's auto builder answering `"pong"` to anything.
pub async fn start_baseline(
    runtime: &Runtime,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<(Server, SocketAddr), String> {
    let listener = runtime
        .spawn(async { TcpListener::bind("127.0.0.1:0").await })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let token = CancellationToken::new();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    runtime.spawn(accept(listener, acceptor, token.clone()));
    Ok((Server::Baseline(token), addr))
}

async fn accept(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    token: CancellationToken,
) {
    loop {
        let (stream, _) = tokio::select! {
            () = token.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let tls = tls.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let service = service_fn(|_request| async {
                hyper::Response::builder()
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from_static(b"\"pong\"")))
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let served = async {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            };
            tokio::select! {
                () = token.cancelled() => {}
                () = served => {}
            }
        });
    }
}
