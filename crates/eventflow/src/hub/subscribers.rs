//! The hub's routing table: domain → name → connections, with `*` standing for every name
//! of a domain. A hub keeps two: subscribers (notified of every matching event) and
//! consumers (one of them handles each event).

use std::collections::HashMap;

/// A connection's number within one hub (increasing, so it also gives connection order).
pub type ConnId = u64;

/// The wildcard name: every event of a domain.
pub const ANY_NAME: &str = "*";

/// domain → name → connections (in the order they registered).
#[derive(Debug, Default, Clone)]
pub struct SubscriberTable {
    domains: HashMap<String, HashMap<String, Vec<ConnId>>>,
}

impl SubscriberTable {
    /// Registers `conn` for (`domain`, `name`); false when it was registered already.
    pub fn add(&mut self, conn: ConnId, domain: &str, name: &str) -> bool {
        let conns = self
            .domains
            .entry(domain.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_default();
        if conns.contains(&conn) {
            return false;
        }
        conns.push(conn);
        true
    }

    /// The connections for an event named `name` in `domain`: those registered for `name`
    /// first, then those registered for `*`, each in registration order, without repeats.
    /// `get(domain, "*")` is the wildcard registrations only.
    pub fn get(&self, domain: &str, name: &str) -> Vec<ConnId> {
        let Some(names) = self.domains.get(domain) else {
            return Vec::new();
        };
        let mut out: Vec<ConnId> = names.get(name).cloned().unwrap_or_default();
        if name != ANY_NAME
            && let Some(any) = names.get(ANY_NAME)
        {
            for conn in any {
                if !out.contains(conn) {
                    out.push(*conn);
                }
            }
        }
        out
    }

    /// Whether any connection would receive an event named `name` in `domain`.
    pub fn matches(&self, domain: &str, name: &str) -> bool {
        self.domains.get(domain).is_some_and(|names| {
            names.get(name).is_some_and(|c| !c.is_empty())
                || names.get(ANY_NAME).is_some_and(|c| !c.is_empty())
        })
    }

    /// Removes `conn` from exactly (`domain`, `name`), pruning empty entries; unknown keys
    /// are a no-op.
    pub fn remove(&mut self, conn: ConnId, domain: &str, name: &str) {
        let Some(names) = self.domains.get_mut(domain) else {
            return;
        };
        if let Some(conns) = names.get_mut(name) {
            conns.retain(|c| *c != conn);
            if conns.is_empty() {
                names.remove(name);
            }
        }
        if names.is_empty() {
            self.domains.remove(domain);
        }
    }

    /// Removes `conn` everywhere (it disconnected), pruning empty entries.
    pub fn remove_conn(&mut self, conn: ConnId) {
        self.domains.retain(|_, names| {
            names.retain(|_, conns| {
                conns.retain(|c| *c != conn);
                !conns.is_empty()
            });
            !names.is_empty()
        });
    }

    /// Every registered (domain, name).
    pub fn keys(&self) -> Vec<(String, String)> {
        self.domains
            .iter()
            .flat_map(|(domain, names)| names.keys().map(|name| (domain.clone(), name.clone())))
            .collect()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.domains.clear();
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }
}

#[cfg(test)]
mod tests {
    //! Ported from the original's `manager/subscribers.test.js` (eventflow.md 9.3).
    use super::*;

    #[test]
    fn add_and_retrieve_subscribers_in_insertion_order() {
        let mut table = SubscriberTable::default();
        table.add(1, "d1", "e1");
        table.add(2, "d1", "e1");
        assert!(!table.add(1, "d1", "e1"), "idempotent");
        assert_eq!(table.get("d1", "e1"), [1, 2]);
    }

    #[test]
    fn wildcard_subscribers_come_after_named_ones() {
        let mut table = SubscriberTable::default();
        table.add(1, "d1", "*");
        table.add(2, "d1", "e1");
        assert_eq!(table.get("d1", "e1"), [2, 1]);
        assert_eq!(table.get("d1", "*"), [1]);
        assert_eq!(table.get("d1", "other"), [1]);
        assert!(table.matches("d1", "other"));
        table.add(1, "d1", "e1");
        assert_eq!(table.get("d1", "e1"), [2, 1], "no repeats");
    }

    #[test]
    fn return_empty_when_nobody_subscribed() {
        let table = SubscriberTable::default();
        assert!(table.get("d1", "e1").is_empty());
        assert!(!table.matches("d1", "e1"));
    }

    #[test]
    fn deleting_by_connection_cleans_up_empty_structures() {
        let mut table = SubscriberTable::default();
        table.add(1, "d1", "e1");
        table.add(2, "d1", "*");
        table.remove_conn(1);
        assert!(table.get("d1", "e1") == [2]);
        table.remove_conn(2);
        assert!(table.get("d1", "e1").is_empty());
        assert!(table.get("d1", "*").is_empty());
        assert!(table.is_empty(), "domain and name maps are pruned");
    }

    #[test]
    fn removing_one_registration_leaves_the_others() {
        let mut table = SubscriberTable::default();
        table.add(1, "d1", "e1");
        table.add(1, "d1", "*");
        table.remove(1, "d1", "e1");
        assert_eq!(
            table.get("d1", "e1"),
            [1],
            "the wildcard entry is untouched"
        );
        table.remove(1, "d1", "*");
        assert!(table.is_empty());
    }

    #[test]
    fn deleting_unknown_subscribers_is_harmless() {
        let mut table = SubscriberTable::default();
        table.remove(9, "nope", "nope");
        table.remove_conn(9);
        table.add(1, "d", "n");
        table.remove(1, "d", "other");
        assert_eq!(table.get("d", "n"), [1]);
    }
}
