//! [`SqlStore`]: the one implementation of every store trait, on SQLite, PostgreSQL and
//! MySQL/MariaDB through sqlx's `any` driver.
//!
//! The statements are written once, with `?` placeholders (numbered `$1, $2, …` for
//! PostgreSQL on the fly), using only types every backend shares: `BIGINT` integers
//! (times are UTC milliseconds), text (ids as hyphenated UUIDs, JSON as text) and bytes.
//! What differs per backend is the schema (one migration set each, under `migrations/`),
//! session set-up, and how a writer takes the append lock.

mod append;
mod batch;
mod delivery;
mod gate;
mod read;
mod records;
mod rows;
mod schedule;
mod status;
pub mod tables;

use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType};
use sqlx::pool::PoolConnectionMetadata;
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Executor, SqlSafeStr, SqlStr, Transaction};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::config::{Backend, SqliteSynchronous, StoreConfig, redact};
use crate::error::{Error, Result};

/// The event store on a SQL database. Cheap to clone: clones share the pool.
///
/// ```no_run
/// # async fn demo() -> superhero_eventflow::Result<()> {
/// use superhero_eventflow::{EventLog, NewEvent, SqlStore, StoreConfig};
///
/// let store = SqlStore::open(&StoreConfig::with_url("sqlite://data/eventflow.db")).await?;
/// let appended = store.append_one(NewEvent::new("order", "o-1", "order-placed")).await?;
/// assert_eq!(appended.version, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    clock: Arc<dyn Clock>,
    /// SQLite files: the process-wide write gate (see `gate`).
    gate: Option<gate::Gate>,
}

impl SqlStore {
    /// Connects, applies the migrations and returns the store.
    ///
    /// Fails with `E_EVENTFLOW_STORE_CONFIG` for a URL it cannot use,
    /// `E_EVENTFLOW_STORE_UNAVAILABLE` when the database cannot be reached within
    /// `acquire_timeout_ms`, and `E_EVENTFLOW_STORE_MIGRATION` when the schema cannot be set up.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`SqlStore::open`] with another clock (tests use a [`crate::ManualClock`]).
    pub async fn open_with_clock(config: &StoreConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::connect(config, clock, true).await
    }

    /// Opens a store that exists already, changing nothing: no SQLite file or folder and
    /// no PostgreSQL schema is created, no migration is applied (what operators' tools
    /// use, so a mistyped URL is an error and a read-only account suffices).
    ///
    /// Fails like [`SqlStore::open`], with `E_EVENTFLOW_STORE_CONFIG` when there is no
    /// SQLite file at the path, and `E_EVENTFLOW_STORE_SCHEMA` when the database holds no
    /// eventflow schema or an older one than this build's.
    pub async fn open_existing(config: &StoreConfig) -> Result<Self> {
        let store = Self::connect(config, Arc::new(SystemClock), false).await?;
        if let Err(error) = crate::status::StatusStore::ping(&store).await {
            store.close().await;
            return Err(error);
        }
        Ok(store)
    }

    async fn connect(config: &StoreConfig, clock: Arc<dyn Clock>, create: bool) -> Result<Self> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(install_default_drivers);

