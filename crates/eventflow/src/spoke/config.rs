//! Spoke configuration (`eventflow.spoke`).
//!
//! ```toml
//! [eventflow.spoke]
//! name = "eventflow-spoke"   # id prefix; the id is new at every start
//! hub_poll_ms = 2000         # how often the registry is read for new hubs
//! hub_ttl_ms = 10000         # a hub without a heartbeat for this long is gone
//! connect_timeout_ms = 5000
//! reconnect_min_ms = 100     # reconnect backoff per hub: doubles up to reconnect_max_ms
//! reconnect_max_ms = 5000
//! lease_ms = 30000           # a consumer holds an event this long; a crash or hang is
//!                            # caught when it lapses and the event goes to another spoke
//! max_deliveries = 5         # after this many deliveries an event is parked
//! retry_min_ms = 1000        # a failed event is retried after retry_min_ms · 2^(n-1),
//! retry_max_ms = 60000       # at most retry_max_ms
//! concurrency = 256          # handlers running at once
//! idle_timeout_ms = 20000    # a hub link silent this long (idle ones ping every 1/4) is redialed
//!
//! [eventflow.spoke.consume]  # the consumer map, see `crate::service`
//! order = ["order-placed"]   # service "order", method on_order_placed
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids;
use crate::net::{DEFAULT_MAX_FRAME, DEFAULT_OUTBOX_CAPACITY};

/// `eventflow.spoke`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpokeConfig {
    /// Id prefix (letters, digits, `-`).
    pub name: String,
    /// Registry poll interval, in milliseconds.
    pub hub_poll_ms: u64,
    /// A hub whose last heartbeat is older than this is not live, in milliseconds.
    pub hub_ttl_ms: u64,
    /// Connect (TCP + TLS) timeout, in milliseconds.
    pub connect_timeout_ms: u64,
    /// First reconnect delay, in milliseconds.
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay, in milliseconds.
    pub reconnect_max_ms: u64,
    /// Delivery lease, in milliseconds.
    pub lease_ms: u64,
    /// Deliveries after which an event is parked.
    pub max_deliveries: u32,
    /// First retry delay after a failed handler, in milliseconds.
    pub retry_min_ms: u64,
    /// Longest retry delay, in milliseconds.
    pub retry_max_ms: u64,
    /// Handlers running at once.
    pub concurrency: usize,
    /// Most deliveries claimed in one statement.
    pub claim_batch: usize,
    /// Most concurrent publishes committed in one transaction.
    pub publish_batch: usize,
    /// How often a waiting `wait` re-reads the event-log (a backstop for lost notices),
    /// in milliseconds.
    pub wait_recheck_ms: u64,
    /// How long shutdown waits for running handlers before abandoning them to their
    /// lease, in milliseconds.
    pub shutdown_drain_ms: u64,
    /// Largest frame accepted or sent, in bytes.
    pub max_frame_bytes: usize,
    /// Most messages queued for one peer; a peer that falls further behind is
    /// disconnected (nothing is lost: the events are re-routed from the store).
    pub outbox_capacity: usize,
    /// A hub connection that receives nothing (not even a ping; idle connections ping
    /// every quarter of this) for this long is closed and redialed, in milliseconds.
    pub idle_timeout_ms: u64,
    /// The consumer map (domain → event names), read by the consume service.
    pub consume: Option<serde_json::Value>,
    /// Per-spoke certificate settings, merged over `eventflow.certificates` by the service.
    pub certificates: Option<serde_json::Value>,
}

impl Default for SpokeConfig {
    fn default() -> Self {
        SpokeConfig {
            name: "eventflow-spoke".into(),
            hub_poll_ms: 2_000,
            hub_ttl_ms: 10_000,
            connect_timeout_ms: 5_000,
            reconnect_min_ms: 100,
            reconnect_max_ms: 5_000,
            lease_ms: 30_000,
            max_deliveries: 5,
            retry_min_ms: 1_000,
            retry_max_ms: 60_000,
            concurrency: 256,
            claim_batch: 256,
            publish_batch: 512,
            wait_recheck_ms: 1_000,
            shutdown_drain_ms: 5_000,
            max_frame_bytes: DEFAULT_MAX_FRAME,
            outbox_capacity: DEFAULT_OUTBOX_CAPACITY,
            idle_timeout_ms: 20_000,
            consume: None,
            certificates: None,
        }
    }
}

impl SpokeConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        const KEY: &str = "eventflow/spoke";
        ids::check_name(&format!("{KEY}/name"), &self.name)?;
        let positive = [
            ("hub_poll_ms", self.hub_poll_ms),
            ("hub_ttl_ms", self.hub_ttl_ms),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("reconnect_min_ms", self.reconnect_min_ms),
            ("lease_ms", self.lease_ms),
            ("retry_min_ms", self.retry_min_ms),
            ("wait_recheck_ms", self.wait_recheck_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(Error::settings(format!("{KEY}/{key}"), "must be above 0"));
            }
        }
        if self.reconnect_max_ms < self.reconnect_min_ms || self.retry_max_ms < self.retry_min_ms {
            return Err(Error::settings(
                KEY,
                "reconnect_max_ms and retry_max_ms must not be below their minimum",
            ));
        }
        if self.max_deliveries == 0
            || self.concurrency == 0
            || self.claim_batch == 0
            || self.publish_batch == 0
            || self.outbox_capacity == 0
            || self.max_frame_bytes < 1024
        {
            return Err(Error::settings(
                KEY,
                "max_deliveries, concurrency, claim_batch, publish_batch and outbox_capacity must be above 0, max_frame_bytes at least 1024",
            ));
        }
        Ok(())
    }

    /// The retry delay after the `deliveries`-th delivery failed.
    pub fn retry_delay(&self, deliveries: u32) -> Duration {
        let exponent = deliveries.saturating_sub(1).min(32);
        let delay = self.retry_min_ms.saturating_mul(1u64 << exponent);
        Duration::from_millis(delay.min(self.retry_max_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_maximum() {
        let config = SpokeConfig {
            retry_min_ms: 100,
            retry_max_ms: 1_000,
            ..SpokeConfig::default()
        };
        let delays: Vec<u64> = (1..=6)
            .map(|n| u64::try_from(config.retry_delay(n).as_millis()).unwrap())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(config.retry_delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn zero_intervals_are_refused() {
        let config = SpokeConfig {
            lease_ms: 0,
            ..SpokeConfig::default()
        };
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("lease_ms")
        );
        assert!(SpokeConfig::default().validate().is_ok());
    }
}
