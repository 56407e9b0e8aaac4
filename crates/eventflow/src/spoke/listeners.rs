//! The spoke's local tables: subscriptions (every matching subscription receives a
//! notified event) and consumers (one handler per domain and name; a named handler wins
//! over the domain's `*` handler).

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use superhero_core::BoxError;
use tokio::sync::mpsc;

use crate::event::Event;
use crate::hub::subscribers::ANY_NAME;

/// A subscription's number within one spoke.
pub type SubId = u64;

/// A consumer: handles one event; `Ok` records success, `Err` a retry.
pub type Handler = Arc<dyn Fn(Event) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;

/// The subscriptions of one (domain, name).
type Entries = Vec<(SubId, mpsc::UnboundedSender<Event>)>;

/// domain → name → subscriptions. One subscription may cover several names.
#[derive(Default)]
pub struct Listeners {
    domains: HashMap<String, HashMap<String, Entries>>,
}

impl Listeners {
    /// Adds subscription `id` for (`domain`, `name`); true when it is the first listener of
    /// that pair (the hubs must be told).
    pub fn add(
        &mut self,
        id: SubId,
        domain: &str,
        name: &str,
        sender: mpsc::UnboundedSender<Event>,
    ) -> bool {
        let entries = self
            .domains
            .entry(domain.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_default();
        let first = entries.is_empty();
        if !entries.iter().any(|(existing, _)| *existing == id) {
            entries.push((id, sender));
        }
        first
    }

    /// Removes subscription `id` everywhere; returns the pairs left without any listener.
    pub fn remove(&mut self, id: SubId) -> Vec<(String, String)> {
        let mut emptied = Vec::new();
        self.domains.retain(|domain, names| {
            names.retain(|name, entries| {
                let before = entries.len();
                entries.retain(|(existing, _)| *existing != id);
                if entries.is_empty() {
                    if before > 0 {
                        emptied.push((domain.clone(), name.clone()));
                    }
                    return false;
                }
                true
            });
            !names.is_empty()
        });
        emptied
    }

    /// Sends `event` to every subscription of its name or of `*` in its domain (each
    /// subscription once); returns how many received it.
    pub fn emit(&self, event: &Event) -> usize {
        let Some(names) = self.domains.get(&event.domain) else {
            return 0;
        };
        let mut sent: Vec<SubId> = Vec::new();
        for name in [event.name.as_str(), ANY_NAME] {
            for (id, sender) in names.get(name).into_iter().flatten() {
                if !sent.contains(id) && sender.send(event.clone()).is_ok() {
                    sent.push(*id);
                }
            }
        }
        sent.len()
    }

    /// Every (domain, name) with a listener.
    pub fn keys(&self) -> Vec<(String, String)> {
        self.domains
            .iter()
            .flat_map(|(domain, names)| names.keys().map(|name| (domain.clone(), name.clone())))
            .collect()
    }
}

/// (domain, name) → the spoke's handler.
#[derive(Default)]
pub struct Consumers {
    handlers: HashMap<(String, String), Handler>,
}

impl Consumers {
    /// Adds a handler; false when (`domain`, `name`) has one already.
    pub fn add(&mut self, domain: &str, name: &str, handler: Handler) -> bool {
        let key = (domain.to_owned(), name.to_owned());
        if self.handlers.contains_key(&key) {
            return false;
        }
        self.handlers.insert(key, handler);
        true
    }

    /// Removes a handler; false when there was none.
    pub fn remove(&mut self, domain: &str, name: &str) -> bool {
        self.handlers
            .remove(&(domain.to_owned(), name.to_owned()))
            .is_some()
    }

    /// The handler of `event`: the one for its name, else the domain's `*` handler.
    pub fn handler_for(&self, event: &Event) -> Option<Handler> {
        self.handlers
            .get(&(event.domain.clone(), event.name.clone()))
            .or_else(|| {
                self.handlers
                    .get(&(event.domain.clone(), ANY_NAME.to_owned()))
            })
            .cloned()
    }

