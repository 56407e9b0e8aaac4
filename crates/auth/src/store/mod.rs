//! Users, sessions and nonces in the event store's database (companion tables, see
//! `superhero_eventflow::tables`), so every worker and node sees the same: a session
//! ended on one node is refused by the next request on any other, a nonce used on one
//! is refused on all.
//!
//! * `auth_user`: id, name, its lower-case key (unique), the Argon2id PHC string;
//! * `auth_session`: the SHA-256 of the session id (never the id), the user, the HMAC
//!   key sealed with AES-256-GCM ([`seal`]), an optional Ed25519 public key, created /
//!   last seen / absolute expiry / ended times (Unix milliseconds);
//! * `auth_nonce`: (session hash, nonce) until it can no longer be replayed, claimed by
//!   group commits ([`nonces`]) and pruned in the background.

pub mod nonces;
pub mod seal;
pub mod sessions;
pub mod users;

use superhero_eventflow::SqlStore;
use superhero_eventflow::tables::{Migration, MigrationSet, Tables};

use crate::error::Result;

/// The migrations of the auth tables.
pub const MIGRATIONS: MigrationSet = MigrationSet {
    name: "auth",
    sqlite: &[Migration {
        version: 1,
        description: "users, sessions, nonces",
        sql: include_str!("../../migrations/sqlite.sql"),
    }],
    postgres: &[Migration {
        version: 1,
        description: "users, sessions, nonces",
        sql: include_str!("../../migrations/postgres.sql"),
    }],
    mysql: &[Migration {
        version: 1,
        description: "users, sessions, nonces",
        sql: include_str!("../../migrations/mysql.sql"),
    }],
};

/// Opens the auth tables in `store`'s database, creating them when missing.
pub async fn open(store: &SqlStore) -> Result<Tables> {
    let tables = store.tables();
    tables.migrate(&MIGRATIONS).await?;
    Ok(tables)
}

/// The hex SHA-256 of `text`: how session ids and nonces are kept.
pub fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A driver error as the crate's error.
pub(crate) fn failed(operation: &'static str) -> impl FnOnce(sqlx::Error) -> crate::AuthError {
    move |error| superhero_eventflow::Error::from_sqlx(operation, error).into()
}

/// Whether the driver error is a unique-key violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
