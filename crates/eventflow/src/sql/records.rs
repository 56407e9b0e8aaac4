//! [`HubRegistry`], [`CertificateStore`] and [`AgentLog`] for [`SqlStore`]: the cluster's
//! bookkeeping tables.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::agent_log::{AgentLog, LogRecord};
use crate::certificate::{CertificateRecord, CertificateStore};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::event::check_key;
use crate::registry::{HubRecord, HubRegistration, HubRegistry};

use super::rows::time;
use super::{Context, SqlStore, is_unique_violation};

/// id, registered_at, heartbeat_at, external_host, external_port, internal_host, internal_port,
/// quit_at, spokes
type HubRow = (
    String,
    i64,
    i64,
    String,
    i64,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

const HUB_COLUMNS: &str = "id, registered_at, heartbeat_at, external_host, external_port, internal_host, internal_port, quit_at, spokes";

fn hub(row: HubRow, operation: &'static str) -> Result<HubRecord> {
    let (
        id,
        registered_at,
        heartbeat_at,
        external_host,
        external_port,
        internal_host,
        internal_port,
        quit_at,
        spokes,
    ) = row;
    let port = |p: i64| {
        u16::try_from(p)
            .map_err(|_| Error::decode(operation, format!("hub port {p} is out of range")))
    };
    Ok(HubRecord {
        registration: HubRegistration {
            id,
            external_host,
            external_port: port(external_port)?,
            internal_host,
            internal_port: port(internal_port)?,
        },
        registered_at: Timestamp::from_millis(registered_at),
        heartbeat_at: Timestamp::from_millis(heartbeat_at),
        quit_at: time(quit_at),
        spokes: match spokes {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                Error::decode(
                    operation,
                    format!("the hub's spoke list is not a JSON array: {e}"),
                )
            })?,
            None => Vec::new(),
        },
    })
}

