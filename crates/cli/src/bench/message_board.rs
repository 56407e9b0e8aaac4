//! `superhero bench message-board`: signed posts created end to end — the signed
//! request checked, `post-create-requested` published, the validating consumer deciding
//! it through the hub, `post-created` back to the waiting controller, 201 — per second,
//! with p50/p99, measured with `wrk` against a demo node in its own process.
//!
//! Each backend gets a fresh store: SQLite (the demo's, WAL, `synchronous=NORMAL`) and
//! PostgreSQL (a scratch schema on `--postgres`, the server's own durability: fsync on
//! commit). Requests are signed before each run, each with its own nonce and its own
//! title (a repeated title would be refused as a duplicate), and replayed by `wrk`, which
//! counts 201, 202 and other answers: only 201s count as posts created. The server's
//! CPU time per created post comes from `/proc`.

use std::time::Duration;

use clap::Args;
use serde_json::json;
use superhero_auth::signature::{Signer, SigningKey};
use superhero_eventflow::scratch::ScratchDatabase;

use super::wrk::{Run, Server, millis, presign, sign_up, summary, wrk};
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench message-board`.
#[derive(Debug, Args)]
pub struct MessageBoardBenchArgs {
    /// Concurrent connections (each a client posting back to back).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Runs per backend.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// The PostgreSQL server for the second backend (a scratch schema is created and
    /// dropped); `none` skips it.
    #[arg(
        long,
        env = "EVENTFLOW_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres: String,
}

/// The bench user's password.
const PASSWORD: &str = "bench password 0123";

pub async fn execute(_global: &GlobalArgs, args: MessageBoardBenchArgs) -> CliResult {
    let bench = |e: String| CliError::Bench(e);
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err(bench(
            "wrk is not installed (Debian: apt-get install -y wrk)".into(),
        ));
    }
    println!(
        "superhero bench message-board: wrk -t2, {} connections, {} s runs, {} rounds per backend; demo node in its own process",
        args.connections, args.duration_secs, args.rounds
    );
    let mut backends = vec![("SQLite (WAL, synchronous=NORMAL)", None)];
    if args.postgres != "none" {
        backends.push(("PostgreSQL (fsync on commit)", Some(args.postgres.as_str())));
    }
    let mut results = Vec::new();
    for (label, server_url) in backends {
        let runs = backend(&args, label, server_url).await?;
        results.push((label, runs));
    }

    println!();
    println!("medians (min – max) over {} rounds:", args.rounds);
    for (label, runs) in &results {
        let rate: Vec<f64> = runs.iter().map(created_rate(args.duration_secs)).collect();
        let p50: Vec<f64> = runs.iter().map(|r| r.p50.as_secs_f64() * 1e3).collect();
        let p99: Vec<f64> = runs.iter().map(|r| r.p99.as_secs_f64() * 1e3).collect();
        let cpu: Vec<f64> = runs.iter().map(|r| r.cpu_us).collect();
        println!("  {label}");
        println!("    posts created/s      {}", summary(&rate, 0));
        println!("    p50 ms               {}", summary(&p50, 2));
        println!("    p99 ms               {}", summary(&p99, 2));
        println!("    server µs/post       {}", summary(&cpu, 0));
    }
    println!("goals: ≥ 2,000 posts/s on SQLite with p99 ≤ 50 ms");
    Ok(())
}

/// Posts created per second of a run (201 answers only).
fn created_rate(duration_secs: u64) -> impl Fn(&Run) -> f64 {
    move |run| {
        let created = run.statuses.map_or(0, |(created, _, _)| created);
        created as f64 / duration_secs.max(1) as f64
    }
}

/// The rounds on one backend: a fresh store, a demo node on it, a signed-in user.
async fn backend(
    args: &MessageBoardBenchArgs,
    label: &str,
    server_url: Option<&str>,
) -> CliResult<Vec<Run>> {
    let bench = |e: String| CliError::Bench(e);
    let dir = tempfile::tempdir().map_err(|e| bench(e.to_string()))?;
    let scratch = match server_url {
        Some(url) => Some(
            ScratchDatabase::create(Some(url), "mb_bench")
                .await
                .map_err(|e| bench(format!("a scratch schema on {url}: {e}")))?,
        ),
        None => None,
    };
    let mut config = json!({"core": {"log": {"level": "warn"}}});
    if let Some(scratch) = &scratch {
        config["eventflow"] = json!({"store": scratch.config()});
    }
    let file = dir.path().join("bench.json");
    std::fs::write(&file, config.to_string()).map_err(|e| bench(e.to_string()))?;
    // SQLite: the demo's store under --data; PostgreSQL: the config's store (the demo
    // sets its SQLite URL only as a default then, under the file).
    let data = dir.path().join("data");
    let mut server = Server::start(
        dir.path(),
        &file,
        scratch.is_none().then_some(data.as_path()),
    )?;
    let outcome = rounds(args, label, &server, dir.path()).await;
    server.stop();
    if let Some(scratch) = scratch
        && let Err(error) = scratch.remove().await
    {
        eprintln!("could not drop the scratch schema: {error}");
    }
    outcome
}

async fn rounds(
    args: &MessageBoardBenchArgs,
    label: &str,
    server: &Server,
    dir: &std::path::Path,
) -> CliResult<Vec<Run>> {
    let bench = |e: String| CliError::Bench(e);
    let addr = server.addr;
    let session = sign_up(addr, "bench", PASSWORD).await.map_err(bench)?;
    let signer = Signer::new(session.0.clone(), SigningKey::hmac(&session.1));
    println!();
    println!("{label}: demo node pid {}", server.pid());
    println!(
        "{:<6} {:>10} {:>9} {:>9} {:>8} {:>8} {:>14}",
        "round", "posts/s", "p50", "p99", "202s", "other", "server µs/post"
    );
    let duration = Duration::from_secs(args.duration_secs);
    let mut runs = Vec::new();
    let mut expected = 5_000.0_f64;
    for round in 1..=args.rounds {
        // Enough for twice the last rate; beyond that requests would repeat, and every
        // repeat is refused as a replay (counted under "other").
        let count = (expected * 2.0 * duration.as_secs_f64()) as usize + 10_000;
        let script = presign(
            dir,
            &signer,
            addr,
            ("POST", "/posts"),
            count,
            |i| {
                json!({"title": format!("round {round} post {i}"), "body": "a benchmark post"})
                    .to_string()
                    .into_bytes()
            },
            true,
        )?;
        let mut run = wrk(
            server,
            &format!("http://{addr}/posts"),
            args.connections,
            duration,
            Some(&script),
        )?;
        let (created, accepted, other) = run.statuses.unwrap_or_default();
        // CPU per created post, not per answer.
        run.cpu_us = run.cpu_us * run.rate * duration.as_secs_f64() / (created.max(1) as f64);
        let rate = created_rate(args.duration_secs)(&run);
        expected = rate.max(1_000.0);
        println!(
            "{round:<6} {:>10.0} {:>9} {:>9} {:>8} {:>8} {:>14.0}",
            rate,
            millis(run.p50),
            millis(run.p99),
            accepted,
            other,
            run.cpu_us
        );
        runs.push(run);
    }
    Ok(runs)
}
