//! `superhero bench soak`: eventflow under constant load while processes are killed and
//! the database is stopped, then a check that nothing acknowledged was lost or doubled.
//!
//! The run, in a temporary folder (kept, with every process's log, when the soak fails
//! or with `--keep`):
//!
//! 1. a private PostgreSQL server ([`database`]; or `--store URL`, without database
//!    stops), 2 hubs, 3 consuming spokes and the sale-order app on 2 workers (`superhero
//!    run authorization sale-order --workers 2`), each in its own process ([`cluster`],
//!    [`consumer`]); the driver (this process) publishes and schedules through a spoke of
//!    its own at `--rate` events/s, and waits for some of them ([`load`]); and places
//!    `--orders` sale orders a second through the workers' HTTP API, pays them and plays
//!    their carrier ([`orders`]);
//! 2. every `--fault-every` seconds (0.5 – 1.5 × at random) one fault ([`faults`]):
//!    SIGKILL of a hub, of a consumer or of a sale-order worker, an immediate stop of
//!    the database, or a hub's link cut, frozen (half-open) or delayed by the fault proxy
//!    in front of it ([`proxy`]), each undone after a few seconds;
//! 3. after `--minutes`, the load stops, every process runs, and the driver waits until
//!    every acknowledged event is handled or parked and every acknowledged order's saga
//!    is over (`--drain-secs` at most);
//! 4. [`checker`] gives the verdict from the acknowledgements, the handlers' records,
//!    the parked events and the fault log, and [`sagas`] compares each order's log with
//!    its reference log; then the driver checks both checkers: it hides one event's
//!    records (the verdict must name that event lost), and drops and doubles an event of
//!    an order's log (the order must fail). The report ends `PASSED` or the command
//!    fails naming the events and orders.

pub mod checker;
pub(crate) mod cluster;
pub mod consumer;
mod database;
mod faults;
mod load;
mod orders;
mod proxy;
mod sagas;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::json;
use superhero_core::CancellationToken;
use superhero_core::logging::{self, LogConfig};
use superhero_eventflow::config::redact;
use superhero_eventflow::{Backend, ParkedQuery};

use self::checker::{FaultKind, Ledger, Verdict};
use self::cluster::{Launcher, Member, Own, Role};
use self::database::{PrivateDatabase, PrivateMariaDb, PrivatePostgres};
use self::faults::Injector;
use self::proxy::Proxy;
use self::sagas::Sagas;
use super::wrk::free_addr;
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// The domain of every soak event.
pub const DOMAIN: &str = "soak";

/// Reminders before an unpaid sale order is canceled.
const REMINDERS: u32 = 1;

/// Repayments that fail before one succeeds (the simulated gateway).
const REPAYMENT_FAILURES: u32 = 1;

/// The user who plays the carrier.
const CARRIER: &str = "soak-carrier";

/// Options of `superhero bench soak`.
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// Minutes of load and faults.
    #[arg(long, default_value_t = 5.0)]
    pub minutes: f64,
    /// The private database server to start (and stop during the run).
    #[arg(long, value_enum, default_value_t = Engine::Postgres)]
    pub engine: Engine,
    /// A PostgreSQL or MySQL/MariaDB server to use instead of a private one (a scratch
    /// schema or database on it, dropped after; the database is then never stopped).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Events offered per second (one in ten a schedule).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// Mean seconds between faults.
    #[arg(long, default_value_t = 5.0)]
    pub fault_every: f64,
    /// Hub processes.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub hubs: u16,
    /// Consuming spoke processes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub consumers: u16,
    /// Sale orders placed per second (0: no sale-order workers).
    #[arg(long, default_value_t = 1.0)]
    pub orders: f64,
    /// Sale-order worker processes.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: u16,
    /// The sale-order payment window, seconds: the driver pays within half of it; an
    /// unpaid order is reminded once after it and canceled after the next.
    #[arg(long, default_value_t = 30)]
    pub payment_window_secs: u64,
    /// Seconds to wait after the load for every event to be handled.
    #[arg(long, default_value_t = 120)]
    pub drain_secs: u64,
    /// Seed of the fault schedule (default: from the clock; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep the run's folder (logs, records) even when the soak passes.
    #[arg(long)]
    pub keep: bool,
}

/// A private database server's engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// PostgreSQL (`initdb`, `pg_ctl`).
    Postgres,
    /// MariaDB (`mariadb-install-db`, `mariadbd`).
    Mariadb,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mariadb => "MariaDB",
        }
    }
}

