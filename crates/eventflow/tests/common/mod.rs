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

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use superhero_eventflow::{Clock, ManualClock, SqlStore, StoreConfig, SystemClock, Timestamp};
use tempfile::TempDir;
use uuid::Uuid;

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
    cleanup: Option<Cleanup>,
    _dir: Option<TempDir>,
}

/// What to drop on the server when a test ends.
struct Cleanup {
    admin_url: String,
    statement: String,
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
        let name = format!("ef_test_{}", &Uuid::now_v7().simple().to_string()[16..]);
        let mut config = StoreConfig {
            max_connections: if realtime { 16 } else { 8 },
            acquire_timeout_ms: 30_000,
            ..StoreConfig::default()
        };
        let (dir, cleanup) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                config.url = format!("sqlite://{}/eventflow.db", dir.path().display());
                (Some(dir), None)
            }
            Db::Postgres => {
                let admin_url = required_url(db);
                config.url = admin_url.clone();
                config.schema = Some(name.clone());
                let statement = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
                (
                    None,
                    Some(Cleanup {
                        admin_url,
                        statement,
                    }),
                )
            }
            Db::MySql => {
                let admin_url = required_url(db);
                admin(
                    &admin_url,
                    &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
                )
                .await;
                config.url = with_database(&admin_url, &name);
                let statement = format!("DROP DATABASE IF EXISTS `{name}`");
                (
                    None,
                    Some(Cleanup {
                        admin_url,
                        statement,
                    }),
                )
            }
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
            cleanup,
            _dir: dir,
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
        let Some(cleanup) = self.cleanup.take() else {
            return;
        };
        // Drop runs inside the test's runtime: do the async clean-up on a thread of its own.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a clean-up runtime");
            runtime.block_on(admin(&cleanup.admin_url, &cleanup.statement));
        })
        .join();
        if done.is_err() {
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

/// Runs one statement on a fresh admin connection.
async fn admin(url: &str, statement: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
    conn.execute(AssertSqlSafe(statement.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    let _ = conn.close().await;
}

/// The server URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
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
