//! `superhero bench eventflow`: one run of a real hub over real TLS on loopback with one
//! publishing spoke and two competing consuming spokes, each with its own connection pool
//! (as separate processes would have).
//!
//! 0. **The database alone** (`limit.rs`): the durability setting in force, and the
//!    single-commit limit (one connection, one-row transactions back to back) for
//!    `limit_secs`, so the figures below can be read as a fraction of the physical limit.
//! 1. **Throughput**: `events` publishes from `concurrency` concurrent callers, then
//!    `single_events` from one caller (C = 1); the publish rate (commits per second), the
//!    end-to-end rate (first publish to last handled) and this process's CPU time per
//!    event (hub, spokes and publishing callers all run in it).
//! 2. **Latency**: publishes at a fixed offered rate for `latency_secs`; p50/p99 of
//!    publish call → handler start.
//! 3. **Exactly once**: every handler invocation is counted: lost = published but never
//!    handled, duplicated = handled more than once.

mod limit;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::certs::{CertificateAuthority, CertificatesConfig};
use crate::config::{Backend, StoreConfig};
use crate::error::{Error, Result};
use crate::event::NewEvent;
use crate::hub::{Hub, HubConfig};
use crate::scratch::ScratchDatabase;
use crate::spoke::{Spoke, SpokeConfig};
use crate::sql::SqlStore;
use crate::store::EventStore;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// A PostgreSQL or MySQL/MariaDB server URL (a fresh schema/database is created on it
    /// and dropped afterwards); `None`: a SQLite file in a temporary folder.
    pub store_url: Option<String>,
    /// Events in the throughput phase.
    pub events: usize,
    /// Concurrent publish calls in the throughput phase.
    pub concurrency: usize,
    /// Events of the one-caller (C = 1) throughput phase.
    pub single_events: usize,
    /// Length of the single-commit limit measurement, seconds (0: skip it).
    pub limit_secs: u64,
    /// Offered rate of the latency phase, events per second.
    pub rate: u32,
    /// Length of the latency phase, seconds.
    pub latency_secs: u64,
    /// Give up waiting for deliveries after this long.
    pub timeout: Duration,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            store_url: None,
            events: 20_000,
            concurrency: 256,
            single_events: 2_000,
            limit_secs: 3,
            rate: 1_000,
            latency_secs: 5,
            timeout: Duration::from_secs(300),
        }
    }
}

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// The backend.
    pub backend: Backend,
    /// The durability settings in force, as the database reports them.
    pub durability: String,
    /// Commits per second of one connection inserting one row per transaction (`None`:
    /// not measured).
    pub commit_limit: Option<f64>,
    /// The throughput phase with `concurrency` callers.
    pub concurrent: Throughput,
    /// The throughput phase with one caller.
    pub single: Throughput,
    /// The offered rate of the latency phase.
    pub offered_rate: u32,
    /// Events of the latency phase.
    pub latency_events: usize,
    /// Median publish → handled, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile publish → handled, milliseconds.
    pub p90_ms: f64,
    /// 99th percentile publish → handled, milliseconds.
    pub p99_ms: f64,
    /// 99.9th percentile publish → handled, milliseconds.
    pub p999_ms: f64,
    /// Slowest publish → handled, milliseconds.
    pub max_ms: f64,
    /// Published (both phases) but never handled.
    pub lost: usize,
    /// Handled more than once (extra invocations).
    pub duplicated: usize,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "eventflow benchmark on {}: 1 hub (TLS, loopback), 1 publishing spoke, 2 competing consuming spokes",
            self.backend.name()
        )?;
        writeln!(f, "  durability: {}", self.durability)?;
        if let Some(limit) = self.commit_limit {
            writeln!(
                f,
                "  single-commit limit (1 connection, 1-row transactions) {limit:>10.0} commits/s"
            )?;
        }
        for phase in [&self.concurrent, &self.single] {
            writeln!(
                f,
                "  throughput, C = {}: {} events",
                phase.concurrency, phase.events
            )?;
            writeln!(
                f,
                "    publish rate      {:>10.0} events/s",
                phase.publish_rate
            )?;
            writeln!(
                f,
                "    end to end        {:>10.0} events/s",
                phase.end_to_end_rate
            )?;
            writeln!(
                f,
                "    CPU per event     {:>10.1} µs (this process: hub, spokes, publishers)",
                phase.cpu_us_per_event
            )?;
        }
        writeln!(
            f,
            "  latency at {} events/s offered ({} events), publish → handled:",
            self.offered_rate, self.latency_events
        )?;
        writeln!(f, "    p50               {:>10.2} ms", self.p50_ms)?;
        writeln!(f, "    p90               {:>10.2} ms", self.p90_ms)?;
        writeln!(f, "    p99               {:>10.2} ms", self.p99_ms)?;
        writeln!(f, "    p99.9             {:>10.2} ms", self.p999_ms)?;
        writeln!(f, "    max               {:>10.2} ms", self.max_ms)?;
        writeln!(
            f,
            "  exactly once: lost {}, duplicated {}",
            self.lost, self.duplicated
        )
    }
}

