//! `superhero bench replay`: `superhero replay` over many parked events, measured for what
//! the operator cares about — the replaying process's peak memory (it must not grow with
//! the number of parked events: pages, never the whole list) — then checked end to end:
//! a hub and a consuming spoke deliver every replayed event exactly once.
//!
//! Per run: a fresh store (SQLite, or a scratch schema/database on `--server`), N events
//! published and parked (claimed with a 1 ms lease, then parked by `park_exhausted`, as a
//! hub's sweep parks events whose last lease lapsed), the real binary run as
//! `superhero replay --batch B` in its own process, its peak RSS read from the kernel
//! (its `VmHWM` high-water mark), then the deliveries counted. The same is done for N/10 events,
//! so the report shows whether memory follows N. Exits with `E_CLI_BENCH` when the peak
//! RSS passes `--max-rss-mib` or an event is not delivered exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use superhero_core::Config;
use superhero_eventflow::scratch::ScratchDatabase;
use superhero_eventflow::{
    AppendRequest, DeliveryStore, EventLog, NewEvent, ParkedQuery, SqlStore, StoreConfig,
};

use super::wrk::summary;
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero bench replay`.
#[derive(Debug, Args)]
pub struct ReplayBenchArgs {
    /// Parked events per run.
    #[arg(long, default_value_t = 10_000)]
    pub parked: u32,
    /// `superhero replay --batch`.
    #[arg(long, default_value_t = 500)]
    pub batch: u32,
    /// Runs (medians are reported with their range).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// A PostgreSQL or MySQL/MariaDB server for scratch databases (default: SQLite files).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The bound on the replaying process's peak RSS, in MiB.
    #[arg(long, default_value_t = 32)]
    pub max_rss_mib: u64,
}

const DOMAIN: &str = "replay-bench";
const NAME: &str = "work-requested";

fn bench(reason: impl Into<String>) -> CliError {
    CliError::Bench(reason.into())
}

/// One replay measured.
struct Measured {
    parked: u32,
    pages: u64,
    seconds: f64,
    peak_rss_kib: u64,
    delivered_once: usize,
}

pub async fn execute(_global: &GlobalArgs, args: ReplayBenchArgs) -> CliResult {
    if args.parked < 10 || args.batch == 0 {
        return Err(bench("--parked must be at least 10 and --batch at least 1"));
    }
    let backend = args
        .server
        .as_deref()
        .unwrap_or("SQLite (WAL, synchronous=NORMAL)");
    println!(
        "bench replay: {} parked events (and {}) replayed in pages of {} on {backend}; {} runs",
        args.parked,
        args.parked / 10,
        args.batch,
        args.runs
    );
    let mut small = Vec::new();
    let mut large = Vec::new();
    for run in 1..=args.runs {
        for (count, results) in [(args.parked / 10, &mut small), (args.parked, &mut large)] {
            let measured = one_run(&args, count).await?;
            println!(
                "  run {run}: {:>6} parked → {:>3} pages in {:>6.2} s, peak RSS {:>6.1} MiB, delivered once {}/{}",
                measured.parked,
                measured.pages,
                measured.seconds,
                measured.peak_rss_kib as f64 / 1024.0,
                measured.delivered_once,
                measured.parked
            );
            results.push(measured);
        }
    }
    println!("\n| parked | batch | replay s (median, range) | peak RSS MiB (median, range) |");
    println!("| --- | --- | --- | --- |");
    for results in [&small, &large] {
        let seconds: Vec<f64> = results.iter().map(|m| m.seconds).collect();
        let rss: Vec<f64> = results
            .iter()
            .map(|m| m.peak_rss_kib as f64 / 1024.0)
            .collect();
        println!(
            "| {} | {} | {} | {} |",
            results[0].parked,
            args.batch,
            summary(&seconds, 2),
            summary(&rss, 1)
        );
    }
    let worst = large
        .iter()
        .chain(&small)
        .map(|m| m.peak_rss_kib)
        .max()
        .unwrap_or(0);
    if worst > args.max_rss_mib * 1024 {
        return Err(bench(format!(
            "the replay's peak RSS was {:.1} MiB, above the bound of {} MiB",
            worst as f64 / 1024.0,
            args.max_rss_mib
        )));
    }
    println!(
        "\npeak RSS stayed under the bound of {} MiB; every replayed event was delivered exactly once",
        args.max_rss_mib
    );
    Ok(())
}

async fn one_run(args: &ReplayBenchArgs, count: u32) -> CliResult<Measured> {
    let scratch = ScratchDatabase::create(args.server.as_deref(), "replay_bench")
        .await
        .map_err(|e| bench(format!("a scratch database: {e}")))?;
    let outcome = measure(args, count, scratch.config().clone()).await;
    if let Err(error) = scratch.remove().await {
        eprintln!("could not remove the scratch database: {error}");
    }
    outcome
}

async fn measure(
    args: &ReplayBenchArgs,
    count: u32,
    store_config: StoreConfig,
) -> CliResult<Measured> {
    let store = SqlStore::open(&store_config).await?;
    park_events(&store, count).await?;
    let folder = tempfile::tempdir().map_err(|e| bench(format!("a temporary folder: {e}")))?;
    let config_file = folder.path().join("replay.json");
    std::fs::write(
        &config_file,
        json!({"eventflow": {"store": store_config}}).to_string(),
    )
    .map_err(|e| bench(format!("writing the config: {e}")))?;

    let exe = std::env::current_exe().map_err(|e| bench(format!("the binary's path: {e}")))?;
    let started = Instant::now();
    let batch = args.batch.to_string();
    let (status, peak_rss_kib, stdout) = tokio::task::spawn_blocking(move || {
        run_measured(
            std::process::Command::new(exe)
                .args(["replay", "--batch", &batch, "--by", "bench", "--config"])
                .arg(&config_file),
        )
    })
    .await
    .map_err(|e| bench(format!("the replay process: {e}")))??;
    let seconds = started.elapsed().as_secs_f64();
    if !status {
        return Err(bench(format!("superhero replay failed: {stdout}")));
    }
    let left = store.parked(&ParkedQuery::after(0, 1)).await?;
    if !left.is_empty() {
        return Err(bench("events were still parked after the replay"));
    }
    let delivered_once = deliver(&store_config, count).await?;
    store.close().await;
    Ok(Measured {
        parked: count,
        pages: u64::from(count.div_ceil(args.batch)),
        seconds,
        peak_rss_kib,
        delivered_once,
    })
}

/// Runs the command to its end: (success, its peak RSS in KiB, its stdout and stderr).
///
/// The peak is the kernel's high-water mark of the process's own memory (`VmHWM` in
/// `/proc/<pid>/status`), read every 2 ms while it runs; it only grows, so a sample misses
/// at most what the process adds in its last 2 ms. (`wait4`'s `ru_maxrss` would not do:
/// it also counts this process's memory, shared with the child until its `exec`.)
fn run_measured(command: &mut std::process::Command) -> CliResult<(bool, u64, String)> {
    use std::io::Read;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| bench(format!("starting superhero replay: {e}")))?;
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut stream| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            text
        })
    })
    .collect();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = super::proc_status_kib(child.id(), "VmHWM") {
            peak_kib = peak_kib.max(kib);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(error) => return Err(bench(format!("waiting for superhero replay: {error}"))),
        }
    };
    let output: String = readers
        .into_iter()
        .map(|reader| reader.join().unwrap_or_default())
        .collect();
    Ok((status.success(), peak_kib, output))
}

/// Publishes `count` events in batches and parks them all.
async fn park_events(store: &SqlStore, count: u32) -> CliResult {
    let mut published = 0;
    while published < count {
        let size = (count - published).min(500);
        let events: Vec<NewEvent> = (published..published + size)
            .map(|i| NewEvent::new(DOMAIN, format!("w-{i}"), NAME).with_data(json!({"n": i})))
            .collect();
        let appended = store
            .append(AppendRequest::new(events).publish("bench-publisher"))
            .await?;
        let ids: Vec<_> = appended.iter().map(|a| a.id).collect();
        let claimed = store
            .claim_deliveries(&ids, "bench-consumer", Duration::from_millis(1), 1)
            .await?;
        if claimed.len() != ids.len() {
            return Err(bench("could not claim the published events"));
        }
        published += size;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let parked = store.park_exhausted(1).await?;
    if parked != u64::from(count) {
        return Err(bench(format!("parked {parked} events, not {count}")));
    }
    Ok(())
}

/// Starts a hub and a consuming spoke on the store; returns how many of the `count`
/// events were handled exactly once (an error when any was handled twice or one is
/// missing after 120 s).
async fn deliver(store: &StoreConfig, count: u32) -> CliResult<usize> {
    let config = Config::builder()
        .add_value(
            "bench replay",
            json!({"eventflow": {
                "store": store,
                "certificates": {"secret": "bench replay cluster secret 0123456789"},
                "hub": {"internal_host": "127.0.0.1", "internal_port": 0, "sweep_ms": 100},
                "spoke": {"concurrency": 256},
            }}),
        )
        .env_vars([])
        .build()?;
    let node = superhero_eventflow::service::start_embedded(&config).await?;
    let handled: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let seen = handled.clone();
    node.spoke.consume(DOMAIN, NAME, move |event| {
        *seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(event.id.to_string())
            .or_default() += 1;
        async { Ok(()) }
    })?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = handled.lock().unwrap_or_else(PoisonError::into_inner).len();
        if done >= count as usize || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a duplicate to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    node.shutdown().await;
    let handled = handled
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let twice = handled.values().filter(|&&n| n > 1).count();
    if twice > 0 || handled.len() != count as usize {
        return Err(bench(format!(
            "{} of {count} replayed events were handled, {twice} of them more than once",
            handled.len()
        )));
    }
    Ok(handled.len())
}
