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
        "E_EVENTFLOW_STORE_CONFIG: eventflow store configuration is invalid: {reason}; fix `eventflow.store` and start again"
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
        "E_EVENTFLOW_STORE_UNAVAILABLE: eventflow store is unavailable while trying to {operation}: the database could not be reached; \
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
        "E_EVENTFLOW_STORE_MIGRATION: eventflow store could not apply its schema migrations: {reason}; \
         the database user needs rights to create tables, and the schema must not have been altered by hand"
    )]
    Migration {
        /// A short description of the failure.
        reason: String,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// The database holds an older schema than this build needs (its migrations were not
    /// applied yet, e.g. a database restored from an old backup while the node ran).
    #[error(
        "E_EVENTFLOW_STORE_SCHEMA: eventflow store schema is at migration {applied} (0: no eventflow schema), this build needs {needed}; \
         check the store URL, or start a node of this build (it applies the migrations)"
    )]
    Schema {
        /// The newest migration applied.
        applied: i64,
        /// The newest migration this build has.
        needed: i64,
    },

    /// The database was reachable but rejected or failed a statement.
    #[error(
        "E_EVENTFLOW_STORE_QUERY: eventflow store failed to {operation}: the database returned an error (see the cause)"
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
        "E_EVENTFLOW_STORE_BUSY: eventflow store is busy while trying to {operation}: lock contention in the database; retry the operation"
    )]
    Busy {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// A stored row could not be turned back into a value (corrupt or foreign data).
    #[error(
        "E_EVENTFLOW_STORE_DECODE: eventflow store read a row it cannot decode while trying to {operation}: {reason}"
    )]
    Decode {
        /// What the store was doing.
        operation: &'static str,
        /// What was wrong with the row.
        reason: String,
    },

    /// The stream's version did not match the expected version of an append.
    #[error(
        "E_EVENTFLOW_CONFLICT: stream {domain}/{pid} is at version {actual}, but the append expected version {expected}; \
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
        "E_EVENTFLOW_DUPLICATE_ID: event id {id} is already used by a different event ({reason}); use a new id for a new event"
    )]
    DuplicateId {
        /// The id.
        id: Uuid,
        /// Why the stored event is not the same append.
        reason: String,
    },

    /// An event or request was rejected before it reached the database.
    #[error("E_EVENTFLOW_INVALID: invalid eventflow request: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },

    /// No event has this id.
    #[error(
        "E_EVENTFLOW_EVENT_NOT_FOUND: event {id} was not found; it was never appended or has been deleted"
    )]
    EventNotFound {
        /// The id that was looked up.
        id: Uuid,
    },

    /// No current (unrevoked, version 0) certificate has this id.
    #[error(
        "E_EVENTFLOW_CERTIFICATE_NOT_FOUND: certificate {id} was not found, or it has been revoked; create a new one"
    )]
    CertificateNotFound {
        /// The certificate id that was looked up.
        id: String,
    },

    /// The certificates configuration has no secret to encrypt private keys with.
    #[error(
        "E_EVENTFLOW_CERTIFICATES_MISSING_CONFIGURATION: eventflow.certificates.secret is not set: hubs and spokes need the cluster's secret to \
         encrypt and decrypt private keys; set it in config or in the environment variable \
         SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET"
    )]
    MissingSecret,

    /// The configured certificate secret is too short to be a real secret.
    #[error(
        "E_EVENTFLOW_CERTIFICATES_WEAK_SECRET: eventflow.certificates.secret is too short: use at least {min} characters of a random secret"
    )]
    WeakSecret {
        /// The minimum length in characters.
        min: usize,
    },

    /// Stored key material could not be encrypted or decrypted.
    #[error(
        "E_EVENTFLOW_CERTIFICATES_SEAL: the private key of certificate {id} cannot be {action}: {reason}"
    )]
    Seal {
        /// The certificate id.
        id: String,
        /// `sealed` or `opened`.
        action: &'static str,
        /// What went wrong (a wrong secret shows as a failed decryption).
        reason: String,
    },

    /// A certificate could not be generated or parsed.
    #[error("E_EVENTFLOW_CERTIFICATES_INVALID: certificate {id} could not be {action}: {reason}")]
    Certificate {
        /// The certificate id.
        id: String,
        /// What was being done (`generated`, `parsed`, …).
        action: &'static str,
        /// The library's message.
        reason: String,
    },

    /// The cluster has no certificate chain yet: only a hub creates it.
    #[error(
        "E_EVENTFLOW_CERTIFICATES_NO_CHAIN: the eventflow certificate chain does not exist yet: the first hub creates it; start a hub \
         (spokes retry on their own)"
    )]
    ChainMissing,

    /// A TLS configuration could not be built from the certificates.
    #[error("E_EVENTFLOW_TLS: TLS configuration failed: {reason}")]
    Tls {
        /// What went wrong.
        reason: String,
    },

    /// A connection to a hub (or peer hub) could not be made.
    #[error("E_EVENTFLOW_CONNECT: cannot connect to {target}: {reason}")]
    Connect {
        /// The hub id and address.
        target: String,
        /// Why (refused, timed out, TLS handshake failure, …).
        reason: String,
    },

    /// A peer presented a certificate that is not allowed here (revoked, wrong role, no
    /// identity).
    #[error("E_EVENTFLOW_UNAUTHORIZED: peer {peer} is not authorized: {reason}")]
    Unauthorized {
        /// Who the peer claims to be.
        peer: String,
        /// Why it was refused.
        reason: String,
    },

    /// A peer sent a frame that breaks the protocol; the connection is closed.
    #[error(
        "E_EVENTFLOW_PROTOCOL: protocol violation by {peer}: {reason}; the connection was closed"
    )]
    Protocol {
        /// The peer's identity.
        peer: String,
        /// What was wrong with the frame.
        reason: String,
    },

    /// A socket operation failed (binding the hub's port, say).
    #[error("E_EVENTFLOW_IO: eventflow could not {operation}: {source}")]
    Io {
        /// What was being done.
        operation: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },

    /// `wait` saw no matching event in time.
    #[error(
        "E_EVENTFLOW_WAIT_TIMEOUT: wait timed out ({timeout_ms} ms) for {domain} › {pid} › {names}"
    )]
    WaitTimeout {
        /// The domain waited on.
        domain: String,
        /// The pid waited on.
        pid: String,
        /// The names waited for, joined with ` | `.
        names: String,
        /// The timeout in milliseconds.
        timeout_ms: u64,
    },

    /// A hub or spoke setting is invalid.
    #[error("E_EVENTFLOW_CONFIG: eventflow setting {key} is invalid: {reason}")]
    Settings {
        /// The config key.
        key: String,
        /// What is wrong.
        reason: String,
    },

    /// The hub or spoke was shut down.
    #[error("E_EVENTFLOW_DESTROYED: the eventflow {what} is shut down; no more work is accepted")]
    Destroyed {
        /// `hub` or `spoke`.
        what: &'static str,
    },

    /// A spoke already has a consumer for this domain and name.
    #[error(
        "E_EVENTFLOW_CONSUMER_EXISTS: this spoke already consumes {domain} › {name}; one consumer per event name and spoke \
         (remove the first one, or dispatch inside one handler)"
    )]
    ConsumerExists {
        /// The domain.
        domain: String,
        /// The event name (or `*`).
        name: String,
    },

    /// A consumer has no handler method for an event (the event is retried, then parked).
    #[error(
        "E_EVENTFLOW_CONSUMER_NO_HANDLER: consumer {service} has no handler {method} for event {domain} › {name}"
    )]
    NoHandler {
        /// The consuming service.
        service: String,
        /// The handler method name.
        method: String,
        /// The event's domain.
        domain: String,
        /// The event's name.
        name: String,
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
            Error::Schema { .. } => "E_EVENTFLOW_STORE_SCHEMA",
            Error::Conflict { .. } => "E_EVENTFLOW_CONFLICT",
            Error::DuplicateId { .. } => "E_EVENTFLOW_DUPLICATE_ID",
            Error::Invalid { .. } => "E_EVENTFLOW_INVALID",
            Error::EventNotFound { .. } => "E_EVENTFLOW_EVENT_NOT_FOUND",
            Error::CertificateNotFound { .. } => "E_EVENTFLOW_CERTIFICATE_NOT_FOUND",
            Error::MissingSecret => "E_EVENTFLOW_CERTIFICATES_MISSING_CONFIGURATION",
            Error::WeakSecret { .. } => "E_EVENTFLOW_CERTIFICATES_WEAK_SECRET",
            Error::Seal { .. } => "E_EVENTFLOW_CERTIFICATES_SEAL",
            Error::Certificate { .. } => "E_EVENTFLOW_CERTIFICATES_INVALID",
            Error::ChainMissing => "E_EVENTFLOW_CERTIFICATES_NO_CHAIN",
            Error::Tls { .. } => "E_EVENTFLOW_TLS",
            Error::Connect { .. } => "E_EVENTFLOW_CONNECT",
            Error::Unauthorized { .. } => "E_EVENTFLOW_UNAUTHORIZED",
            Error::Protocol { .. } => "E_EVENTFLOW_PROTOCOL",
            Error::Io { .. } => "E_EVENTFLOW_IO",
            Error::WaitTimeout { .. } => "E_EVENTFLOW_WAIT_TIMEOUT",
            Error::Settings { .. } => "E_EVENTFLOW_CONFIG",
            Error::Destroyed { .. } => "E_EVENTFLOW_DESTROYED",
            Error::ConsumerExists { .. } => "E_EVENTFLOW_CONSUMER_EXISTS",
            Error::NoHandler { .. } => "E_EVENTFLOW_CONSUMER_NO_HANDLER",
        }
    }

    /// True when retrying the same operation later may succeed (database down or busy,
    /// a hub unreachable, the chain not created yet).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unavailable { .. }
                | Error::Busy { .. }
                | Error::Connect { .. }
                | Error::ChainMissing
        )
    }

    pub(crate) fn settings(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Settings {
            key: key.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(operation: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            operation: operation.into(),
            source,
        }
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
    /// Classifies a driver error from `operation` (for statements on [`crate::tables`]):
    /// unreachable → `E_EVENTFLOW_STORE_UNAVAILABLE`, lock contention →
    /// `E_EVENTFLOW_STORE_BUSY`, undecodable → `E_EVENTFLOW_STORE_DECODE`, else
    /// `E_EVENTFLOW_STORE_QUERY`.
    pub fn from_sqlx(operation: &'static str, source: sqlx::Error) -> Self {
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
            assert!(error.to_string().starts_with(code), "{error}");
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
