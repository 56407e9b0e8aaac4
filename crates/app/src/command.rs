//! The asynchronous controller: publish the request event, wait for its outcome, and
//! answer from it.
//!
//! The outcome is the reply to this request: an event of the same process (domain and
//! pid) named one of the outcomes, whose `rid` is the request event's id — the handler
//! publishes it with [`Received::reply`](crate::Received::reply). So a second command on
//! the same process is never answered with the first one's outcome, and a retry (same
//! request id, see [`crate::idempotency`]) gets the first one's.
//!
//! | what happens | answer |
//! | --- | --- |
//! | a success outcome (`post-created`) arrives | 201, `Location`, the process's projected state |
//! | a rejection outcome (`post-rejected`, payload [`Rejection`]) arrives | 422 with the rejection's code, reason and details |
//! | nothing within the wait, the server begins to shut down, or anything fails after the publish | 202, `Location`: the request is durable and its outcome will be there |
//! | publishing fails | the eventflow error's answer ([`crate::eventflow_http`]) |
//! | no outcomes declared, or one of another domain | `E_APP_COMMAND` (a wiring fault), nothing published |
//!
//! The request is durable once published, so a 202 never loses it: whoever validates it
//! (in this process or another, as the consumer map says) publishes the outcome later,
//! and the resource at `Location` shows it.
//!
//! ```no_run
//! # async fn dispatch(spoke: &superhero_eventflow::Spoke, view: &mut superhero_http::View)
//! # -> Result<(), superhero_http::HttpError> {
//! use serde::{Deserialize, Serialize};
//! use superhero_app::{AsyncCommand, EventType, Rejection};
//!
//! #[derive(Serialize, Deserialize)]
//! struct CreatePost { title: String }
//! const REQUESTED: EventType<CreatePost> = EventType::new("post", "post-create-requested");
//! const CREATED: EventType<serde_json::Value> = EventType::new("post", "post-created");
//! const REJECTED: EventType<Rejection> = EventType::new("post", "post-rejected");
//!
//! let pid = uuid::Uuid::now_v7().to_string();
//! let request = REQUESTED.event(&pid, &CreatePost { title: "Hi".into() })?;
//! AsyncCommand::new(spoke, request, format!("/posts/{pid}"))
//!     .success(CREATED)
//!     .rejection(REJECTED)
//!     .respond(view)
//!     .await
//! # }
//! ```

use std::time::Duration;

use http::StatusCode;
use http::header::{HeaderValue, LOCATION};
use superhero_core::CancellationToken;
use superhero_eventflow::{Error as EventflowError, Event, NewEvent, Spoke};
use superhero_http::{Detail, HttpError, View};
use uuid::Uuid;

use crate::contract::{EventType, Rejection};
use crate::error::AppError;
use crate::eventflow_http::accepted;

/// How long a command waits for its outcome by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// What came of a command within its wait.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A success outcome arrived ([`AsyncCommand::respond`] answers the process's
    /// projected state; a caller of [`AsyncCommand::run`] answers what it needs).
    Succeeded {
        /// The outcome event.
        event: Event,
    },
    /// A rejection arrived.
    Rejected {
        /// The outcome event.
        event: Event,
        /// Its payload.
        rejection: Rejection,
    },
    /// Nothing arrived in time; the outcome will be at the location.
    Pending,
}

/// Publish → wait → answer (see the module docs).
pub struct AsyncCommand<'s> {
    spoke: &'s Spoke,
    request: NewEvent,
    location: String,
    successes: Vec<(&'static str, &'static str)>,
    rejections: Vec<EventType<Rejection>>,
    wait: Duration,
    cancel: Option<CancellationToken>,
}

impl<'s> AsyncCommand<'s> {
    /// A command that publishes `request` and whose outcome will be visible at
    /// `location` (a path such as `/posts/p-1`). Outcomes are events of the same process
    /// (the request's domain and pid).
    pub fn new(spoke: &'s Spoke, request: NewEvent, location: impl Into<String>) -> Self {
        AsyncCommand {
            spoke,
            request,
            location: location.into(),
            successes: Vec::new(),
            rejections: Vec::new(),
            wait: DEFAULT_WAIT,
            cancel: None,
        }
    }

