//! `superhero bench http`: ping-pong on our stack against a bare hyper server.
//!
//! In one run it starts both servers on loopback, each on its own multi-threaded
//! runtime with the same settings, and drives each in turn with the same load
//! generator ([`super::load`]) for every variant (HTTP/1.1, h2c, HTTPS). It prints
//! requests/s, p50 and p99 for each, and the ratio ours/baseline. With `--target
//! URL` it drives that URL instead, so other servers can be measured with the same
//! generator.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use rustls::pki_types::ServerName;
use superhero_core::logging::{self, LogConfig};
use superhero_http::tls::DevCertificate;

use super::load::{self, Plan, Report, Target, Transport};
use super::servers::{self, Server};
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench http`.
#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Variants to measure (repeat the flag); default: all three.
    #[arg(long = "protocol", value_enum)]
    pub protocols: Vec<Variant>,
    /// Concurrent connections, one request in flight on each.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds per server and variant.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Unmeasured warm-up seconds before each measurement.
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
    /// Worker threads of each server's runtime (default: one per CPU).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Drive this URL (http:// or https://) instead of the built-in servers.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// PEM file of the CA that signed an https `--target`.
    #[arg(long, value_name = "FILE", requires = "target")]
    pub ca: Option<PathBuf>,
}

/// A protocol variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Variant {
    /// HTTP/1.1 in clear text.
    Http1,
    /// HTTP/2 with prior knowledge in clear text.
    H2c,
    /// HTTP/1.1 over TLS.
    Https,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Http1 => "http1",
            Variant::H2c => "h2c",
            Variant::Https => "https",
        }
    }
}

pub async fn execute(global: &GlobalArgs, args: HttpBenchArgs) -> CliResult {
    logging::init(&LogConfig {
        format: global.log_format.unwrap_or_default(),
        level: "warn".into(),
    });
    let plan = Plan {
        connections: args.connections.max(1),
        warmup: Duration::from_secs(args.warmup_secs),
        duration: Duration::from_secs(args.duration_secs.max(1)),
    };
    let variants = if args.protocols.is_empty() {
        vec![Variant::Http1, Variant::H2c, Variant::Https]
    } else {
        args.protocols.clone()
    };
    println!(
        "superhero bench http: {} connections, {} s warm-up, {} s measured per run, loopback",
        plan.connections,
        plan.warmup.as_secs(),
        plan.duration.as_secs()
    );
    match &args.target {
        Some(url) => external(url, &args, &variants, plan).await,
        None => side_by_side(&args, &variants, plan).await,
    }
}

async fn side_by_side(args: &HttpBenchArgs, variants: &[Variant], plan: Plan) -> CliResult {
    let threads = args
        .server_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("bench-server")
        .enable_all()
        .build()
        .map_err(|e| bench(format!("server runtime: {e}")))?;
    println!("server runtime: {threads} worker threads (both servers)");
    header();

    let certificate = DevCertificate::generate(&["localhost"]).map_err(|e| bench(e.to_string()))?;
    let dir = tempfile::tempdir().map_err(|e| bench(e.to_string()))?;
    let files = certificate
        .write_pem(dir.path())
        .map_err(|e| bench(e.to_string()))?;
    let client_tls = certificate
        .client_config(&[b"http/1.1"])
        .map_err(|e| bench(e.to_string()))?;
    let server_tls = certificate
        .server_config()
        .map_err(|e| bench(e.to_string()))?;

    for &variant in variants {
        let tls = variant == Variant::Https;
        let ours = servers::start_ping_pong(
            &runtime,
            tls.then_some((files.cert.as_path(), files.key.as_path())),
        )
        .await
        .map_err(bench)?;
        let ours_report = measure(variant, ours, &client_tls, plan).await?;
        row(variant.name(), "ping-pong", &ours_report);

        let baseline = servers::start_baseline(&runtime, tls.then(|| server_tls.clone()))
            .await
            .map_err(bench)?;
        let baseline_report = measure(variant, baseline, &client_tls, plan).await?;
        row(variant.name(), "baseline", &baseline_report);
        println!(
            "{:<7} {:<10} {:>10.2}",
            variant.name(),
            "ratio",
            ours_report.rate() / baseline_report.rate().max(f64::MIN_POSITIVE)
        );
    }
    runtime.shutdown_background();
    Ok(())
}

async fn measure(
    variant: Variant,
    (server, addr): (Server, SocketAddr),
    client_tls: &Arc<rustls::ClientConfig>,
    plan: Plan,
) -> CliResult<Report> {
    let transport = match variant {
        Variant::Http1 => Transport::Http1,
        Variant::H2c => Transport::H2c,
        Variant::Https => Transport::Https {
            config: client_tls.clone(),
            server_name: ServerName::try_from("localhost").map_err(|e| bench(e.to_string()))?,
        },
    };
    let target = Target::get(
        addr,
        format!("localhost:{}", addr.port()),
        "/ping".into(),
        transport,
    );
    let report = load::drive(&target, plan).await;
    server.stop().await;
    report.map_err(bench)
}

async fn external(url: &str, args: &HttpBenchArgs, variants: &[Variant], plan: Plan) -> CliResult {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        bench(format!(
            "{url}: expected http://host:port/path or https://…"
        ))
    })?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    let with_port = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| bench(format!("{authority}: {e}")))?
        .next()
        .ok_or_else(|| bench(format!("{authority}: no address")))?;
    let host_name = authority.split(':').next().unwrap_or(authority).to_owned();
    let transports: Vec<(&str, Transport)> = match scheme {
        "http" => variants
            .iter()
            .filter_map(|v| match v {
                Variant::Http1 => Some(("http1", Transport::Http1)),
                Variant::H2c => Some(("h2c", Transport::H2c)),
                Variant::Https => None,
            })
            .collect(),
        "https" => vec![(
            "https",
            Transport::Https {
                config: external_tls(args.ca.as_ref())?,
                server_name: ServerName::try_from(host_name).map_err(|e| bench(e.to_string()))?,
            },
        )],
        other => return Err(bench(format!("unsupported scheme {other}"))),
    };
    header();
    for (name, transport) in transports {
        let target = Target::get(addr, authority.to_owned(), path.to_owned(), transport);
        let report = load::drive(&target, plan).await.map_err(bench)?;
        row(name, "target", &report);
    }
    Ok(())
}

fn external_tls(ca: Option<&PathBuf>) -> CliResult<Arc<rustls::ClientConfig>> {
    let ca =
        ca.ok_or_else(|| bench("an https --target needs --ca FILE (the PEM of its CA)".into()))?;
    let pem = std::fs::read(ca).map_err(|e| bench(format!("{}: {e}", ca.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        let cert: rustls::pki_types::CertificateDer<'static> =
            cert.map_err(|e| bench(e.to_string()))?;
        roots.add(cert).map_err(|e| bench(e.to_string()))?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bench(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn header() {
    println!(
        "{:<7} {:<10} {:>10} {:>10} {:>10} {:>8}",
        "variant", "server", "req/s", "p50", "p99", "errors"
    );
}

fn row(variant: &str, server: &str, report: &Report) {
    println!(
        "{:<7} {:<10} {:>10.0} {:>10} {:>10} {:>8}",
        variant,
        server,
        report.rate(),
        format_duration(report.quantile(0.5)),
        format_duration(report.quantile(0.99)),
        report.errors
    );
}

fn format_duration(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn bench(message: String) -> CliError {
    CliError::Bench(message)
}
