//! [`ScheduleStore`] for [`SqlStore`].

use async_trait::async_trait;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::schedule::{ScheduleStore, ScheduledEvent};

use super::rows::{self, ref_columns, time};
use super::{Context, SqlStore};

/// position, id, domain, pid, name, scheduled_at, due_at, executed_at, executed_by
type Row = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

fn scheduled(row: Row, operation: &'static str) -> Result<ScheduledEvent> {
    let (position, id, domain, pid, name, scheduled_at, due_at, executed_at, executed_by) = row;
    Ok(ScheduledEvent {
        event: rows::event_ref((position, id, domain, pid, name), operation)?,
        scheduled_at: Timestamp::from_millis(scheduled_at),
        due: Timestamp::from_millis(due_at),
        executed_at: time(executed_at),
        executed_by,
    })
}

#[async_trait]
impl ScheduleStore for SqlStore {
    async fn scheduled(&self, event_id: Uuid) -> Result<Option<ScheduledEvent>> {
        const OP: &str = "read a scheduled event";
        let row: Option<Row> = sqlx::query_as(self.sql(concat!(
            "SELECT ", ref_columns!(), ", s.scheduled_at, s.due_at, s.executed_at, s.executed_by",
            " FROM eventflow_scheduled s JOIN eventflow_event e ON e.id = s.event_id WHERE s.event_id = ?"
        )))
        .bind(event_id.to_string())
        .fetch_optional(self.pool())
        .await
        .context(OP)?;
        row.map(|row| scheduled(row, OP)).transpose()
    }

    async fn due_scheduled(&self, limit: u32) -> Result<Vec<ScheduledEvent>> {
        const OP: &str = "list due scheduled events";
        let rows: Vec<Row> = sqlx::query_as(self.sql(concat!(
            "SELECT ",
            ref_columns!(),
            ", s.scheduled_at, s.due_at, s.executed_at, s.executed_by",
            " FROM eventflow_scheduled s JOIN eventflow_event e ON e.id = s.event_id",
            " WHERE s.executed_at IS NULL AND s.due_at <= ? ORDER BY s.due_at, e.position LIMIT ?"
        )))
        .bind(self.now().as_millis())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context(OP)?;
        rows.into_iter().map(|row| scheduled(row, OP)).collect()
    }

    async fn next_due(&self) -> Result<Option<Timestamp>> {
        let next: Option<i64> = sqlx::query_scalar(
            self.sql("SELECT MIN(due_at) FROM eventflow_scheduled WHERE executed_at IS NULL"),
        )
        .fetch_one(self.pool())
        .await
        .context("read the next due time")?;
        Ok(time(next))
    }

    async fn claim_scheduled(&self, event_id: Uuid, hub: &str) -> Result<bool> {
        let now = self.now().as_millis();
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_scheduled SET executed_at = ?, executed_by = ? \
             WHERE event_id = ? AND executed_at IS NULL AND due_at <= ?",
        ))
        .bind(now)
        .bind(hub)
        .bind(event_id.to_string())
        .bind(now);
        self.one_row(query, "claim a scheduled event").await
    }
}
