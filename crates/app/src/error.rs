//! The crate's one error type, [`AppError`], each variant with a stable `E_APP_*` code
//! (or the eventflow error's own code), and its HTTP answer.

use http::StatusCode;
use superhero_http::HttpError;
use uuid::Uuid;

use crate::eventflow_http;

/// What can go wrong in the app layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// An event's `data` does not have the shape of its contract's payload type (or a
    /// payload could not be turned into JSON). As a handler's error, the event is retried
    /// and finally parked with this message as its reason.
    #[error(
        "E_APP_EVENT_PAYLOAD: event {domain} › {name}{} does not carry a valid {payload}: {reason}",
        id.map(|id| format!(" ({id})")).unwrap_or_default()
    )]
    Payload {
        /// The event's domain.
        domain: String,
        /// The event's name.
        name: String,
        /// The event id, when the event was stored.
        id: Option<Uuid>,
        /// The payload type's name.
        payload: &'static str,
        /// What is wrong, with the JSON path (`title: invalid type: integer, expected a string`).
        reason: String,
    },
    /// An event was decoded with the contract of another event.
    #[error(
        "E_APP_EVENT_MISMATCH: event {found} was decoded as {expected}; route each event name to its own contract"
    )]
    Mismatch {
        /// `domain › name` of the contract.
        expected: String,
        /// `domain › name` of the event.
        found: String,
    },
    /// A command is declared wrongly (no outcome, or an outcome of another domain); a
    /// wiring fault, found before anything is published.
    #[error("E_APP_COMMAND: {reason}")]
    Command {
        /// Why.
        reason: String,
    },
    /// The same `Idempotency-Key` came with another request body.
    #[error(
        "E_APP_IDEMPOTENCY_KEY_REUSED: the Idempotency-Key {key:?} was used for a different request; use a new key for a new request"
    )]
    IdempotencyKeyReused {
        /// The key.
        key: String,
    },
    /// Requests with the same key kept taking it over from each other (only when claims
    /// expire while others arrive); the client may retry.
    #[error(
        "E_APP_IDEMPOTENCY_KEY_CONTENDED: the Idempotency-Key {key:?} is being claimed by concurrent requests; retry"
    )]
    IdempotencyKeyContended {
        /// The key.
        key: String,
    },
    /// The `Idempotency-Key` header is not usable.
    #[error("E_APP_IDEMPOTENCY_KEY_INVALID: the Idempotency-Key header {reason}")]
    IdempotencyKeyInvalid {
        /// Why.
        reason: String,
    },
    /// An eventflow operation failed.
    #[error(transparent)]
    Eventflow(#[from] superhero_eventflow::Error),
}

impl AppError {
    /// The stable code, e.g. `E_APP_IDEMPOTENCY_KEY_REUSED`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Payload { .. } => "E_APP_EVENT_PAYLOAD",
            AppError::Mismatch { .. } => "E_APP_EVENT_MISMATCH",
            AppError::Command { .. } => "E_APP_COMMAND",
            AppError::IdempotencyKeyReused { .. } => "E_APP_IDEMPOTENCY_KEY_REUSED",
            AppError::IdempotencyKeyContended { .. } => "E_APP_IDEMPOTENCY_KEY_CONTENDED",
            AppError::IdempotencyKeyInvalid { .. } => "E_APP_IDEMPOTENCY_KEY_INVALID",
            AppError::Eventflow(error) => error.code(),
        }
    }
}

/// Client mistakes answer 4xx with their message; eventflow errors as
/// [`eventflow_http::http_error`] maps them; the rest are faults (500, no internals in
/// the body).
impl From<AppError> for HttpError {
    fn from(error: AppError) -> HttpError {
        let message = error.to_string();
        let message = message
            .split_once(": ")
            .map_or(message.as_str(), |(_, text)| text)
            .to_owned();
        match error {
            AppError::IdempotencyKeyReused { .. } => {
                HttpError::status(StatusCode::UNPROCESSABLE_ENTITY, error.code(), message)
            }
            AppError::IdempotencyKeyContended { .. } => {
                HttpError::status(StatusCode::CONFLICT, error.code(), message)
            }
            AppError::IdempotencyKeyInvalid { .. } => {
                HttpError::status(StatusCode::BAD_REQUEST, error.code(), message)
            }
            AppError::Eventflow(error) => eventflow_http::http_error(error),
            AppError::Payload { .. } | AppError::Mismatch { .. } | AppError::Command { .. } => {
                HttpError::internal(error.code(), error)
            }
        }
    }
}

/// The crate's result type.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
