//! `superhero bench eventflow --hubs H --consumers M --store URL`: eventflow scaled out
//! over processes on one database server. H hub processes (`superhero hub`) and M
//! consuming processes (the soak's consumer: `superhero bench soak-consumer`, one
//! handler record per event) run beside the driver (this process), which publishes
//! through a spoke of its own. The figures:
//!
//! - **throughput**: `--events` events published by `--concurrency` concurrent calls,
//!   from the first call until the last one is handled (each handled once: the soak's
//!   checker reads the records);
//! - **latency**: `--rate` events/s offered for `--latency-secs`, publish call → handler
//!   record (ms, the records' resolution): p50 and p99;
//! - **where the CPU went** during the throughput phase, from `/proc`: the hubs, the
//!   consumers, the driver and the database server's processes (found by name, so the
//!   server must run on this machine), against the machine's cores: the limit a point
//!   hits (every core busy, or one role saturating its share).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use superhero_eventflow::config::redact;
use superhero_eventflow::{Backend, NewEvent, Spoke};
use tokio::sync::Semaphore;

use super::soak::checker::{self, Acked, Kind, Ledger};
use super::soak::cluster::{self, Launcher, Member, Own, Role};
use super::soak::{DOMAIN, now_ms, quantile};
use super::wrk::{free_addr, process_cpu};
use crate::error::{CliError, CliResult};

/// What to run.
pub struct ScaleOptions {
    /// The database server (PostgreSQL or MySQL/MariaDB).
    pub store_url: String,
    /// Hub processes.
    pub hubs: u16,
    /// Consuming processes.
    pub consumers: u16,
    /// Events of the throughput phase.
    pub events: usize,
    /// Concurrent publish calls of the throughput phase.
    pub concurrency: usize,
    /// Offered rate of the latency phase, events/s.
    pub rate: u32,
    /// Seconds of the latency phase.
    pub latency_secs: u64,
}

/// Runs the scaled-out bench and prints its report.
pub async fn run(options: &ScaleOptions) -> CliResult {
    if !matches!(
        Backend::from_url(&options.store_url),
        Ok(Backend::Postgres | Backend::MySql)
    ) {
        return Err(bench(format!(
            "--store {}: --hubs and --consumers need a PostgreSQL (postgres://…) or MySQL/MariaDB (mysql://…) server",
            redact(&options.store_url)
        )));
    }
    let folder = tempfile::Builder::new()
        .prefix("superhero-scale-")
        .tempdir()
        .map_err(|e| bench(format!("a folder for the run: {e}")))?;
    let scratch =
        superhero_eventflow::scratch::ScratchDatabase::create(Some(&options.store_url), "scale")
            .await
            .map_err(|e| bench(format!("a scratch database: {e}")))?;
    let result = measure(options, folder.path(), scratch.config().clone()).await;
    if let Err(error) = scratch.remove().await {
        eprintln!("bench: could not drop the scratch database: {error}");
    }
    if result.is_err() {
        let kept = folder.keep();
        eprintln!("bench: the run's logs are in {}", kept.display());
    }
    result
}

async fn measure(
    options: &ScaleOptions,
    folder: &Path,
    store: superhero_eventflow::StoreConfig,
) -> CliResult {
    let durability = match Backend::from_url(&store.url) {
        Ok(Backend::Postgres) => "PostgreSQL at its defaults (every commit flushed)",
        _ => {
            "MySQL/MariaDB at its defaults (innodb_flush_log_at_trx_commit=1: every commit flushed)"
        }
    };
    let config = json!({
        "core": {"log": {"level": "warn"}},
        "eventflow": {
            "store": store,
            "certificates": {"secret": "the scale-out bench's certificates"},
            "hub": {"internal_host": "127.0.0.1", "external_host": "127.0.0.1"},
        },
    });
    let launcher = Launcher::new(folder, "scale.json", &config)?;
    // The driver's spoke first: it creates the schema.
    let (node, spoke) = cluster::driver(&config, "superhero bench eventflow").await?;
    let mut members: Vec<Member> = Vec::new();
    for i in 0..usize::from(options.hubs) {
        let own = Own {
            args: vec!["--port".into(), free_addr()?.port().to_string()],
            env: Vec::new(),
        };
        members.push(launcher.start(Role::Hub, i, own)?);
    }
    for i in 0..usize::from(options.consumers) {
        members.push(launcher.start(Role::Consumer, i, Own::default())?);
    }
    let result = phases(options, folder, &spoke, &members, durability).await;
    for member in &mut members {
        member.stop(Duration::from_secs(10));
    }
    let _ = node.shutdown().await;
    result
}

