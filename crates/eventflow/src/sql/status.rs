//! [`StatusStore`] for [`SqlStore`]: aggregate reads of the delivery bookkeeping.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::status::{DomainStatus, StatusStore};

use super::rows::time;
use super::{Context, SqlStore};

/// domain, unrouted, oldest unrouted, orphaned, oldest orphaned, in flight, oldest in
/// flight, retrying, oldest retrying, parked, oldest parked
type StatusRow = (
    String,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
);

fn count(value: i64, operation: &'static str) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::decode(operation, format!("negative count {value}")))
}

#[async_trait]
impl StatusStore for SqlStore {
    async fn domain_status(&self) -> Result<Vec<DomainStatus>> {
        const OP: &str = "read the backlog per domain";
        let now = self.now().as_millis();
        // COUNT, not SUM: SUM is DECIMAL on MySQL, which the `any` driver cannot decode.
        let rows: Vec<StatusRow> = sqlx::query_as(self.sql(
            "SELECT e.domain, \
               COUNT(CASE WHEN p.parked_at IS NULL AND p.orphan_at IS NULL AND p.available_at <= ? \
                 AND (p.lease_until IS NULL OR p.lease_until <= ?) THEN 1 END), \
               MIN(CASE WHEN p.parked_at IS NULL AND p.orphan_at IS NULL AND p.available_at <= ? \
                 AND (p.lease_until IS NULL OR p.lease_until <= ?) THEN p.available_at END), \
               COUNT(CASE WHEN p.parked_at IS NULL AND p.orphan_at IS NOT NULL THEN 1 END), \
               MIN(CASE WHEN p.parked_at IS NULL AND p.orphan_at IS NOT NULL THEN p.published_at END), \
               COUNT(CASE WHEN p.parked_at IS NULL AND p.lease_until > ? THEN 1 END), \
               MIN(CASE WHEN p.parked_at IS NULL AND p.lease_until > ? THEN p.published_at END), \
               COUNT(CASE WHEN p.parked_at IS NULL AND p.available_at > ? AND p.failed_at IS NOT NULL \
                 AND (p.lease_until IS NULL OR p.lease_until <= ?) THEN 1 END), \
               MIN(CASE WHEN p.parked_at IS NULL AND p.available_at > ? AND p.failed_at IS NOT NULL \
                 AND (p.lease_until IS NULL OR p.lease_until <= ?) THEN p.published_at END), \
               COUNT(p.parked_at), \
               MIN(p.parked_at) \
             FROM eventflow_published p JOIN eventflow_event e ON e.id = p.event_id \
             WHERE p.succeeded_at IS NULL \
             GROUP BY e.domain ORDER BY e.domain",
        ))
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_all(self.pool())
        .await
        .context(OP)?;
        rows.into_iter()
            .map(
                |(
                    domain,
                    unrouted,
                    oldest_unrouted,
                    orphaned,
                    oldest_orphaned,
                    in_flight,
                    oldest_in_flight,
                    retrying,
                    oldest_retrying,
                    parked,
                    oldest_parked,
                )| {
                    Ok(DomainStatus {
                        domain,
                        unrouted: count(unrouted, OP)?,
                        oldest_unrouted: time(oldest_unrouted),
                        orphaned: count(orphaned, OP)?,
                        oldest_orphaned: time(oldest_orphaned),
                        in_flight: count(in_flight, OP)?,
                        oldest_in_flight: time(oldest_in_flight),
                        retrying: count(retrying, OP)?,
                        oldest_retrying: time(oldest_retrying),
                        parked: count(parked, OP)?,
                        oldest_parked: time(oldest_parked),
                    })
                },
            )
            .filter(|status| {
                status.as_ref().map_or(true, |s| {
                    s.unrouted + s.orphaned + s.in_flight + s.retrying + s.parked > 0
                })
            })
            .collect()
    }

    async fn scheduled_due(&self, until: Timestamp) -> Result<u64> {
        const OP: &str = "count scheduled events due";
        let due: i64 = sqlx::query_scalar(self.sql(
            "SELECT COUNT(*) FROM eventflow_scheduled WHERE executed_at IS NULL AND due_at <= ?",
        ))
        .bind(until.as_millis())
        .fetch_one(self.pool())
        .await
        .context(OP)?;
        count(due, OP)
    }

    async fn ping(&self) -> Result<()> {
        let applied: Option<i64> = match sqlx::query_scalar(
            self.sql("SELECT MAX(version) FROM eventflow_migrations WHERE success = TRUE"),
        )
        .fetch_one(self.pool())
        .await
        .context("ping the store")
        {
            Ok(applied) => applied,
            // The database answered but refused the query: no migrations table, so no
            // eventflow schema (a wrong database or schema name, or never opened by a node).
            Err(Error::Query { .. }) => None,
            Err(error) => return Err(error),
        };
        let applied = applied.unwrap_or(0);
        if applied < Self::LATEST_MIGRATION {
            return Err(Error::Schema {
                applied,
                needed: Self::LATEST_MIGRATION,
            });
        }
        Ok(())
    }
}
