//! The event model: what a caller appends ([`NewEvent`], [`AppendRequest`]) and what the
//! log gives back ([`Event`], [`Appended`], [`EventRef`]).
//!
//! An event belongs to a stream, the pair (`domain`, `pid`). Each event has a caller-supplied
//! or generated UUIDv7 `id`, a per-stream `version` (1, 2, 3, …) and a global `position`
//! assigned by the database in commit order (see [`crate::store`] for the scheme).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// The longest domain, pid, name, eid or cpid the store accepts, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// A child process link: the event relates to process `cpid` of `domain` (often another
/// domain than the event's own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChildProcess {
    /// The child process's domain.
    pub domain: String,
    /// The child process id.
    pub cpid: String,
}

/// An event to append.
///
/// ```
/// use serde_json::json;
/// use superhero_eventflow::NewEvent;
///
/// let event = NewEvent::new("order", "order-1", "order-placed")
///     .with_data(json!({ "total": 42 }))
///     .with_eid("customer-7");
/// assert_eq!(event.name, "order-placed");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// A UUIDv7 chosen by the caller, so a retried append is recognised; generated when `None`.
    pub id: Option<Uuid>,
    /// The bounded context (aggregate type).
    pub domain: String,
    /// The process (aggregate instance) id within the domain.
    pub pid: String,
    /// The event name.
    pub name: String,
    /// The payload; `{}` when not given.
    pub data: Value,
    /// Optional reference to the event that caused this one.
    pub rid: Option<Uuid>,
    /// Entity ids this event concerns, stored as associations in the same transaction.
    pub eids: Vec<String>,
    /// Child processes this event relates to, stored in the same transaction.
    pub cpids: Vec<ChildProcess>,
}

impl NewEvent {
    /// An event with empty data and a generated id.
    pub fn new(domain: impl Into<String>, pid: impl Into<String>, name: impl Into<String>) -> Self {
        NewEvent {
            id: None,
            domain: domain.into(),
            pid: pid.into(),
            name: name.into(),
            data: Value::Object(Default::default()),
            rid: None,
            eids: Vec::new(),
            cpids: Vec::new(),
        }
    }

    /// Uses `id` (a UUIDv7) instead of a generated one; appending the same id again returns
    /// the first append's result.
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the payload.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    /// Sets the reference (causation) id.
    pub fn with_rid(mut self, rid: Uuid) -> Self {
        self.rid = Some(rid);
        self
    }

    /// Adds an entity association.
    pub fn with_eid(mut self, eid: impl Into<String>) -> Self {
        self.eids.push(eid.into());
        self
    }

    /// Adds a child process association.
    pub fn with_cpid(mut self, domain: impl Into<String>, cpid: impl Into<String>) -> Self {
        self.cpids.push(ChildProcess {
            domain: domain.into(),
            cpid: cpid.into(),
        });
        self
    }

    /// Checks lengths and the id's version before anything reaches the database.
    pub(crate) fn validate(&self) -> Result<()> {
        check_key("domain", &self.domain)?;
        check_key("pid", &self.pid)?;
        check_key("name", &self.name)?;
        for eid in &self.eids {
            check_key("eid", eid)?;
        }
        for child in &self.cpids {
            check_key("cpid domain", &child.domain)?;
            check_key("cpid", &child.cpid)?;
        }
        if let Some(id) = self.id
            && id.get_version_num() != 7
        {
            return Err(Error::invalid(format!(
                "event id {id} is not a UUIDv7; generate ids with Uuid::now_v7() or leave them empty"
            )));
        }
        Ok(())
    }
}

/// Checks that a key (domain, pid, name, eid, …) is non-empty and at most [`MAX_KEY_LEN`] bytes.
pub(crate) fn check_key(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("the event's {what} is empty")));
    }
    if value.len() > MAX_KEY_LEN {
        return Err(Error::invalid(format!(
            "the event's {what} is {} bytes long; the limit is {MAX_KEY_LEN}",
            value.len()
        )));
    }
    Ok(())
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event id (UUIDv7).
    pub id: Uuid,
    /// Global position: strictly increasing in commit order, never reused.
    pub position: u64,
    /// Version within the stream (`domain`, `pid`), starting at 1.
    pub version: u64,
    /// When it was appended (store clock).
    pub timestamp: Timestamp,
    /// The bounded context.
    pub domain: String,
    /// The process id.
    pub pid: String,
    /// The event name.
    pub name: String,
    /// The payload.
    pub data: Value,
    /// The reference (causation) id, if any.
    pub rid: Option<Uuid>,
}

impl Event {
    /// The lightweight reference to this event.
    pub fn to_ref(&self) -> EventRef {
        EventRef {
            id: self.id,
            position: self.position,
            domain: self.domain.clone(),
            pid: self.pid.clone(),
            name: self.name.clone(),
        }
    }
}

/// Identifies an event without its payload: what a hub routes and a sweep lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventRef {
    /// The event id.
    pub id: Uuid,
    /// Its global position.
    pub position: u64,
    /// Its domain.
    pub domain: String,
    /// Its process id.
    pub pid: String,
    /// Its name.
    pub name: String,
}

/// What one appended event got from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Appended {
    /// The event id.
    pub id: Uuid,
    /// Its global position.
    pub position: u64,
    /// Its version within its stream.
    pub version: u64,
    /// When it was appended.
    pub timestamp: Timestamp,
}

/// The stream version an append expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version is.
    #[default]
    Any,
    /// Append only if the stream is at this version (`0`: the stream has no events);
    /// otherwise fail with `E_EVENTFLOW_CONFLICT`.
    Exact(u64),
}

