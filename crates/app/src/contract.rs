//! Typed event contracts: one definition per event (its domain, its name and a serde
//! payload type), shared by the publisher, the consumer map and the handler, so an event
//! name cannot drift between them.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use superhero_app::EventType;
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! pub struct PostCreated { pub title: String }
//!
//! pub const POST_CREATED: EventType<PostCreated> = EventType::new("post", "post-created");
//!
//! let new_event = POST_CREATED.event("p-1", &PostCreated { title: "Hi".into() })?;
//! assert_eq!((new_event.domain.as_str(), new_event.name.as_str()), ("post", "post-created"));
//! assert_eq!(POST_CREATED.method(), "on_post_created");
//! # Ok::<(), superhero_app::AppError>(())
//! ```
//!
//! A payload that does not deserialize is an [`AppError::Payload`] naming the event, the
//! type and the JSON path: as a consumer's error, the event is retried and finally
//! parked with that reason, never a panic.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use superhero_eventflow::service::method_name;
use superhero_eventflow::{Event, NewEvent};

use crate::error::{AppError, Result};

/// An event's contract: `domain`, `name` and the payload type `P` its `data` holds.
pub struct EventType<P> {
    domain: &'static str,
    name: &'static str,
    payload: PhantomData<fn() -> P>,
}

impl<P> EventType<P> {
    /// The contract of events named `name` in `domain`.
    pub const fn new(domain: &'static str, name: &'static str) -> Self {
        EventType {
            domain,
            name,
            payload: PhantomData,
        }
    }

    /// The domain.
    pub const fn domain(&self) -> &'static str {
        self.domain
    }

    /// The event name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The handler method the consumer map calls for it (`post-created` → `on_post_created`).
    pub fn method(&self) -> String {
        method_name(self.name)
    }

    /// The contract without its payload type, for lists of events of several types
    /// (the consumer map's).
    pub const fn key(&self) -> EventKey {
        EventKey {
            domain: self.domain,
            name: self.name,
        }
    }

    /// Whether `event` is one of these.
    pub fn matches(&self, event: &Event) -> bool {
        event.domain == self.domain && event.name == self.name
    }
}

/// An event's domain and name: an [`EventType`] without its payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// The domain.
    pub domain: &'static str,
    /// The event name.
    pub name: &'static str,
}

impl<P> Clone for EventType<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for EventType<P> {}

impl<P> fmt::Debug for EventType<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl<P> fmt::Display for EventType<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} › {}", self.domain, self.name)
    }
}

impl<P: Serialize> EventType<P> {
    /// A new event of process `pid` carrying `payload` as its `data`.
    pub fn event(&self, pid: impl Into<String>, payload: &P) -> Result<NewEvent> {
        let data = serde_json::to_value(payload).map_err(|e| AppError::Payload {
            domain: self.domain.to_owned(),
            name: self.name.to_owned(),
            id: None,
            payload: std::any::type_name::<P>(),
            reason: e.to_string(),
        })?;
        Ok(NewEvent::new(self.domain, pid, self.name).with_data(data))
    }
}

impl<P: DeserializeOwned> EventType<P> {
    /// The payload of `event`, which must be one of these: [`AppError::Mismatch`] for
    /// another event, [`AppError::Payload`] (with the JSON path) for data of another
    /// shape.
    pub fn decode(&self, event: &Event) -> Result<P> {
        if !self.matches(event) {
            return Err(AppError::Mismatch {
                expected: self.to_string(),
                found: format!("{} › {}", event.domain, event.name),
            });
        }
        serde_path_to_error::deserialize(&event.data).map_err(|e| AppError::Payload {
            domain: event.domain.clone(),
            name: event.name.clone(),
            id: Some(event.id),
            payload: std::any::type_name::<P>(),
            reason: e.to_string(),
        })
    }

    /// The event with its decoded payload.
    pub fn receive(&self, event: Event) -> Result<Received<P>> {
        let payload = self.decode(&event)?;
        Ok(Received { event, payload })
    }
}

/// A consumed event and its typed payload.
#[derive(Debug, Clone)]
pub struct Received<P> {
    /// The stored event (id, position, pid, timestamp, associations, raw `data`).
    pub event: Event,
    /// `data` as the contract's payload type.
    pub payload: P,
}

