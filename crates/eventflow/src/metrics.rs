//! What eventflow counts, through the `metrics` facade (rendered by `GET /metrics`, see
//! `superhero_core::metrics`). Counters are per process: a spoke counts what it published
//! and what its consumers did.
//!
//! | metric | type | labels | counted when |
//! | --- | --- | --- | --- |
//! | `eventflow_published_total` | counter | `domain`, `name` | a spoke's publish is committed |
//! | `eventflow_delivered_total` | counter | `domain`, `name` | a consumer of this spoke won a delivery claim |
//! | `eventflow_redelivered_total` | counter | `domain`, `name` | … and it was not the event's first delivery |
//! | `eventflow_succeeded_total` | counter | `domain`, `name` | a handler's success is recorded |
//! | `eventflow_failed_total` | counter | `domain`, `name` | a handler failed (or panicked) |
//! | `eventflow_parked_total` | counter | `domain`, `name` | that failure used the last delivery: parked |
//! | `eventflow_lease_expiry_parked_total` | counter | | a hub's sweep parked events whose last lease lapsed |
//! | `eventflow_backlog_refresh_failures_total` | counter | | a scrape's backlog query failed |
//! | `eventflow_publish_to_handled_seconds` | histogram | `domain`, `name` | from the event's append to its recorded success |
//! | `eventflow_hub_connections` | gauge | `role` (`spoke`, `hub`) | at scrape: connections of this process's hub |
//! | `eventflow_spoke_hubs_connected` | gauge | | at scrape: hubs this process's spoke is connected to |
//! | `eventflow_store_pool_connections` | gauge | `state` (`idle`, `in_use`) | at scrape |
//! | `eventflow_store_pool_max_connections` | gauge | | at scrape |
//! | `eventflow_unrouted_events`, `eventflow_orphaned_events`, `eventflow_in_flight_events`, `eventflow_retrying_events`, `eventflow_parked_events` | gauge | `domain` | at scrape, from the store ([`crate::status`]) |
//! | `eventflow_oldest_unrouted_age_seconds`, `eventflow_oldest_unsettled_age_seconds` | gauge | `domain` | at scrape: consumer lag |

use crate::clock::Timestamp;
use crate::event::Event;
use crate::status::DomainStatus;

/// Gives the metrics their `# HELP` lines (once per process, after the recorder is
/// installed: the store service's construction calls it).
pub(crate) fn describe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (name, help) in [
            (
                "eventflow_published_total",
                "Events this process's spoke published (committed), by domain and name",
            ),
            (
                "eventflow_delivered_total",
                "Delivery claims this process's consumers won, by domain and name",
            ),
            (
                "eventflow_redelivered_total",
                "Of those, claims that were not an event's first delivery",
            ),
            (
                "eventflow_succeeded_total",
                "Handler successes recorded, by domain and name",
            ),
            (
                "eventflow_failed_total",
                "Handler failures recorded, by domain and name",
            ),
            (
                "eventflow_parked_total",
                "Failures on an event's last delivery: parked, by domain and name",
            ),
            (
                "eventflow_lease_expiry_parked_total",
                "Events this process's hub parked after their last lease lapsed",
            ),
        ] {
            metrics::describe_counter!(name, help);
        }
        metrics::describe_counter!(
            "eventflow_backlog_refresh_failures_total",
            "Scrapes whose backlog query failed (the backlog gauges kept their last values)"
        );
        // Unlabelled counters exist from the start, so alerts see 0 rather than no data.
        metrics::counter!("eventflow_lease_expiry_parked_total").increment(0);
        metrics::counter!("eventflow_backlog_refresh_failures_total").increment(0);
        metrics::describe_histogram!(
            "eventflow_publish_to_handled_seconds",
            metrics::Unit::Seconds,
            "Time from an event's append to its recorded success, by domain and name"
        );
        for (name, help) in [
            (
                "eventflow_hub_connections",
                "Connections of this process's hub, by role (spoke, hub)",
            ),
            (
                "eventflow_spoke_hubs_connected",
                "Hubs this process's spoke is connected to",
            ),
            (
                "eventflow_store_pool_connections",
                "Store connections, by state (idle, in_use)",
            ),
            (
                "eventflow_store_pool_max_connections",
                "The store pool's maximum size",
            ),
            (
                "eventflow_unrouted_events",
                "Unsettled events available now that no consumer holds, by domain",
            ),
            (
                "eventflow_in_flight_events",
                "Events a consumer holds a live lease on, by domain",
            ),
            (
                "eventflow_orphaned_events",
                "Events a hub had no one to hand to (no consumer connected; no subscriber, or a consumer group waiting for its consumers), by domain",
            ),
            (
                "eventflow_retrying_events",
                "Events waiting out a retry backoff after a failed delivery, by domain",
            ),
            (
                "eventflow_parked_events",
                "Parked (dead-lettered) events, by domain",
            ),
            (
                "eventflow_oldest_unrouted_age_seconds",
                "Age of the oldest unrouted event, by domain (0: none)",
            ),
            (
                "eventflow_oldest_unsettled_age_seconds",
                "Age of the oldest unrouted or in-flight event, by domain: consumer lag (0: none)",
            ),
        ] {
            metrics::describe_gauge!(name, help);
        }
    });
}