/// Unix time, ms (eventflow's clock, as the store stamps events).
pub(crate) fn now_ms() -> u64 {
    u64::try_from(superhero_eventflow::Timestamp::now().as_millis()).unwrap_or(0)
}

/// Runs the soak.
pub async fn execute(global: &GlobalArgs, args: SoakArgs) -> CliResult {
    logging::init(&LogConfig {
        format: global.log_format.unwrap_or_default(),
        level: "error".into(),
    });
    if !(args.minutes > 0.0 && args.minutes <= 10_080.0) {
        return Err(bench(format!(
            "--minutes {}: give a number of minutes above 0 and at most a week (10080)",
            args.minutes
        )));
    }
    if let Some(url) = &args.store
        && !matches!(
            Backend::from_url(url),
            Ok(Backend::Postgres | Backend::MySql)
        )
    {
        return Err(bench(format!(
            "--store {}: give a PostgreSQL (postgres://…) or MySQL/MariaDB (mysql://…) server's URL",
            redact(url)
        )));
    }
    if !(args.orders >= 0.0 && args.orders <= 1_000.0) {
        return Err(bench(format!(
            "--orders {}: give a number of orders a second from 0 to 1000",
            args.orders
        )));
    }
    if !(2..=3_600).contains(&args.payment_window_secs) {
        return Err(bench(format!(
            "--payment-window-secs {}: give 2 to 3600 seconds",
            args.payment_window_secs
        )));
    }
    if !(args.fault_every > 0.0 && args.fault_every <= 3_600.0) {
        return Err(bench(format!(
            "--fault-every {}: give a number of seconds above 0",
            args.fault_every
        )));
    }
    let folder = tempfile::Builder::new()
        .prefix("superhero-soak-")
        .tempdir()
        .map_err(|e| bench(format!("a folder for the run: {e}")))?;
    let seed = args.seed.unwrap_or_else(now_ms);
    let mut signals =
        superhero_core::shutdown::Signals::install().map_err(|e| bench(e.to_string()))?;
    // On SIGINT/SIGTERM the run is dropped: its processes are killed and its database
    // server stopped by their destructors.
    let result = tokio::select! {
        result = run(&args, folder.path().to_owned(), seed) => result,
        received = signals.recv() => Err(bench(format!("interrupted by {}", received.name()))),
    };
    if result.is_err() || args.keep {
        let kept = folder.keep();
        eprintln!("soak: the run's logs and records are in {}", kept.display());
    }
    result
}

