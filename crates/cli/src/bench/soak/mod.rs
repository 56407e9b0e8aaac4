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
mod report;
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

use self::checker::Ledger;
use self::cluster::{Launcher, Member, Own, Role};
use self::database::{PrivateDatabase, PrivateMariaDb, PrivatePostgres};
use self::faults::Injector;
use self::proxy::Proxy;
pub(crate) use self::report::quantile;
use self::report::{failure, report};
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
    let self_test = checker::self_test(&ledger);
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
    let orders_failed = sagas.as_ref().and_then(Sagas::failure);
    if !verdict.passed() || self_test.is_err() || unreadable > 0 || orders_failed.is_some() {
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

fn bench(message: String) -> CliError {
    CliError::Bench(message)
}
