//! `superhero bench auth`: the cost of signed sessions, measured with `wrk` against a
//! demo node in its own process (embedded SQLite, activity recorded).
//!
//! * **Signed vs unsigned**: the same dispatcher (ping-pong's) behind `GET /ping`
//!   (unsigned) and `GET /signed/ping` (the signed-session middleware: signature, session
//!   and digest checks, a nonce claimed in the store, a `user-activity` event), 64
//!   connections. Signed requests are signed before the run, each with its own nonce,
//!   and `wrk` replays them from a Lua script, so the load generator does no
//!   cryptography. Every round reports requests/s, p50, p99, refused responses and the
//!   server's CPU time per request (from `/proc/<pid>/stat`).
//! * **Sign-ins against other traffic**: `GET /ping` on a few connections, idle and
//!   while 100 concurrent clients sign in back to back (Argon2id at OWASP cost): its
//!   p99 both ways, and the sign-ins per second.
//!
//! Rounds are repeated; the summary gives medians with their range.

use std::process::Command;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use superhero_auth::signature::{Signer, SigningKey};

use super::load::{self, Plan, Target};
use super::wrk::{Run, Server, WRK_THREADS, millis, presign, summary, wrk};
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench auth`.
#[derive(Debug, Args)]
pub struct AuthBenchArgs {
    /// Concurrent connections of the signed/unsigned comparison.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Rounds (each: unsigned, signed, quiet, quiet with sign-ins).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Concurrent sign-in clients during the interference run.
    #[arg(long, default_value_t = 100)]
    pub logins: usize,
    /// Connections of the quiet `GET /ping` whose p99 is compared (few: below saturation).
    #[arg(long, default_value_t = 2)]
    pub quiet_connections: usize,
}

/// The server's extra route: the same dispatcher behind the signed-session middleware.
const SIGNED_ROUTE: &str = r#"
[http.routes.signed-ping]
condition = "/signed/ping"
method = "GET"
middleware = ["auth/signed-session"]
dispatcher = "ping-pong/ping/respond"

[core.log]
level = "warn"
"#;

pub async fn execute(_global: &GlobalArgs, args: AuthBenchArgs) -> CliResult {
    let bench = |e: String| CliError::Bench(e);
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err(bench(
            "wrk is not installed (Debian: apt-get install -y wrk)".into(),
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| bench(e.to_string()))?;
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, SIGNED_ROUTE).map_err(|e| bench(e.to_string()))?;
    let mut server = Server::start(dir.path(), &config, Some(&dir.path().join("data")))?;
    let addr = server.addr;
    let session = super::wrk::sign_up(addr, "bench", PASSWORD)
        .await
        .map_err(bench)?;
    let signer = Signer::new(session.0.clone(), SigningKey::hmac(&session.1));
    println!(
        "superhero bench auth: wrk -t{WRK_THREADS}, {} connections, {} s runs, {} rounds; demo node pid {} on SQLite (WAL, synchronous=NORMAL), activity recorded",
        args.connections,
        args.duration_secs,
        args.rounds,
        server.pid()
    );
    println!(
        "{:<6} {:<22} {:>10} {:>9} {:>9} {:>8} {:>12}",
        "round", "run", "req/s", "p50", "p99", "refused", "server µs/req"
    );
    let duration = Duration::from_secs(args.duration_secs);
    let (mut unsigned, mut signed, mut quiet, mut busy, mut logins) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        let plain = wrk(
            &server,
            &format!("http://{addr}/ping"),
            args.connections,
            duration,
            None,
        )?;
        print_row(round, "unsigned GET /ping", &plain);
        // Enough for signed requests at a quarter of the unsigned rate; beyond that they
        // would repeat, and every repeat shows as refused (a replay).
        let requests = (plain.rate * duration.as_secs_f64() * 0.25) as usize + 20_000;
        let script = presign(
            dir.path(),
            &signer,
            addr,
            ("GET", "/signed/ping"),
            requests,
            |_| Vec::new(),
            false,
        )?;
        let with = wrk(
            &server,
            &format!("http://{addr}/signed/ping"),
            args.connections,
            duration,
            Some(&script),
        )?;
        print_row(round, "signed GET /signed/ping", &with);
        unsigned.push(plain);
        signed.push(with);

        let idle = wrk(
            &server,
            &format!("http://{addr}/ping"),
            args.quiet_connections,
            duration,
            None,
        )?;
        print_row(round, "quiet GET /ping, idle", &idle);
        let login = Target::post_json(
            addr,
            "/sessions",
            &json!({"name": "bench", "password": PASSWORD}),
        );
        let plan = Plan {
            connections: args.logins,
            warmup: Duration::from_secs(1),
            duration: duration + Duration::from_secs(2),
        };
        let signing_in = tokio::spawn(async move { load::drive(&login, plan).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let during = wrk(
            &server,
            &format!("http://{addr}/ping"),
            args.quiet_connections,
            duration,
            None,
        )?;
        let report = signing_in
            .await
            .map_err(|e| bench(e.to_string()))?
            .map_err(bench)?;
        print_row(round, "quiet GET /ping, logins", &during);
        println!(
            "{round:<6} {:<22} {:>10.0} {:>9} {:>9} {:>8}",
            "sign-ins (POST)",
            report.rate(),
            millis(report.quantile(0.5)),
            millis(report.quantile(0.99)),
            report.errors
        );
        quiet.push(idle);
        busy.push(during);
        logins.push(report.rate());
    }
    server.stop();

    println!();
    println!("medians (min – max) over {} rounds:", args.rounds);
    let rate = |runs: &[Run]| runs.iter().map(|r| r.rate).collect::<Vec<_>>();
    let p99 = |runs: &[Run]| {
        runs.iter()
            .map(|r| r.p99.as_secs_f64() * 1e3)
            .collect::<Vec<_>>()
    };
    let cpu = |runs: &[Run]| runs.iter().map(|r| r.cpu_us).collect::<Vec<_>>();
    println!("  unsigned req/s        {}", summary(&rate(&unsigned), 0));
    println!("  signed req/s          {}", summary(&rate(&signed), 0));
    let ratios: Vec<f64> = signed
        .iter()
        .zip(&unsigned)
        .map(|(s, u)| s.rate / u.rate.max(1.0))
        .collect();
    println!("  signed / unsigned     {}", summary(&ratios, 2));
    println!("  unsigned server µs/req {}", summary(&cpu(&unsigned), 0));
    println!("  signed server µs/req  {}", summary(&cpu(&signed), 0));
    println!("  quiet p99 idle, ms    {}", summary(&p99(&quiet), 2));
    println!("  quiet p99 logins, ms  {}", summary(&p99(&busy), 2));
    let factors: Vec<f64> = busy
        .iter()
        .zip(&quiet)
        .map(|(b, q)| b.p99.as_secs_f64() / q.p99.as_secs_f64().max(1e-6))
        .collect();
    println!("  p99 logins / idle     {}", summary(&factors, 2));
    println!("  sign-ins/s            {}", summary(&logins, 0));
    let refused: u64 = signed.iter().map(|r| r.refused).sum();
    if refused > 0 {
        println!(
            "  note: {refused} signed requests were refused (replays after the pre-signed set ran out, or errors)"
        );
    }
    println!("goals: signed ≥ 10,000 req/s on SQLite; quiet p99 with 100 sign-ins ≤ 2× idle");
    Ok(())
}

/// The bench user's password.
const PASSWORD: &str = "bench password 0123";

fn print_row(round: usize, name: &str, run: &Run) {
    println!(
        "{round:<6} {name:<22} {:>10.0} {:>9} {:>9} {:>8} {:>12.0}",
        run.rate,
        millis(run.p50),
        millis(run.p99),
        run.refused,
        run.cpu_us
    );
}
