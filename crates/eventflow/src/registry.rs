//! [`HubRegistry`]: the hubs of a cluster, with heartbeats.
//!
//! A hub registers under a new id at every start, heartbeats while it runs and marks itself
//! quit when it stops. A hub is live while it has not quit and its last heartbeat is newer
//! than the caller's time-to-live, so a crashed hub drops out by itself.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;

/// Where a starting hub can be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubRegistration {
    /// The hub id (new at every start).
    pub id: String,
    /// Address spokes and peers connect to (IPv4, IPv6 or host name).
    pub external_host: String,
    /// Port spokes and peers connect to.
    pub external_port: u16,
    /// Address the hub listens on.
    pub internal_host: String,
    /// Port the hub listens on.
    pub internal_port: u16,
}

/// A registered hub, as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubRecord {
    /// Its address and id.
    pub registration: HubRegistration,
    /// When it registered.
    pub registered_at: Timestamp,
    /// Its last heartbeat.
    pub heartbeat_at: Timestamp,
    /// When it quit (or was declared gone).
    pub quit_at: Option<Timestamp>,
    /// The ids of the spokes connected to it at its last heartbeat, in connection order
    /// (empty before its first heartbeat).
    pub spokes: Vec<String>,
}

/// The hub registry.
#[async_trait]
pub trait HubRegistry: Send + Sync {
    /// Registers a hub, live from now; false when the id is registered already.
    async fn register_hub(&self, hub: &HubRegistration) -> Result<bool>;

    /// Records a heartbeat and the ids of the spokes connected to the hub now; false when
    /// the hub is unknown or has quit.
    async fn heartbeat_hub(&self, id: &str, spokes: &[String]) -> Result<bool>;

    /// Hubs that have not quit and heartbeated within `ttl`, oldest registration first.
    async fn live_hubs(&self, ttl: Duration) -> Result<Vec<HubRecord>>;

    /// Makes a running hub that others marked quit (its heartbeat had lapsed, e.g. while
    /// the store was unreachable) live again from now, with its connected spokes; false
    /// when the hub is unknown.
    async fn rejoin_hub(&self, id: &str, spokes: &[String]) -> Result<bool>;

    /// Marks a hub quit; false when it had quit already or is unknown.
    async fn quit_hub(&self, id: &str) -> Result<bool>;

    /// Marks every hub whose last heartbeat is older than `ttl` as quit; returns how many.
    async fn quit_stale_hubs(&self, ttl: Duration) -> Result<u64>;

    /// One hub by id.
    async fn hub(&self, id: &str) -> Result<Option<HubRecord>>;
}