fn labels(event: &Event) -> [(&'static str, String); 2] {
    [
        ("domain", event.domain.clone()),
        ("name", event.name.clone()),
    ]
}

/// Events a spoke published (committed).
pub(crate) fn published(events: &[Event]) {
    for event in events {
        metrics::counter!("eventflow_published_total", &labels(event)).increment(1);
    }
}

/// A delivery claim won; `deliveries` counts this one.
pub(crate) fn delivered(event: &Event, deliveries: u32) {
    let labels = labels(event);
    metrics::counter!("eventflow_delivered_total", &labels).increment(1);
    if deliveries > 1 {
        metrics::counter!("eventflow_redelivered_total", &labels).increment(1);
    }
}

/// A success recorded.
pub(crate) fn succeeded(event: &Event) {
    let labels = labels(event);
    metrics::counter!("eventflow_succeeded_total", &labels).increment(1);
    let latency = Timestamp::now().since(event.timestamp);
    metrics::histogram!("eventflow_publish_to_handled_seconds", &labels)
        .record(latency.as_secs_f64());
}

/// A handler failure; `parked` when it used the last delivery.
pub(crate) fn failed(event: &Event, parked: bool) {
    let labels = labels(event);
    metrics::counter!("eventflow_failed_total", &labels).increment(1);
    if parked {
        metrics::counter!("eventflow_parked_total", &labels).increment(1);
    }
}

/// A refresh of the backlog gauges that failed (they keep their last values).
pub(crate) fn backlog_refresh_failed() {
    metrics::counter!("eventflow_backlog_refresh_failures_total").increment(1);
}

/// Events a hub's sweep parked after their last lease lapsed.
pub(crate) fn lease_expiry_parked(count: u64) {
    metrics::counter!("eventflow_lease_expiry_parked_total").increment(count);
}

/// The connections of a hub, by role.
pub(crate) fn hub_connections(spokes: usize, hubs: usize) {
    metrics::gauge!("eventflow_hub_connections", "role" => "spoke").set(spokes as f64);
    metrics::gauge!("eventflow_hub_connections", "role" => "hub").set(hubs as f64);
}

/// The hubs a spoke is connected to.
pub(crate) fn spoke_hubs(connected: usize) {
    metrics::gauge!("eventflow_spoke_hubs_connected").set(connected as f64);
}

/// The store's connection pool.
pub(crate) fn pool(size: u32, idle: usize, max: u32) {
    let idle = idle as f64;
    metrics::gauge!("eventflow_store_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("eventflow_store_pool_connections", "state" => "in_use")
        .set((f64::from(size) - idle).max(0.0));
    metrics::gauge!("eventflow_store_pool_max_connections").set(f64::from(max));
}

/// The backlog per domain. Domains that had a backlog before and have none now are set to
/// zero (`previous`), so a gauge never keeps a stale value.
pub(crate) fn backlog(now: Timestamp, domains: &[DomainStatus], previous: &[String]) {
    for domain in previous {
        if !domains.iter().any(|d| &d.domain == domain) {
            backlog_of(
                now,
                &DomainStatus {
                    domain: domain.clone(),
                    unrouted: 0,
                    oldest_unrouted: None,
                    orphaned: 0,
                    oldest_orphaned: None,
                    in_flight: 0,
                    oldest_in_flight: None,
                    retrying: 0,
                    oldest_retrying: None,
                    parked: 0,
                    oldest_parked: None,
                },
            );
        }
    }
    for status in domains {
        backlog_of(now, status);
    }
}

fn backlog_of(now: Timestamp, status: &DomainStatus) {
    let domain = [("domain", status.domain.clone())];
    let age = |at: Option<Timestamp>| at.map_or(0.0, |at| now.since(at).as_secs_f64());
    metrics::gauge!("eventflow_unrouted_events", &domain).set(status.unrouted as f64);
    metrics::gauge!("eventflow_orphaned_events", &domain).set(status.orphaned as f64);
    metrics::gauge!("eventflow_in_flight_events", &domain).set(status.in_flight as f64);
    metrics::gauge!("eventflow_retrying_events", &domain).set(status.retrying as f64);
    metrics::gauge!("eventflow_parked_events", &domain).set(status.parked as f64);
    metrics::gauge!("eventflow_oldest_unrouted_age_seconds", &domain)
        .set(age(status.oldest_unrouted));
    metrics::gauge!("eventflow_oldest_unsettled_age_seconds", &domain)
        .set(age(status.oldest_unsettled()));
}
