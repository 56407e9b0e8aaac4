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

/// One subscription of a (domain, name): its id, the process it is limited to (a
/// `wait`'s: only that pid's events are sent to it), and where its events go.
struct Entry {
    id: SubId,
    pid: Option<String>,
    sender: mpsc::UnboundedSender<Event>,
}

/// The subscriptions of one (domain, name), and how far the hubs know of them.
#[derive(Default)]
struct Pair {
    entries: Vec<Entry>,
    /// The hubs have been sent `Subscribe` for the pair.
    told: bool,
    /// A `sync` with every connected hub has completed since: every hub routes with the
    /// subscription in place.
    synced: bool,
}

/// domain → name → subscriptions. One subscription may cover several names.
#[derive(Default)]
pub struct Listeners {
    domains: HashMap<String, HashMap<String, Pair>>,
    /// Counts hub connections: a sync that began before one proves nothing of it.
    generation: u64,
}

impl Listeners {
    /// Adds subscription `id` for (`domain`, `name`), limited to process `pid` if given;
    /// true when it is the first listener of that pair (the hubs must be told, then
    /// [`Listeners::told`]).
    pub fn add(
        &mut self,
        id: SubId,
        domain: &str,
        name: &str,
        pid: Option<&str>,
        sender: mpsc::UnboundedSender<Event>,
    ) -> bool {
        let pair = self
            .domains
            .entry(domain.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_default();
        let first = pair.entries.is_empty();
        if !pair.entries.iter().any(|entry| entry.id == id) {
            pair.entries.push(Entry {
                id,
                pid: pid.map(str::to_owned),
                sender,
            });
        }
        first
    }

    /// Records that the hubs were sent `Subscribe` for (`domain`, `name`).
    pub fn told(&mut self, domain: &str, name: &str) {
        if let Some(pair) = self.pair_mut(domain, name) {
            pair.told = true;
        }
    }

    /// Whether every hub routes (`domain`, each of `names`) with the subscription in place
    /// (told, then synced).
    pub fn ready(&self, domain: &str, names: &[&str]) -> bool {
        names.iter().all(|name| {
            self.domains
                .get(domain)
                .and_then(|names| names.get(*name))
                .is_some_and(|pair| pair.synced)
        })
    }

    /// Those of `names` whose hubs have been told, and the hub generation: a `sync`
    /// started now makes them ready unless a hub connects meanwhile.
    pub fn told_names(&self, domain: &str, names: &[&str]) -> (Vec<String>, u64) {
        let told = names
            .iter()
            .filter(|name| {
                self.domains
                    .get(domain)
                    .and_then(|names| names.get(**name))
                    .is_some_and(|pair| pair.told)
            })
            .map(|name| (*name).to_owned())
            .collect();
        (told, self.generation)
    }

    /// Records a completed `sync` that began after `names` were told, in hub
    /// `generation` (nothing when a hub connected since).
    pub fn synced(&mut self, domain: &str, names: &[String], generation: u64) {
        if generation != self.generation {
            return;
        }
        for name in names {
            if let Some(pair) = self.pair_mut(domain, name) {
                pair.synced = pair.told;
            }
        }
    }

    /// A hub connected: no pair is known to be in place everywhere any more.
    pub fn unsync_all(&mut self) {
        self.generation += 1;
        for pair in self.domains.values_mut().flat_map(HashMap::values_mut) {
            pair.synced = false;
        }
    }

    fn pair_mut(&mut self, domain: &str, name: &str) -> Option<&mut Pair> {
        self.domains.get_mut(domain)?.get_mut(name)
    }

    /// Removes subscription `id` everywhere; returns the pairs left without any listener.
    pub fn remove(&mut self, id: SubId) -> Vec<(String, String)> {
        let mut emptied = Vec::new();
        self.domains.retain(|domain, names| {
            names.retain(|name, pair| {
                let before = pair.entries.len();
                pair.entries.retain(|entry| entry.id != id);
                if pair.entries.is_empty() {
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
    /// subscription once; one limited to a process only that process's events); returns
    /// how many received it.
    pub fn emit(&self, event: &Event) -> usize {
        let Some(names) = self.domains.get(&event.domain) else {
            return 0;
        };
        let mut sent: Vec<SubId> = Vec::new();
        for name in [event.name.as_str(), ANY_NAME] {
            for entry in names.get(name).into_iter().flat_map(|pair| &pair.entries) {
                if entry.pid.as_ref().is_some_and(|pid| *pid != event.pid) {
                    continue;
                }
                if !sent.contains(&entry.id) && entry.sender.send(event.clone()).is_ok() {
                    sent.push(entry.id);
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
        assert!(listeners.add(1, "d", "*", None, tx));
        assert_eq!(listeners.emit(&event("d", "nonexistentEvent")), 1);
        assert_eq!(rx.try_recv().unwrap().name, "nonexistentEvent");
        assert_eq!(listeners.emit(&event("other", "x")), 0);
    }

    #[test]
    fn named_and_wildcard_subscriptions_both_receive_an_event_once_each() {
        let mut listeners = Listeners::default();
        let (named, mut named_rx) = mpsc::unbounded_channel();
        let (any, mut any_rx) = mpsc::unbounded_channel();
        listeners.add(1, "d", "e", None, named);
        listeners.add(2, "d", "*", None, any.clone());
        listeners.add(2, "d", "e", None, any);
        assert_eq!(listeners.emit(&event("d", "e")), 2);
        assert!(named_rx.try_recv().is_ok());
        assert!(any_rx.try_recv().is_ok());
        assert!(
            any_rx.try_recv().is_err(),
            "one subscription gets an event once"
        );
    }

    #[test]
    fn a_subscription_limited_to_a_process_receives_only_its_events() {
        let mut listeners = Listeners::default();
        let (mine, mut mine_rx) = mpsc::unbounded_channel();
        let (all, mut all_rx) = mpsc::unbounded_channel();
        listeners.add(1, "d", "e", Some("other"), mine);
        listeners.add(2, "d", "e", None, all);
        assert_eq!(listeners.emit(&event("d", "e")), 1, "event of pid p");
        assert!(mine_rx.try_recv().is_err());
        assert!(all_rx.try_recv().is_ok());
    }

    #[test]
    fn a_pair_is_ready_once_told_and_synced_in_the_same_hub_generation() {
        let mut listeners = Listeners::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        assert!(listeners.add(1, "d", "e", Some("p"), tx.clone()));
        assert!(!listeners.ready("d", &["e"]));
        let (told, generation) = listeners.told_names("d", &["e"]);
        assert!(told.is_empty(), "not told yet: a sync proves nothing");
        listeners.told("d", "e");
        let (told, generation_after) = listeners.told_names("d", &["e"]);
        assert_eq!(generation, generation_after);
        listeners.synced("d", &told, generation);
        assert!(listeners.ready("d", &["e"]));
        assert!(
            !listeners.ready("d", &["e", "f"]),
            "every name must be ready"
        );

        // A hub connects: ready no more, and a sync begun before it counts for nothing.
        let (told, before) = listeners.told_names("d", &["e"]);
        listeners.unsync_all();
        assert!(!listeners.ready("d", &["e"]));
        listeners.synced("d", &told, before);
        assert!(!listeners.ready("d", &["e"]));

        // The last listener leaves: the pair starts over.
        listeners.remove(1);
        listeners.add(2, "d", "e", None, tx);
        assert!(!listeners.ready("d", &["e"]));
    }

    #[test]
    fn removing_a_subscription_leaves_the_others_of_its_domain() {
        let mut listeners = Listeners::default();
        let (a, _a) = mpsc::unbounded_channel();
        let (b, mut b_rx) = mpsc::unbounded_channel();
        listeners.add(1, "d", "e", None, a);
        assert!(
            !listeners.add(2, "d", "e", None, b),
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
