//! The crate's one error type: every failure has a stable `E_EVENTFLOW_*` code, a message
//! that says what happened and what to do, and its cause chained as `source()`.

use uuid::Uuid;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the event store.
///
/// Match on the variant, or on [`Error::code`] when the error crosses a process boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store configuration cannot be used (unknown URL scheme, bad option).
    #[error(
        "eventflow store configuration is invalid: {reason}; fix `eventflow.store` and start again"
    )]
    Config {
        /// What is wrong with the configuration.
        reason: String,
        /// The underlying parse error, when there is one.
        #[source]
        source: Option<sqlx::Error>,
    },

    /// The database cannot be reached (down, refused, timed out, wrong host or credentials).
    #[error(
        "eventflow store is unavailable while trying to {operation}: the database could not be reached; \
         check that it is running and that `eventflow.store.url` is right, then retry"
    )]
    Unavailable {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// Applying the schema migrations failed.
    #[error(
        "eventflow store could not apply its schema migrations: {reason}; \
         the database user needs rights to create tables, and the schema must not have been altered by hand"
    )]
    Migration {
        /// A short description of the failure.
        reason: String,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// The database was reachable but rejected or failed a statement.
    #[error(
        "eventflow store failed to {operation}: the database returned an error (see the cause)"
    )]
    Query {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// The database gave up on a statement because of lock contention (deadlock, lock wait
    /// timeout, SQLite busy). Retrying the operation is safe.
    #[error(
        "eventflow store is busy while trying to {operation}: lock contention in the database; retry the operation"
    )]
    Busy {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// A stored row could not be turned back into a value (corrupt or foreign data).
    #[error("eventflow store read a row it cannot decode while trying to {operation}: {reason}")]
    Decode {
        /// What the store was doing.
        operation: &'static str,
        /// What was wrong with the row.
        reason: String,
    },

    /// The stream's version did not match the expected version of an append.
    #[error(
        "stream {domain}/{pid} is at version {actual}, but the append expected version {expected}; \
         read the stream again, decide again, and append with the new version"
    )]
    Conflict {
        /// Domain of the stream.
        domain: String,
        /// Process id of the stream.
        pid: String,
        /// The version the caller expected.
        expected: u64,
        /// The version the stream is at.
        actual: u64,
    },

    /// An event id is already used by a different event, or a re-appended batch only partly
    /// matches what was stored.
    #[error(
        "event id {id} is already used by a different event ({reason}); use a new id for a new event"
    )]
    DuplicateId {
        /// The id.
        id: Uuid,
        /// Why the stored event is not the same append.
        reason: String,
    },

    /// An event or request was rejected before it reached the database.
    #[error("invalid eventflow request: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },

    /// No event has this id.
    #[error("event {id} was not found; it was never appended or has been deleted")]
    EventNotFound {
        /// The id that was looked up.
        id: Uuid,
    },

    /// No current (unrevoked, version 0) certificate has this id.
    #[error("certificate {id} was not found, or it has been revoked; create a new one")]
    CertificateNotFound {
        /// The certificate id that was looked up.
        id: String,
    },
}

impl Error {
    /// The stable code of this error, e.g. `E_EVENTFLOW_CONFLICT`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config { .. } => "E_EVENTFLOW_STORE_CONFIG",
            Error::Unavailable { .. } => "E_EVENTFLOW_STORE_UNAVAILABLE",
            Error::Migration { .. } => "E_EVENTFLOW_STORE_MIGRATION",
            Error::Query { .. } => "E_EVENTFLOW_STORE_QUERY",
            Error::Busy { .. } => "E_EVENTFLOW_STORE_BUSY",
            Error::Decode { .. } => "E_EVENTFLOW_STORE_DECODE",
            Error::Conflict { .. } => "E_EVENTFLOW_CONFLICT",
            Error::DuplicateId { .. } => "E_EVENTFLOW_DUPLICATE_ID",
            Error::Invalid { .. } => "E_EVENTFLOW_INVALID",
            Error::EventNotFound { .. } => "E_EVENTFLOW_EVENT_NOT_FOUND",
            Error::CertificateNotFound { .. } => "E_EVENTFLOW_CERTIFICATE_NOT_FOUND",
        }
    }

    /// True when retrying the same operation later may succeed (database down or busy).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::Busy { .. })
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::Invalid {
            reason: reason.into(),
        }
    }

    pub(crate) fn decode(operation: &'static str, reason: impl Into<String>) -> Self {
        Error::Decode {
            operation,
            reason: reason.into(),
        }
    }

    /// Classifies a driver error raised while doing `operation`.
    pub(crate) fn from_sqlx(operation: &'static str, source: sqlx::Error) -> Self {
        match &source {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => Error::Unavailable { operation, source },
            sqlx::Error::Database(db) if is_unreachable(db.as_ref()) => {
                Error::Unavailable { operation, source }
            }
            sqlx::Error::Database(db) if is_busy(db.as_ref()) => Error::Busy { operation, source },
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => Error::Decode {
                operation,
                reason: source.to_string(),
            },
            _ => Error::Query { operation, source },
        }
    }
}

/// Access denied, unknown database, too many connections, server shutting down.
fn is_unreachable(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code();
    let code = code.as_deref().unwrap_or("");
    // PostgreSQL SQLSTATE classes 08 (connection), 28 (auth), 3D000 (no database),
    // 53300 (too many connections), 57P0x (shutdown); MySQL 1044/1045 (access),
    // 1049 (unknown database), 1040 (too many connections); SQLite 14 (cannot open).
    code.starts_with("08")
        || code.starts_with("28")
        || code.starts_with("57P0")
        || matches!(
            code,
            "3D000" | "53300" | "1044" | "1045" | "1049" | "1040" | "14"
        )
}

/// Deadlocks, lock wait timeouts, serialization failures and SQLite's busy/locked.
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code();
    let code = code.as_deref().unwrap_or("");
    matches!(
        code,
        "40001" | "40P01" | "55P03" | "1205" | "1213" | "5" | "6" | "261" | "517"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_stable_code() {
        let id = Uuid::nil();
        let cases = [
            (
                Error::Conflict {
                    domain: "d".into(),
                    pid: "p".into(),
                    expected: 1,
                    actual: 2,
                },
                "E_EVENTFLOW_CONFLICT",
            ),
            (Error::EventNotFound { id }, "E_EVENTFLOW_EVENT_NOT_FOUND"),
            (
                Error::CertificateNotFound { id: "x".into() },
                "E_EVENTFLOW_CERTIFICATE_NOT_FOUND",
            ),
            (Error::invalid("x"), "E_EVENTFLOW_INVALID"),
            (
                Error::from_sqlx("read", sqlx::Error::PoolTimedOut),
                "E_EVENTFLOW_STORE_UNAVAILABLE",
            ),
            (
                Error::from_sqlx("read", sqlx::Error::RowNotFound),
                "E_EVENTFLOW_STORE_QUERY",
            ),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code, "{error}");
        }
    }

    #[test]
    fn unavailable_errors_are_transient_and_keep_their_cause() {
        let error = Error::from_sqlx("append events", sqlx::Error::PoolTimedOut);
        assert!(error.is_transient());
        assert!(std::error::Error::source(&error).is_some());
        assert!(error.to_string().contains("append events"));
    }
}
