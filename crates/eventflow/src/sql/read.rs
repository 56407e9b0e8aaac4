//! [`EventLog`] for [`SqlStore`]: reads, deletes and associations (appends live in
//! `append.rs`).

use async_trait::async_trait;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::event::{AppendRequest, Appended, CatchUp, ChildProcess, Event, check_key};
use crate::eventlog::EventLog;

use super::rows::{self, EventRow, event_columns};
use super::{
    Context, SqlStore, from_db, is_foreign_key_violation, is_unique_violation, placeholders, to_db,
};

impl SqlStore {
    /// Runs an event query with string binds.
    async fn events(
        &self,
        sql: &'static str,
        binds: &[&str],
        operation: &'static str,
    ) -> Result<Vec<Event>> {
        let mut query = sqlx::query_as::<_, EventRow>(self.sql(sql));
        for bind in binds {
            query = query.bind(*bind);
        }
        let rows = query.fetch_all(self.pool()).await.context(operation)?;
        rows::events(rows, operation)
    }

    /// Inserts an association row: false when it exists, `E_EVENTFLOW_EVENT_NOT_FOUND`
    /// when the event does not.
    async fn link(
        &self,
        sql: &'static str,
        event_id: Uuid,
        binds: &[&str],
        operation: &'static str,
    ) -> Result<bool> {
        let mut query = sqlx::query(self.sql(sql)).bind(event_id.to_string());
        for bind in binds {
            query = query.bind(*bind);
        }
        let _gate = self.write_gate().await;
        match query.execute(self.pool()).await {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::EventNotFound { id: event_id }),
            Err(e) => Err(Error::from_sqlx(operation, e)),
        }
    }

    /// Runs a delete or update and returns the affected row count.
    async fn affected(
        &self,
        sql: &'static str,
        binds: &[&str],
        operation: &'static str,
    ) -> Result<u64> {
        let mut query = sqlx::query(self.sql(sql));
        for bind in binds {
            query = query.bind(*bind);
        }
        let _gate = self.write_gate().await;
        Ok(query
            .execute(self.pool())
            .await
            .context(operation)?
            .rows_affected())
    }
}

#[async_trait]
impl EventLog for SqlStore {
    async fn append(&self, request: AppendRequest) -> Result<Vec<Appended>> {
        super::append::append(self, request).await
    }

