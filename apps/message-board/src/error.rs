//! The app's own errors, with stable codes (`E_MESSAGE_BOARD_*`); refusals of requests
//! are [`Refusal`](crate::post::Refusal)s, answered 422 by the controllers.

use thiserror::Error;

/// What can go wrong in the app itself.
#[derive(Debug, Error)]
pub enum BoardError {
    /// A setting is out of range or malformed.
    #[error("E_MESSAGE_BOARD_CONFIG: {key}: {reason}")]
    Config {
        /// The config key.
        key: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A batch of writes failed (its cause is logged); the consumer's delivery fails and
    /// the event is retried.
    #[error("E_MESSAGE_BOARD_UNAVAILABLE: {what} could not be written")]
    Unavailable {
        /// The store (`the read model`, `the title claims`).
        what: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] superhero_eventflow::Error),
}

impl BoardError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            BoardError::Config { .. } => "E_MESSAGE_BOARD_CONFIG",
            BoardError::Unavailable { .. } => "E_MESSAGE_BOARD_UNAVAILABLE",
            BoardError::Store(error) => error.code(),
        }
    }

    /// [`BoardError::Unavailable`] (what a failed batch answers each caller).
    pub fn unavailable(what: &'static str) -> Self {
        BoardError::Unavailable { what }
    }
}
