//! What the event-log says of a request whose result the read model does not show
//! (yet): the resource at a 202's `Location` answers from it.

use superhero_app::{EventType, Rejection};
use superhero_eventflow::{Event, EventLog, Result};

/// The state of a post or reply process in the event-log.
#[derive(Debug)]
pub enum Status<P> {
    /// No such process.
    Unknown,
    /// Requested, not decided yet.
    Pending,
    /// Refused.
    Rejected(Rejection),
    /// Created: the event and its payload.
    Created(Event, P),
}

/// The status of process `pid` of `created`'s domain.
pub async fn status<P: serde::de::DeserializeOwned>(
    store: &(impl EventLog + ?Sized),
    pid: &str,
    created: EventType<P>,
    rejected: EventType<Rejection>,
) -> Result<Status<P>> {
    let events = store.read_stream(created.domain(), pid).await?;
    let status = if let Some(event) = events.iter().find(|e| created.matches(e)) {
        match created.decode(event) {
            Ok(payload) => Status::Created(event.clone(), payload),
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "an outcome cannot be decoded");
                Status::Pending
            }
        }
    } else if let Some(event) = events.iter().find(|e| rejected.matches(e)) {
        match rejected.decode(event) {
            Ok(rejection) => Status::Rejected(rejection),
            Err(_) => Status::Pending,
        }
    } else if events.is_empty() {
        Status::Unknown
    } else {
        Status::Pending
    };
    Ok(status)
}

/// Answers 201 with `body` and `Location: location`.
pub fn created(view: &mut superhero_http::View, location: &str, body: serde_json::Value) {
    view.set_status(http::StatusCode::CREATED);
    if let Ok(value) = http::HeaderValue::from_str(location) {
        view.headers_mut().insert(http::header::LOCATION, value);
    }
    view.set_body(body);
}
