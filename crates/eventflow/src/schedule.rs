//! [`ScheduleStore`]: events published at a due time.
//!
//! Scheduling appends the event, a publication claimable from the due time and a schedule
//! row in one transaction ([`crate::AppendRequest::schedule`]). A hub sleeps until
//! [`ScheduleStore::next_due`], lists [`ScheduleStore::due_scheduled`], and executes each
//! row it wins with [`ScheduleStore::claim_scheduled`], so each runs once across all hubs.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::event::EventRef;

/// A scheduled event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledEvent {
    /// The event.
    pub event: EventRef,
    /// When it was scheduled.
    pub scheduled_at: Timestamp,
    /// When it comes due.
    pub due: Timestamp,
    /// When a hub claimed its execution.
    pub executed_at: Option<Timestamp>,
    /// The hub that executed it.
    pub executed_by: Option<String>,
}

/// Scheduled events: what is due, when the next one is, and the once-only execution claim.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// The schedule of an event, if it was scheduled.
    async fn scheduled(&self, event_id: Uuid) -> Result<Option<ScheduledEvent>>;

    /// Unexecuted events due now, in due-time order (then position), at most `limit`.
    async fn due_scheduled(&self, limit: u32) -> Result<Vec<ScheduledEvent>>;

    /// The earliest due time among unexecuted scheduled events.
    async fn next_due(&self) -> Result<Option<Timestamp>>;

    /// Claims the execution of a due scheduled event for `hub`: one conditional update,
    /// true for exactly one caller.
    async fn claim_scheduled(&self, event_id: Uuid, hub: &str) -> Result<bool>;
}