    async fn read_event(&self, id: Uuid) -> Result<Event> {
        const OP: &str = "read an event";
        let id_text = id.to_string();
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e WHERE e.id = ?"
        );
        let mut found = self.events(sql, &[&id_text], OP).await?;
        found.pop().ok_or(Error::EventNotFound { id })
    }

    async fn read_events(&self, ids: &[Uuid]) -> Result<Vec<Event>> {
        self.read_events_batch(ids).await
    }

    async fn read_stream(&self, domain: &str, pid: &str) -> Result<Vec<Event>> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e WHERE e.domain = ? AND e.pid = ? ORDER BY e.version"
        );
        self.events(sql, &[domain, pid], "read an event-log").await
    }

    async fn read_stream_between(
        &self,
        domain: &str,
        pid: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Event>> {
        const OP: &str = "read an event-log between timestamps";
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e WHERE e.domain = ? AND e.pid = ?",
            " AND e.timestamp >= ? AND e.timestamp <= ? ORDER BY e.version"
        );
        let rows = sqlx::query_as::<_, EventRow>(self.sql(sql))
            .bind(domain)
            .bind(pid)
            .bind(from.as_millis())
            .bind(to.as_millis())
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows::events(rows, OP)
    }

    async fn read_stream_backwards(
        &self,
        domain: &str,
        pid: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Event>> {
        const OP: &str = "read an event-log page";
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e WHERE e.domain = ? AND e.pid = ? AND e.version < ?",
            " ORDER BY e.version DESC LIMIT ?"
        );
        let before = match before {
            Some(version) => to_db(version, "version")?,
            None => i64::MAX,
        };
        let rows = sqlx::query_as::<_, EventRow>(self.sql(sql))
            .bind(domain)
            .bind(pid)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows::events(rows, OP)
    }

    async fn read_stream_by_names(
        &self,
        domain: &str,
        pid: &str,
        names: &[&str],
    ) -> Result<Vec<Event>> {
        const OP: &str = "read an event-log filtered by names";
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM eventflow_event e WHERE e.domain = ? AND e.pid = ? AND e.name IN ({}) ORDER BY e.version"
            ),
            placeholders(names.len())
        );
        let mut query = sqlx::query_as::<_, EventRow>(self.dynamic_sql(sql))
            .bind(domain)
            .bind(pid);
        for name in names {
            query = query.bind(*name);
        }
        let rows = query.fetch_all(self.pool()).await.context(OP)?;
        rows::events(rows, OP)
    }

    async fn stream_version(&self, domain: &str, pid: &str) -> Result<u64> {
        const OP: &str = "read a stream version";
        let max: Option<i64> = sqlx::query_scalar(
            self.sql("SELECT MAX(version) FROM eventflow_event WHERE domain = ? AND pid = ?"),
        )
        .bind(domain)
        .bind(pid)
        .fetch_one(self.pool())
        .await
        .context(OP)?;
        from_db(max.unwrap_or(0), OP, "version")
    }

    async fn read_by_cpid(&self, domain: &str, cpid: &str) -> Result<Vec<Event>> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e JOIN eventflow_event_cpid c ON c.event_id = e.id",
            " WHERE c.domain = ? AND c.cpid = ? ORDER BY e.position"
        );
        self.events(sql, &[domain, cpid], "read events by child process")
            .await
    }

    async fn read_by_eid(&self, eid: &str) -> Result<Vec<Event>> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e JOIN eventflow_event_eid x ON x.event_id = e.id",
            " WHERE x.eid = ? ORDER BY e.position"
        );
        self.events(sql, &[eid], "read events by entity").await
    }

    async fn read_by_domain_and_eid(&self, domain: &str, eid: &str) -> Result<Vec<Event>> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e JOIN eventflow_event_eid x ON x.event_id = e.id",
            " WHERE e.domain = ? AND x.eid = ? ORDER BY e.position"
        );
        self.events(sql, &[domain, eid], "read events by domain and entity")
            .await
    }

    async fn distinct_pids(&self, domain: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            self.sql("SELECT DISTINCT pid FROM eventflow_event WHERE domain = ? ORDER BY pid"),
        )
        .bind(domain)
        .fetch_all(self.pool())
        .await
        .context("read the pids of a domain")
    }

    async fn read_from(&self, catch_up: &CatchUp) -> Result<Vec<Event>> {
        const OP: &str = "read events from a position";
        let mut sql = String::from(concat!(
            "SELECT ",
            event_columns!(),
            " FROM eventflow_event e WHERE e.position > ?"
        ));
        let pid = catch_up.domain.as_ref().and(catch_up.pid.as_ref());
        if catch_up.domain.is_some() {
            sql.push_str(" AND e.domain = ?");
        }
        if pid.is_some() {
            sql.push_str(" AND e.pid = ?");
        }
        if !catch_up.names.is_empty() {
            sql.push_str(&format!(
                " AND e.name IN ({})",
                placeholders(catch_up.names.len())
            ));
        }
        sql.push_str(" ORDER BY e.position LIMIT ?");
        let mut query = sqlx::query_as::<_, EventRow>(self.dynamic_sql(sql))
            .bind(to_db(catch_up.after, "position")?);
        if let Some(domain) = &catch_up.domain {
            query = query.bind(domain.as_str());
        }
        if let Some(pid) = pid {
            query = query.bind(pid.as_str());
        }
        for name in &catch_up.names {
            query = query.bind(name.as_str());
        }
        let rows = query
            .bind(i64::from(catch_up.limit))
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows::events(rows, OP)
    }

    async fn head_position(&self) -> Result<u64> {
        const OP: &str = "read the head position";
        let head: i64 =
            sqlx::query_scalar(self.sql("SELECT position FROM eventflow_head WHERE id = 1"))
                .fetch_one(self.pool())
                .await
                .context(OP)?;
        from_db(head, OP, "head position")
    }

    async fn delete_event(&self, id: Uuid) -> Result<bool> {
        let id = id.to_string();
        let deleted = self
            .affected(
                "DELETE FROM eventflow_event WHERE id = ?",
                &[&id],
                "delete an event",
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_stream(&self, domain: &str, pid: &str) -> Result<u64> {
        self.affected(
            "DELETE FROM eventflow_event WHERE domain = ? AND pid = ?",
            &[domain, pid],
            "delete an event-log",
        )
        .await
    }

    async fn add_eid(&self, event_id: Uuid, eid: &str) -> Result<bool> {
        check_key("eid", eid)?;
        let sql = "INSERT INTO eventflow_event_eid (event_id, eid) VALUES (?, ?)";
        self.link(sql, event_id, &[eid], "link an event to an entity")
            .await
    }

    async fn remove_eid(&self, event_id: Uuid, eid: &str) -> Result<bool> {
        let id = event_id.to_string();
        let sql = "DELETE FROM eventflow_event_eid WHERE event_id = ? AND eid = ?";
        Ok(self
            .affected(sql, &[&id, eid], "unlink an event from an entity")
            .await?
            > 0)
    }

    async fn eids_of(&self, event_id: Uuid) -> Result<Vec<String>> {
        sqlx::query_scalar(
            self.sql("SELECT eid FROM eventflow_event_eid WHERE event_id = ? ORDER BY eid"),
        )
        .bind(event_id.to_string())
        .fetch_all(self.pool())
        .await
        .context("read the entities of an event")
    }

    async fn add_cpid(&self, event_id: Uuid, child: &ChildProcess) -> Result<bool> {
        check_key("cpid domain", &child.domain)?;
        check_key("cpid", &child.cpid)?;
        let sql = "INSERT INTO eventflow_event_cpid (event_id, domain, cpid) VALUES (?, ?, ?)";
        self.link(
            sql,
            event_id,
            &[&child.domain, &child.cpid],
            "link an event to a child process",
        )
        .await
    }

    async fn remove_cpid(&self, event_id: Uuid, child: &ChildProcess) -> Result<bool> {
        let id = event_id.to_string();
        let sql = "DELETE FROM eventflow_event_cpid WHERE event_id = ? AND domain = ? AND cpid = ?";
        let removed = self
            .affected(
                sql,
                &[&id, &child.domain, &child.cpid],
                "unlink an event from a child process",
            )
            .await?;
        Ok(removed > 0)
    }

    async fn cpids_of(&self, event_id: Uuid) -> Result<Vec<ChildProcess>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            self.sql("SELECT domain, cpid FROM eventflow_event_cpid WHERE event_id = ? ORDER BY domain, cpid"),
        )
        .bind(event_id.to_string())
        .fetch_all(self.pool())
        .await
        .context("read the child processes of an event")?;
        Ok(rows
            .into_iter()
            .map(|(domain, cpid)| ChildProcess { domain, cpid })
            .collect())
    }
}
