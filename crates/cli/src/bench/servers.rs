//! The servers `superhero bench http` compares: ours (a real node running ping-pong) and
//! the bare hyper baseline. Each runs in its own process (`superhero bench serve`, hidden
//! from `--help`), on the same runtime settings (one worker thread per CPU), so the
//! benchmark can read each server's CPU time from `/proc` and the load generator's own
//! work is never counted as the server's.

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

/// Starts ping-pong on our stack on `listen` (`tls`: certificate and key files).
pub async fn start_ping_pong(
    listen: SocketAddr,
    tls: Option<(&Path, &Path)>,
) -> Result<(Server, SocketAddr), String> {
    let mut server = json!({"listen": listen.to_string()});
    if let Some((cert, key)) = tls {
        server["tls"] = json!({"cert": cert, "key": key});
    }
    let layer = json!({"http": {"server": server}, "core": {"log": {"level": "warn"}}});
    let started = tokio::spawn(async move {
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

/// Starts the baseline on `listen`: hyper-util's auto builder answering `"pong"` to
/// anything.
pub async fn start_baseline(
    listen: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<(Server, SocketAddr), String> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("{listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let token = CancellationToken::new();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(accept(listener, acceptor, token.clone()));
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

/// Which server `superhero bench serve` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Ping-pong on a superhero node.
    PingPong,
    /// The bare hyper baseline.
    Baseline,
}

/// Options of `superhero bench serve`: one server of `superhero bench http`, in its own
/// process, until SIGTERM/SIGINT.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The server to run.
    #[arg(long, value_enum)]
    pub server: Kind,
    /// Where to listen.
    #[arg(long)]
    pub listen: SocketAddr,
    /// Certificate chain (PEM) to serve HTTPS with.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// Private key (PEM) of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

/// Runs one server until SIGTERM or SIGINT.
pub async fn serve(args: ServeArgs) -> crate::error::CliResult {
    let failed = |e: String| crate::error::CliError::Bench(format!("bench serve: {e}"));
    let mut signals =
        superhero_core::shutdown::Signals::install().map_err(|e| failed(e.to_string()))?;
    let tls = args.tls_cert.as_deref().zip(args.tls_key.as_deref());
    let (server, _) = match args.server {
        Kind::PingPong => start_ping_pong(args.listen, tls).await,
        Kind::Baseline => {
            let config = tls
                .map(|(cert, key)| {
                    superhero_http::tls::server_config_from_files(
                        &superhero_http::config::TlsFiles {
                            cert: cert.to_owned(),
                            key: key.to_owned(),
                        },
                    )
                })
                .transpose()
                .map_err(|e| failed(e.to_string()))?;
            start_baseline(args.listen, config).await
        }
    }
    .map_err(failed)?;
    signals.recv().await;
    server.stop().await;
    Ok(())
}
