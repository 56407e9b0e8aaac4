//! Superhero Eventflow: an event store with a message queue on top.
//!
//! * **Store.** [`EventStore`] is the storage contract (made of [`EventLog`],
//!   [`DeliveryStore`], [`ScheduleStore`], [`HubRegistry`], [`CertificateStore`] and
//!   [`AgentLog`]); [`SqlStore`] implements it on SQLite, PostgreSQL and MySQL/MariaDB.
//!   [`open`] picks the backend from the URL in [`StoreConfig`] (`eventflow.store`). The
//!   [`store`] module explains how global positions stay in commit order.
//! * **Hub and spoke.** A [`Hub`] routes events between [`Spoke`]s over mutual TLS
//!   ([`net`]) with certificates kept in the store ([`certs`]): `publish` (one transaction,
//!   then a notice), `subscribe` (every subscriber), `consume` (exactly one consumer, with
//!   leases, retries and parking), `wait`, `schedule`. The store is the source of truth;
//!   hubs only decide, through conditional updates, who routes and who handles.
//! * **Services.** [`service`] offers all of it as superhero-core services (`eventflow/*`)
//!   and as an embedded hub + spoke for one-process nodes.
//! * Features (off by default): `scratch` adds `scratch::ScratchDatabase`, throw-away
//!   databases for tests and benchmarks (`superhero-testkit` re-exports it); `bench`
//!   adds `bench`, the engine of `superhero bench eventflow`.
//! * [`projection`] folds an event-log into its state; [`tables`] gives apps and crates
//!   tables of their own next to the events (read models, sessions).
//! * Errors are one [`Error`] enum whose [`Error::code`] is a stable `E_EVENTFLOW_*` string.
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
#[cfg(feature = "bench")]
pub mod bench;
pub mod certificate;
pub mod certs;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod event;
pub mod eventlog;
pub mod hub;
pub mod ids;
pub mod metrics;
pub mod net;
pub mod parked;
pub mod projection;
pub mod registry;
pub mod schedule;
#[cfg(feature = "scratch")]
pub mod scratch;
pub mod service;
pub mod spoke;
mod sql;
pub mod status;
pub mod store;

pub use agent_log::{AgentLog, LogRecord};
pub use certificate::{CertificateRecord, CertificateStore};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{Backend, SqliteSynchronous, StoreConfig};
pub use delivery::{
    Delivery, DeliveryStore, FailOutcome, ParkedEvent, ParkedQuery, Publication, RouteClaim,
};
pub use error::{Error, Result};
pub use event::{
    AppendRequest, Appended, CatchUp, ChildProcess, Event, EventRef, ExpectedVersion, Intent,
    NewEvent,
};
pub use eventlog::EventLog;
pub use hub::{Hub, HubConfig};
pub use registry::{HubRecord, HubRegistration, HubRegistry};
pub use schedule::{ScheduleStore, ScheduledEvent};
pub use spoke::{Spoke, SpokeConfig, Subscription};
pub use sql::SqlStore;
pub use sql::tables;
pub use status::{DomainStatus, StatusStore};
pub use store::{EventStore, open};