/// The figures of one throughput phase.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Concurrent publish calls.
    pub concurrency: usize,
    /// Events published.
    pub events: usize,
    /// Commits per second seen by the publisher.
    pub publish_rate: f64,
    /// Events handled per second, first publish to last handled.
    pub end_to_end_rate: f64,
    /// This process's CPU time (user + system) per event, microseconds: the hub, the
    /// spokes and the publishing callers (not the database server).
    pub cpu_us_per_event: f64,
}

/// Handler invocations: event id → count, and latencies of probe events.
#[derive(Default)]
struct Tally {
    handled: HashMap<Uuid, u32>,
    latencies_us: Vec<u64>,
    total: usize,
}

/// Runs the benchmark once.
pub async fn run(options: &BenchOptions) -> Result<BenchReport> {
    let scratch = ScratchDatabase::create(options.store_url.as_deref(), "ef_bench").await?;
    let config = StoreConfig {
        max_connections: 16,
        ..scratch.config().clone()
    };
    let result = run_on(&config, options).await;
    if let Err(error) = scratch.remove().await {
        tracing::warn!(%error, "could not drop the benchmark's schema or database");
    }
    result
}

async fn run_on(config: &StoreConfig, options: &BenchOptions) -> Result<BenchReport> {
    let backend = config.backend()?;
    let open = || async {
        SqlStore::open(config)
            .await
            .map(|s| Arc::new(s) as Arc<dyn EventStore>)
    };
    let mut certificates = CertificatesConfig::with_secret(format!("bench-{}", Uuid::now_v7()));
    certificates.kdf = crate::certs::KdfCost::default();
    let authority = |store: Arc<dyn EventStore>| {
        CertificateAuthority::new(store, certificates.clone()).map(Arc::new)
    };
    let hub_store = open().await?;
    let hub = Hub::start(
        hub_store.clone(),
        HubConfig {
            internal_port: 0,
            ..HubConfig::default()
        },
        authority(hub_store)?,
    )
    .await?;
    let tally: Arc<Mutex<Tally>> = Arc::default();
    let mut consumers = Vec::new();
    for _ in 0..2 {
        let store = open().await?;
        let spoke = Spoke::start(store.clone(), SpokeConfig::default(), authority(store)?).await?;
        for name in ["tick", "probe"] {
            let tally = tally.clone();
            spoke.consume("bench", name, move |event| {
                let tally = tally.clone();
                async move {
                    let now = now_us();
                    let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                    *tally.handled.entry(event.id).or_default() += 1;
                    tally.total += 1;
                    if let Some(sent) = event.data.get("sent_us").and_then(|v| v.as_u64()) {
                        tally.latencies_us.push(now.saturating_sub(sent));
                    }
                    Ok(())
                }
            })?;
        }
        consumers.push(spoke);
    }
    let store = Arc::new(SqlStore::open(config).await?);
    let publisher_store: Arc<dyn EventStore> = store.clone();
    let publisher = Spoke::start(
        publisher_store.clone(),
        SpokeConfig::default(),
        authority(publisher_store)?,
    )
    .await?;
    for spoke in consumers.iter().chain([&publisher]) {
        wait_connected(spoke).await?;
    }

    // 0. The database alone.
    let durability = limit::durability(&store).await?;
    let commit_limit = if options.limit_secs > 0 {
        Some(limit::single_commit_rate(&store, Duration::from_secs(options.limit_secs)).await?)
    } else {
        None
    };

    // 1. Throughput, with many callers and with one.
    let mut published: Vec<Uuid> = Vec::with_capacity(options.events + options.single_events);
    let concurrent = throughput(
        &publisher,
        &tally,
        (options.events, options.concurrency.max(1), "t"),
        options.timeout,
        &mut published,
    )
    .await?;
    let single = throughput(
        &publisher,
        &tally,
        (options.single_events, 1, "s"),
        options.timeout,
        &mut published,
    )
    .await?;

    // 2. Latency at a fixed offered rate.
    let probes = usize::try_from(u64::from(options.rate) * options.latency_secs).unwrap_or(0);
    let before = tally.lock().unwrap_or_else(PoisonError::into_inner).total;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(
        1.0 / f64::from(options.rate.max(1)),
    ));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut probe_tasks = tokio::task::JoinSet::new();
    for i in 0..probes {
        ticker.tick().await;
        let publisher = publisher.clone();
        probe_tasks.spawn(async move {
            let event = NewEvent::new("bench", format!("probe-{i}"), "probe")
                .with_data(json!({ "sent_us": now_us() }));
            publisher.publish(event).await.map(|a| a.id)
        });
    }
    while let Some(joined) = probe_tasks.join_next().await {
        let id = joined.map_err(|e| Error::invalid(format!("a probe task failed: {e}")))??;
        published.push(id);
    }
    wait_handled(&tally, before + probes, options.timeout).await;
    // Let any duplicate show itself.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (lost, duplicated, latencies) = {
        let tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
        let lost = published
            .iter()
            .filter(|id| !tally.handled.contains_key(id))
            .count();
        let duplicated: usize = tally
            .handled
            .values()
            .map(|n| usize::try_from(n.saturating_sub(1)).unwrap_or(0))
            .sum();
        let mut latencies = tally.latencies_us.clone();
        latencies.sort_unstable();
        (lost, duplicated, latencies)
    };
    for spoke in consumers.iter().chain([&publisher]) {
        spoke.shutdown().await;
    }
    hub.shutdown().await;
    Ok(BenchReport {
        backend,
        durability,
        commit_limit,
        concurrent,
        single,
        offered_rate: options.rate,
        latency_events: probes,
        p50_ms: percentile_ms(&latencies, 0.50),
        p90_ms: percentile_ms(&latencies, 0.90),
        p99_ms: percentile_ms(&latencies, 0.99),
        p999_ms: percentile_ms(&latencies, 0.999),
        max_ms: percentile_ms(&latencies, 1.0),
        lost,
        duplicated,
    })
}

