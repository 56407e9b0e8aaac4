//! [`EventStore`]: the one trait every backend implements, and [`open`].
//!
//! # Positions: commit order, never skipped
//!
//! A reader that follows the log by global position (`read_from(after = last seen)`) must
//! never skip an event that commits late. With a plain auto-increment that can happen:
//! writer A takes position 10, writer B takes 11 and commits first, a reader sees 11 and
//! moves its cursor past 10 before A commits.
//!
//! The store therefore hands out positions **in commit order**. Every append transaction
//! first locks the single row of `eventflow_head` (`SELECT … FOR UPDATE` on PostgreSQL and
//! MySQL/MariaDB; SQLite's `BEGIN IMMEDIATE` takes the database write lock), numbers its
//! events from the head, inserts them, advances the head and commits, which releases the
//! lock. The next appender can only read the head after that commit, so:
//!
//! * positions are strictly increasing in commit order, and gap-free except where events
//!   were deleted (a rolled-back append also rolls back the head);
//! * when a reader sees position `p`, every event with a smaller position committed before
//!   `p` did, so it is visible to the same read: the high-water mark is simply the highest
//!   visible position, and a reader continuing after it never skips an event nor sees one
//!   twice.
//!
//! The same lock makes the rest of an append exact: the idempotency check by id (a retried
//! append returns the first append's result, also when the two race) and the per-stream
//! version check (of two writers expecting the same version, exactly one wins).
//!
//! The price is that appends are serialised per database, with the lock held for one
//! append transaction (a few round trips and one commit). Batches amortise it: a batch
//! of 100 costs about one lock and one commit. Reads never take the lock.

use crate::agent_log::AgentLog;
use crate::certificate::CertificateStore;
use crate::config::StoreConfig;
use crate::delivery::DeliveryStore;
use crate::error::Result;
use crate::eventlog::EventLog;
use crate::registry::HubRegistry;
use crate::schedule::ScheduleStore;
use crate::sql::SqlStore;
use crate::status::StatusStore;

/// Everything the hub, the spokes and the tools need from storage: the event log,
/// delivery bookkeeping, schedules, the hub registry, certificates, the log table and the
/// backlog status.
///
/// Implemented for every type that implements all the parts; use it as
/// `Arc<dyn EventStore>` to stay independent of the backend.
pub trait EventStore:
    EventLog
    + DeliveryStore
    + ScheduleStore
    + HubRegistry
    + CertificateStore
    + AgentLog
    + StatusStore
    + std::fmt::Debug
{
}

impl<T> EventStore for T where
    T: EventLog
        + DeliveryStore
        + ScheduleStore
        + HubRegistry
        + CertificateStore
        + AgentLog
        + StatusStore
        + std::fmt::Debug
{
}

/// Opens the store the configuration names (`eventflow.store`): connects, applies the
/// migrations and returns it. See [`SqlStore::open`] for the errors.
///
/// ```no_run
/// # async fn demo() -> superhero_eventflow::Result<()> {
/// use superhero_eventflow::{StoreConfig, open};
///
/// let store = open(&StoreConfig::with_url("postgres://postgres@127.0.0.1:5432/test")).await?;
/// # let _ = store; Ok(()) }
/// ```
pub async fn open(config: &StoreConfig) -> Result<SqlStore> {
    SqlStore::open(config).await
}
