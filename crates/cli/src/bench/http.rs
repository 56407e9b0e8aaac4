//! `superhero bench http`: ping-pong on our stack against a bare hyper server.
//!
//! Each server runs in its own process (`superhero bench serve`, same runtime settings:
//! one worker thread per CPU), started once per variant and measured in alternating
//! order for several rounds. The load comes from `wrk` (HTTP/1.1 and HTTPS) and `h2load`
//! (h2c, several streams per connection) when they are installed, else from the built-in
//! generator ([`super::load`]); either way the server's CPU time per request is read from
//! `/proc/<pid>/stat`, so the figure does not depend on the load generator's share of the
//! two cores. It prints every round, then medians with their range and the ratios
//! ours / baseline. With `--target URL` it drives that URL instead with the built-in
//! generator, so other servers can be measured with it.

use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use rustls::pki_types::ServerName;
use superhero_core::logging::{self, LogConfig};
use superhero_http::tls::DevCertificate;

use super::h2load;
use super::load::{self, Plan, Report, Target, Transport};
use super::servers::Kind;
use super::wrk::{self, Run, Server, free_addr, summary};
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench http`.
#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Variants to measure (repeat the flag); default: all three.
    #[arg(long = "protocol", value_enum)]
    pub protocols: Vec<Variant>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Requests in flight on each h2c connection (h2load only; the built-in generator
    /// and wrk keep one).
    #[arg(long, default_value_t = 10)]
    pub streams: usize,
    /// Measured seconds per server, variant and round.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Unmeasured warm-up seconds before each measurement.
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
    /// Rounds; each measures both servers, in alternating order.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Use the built-in load generator even when wrk and h2load are installed.
    #[arg(long)]
    pub builtin: bool,
    /// Drive this URL (http:// or https://) with the built-in generator instead of the
    /// built-in servers.
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

/// What drives one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    Wrk,
    H2load,
    Builtin,
}

impl Generator {
    fn name(self) -> &'static str {
        match self {
            Generator::Wrk => "wrk",
            Generator::H2load => "h2load",
            Generator::Builtin => "built-in",
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

/// One server's measurements of one variant, a [`Run`] per round.
struct Series {
    server: Server,
    runs: Vec<Run>,
}

async fn side_by_side(args: &HttpBenchArgs, variants: &[Variant], plan: Plan) -> CliResult {
    let (wrk_installed, h2load_installed) = (
        !args.builtin && wrk::installed(),
        !args.builtin && h2load::installed(),
    );
    let dir = tempfile::tempdir().map_err(|e| bench(e.to_string()))?;
    let certificate = DevCertificate::generate(&["localhost"]).map_err(|e| bench(e.to_string()))?;
    let files = certificate
        .write_pem(dir.path())
        .map_err(|e| bench(e.to_string()))?;
    let client_tls = certificate
        .client_config(&[b"http/1.1"])
        .map_err(|e| bench(e.to_string()))?;
    println!(
        "each server in its own process (one runtime worker per CPU); {} rounds, alternating order; CPU per request from /proc",
        args.rounds.max(1)
    );
    let mut summaries = Vec::new();
    for &variant in variants {
        let generator = match variant {
            Variant::H2c if h2load_installed => Generator::H2load,
            Variant::Http1 | Variant::Https if wrk_installed => Generator::Wrk,
            _ => Generator::Builtin,
        };
        let in_flight = if generator == Generator::H2load {
            format!(
                "{} connections × {} streams",
                plan.connections,
                args.streams.max(1)
            )
        } else {
            format!("{} connections × 1 request", plan.connections)
        };
        println!("\n{} — {}, {in_flight}", variant.name(), generator.name());
        header();
        let tls = (variant == Variant::Https).then_some((&files.cert, &files.key));
        let mut ours = Series {
            server: serve(Kind::PingPong, tls)?,
            runs: Vec::new(),
        };
        let mut baseline = Series {
            server: serve(Kind::Baseline, tls)?,
            runs: Vec::new(),
        };
        for round in 0..args.rounds.max(1) {
            let order = if round % 2 == 0 {
                [(&mut ours, "ping-pong"), (&mut baseline, "baseline")]
            } else {
                [(&mut baseline, "baseline"), (&mut ours, "ping-pong")]
            };
            for (series, name) in order {
                let run = measure(
                    variant,
                    generator,
                    &series.server,
                    &client_tls,
                    plan,
                    args.streams,
                )
                .await?;
                row(&format!("{} · {}", round + 1, name), &run, generator);
                series.runs.push(run);
            }
        }
        ours.server.stop();
        baseline.server.stop();
        summaries.push((variant, generator, ours.runs, baseline.runs));
    }
    println!("\nmedians (min – max) of the rounds");
    println!(
        "{:<7} {:<9} {:<10} {:>30} {:>24} {:>24} {:>24}",
        "variant", "load", "server", "req/s", "p50 (h2load: mean)", "p99", "CPU µs / request"
    );
    for (variant, generator, ours, baseline) in &summaries {
        for (name, runs) in [("ping-pong", ours), ("baseline", baseline)] {
            let of = |f: fn(&Run) -> f64| runs.iter().map(f).collect::<Vec<_>>();
            println!(
                "{:<7} {:<9} {:<10} {:>30} {:>24} {:>24} {:>24}",
                variant.name(),
                generator.name(),
                name,
                summary(&of(|r| r.rate), 0),
                summary(&of(|r| r.p50.as_secs_f64() * 1e3), 2),
                if *generator == Generator::H2load {
                    "-".into()
                } else {
                    summary(&of(|r| r.p99.as_secs_f64() * 1e3), 2)
                },
                summary(&of(|r| r.cpu_us), 2),
            );
        }
        let ratio = |f: fn(&Run) -> f64| {
            ours.iter()
                .zip(baseline)
                .map(|(o, b)| f(o) / f(b).max(f64::MIN_POSITIVE))
                .collect::<Vec<_>>()
        };
        println!(
            "{:<7} {:<9} {:<10} {:>30} {:>24} {:>24} {:>24}",
            variant.name(),
            generator.name(),
            "ratio",
            summary(&ratio(|r| r.rate), 2),
            "",
            "",
            summary(&ratio(|r| r.cpu_us), 2),
        );
    }
    Ok(())
}

/// Starts `superhero bench serve --server kind` in its own process.
fn serve(kind: Kind, tls: Option<(&PathBuf, &PathBuf)>) -> CliResult<Server> {
    let addr = free_addr()?;
    let program = std::env::current_exe().map_err(|e| bench(e.to_string()))?;
    let mut command = Command::new(program);
    command.args(["bench", "serve", "--listen", &addr.to_string(), "--server"]);
    command.arg(match kind {
        Kind::PingPong => "ping-pong",
        Kind::Baseline => "baseline",
    });
    if let Some((cert, key)) = tls {
        command
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key);
    }
    let what = match kind {
        Kind::PingPong => "the ping-pong node",
        Kind::Baseline => "the baseline server",
    };
    Server::spawn(command, addr, what)
}

/// Warms `server` up, then measures it for `plan.duration` with `generator`.
async fn measure(
    variant: Variant,
    generator: Generator,
    server: &Server,
    client_tls: &Arc<rustls::ClientConfig>,
    plan: Plan,
    streams: usize,
) -> CliResult<Run> {
    let scheme = if variant == Variant::Https {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://localhost:{}/ping", server.addr.port());
    let streams = streams.max(1);
    let connections = plan.connections;
    let run_external = |length: Duration| -> CliResult<Run> {
        match generator {
            Generator::Wrk => wrk::wrk(server, &url, connections, length, None),
            _ => h2load::h2load(server, &url, connections, streams, length),
        }
    };
    if generator != Generator::Builtin {
        if !plan.warmup.is_zero() {
            run_external(plan.warmup)?;
        }
        return run_external(plan.duration);
    }
    let transport = match variant {
        Variant::Http1 => Transport::Http1,
        Variant::H2c => Transport::H2c,
        Variant::Https => Transport::Https {
            config: client_tls.clone(),
            server_name: ServerName::try_from("localhost").map_err(|e| bench(e.to_string()))?,
        },
    };
    let target = Target::get(
        server.addr,
        format!("localhost:{}", server.addr.port()),
        "/ping".into(),
        transport,
    );
    if !plan.warmup.is_zero() {
        let warmup = Plan {
            warmup: Duration::ZERO,
            duration: plan.warmup,
            ..plan
        };
        load::drive(&target, warmup).await.map_err(bench)?;
    }
    let cpu_before = server.cpu()?;
    let report = load::drive(
        &target,
        Plan {
            warmup: Duration::ZERO,
            ..plan
        },
    )
    .await
    .map_err(bench)?;
    let cpu = server.cpu()? - cpu_before;
    Ok(Run {
        rate: report.rate(),
        p50: report.quantile(0.5),
        p99: report.quantile(0.99),
        refused: report.errors,
        cpu_us: cpu.as_secs_f64() * 1e6 / (report.requests as f64).max(1.0),
        statuses: None,
    })
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
    println!(
        "{:<7} {:>10} {:>10} {:>10} {:>8}",
        "variant", "req/s", "p50", "p99", "errors"
    );
    for (name, transport) in transports {
        let target = Target::get(addr, authority.to_owned(), path.to_owned(), transport);
        let report = load::drive(&target, plan).await.map_err(bench)?;
        target_row(name, &report);
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
        "{:<14} {:>10} {:>10} {:>10} {:>8} {:>12}",
        "round · server", "req/s", "p50", "p99", "errors", "CPU µs/req"
    );
}

fn row(name: &str, run: &Run, generator: Generator) {
    println!(
        "{:<14} {:>10.0} {:>10} {:>10} {:>8} {:>12.2}",
        name,
        run.rate,
        format_duration(run.p50),
        if generator == Generator::H2load {
            "-".into()
        } else {
            format_duration(run.p99)
        },
        run.refused,
        run.cpu_us
    );
}

/// One report of the built-in generator against `--target`.
fn target_row(variant: &str, report: &Report) {
    println!(
        "{:<7} {:>10.0} {:>10} {:>10} {:>8}",
        variant,
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
