//! [`DeliveryStore`] for [`SqlStore`]: every claim is one conditional `UPDATE` whose
//! affected-row count says whether the caller won.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::config::Backend;
use crate::delivery::{
    Delivery, DeliveryStore, FailOutcome, ParkedEvent, ParkedQuery, Publication, RouteClaim,
};
use crate::error::{Error, Result};
use crate::event::{EventRef, check_key};

use super::rows::{self, RefRow, count, ref_columns, time};
use super::{Context, SqlStore, is_unique_violation, lease_end, parse_id, placeholders, to_db};

/// event_id, publisher, published_at, available_at, hub, hub_lease_until, consumer,
/// lease_until, deliveries, succeeded_at, failed_at, last_error, orphan_at, parked_at
type PublicationRow = (
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn publication(row: PublicationRow, operation: &'static str) -> Result<Publication> {
    let (
        event_id,
        publisher,
        published_at,
        available_at,
        hub,
        hub_lease_until,
        consumer,
        lease_until,
    ) = (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    Ok(Publication {
        event_id: parse_id(&event_id, operation)?,
        publisher,
        published_at: Timestamp::from_millis(published_at),
        available_at: Timestamp::from_millis(available_at),
        hub,
        hub_lease_until: time(hub_lease_until),
        consumer,
        lease_until: time(lease_until),
        deliveries: count(row.8, operation)?,
        succeeded_at: time(row.9),
        failed_at: time(row.10),
        last_error: row.11,
        orphan_at: time(row.12),
        parked_at: time(row.13),
    })
}

/// The condition of a delivery claim: available, unsettled, unparked, under the delivery
/// limit and not leased (binds: event id, now, max deliveries, now).
macro_rules! claim_condition {
    () => {
        "WHERE event_id = ? AND succeeded_at IS NULL AND parked_at IS NULL AND available_at <= ? \
         AND deliveries < ? AND (lease_until IS NULL OR lease_until <= ?)"
    };
}

/// A delivery count from the API as a database value.
fn max(max_deliveries: u32) -> i64 {
    i64::from(max_deliveries)
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn publication(&self, event_id: Uuid) -> Result<Option<Publication>> {
        const OP: &str = "read a publication";
        let row: Option<PublicationRow> = sqlx::query_as(self.sql(
            "SELECT event_id, publisher, published_at, available_at, hub, hub_lease_until, consumer, \
             lease_until, deliveries, succeeded_at, failed_at, last_error, orphan_at, parked_at \
             FROM eventflow_published WHERE event_id = ?",
        ))
        .bind(event_id.to_string())
        .fetch_optional(self.pool())
        .await
        .context(OP)?;
        row.map(|row| publication(row, OP)).transpose()
    }

    async fn claim_route(&self, event_id: Uuid, hub: &str, lease: Duration) -> Result<bool> {
        check_key("hub id", hub)?;
        let now = self.now();
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_published SET hub = ?, hub_claimed_at = ?, hub_lease_until = ?, orphan_at = NULL \
             WHERE event_id = ? AND succeeded_at IS NULL AND parked_at IS NULL AND available_at <= ? \
             AND (hub_lease_until IS NULL OR hub_lease_until <= ?)",
        ))
        .bind(hub)
        .bind(now.as_millis())
        .bind(lease_end(now, lease))
        .bind(event_id.to_string())
        .bind(now.as_millis())
        .bind(now.as_millis());
        self.one_row(query, "claim the route of an event").await
    }

    async fn mark_orphan(&self, event_id: Uuid, hub: &str) -> Result<bool> {
        let now = self.now();
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_published SET orphan_at = ?, hub_lease_until = NULL \
             WHERE event_id = ? AND hub = ? AND succeeded_at IS NULL AND parked_at IS NULL",
        ))
        .bind(now.as_millis())
        .bind(event_id.to_string())
        .bind(hub);
        self.one_row(query, "mark an event as orphan").await
    }

    async fn orphans(&self, domain: &str, name: Option<&str>, limit: u32) -> Result<Vec<EventRef>> {
        const OP: &str = "list orphaned events";
        // Orphans are few; the domain's events are many. PostgreSQL, planning with the
        // statistics of a young table (autovacuum analyses it a minute later), would walk
        // every event of the domain and probe the open deliveries for each: seconds per
        // call once the table holds 100,000 events. LATERAL (kept from being flattened by
        // its LIMIT) makes the orphan index the driving side whatever the statistics say.
        // SQLite and MariaDB (no LATERAL) already start from the orphan index.
        let sql = match (self.backend(), name.is_some()) {
            (Backend::Postgres, false) => concat!(
                "SELECT ",
                ref_columns!(),
                " FROM eventflow_published p CROSS JOIN LATERAL",
                " (SELECT * FROM eventflow_event e WHERE e.id = p.event_id AND e.domain = ? LIMIT 1) e",
                " WHERE p.orphan_at IS NOT NULL AND p.succeeded_at IS NULL AND p.parked_at IS NULL",
                " ORDER BY e.position LIMIT ?"
            ),
            (Backend::Postgres, true) => concat!(
                "SELECT ",
                ref_columns!(),
                " FROM eventflow_published p CROSS JOIN LATERAL",
                " (SELECT * FROM eventflow_event e WHERE e.id = p.event_id AND e.domain = ? AND e.name = ? LIMIT 1) e",
                " WHERE p.orphan_at IS NOT NULL AND p.succeeded_at IS NULL AND p.parked_at IS NULL",
                " ORDER BY e.position LIMIT ?"
            ),
            (_, false) => concat!(
                "SELECT ",
                ref_columns!(),
                " FROM eventflow_published p JOIN eventflow_event e ON e.id = p.event_id",
                " WHERE e.domain = ? AND p.orphan_at IS NOT NULL AND p.succeeded_at IS NULL AND p.parked_at IS NULL",
                " ORDER BY e.position LIMIT ?"
            ),
            (_, true) => concat!(
                "SELECT ",
                ref_columns!(),
                " FROM eventflow_published p JOIN eventflow_event e ON e.id = p.event_id",
                " WHERE e.domain = ? AND e.name = ? AND p.orphan_at IS NOT NULL AND p.succeeded_at IS NULL AND p.parked_at IS NULL",
                " ORDER BY e.position LIMIT ?"
            ),
        };
        let mut query = sqlx::query_as(self.sql(sql)).bind(domain);
        if let Some(name) = name {
            query = query.bind(name);
        }
        let rows: Vec<RefRow> = query
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows::event_refs(rows, OP)
    }

    async fn claim_delivery(
        &self,
        event_id: Uuid,
        consumer: &str,
        lease: Duration,
        max_deliveries: u32,
    ) -> Result<Option<Delivery>> {
        const OP: &str = "claim the delivery of an event";
        check_key("consumer id", consumer)?;
        let now = self.now();
        let until = lease_end(now, lease);
        let id = event_id.to_string();
        // One statement decides the race and reports the new delivery count: MySQL has no
        // UPDATE … RETURNING, so LAST_INSERT_ID(expr) hands the count back instead.
        let sql = match self.backend() {
            Backend::MySql => concat!(
                "UPDATE eventflow_published SET consumer = ?, claimed_at = ?, lease_until = ?, ",
                "deliveries = LAST_INSERT_ID(deliveries + 1) ",
                claim_condition!()
            ),
            _ => concat!(
                "UPDATE eventflow_published SET consumer = ?, claimed_at = ?, lease_until = ?, ",
                "deliveries = deliveries + 1 ",
                claim_condition!(),
                " RETURNING deliveries"
            ),
        };
        let query = sqlx::query(self.sql(sql))
            .bind(consumer)
            .bind(now.as_millis())
            .bind(until)
            .bind(id.as_str())
            .bind(now.as_millis())
            .bind(max(max_deliveries))
            .bind(now.as_millis());
        let gate = self.write_gate().await;
        let deliveries: Option<i64> =
            match self.backend() {
                Backend::MySql => {
                    let claimed = query.execute(self.pool()).await.context(OP)?;
                    if claimed.rows_affected() == 1 {
                        let count = claimed.last_insert_id();
                        Some(count.ok_or_else(|| {
                            Error::decode(OP, "the claim returned no delivery count")
                        })?)
                    } else {
                        None
                    }
                }
                _ => match query.fetch_optional(self.pool()).await.context(OP)? {
                    Some(row) => Some(row.try_get(0).context(OP)?),
                    None => None,
                },
            };
        drop(gate);
        let Some(deliveries) = deliveries else {
            return Ok(None);
        };
        Ok(Some(Delivery {
            event_id,
            consumer: consumer.to_owned(),
            deliveries: count(deliveries, OP)?,
            lease_until: Timestamp::from_millis(until),
        }))
    }

    async fn renew_lease(&self, delivery: &Delivery, lease: Duration) -> Result<bool> {
        let now = self.now();
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_published SET lease_until = ? \
             WHERE event_id = ? AND consumer = ? AND deliveries = ? AND lease_until IS NOT NULL \
             AND succeeded_at IS NULL AND parked_at IS NULL",
        ))
        .bind(lease_end(now, lease))
        .bind(delivery.event_id.to_string())
        .bind(delivery.consumer.as_str())
        .bind(i64::from(delivery.deliveries));
        self.one_row(query, "renew a delivery lease").await
    }

    async fn succeed_delivery(&self, delivery: &Delivery) -> Result<bool> {
        let now = self.now();
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_published SET succeeded_at = ?, lease_until = NULL \
             WHERE event_id = ? AND consumer = ? AND deliveries = ? AND lease_until IS NOT NULL \
             AND succeeded_at IS NULL AND parked_at IS NULL",
        ))
        .bind(now.as_millis())
        .bind(delivery.event_id.to_string())
        .bind(delivery.consumer.as_str())
        .bind(i64::from(delivery.deliveries));
        self.one_row(query, "record a successful delivery").await
    }

    async fn settle(&self, event_id: Uuid) -> Result<bool> {
        let now = self.now();
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_published SET succeeded_at = ?, lease_until = NULL, hub_lease_until = NULL \
             WHERE event_id = ? AND succeeded_at IS NULL AND parked_at IS NULL",
        ))
        .bind(now.as_millis())
        .bind(event_id.to_string());
        self.one_row(query, "settle an event").await
    }

    async fn register_consumer(&self, domain: &str, name: &str) -> Result<()> {
        check_key("domain", domain)?;
        check_key("name", name)?;
        let _gate = self.write_gate().await;
        let inserted =
            sqlx::query(self.sql(
                "INSERT INTO eventflow_consumer (domain, name, registered_at) VALUES (?, ?, ?)",
            ))
            .bind(domain)
            .bind(name)
            .bind(self.now().as_millis())
            .execute(self.pool())
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Ok(()),
            Err(e) => Err(Error::from_sqlx("register a consumer group", e)),
        }
    }

    async fn consumer_groups(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            self.sql("SELECT domain, name FROM eventflow_consumer ORDER BY domain, name"),
        )
        .fetch_all(self.pool())
        .await
        .context("list consumer groups")
    }

    async fn fail_delivery(
        &self,
        delivery: &Delivery,
        error: &str,
        retry_at: Timestamp,
        max_deliveries: u32,
    ) -> Result<FailOutcome> {
        const OP: &str = "record a failed delivery";
        let now = self.now();
        let id = delivery.event_id.to_string();
        // No assignment reads a column assigned before it (MySQL evaluates SET left to right).
        let gate = self.write_gate().await;
        let failed = sqlx::query(self.sql(
            "UPDATE eventflow_published SET \
             parked_at = CASE WHEN deliveries >= ? THEN ? ELSE NULL END, \
             failed_at = ?, last_error = ?, lease_until = NULL, hub_lease_until = NULL, available_at = ? \
             WHERE event_id = ? AND consumer = ? AND deliveries = ? AND lease_until IS NOT NULL \
             AND succeeded_at IS NULL AND parked_at IS NULL",
        ))
        .bind(max(max_deliveries))
        .bind(now.as_millis())
        .bind(now.as_millis())
        .bind(error)
        .bind(retry_at.as_millis())
        .bind(id.as_str())
        .bind(delivery.consumer.as_str())
        .bind(i64::from(delivery.deliveries))
        .execute(self.pool())
        .await
        .context(OP)?;
        drop(gate);
        if failed.rows_affected() != 1 {
            return Ok(FailOutcome::NotHeld);
        }
        let parked: Option<i64> = sqlx::query_scalar(
            self.sql("SELECT parked_at FROM eventflow_published WHERE event_id = ?"),
        )
        .bind(id.as_str())
        .fetch_one(self.pool())
        .await
        .context(OP)?;
        Ok(match parked {
            Some(_) => FailOutcome::Parked,
            None => FailOutcome::Retry { at: retry_at },
        })
    }

    async fn pending_deliveries(&self, max_deliveries: u32, limit: u32) -> Result<Vec<EventRef>> {
        const OP: &str = "list pending deliveries";
        let now = self.now().as_millis();
        let rows: Vec<RefRow> = sqlx::query_as(self.sql(concat!(
            "SELECT ",
            ref_columns!(),
            " FROM eventflow_published p JOIN eventflow_event e ON e.id = p.event_id",
            " WHERE p.succeeded_at IS NULL AND p.parked_at IS NULL AND p.orphan_at IS NULL",
            " AND p.available_at <= ? AND p.deliveries < ?",
            " AND (p.lease_until IS NULL OR p.lease_until <= ?)",
            " AND (p.hub_lease_until IS NULL OR p.hub_lease_until <= ?)",
            " ORDER BY e.position LIMIT ?"
        )))
        .bind(now)
        .bind(max(max_deliveries))
        .bind(now)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context(OP)?;
        rows::event_refs(rows, OP)
    }

    async fn park_exhausted(&self, max_deliveries: u32) -> Result<u64> {
        let now = self.now().as_millis();
        let _gate = self.write_gate().await;
        let parked = sqlx::query(self.sql(
            "UPDATE eventflow_published SET parked_at = ?, lease_until = NULL \
             WHERE succeeded_at IS NULL AND parked_at IS NULL AND deliveries >= ? \
             AND (lease_until IS NULL OR lease_until <= ?)",
        ))
        .bind(now)
        .bind(max(max_deliveries))
        .bind(now)
        .execute(self.pool())
        .await
        .context("park exhausted events")?;
        Ok(parked.rows_affected())
    }

    async fn parked(&self, query: &ParkedQuery) -> Result<Vec<ParkedEvent>> {
        const OP: &str = "list parked events";
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            i64,
            i64,
            Option<String>,
        );
        let mut sql = String::from(concat!(
            "SELECT ",
            ref_columns!(),
            ", p.deliveries, p.parked_at, p.last_error",
            " FROM eventflow_published p JOIN eventflow_event e ON e.id = p.event_id",
            " WHERE p.parked_at IS NOT NULL AND e.position > ?"
        ));
        for (present, condition) in [
            (query.until.is_some(), " AND e.position <= ?"),
            (query.domain.is_some(), " AND e.domain = ?"),
            (query.name.is_some(), " AND e.name = ?"),
            (query.since.is_some(), " AND p.parked_at >= ?"),
        ] {
            if present {
                sql.push_str(condition);
            }
        }
        sql.push_str(" ORDER BY e.position LIMIT ?");
        let mut select =
            sqlx::query_as::<_, Row>(self.dynamic_sql(sql)).bind(to_db(query.after, "position")?);
        if let Some(until) = query.until {
            select = select.bind(to_db(until, "position")?);
        }
        if let Some(domain) = &query.domain {
            select = select.bind(domain.clone());
        }
        if let Some(name) = &query.name {
            select = select.bind(name.clone());
        }
        if let Some(since) = query.since {
            select = select.bind(since.as_millis());
        }
        let rows = select
            .bind(i64::from(query.limit))
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows.into_iter()
            .map(
                |(position, id, domain, pid, name, deliveries, parked_at, last_error)| {
                    Ok(ParkedEvent {
                        event: rows::event_ref((position, id, domain, pid, name), OP)?,
                        deliveries: count(deliveries, OP)?,
                        parked_at: Timestamp::from_millis(parked_at),
                        last_error,
                    })
                },
            )
            .collect()
    }

    async fn replay_parked(&self, event_ids: &[Uuid]) -> Result<u64> {
        if event_ids.is_empty() {
            return Ok(0);
        }
        let now = self.now().as_millis();
        let sql = format!(
            "UPDATE eventflow_published SET parked_at = NULL, deliveries = 0, available_at = ?, \
             consumer = NULL, lease_until = NULL, hub_lease_until = NULL, orphan_at = NULL \
             WHERE parked_at IS NOT NULL AND event_id IN ({})",
            placeholders(event_ids.len())
        );
        let mut query = sqlx::query(self.dynamic_sql(sql)).bind(now);
        for id in event_ids {
            query = query.bind(id.to_string());
        }
        let _gate = self.write_gate().await;
        let replayed = query
            .execute(self.pool())
            .await
            .context("replay parked events")?;
        Ok(replayed.rows_affected())
    }

    async fn claim_routes(
        &self,
        event_ids: &[Uuid],
        hub: &str,
        lease: Duration,
    ) -> Result<Vec<RouteClaim>> {
        self.claim_routes_batch(event_ids, hub, lease).await
    }

    async fn claim_deliveries(
        &self,
        event_ids: &[Uuid],
        consumer: &str,
        lease: Duration,
        max_deliveries: u32,
    ) -> Result<Vec<Delivery>> {
        self.claim_deliveries_batch(event_ids, consumer, lease, max_deliveries)
            .await
    }

    async fn succeed_deliveries(&self, deliveries: &[Delivery]) -> Result<Vec<Uuid>> {
        self.succeed_deliveries_batch(deliveries).await
    }

    async fn settle_many(&self, event_ids: &[Uuid]) -> Result<u64> {
        self.settle_many_batch(event_ids).await
    }
}
