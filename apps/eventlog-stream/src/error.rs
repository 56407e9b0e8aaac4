//! The app's configuration error (`E_EVENTLOG_STREAM_CONFIG`); what a client does wrong
//! is answered as an [`HttpError`](superhero_http::HttpError) with its own code (see
//! [`crate::eventlog::stream_events`]).

use thiserror::Error;

/// A setting is out of range or malformed: the node does not start.
#[derive(Debug, Error)]
#[error("E_EVENTLOG_STREAM_CONFIG: {key}: {reason}")]
pub struct ConfigError {
    /// The config key.
    pub key: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl ConfigError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        "E_EVENTLOG_STREAM_CONFIG"
    }
}