impl<P> Received<P> {
    /// The reply to this event: an event of `outcome` for the same process, with this
    /// event's id as its `rid`, which is what [`crate::AsyncCommand`] waits for.
    ///
    /// Its id is [`reply_id`] of this event and the outcome, the same each time: a
    /// handler that runs again for a redelivered event publishes the same event, which
    /// the store keeps once (appending an id again returns the first append).
    pub fn reply<R: Serialize>(&self, outcome: EventType<R>, payload: &R) -> Result<NewEvent> {
        Ok(outcome
            .event(self.event.pid.clone(), payload)?
            .with_rid(self.event.id)
            .with_id(reply_id(&self.event, outcome.key())))
    }
}

/// The id of the reply `outcome` to `request`: a UUIDv7 whose time is the request's
/// and whose other bits are the SHA-256 of the request's id and the outcome's domain and
/// name, so it is the same however often it is computed.
pub fn reply_id(request: &Event, outcome: EventKey) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(request.id.as_bytes());
    hash.update(outcome.domain.as_bytes());
    hash.update([0]);
    hash.update(outcome.name.as_bytes());
    let digest = hash.finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(request.timestamp.as_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

/// The payload of an outcome event that refuses a request: a stable code for programs,
/// a reason for people, and optional details. [`crate::command`] answers it as 422 with
/// the project's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rejection {
    /// A stable code, e.g. `E_POST_TITLE_TOO_LONG`.
    pub code: String,
    /// What was wrong, for people.
    pub reason: String,
    /// Where and what, as in the error body's `details`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<RejectionDetail>,
}

/// One entry of a [`Rejection`]'s details: `path` (`/body/title`), `code`, `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RejectionDetail {
    /// Where the problem is.
    pub path: String,
    /// The rule's stable code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and `reason`.
    pub fn new(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Rejection {
            code: code.into(),
            reason: reason.into(),
            details: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;
    use superhero_eventflow::Timestamp;
    use uuid::Uuid;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Placed {
        total: u32,
        lines: Vec<String>,
    }

    const PLACED: EventType<Placed> = EventType::new("order", "order-placed");

    fn stored(name: &str, data: serde_json::Value) -> Event {
        Event {
            id: Uuid::now_v7(),
            position: 1,
            version: 1,
            timestamp: Timestamp::from_millis(0),
            domain: "order".into(),
            pid: "o-1".into(),
            name: name.into(),
            data,
            rid: None,
        }
    }

    #[test]
    fn a_payload_round_trips_through_the_event() {
        let payload = Placed {
            total: 5,
            lines: vec!["A-1".into()],
        };
        let new = PLACED.event("o-1", &payload).unwrap();
        let event = stored(&new.name, new.data.clone());
        assert_eq!(PLACED.decode(&event).unwrap(), payload);
    }

    #[test]
    fn a_malformed_payload_names_the_event_the_type_and_the_path() {
        let event = stored("order-placed", json!({"total": 5, "lines": [1]}));
        let error = PLACED.decode(&event).unwrap_err();
        assert_eq!(error.code(), "E_APP_EVENT_PAYLOAD");
        let text = error.to_string();
        assert!(text.contains("order › order-placed"), "{text}");
        assert!(text.contains("Placed"), "{text}");
        assert!(text.contains("lines[0]"), "{text}");
    }

    #[test]
    fn a_reply_has_the_same_v7_id_each_time_and_another_per_outcome() {
        let request = stored("order-placed", json!({"total": 5, "lines": []}));
        let received = PLACED.receive(request.clone()).unwrap();
        const PAID: EventType<Placed> = EventType::new("order", "order-paid");
        const SHIPPED: EventType<Placed> = EventType::new("order", "order-shipped");
        let payload = Placed {
            total: 5,
            lines: vec![],
        };
        let first = received.reply(PAID, &payload).unwrap();
        let again = received.reply(PAID, &payload).unwrap();
        let other = received.reply(SHIPPED, &payload).unwrap();
        assert_eq!(first.id, again.id);
        assert_ne!(first.id, other.id);
        assert_eq!(first.rid, Some(request.id));
        let id = first.id.unwrap();
        assert_eq!(id.get_version_num(), 7);
        let later = stored("order-placed", json!({"total": 5, "lines": []}));
        assert_ne!(reply_id(&later, PAID.key()), id, "another request");
    }

    #[test]
    fn another_event_is_a_mismatch() {
        let event = stored("order-paid", json!({}));
        assert_eq!(
            PLACED.decode(&event).unwrap_err().code(),
            "E_APP_EVENT_MISMATCH"
        );
    }
}
