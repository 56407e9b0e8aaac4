//! The messages of the channel, one versioned enum for every direction (the frame
//! envelope carries the version, see [`super::frame`]).
//!
//! | message | from → to | meaning |
//! | --- | --- | --- |
//! | `subscribe` / `unsubscribe` | spoke → hub | (domain, name or `*`): notify me of such events (broadcast) |
//! | `consume` / `unconsume` | spoke → hub | (domain, name or `*`): I compete to handle such events |
//! | `published` | spoke → hub | these events were just published (one transaction); route them |
//! | `scheduled` | spoke → hub | an event comes due at `due`: re-arm the schedule timer |
//! | `sync` | spoke → hub | answer `synced` once every earlier message is applied |
//! | `notify` | hub → spoke | events for the spoke's subscribers and waiters |
//! | `deliver` | hub → spoke | events for the spoke's consumers (the spoke claims before handling) |
//! | `synced` | hub → spoke | the answer to `sync` |
//! | `hub-online` | hub → hub, hub → spoke | a hub started at host:port: connect to it |
//!
//! A receiver closes the connection on a message that is not meant for it (a spoke
//! sending `deliver`, a spoke certificate announcing a hub).

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::event::Event;

/// One message on an eventflow connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Message {
    /// Spoke → hub: notify this connection of (domain, name) events.
    Subscribe {
        /// The domain.
        domain: String,
        /// The event name, or `*` for every name of the domain.
        name: String,
    },
    /// Spoke → hub: stop notifying this connection of (domain, name).
    Unsubscribe {
        /// The domain.
        domain: String,
        /// The event name or `*`.
        name: String,
    },
    /// Spoke → hub: this connection consumes (domain, name) events.
    Consume {
        /// The domain.
        domain: String,
        /// The event name or `*`.
        name: String,
    },
    /// Spoke → hub: this connection no longer consumes (domain, name).
    Unconsume {
        /// The domain.
        domain: String,
        /// The event name or `*`.
        name: String,
    },
    /// Spoke → hub: events published (committed) by the spoke.
    Published {
        /// The events, in commit order.
        events: Vec<Event>,
    },
    /// Spoke → hub: events announced (committed without delivery bookkeeping) by the
    /// spoke, to pass on to their subscribers once, with no claim and no retry.
    Announced {
        /// The events, in commit order.
        events: Vec<Event>,
    },
    /// Spoke → hub: a scheduled event comes due at `due`.
    Scheduled {
        /// The due time.
        due: Timestamp,
    },
    /// Spoke → hub: a barrier; the hub answers [`Message::Synced`] with the same id.
    Sync {
        /// The barrier id.
        id: u64,
    },
    /// Hub → spoke: events for subscribers and waiters.
    Notify {
        /// The events.
        events: Vec<Event>,
    },
    /// Hub → spoke: events for this spoke's consumers.
    Deliver {
        /// The events.
        events: Vec<Event>,
    },
    /// Hub → spoke: the answer to [`Message::Sync`].
    Synced {
        /// The barrier id.
        id: u64,
    },
    /// Either way, when a connection has had nothing to send for a quarter of its idle
    /// timeout: proof of life. A connection that receives nothing for its whole idle
    /// timeout is closed, so a peer behind a link that stopped forwarding (while both TCP
    /// ends stay open, which TCP keep-alive cannot see) is noticed and redialed.
    Ping,
    /// Hub → peer hub, and relayed hub → spoke: a hub is online.
    HubOnline {
        /// The hub id.
        id: String,
        /// Its external host.
        host: String,
        /// Its external port.
        port: u16,
    },
}

impl Message {
    /// The message's type tag, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Subscribe { .. } => "subscribe",
            Message::Unsubscribe { .. } => "unsubscribe",
            Message::Consume { .. } => "consume",
            Message::Unconsume { .. } => "unconsume",
            Message::Published { .. } => "published",
            Message::Announced { .. } => "announced",
            Message::Scheduled { .. } => "scheduled",
            Message::Sync { .. } => "sync",
            Message::Notify { .. } => "notify",
            Message::Deliver { .. } => "deliver",
            Message::Synced { .. } => "synced",
            Message::HubOnline { .. } => "hub-online",
            Message::Ping => "ping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let json = serde_json::to_value(Message::Subscribe {
            domain: "order".into(),
            name: "*".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "subscribe", "domain": "order", "name": "*"})
        );
        let back: Message =
            serde_json::from_str(r#"{"type":"hub-online","id":"h","host":"::1","port":5}"#)
                .unwrap();
        assert_eq!(back.kind(), "hub-online");
    }
}