    /// An outcome that means success (an event of the request's domain).
    #[must_use]
    pub fn success<P>(mut self, outcome: EventType<P>) -> Self {
        self.successes.push((outcome.domain(), outcome.name()));
        self
    }

    /// An outcome that refuses the request, carrying a [`Rejection`].
    #[must_use]
    pub fn rejection(mut self, outcome: EventType<Rejection>) -> Self {
        self.rejections.push(outcome);
        self
    }

    /// How long to wait for an outcome (default [`DEFAULT_WAIT`]).
    #[must_use]
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Stops waiting when `token` is cancelled (pass the request's shutdown token, so a
    /// draining server answers 202 at once instead of holding the request).
    #[must_use]
    pub fn until(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Publishes the request and waits for its outcome.
    pub async fn run(self) -> Result<Outcome, AppError> {
        let domain = self.request.domain.clone();
        let pid = self.request.pid.clone();
        let foreign = self
            .successes
            .iter()
            .map(|(d, _)| *d)
            .chain(self.rejections.iter().map(EventType::domain))
            .find(|d| *d != domain);
        if let Some(other) = foreign {
            return Err(AppError::Command {
                reason: format!(
                    "an outcome of domain {other} cannot answer a request of domain {domain}: outcomes are events of the request's process"
                ),
            });
        }
        if self.successes.is_empty() && self.rejections.is_empty() {
            return Err(AppError::Command {
                reason: "a command needs at least one outcome".into(),
            });
        }
        let request_id = self.request.id.unwrap_or_else(Uuid::now_v7);
        self.spoke.publish(self.request.with_id(request_id)).await?;

        // From here the request is durable: whatever happens, its outcome will be at the
        // location, so every failure is "not yet" rather than an error.
        let pending = |what: &str, error: &dyn std::fmt::Display| {
            tracing::warn!(%domain, %pid, %error, "{what}; answering 202");
            Ok(Outcome::Pending)
        };
        let names: Vec<&str> = self
            .successes
            .iter()
            .map(|(_, name)| *name)
            .chain(self.rejections.iter().map(EventType::name))
            .collect();
        let wait = self
            .spoke
            .wait_for_reply(&domain, &pid, &names, request_id, self.wait);
        let cancelled = async {
            match &self.cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            arrived = wait => arrived,
            () = cancelled => return Ok(Outcome::Pending),
        };
        let event = match event {
            Ok(event) => event,
            Err(EventflowError::WaitTimeout { .. }) => return Ok(Outcome::Pending),
            Err(error) => return pending("waiting for the outcome failed", &error),
        };
        if let Some(contract) = self.rejections.iter().find(|c| c.matches(&event)) {
            return match contract.decode(&event) {
                Ok(rejection) => Ok(Outcome::Rejected { event, rejection }),
                Err(error) => pending("the rejection cannot be decoded", &error),
            };
        }
        Ok(Outcome::Succeeded { event })
    }

    /// Publishes, waits, and writes the answer into `view` (201), or returns it as the
    /// error answer (422, 202, or the failure's).
    pub async fn respond(self, view: &mut View) -> Result<(), HttpError> {
        let location = self.location.clone();
        let spoke = self.spoke;
        let (domain, pid) = (self.request.domain.clone(), self.request.pid.clone());
        match self.run().await? {
            Outcome::Succeeded { .. } => {
                let state = match spoke.read_state(&domain, &pid).await {
                    Ok(state) => state,
                    Err(error) => {
                        tracing::warn!(%domain, %pid, %error, "reading the state failed; answering 202");
                        return Err(accepted(&location));
                    }
                };
                view.set_status(StatusCode::CREATED);
                if let Ok(value) = HeaderValue::from_str(&location) {
                    view.headers_mut().insert(LOCATION, value);
                }
                view.set_body(state);
                Ok(())
            }
            Outcome::Rejected { rejection, .. } => Err(rejected(rejection)),
            Outcome::Pending => Err(accepted(&location)),
        }
    }
}

/// A rejection as its 422 answer.
pub fn rejected(rejection: Rejection) -> HttpError {
    let mut answer = HttpError::status(
        StatusCode::UNPROCESSABLE_ENTITY,
        rejection.code,
        rejection.reason,
    );
    for detail in rejection.details {
        answer = answer.with_detail(Detail::new(detail.path, detail.code, detail.message));
    }
    answer
}