#[async_trait]
impl HubRegistry for SqlStore {
    async fn register_hub(&self, registration: &HubRegistration) -> Result<bool> {
        check_key("hub id", &registration.id)?;
        let now = self.now().as_millis();
        let _gate = self.write_gate().await;
        let inserted = sqlx::query(self.sql(
            "INSERT INTO eventflow_hub (id, registered_at, heartbeat_at, external_host, external_port, \
             internal_host, internal_port) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(registration.id.as_str())
        .bind(now)
        .bind(now)
        .bind(registration.external_host.as_str())
        .bind(i64::from(registration.external_port))
        .bind(registration.internal_host.as_str())
        .bind(i64::from(registration.internal_port))
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(Error::from_sqlx("register a hub", e)),
        }
    }

    async fn heartbeat_hub(&self, id: &str, spokes: &[String]) -> Result<bool> {
        let spokes = serde_json::to_string(spokes).unwrap_or_else(|_| "[]".to_owned());
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_hub SET heartbeat_at = ?, spokes = ? WHERE id = ? AND quit_at IS NULL",
        ))
        .bind(self.now().as_millis())
        .bind(spokes)
        .bind(id);
        self.one_row(query, "record a hub heartbeat").await
    }

    async fn rejoin_hub(&self, id: &str, spokes: &[String]) -> Result<bool> {
        let spokes = serde_json::to_string(spokes).unwrap_or_else(|_| "[]".to_owned());
        let query = sqlx::query(self.sql(
            "UPDATE eventflow_hub SET heartbeat_at = ?, spokes = ?, quit_at = NULL WHERE id = ?",
        ))
        .bind(self.now().as_millis())
        .bind(spokes)
        .bind(id);
        self.one_row(query, "rejoin a hub").await
    }

    async fn live_hubs(&self, ttl: Duration) -> Result<Vec<HubRecord>> {
        const OP: &str = "list live hubs";
        let oldest = (self.now() - ttl).as_millis();
        let sql = format!(
            "SELECT {HUB_COLUMNS} FROM eventflow_hub WHERE quit_at IS NULL AND heartbeat_at >= ? \
             ORDER BY registered_at, id"
        );
        let rows: Vec<HubRow> = sqlx::query_as(self.dynamic_sql(sql))
            .bind(oldest)
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows.into_iter().map(|row| hub(row, OP)).collect()
    }

    async fn quit_hub(&self, id: &str) -> Result<bool> {
        let query = sqlx::query(
            self.sql("UPDATE eventflow_hub SET quit_at = ? WHERE id = ? AND quit_at IS NULL"),
        )
        .bind(self.now().as_millis())
        .bind(id);
        self.one_row(query, "mark a hub quit").await
    }

    async fn quit_stale_hubs(&self, ttl: Duration) -> Result<u64> {
        let now = self.now();
        let _gate = self.write_gate().await;
        let quit = sqlx::query(self.sql(
            "UPDATE eventflow_hub SET quit_at = ? WHERE quit_at IS NULL AND heartbeat_at < ?",
        ))
        .bind(now.as_millis())
        .bind((now - ttl).as_millis())
        .execute(self.pool())
        .await
        .context("mark stale hubs quit")?;
        Ok(quit.rows_affected())
    }

    async fn hub(&self, id: &str) -> Result<Option<HubRecord>> {
        const OP: &str = "read a hub";
        let sql = format!("SELECT {HUB_COLUMNS} FROM eventflow_hub WHERE id = ?");
        let row: Option<HubRow> = sqlx::query_as(self.dynamic_sql(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .context(OP)?;
        row.map(|row| hub(row, OP)).transpose()
    }
}

/// id, version, cert, secret, validity, created_at, revoked_at
type CertificateRow = (String, i64, String, Vec<u8>, i64, i64, Option<i64>);

#[async_trait]
impl CertificateStore for SqlStore {
    async fn persist_certificate(&self, record: &CertificateRecord) -> Result<bool> {
        check_key("certificate id", &record.id)?;
        let _gate = self.write_gate().await;
        let inserted = sqlx::query(self.sql(
            "INSERT INTO eventflow_certificate (id, version, cert, secret, validity, created_at) \
             VALUES (?, 0, ?, ?, ?, ?)",
        ))
        .bind(record.id.as_str())
        .bind(record.cert.as_str())
        .bind(record.key.as_slice())
        .bind(record.validity.as_millis())
        .bind(self.now().as_millis())
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(Error::from_sqlx("persist a certificate", e)),
        }
    }

    async fn read_certificate(&self, id: &str) -> Result<CertificateRecord> {
        const OP: &str = "read a certificate";
        let row: Option<CertificateRow> = sqlx::query_as(self.sql(
            "SELECT id, version, cert, secret, validity, created_at, revoked_at FROM eventflow_certificate \
             WHERE id = ? AND version = 0 AND revoked_at IS NULL",
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context(OP)?;
        let Some((id, version, cert, key, validity, created_at, revoked_at)) = row else {
            return Err(Error::CertificateNotFound { id: id.to_owned() });
        };
        Ok(CertificateRecord {
            id,
            version: u32::try_from(version)
                .map_err(|_| Error::decode(OP, "certificate version out of range"))?,
            cert,
            key,
            validity: Timestamp::from_millis(validity),
            created_at: Timestamp::from_millis(created_at),
            revoked_at: time(revoked_at),
        })
    }

    async fn revoke_certificate(&self, id: &str) -> Result<bool> {
        const OP: &str = "revoke a certificate";
        let _gate = self.write_gate().await;
        let mut tx = self.begin_write(OP).await?;
        // The revoked row moves to the next free version, freeing version 0 for a successor.
        let versions: i64 =
            sqlx::query_scalar(self.sql("SELECT COUNT(*) FROM eventflow_certificate WHERE id = ?"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .context(OP)?;
        let revoked = sqlx::query(self.sql(
            "UPDATE eventflow_certificate SET version = ?, revoked_at = ? \
             WHERE id = ? AND version = 0 AND revoked_at IS NULL",
        ))
        .bind(versions)
        .bind(self.now().as_millis())
        .bind(id)
        .execute(&mut *tx)
        .await
        .context(OP)?;
        tx.commit().await.context(OP)?;
        Ok(revoked.rows_affected() == 1)
    }

    async fn revoke_expired_certificates(&self) -> Result<u64> {
        let expired: Vec<String> = sqlx::query_scalar(self.sql(
            "SELECT id FROM eventflow_certificate WHERE version = 0 AND revoked_at IS NULL AND validity < ?",
        ))
        .bind(self.now().as_millis())
        .fetch_all(self.pool())
        .await
        .context("list expired certificates")?;
        let mut revoked = 0;
        for id in expired {
            if self.revoke_certificate(&id).await? {
                revoked += 1;
            }
        }
        Ok(revoked)
    }
}

#[async_trait]
impl AgentLog for SqlStore {
    async fn write_log(&self, agent: &str, message: &str, error: Option<&Value>) -> Result<()> {
        let error = error.map_or_else(|| "{}".to_owned(), Value::to_string);
        let _gate = self.write_gate().await;
        sqlx::query(self.sql(
            "INSERT INTO eventflow_log (timestamp, agent, message, error) VALUES (?, ?, ?, ?)",
        ))
        .bind(self.now().as_millis())
        .bind(agent)
        .bind(message)
        .bind(error)
        .execute(self.pool())
        .await
        .context("persist a log line")?;
        Ok(())
    }

    async fn recent_logs(&self, agent: Option<&str>, limit: u32) -> Result<Vec<LogRecord>> {
        const OP: &str = "read log lines";
        let columns = "SELECT timestamp, agent, message, error FROM eventflow_log";
        let sql = match agent {
            Some(_) => format!("{columns} WHERE agent = ? ORDER BY seq DESC LIMIT ?"),
            None => format!("{columns} ORDER BY seq DESC LIMIT ?"),
        };
        let mut query = sqlx::query_as::<_, (i64, String, String, String)>(self.dynamic_sql(sql));
        if let Some(agent) = agent {
            query = query.bind(agent);
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .context(OP)?;
        rows.into_iter()
            .rev()
            .map(|(timestamp, agent, message, error)| {
                Ok(LogRecord {
                    timestamp: Timestamp::from_millis(timestamp),
                    agent,
                    message,
                    error: serde_json::from_str(&error).map_err(|e| {
                        Error::decode(OP, format!("log error column is not JSON: {e}"))
                    })?,
                })
            })
            .collect()
    }
}
