//! The app's own errors, with stable codes (`E_MESSAGE_BOARD_*`); refusals of requests
//! are [`Refusal`](crate::post::Refusal)s, answered 422 by the controllers.

use thiserror::Error;

/// What can go wrong in the app itself.
#[derive(Debug, Error)]
pub enum BoardError {
    /// A setting is out of range or malformed.
    #[error("{key}: {reason}")]
    Config {
        /// The config key.
        key: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// Another writer kept winning the claim of a title (it is retried).
    #[error("the title claim of author {author} was contended three times in a row")]
    TitleContended {
        /// The author's user id.
        author: String,
    },
}

impl BoardError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            BoardError::Config { .. } => "E_MESSAGE_BOARD_CONFIG",
            BoardError::TitleContended { .. } => "E_MESSAGE_BOARD_TITLE_CONTENDED",
        }
    }
}
