//! "No duplicate title by the same author within an hour", enforced by the database: a
//! table (`mb_title_claim`) holds the latest post of each (author, title), keyed by the
//! SHA-256 of both. A request claims its key with one conditional upsert — it wins when
//! the key is new, when its holder's claim is older than the window, or when the holder
//! is this very request — so of two requests racing for one title exactly one wins, on
//! any number of validators. The claim names its request, so a validator that runs again
//! for the same request (its event was redelivered) finds its own claim and goes on.
//!
//! Concurrent claims are written together, one transaction per batch ([`Batcher`]).

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::Row;
use superhero_core::CancellationToken;
use superhero_eventflow::tables::{Batcher, Migration, MigrationSet, Tables};
use superhero_eventflow::{Backend, Error, Event, SqlStore};

use crate::error::BoardError;

/// The claims' table, per backend.
pub const MIGRATIONS: MigrationSet = MigrationSet {
    name: "message_board_titles",
    sqlite: &[Migration {
        version: 1,
        description: "title claims",
        sql: include_str!("../../../migrations/titles-sqlite.sql"),
    }],
    postgres: &[Migration {
        version: 1,
        description: "title claims",
        sql: include_str!("../../../migrations/titles-postgres.sql"),
    }],
    mysql: &[Migration {
        version: 1,
        description: "title claims",
        sql: include_str!("../../../migrations/titles-mysql.sql"),
    }],
};

/// Most claims written in one transaction.
const BATCH: usize = 256;

/// The title as compared: trimmed, white space collapsed, lower case.
pub fn normalize(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The claim key of `author`'s `title`.
pub fn key(author_id: &str, title: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(author_id.as_bytes());
    hash.update([0]);
    hash.update(normalize(title).as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One claim to decide.
#[derive(Debug, Clone)]
struct Claim {
    key: String,
    post_id: String,
    request_id: String,
    /// Now, Unix milliseconds.
    at: i64,
    /// A holder that claimed at or before this has lapsed.
    lapsed: i64,
}

/// The title claims, decided in batches. Cheap to clone.
#[derive(Clone)]
pub struct TitleClaims {
    claims: Batcher<Claim, bool, BoardError>,
    tables: Tables,
}

impl TitleClaims {
    /// Opens the claims in `store`'s database (creating the table) and starts the
    /// claiming task, which ends with `stop` or with the last clone.
    pub async fn open(store: &SqlStore, stop: CancellationToken) -> Result<Self, Error> {
        let tables = store.tables();
        tables.migrate(&MIGRATIONS).await?;
        let writer = tables.clone();
        let claims = Batcher::start(
            BATCH,
            "the title claims",
            stop,
            BoardError::unavailable,
            move |batch: Vec<Claim>| {
                let tables = writer.clone();
                async move { decide(&tables, &batch).await }
            },
        );
        Ok(TitleClaims { claims, tables })
    }

    /// Claims `title` of `author_id` for the post of `request`: `Ok(true)` when this
    /// request holds the claim, `Ok(false)` when another post claimed it less than
    /// `window` ago.
    pub async fn claim(
        &self,
        request: &Event,
        author_id: &str,
        title: &str,
        window: Duration,
    ) -> Result<bool, BoardError> {
        let at = self.tables.now().as_millis();
        let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self.claims
            .call(Claim {
                key: key(author_id, title),
                post_id: request.pid.clone(),
                request_id: request.id.to_string(),
                at,
                lapsed: at.saturating_sub(window),
            })
            .await
    }
}

/// Decides `batch` in one transaction, in order (a later claim of the same key sees an
/// earlier one).
async fn decide(tables: &Tables, batch: &[Claim]) -> Result<Vec<bool>, BoardError> {
    const OP: &str = "claim titles";
    let failed = |e| BoardError::Store(Error::from_sqlx(OP, e));
    let mut write = tables.write(OP).await?;
    let mut won = Vec::with_capacity(batch.len());
    for claim in batch {
        let holder: Option<String> = if tables.backend() == Backend::MySql {
            // Assignments run left to right and see the ones before: `request_id` first,
            // then the others follow it.
            tables
                .query(
                    "INSERT INTO mb_title_claim (claim_key, post_id, request_id, claimed_at) VALUES (?, ?, ?, ?) \
                     ON DUPLICATE KEY UPDATE \
                     request_id = IF(claimed_at <= ? OR request_id = VALUES(request_id), VALUES(request_id), request_id), \
                     post_id = IF(request_id = VALUES(request_id), VALUES(post_id), post_id), \
                     claimed_at = IF(request_id = VALUES(request_id), VALUES(claimed_at), claimed_at)",
                )
                .bind(claim.key.clone())
                .bind(claim.post_id.clone())
                .bind(claim.request_id.clone())
                .bind(claim.at)
                .bind(claim.lapsed)
                .execute(write.connection())
                .await
                .map_err(failed)?;
            let row = tables
                .query("SELECT request_id FROM mb_title_claim WHERE claim_key = ?")
                .bind(claim.key.clone())
                .fetch_optional(write.connection())
                .await
                .map_err(failed)?;
            row.map(|row| row.try_get(0)).transpose().map_err(failed)?
        } else {
            let row = tables
                .query(
                    "INSERT INTO mb_title_claim (claim_key, post_id, request_id, claimed_at) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (claim_key) DO UPDATE SET \
                     post_id = excluded.post_id, request_id = excluded.request_id, claimed_at = excluded.claimed_at \
                     WHERE mb_title_claim.claimed_at <= ? OR mb_title_claim.request_id = excluded.request_id \
                     RETURNING request_id",
                )
                .bind(claim.key.clone())
                .bind(claim.post_id.clone())
                .bind(claim.request_id.clone())
                .bind(claim.at)
                .bind(claim.lapsed)
                .fetch_optional(write.connection())
                .await
                .map_err(failed)?;
            row.map(|row| row.try_get(0)).transpose().map_err(failed)?
        };
        won.push(holder.as_deref() == Some(claim.request_id.as_str()));
    }
    write.commit().await?;
    Ok(won)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_compare_without_case_or_extra_white_space() {
        assert_eq!(normalize("  Hello   World "), "hello world");
        assert_eq!(key("u-1", "Hello World"), key("u-1", " hello  world"));
        assert_ne!(key("u-1", "Hello"), key("u-2", "Hello"));
        assert_ne!(key("u-1", "Hello"), key("u-1", "Hello!"));
    }
}
