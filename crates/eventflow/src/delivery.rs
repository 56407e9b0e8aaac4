//! [`DeliveryStore`]: the bookkeeping of published events, the durable outbox the hub and
//! spokes work from.
//!
//! A publication row is written with its event (see [`crate::Intent`]). From then on:
//!
//! ```text
//!  published ──claim_route (one hub, leased)──► routed ──claim_delivery (one consumer, leased)──► claimed
//!     ▲  │                                         │                                               │
//!     │  └─(claiming hub has no one to hand it to)─► orphan ──(one appears: claim_route)─► routed │
//!     │                                                                                           │
//!     ├──(lease expired, deliveries < max)───────────────────────────────────────────────────────┤
//!     ├──(fail: retry at a later time)────────────────────────────────────────────────────────────┤
//!     │                                                      succeed ──► succeeded (final)  ◄─────┤
//!     └──(replay_parked)── parked ◄──(fail or lease expiry after max deliveries)──────────────────┘
//! ```
//!
//! The claiming hub has no one to hand it to when no consumer is connected to it for the
//! event and either no subscriber is either, or a consumer group takes the event
//! ([`DeliveryStore::register_consumer`]): a group's events wait for its consumers.
//!
//! Every claim is one conditional `UPDATE` whose affected-row count says whether the caller
//! won, so exactly one of any number of concurrent claimers wins.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::event::EventRef;

/// The delivery state of one published event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// The event.
    pub event_id: Uuid,
    /// The spoke that published it.
    pub publisher: String,
    /// When it was published.
    pub published_at: Timestamp,
    /// Not claimable before this time (schedule due time, or retry backoff).
    pub available_at: Timestamp,
    /// The hub holding (or that last held) the route claim.
    pub hub: Option<String>,
    /// Until when that hub's route claim holds.
    pub hub_lease_until: Option<Timestamp>,
    /// The consumer holding (or that last held) the delivery claim.
    pub consumer: Option<String>,
    /// Until when that consumer's lease holds.
    pub lease_until: Option<Timestamp>,
    /// How many delivery claims were won so far.
    pub deliveries: u32,
    /// When a consumer reported success.
    pub succeeded_at: Option<Timestamp>,
    /// When a consumer last reported failure.
    pub failed_at: Option<Timestamp>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When a hub found no subscriber for it.
    pub orphan_at: Option<Timestamp>,
    /// When it was parked (dead-lettered).
    pub parked_at: Option<Timestamp>,
}

/// A won delivery claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The event.
    pub event_id: Uuid,
    /// The consumer that won.
    pub consumer: String,
    /// Which delivery this is (1 for the first).
    pub deliveries: u32,
    /// Until when the consumer holds the event; after that it can be claimed again.
    pub lease_until: Timestamp,
}

/// What [`DeliveryStore::fail_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailOutcome {
    /// The event becomes claimable again at `at`.
    Retry {
        /// When it can be claimed again.
        at: Timestamp,
    },
    /// The event used its last delivery and is parked.
    Parked,
    /// The caller does not hold the event (someone else claimed it, or it is settled).
    NotHeld,
}

/// A parked (dead-lettered) event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedEvent {
    /// The event.
    pub event: EventRef,
    /// How many deliveries it had.
    pub deliveries: u32,
    /// When it was parked.
    pub parked_at: Timestamp,
    /// The last failure's message, if a consumer reported one.
    pub last_error: Option<String>,
}

/// Which parked events to list: one page of them in position order, with filters (what
/// `superhero parked` and `superhero replay` take).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedQuery {
    /// Events whose position is greater than this (0: from the start).
    pub after: u64,
    /// Events whose position is at most this (a replay's stop point).
    pub until: Option<u64>,
    /// Only events of this domain.
    pub domain: Option<String>,
    /// Only events with this name.
    pub name: Option<String>,
    /// Only events parked at or after this time.
    pub since: Option<Timestamp>,
    /// At most this many events (the page size).
    pub limit: u32,
}

impl ParkedQuery {
    /// Every parked event after position `after`, `limit` at a time.
    pub fn after(after: u64, limit: u32) -> Self {
        ParkedQuery {
            after,
            until: None,
            domain: None,
            name: None,
            since: None,
            limit,
        }
    }

    /// Only events of `domain`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Only events called `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only events parked at or after `since`.
    pub fn since(mut self, since: Timestamp) -> Self {
        self.since = Some(since);
        self
    }

    /// Only events at or before position `until`.
    pub fn until(mut self, until: u64) -> Self {
        self.until = Some(until);
        self
    }
}

