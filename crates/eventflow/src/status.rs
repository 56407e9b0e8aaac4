//! [`StatusStore`]: the backlog of a store at a glance, per domain — what
//! `superhero status` prints, what `/readyz` pings and what the consumer-lag gauges of
//! `/metrics` report.
//!
//! An unsettled published event (see [`crate::delivery`]) is in at most one of five
//! states here:
//!
//! * **unrouted**: available now, neither leased by a consumer nor parked nor orphaned:
//!   no hub has routed it yet, it waits for a consumer to claim it, or its retry backoff
//!   has passed. Its age counts from when it became available.
//! * **orphaned**: a hub found no one to hand it to: no consumer connected, and no
//!   subscriber either or a consumer group that takes it (its consumers are away); it is
//!   routed when one appears. Not part of the lag (a group whose consumers are all away
//!   shows here, not as lag). Its age counts from its publish.
//! * **in flight**: a consumer holds a live lease on it. Its age counts from its publish.
//! * **retrying**: a consumer failed it and it waits out its retry backoff. Its age counts
//!   from its publish.
//! * **parked**: dead-lettered after its last delivery. Its age counts from its parking.
//!
//! Scheduled events not yet due are in none of them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;

/// The backlog of one domain at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainStatus {
    /// The domain.
    pub domain: String,
    /// Unsettled events available now that no consumer holds.
    pub unrouted: u64,
    /// Since when the oldest of them has been available.
    pub oldest_unrouted: Option<Timestamp>,
    /// Events a consumer holds a live lease on.
    pub in_flight: u64,
    /// When the oldest of them was published.
    pub oldest_in_flight: Option<Timestamp>,
    /// Events a hub found no one to hand to (see the module documentation).
    pub orphaned: u64,
    /// When the oldest of them was published.
    pub oldest_orphaned: Option<Timestamp>,
    /// Events waiting out a retry backoff after a failed delivery.
    pub retrying: u64,
    /// When the oldest of them was published.
    pub oldest_retrying: Option<Timestamp>,
    /// Parked (dead-lettered) events.
    pub parked: u64,
    /// When the oldest of them was parked.
    pub oldest_parked: Option<Timestamp>,
}

impl DomainStatus {
    /// The oldest time among the unsettled events that are not parked (unrouted, in
    /// flight or retrying): how far the domain's consumers lag.
    pub fn oldest_unsettled(&self) -> Option<Timestamp> {
        [
            self.oldest_unrouted,
            self.oldest_in_flight,
            self.oldest_retrying,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Reads of the store's backlog, for operators.
#[async_trait]
pub trait StatusStore: Send + Sync {
    /// Every domain with unsettled published events (unrouted, orphaned, in flight,
    /// retrying or parked), in
    /// domain order, as of the store's clock now. One aggregate query over the
    /// unsettled publications.
    async fn domain_status(&self) -> Result<Vec<DomainStatus>>;

    /// How many scheduled events are due at or before `until` and not executed yet.
    async fn scheduled_due(&self, until: Timestamp) -> Result<u64>;

    /// One round trip to the database: `Ok` when it answers and holds the schema this build
    /// needs (every migration applied); `E_EVENTFLOW_STORE_SCHEMA` when it holds an older
    /// one; the usual store errors (`E_EVENTFLOW_STORE_UNAVAILABLE`, …) when it does not
    /// answer.
    async fn ping(&self) -> Result<()>;
}
