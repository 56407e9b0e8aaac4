//! [`AgentLog`]: operational log lines that hubs and spokes persist.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Timestamp;
use crate::error::Result;

/// One persisted log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// When it was written.
    pub timestamp: Timestamp,
    /// The hub or spoke id that wrote it.
    pub agent: String,
    /// The rendered message.
    pub message: String,
    /// A JSON description of the error, or `{}`.
    pub error: Value,
}

/// The log table.
#[async_trait]
pub trait AgentLog: Send + Sync {
    /// Persists a log line stamped now; `error` defaults to `{}`.
    async fn write_log(&self, agent: &str, message: &str, error: Option<&Value>) -> Result<()>;

    /// The newest `limit` lines, of one agent or of all, oldest first.
    async fn recent_logs(&self, agent: Option<&str>, limit: u32) -> Result<Vec<LogRecord>>;
}
