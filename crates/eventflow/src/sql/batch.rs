//! Batched claims and outcomes for [`SqlStore`]: one statement per chunk of events.
//!
//! On SQLite and PostgreSQL a conditional `UPDATE … WHERE event_id IN (…) AND <condition>
//! RETURNING …` decides every race in the chunk at once (PostgreSQL re-checks the
//! condition on a row another transaction changed meanwhile; SQLite writes one at a time).
//! MySQL/MariaDB has no `UPDATE … RETURNING`: there the chunk is decided in a short
//! transaction, `SELECT … FOR UPDATE` of the rows that meet the condition and an `UPDATE`
//! of exactly those, so the result is as exact.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::{Any, Transaction};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::config::Backend;
use crate::delivery::{Delivery, RouteClaim};
use crate::error::Result;
use crate::event::{Event, check_key};

use super::rows::{self, EventRow, count, event_columns};
use super::{Context, SqlStore, lease_end, parse_id, placeholders};

/// Events per statement.
const CHUNK: usize = 500;

/// Which columns a batched update sets, and on which condition.
struct BatchUpdate {
    /// What is being done, for errors.
    operation: &'static str,
    /// `SET …` with placeholders (bound first).
    set: &'static str,
    /// The condition after `event_id IN (…)` (bound after the ids).
    condition: &'static str,
    /// The integer column returned per won row besides `event_id`.
    returning: &'static str,
    /// MySQL, one event: the `SET` with `deliveries = LAST_INSERT_ID(…)` handing back the
    /// returned value (as after the update), so a single statement decides the race.
    mysql_single_set: &'static str,
}

/// A bind value of a batched update.
#[derive(Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

