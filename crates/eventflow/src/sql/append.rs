//! The append transaction: lock the head, detect a retry, check versions, insert the events
//! with their associations and bookkeeping, advance the head, commit.

use std::collections::HashMap;

use sqlx::{Any, Transaction};
use uuid::Uuid;

use crate::config::Backend;
use crate::error::{Error, Result};
use crate::event::{AppendRequest, Appended, Event, ExpectedVersion, Intent};

use super::rows::{self, EventRow, event_columns};
use super::{Context, SqlStore, from_db, placeholders, to_db};

const OP: &str = "append events";

/// Rows per multi-row `INSERT` (well under every backend's placeholder limit).
const CHUNK: usize = 200;

/// Appends `request` in one transaction (see [`crate::store`] for the ordering guarantee).
pub(super) async fn append(store: &SqlStore, request: AppendRequest) -> Result<Vec<Appended>> {
    request.validate()?;
    let now = store.now();
    let _gate = store.write_gate().await;
    let mut tx = store.begin_write(OP).await?;

    // 1. The append lock: reserving positions locks the head row until commit, so
    //    positions are handed out in commit order. A rollback returns them.
    let count = u64::try_from(request.events.len()).unwrap_or(u64::MAX);
    let head = reserve_positions(store, &mut tx, count).await?;

    // 2. A retry of an append that committed already returns what it got the first time.
    let supplied: Vec<Uuid> = request.events.iter().filter_map(|e| e.id).collect();
    if !supplied.is_empty() {
        let stored = stored_events(store, &mut tx, &supplied).await?;
        if !stored.is_empty() {
            return replay(&request, stored);
        }
    }

    // 3. Versions: the current version of each stream, checked against the expectation.
    let mut versions: HashMap<(&str, &str), u64> = HashMap::new();
    for event in &request.events {
        let key = (event.domain.as_str(), event.pid.as_str());
        if let std::collections::hash_map::Entry::Vacant(slot) = versions.entry(key) {
            slot.insert(stream_version(store, &mut tx, key.0, key.1).await?);
        }
    }
    if let ExpectedVersion::Exact(expected) = request.expected {
        let first = &request.events[0];
        let actual = versions[&(first.domain.as_str(), first.pid.as_str())];
        if actual != expected {
            return Err(Error::Conflict {
                domain: first.domain.clone(),
                pid: first.pid.clone(),
                expected,
                actual,
            });
        }
    }

    // 4. Positions and versions for the new events.
    let mut appended = Vec::with_capacity(request.events.len());
    let first = head.saturating_sub(count) + 1;
    for (position, event) in (first..).zip(&request.events) {
        let version = versions
            .get_mut(&(event.domain.as_str(), event.pid.as_str()))
            .map(|v| {
                *v += 1;
                *v
            })
            .unwrap_or(1);
        appended.push(Appended {
            id: event.id.unwrap_or_else(Uuid::now_v7),
            position,
            version,
            timestamp: now,
        });
    }

    insert_events(store, &mut tx, &request, &appended).await?;
    insert_associations(store, &mut tx, &request, &appended).await?;
    insert_bookkeeping(store, &mut tx, &request.intent, &appended, now).await?;

    tx.commit().await.context(OP)?;
    Ok(appended)
}

/// Advances the head by `count` and returns the new head, in one statement that also
/// takes the append lock (the head row's write lock, or SQLite's database write lock).
async fn reserve_positions(
    store: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    count: u64,
) -> Result<u64> {
    let count = to_db(count, "event count")?;
    let head =
        match store.backend() {
            // MySQL has no UPDATE … RETURNING: LAST_INSERT_ID(expr) hands the value back in
            // the statement's result instead.
            Backend::MySql => sqlx::query(store.sql(
                "UPDATE eventflow_head SET position = LAST_INSERT_ID(position + ?) WHERE id = 1",
            ))
            .bind(count)
            .execute(&mut **tx)
            .await
            .context(OP)?
            .last_insert_id()
            .ok_or_else(|| Error::decode(OP, "the head update returned no position"))?,
            _ => sqlx::query_scalar(store.sql(
                "UPDATE eventflow_head SET position = position + ? WHERE id = 1 RETURNING position",
            ))
            .bind(count)
            .fetch_one(&mut **tx)
            .await
            .context(OP)?,
        };
    from_db(head, OP, "head position")
}

/// The stream's current version inside the transaction.
async fn stream_version(
    store: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    domain: &str,
    pid: &str,
) -> Result<u64> {
    let max: Option<i64> = sqlx::query_scalar(
        store.sql("SELECT MAX(version) FROM eventflow_event WHERE domain = ? AND pid = ?"),
    )
    .bind(domain)
    .bind(pid)
    .fetch_one(&mut **tx)
    .await
    .context(OP)?;
    from_db(max.unwrap_or(0), OP, "version")
}

/// The stored events among `ids`.
async fn stored_events(
    store: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    ids: &[Uuid],
) -> Result<Vec<Event>> {
    let sql = format!(
        concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e WHERE e.id IN ({})"
        ),
        placeholders(ids.len())
    );
    let mut query = sqlx::query_as::<_, EventRow>(store.dynamic_sql(sql));
    for id in ids {
        query = query.bind(id.to_string());
    }
    let rows = query.fetch_all(&mut **tx).await.context(OP)?;
    rows::events(rows, OP)
}