async fn run(args: &SoakArgs, folder: PathBuf, seed: u64) -> CliResult {
    // On a server given by URL, a fresh schema (PostgreSQL) or database (MySQL/MariaDB),
    // dropped afterwards; else a private server and its database.
    let (mut database, store, scratch): (Option<Box<dyn PrivateDatabase>>, _, _) = match &args.store
    {
        Some(url) => {
            let scratch = superhero_eventflow::scratch::ScratchDatabase::create(Some(url), "soak")
                .await
                .map_err(|e| bench(format!("a scratch database on {}: {e}", redact(url))))?;
            let config = scratch.config().clone();
            (None, config, Some(Scratch(Some(scratch))))
        }
        None => {
            let dir = folder.join("database");
            std::fs::create_dir(&dir).map_err(|e| bench(e.to_string()))?;
            let port = free_addr()?.port();
            let engine = args.engine;
            eprintln!(
                "soak: starting a private {} server on port {port}",
                engine.name()
            );
            let db = tokio::task::spawn_blocking(move || -> CliResult<Box<dyn PrivateDatabase>> {
                Ok(match engine {
                    Engine::Postgres => Box::new(PrivatePostgres::start(&dir, port)?),
                    Engine::Mariadb => Box::new(PrivateMariaDb::start(&dir, port)?),
                })
            })
            .await
            .map_err(|e| bench(e.to_string()))??;
            let store = superhero_eventflow::StoreConfig {
                url: db.url(),
                ..superhero_eventflow::StoreConfig::default()
            };
            (Some(db), store, None)
        }
    };
    let url = store.url.clone();
    let config = json!({
        "core": {
            "log": {"level": "info"},
            // The sale-order workers' supervisor restarts a worker that failed its start
            // (the database stopped) as often as it takes.
            "cluster": {"restart": {"max_start_failures": 1_000, "max_backoff_ms": 2_000}},
        },
        "eventflow": {
            "store": store,
            "certificates": {"secret": format!("the soak's certificates, seed {seed}")},
            // Spokes and peer hubs reach each hub through its proxy (external port, set
            // per hub); a frozen link is noticed after 3 s of silence.
            "hub": {
                "internal_host": "127.0.0.1",
                "external_host": "127.0.0.1",
                "sweep_ms": 250,
                "idle_timeout_ms": 3000,
            },
            "spoke": {"lease_ms": 2000, "idle_timeout_ms": 3000},
        },
        "sale-order": {
            "catalogue": {
                "cape": {"price": 4_900, "stock": 10_000_000},
                "rare": {"price": 100, "stock": 1},
            },
            "areas": ["north"],
            "payment_window_ms": args.payment_window_secs * 1_000,
            "reminders": REMINDERS,
            "repayment_backoff_ms": 1_000,
            "repayment_failures": REPAYMENT_FAILURES,
            "carriers": [CARRIER],
        },
    });
    let launcher = Launcher::new(&folder, "soak.json", &config)?;
    // The driver's own spoke: it creates the schema, then the others start.
    let (node, spoke) = cluster::driver(&config, "superhero bench soak").await?;
    let durability = match &database {
        Some(db) => db.describe().to_owned(),
        None => describe_store(&url),
    };
    let mut members: Vec<Member> = Vec::new();
    let mut proxies = Vec::new();
    for i in 0..usize::from(args.hubs) {
        let port = free_addr()?.port();
        let proxy = Proxy::start(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .map_err(|e| bench(format!("a proxy for hub-{i}: {e}")))?;
        let own = Own {
            args: vec!["--port".into(), port.to_string()],
            env: vec![(
                "SUPERHERO__EVENTFLOW__HUB__EXTERNAL_PORT".into(),
                proxy.port().to_string(),
            )],
        };
        members.push(launcher.start(Role::Hub, i, own)?);
        proxies.push(proxy);
    }
    for i in 0..usize::from(args.consumers) {
        members.push(launcher.start(Role::Consumer, i, Own::default())?);
    }
    let sale_order = if args.orders > 0.0 {
        let addr = free_addr()?;
        let own = Own {
            args: vec!["--workers".into(), args.workers.to_string()],
            env: vec![("SUPERHERO__HTTP__SERVER__LISTEN".into(), addr.to_string())],
        };
        members.push(launcher.start(Role::Workers, 0, own)?);
        Some(addr)
    } else {
        None
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while spoke.connected_hubs().len() < usize::from(args.hubs) {
        if Instant::now() > deadline {
            return Err(bench(format!(
                "the hubs did not come up within 60 s (logs in {})",
                folder.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give the consumers a moment to connect, so the first events are not all a backlog.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let order_plan = match sale_order {
        Some(addr) => Some(Arc::new(orders::Plan {
            addr,
            customer: session(addr, "soak-customer", &folder).await?,
            carrier: session(addr, CARRIER, &folder).await?,
            store: spoke.store().clone(),
            rate: args.orders,
            payment_window_ms: args.payment_window_secs * 1_000,
            reminders: REMINDERS,
            repayment_failures: REPAYMENT_FAILURES,
        })),
        None => None,
    };
    let workers = if order_plan.is_some() {
        format!(
            ", sale-order on {} workers ({} orders/s, payment window {} s)",
            args.workers, args.orders, args.payment_window_secs
        )
    } else {
        String::new()
    };
    println!(
        "soak: {} min on {durability}, {} hubs behind fault proxies, {} consumers{workers}, {} events/s offered, a fault every ~{} s, seed {seed}",
        args.minutes,
        usize::from(args.hubs),
        usize::from(args.consumers),
        args.rate,
        args.fault_every
    );

    // Load and faults.
    let stop = CancellationToken::new();
    let load = Arc::new(load::Load::default());
    let load_task = tokio::spawn(load::run(
        spoke.clone(),
        args.rate,
        stop.clone(),
        load.clone(),
    ));
    let orders = Arc::new(orders::Orders::default());
    let orders_task = order_plan
        .clone()
        .map(|plan| tokio::spawn(orders::run(plan, stop.clone(), orders.clone())));
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(args.minutes.max(0.0) * 60.0);
    let mean = args.fault_every.max(0.5);
    let mut next_fault = started + Duration::from_secs_f64(mean * rng.random_range(0.5..1.5));
    let worker_count = if order_plan.is_some() {
        usize::from(args.workers)
    } else {
        0
    };
    let mut injector = Injector::new(
        members,
        launcher,
        database.take(),
        proxies,
        worker_count,
        rng.clone(),
    );
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        injector.tick()?;
        let now = Instant::now();
        if now < next_fault || now >= end {
            continue;
        }
        next_fault = now + Duration::from_secs_f64(mean * rng.random_range(0.5..1.5));
        if let Some(fault) = injector.inject()? {
            eprintln!(
                "soak [{:>5.1} s] {} · {} acknowledged",
                started.elapsed().as_secs_f64(),
                fault.describe(),
                load.acknowledged()
            );
        }
    }

    // Everything healed, the load stopped, then the drain.
    while !injector.settled() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        injector.tick()?;
    }
    stop.cancel();
    let _ = load_task.await;
    let acked = load.acked();
    eprintln!(
        "soak: load stopped after {:.1} s; waiting up to {} s for {} acknowledged events to be handled and {} orders' sagas to end",
        started.elapsed().as_secs_f64(),
        args.drain_secs,
        acked.len(),
        orders.placed().len()
    );
    let drain_deadline = Instant::now() + Duration::from_secs(args.drain_secs);
    let mut ledger = Ledger {
        acked,
        ..Ledger::default()
    };
    let mut sagas_over = std::collections::HashSet::new();
    loop {
        injector.tick()?;
        (ledger.handled, _) = cluster::read_records(&folder)?;
        ledger.parked = parked(&spoke).await.unwrap_or_default();
        let verdict = checker::check(&ledger);
        let mut sagas_running = 0;
        for order in orders.placed() {
            if sagas_over.contains(&order.id) {
                continue;
            }
            match sale_order::saga::composite(spoke.store(), &order.id).await {
                Ok(events) if sagas::finished(order.expected, &events) => {
                    sagas_over.insert(order.id);
                }
                _ => sagas_running += 1,
            }
        }
        if (verdict.lost.is_empty() && sagas_running == 0) || Instant::now() > drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Some(task) = orders_task {
        task.abort();
    }
    // Let a late redelivery show itself (a lease, two sweeps and a margin), then read
    // the records once every consumer has stopped, so none is written after the reading.
    tokio::time::sleep(Duration::from_secs(5)).await;
    ledger.parked = parked(&spoke).await?;
    ledger.faults = injector.log.clone();
    // The orders' logs, read while the database still runs.
    let sagas = match order_plan {
        Some(_) => Some(Sagas::check(&orders.placed(), spoke.store()).await?),
        None => None,
    };
    let exits = injector.exits();
    tokio::task::block_in_place(|| injector.shutdown());
    let unreadable;
    (ledger.handled, unreadable) = cluster::read_records(&folder)?;

    let verdict = checker::check(&ledger);
    let mut self_test = check_the_checker(&ledger);
    if let Some(sagas) = &sagas
        && self_test.is_ok()
        && let Err(error) = sagas.check_the_checker()
    {
        self_test = Err(error);
    }
    let _ = node.shutdown().await;
    drop(scratch);
    report(
        &ledger,
        &verdict,
        load.as_ref(),
        exits,
        unreadable,
        &self_test,
    );
    if let Some(sagas) = &sagas {
        sagas.report(&orders);
    }
    let sagas_wrong = sagas.as_ref().map_or(0, |s| s.wrong.len());
    if !verdict.passed() || self_test.is_err() || unreadable > 0 || sagas_wrong > 0 {
        let orders_failed = sagas.filter(|s| !s.wrong.is_empty()).map(|s| s.failure());
        return Err(bench(failure(
            &verdict,
            &self_test,
            unreadable,
            orders_failed,
        )));
    }
    println!("  verdict              PASSED");
    Ok(())
}

/// Signs `name` up and in through the sale-order workers' API, once it answers (60 s at
/// most): a signer for the session.
async fn session(
    addr: std::net::SocketAddr,
    name: &str,
    folder: &std::path::Path,
) -> CliResult<superhero_auth::signature::Signer> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match super::wrk::sign_up(addr, name, "the soak's password, long enough").await {
            Ok((id, key)) => {
                return Ok(superhero_auth::signature::Signer::new(
                    id,
                    superhero_auth::signature::SigningKey::hmac(&key),
                ));
            }
            Err(error) if Instant::now() > deadline => {
                return Err(bench(format!(
                    "signing {name} up with the sale-order workers on {addr}: {error} (logs in {})",
                    folder.display()
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The scratch schema or database on a server given by `--store`: dropped when the run
/// ends, however it ends (success, failure, interruption).
struct Scratch(Option<superhero_eventflow::scratch::ScratchDatabase>);

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(scratch) = self.0.take() else {
            return;
        };
        let removed = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(scratch.remove())
        });
        if let Err(error) = removed {
            eprintln!("soak: could not drop the scratch database: {error}");
        }
    }
}

/// A store given by URL, as the report names it.
fn describe_store(url: &str) -> String {
    let engine = match Backend::from_url(url) {
        Ok(Backend::Postgres) => "PostgreSQL",
        _ => "MySQL/MariaDB",
    };
    format!("{engine} ({}, never stopped)", redact(url))
}

/// Every parked event of the soak's domain, with its last error.
async fn parked(
    spoke: &superhero_eventflow::Spoke,
) -> superhero_eventflow::Result<Vec<(uuid::Uuid, String)>> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = spoke
            .store()
            .parked(&ParkedQuery::after(after, 500).domain(DOMAIN))
            .await?;
        let Some(last) = page.last() else {
            return Ok(all);
        };
        after = last.event.position;
        all.extend(
            page.into_iter()
                .map(|p| (p.event.id, p.last_error.unwrap_or_default())),
        );
    }
}

/// Checks the checker on this run's data: hides the records of one handled, acknowledged
/// publish (the verdict must name exactly that event lost), and copies one record as if a
/// second process had handled it again with no fault around (the verdict must name
/// exactly that event doubled). `Err` says what went wrong.
fn check_the_checker(ledger: &Ledger) -> Result<uuid::Uuid, String> {
    let handled: std::collections::HashSet<_> = ledger.handled.iter().map(|h| h.id).collect();
    let Some(victim) = ledger
        .acked
        .iter()
        .find(|a| a.kind == checker::Kind::Publish && handled.contains(&a.id))
        .map(|a| a.id)
    else {
        return Err("no handled publish to hide".into());
    };
    let mut hidden = ledger.clone();
    hidden.handled.retain(|h| h.id != victim);
    let verdict = checker::check(&hidden);
    if verdict.lost != [victim] {
        return Err(format!(
            "hid the records of {victim}, but the checker reported lost {:?}",
            verdict.lost
        ));
    }
    let mut copied = ledger.clone();
    if let Some(mut again) = ledger.handled.iter().find(|h| h.id == victim).cloned() {
        // Long after every fault and record, by a process that was never killed.
        again.at_ms = ledger
            .faults
            .iter()
            .map(|f| f.to_ms.max(f.from_ms))
            .chain(ledger.handled.iter().map(|h| h.at_ms))
            .max()
            .unwrap_or(again.at_ms)
            + 60_000;
        again.pid = u32::MAX;
        copied.handled.push(again);
    }
    let doubled: Vec<uuid::Uuid> = checker::check(&copied)
        .doubled
        .iter()
        .map(|(id, _)| *id)
        .collect();
    if doubled != [victim] {
        return Err(format!(
            "handled {victim} a second time, but the checker reported doubled {doubled:?}"
        ));
    }
    Ok(victim)
}

fn report(
    ledger: &Ledger,
    verdict: &Verdict,
    load: &load::Load,
    exits: u32,
    unreadable: usize,
    self_test: &Result<uuid::Uuid, String>,
) {
    let schedules = ledger
        .acked
        .iter()
        .filter(|a| a.kind == checker::Kind::Schedule)
        .count();
    println!(
        "  acknowledged         {} publishes, {} schedules; {} calls refused (the database or every hub away), {} skipped ({} calls already in flight)",
        ledger.acked.len() - schedules,
        schedules,
        load.refused(),
        load.skipped(),
        load::IN_FLIGHT
    );
    let distinct: std::collections::HashSet<_> = ledger.handled.iter().map(|h| h.id).collect();
    println!(
        "  handled              {} events in {} handler records; {} redeliveries, each explained by a fault; {} handled but never acknowledged",
        distinct.len(),
        ledger.handled.len(),
        verdict.redelivered,
        verdict.unacknowledged_handled
    );
    let (waited, wait_failed) = load.waits();
    println!("  waits                {waited} answered, {wait_failed} failed or timed out");
    println!("  parked               {}", verdict.parked.len());
    for (id, reason) in verdict.parked.iter().take(5) {
        println!("                       {id}: {reason}");
    }
    println!("  lost                 {}", verdict.lost.len());
    println!("  doubled              {}", verdict.doubled.len());
    println!("  scheduled too early  {}", verdict.early.len());
    if unreadable > 0 {
        println!("  unreadable records   {unreadable}");
    }
    let mut kinds: Vec<FaultKind> = ledger.faults.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    let counts: Vec<String> = kinds
        .iter()
        .map(|k| {
            format!(
                "{} ×{}",
                k.name(),
                ledger.faults.iter().filter(|f| f.kind == *k).count()
            )
        })
        .collect();
    println!(
        "  faults               {}; {exits} exits restarted",
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        }
    );
    println!(
        "  publish → handled    p50 {} ms, p99 {} ms, max {} ms",
        quantile(&verdict.publish_latency_ms, 0.5),
        quantile(&verdict.publish_latency_ms, 0.99),
        quantile(&verdict.publish_latency_ms, 1.0)
    );
    println!(
        "  due → handled        p50 {} ms, p99 {} ms, max {} ms (scheduled)",
        quantile(&verdict.schedule_lateness_ms, 0.5),
        quantile(&verdict.schedule_lateness_ms, 0.99),
        quantile(&verdict.schedule_lateness_ms, 1.0)
    );
    for kind in kinds {
        let mut times: Vec<u64> = verdict
            .recovery_ms
            .iter()
            .filter(|(k, _)| *k == kind)
            .filter_map(|(_, t)| *t)
            .collect();
        times.sort_unstable();
        println!(
            "  recovery, {:<16} p50 {} ms, max {} ms (fault → first event published after it handled)",
            kind.name(),
            quantile(&times, 0.5),
            quantile(&times, 1.0)
        );
    }
    match self_test {
        Ok(id) => {
            println!(
                "  checker self-test    hid the records of {id}: reported lost; handled it twice: reported doubled, as it must"
            )
        }
        Err(error) => println!("  checker self-test    FAILED: {error}"),
    }
}

/// The `q` quantile of `sorted` ("-" when empty).
pub(crate) fn quantile(sorted: &[u64], q: f64) -> String {
    if sorted.is_empty() {
        return "-".into();
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)].to_string()
}

fn failure(
    verdict: &Verdict,
    self_test: &Result<uuid::Uuid, String>,
    unreadable: usize,
    orders: Option<String>,
) -> String {
    let mut reasons: Vec<String> = orders.into_iter().collect();
    let ids = |ids: Vec<String>| {
        let more = ids.len().saturating_sub(20);
        let mut shown = ids.into_iter().take(20).collect::<Vec<_>>().join(", ");
        if more > 0 {
            shown.push_str(&format!(" and {more} more"));
        }
        shown
    };
    if !verdict.lost.is_empty() {
        reasons.push(format!(
            "{} acknowledged events lost: {}",
            verdict.lost.len(),
            ids(verdict.lost.iter().map(ToString::to_string).collect())
        ));
    }
    if !verdict.parked.is_empty() {
        reasons.push(format!(
            "{} events parked (deliveries used up by faults; a replay would be a manual step): {}",
            verdict.parked.len(),
            ids(verdict
                .parked
                .iter()
                .map(|(id, reason)| format!("{id} ({reason})"))
                .collect())
        ));
    }
    if !verdict.doubled.is_empty() {
        reasons.push(format!(
            "{} events handled again with no fault to explain it: {}",
            verdict.doubled.len(),
            ids(verdict
                .doubled
                .iter()
                .map(|(id, n)| format!("{id} ({n} times)"))
                .collect())
        ));
    }
    if !verdict.early.is_empty() {
        reasons.push(format!(
            "{} scheduled events handled before their due time: {}",
            verdict.early.len(),
            ids(verdict.early.iter().map(ToString::to_string).collect())
        ));
    }
    if let Err(error) = self_test {
        reasons.push(format!("the checker's self-test failed: {error}"));
    }
    if unreadable > 0 {
        reasons.push(format!("{unreadable} handler records could not be read"));
    }
    format!("soak FAILED: {}", reasons.join("; "))
}

fn bench(message: String) -> CliError {
    CliError::Bench(message)
}
