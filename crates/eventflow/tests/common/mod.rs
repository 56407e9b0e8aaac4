//! Shared test scaffolding: a fresh, isolated store per test on each backend.
//!
//! * SQLite: a new database file in a temporary folder.
//! * PostgreSQL (`EVENTFLOW_TEST_POSTGRES_URL`): a new schema, dropped afterwards.
//! * MySQL/MariaDB (`EVENTFLOW_TEST_MYSQL_URL`): a new database, dropped afterwards.
//!
//! [`conformance!`] turns one async test body into a test per backend. The PostgreSQL and
//! MySQL variants are `#[ignore]`d, reported as skipped, when their URL is not set.

#![allow(dead_code)]

#[macro_use]
pub mod cluster;

use std::sync::Arc;
use std::time::Duration;

use superhero_eventflow::scratch::ScratchDatabase;
use superhero_eventflow::{Clock, ManualClock, SqlStore, StoreConfig, SystemClock, Timestamp};

/// The backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
    MySql,
}

/// The variable holding the server URL of a backend.
pub fn url_variable(db: Db) -> &'static str {
    match db {
        Db::Sqlite => "",
        Db::Postgres => "EVENTFLOW_TEST_POSTGRES_URL",
        Db::MySql => "EVENTFLOW_TEST_MYSQL_URL",
    }
}

/// The server URL of a backend, if configured.
pub fn server_url(db: Db) -> Option<String> {
    std::env::var(url_variable(db))
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh store with a manual clock, removed when dropped.
pub struct Harness {
    pub store: SqlStore,
    pub clock: ManualClock,
    pub db: Db,
    realtime: bool,
    config: StoreConfig,
    scratch: Option<ScratchDatabase>,
}

/// A start time for manual clocks: 2026-01-01T00:00:00Z.
pub const T0: Timestamp = Timestamp::from_millis(1_767_225_600_000);

impl Harness {
    /// Opens a fresh store on `db` with a manual clock; panics with the reason when the
    /// server is unusable.
    pub async fn new(db: Db) -> Harness {
        Self::open(db, false).await
    }

    /// Opens a fresh store on `db` on the system clock (hubs and spokes run in real time).
    pub async fn realtime(db: Db) -> Harness {
        Self::open(db, true).await
    }

    async fn open(db: Db, realtime: bool) -> Harness {
        let server = match db {
            Db::Sqlite => None,
            Db::Postgres | Db::MySql => Some(required_url(db)),
        };
        let scratch = ScratchDatabase::create(server.as_deref(), "ef_test")
            .await
            .unwrap_or_else(|e| panic!("cannot prepare the {db:?} test database: {e}"));
        let config = StoreConfig {
            max_connections: if realtime { 16 } else { 8 },
            acquire_timeout_ms: 30_000,
            ..scratch.config().clone()
        };
        let clock = ManualClock::new(T0);
        let store_clock: Arc<dyn Clock> = if realtime {
            Arc::new(SystemClock)
        } else {
            Arc::new(clock.clone())
        };
        let store = SqlStore::open_with_clock(&config, store_clock)
            .await
            .unwrap_or_else(|e| panic!("cannot open the {db:?} test store: {e} ({})", e.code()));
        Harness {
            store,
            clock,
            db,
            realtime,
            config,
            scratch: Some(scratch),
        }
    }

    /// Another store on the same database (as a second process would open it).
    pub async fn reopen(&self) -> SqlStore {
        let clock: Arc<dyn Clock> = if self.realtime {
            Arc::new(SystemClock)
        } else {
            Arc::new(self.clock.clone())
        };
        SqlStore::open_with_clock(&self.config, clock)
            .await
            .expect("reopen the test store")
    }

    /// The configuration that opens this store (for another process, say).
    pub fn store_config(&self) -> &StoreConfig {
        &self.config
    }

    /// The shared clock's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Moves the shared clock forward.
    pub fn advance(&self, duration: Duration) {
        self.clock.advance(duration);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let Some(scratch) = self.scratch.take() else {
            return;
        };
        // Drop runs inside the test's runtime: do the async clean-up on a thread of its own.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a clean-up runtime");
            runtime.block_on(scratch.remove())
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("warning: could not drop the test schema or database");
        }
    }
}

fn required_url(db: Db) -> String {
    server_url(db).unwrap_or_else(|| {
        panic!(
            "{} is not set; this test is only run when it is (it should have been ignored)",
            url_variable(db)
        )
    })
}

/// Declares, for each async fn `name(h: &Harness)`, a module `name` with one test per
/// backend: `name::sqlite`, `name::postgres`, `name::mysql`.
#[allow(unused_macros)]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::common::{Db, Harness};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let harness = Harness::new(Db::Sqlite).await;
                    super::$name(&harness).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(eventflow_no_postgres, ignore = "skipped: EVENTFLOW_TEST_POSTGRES_URL not set")]
                async fn postgres() {
                    let harness = Harness::new(Db::Postgres).await;
                    super::$name(&harness).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(eventflow_no_mysql, ignore = "skipped: EVENTFLOW_TEST_MYSQL_URL not set")]
                async fn mysql() {
                    let harness = Harness::new(Db::MySql).await;
                    super::$name(&harness).await;
                }
            }
        )*
    };
}