        let backend = config.backend()?;
        let schema = schema_name(backend, config.schema.as_deref())?;
        let (url, in_memory) = match backend {
            Backend::Sqlite => sqlite_url(&config.url, create)?,
            _ => (config.url.clone(), false),
        };
        let options = url.parse().map_err(|source| Error::Config {
            reason: format!("cannot parse the store URL {:?}", redact(&config.url)),
            source: Some(source),
        })?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms.max(1)));
        if in_memory {
            // Every connection to `:memory:` is its own database: keep exactly one, forever.
            pool = pool
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let session = Session {
            backend,
            schema: schema.clone(),
            synchronous: config.sqlite_synchronous,
        };
        let pool = pool
            .after_connect(move |conn, meta| {
                let session = session.clone();
                Box::pin(async move { session.prepare(conn, meta).await })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::from_sqlx("connect to the database", e))?;

        let gate = match backend {
            Backend::Sqlite if !in_memory => {
                let (gate, first) = gate::for_file(Path::new(sqlite_path(&url)));
                if first {
                    gate::spawn_checkpointer(url.clone(), &gate);
                }
                Some(gate)
            }
            _ => None,
        };
        let store = SqlStore {
            pool,
            backend,
            clock,
            gate,
        };
        if !create {
            return Ok(store);
        }
        if let Some(schema) = &schema {
            let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            store
                .pool
                .execute(AssertSqlSafe(create))
                .await
                .map_err(|e| Error::from_sqlx("create the PostgreSQL schema", e))?;
        }
        store.migrate().await?;
        tracing::debug!(backend = backend.name(), url = %redact(&config.url), "eventflow store open");
        Ok(store)
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool now: (open connections, idle ones, the configured maximum).
    pub fn pool_usage(&self) -> (u32, usize, u32) {
        (
            self.pool.size(),
            self.pool.num_idle(),
            self.pool.options().get_max_connections(),
        )
    }

    /// Closes the pool; later operations fail with `E_EVENTFLOW_STORE_UNAVAILABLE`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The newest migration of the eventflow schema (`migrations/<backend>/000N_*.sql`).
    pub(crate) const LATEST_MIGRATION: i64 = 4;

    async fn migrate(&self) -> Result<()> {
        let (schema, orphan_index, hub_spokes, consumers) = match self.backend {
            Backend::Sqlite => (
                include_str!("../../migrations/sqlite/0001_eventflow.sql"),
                include_str!("../../migrations/sqlite/0002_orphan_index.sql"),
                include_str!("../../migrations/sqlite/0003_hub_spokes.sql"),
                include_str!("../../migrations/sqlite/0004_consumers.sql"),
            ),
            Backend::Postgres => (
                include_str!("../../migrations/postgres/0001_eventflow.sql"),
                include_str!("../../migrations/postgres/0002_orphan_index.sql"),
                include_str!("../../migrations/postgres/0003_hub_spokes.sql"),
                include_str!("../../migrations/postgres/0004_consumers.sql"),
            ),
            Backend::MySql => (
                include_str!("../../migrations/mysql/0001_eventflow.sql"),
                include_str!("../../migrations/mysql/0002_orphan_index.sql"),
                include_str!("../../migrations/mysql/0003_hub_spokes.sql"),
                include_str!("../../migrations/mysql/0004_consumers.sql"),
            ),
        };
        let migration = |version, description: &str, sql: &'static str| {
            Migration::new(
                version,
                description.to_owned().into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        };
        let migrations = vec![
            migration(1, "eventflow schema", schema),
            migration(2, "orphan index", orphan_index),
            migration(3, "hub spokes", hub_spokes),
            migration(4, "consumer groups", consumers),
        ];
        debug_assert_eq!(migrations.len() as i64, Self::LATEST_MIGRATION);
        self.run_migrations(migrations, "eventflow_migrations")
            .await
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A static statement, with placeholders numbered for PostgreSQL.
    pub(crate) fn sql(&self, text: &'static str) -> SqlStr {
        match self.backend {
            Backend::Postgres => AssertSqlSafe(number_placeholders(text)).into_sql_str(),
            _ => text.into_sql_str(),
        }
    }

    /// A statement built at run time; it must contain placeholders only, never data.
    pub(crate) fn dynamic_sql(&self, text: String) -> SqlStr {
        match self.backend {
            Backend::Postgres => AssertSqlSafe(number_placeholders(&text)).into_sql_str(),
            _ => AssertSqlSafe(text).into_sql_str(),
        }
    }

    /// Starts a write transaction; SQLite takes its write lock at once, so a writer never
    /// fails half-way on a lock upgrade.
    pub(crate) async fn begin_write(
        &self,
        operation: &'static str,
    ) -> Result<Transaction<'static, Any>> {
        let begun = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            _ => self.pool.begin().await,
        };
        begun.map_err(|e| Error::from_sqlx(operation, e))
    }

    /// Holds the SQLite write gate (nothing on other backends) until dropped; take it
    /// around every write statement or write transaction.
    pub(crate) async fn write_gate(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs a conditional update or delete; true when it matched exactly one row (on
    /// MySQL too: the driver reports matched, not changed, rows).
    pub(crate) async fn one_row(
        &self,
        query: AnyQuery<'_>,
        operation: &'static str,
    ) -> Result<bool> {
        let _gate = self.write_gate().await;
        let done = query.execute(&self.pool).await.context(operation)?;
        Ok(done.rows_affected() == 1)
    }
}

/// A statement with its binds, ready to run (sqlx's `any` driver).
pub type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

/// Per-connection settings applied right after connecting.
#[derive(Debug, Clone)]
struct Session {
    backend: Backend,
    schema: Option<String>,
    synchronous: SqliteSynchronous,
}

impl Session {
    async fn prepare(
        &self,
        conn: &mut AnyConnection,
        _meta: PoolConnectionMetadata,
    ) -> sqlx::Result<()> {
        let statements = match self.backend {
            Backend::Sqlite => {
                let synchronous = match self.synchronous {
                    SqliteSynchronous::Normal => "NORMAL",
                    SqliteSynchronous::Full => "FULL",
                };
                vec![
                    "PRAGMA journal_mode = WAL".to_owned(),
                    format!("PRAGMA synchronous = {synchronous}"),
                    "PRAGMA foreign_keys = ON".to_owned(),
                    "PRAGMA busy_timeout = 30000".to_owned(),
                    // Checkpoints run in the background (`gate`); this is the safety net
                    // should that task not run: the WAL stays under ~40 MB.
                    "PRAGMA wal_autocheckpoint = 10000".to_owned(),
                ]
            }
            Backend::Postgres => match &self.schema {
                Some(schema) => vec![format!("SET search_path TO \"{schema}\"")],
                None => Vec::new(),
            },
            // Plain read committed, as on PostgreSQL: each statement sees the latest commits.
            Backend::MySql => {
                vec!["SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_owned()]
            }
        };
        for statement in statements {
            conn.execute(AssertSqlSafe(statement)).await?;
        }
        Ok(())
    }
}

/// The validated PostgreSQL schema name, if one is configured.
fn schema_name(backend: Backend, schema: Option<&str>) -> Result<Option<String>> {
    let Some(schema) = schema else {
        return Ok(None);
    };
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if backend != Backend::Postgres {
        return Err(config_error(
            "`schema` is a PostgreSQL option; remove it for this URL",
        ));
    }
    if !valid {
        return Err(config_error(format!(
            "schema {schema:?} must be 1 to 63 ASCII letters, digits or underscores, not starting with a digit"
        )));
    }
    Ok(Some(schema.to_owned()))
}

fn config_error(reason: impl Into<String>) -> Error {
    Error::Config {
        reason: reason.into(),
        source: None,
    }
}

/// Makes a SQLite URL create its file (and folder) when missing. Returns the URL and
/// whether it names an in-memory database.
/// The URL to connect with, and whether it is in memory. With `create`, the file's folder
/// is created and the file opened read-write-create; without, the file must exist.
fn sqlite_url(url: &str, create: bool) -> Result<(String, bool)> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let in_memory =
        path == ":memory:" || path.is_empty() || query.is_some_and(|q| q.contains("mode=memory"));
    if in_memory {
        return Ok((url.to_owned(), true));
    }
    if !create {
        if !Path::new(path).is_file() {
            return Err(config_error(format!(
                "there is no SQLite store at {path} (check the URL; only a node creates a store)"
            )));
        }
        let url = match query {
            Some(query) if query.contains("mode=") => url.to_owned(),
            Some(_) => format!("{url}&mode=rw"),
            None => format!("{url}?mode=rw"),
        };
        return Ok((url, false));
    }
    if let Some(folder) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|e| {
            config_error(format!(
                "cannot create the folder {} for the SQLite store: {e}",
                folder.display()
            ))
        })?;
    }
    let url = match query {
        Some(query) if query.contains("mode=") => url.to_owned(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    };
    Ok((url, false))
}

/// The file path of a SQLite URL (as returned by `sqlite_url`).
fn sqlite_path(url: &str) -> &str {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split_once('?').map_or(rest, |(path, _)| path)
}

/// Rewrites `?` placeholders as `$1, $2, …` (the statements contain no `?` elsewhere).
fn number_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `?, ?, ?` with `n` placeholders.
pub(crate) fn placeholders(n: usize) -> String {
    let mut out = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('?');
    }
    out
}

