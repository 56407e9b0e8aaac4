//! [`EventLog`]: appending events and reading them back.

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::event::{AppendRequest, Appended, CatchUp, ChildProcess, Event, NewEvent};
use crate::projection::compose_state;

/// The event log: append (with optional expected version, publication or schedule, all
/// in one transaction), reads by id, stream, time, names, associations and global position,
/// deletes, and the projected state.
///
/// Reads of a stream come back in version order; every other multi-event read comes back
/// in position order.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends the request's events in one transaction and returns, per event in request
    /// order, its id, position, version and timestamp.
    ///
    /// Re-appending a batch whose ids are all stored already (a retry) returns the stored
    /// results and writes nothing. Fails with `E_EVENTFLOW_CONFLICT` when the expected
    /// version does not match, and `E_EVENTFLOW_DUPLICATE_ID` when an id is taken by a
    /// different event or only part of the batch is stored.
    async fn append(&self, request: AppendRequest) -> Result<Vec<Appended>>;

    /// Appends one event (no version check, no publication).
    async fn append_one(&self, event: NewEvent) -> Result<Appended> {
        let appended = self.append(AppendRequest::new(vec![event])).await?;
        first(appended)
    }

    /// Appends one event and records its publication by `publisher`, in one transaction.
    async fn publish(&self, event: NewEvent, publisher: &str) -> Result<Appended> {
        let appended = self
            .append(AppendRequest::new(vec![event]).publish(publisher))
            .await?;
        first(appended)
    }

    /// Appends one event and schedules its publication at `due`, in one transaction.
    async fn schedule(&self, event: NewEvent, publisher: &str, due: Timestamp) -> Result<Appended> {
        let appended = self
            .append(AppendRequest::new(vec![event]).schedule(publisher, due))
            .await?;
        first(appended)
    }

    /// The event with this id; `E_EVENTFLOW_EVENT_NOT_FOUND` when there is none.
    async fn read_event(&self, id: Uuid) -> Result<Event>;

    /// The events with these ids, in position order; ids that do not exist are skipped.
    async fn read_events(&self, ids: &[Uuid]) -> Result<Vec<Event>> {
        let mut events = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.read_event(id).await {
                Ok(event) => events.push(event),
                Err(crate::error::Error::EventNotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        events.sort_by_key(|event| event.position);
        Ok(events)
    }

    /// The stream's events in version order.
    async fn read_stream(&self, domain: &str, pid: &str) -> Result<Vec<Event>>;

    /// The stream's events stamped between `from` and `to`, both inclusive.
    async fn read_stream_between(
        &self,
        domain: &str,
        pid: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Event>>;

    /// A page of the stream, newest first: at most `limit` events with a version below
    /// `before` (`None`: from the newest). The last event's version is the next page's
    /// `before`.
    async fn read_stream_backwards(
        &self,
        domain: &str,
        pid: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Event>>;

    /// The stream's events whose name is one of `names`.
    async fn read_stream_by_names(
        &self,
        domain: &str,
        pid: &str,
        names: &[&str],
    ) -> Result<Vec<Event>>;

    /// The stream's current version (0: no events).
    async fn stream_version(&self, domain: &str, pid: &str) -> Result<u64>;

    /// Events linked to child process `cpid` of `domain` (the child's domain).
    async fn read_by_cpid(&self, domain: &str, cpid: &str) -> Result<Vec<Event>>;

    /// Events linked to entity `eid`, in every domain.
    async fn read_by_eid(&self, eid: &str) -> Result<Vec<Event>>;

    /// Events of `domain` linked to entity `eid`.
    async fn read_by_domain_and_eid(&self, domain: &str, eid: &str) -> Result<Vec<Event>>;

    /// The distinct pids of `domain`, sorted bytewise.
    async fn distinct_pids(&self, domain: &str) -> Result<Vec<String>>;

    /// One page of a catch-up read: events after a global position in position order.
    /// A reader that continues from the last position it got never skips an event and
    /// never sees one twice, even while several writers commit.
    async fn read_from(&self, catch_up: &CatchUp) -> Result<Vec<Event>>;

    /// The highest position committed so far (0: empty log).
    async fn head_position(&self) -> Result<u64>;

    /// Deletes one event with its associations, publication and schedule; false when absent.
    async fn delete_event(&self, id: Uuid) -> Result<bool>;

    /// Deletes a whole stream; returns how many events were deleted.
    async fn delete_stream(&self, domain: &str, pid: &str) -> Result<u64>;

    /// Links an event to an entity; false when the link exists already.
    async fn add_eid(&self, event_id: Uuid, eid: &str) -> Result<bool>;

    /// Removes an entity link; false when there was none.
    async fn remove_eid(&self, event_id: Uuid, eid: &str) -> Result<bool>;

    /// The entity ids linked to an event, sorted.
    async fn eids_of(&self, event_id: Uuid) -> Result<Vec<String>>;

    /// Links an event to a child process; false when the link exists already.
    async fn add_cpid(&self, event_id: Uuid, child: &ChildProcess) -> Result<bool>;

    /// Removes a child process link; false when there was none.
    async fn remove_cpid(&self, event_id: Uuid, child: &ChildProcess) -> Result<bool>;

    /// The child processes linked to an event, sorted.
    async fn cpids_of(&self, event_id: Uuid) -> Result<Vec<ChildProcess>>;

    /// The stream's projected state: [`compose_state`] over its events' data.
    async fn read_state(&self, domain: &str, pid: &str) -> Result<Value> {
        let events = self.read_stream(domain, pid).await?;
        Ok(compose_state(events.iter().map(|event| &event.data)))
    }
}

fn first(appended: Vec<Appended>) -> Result<Appended> {
    appended.into_iter().next().ok_or_else(|| {
        crate::error::Error::decode("append an event", "the store returned no result")
    })
}