    /// Every (domain, name) with a handler.
    pub fn keys(&self) -> Vec<(String, String)> {
        self.handlers.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    //! The original's `manager/listeners.test.js` (eventflow.md 9.6), where it still
    //! applies: lazily created per-domain listeners are gone (subscriptions are values), and
    //! a named subscription no longer hides the domain's `*` subscriptions (W9-style
    //! interference); the named-over-wildcard rule remains for consumers.
    use super::*;
    use crate::clock::Timestamp;
    use uuid::Uuid;

    fn event(domain: &str, name: &str) -> Event {
        Event {
            id: Uuid::now_v7(),
            position: 1,
            version: 1,
            timestamp: Timestamp::EPOCH,
            domain: domain.into(),
            pid: "p".into(),
            name: name.into(),
            data: serde_json::json!({}),
            rid: None,
        }
    }

    fn handler(tag: &'static str, seen: Arc<std::sync::Mutex<Vec<&'static str>>>) -> Handler {
        Arc::new(move |_event| {
            seen.lock().unwrap().push(tag);
            Box::pin(async { Ok(()) })
        })
    }

    #[test]
    fn wildcard_subscriptions_receive_every_event_of_their_domain() {
        let mut listeners = Listeners::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        assert!(listeners.add(1, "d", "*", tx));
        assert_eq!(listeners.emit(&event("d", "nonexistentEvent")), 1);
        assert_eq!(rx.try_recv().unwrap().name, "nonexistentEvent");
        assert_eq!(listeners.emit(&event("other", "x")), 0);
    }

    #[test]
    fn named_and_wildcard_subscriptions_both_receive_an_event_once_each() {
        let mut listeners = Listeners::default();
        let (named, mut named_rx) = mpsc::unbounded_channel();
        let (any, mut any_rx) = mpsc::unbounded_channel();
        listeners.add(1, "d", "e", named);
        listeners.add(2, "d", "*", any.clone());
        listeners.add(2, "d", "e", any);
        assert_eq!(listeners.emit(&event("d", "e")), 2);
        assert!(named_rx.try_recv().is_ok());
        assert!(any_rx.try_recv().is_ok());
        assert!(
            any_rx.try_recv().is_err(),
            "one subscription gets an event once"
        );
    }

    #[test]
    fn removing_a_subscription_leaves_the_others_of_its_domain() {
        let mut listeners = Listeners::default();
        let (a, _a) = mpsc::unbounded_channel();
        let (b, mut b_rx) = mpsc::unbounded_channel();
        listeners.add(1, "d", "e", a);
        assert!(
            !listeners.add(2, "d", "e", b),
            "not the first listener of d/e"
        );
        assert!(listeners.remove(1).is_empty(), "d/e still has a listener");
        assert_eq!(listeners.emit(&event("d", "e")), 1);
        assert!(b_rx.try_recv().is_ok());
        assert_eq!(listeners.remove(2), [("d".to_owned(), "e".to_owned())]);
        assert!(listeners.keys().is_empty());
    }

    #[tokio::test]
    async fn a_named_consumer_wins_over_the_wildcard_consumer() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut consumers = Consumers::default();
        assert!(consumers.add("d", "*", handler("any", seen.clone())));
        assert!(consumers.add("d", "e", handler("named", seen.clone())));
        assert!(
            !consumers.add("d", "e", handler("again", seen.clone())),
            "one per name"
        );
        let named = consumers.handler_for(&event("d", "e")).unwrap();
        named(event("d", "e")).await.unwrap();
        let any = consumers.handler_for(&event("d", "x")).unwrap();
        any(event("d", "x")).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), ["named", "any"]);
        assert!(consumers.handler_for(&event("other", "e")).is_none());
        assert!(consumers.remove("d", "e"));
        assert!(!consumers.remove("d", "e"));
    }
}
