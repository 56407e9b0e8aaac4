//! `auth_nonce`: each (session, nonce) is claimed once, in the store, so a replay is
//! refused by every worker and node. The row holds the SHA-256 of the nonce (hex), so
//! what the client chose is compared byte for byte on every backend (no collation
//! folds case or trailing spaces) and is never stored. Concurrent claims are coalesced (group commit):
//! on SQLite and PostgreSQL one conflict-ignoring multi-row insert that returns the rows
//! it inserted; on MySQL/MariaDB (no `RETURNING` on MySQL) one transaction of
//! conflict-ignoring inserts. A claim whose row was not inserted found the nonce already
//! used. A background task deletes nonces that can no longer be replayed (their
//! signature's window has closed).

use std::time::Duration;

use superhero_core::CancellationToken;
use superhero_eventflow::Backend;
use superhero_eventflow::tables::{Batcher, Tables};

use super::failed;
use crate::error::{AuthError, Result};

/// The most claims one statement carries.
const BATCH: usize = 256;

/// One claim.
struct Claim {
    session_hash: String,
    nonce: String,
    expires_at_ms: i64,
}

/// Claims nonces through one group-commit task. Cheap to clone.
#[derive(Clone)]
pub struct Nonces {
    claims: Batcher<Claim, bool, AuthError>,
}

impl Nonces {
    /// Starts the claiming task on `tables` (stops with `stop`).
    pub fn start(tables: Tables, stop: CancellationToken) -> Nonces {
        let claims = Batcher::start(
            BATCH,
            "the nonce store",
            stop,
            crate::error::unavailable,
            move |batch: Vec<Claim>| {
                let tables = tables.clone();
                async move { insert(&tables, &batch).await }
            },
        );
        Nonces { claims }
    }

    /// Claims `nonce` of the session `session_hash` until `expires_at_ms`: true when this
    /// is its first use, false when it was used before.
    pub async fn claim(&self, session_hash: &str, nonce: &str, expires_at_ms: i64) -> Result<bool> {
        self.claims
            .call(Claim {
                session_hash: session_hash.to_owned(),
                nonce: super::sha256_hex(nonce),
                expires_at_ms,
            })
            .await
    }
}

/// Inserts the batch; for each claim, whether it inserted a row.
async fn insert(tables: &Tables, batch: &[Claim]) -> Result<Vec<bool>> {
    match tables.backend() {
        Backend::Sqlite | Backend::Postgres => insert_returning(tables, batch).await,
        Backend::MySql => insert_one_by_one(tables, batch).await,
    }
}

/// One statement for the batch: `INSERT … ON CONFLICT DO NOTHING RETURNING` the rows
/// inserted. Of two claims of the same nonce in one batch, the first wins.
async fn insert_returning(tables: &Tables, batch: &[Claim]) -> Result<Vec<bool>> {
    const OP: &str = "claim nonces";
    let rows = vec!["(?, ?, ?)"; batch.len()].join(", ");
    let sql = format!(
        "INSERT INTO auth_nonce (session_hash, nonce, expires_at) VALUES {rows} ON CONFLICT DO NOTHING RETURNING session_hash, nonce"
    );
    let mut query = tables.dynamic_query(sql);
    for claim in batch {
        query = query
            .bind(claim.session_hash.clone())
            .bind(claim.nonce.clone())
            .bind(claim.expires_at_ms);
    }
    // One statement: atomic on its own, no transaction needed.
    let lock = tables.lock().await;
    let inserted = query.fetch_all(tables.pool()).await.map_err(failed(OP))?;
    drop(lock);
    let mut inserted: std::collections::HashSet<(String, String)> = inserted
        .iter()
        .map(|row| (sqlx::Row::get(row, 0), sqlx::Row::get(row, 1)))
        .collect();
    Ok(batch
        .iter()
        .map(|claim| inserted.remove(&(claim.session_hash.clone(), claim.nonce.clone())))
        .collect())
}

/// One transaction of conflict-ignoring inserts, one per claim.
async fn insert_one_by_one(tables: &Tables, batch: &[Claim]) -> Result<Vec<bool>> {
    const OP: &str = "claim nonces";
    let sql = "INSERT IGNORE INTO auth_nonce (session_hash, nonce, expires_at) VALUES (?, ?, ?)";
    let mut write = tables.write(OP).await?;
    let mut fresh = Vec::with_capacity(batch.len());
    for claim in batch {
        let done = tables
            .query(sql)
            .bind(claim.session_hash.clone())
            .bind(claim.nonce.clone())
            .bind(claim.expires_at_ms)
            .execute(write.connection())
            .await
            .map_err(failed(OP))?;
        fresh.push(done.rows_affected() == 1);
    }
    write.commit().await?;
    Ok(fresh)
}

/// The most nonces one pruning statement deletes, so the write lock is held briefly.
const PRUNE_CHUNK: i64 = 5_000;

/// Deletes nonces that expired before `now_ms`, a chunk per statement; returns how many.
pub async fn prune(tables: &Tables, now_ms: i64) -> Result<u64> {
    const OP: &str = "prune nonces";
    let sql = match tables.backend() {
        Backend::Sqlite => {
            "DELETE FROM auth_nonce WHERE rowid IN (SELECT rowid FROM auth_nonce WHERE expires_at < ? LIMIT ?)"
        }
        Backend::Postgres => {
            "DELETE FROM auth_nonce WHERE ctid IN (SELECT ctid FROM auth_nonce WHERE expires_at < ? LIMIT ?)"
        }
        Backend::MySql => "DELETE FROM auth_nonce WHERE expires_at < ? LIMIT ?",
    };
    let mut total = 0;
    loop {
        let lock = tables.lock().await;
        let done = tables
            .query(sql)
            .bind(now_ms)
            .bind(PRUNE_CHUNK)
            .execute(tables.pool())
            .await
            .map_err(failed(OP))?;
        drop(lock);
        total += done.rows_affected();
        if done.rows_affected() < PRUNE_CHUNK as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// How long a nonce must be kept after its signature was created: the window on both
/// sides (a signature created up to a window ahead is accepted up to a window later).
pub fn keep_for(window: Duration) -> Duration {
    window.saturating_mul(2)
}
