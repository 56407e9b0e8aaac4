//! Throw-away databases for tests and benchmarks.
//!
//! [`ScratchDatabase::create`] gives a fresh, isolated place to open a store: a new
//! SQLite file in a temporary folder, a new schema on a PostgreSQL server, or a new
//! database on a MySQL/MariaDB server (the server URL's user must be allowed to create
//! one). [`ScratchDatabase::remove`] drops it again. Names are unique per call, so
//! concurrent tests never share data.
//!
//! ```no_run
//! # async fn demo() -> superhero_eventflow::Result<()> {
//! use superhero_eventflow::{SqlStore, scratch::ScratchDatabase};
//!
//! let scratch = ScratchDatabase::create(Some("postgres://postgres@127.0.0.1:5432/test"), "ef_test").await?;
//! let store = SqlStore::open(scratch.config()).await?;
//! // …
//! store.close().await;
//! scratch.remove().await?;
//! # Ok(()) }
//! ```

use std::path::PathBuf;

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use uuid::Uuid;

use crate::config::{Backend, StoreConfig, redact};
use crate::error::{Error, Result};

/// A fresh, isolated database and how to remove it.
#[derive(Debug)]
pub struct ScratchDatabase {
    config: StoreConfig,
    folder: Option<PathBuf>,
    cleanup: Option<Cleanup>,
}

#[derive(Debug, Clone)]
struct Cleanup {
    admin_url: String,
    statement: String,
}

impl ScratchDatabase {
    /// Creates a scratch database on the server at `server_url`, or a SQLite file in a
    /// new temporary folder when `None` (a `sqlite:` URL is used as it is). `prefix`
    /// starts the generated name (`ef_test`, `ef_bench`, …).
    pub async fn create(server_url: Option<&str>, prefix: &str) -> Result<ScratchDatabase> {
        let name = format!("{prefix}_{}", &Uuid::now_v7().simple().to_string()[16..]);
        let mut config = StoreConfig::default();
        let Some(url) = server_url else {
            let folder = std::env::temp_dir().join(&name);
            config.url = format!("sqlite://{}/eventflow.db", folder.display());
            return Ok(ScratchDatabase {
                config,
                folder: Some(folder),
                cleanup: None,
            });
        };
        let cleanup = match Backend::from_url(url)? {
            Backend::Sqlite => {
                config.url = url.to_owned();
                None
            }
            Backend::Postgres => {
                config.url = url.to_owned();
                config.schema = Some(name.clone());
                Some(Cleanup {
                    admin_url: url.to_owned(),
                    statement: format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
                })
            }
            Backend::MySql => {
                admin(
                    url,
                    &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
                )
                .await?;
                config.url = with_database(url, &name);
                Some(Cleanup {
                    admin_url: url.to_owned(),
                    statement: format!("DROP DATABASE IF EXISTS `{name}`"),
                })
            }
        };
        Ok(ScratchDatabase {
            config,
            folder: None,
            cleanup,
        })
    }

    /// The store configuration that opens the scratch database (adjust a clone for
    /// pool sizes and timeouts).
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Drops the schema or database, or deletes the SQLite folder. Close every store
    /// opened on it first.
    pub async fn remove(&self) -> Result<()> {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
        if let Some(cleanup) = &self.cleanup {
            admin(&cleanup.admin_url, &cleanup.statement).await?;
        }
        Ok(())
    }
}

/// Runs one statement on a fresh connection to `url`.
async fn admin(url: &str, statement: &str) -> Result<()> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(|e| Error::Config {
            reason: format!("cannot connect to {}: {e}", redact(url)),
            source: None,
        })?;
    conn.execute(AssertSqlSafe(statement.to_owned()))
        .await
        .map_err(|e| Error::from_sqlx("prepare a scratch database", e))?;
    let _ = conn.close().await;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("mysql://root@h:3306/test", "x"),
            "mysql://root@h:3306/x"
        );
        assert_eq!(with_database("mysql://h?ssl=1", "x"), "mysql://h/x?ssl=1");
        assert_eq!(with_database("mysql://h:1", "x"), "mysql://h:1/x");
    }

    #[tokio::test]
    async fn a_sqlite_scratch_folder_is_removed() {
        let scratch = ScratchDatabase::create(None, "ef_unit").await.unwrap();
        let store = crate::SqlStore::open(scratch.config()).await.unwrap();
        store.close().await;
        let folder = scratch.folder.clone().unwrap();
        assert!(folder.exists());
        scratch.remove().await.unwrap();
        assert!(!folder.exists());
    }
}