/// Adds the operation name to a driver error.
pub(crate) trait Context<T> {
    /// Classifies the error as one of the crate's.
    fn context(self, operation: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, sqlx::Error> {
    fn context(self, operation: &'static str) -> Result<T> {
        self.map_err(|e| Error::from_sqlx(operation, e))
    }
}

/// A `u64` from the API as a database `BIGINT`.
pub(crate) fn to_db(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| Error::invalid(format!("{what} {value} is larger than the store can hold")))
}

/// A database `BIGINT` as a `u64` of the API.
pub(crate) fn from_db(value: i64, operation: &'static str, what: &str) -> Result<u64> {
    u64::try_from(value)
        .map_err(|_| Error::decode(operation, format!("{what} {value} is negative")))
}

/// A stored UUID.
pub(crate) fn parse_id(text: &str, operation: &'static str) -> Result<Uuid> {
    Uuid::parse_str(text)
        .map_err(|e| Error::decode(operation, format!("stored id {text:?} is not a UUID: {e}")))
}

/// A duration as a millisecond count for a lease.
pub(crate) fn lease_end(now: Timestamp, lease: Duration) -> i64 {
    (now + lease).as_millis()
}

/// True when the driver error is a unique-key violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True when the driver error is a foreign-key violation.
pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            number_placeholders("a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(placeholders(3), "?, ?, ?");
    }

    #[test]
    fn sqlite_urls_create_their_file_unless_in_memory() {
        assert_eq!(
            sqlite_url("sqlite::memory:", true).ok(),
            Some(("sqlite::memory:".into(), true))
        );
        let dir = std::env::temp_dir().join(format!("eventflow-url-{}", Uuid::now_v7()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let (rewritten, memory) = sqlite_url(&url, true).unwrap();
        assert!(!memory);
        assert_eq!(rewritten, format!("{url}?mode=rwc"));
        assert!(dir.is_dir(), "the folder is created");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn schema_is_validated_and_postgres_only() {
        assert!(schema_name(Backend::Postgres, Some("ef_1")).is_ok());
        assert!(schema_name(Backend::Postgres, Some("x\"; DROP")).is_err());
        assert!(schema_name(Backend::Sqlite, Some("ef")).is_err());
    }
}
