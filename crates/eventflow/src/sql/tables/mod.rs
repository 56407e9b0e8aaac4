//! Tables of your own next to the events: read models, sessions, nonces. They live in the
//! store's database, share its pool, its per-connection settings (the PostgreSQL schema,
//! SQLite's WAL) and, on SQLite, its process-wide write gate, so writers of both never
//! trip over each other with `SQLITE_BUSY`.
//!
//! Statements are written with `?` placeholders (numbered `$1, $2, …` for PostgreSQL on
//! the fly) and sqlx's `any` driver types: `BIGINT`, text, bytes. Each table set has its
//! own migrations, one list per backend, recorded in its own bookkeeping table
//! (`<name>_migrations`). [`Batcher`] coalesces concurrent calls into one transaction
//! (group commit) or one query.
//!
//! ```no_run
//! # async fn demo(store: superhero_eventflow::SqlStore) -> superhero_eventflow::Result<()> {
//! use superhero_eventflow::tables::{Migration, MigrationSet};
//!
//! const SQL: &[Migration] = &[Migration {
//!     version: 1,
//!     description: "notes",
//!     sql: "CREATE TABLE notes (id VARCHAR(64) PRIMARY KEY, body TEXT NOT NULL)",
//! }];
//! let tables = store.tables();
//! tables
//!     .migrate(&MigrationSet { name: "notes", sqlite: SQL, postgres: SQL, mysql: SQL })
//!     .await?;
//! let mut write = tables.write("add a note").await?;
//! tables
//!     .query("INSERT INTO notes (id, body) VALUES (?, ?)")
//!     .bind("n-1")
//!     .bind("hello")
//!     .execute(write.connection())
//!     .await
//!     .map_err(|e| superhero_eventflow::Error::from_sqlx("add a note", e))?;
//! write.commit().await?;
//! # Ok(()) }
//! ```

mod batch;

pub use batch::Batcher;

use sqlx::migrate::{Migration as SqlxMigration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, SqlSafeStr, Transaction};
use tokio::sync::OwnedMutexGuard;

pub use super::AnyQuery;
use super::{Context, SqlStore};
use crate::config::Backend;
use crate::error::{Error, Result};

/// One migration: a version (increasing), a description and the SQL (several statements
/// separated by `;` are allowed).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Applied in increasing order, each once.
    pub version: i64,
    /// For the bookkeeping table and errors.
    pub description: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// The migrations of one table set, per backend.
#[derive(Debug, Clone, Copy)]
pub struct MigrationSet {
    /// The set's name: its bookkeeping table is `<name>_migrations` (ASCII letters,
    /// digits and `_`).
    pub name: &'static str,
    /// For SQLite.
    pub sqlite: &'static [Migration],
    /// For PostgreSQL.
    pub postgres: &'static [Migration],
    /// For MySQL/MariaDB.
    pub mysql: &'static [Migration],
}

/// Access to companion tables in the store's database (see the module docs).
#[derive(Debug, Clone)]
pub struct Tables {
    store: SqlStore,
}

/// An open write transaction, holding the SQLite write gate until it ends.
pub struct Write {
    tx: Transaction<'static, Any>,
    _gate: Option<OwnedMutexGuard<()>>,
    operation: &'static str,
}

impl SqlStore {
    /// Companion tables in this store's database.
    pub fn tables(&self) -> Tables {
        Tables {
            store: self.clone(),
        }
    }
}

impl Tables {
    /// The database backend (to pick a statement where dialects differ).
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Applies the set's migrations for this backend that are not applied yet. Processes
    /// racing to migrate a new SQLite file retry; PostgreSQL and MySQL lock.
    pub async fn migrate(&self, set: &MigrationSet) -> Result<()> {
        if set.name.is_empty()
            || !set
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::invalid(format!(
                "migration set name {:?} must be ASCII letters, digits or underscores",
                set.name
            )));
        }
        let list = match self.backend() {
            Backend::Sqlite => set.sqlite,
            Backend::Postgres => set.postgres,
            Backend::MySql => set.mysql,
        };
        let migrations = list
            .iter()
            .map(|m| {
                SqlxMigration::new(
                    m.version,
                    m.description.into(),
                    MigrationType::Simple,
                    m.sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        self.store
            .run_migrations(migrations, &format!("{}_migrations", set.name))
            .await
    }

    /// A statement with `?` placeholders, renumbered for PostgreSQL. Bind its values and
    /// run it on [`Tables::pool`] (reads) or a [`Write`]'s connection.
    pub fn query(&self, sql: &'static str) -> AnyQuery<'static> {
        sqlx::query(self.store.sql(sql))
    }

    /// A statement built at run time (placeholder lists, say); it must hold placeholders
    /// only, never data.
    pub fn dynamic_query(&self, sql: String) -> AnyQuery<'static> {
        sqlx::query(self.store.dynamic_sql(sql))
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        self.store.pool()
    }

    /// Begins a write transaction (SQLite: `BEGIN IMMEDIATE` under the write gate).
    pub async fn write(&self, operation: &'static str) -> Result<Write> {
        let gate = self.store.write_gate().await;
        let tx = self.store.begin_write(operation).await?;
        Ok(Write {
            tx,
            _gate: gate,
            operation,
        })
    }

    /// Holds the SQLite write gate (nothing on other backends) until dropped: for a
    /// single write statement run on [`Tables::pool`] without a transaction.
    pub async fn lock(&self) -> WriteLock {
        WriteLock {
            _gate: self.store.write_gate().await,
        }
    }

    /// The current time on the store's clock.
    pub fn now(&self) -> crate::clock::Timestamp {
        self.store.now()
    }
}

/// The SQLite write gate, held until dropped (see [`Tables::lock`]).
pub struct WriteLock {
    _gate: Option<OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for WriteLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteLock").finish_non_exhaustive()
    }
}

impl Write {
    /// The transaction's connection, to execute statements on.
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Commits (and releases the write gate).
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.context(self.operation)
    }
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Write")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Runs `migrations` with the bookkeeping table `table`.
    pub(crate) async fn run_migrations(
        &self,
        migrations: Vec<SqlxMigration>,
        table: &str,
    ) -> Result<()> {
        let mut migrator = Migrator::with_migrations(migrations);
        // A bookkeeping table of its own, so other migration sets in the same database
        // are neither seen as missing nor disturbed.
        migrator.dangerous_set_table_name(table.to_owned());
        // Processes starting together race to migrate. SQLite has no advisory lock, so
        // the losers fail their (rolled back) migration transaction; on MySQL/MariaDB,
        // whose DDL is not transactional, a process can find another's migration
        // recorded as not finished yet ("partially applied") while it runs. Running
        // again, a little later, finds the winner's migration applied and does nothing;
        // a migration that really stopped half-way still fails after the last attempt.
        let attempts = 6;
        let mut attempt = 1;
        loop {
            match migrator.run(self.pool()).await {
                Ok(()) => return Ok(()),
                Err(source) if attempt < attempts => {
                    tracing::debug!(error = %source, attempt, "migration raced another process; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                    attempt += 1;
                }
                Err(source) => {
                    return Err(Error::Migration {
                        reason: source.to_string(),
                        source,
                    });
                }
            }
        }
    }
}