async fn phases(
    options: &ScaleOptions,
    folder: &Path,
    spoke: &Spoke,
    members: &[Member],
    durability: &str,
) -> CliResult {
    let deadline = Instant::now() + Duration::from_secs(60);
    while spoke.connected_hubs().len() < usize::from(options.hubs) {
        if Instant::now() > deadline {
            return Err(bench("the hubs did not come up within 60 s".into()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Warm-up: every consumer connected and every pool filled before anything counts.
    let warm = publish(spoke, 1_000, 64).await?;
    wait_handled(folder, &warm, Duration::from_secs(60)).await?;

    // Throughput, with the CPU time each role spent between the two samples.
    let before = Cpu::now(members);
    let sampled = Instant::now();
    let started = now_ms();
    let acked = publish(spoke, options.events, options.concurrency).await?;
    let handled = wait_handled(folder, &acked, Duration::from_secs(300)).await?;
    let spent = Cpu::now(members).since(&before);
    let sampled = sampled.elapsed().as_secs_f64();
    let last = handled.iter().map(|h| h.at_ms).max().unwrap_or(started);
    let elapsed_ms = last.saturating_sub(started).max(1);
    let throughput = acked.len() as f64 * 1_000.0 / elapsed_ms as f64;
    let exactly_once = exactly_once(&acked, &handled);

    // Latency at an offered rate.
    let offered = offer(spoke, options.rate, options.latency_secs).await;
    let handled = wait_handled(folder, &offered, Duration::from_secs(120)).await?;
    let latency = checker::check(&Ledger {
        acked: offered.clone(),
        handled,
        ..Ledger::default()
    })
    .publish_latency_ms;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    // Shares of the wall time between the samples (it includes the last poll's wait).
    let share = |seconds: f64| seconds / sampled * 100.0;
    println!(
        "eventflow scaled out: {} hubs, {} consumers, one driver, on {durability} ({cores} cores)",
        options.hubs, options.consumers
    );
    println!(
        "  throughput          {throughput:.0} events/s ({} events, {} concurrent publishes, publish → handled; {exactly_once})",
        acked.len(),
        options.concurrency
    );
    println!(
        "  latency             p50 {} ms, p99 {} ms, max {} ms at {} events/s offered for {} s ({} acknowledged)",
        quantile(&latency, 0.5),
        quantile(&latency, 0.99),
        quantile(&latency, 1.0),
        options.rate,
        options.latency_secs,
        offered.len()
    );
    println!(
        "  CPU (throughput)    hubs {:.0} %, consumers {:.0} %, driver {:.0} %, database {:.0} %; {:.0} % of {:.0} %",
        share(spent.hubs),
        share(spent.consumers),
        share(spent.driver),
        share(spent.database),
        share(spent.hubs + spent.consumers + spent.driver + spent.database),
        cores * 100.0
    );
    Ok(())
}

/// CPU seconds (user + system) per role.
struct Cpu {
    hubs: f64,
    consumers: f64,
    driver: f64,
    /// Every `postgres`, `mariadbd` or `mysqld` process of this machine.
    database: f64,
}

impl Cpu {
    /// What each role has spent so far (a process gone counts nothing).
    fn now(members: &[Member]) -> Cpu {
        let seconds = |pids: &mut dyn Iterator<Item = u32>| -> f64 {
            pids.filter_map(process_cpu).map(|d| d.as_secs_f64()).sum()
        };
        let of = |role: Role| {
            let mut pids = members
                .iter()
                .filter(move |m| m.role() == role)
                .filter_map(Member::pid);
            seconds(&mut pids)
        };
        Cpu {
            hubs: of(Role::Hub),
            consumers: of(Role::Consumer),
            driver: seconds(&mut std::iter::once(std::process::id())),
            database: seconds(&mut cluster::named(&["postgres", "mariadbd", "mysqld"]).into_iter()),
        }
    }

    /// What each role spent since `before`.
    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            hubs: self.hubs - before.hubs,
            consumers: self.consumers - before.consumers,
            driver: self.driver - before.driver,
            database: self.database - before.database,
        }
    }
}

/// Publishes `events` events, `concurrency` calls at a time: the acknowledged ones.
async fn publish(spoke: &Spoke, events: usize, concurrency: usize) -> CliResult<Vec<Acked>> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..events {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| bench(e.to_string()))?;
        let spoke = spoke.clone();
        tasks.spawn(async move {
            let sent_ms = now_ms();
            let result = spoke
                .publish(NewEvent::new(DOMAIN, format!("p-{n}"), "tick"))
                .await;
            drop(permit);
            result.map(|appended| Acked {
                id: appended.id,
                kind: Kind::Publish,
                due_ms: sent_ms,
            })
        });
    }
    let mut acked = Vec::with_capacity(events);
    while let Some(done) = tasks.join_next().await {
        let done = done.map_err(|e| bench(e.to_string()))?;
        acked.push(done.map_err(|e| bench(format!("a publish failed: {e}")))?);
    }
    Ok(acked)
}