impl SqlStore {
    /// Runs `update` over `ids`; returns each won row's id and the returned column (the
    /// value after the update on SQLite/PostgreSQL; computed the same way on MySQL by
    /// `after_mysql` from the value before).
    async fn batch_update(
        &self,
        update: &BatchUpdate,
        ids: &[Uuid],
        set_binds: &[Bind],
        condition_binds: &[Bind],
        after_mysql: fn(i64) -> i64,
    ) -> Result<Vec<(Uuid, i64)>> {
        let mut won = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let chunk: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            let rows = match self.backend() {
                Backend::MySql => {
                    self.batch_update_mysql(update, &chunk, set_binds, condition_binds, after_mysql)
                        .await?
                }
                _ => {
                    self.batch_update_returning(update, &chunk, set_binds, condition_binds)
                        .await?
                }
            };
            for (id, value) in rows {
                won.push((parse_id(&id, update.operation)?, value));
            }
        }
        Ok(won)
    }

    async fn batch_update_returning(
        &self,
        update: &BatchUpdate,
        ids: &[String],
        set_binds: &[Bind],
        condition_binds: &[Bind],
    ) -> Result<Vec<(String, i64)>> {
        let returned = update.returning;
        let sql = format!(
            "UPDATE eventflow_published SET {} WHERE event_id IN ({}) AND {} RETURNING event_id, {returned}",
            update.set,
            placeholders(ids.len()),
            update.condition
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(self.dynamic_sql(sql));
        query = bind_all(query, set_binds);
        for id in ids {
            query = query.bind(id.as_str());
        }
        query = bind_all(query, condition_binds);
        let _gate = self.write_gate().await;
        query.fetch_all(self.pool()).await.context(update.operation)
    }

    async fn batch_update_mysql(
        &self,
        update: &BatchUpdate,
        ids: &[String],
        set_binds: &[Bind],
        condition_binds: &[Bind],
        after: fn(i64) -> i64,
    ) -> Result<Vec<(String, i64)>> {
        let op = update.operation;
        if let [id] = ids {
            // One event: one autocommit statement, no transaction round trips.
            let sql = format!(
                "UPDATE eventflow_published SET {} WHERE event_id = ? AND {}",
                update.mysql_single_set, update.condition
            );
            let mut query = sqlx::query(self.dynamic_sql(sql));
            for bind in set_binds
                .iter()
                .chain([&Bind::Text(id.clone())])
                .chain(condition_binds)
            {
                query = match bind {
                    Bind::Int(value) => query.bind(*value),
                    Bind::Text(value) => query.bind(value.clone()),
                };
            }
            let done = query.execute(self.pool()).await.context(op)?;
            if done.rows_affected() != 1 {
                return Ok(Vec::new());
            }
            let value = done
                .last_insert_id()
                .ok_or_else(|| crate::error::Error::decode(op, "the claim returned no value"))?;
            return Ok(vec![(id.clone(), value)]);
        }
        let mut tx: Transaction<'static, Any> = self.begin_write(op).await?;
        let returned = update.returning;
        let select = format!(
            "SELECT event_id, {returned} FROM eventflow_published WHERE event_id IN ({}) AND {} \
             ORDER BY event_id FOR UPDATE",
            placeholders(ids.len()),
            update.condition
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(self.dynamic_sql(select));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query = bind_all(query, condition_binds);
        let winners = query.fetch_all(&mut *tx).await.context(op)?;
        if !winners.is_empty() {
            let sql = format!(
                "UPDATE eventflow_published SET {} WHERE event_id IN ({})",
                update.set,
                placeholders(winners.len())
            );
            let mut query = sqlx::query(self.dynamic_sql(sql));
            for bind in set_binds {
                query = match bind {
                    Bind::Int(value) => query.bind(*value),
                    Bind::Text(value) => query.bind(value.clone()),
                };
            }
            for (id, _) in &winners {
                query = query.bind(id.as_str());
            }
            query.execute(&mut *tx).await.context(op)?;
        }
        tx.commit().await.context(op)?;
        Ok(winners
            .into_iter()
            .map(|(id, value)| (id, after(value)))
            .collect())
    }

    pub(super) async fn claim_routes_batch(
        &self,
        event_ids: &[Uuid],
        hub: &str,
        lease: Duration,
    ) -> Result<Vec<RouteClaim>> {
        check_key("hub id", hub)?;
        const UPDATE: BatchUpdate = BatchUpdate {
            operation: "claim the routes of events",
            set: "hub = ?, hub_claimed_at = ?, hub_lease_until = ?, orphan_at = NULL",
            condition: "succeeded_at IS NULL AND parked_at IS NULL AND available_at <= ? \
                        AND (hub_lease_until IS NULL OR hub_lease_until <= ?)",
            returning: "deliveries",
            mysql_single_set: "hub = ?, hub_claimed_at = ?, hub_lease_until = ?, orphan_at = NULL, \
                               deliveries = LAST_INSERT_ID(deliveries)",
        };
        let now = self.now();
        let set = [
            Bind::Text(hub.to_owned()),
            Bind::Int(now.as_millis()),
            Bind::Int(lease_end(now, lease)),
        ];
        let condition = [Bind::Int(now.as_millis()), Bind::Int(now.as_millis())];
        let won = self
            .batch_update(&UPDATE, event_ids, &set, &condition, |d| d)
            .await?;
        won.into_iter()
            .map(|(event_id, deliveries)| {
                Ok(RouteClaim {
                    event_id,
                    deliveries: count(deliveries, UPDATE.operation)?,
                })
            })
            .collect()
    }

    pub(super) async fn claim_deliveries_batch(
        &self,
        event_ids: &[Uuid],
        consumer: &str,
        lease: Duration,
        max_deliveries: u32,
    ) -> Result<Vec<Delivery>> {
        check_key("consumer id", consumer)?;
        const UPDATE: BatchUpdate = BatchUpdate {
            operation: "claim the deliveries of events",
            set: "consumer = ?, claimed_at = ?, lease_until = ?, deliveries = deliveries + 1",
            condition: "succeeded_at IS NULL AND parked_at IS NULL AND available_at <= ? \
                        AND deliveries < ? AND (lease_until IS NULL OR lease_until <= ?)",
            returning: "deliveries",
            mysql_single_set: "consumer = ?, claimed_at = ?, lease_until = ?, \
                               deliveries = LAST_INSERT_ID(deliveries + 1)",
        };
        let now = self.now();
        let until = lease_end(now, lease);
        let set = [
            Bind::Text(consumer.to_owned()),
            Bind::Int(now.as_millis()),
            Bind::Int(until),
        ];
        let condition = [
            Bind::Int(now.as_millis()),
            Bind::Int(i64::from(max_deliveries)),
            Bind::Int(now.as_millis()),
        ];
        let won = self
            .batch_update(&UPDATE, event_ids, &set, &condition, |d| d + 1)
            .await?;
        won.into_iter()
            .map(|(event_id, deliveries)| {
                Ok(Delivery {
                    event_id,
                    consumer: consumer.to_owned(),
                    deliveries: count(deliveries, UPDATE.operation)?,
                    lease_until: Timestamp::from_millis(until),
                })
            })
            .collect()
    }

    /// One batched update per (consumer, delivery number): a delivery's success applies
    /// only while it still holds the event. Batches nearly always share both.
    pub(super) async fn succeed_deliveries_batch(
        &self,
        deliveries: &[Delivery],
    ) -> Result<Vec<Uuid>> {
        const UPDATE: BatchUpdate = BatchUpdate {
            operation: "record successful deliveries",
            set: "succeeded_at = ?, lease_until = NULL",
            condition: "consumer = ? AND deliveries = ? AND lease_until IS NOT NULL \
                        AND succeeded_at IS NULL AND parked_at IS NULL",
            returning: "deliveries",
            mysql_single_set: "succeeded_at = ?, lease_until = NULL, deliveries = LAST_INSERT_ID(deliveries)",
        };
        let mut groups: BTreeMap<(&str, u32), Vec<Uuid>> = BTreeMap::new();
        for delivery in deliveries {
            groups
                .entry((delivery.consumer.as_str(), delivery.deliveries))
                .or_default()
                .push(delivery.event_id);
        }
        let set = [Bind::Int(self.now().as_millis())];
        let mut done = Vec::with_capacity(deliveries.len());
        for ((consumer, number), ids) in groups {
            let condition = [
                Bind::Text(consumer.to_owned()),
                Bind::Int(i64::from(number)),
            ];
            let won = self
                .batch_update(&UPDATE, &ids, &set, &condition, |d| d)
                .await?;
            done.extend(won.into_iter().map(|(id, _)| id));
        }
        Ok(done)
    }

    pub(super) async fn settle_many_batch(&self, event_ids: &[Uuid]) -> Result<u64> {
        let now = self.now().as_millis();
        let mut settled = 0;
        for chunk in event_ids.chunks(CHUNK) {
            let sql = format!(
                "UPDATE eventflow_published SET succeeded_at = ?, lease_until = NULL, hub_lease_until = NULL \
                 WHERE event_id IN ({}) AND succeeded_at IS NULL AND parked_at IS NULL",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(self.dynamic_sql(sql)).bind(now);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            let _gate = self.write_gate().await;
            settled += query
                .execute(self.pool())
                .await
                .context("settle events")?
                .rows_affected();
        }
        Ok(settled)
    }

    pub(super) async fn read_events_batch(&self, ids: &[Uuid]) -> Result<Vec<Event>> {
        const OP: &str = "read events by id";
        let mut events = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM eventflow_event e WHERE e.id IN ({}) ORDER BY e.position"
                ),
                placeholders(chunk.len())
            );
            let mut query = sqlx::query_as::<_, EventRow>(self.dynamic_sql(sql));
            for id in chunk {
                query = query.bind(id.to_string());
            }
            let rows = query.fetch_all(self.pool()).await.context(OP)?;
            events.extend(rows::events(rows, OP)?);
        }
        if ids.len() > CHUNK {
            events.sort_by_key(|event| event.position);
        }
        Ok(events)
    }
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments> {
    for bind in binds {
        query = match bind {
            Bind::Int(value) => query.bind(*value),
            Bind::Text(value) => query.bind(value.clone()),
        };
    }
    query
}
