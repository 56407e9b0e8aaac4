//! The app's settings: the `eventlog-stream` section of the node's config.
//!
//! ```toml
//! [eventlog-stream]
//! domains = ["post", "reply", "activity", "order", "payment", "shipment", "notification"]
//! private_domains = ["activity"]           # streamed only per pid, to the user it names
//! [eventlog-stream.owners.order]           # a process of `order` is seen only by its owner:
//! domain = "order"                         # the user id in the `field` of the first
//! field = "customer_id"                    # event of that process in `domain`
//! max_streams = 10000                      # open streams per node; beyond: 503
//! ticket_ttl_ms = 30000                    # how long a stream ticket is valid
//! heartbeat_ms = 15000                     # a comment after this much silence
//! retry_ms = 2000                          # `retry:` sent to clients
//! buffer = 1024                            # events a domain's fan-out holds for slow clients
//! poll_ms = 1000                           # the store is read at least this often
//! ```

use std::time::Duration;

use serde::Deserialize;
use superhero_core::{BoxError, ServiceContext};

use crate::error::ConfigError;

/// The config key of the settings.
pub const CONFIG_KEY: &str = "eventlog-stream";

/// Where the owner of a process is written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// The domain whose first event of the process names the owner.
    pub domain: String,
    /// The top-level field of that event's data holding the owner's user id.
    pub field: String,
}

/// Every `eventlog-stream` setting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The domains that can be streamed; any other answers 404
    /// (`E_EVENTLOG_DOMAIN_UNKNOWN`). Default: the demo's (the message board's, the
    /// activity records, the sale-order saga's four).
    pub domains: Vec<String>,
    /// Domains whose streams are private: only `GET /eventlog/{domain}/{pid}/stream`
    /// where `pid` is the ticket's user id (else 403 `E_EVENTLOG_FORBIDDEN`). Default:
    /// `activity` (`superhero-auth`'s activity records, one process per user).
    pub private_domains: Vec<String>,
    /// Domains whose processes belong to a user: each of their events is shown only
    /// to the user named in `field` of the process's first event in `domain`, on
    /// domain streams as on process streams (403 for another's process). Default: the
    /// sale-order saga's four domains, owned by the `customer_id` of `order-placed`.
    pub owners: std::collections::BTreeMap<String, Owner>,
    /// Open streams per node (1 to 1,000,000; default 10,000); beyond it 503
    /// `E_EVENTLOG_STREAM_LIMIT` with `Retry-After`.
    pub max_streams: usize,
    /// How long a ticket is valid, in milliseconds (1,000 to 600,000; default 30,000).
    pub ticket_ttl_ms: u64,
    /// A `: heartbeat` comment after this many milliseconds of silence (1,000 to
    /// 300,000; default 15,000).
    pub heartbeat_ms: u64,
    /// The reconnection delay sent as `retry:`, in milliseconds (default 2,000).
    pub retry_ms: u64,
    /// Events a domain's fan-out keeps for clients that are behind (16 to 65,536;
    /// default 1,024). A client further behind is resynchronised from the store.
    pub buffer: usize,
    /// The store is read at least this often, in milliseconds, also when no
    /// notification came (100 to 60,000; default 1,000).
    pub poll_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            domains: [
                "post",
                "reply",
                "activity",
                "order",
                "payment",
                "shipment",
                "notification",
            ]
            .map(String::from)
            .to_vec(),
            private_domains: vec!["activity".to_owned()],
            owners: ["order", "payment", "shipment", "notification"]
                .map(|domain| {
                    let owner = Owner {
                        domain: "order".to_owned(),
                        field: "customer_id".to_owned(),
                    };
                    (domain.to_owned(), owner)
                })
                .into_iter()
                .collect(),
            max_streams: 10_000,
            ticket_ttl_ms: 30_000,
            heartbeat_ms: 15_000,
            retry_ms: 2_000,
            buffer: 1_024,
            poll_ms: 1_000,
        }
    }
}

impl Settings {
    /// The settings in the node's config, checked (`E_EVENTLOG_STREAM_CONFIG`).
    pub fn from_context(ctx: &ServiceContext) -> Result<Self, BoxError> {
        let settings: Settings = ctx
            .config()
            .get(CONFIG_KEY)
            .map_err(|e| invalid("", e.to_string()))?
            .unwrap_or_default();
        settings.check()?;
        Ok(settings)
    }

    /// Checks every range.
    pub fn check(&self) -> Result<(), ConfigError> {
        let within = |key: &str, value: u64, low: u64, high: u64| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(invalid(key, format!("{value}; use {low} to {high}")))
            }
        };
        within("max_streams", self.max_streams as u64, 1, 1_000_000)?;
        within("ticket_ttl_ms", self.ticket_ttl_ms, 1_000, 600_000)?;
        within("heartbeat_ms", self.heartbeat_ms, 1_000, 300_000)?;
        within("retry_ms", self.retry_ms, 0, 600_000)?;
        within("buffer", self.buffer as u64, 16, 65_536)?;
        within("poll_ms", self.poll_ms, 100, 60_000)?;
        for domain in self.domains.iter().chain(&self.private_domains) {
            if domain.is_empty() || domain.len() > 255 || domain.contains('/') {
                return Err(invalid("domains", format!("{domain:?} is not a domain")));
            }
        }
        Ok(())
    }

    /// Whether `domain` can be streamed.
    pub fn streams(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == domain)
    }

    /// Where the owner of `domain`'s processes is written, if they have one.
    pub fn owner(&self, domain: &str) -> Option<&Owner> {
        self.owners.get(domain)
    }

    /// Whether `domain` is streamed only per pid, to its own user.
    pub fn is_private(&self, domain: &str) -> bool {
        self.private_domains.iter().any(|d| d == domain)
    }

    /// The ticket lifetime.
    pub fn ticket_ttl(&self) -> Duration {
        Duration::from_millis(self.ticket_ttl_ms)
    }
}

fn invalid(key: &str, reason: String) -> ConfigError {
    let key = if key.is_empty() {
        CONFIG_KEY.to_owned()
    } else {
        format!("{CONFIG_KEY}.{key}")
    };
    ConfigError { key, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_out_of_range_values_name_their_key() {
        assert!(Settings::default().check().is_ok());
        let error = Settings {
            buffer: 4,
            ..Settings::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(error.key, "eventlog-stream.buffer");
        assert_eq!(error.code(), "E_EVENTLOG_STREAM_CONFIG");
        let error = Settings {
            domains: vec!["a/b".into()],
            ..Settings::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(error.key, "eventlog-stream.domains");
    }
}