/// Offers `rate` publishes a second for `secs`: the acknowledged ones.
async fn offer(spoke: &Spoke, rate: u32, secs: u64) -> Vec<Acked> {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = tokio::task::JoinSet::new();
    let mut n: u64 = 0;
    while Instant::now() < until {
        ticker.tick().await;
        n += 1;
        let spoke = spoke.clone();
        tasks.spawn(async move {
            let sent_ms = now_ms();
            spoke
                .publish(NewEvent::new(DOMAIN, format!("r-{n}"), "tick"))
                .await
                .ok()
                .map(|appended| Acked {
                    id: appended.id,
                    kind: Kind::Publish,
                    due_ms: sent_ms,
                })
        });
    }
    let mut acked = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some(a)) = done {
            acked.push(a);
        }
    }
    acked
}

/// Waits until every event of `acked` has a handler record: the records of those events.
async fn wait_handled(
    folder: &Path,
    acked: &[Acked],
    patience: Duration,
) -> CliResult<Vec<checker::Handled>> {
    let ids: std::collections::HashSet<_> = acked.iter().map(|a| a.id).collect();
    let deadline = Instant::now() + patience;
    loop {
        let (records, _) = cluster::read_records(folder)?;
        let mine: Vec<_> = records
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .collect();
        let distinct: std::collections::HashSet<_> = mine.iter().map(|r| r.id).collect();
        if distinct.len() == ids.len() {
            return Ok(mine);
        }
        if Instant::now() > deadline {
            return Err(bench(format!(
                "{} of {} events handled after {patience:?}",
                distinct.len(),
                ids.len()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// "each handled once", or how many were handled more often.
fn exactly_once(acked: &[Acked], handled: &[checker::Handled]) -> String {
    let verdict = checker::check(&Ledger {
        acked: acked.to_vec(),
        handled: handled.to_vec(),
        ..Ledger::default()
    });
    if verdict.doubled.is_empty() && verdict.lost.is_empty() {
        "each handled exactly once".into()
    } else {
        format!(
            "{} lost, {} handled more than once",
            verdict.lost.len(),
            verdict.doubled.len()
        )
    }
}

fn bench(message: String) -> CliError {
    CliError::Bench(message)
}
