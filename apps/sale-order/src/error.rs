//! The app's errors while deciding or answering: the store's, or an event that does not
//! decode. Handlers return them (the delivery fails and is retried); controllers answer
//! them ([`SagaError::into_http`]).

use superhero_app::AppError;
use superhero_http::HttpError;
use thiserror::Error;

/// What can go wrong in the saga itself.
#[derive(Debug, Error)]
pub enum SagaError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] superhero_eventflow::Error),
    /// An event could not be built or decoded.
    #[error(transparent)]
    Event(#[from] AppError),
}

impl SagaError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SagaError::Store(error) => error.code(),
            SagaError::Event(error) => error.code(),
        }
    }

    /// The answer to a client.
    pub fn into_http(self) -> HttpError {
        match self {
            SagaError::Store(error) => superhero_app::eventflow_http::http_error(error),
            SagaError::Event(error) => error.into(),
        }
    }
}

/// Results of the saga.
pub type Result<T, E = SagaError> = std::result::Result<T, E>;
