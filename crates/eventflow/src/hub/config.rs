//! Hub configuration (`eventflow.hub`).
//!
//! ```toml
//! [eventflow.hub]
//! name = "eventflow-hub"        # id prefix; the id is new at every start
//! internal_host = "127.0.0.1"   # listen address
//! internal_port = 50001         # 0: any free port
//! # external_host / external_port: what spokes and peers dial (default: the listen address)
//! heartbeat_ms = 2000           # registry heartbeat
//! hub_ttl_ms = 10000            # a hub without a heartbeat for this long is gone
//! sweep_ms = 1000               # redelivery sweep: expired leases, retries, parking
//! route_lease_ms = 10000        # how long a routed event waits for its consumer's claim
//! max_deliveries = 5            # after this many deliveries an event is parked
//! schedule_recheck_ms = 5000    # longest sleep of the schedule timer between checks
//! idle_timeout_ms = 20000       # a connection silent this long (idle ones ping every 1/4) is closed
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids;
use crate::net::{DEFAULT_MAX_FRAME, DEFAULT_OUTBOX_CAPACITY};

/// `eventflow.hub`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// Id prefix (letters, digits, `-`).
    pub name: String,
    /// Address to listen on.
    pub internal_host: String,
    /// Port to listen on (0: any free port).
    pub internal_port: u16,
    /// Address spokes and peer hubs connect to (default: `internal_host`).
    pub external_host: Option<String>,
    /// Port spokes and peer hubs connect to (default: the bound port).
    pub external_port: Option<u16>,
    /// Heartbeat interval in milliseconds.
    pub heartbeat_ms: u64,
    /// A hub whose last heartbeat is older than this is not live, in milliseconds.
    pub hub_ttl_ms: u64,
    /// Redelivery sweep interval in milliseconds.
    pub sweep_ms: u64,
    /// Most events routed per sweep page.
    pub sweep_limit: u32,
    /// How long a route claim holds before another hub may route the event again, in ms.
    pub route_lease_ms: u64,
    /// Deliveries after which an event is parked (keep equal to the spokes' setting).
    pub max_deliveries: u32,
    /// Longest sleep of the schedule timer, in milliseconds.
    pub schedule_recheck_ms: u64,
    /// Timeout of TLS handshakes and peer announcements, in milliseconds.
    pub peer_timeout_ms: u64,
    /// Largest frame accepted or sent, in bytes.
    pub max_frame_bytes: usize,
    /// Most messages queued for one peer; a peer that falls further behind is
    /// disconnected (nothing is lost: the events are re-routed from the store).
    pub outbox_capacity: usize,
    /// A connection that receives nothing (not even a ping; idle connections ping every
    /// quarter of this) for this long is closed, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Most events routed in one batch (one claim statement).
    pub route_batch: usize,
    /// Route batches in flight at once.
    pub route_concurrency: usize,
    /// Per-hub certificate settings, merged over `eventflow.certificates` by the service.
    pub certificates: Option<serde_json::Value>,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            name: "eventflow-hub".into(),
            internal_host: "127.0.0.1".into(),
            internal_port: 50001,
            external_host: None,
            external_port: None,
            heartbeat_ms: 2_000,
            hub_ttl_ms: 10_000,
            sweep_ms: 1_000,
            sweep_limit: 1_000,
            route_lease_ms: 10_000,
            max_deliveries: 5,
            schedule_recheck_ms: 5_000,
            peer_timeout_ms: 5_000,
            max_frame_bytes: DEFAULT_MAX_FRAME,
            outbox_capacity: DEFAULT_OUTBOX_CAPACITY,
            idle_timeout_ms: 20_000,
            route_batch: 512,
            route_concurrency: 4,
            certificates: None,
        }
    }
}

impl HubConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        const KEY: &str = "eventflow/hub";
        ids::check_name(&format!("{KEY}/name"), &self.name)?;
        let positive = [
            ("heartbeat_ms", self.heartbeat_ms),
            ("sweep_ms", self.sweep_ms),
            ("route_lease_ms", self.route_lease_ms),
            ("schedule_recheck_ms", self.schedule_recheck_ms),
            ("peer_timeout_ms", self.peer_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(Error::settings(format!("{KEY}/{key}"), "must be above 0"));
            }
        }
        if self.hub_ttl_ms <= self.heartbeat_ms {
            return Err(Error::settings(
                format!("{KEY}/hub_ttl_ms"),
                "must be longer than heartbeat_ms (a few heartbeats)",
            ));
        }
        if self.max_deliveries == 0 || self.sweep_limit == 0 {
            return Err(Error::settings(
                KEY,
                "max_deliveries and sweep_limit must be above 0",
            ));
        }
        if self.route_batch == 0
            || self.route_concurrency == 0
            || self.outbox_capacity == 0
            || self.max_frame_bytes < 1024
        {
            return Err(Error::settings(
                KEY,
                "route_batch, route_concurrency and outbox_capacity must be above 0, max_frame_bytes at least 1024",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_original_where_they_still_apply() {
        // eventflow.md 9.1: internal address 127.0.0.1:50001 by default.
        let config = HubConfig::default();
        assert_eq!(config.internal_host, "127.0.0.1");
        assert_eq!(config.internal_port, 50001);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn invalid_settings_name_their_key() {
        let config = HubConfig {
            hub_ttl_ms: 10,
            heartbeat_ms: 100,
            ..HubConfig::default()
        };
        let error = config.validate().unwrap_err();
        assert_eq!(error.code(), "E_EVENTFLOW_CONFIG");
        assert!(error.to_string().contains("hub_ttl_ms"));
        let unknown = serde_json::from_str::<HubConfig>(r#"{"nmae":"x"}"#);
        assert!(unknown.is_err());
    }
}
