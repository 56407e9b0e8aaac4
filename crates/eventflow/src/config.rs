//! Store configuration, read from the config key `eventflow.store`.
//!
//! ```toml
//! [eventflow.store]
//! url = "sqlite://data/eventflow.db"   # or postgres://…, mysql://… (MariaDB too)
//! max_connections = 10
//! acquire_timeout_ms = 10000
//! # schema = "eventflow"               # PostgreSQL only: created if missing
//! # sqlite_synchronous = "normal"      # SQLite only: "normal" (default) or "full"
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The default store: one SQLite file under `./data`.
pub const DEFAULT_URL: &str = "sqlite://data/eventflow.db";

/// How to reach the event store (`eventflow.store`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Connection URL: `sqlite://path/file.db`, `sqlite::memory:`, `postgres://…`,
    /// `postgresql://…`, `mysql://…` or `mariadb://…`.
    pub url: String,
    /// Largest number of pooled connections (an in-memory SQLite store always uses one).
    pub max_connections: u32,
    /// How long an operation waits for a connection before failing with
    /// `E_EVENTFLOW_STORE_UNAVAILABLE`, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// PostgreSQL only: the schema holding the tables (created when missing); the
    /// connection's default schema when unset.
    pub schema: Option<String>,
    /// SQLite only: `normal` (durable across process crashes, the default with WAL) or
    /// `full` (also across power loss, slower).
    pub sqlite_synchronous: SqliteSynchronous,
}

/// SQLite's `synchronous` setting for the WAL journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// Sync at checkpoints only: a process crash loses nothing, a power loss may lose the
    /// last commits.
    #[default]
    Normal,
    /// Sync at every commit.
    Full,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: DEFAULT_URL.to_owned(),
            max_connections: 10,
            acquire_timeout_ms: 10_000,
            schema: None,
            sqlite_synchronous: SqliteSynchronous::Normal,
        }
    }
}

impl StoreConfig {
    /// The default configuration with another URL.
    pub fn with_url(url: impl Into<String>) -> Self {
        StoreConfig {
            url: url.into(),
            ..StoreConfig::default()
        }
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Result<Backend> {
        Backend::from_url(&self.url)
    }
}

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Backend {
    /// SQLite (embedded; one file in WAL mode, or in memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The backend named by a URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            _ => Err(Error::Config {
                reason: format!(
                    "the store URL must start with sqlite:, postgres:, postgresql:, mysql: or mariadb:, got {:?}",
                    redact(url)
                ),
                source: None,
            }),
        }
    }

    /// A short lower-case name: `sqlite`, `postgres` or `mysql`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite::memory:").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("mariadb://h/db").ok(),
            Some(Backend::MySql)
        );
        let error = Backend::from_url("redis://h").map_err(|e| e.code());
        assert_eq!(error, Err("E_EVENTFLOW_STORE_CONFIG"));
    }

    #[test]
    fn config_reads_from_json_with_defaults() {
        let config: StoreConfig =
            serde_json::from_str(r#"{"url":"postgres://u@h/db","schema":"ef"}"#).unwrap();
        assert_eq!(config.max_connections, 10);
        assert_eq!(config.schema.as_deref(), Some("ef"));
        let unknown = serde_json::from_str::<StoreConfig>(r#"{"ulr":"x"}"#);
        assert!(
            unknown.is_err(),
            "a misspelt key is an error, not a silent default"
        );
    }

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("mysql://root:secret@h:3306/db"),
            "mysql://root:***@h:3306/db"
        );
        assert_eq!(
            redact("postgres://postgres@h/db"),
            "postgres://postgres@h/db"
        );
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