/// The first append's results for a retried batch, or why the batch is not a retry.
fn replay(request: &AppendRequest, stored: Vec<Event>) -> Result<Vec<Appended>> {
    let by_id: HashMap<Uuid, &Event> = stored.iter().map(|e| (e.id, e)).collect();
    let mut results = Vec::with_capacity(request.events.len());
    for event in &request.events {
        let found = event.id.and_then(|id| by_id.get(&id));
        let Some(found) = found else {
            let id = stored.first().map(|e| e.id).unwrap_or_default();
            return Err(Error::DuplicateId {
                id,
                reason: "only part of the batch is stored; a retry must repeat the whole batch with the same ids".into(),
            });
        };
        if (
            found.domain.as_str(),
            found.pid.as_str(),
            found.name.as_str(),
        ) != (
            event.domain.as_str(),
            event.pid.as_str(),
            event.name.as_str(),
        ) {
            return Err(Error::DuplicateId {
                id: found.id,
                reason: format!(
                    "it is stored as {}/{} {}, the append asked for {}/{} {}",
                    found.domain, found.pid, found.name, event.domain, event.pid, event.name
                ),
            });
        }
        results.push(Appended {
            id: found.id,
            position: found.position,
            version: found.version,
            timestamp: found.timestamp,
        });
    }
    Ok(results)
}

async fn insert_events(
    store: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    request: &AppendRequest,
    appended: &[Appended],
) -> Result<()> {
    let rows: Vec<_> = request.events.iter().zip(appended).collect();
    for chunk in rows.chunks(CHUNK) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO eventflow_event (position, id, timestamp, domain, pid, name, version, data, rid) VALUES {values}"
        );
        let mut query = sqlx::query(store.dynamic_sql(sql));
        for (event, result) in chunk {
            query = query
                .bind(to_db(result.position, "position")?)
                .bind(result.id.to_string())
                .bind(result.timestamp.as_millis())
                .bind(event.domain.as_str())
                .bind(event.pid.as_str())
                .bind(event.name.as_str())
                .bind(to_db(result.version, "version")?)
                .bind(event.data.to_string())
                .bind(event.rid.map(|rid| rid.to_string()));
        }
        query.execute(&mut **tx).await.context(OP)?;
    }
    Ok(())
}

async fn insert_associations(
    store: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    request: &AppendRequest,
    appended: &[Appended],
) -> Result<()> {
    let mut eids: Vec<(String, &str)> = Vec::new();
    let mut cpids: Vec<(String, &str, &str)> = Vec::new();
    for (event, result) in request.events.iter().zip(appended) {
        let id = result.id.to_string();
        let mut own_eids: Vec<&str> = event.eids.iter().map(String::as_str).collect();
        own_eids.sort_unstable();
        own_eids.dedup();
        eids.extend(own_eids.into_iter().map(|eid| (id.clone(), eid)));
        let mut own_cpids: Vec<(&str, &str)> = event
            .cpids
            .iter()
            .map(|c| (c.domain.as_str(), c.cpid.as_str()))
            .collect();
        own_cpids.sort_unstable();
        own_cpids.dedup();
        cpids.extend(own_cpids.into_iter().map(|(d, c)| (id.clone(), d, c)));
    }
    for chunk in eids.chunks(CHUNK) {
        let values = vec!["(?, ?)"; chunk.len()].join(", ");
        let sql = format!("INSERT INTO eventflow_event_eid (event_id, eid) VALUES {values}");
        let mut query = sqlx::query(store.dynamic_sql(sql));
        for (id, eid) in chunk {
            query = query.bind(id.as_str()).bind(*eid);
        }
        query.execute(&mut **tx).await.context(OP)?;
    }
    for chunk in cpids.chunks(CHUNK) {
        let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let sql =
            format!("INSERT INTO eventflow_event_cpid (event_id, domain, cpid) VALUES {values}");
        let mut query = sqlx::query(store.dynamic_sql(sql));
        for (id, domain, cpid) in chunk {
            query = query.bind(id.as_str()).bind(*domain).bind(*cpid);
        }
        query.execute(&mut **tx).await.context(OP)?;
    }
    Ok(())
}

/// Publication rows (publish and schedule) and schedule rows, in the append's transaction.
async fn insert_bookkeeping(
    store: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    intent: &Intent,
    appended: &[Appended],
    now: crate::clock::Timestamp,
) -> Result<()> {
    let (publisher, available, due) = match intent {
        Intent::Persist => return Ok(()),
        Intent::Publish { publisher } => (publisher, now, None),
        Intent::Schedule { publisher, due } => (publisher, *due, Some(*due)),
    };
    for chunk in appended.chunks(CHUNK) {
        let values = vec!["(?, ?, ?, ?, 0)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO eventflow_published (event_id, publisher, published_at, available_at, deliveries) VALUES {values}"
        );
        let mut query = sqlx::query(store.dynamic_sql(sql));
        for result in chunk {
            query = query
                .bind(result.id.to_string())
                .bind(publisher.as_str())
                .bind(now.as_millis())
                .bind(available.as_millis());
        }
        query.execute(&mut **tx).await.context(OP)?;
        if let Some(due) = due {
            let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO eventflow_scheduled (event_id, scheduled_at, due_at) VALUES {values}"
            );
            let mut query = sqlx::query(store.dynamic_sql(sql));
            for result in chunk {
                query = query
                    .bind(result.id.to_string())
                    .bind(now.as_millis())
                    .bind(due.as_millis());
            }
            query.execute(&mut **tx).await.context(OP)?;
        }
    }
    Ok(())
}