/// Delivery bookkeeping: claims with leases, outcomes, orphans, parking and replay.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// The publication row of an event, if it was published or scheduled.
    async fn publication(&self, event_id: Uuid) -> Result<Option<Publication>>;

    /// Claims the right to route (notify subscribers of) an event for `lease`. True for
    /// exactly one hub among concurrent callers; false while another hub's route lease
    /// holds, before the event is available, or once it is settled or parked. Clears the
    /// orphan mark.
    async fn claim_route(&self, event_id: Uuid, hub: &str, lease: Duration) -> Result<bool>;

    /// Marks an event routed by `hub` as an orphan (no one to hand it to: see the module's
    /// documentation) and releases the route claim so it can be routed when a consumer or
    /// subscriber appears. False unless `hub` holds it.
    async fn mark_orphan(&self, event_id: Uuid, hub: &str) -> Result<bool>;

    /// Orphaned events of `domain` (only those called `name`, when given), oldest first,
    /// at most `limit`.
    async fn orphans(&self, domain: &str, name: Option<&str>, limit: u32) -> Result<Vec<EventRef>>;

    /// Claims an event for `consumer` for `lease`: one conditional update, won by exactly
    /// one caller, and only while the event is available, unsettled, unparked, not leased
    /// by anyone else and has had fewer than `max_deliveries` deliveries. Each win counts a
    /// delivery. `None` when the caller lost.
    async fn claim_delivery(
        &self,
        event_id: Uuid,
        consumer: &str,
        lease: Duration,
        max_deliveries: u32,
    ) -> Result<Option<Delivery>>;

    /// Extends the lease of `delivery` to `lease` from now; false when that delivery no
    /// longer holds the event (its lease lapsed and the event was claimed again, or it is
    /// settled or parked).
    async fn renew_lease(&self, delivery: &Delivery, lease: Duration) -> Result<bool>;

    /// Records that `delivery` handled the event; final. False when that delivery no
    /// longer holds the event: the outcome of an earlier delivery never settles a later
    /// one.
    async fn succeed_delivery(&self, delivery: &Delivery) -> Result<bool>;

    /// Settles an event that has no consumer, e.g. once a hub delivered it to its
    /// subscribers only. False when it is already settled or parked.
    async fn settle(&self, event_id: Uuid) -> Result<bool>;

    /// Records the consumer group (`domain`, `name`): some spoke consumes events named
    /// `name` (or `*`: every name) of `domain`. From then on a hub with no consumer
    /// connected for such an event keeps it for one (an orphan, routed again when a
    /// consumer connects) instead of settling it once its subscribers are notified, so a
    /// consumer that is away (restarting, cut off, connected to another hub) loses
    /// nothing. Idempotent; groups are never removed.
    async fn register_consumer(&self, domain: &str, name: &str) -> Result<()>;

    /// Every consumer group recorded by [`register_consumer`](Self::register_consumer).
    async fn consumer_groups(&self) -> Result<Vec<(String, String)>>;

    /// Records that `delivery` failed to handle the event: it is parked when it has had
    /// `max_deliveries` deliveries, otherwise it becomes claimable again at `retry_at`.
    /// `NotHeld` when that delivery no longer holds the event.
    async fn fail_delivery(
        &self,
        delivery: &Delivery,
        error: &str,
        retry_at: Timestamp,
        max_deliveries: u32,
    ) -> Result<FailOutcome>;

    /// Events that should be (re)delivered now, oldest first: available, unsettled, not
    /// orphaned or parked, with no live route or delivery lease, fewer than
    /// `max_deliveries` deliveries. A hub's sweep routes these again.
    async fn pending_deliveries(&self, max_deliveries: u32, limit: u32) -> Result<Vec<EventRef>>;

    /// Parks every unsettled event whose lease expired after `max_deliveries` deliveries;
    /// returns how many were parked.
    async fn park_exhausted(&self, max_deliveries: u32) -> Result<u64>;

    /// One page of the parked events `query` selects, in position order.
    async fn parked(&self, query: &ParkedQuery) -> Result<Vec<ParkedEvent>>;

    /// Un-parks events: zero deliveries, available now, ready to be routed again. Returns
    /// how many were parked and are now replayed.
    async fn replay_parked(&self, event_ids: &[Uuid]) -> Result<u64>;

    /// [`claim_route`](Self::claim_route) for many events at once (a hub routing a batch
    /// of notices): returns the claims this hub won, each with the event's delivery count
    /// so far (0: it was never delivered, its subscribers have not been notified).
    ///
    /// The default runs one claim per event; [`crate::SqlStore`] uses one statement.
    async fn claim_routes(
        &self,
        event_ids: &[Uuid],
        hub: &str,
        lease: Duration,
    ) -> Result<Vec<RouteClaim>> {
        let mut won = Vec::new();
        for &event_id in event_ids {
            if self.claim_route(event_id, hub, lease).await? {
                let deliveries = self
                    .publication(event_id)
                    .await?
                    .map_or(0, |p| p.deliveries);
                won.push(RouteClaim {
                    event_id,
                    deliveries,
                });
            }
        }
        Ok(won)
    }

    /// [`claim_delivery`](Self::claim_delivery) for many events at once (a spoke claiming
    /// a batch of deliveries): returns the claims `consumer` won.
    ///
    /// The default runs one claim per event; [`crate::SqlStore`] uses one statement.
    async fn claim_deliveries(
        &self,
        event_ids: &[Uuid],
        consumer: &str,
        lease: Duration,
        max_deliveries: u32,
    ) -> Result<Vec<Delivery>> {
        let mut won = Vec::new();
        for &event_id in event_ids {
            if let Some(delivery) = self
                .claim_delivery(event_id, consumer, lease, max_deliveries)
                .await?
            {
                won.push(delivery);
            }
        }
        Ok(won)
    }

    /// [`succeed_delivery`](Self::succeed_delivery) for many deliveries at once: returns
    /// the events whose success was recorded (the others were no longer held by their
    /// delivery).
    async fn succeed_deliveries(&self, deliveries: &[Delivery]) -> Result<Vec<Uuid>> {
        let mut done = Vec::new();
        for delivery in deliveries {
            if self.succeed_delivery(delivery).await? {
                done.push(delivery.event_id);
            }
        }
        Ok(done)
    }

    /// [`settle`](Self::settle) for many events at once; returns how many were settled.
    async fn settle_many(&self, event_ids: &[Uuid]) -> Result<u64> {
        let mut settled = 0;
        for &event_id in event_ids {
            if self.settle(event_id).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }
}

/// A route claim won by [`DeliveryStore::claim_routes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteClaim {
    /// The event.
    pub event_id: Uuid,
    /// How many delivery claims the event had before this route (0: first routing).
    pub deliveries: u32,
}
