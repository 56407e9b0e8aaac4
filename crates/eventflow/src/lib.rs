//! Superhero Eventflow: the event log and its delivery bookkeeping on SQLite, PostgreSQL
//! and MySQL/MariaDB, plus the state projection.
//!
//! * [`EventStore`] is the storage contract (made of [`EventLog`], [`DeliveryStore`],
//!   [`ScheduleStore`], [`HubRegistry`], [`CertificateStore`] and [`AgentLog`]);
//!   [`SqlStore`] implements it on every backend. [`open`] picks the backend from the
//!   URL in [`StoreConfig`] (config key `eventflow.store`).
//! * [`projection`] folds an event-log into its state.
//! * Errors are one [`Error`] enum whose [`Error::code`] is a stable `E_EVENTFLOW_*` string.
//!
//! The [`store`] module explains how global positions stay in commit order.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> superhero_eventflow::Result<()> {
//! use serde_json::json;
//! use superhero_eventflow::{EventLog, NewEvent, StoreConfig, open};
//!
//! let store = open(&StoreConfig::with_url("sqlite::memory:")).await?;
//! store.append_one(NewEvent::new("order", "o-1", "placed").with_data(json!({"total": 5}))).await?;
//! store.append_one(NewEvent::new("order", "o-1", "paid").with_data(json!({"paid": true}))).await?;
//! assert_eq!(store.read_state("order", "o-1").await?, json!({"total": 5, "paid": true}));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod agent_log;
pub mod certificate;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod event;
pub mod eventlog;
pub mod hub;
pub mod projection;
pub mod schedule;
mod sql;
pub mod store;

pub use agent_log::{AgentLog, LogRecord};
pub use certificate::{CertificateRecord, CertificateStore};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{Backend, SqliteSynchronous, StoreConfig};
pub use delivery::{Delivery, DeliveryStore, FailOutcome, ParkedEvent, Publication};
pub use error::{Error, Result};
pub use event::{
    AppendRequest, Appended, CatchUp, ChildProcess, Event, EventRef, ExpectedVersion, Intent,
    NewEvent,
};
pub use eventlog::EventLog;
pub use hub::{Hub, HubRegistration, HubRegistry};
pub use schedule::{ScheduleStore, ScheduledEvent};
pub use sql::SqlStore;
pub use store::{EventStore, open};
