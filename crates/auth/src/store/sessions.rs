//! `auth_session`: sessions by the SHA-256 of their id. The id itself is never stored;
//! the row found by the hash is compared with it again in constant time.
//!
//! Every signed request reads its session, so concurrent reads are coalesced
//! ([`Reader`]): one `SELECT … WHERE id_hash IN (…)` answers a batch, the same way nonce
//! claims are group-committed. A read always goes to the store, so a session ended on
//! any node is refused by the next request on every node.

use std::collections::HashMap;

use sqlx::Row;
use subtle::ConstantTimeEq;
use superhero_core::CancellationToken;
use superhero_eventflow::tables::{Batcher, Tables};

use super::failed;
use crate::error::{AuthError, Result};

/// The most sessions one read looks up.
const BATCH: usize = 128;

/// A stored session.
#[derive(Clone)]
pub struct SessionRecord {
    /// SHA-256 of the session id, hex.
    pub id_hash: String,
    /// Its user.
    pub user_id: String,
    /// The sealed HMAC key; none for a session that signs with Ed25519.
    pub sealed_key: Option<Vec<u8>>,
    /// The raw Ed25519 public key, when one was registered.
    pub public_key: Option<Vec<u8>>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds (written at most every touch interval).
    pub last_seen_at: i64,
    /// The absolute expiry, Unix milliseconds.
    pub expires_at: i64,
    /// When it was ended, Unix milliseconds.
    pub ended_at: Option<i64>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The hex SHA-256 of a session id: the row key, and what events may name.
pub fn id_hash(session_id: &str) -> String {
    super::sha256_hex(session_id)
}

/// Stores a new session.
pub async fn create(tables: &Tables, record: &SessionRecord) -> Result<()> {
    const OP: &str = "start a session";
    let mut write = tables.write(OP).await?;
    tables
        .query(
            "INSERT INTO auth_session (id_hash, user_id, sealed_key, public_key, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.id_hash.clone())
        .bind(record.user_id.clone())
        .bind(record.sealed_key.clone())
        .bind(record.public_key.clone())
        .bind(record.created_at)
        .bind(record.last_seen_at)
        .bind(record.expires_at)
        .execute(write.connection())
        .await
        .map_err(failed(OP))?;
    write.commit().await.map_err(Into::into)
}

/// Reads sessions through one batching task. Cheap to clone.
#[derive(Clone)]
pub struct Reader {
    lookups: Batcher<String, Option<SessionRecord>, AuthError>,
}

impl Reader {
    /// Starts the reading task on `tables` (stops with `stop`).
    pub fn start(tables: Tables, stop: CancellationToken) -> Reader {
        let lookups = Batcher::start(
            BATCH,
            "the session store",
            stop,
            crate::error::unavailable,
            move |hashes: Vec<String>| {
                let tables = tables.clone();
                async move {
                    let found = find_many(&tables, &hashes).await?;
                    // One session often signs several requests of a batch: each gets the row.
                    Ok(hashes.iter().map(|hash| found.get(hash).cloned()).collect())
                }
            },
        );
        Reader { lookups }
    }

    /// The session whose id hashes to `id_hash`, if any (ended ones too).
    pub async fn find(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        self.lookups.call(id_hash.to_owned()).await
    }
}

/// The sessions whose id hashes are among `hashes`, by hash.
async fn find_many(tables: &Tables, hashes: &[String]) -> Result<HashMap<String, SessionRecord>> {
    let mut unique: Vec<&str> = hashes.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    let sql = format!(
        "SELECT id_hash, user_id, sealed_key, public_key, created_at, last_seen_at, expires_at, ended_at FROM auth_session WHERE id_hash IN ({})",
        vec!["?"; unique.len()].join(", ")
    );
    let mut query = tables.dynamic_query(sql);
    for hash in &unique {
        query = query.bind((*hash).to_owned());
    }
    let rows = query
        .fetch_all(tables.pool())
        .await
        .map_err(failed("find sessions"))?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let record = SessionRecord {
            id_hash: row.get(0),
            user_id: row.get(1),
            sealed_key: row.get(2),
            public_key: row.get(3),
            created_at: row.get(4),
            last_seen_at: row.get(5),
            expires_at: row.get(6),
            ended_at: row.get(7),
        };
        // The index found the row by the hash; compare it once more in constant time
        // with the hash asked for, so nothing depends on how the database compared.
        if let Some(asked) = unique
            .iter()
            .find(|h| bool::from(record.id_hash.as_bytes().ct_eq(h.as_bytes())))
        {
            found.insert((*asked).to_owned(), record);
        }
    }
    Ok(found)
}

/// Records activity at `now_ms`.
pub async fn touch(tables: &Tables, id_hash: &str, now_ms: i64) -> Result<()> {
    const OP: &str = "touch a session";
    let mut write = tables.write(OP).await?;
    tables
        .query("UPDATE auth_session SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?")
        .bind(now_ms)
        .bind(id_hash.to_owned())
        .bind(now_ms)
        .execute(write.connection())
        .await
        .map_err(failed(OP))?;
    write.commit().await.map_err(Into::into)
}

/// Ends the session at `now_ms`; false when it had already ended.
pub async fn end(tables: &Tables, id_hash: &str, now_ms: i64) -> Result<bool> {
    const OP: &str = "end a session";
    let mut write = tables.write(OP).await?;
    let done = tables
        .query("UPDATE auth_session SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL")
        .bind(now_ms)
        .bind(id_hash.to_owned())
        .execute(write.connection())
        .await
        .map_err(failed(OP))?;
    write.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes sessions whose absolute expiry passed before `before_ms`.
pub async fn prune(tables: &Tables, before_ms: i64) -> Result<u64> {
    const OP: &str = "prune sessions";
    let mut write = tables.write(OP).await?;
    let done = tables
        .query("DELETE FROM auth_session WHERE expires_at < ?")
        .bind(before_ms)
        .execute(write.connection())
        .await
        .map_err(failed(OP))?;
    write.commit().await?;
    Ok(done.rows_affected())
}