/// What else happens, in the same transaction, with the appended events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Intent {
    /// Only append (the original's "persist").
    #[default]
    Persist,
    /// Append and record a publication for each event, claimable now.
    Publish {
        /// The spoke id that publishes.
        publisher: String,
    },
    /// Append, record a publication claimable from `due`, and a schedule row.
    Schedule {
        /// The spoke id that schedules.
        publisher: String,
        /// When the events come due.
        due: Timestamp,
    },
}

/// One append: events, an optional expected version and what to record with them, all
/// written in one transaction.
///
/// ```
/// use superhero_eventflow::{AppendRequest, ExpectedVersion, NewEvent};
///
/// let request = AppendRequest::new(vec![NewEvent::new("order", "o-1", "order-placed")])
///     .expect(ExpectedVersion::Exact(0))
///     .publish("spoke-1");
/// assert_eq!(request.events.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AppendRequest {
    /// The events, appended in this order.
    pub events: Vec<NewEvent>,
    /// The version the stream must be at; only for batches within one stream.
    pub expected: ExpectedVersion,
    /// Publication or schedule bookkeeping written in the same transaction.
    pub intent: Intent,
}

impl AppendRequest {
    /// Appends `events` with no version check and no publication.
    pub fn new(events: Vec<NewEvent>) -> Self {
        AppendRequest {
            events,
            expected: ExpectedVersion::Any,
            intent: Intent::Persist,
        }
    }

    /// Requires the stream to be at `expected` before the append.
    pub fn expect(mut self, expected: ExpectedVersion) -> Self {
        self.expected = expected;
        self
    }

    /// Also records a publication by `publisher` for every event.
    pub fn publish(mut self, publisher: impl Into<String>) -> Self {
        self.intent = Intent::Publish {
            publisher: publisher.into(),
        };
        self
    }

    /// Also schedules every event for `due`, published by `publisher`.
    pub fn schedule(mut self, publisher: impl Into<String>, due: Timestamp) -> Self {
        self.intent = Intent::Schedule {
            publisher: publisher.into(),
            due,
        };
        self
    }

    /// Checks the request as a whole before it reaches the database.
    pub(crate) fn validate(&self) -> Result<()> {
        let Some(first) = self.events.first() else {
            return Err(Error::invalid("an append needs at least one event"));
        };
        for event in &self.events {
            event.validate()?;
        }
        if let ExpectedVersion::Exact(_) = self.expected
            && let Some(other) = self
                .events
                .iter()
                .find(|e| e.domain != first.domain || e.pid != first.pid)
        {
            return Err(Error::invalid(format!(
                "an expected version applies to one stream, but the batch holds {}/{} and {}/{}; split the batch",
                first.domain, first.pid, other.domain, other.pid
            )));
        }
        match &self.intent {
            Intent::Persist => {}
            Intent::Publish { publisher } | Intent::Schedule { publisher, .. } => {
                check_key("publisher", publisher)?;
            }
        }
        let mut ids: Vec<Uuid> = self.events.iter().filter_map(|e| e.id).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::invalid(format!(
                "event id {} appears twice in one batch",
                pair[0]
            )));
        }
        Ok(())
    }
}

/// A catch-up read: events after a global position, optionally one domain (and one
/// process of it) and some names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUp {
    /// Return events whose position is greater than this (0: from the start).
    pub after: u64,
    /// Only events of this domain.
    pub domain: Option<String>,
    /// Only events of this process (with `domain`; ignored without it).
    #[serde(default)]
    pub pid: Option<String>,
    /// Only events with one of these names (empty: every name).
    pub names: Vec<String>,
    /// At most this many events (the page size).
    pub limit: u32,
}

impl CatchUp {
    /// Everything after `after`, `limit` events at a time.
    pub fn after(after: u64, limit: u32) -> Self {
        CatchUp {
            after,
            domain: None,
            pid: None,
            names: Vec::new(),
            limit,
        }
    }

    /// Only events of `domain`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Only events of process `pid` of `domain`.
    pub fn process(mut self, domain: impl Into<String>, pid: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self.pid = Some(pid.into());
        self
    }

    /// Only events with one of `names`.
    pub fn names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.names = names.into_iter().map(Into::into).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_empty_keys_long_keys_and_non_v7_ids() {
        assert!(NewEvent::new("", "p", "n").validate().is_err());
        assert!(NewEvent::new("d", "p", "x".repeat(256)).validate().is_err());
        assert!(
            NewEvent::new("d", "p", "n")
                .with_id(Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001))
                .validate()
                .is_err()
        );
        assert!(
            NewEvent::new("d", "p", "n")
                .with_id(Uuid::now_v7())
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn expected_version_requires_a_single_stream_batch() {
        let request = AppendRequest::new(vec![
            NewEvent::new("d", "a", "n"),
            NewEvent::new("d", "b", "n"),
        ]);
        assert!(request.clone().validate().is_ok());
        let error = request.expect(ExpectedVersion::Exact(0)).validate();
        assert_eq!(error.map_err(|e| e.code()), Err("E_EVENTFLOW_INVALID"));
    }

    #[test]
    fn a_batch_cannot_repeat_an_id() {
        let id = Uuid::now_v7();
        let request = AppendRequest::new(vec![
            NewEvent::new("d", "a", "n").with_id(id),
            NewEvent::new("d", "a", "m").with_id(id),
        ]);
        assert!(request.validate().is_err());
        assert!(AppendRequest::new(vec![]).validate().is_err());
    }
}