/// Publishes `events` events from `concurrency` callers (pids `{prefix}{task}-{i}`), waits
/// until each is handled, and appends their ids to `published`.
async fn throughput(
    publisher: &Spoke,
    tally: &Mutex<Tally>,
    (events, concurrency, prefix): (usize, usize, &'static str),
    timeout: Duration,
    published: &mut Vec<Uuid>,
) -> Result<Throughput> {
    let before = tally
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .handled
        .len();
    let cpu_before = limit::process_cpu();
    let started = Instant::now();
    let per_task = events.div_ceil(concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..concurrency {
        let publisher = publisher.clone();
        let count = per_task.min(events.saturating_sub(task * per_task));
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for i in 0..count {
                let event = NewEvent::new("bench", format!("{prefix}{task}-{i}"), "tick");
                ids.push(publisher.publish(event).await?.id);
            }
            Ok::<_, Error>(ids)
        });
    }
    let mut count = 0;
    while let Some(joined) = tasks.join_next().await {
        let ids =
            joined.map_err(|e| Error::invalid(format!("a publishing task failed: {e}")))??;
        count += ids.len();
        published.extend(ids);
    }
    let publish_elapsed = started.elapsed();
    wait_handled(tally, before + count, timeout).await;
    let end_to_end = started.elapsed();
    let cpu = limit::process_cpu().saturating_sub(cpu_before);
    Ok(Throughput {
        concurrency,
        events: count,
        publish_rate: rate(count, publish_elapsed),
        end_to_end_rate: rate(count, end_to_end),
        cpu_us_per_event: cpu.as_secs_f64() * 1e6 / (count as f64).max(1.0),
    })
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    let events = u32::try_from(events).map(f64::from).unwrap_or(f64::MAX);
    events / elapsed.as_secs_f64().max(1e-9)
}

fn percentile_ms(sorted_us: &[u64], quantile: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let last = sorted_us.len() - 1;
    let rank = (quantile * f64::from(u32::try_from(last).unwrap_or(u32::MAX))).round();
    let index = usize::try_from(rank as u64).unwrap_or(last).min(last);
    u32::try_from(sorted_us[index])
        .map(f64::from)
        .unwrap_or(f64::MAX)
        / 1000.0
}

async fn wait_connected(spoke: &Spoke) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while spoke.connected_hubs().is_empty() {
        if Instant::now() > deadline {
            return Err(Error::Connect {
                target: "the benchmark hub".into(),
                reason: "a spoke did not connect within 30 s".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    spoke.sync(Duration::from_secs(5)).await;
    Ok(())
}

async fn wait_handled(tally: &Mutex<Tally>, total: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let done = tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handled
            .len()
            >= total;
        if done || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let sorted: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        assert!((percentile_ms(&sorted, 0.5) - 51.0).abs() < 1.5);
        assert!((percentile_ms(&sorted, 0.99) - 99.0).abs() < 1.5);
        assert!(percentile_ms(&[], 0.5).is_nan());
    }
}
