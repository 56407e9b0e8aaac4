//! The hub's timers: the registry heartbeat, the redelivery sweep and the schedule timer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::HubInner;
use super::router::route;
use crate::certs::Role;
use crate::clock::Timestamp;
use crate::event::EventRef;

/// Keeps the hub's registry row alive; also marks hubs that stopped heartbeating as quit.
pub(crate) async fn heartbeat(inner: Arc<HubInner>) {
    let every = Duration::from_millis(inner.config.heartbeat_ms);
    let ttl = Duration::from_millis(inner.config.hub_ttl_ms);
    loop {
        tokio::select! {
            () = inner.token.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let spokes: Vec<String> = inner
            .state()
            .connections
            .values()
            .filter(|c| c.identity.role == Role::Spoke)
            .map(|c| c.identity.id.clone())
            .collect();
        match inner.store.heartbeat_hub(&inner.id, &spokes).await {
            Ok(true) => {}
            // Marked quit by a hub that saw its heartbeat lapse (the store was unreachable
            // for longer than the ttl): it is running, so it rejoins, and spokes dial it
            // again. Not while stopping: a stopping hub quits on purpose.
            Ok(false) if !inner.token.is_cancelled() => {
                match inner.store.rejoin_hub(&inner.id, &spokes).await {
                    Ok(true) => tracing::warn!(
                        "this hub's heartbeat had lapsed and it was marked quit in the registry; it rejoined"
                    ),
                    Ok(false) => tracing::error!(
                        "this hub is missing from the registry; spokes will not find it — restart it"
                    ),
                    Err(error) => {
                        tracing::warn!(code = error.code(), %error, "rejoining the registry failed; retrying at the next heartbeat");
                    }
                }
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "heartbeat failed");
            }
        }
        match inner.store.quit_stale_hubs(ttl).await {
            Ok(0) => {}
            Ok(quit) => tracing::info!(quit, "marked hubs without heartbeat as quit"),
            Err(error) => tracing::debug!(code = error.code(), %error, "stale hub clean-up failed"),
        }
    }
}

/// Parks exhausted events and routes events whose route or delivery lease expired, whose
/// retry time came, or that were published while no hub was reachable.
pub(crate) async fn sweep(inner: Arc<HubInner>) {
    let every = Duration::from_millis(inner.config.sweep_ms);
    let max = inner.config.max_deliveries;
    let limit = inner.config.sweep_limit;
    // The first sweep runs at once: a hub starting after spokes published picks up their
    // events straight away.
    let mut wait = Duration::ZERO;
    let mut round: u64 = 0;
    loop {
        tokio::select! {
            () = inner.token.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = every;
        if round.is_multiple_of(ORPHAN_EVERY) {
            release_matching_orphans(&inner).await;
        }
        round = round.wrapping_add(1);
        match inner.store.park_exhausted(max).await {
            Ok(0) => {}
            Ok(parked) => {
                crate::metrics::lease_expiry_parked(parked);
                tracing::error!(
                    parked,
                    max_deliveries = max,
                    "events parked after their last delivery; list and replay them from the parked list"
                );
            }
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "parking exhausted events failed")
            }
        }
        loop {
            let pending = match inner.store.pending_deliveries(max, limit).await {
                Ok(pending) => pending,
                Err(error) => {
                    tracing::warn!(code = error.code(), %error, "listing pending deliveries failed");
                    break;
                }
            };
            let page = pending.len();
            if page == 0 {
                break;
            }
            match route(&inner, Vec::new(), pending).await {
                Ok(routed) => {
                    if routed > 0 {
                        tracing::debug!(routed, "sweep routed pending events");
                    }
                    if routed == 0 || page < usize::try_from(limit).unwrap_or(usize::MAX) {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(code = error.code(), %error, "sweep routing failed");
                    break;
                }
            }
            if inner.token.is_cancelled() {
                return;
            }
        }
    }
}

/// Every how many sweeps the orphans of the hub's registered domains are re-checked.
const ORPHAN_EVERY: u64 = 10;

/// Routes orphans that this hub's subscribers or consumers now match: an event orphaned at
/// a hub its spokes had left (or not reached yet) is picked up here, even when no new
/// registration arrives to release it.
async fn release_matching_orphans(inner: &Arc<HubInner>) {
    // Consumer groups other hubs recorded (their consumers may never connect here).
    match inner.store.consumer_groups().await {
        Ok(groups) => {
            let mut state = inner.state();
            for (domain, name) in groups {
                state.groups.insert(&domain, &name);
            }
        }
        Err(error) => {
            tracing::debug!(code = error.code(), %error, "could not read the consumer groups");
        }
    }
    let registered: Vec<(String, String)> = {
        let state = inner.state();
        let mut keys = state.subscribers.keys();
        keys.extend(state.consumers.keys());
        keys.sort();
        keys.dedup();
        keys
    };
    for (domain, name) in registered {
        super::router::release_orphans(inner.clone(), domain, name).await;
    }
}

/// Sleeps until the earliest due schedule (or a `scheduled` notice of an earlier one, or
/// the recheck interval), then executes what is due: each schedule is claimed by exactly
/// one hub, which routes its event.
pub(crate) async fn schedule(inner: Arc<HubInner>, mut rearm: mpsc::UnboundedReceiver<Timestamp>) {
    let recheck = Duration::from_millis(inner.config.schedule_recheck_ms);
    loop {
        let next = match inner.store.next_due().await {
            Ok(next) => next,
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "reading the next due schedule failed");
                None
            }
        };
        let now = Timestamp::now();
        let mut target = next.map_or(now + recheck, |due| due.min(now + recheck));
        // Sleep until the target; an earlier notice moves it.
        loop {
            let wait = target.since(Timestamp::now());
            if wait.is_zero() {
                break;
            }
            tokio::select! {
                () = inner.token.cancelled() => return,
                () = tokio::time::sleep(wait) => break,
                due = rearm.recv() => match due {
                    Some(due) if due < target => target = due,
                    Some(_) => {}
                    None => return,
                },
            }
        }
        if !execute_due(&inner).await {
            // The store is failing: do not spin on a due time in the past.
            tokio::select! {
                () = inner.token.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }
}

/// Executes what is due; false when the store failed.
async fn execute_due(inner: &Arc<HubInner>) -> bool {
    const PAGE: u32 = 500;
    loop {
        let due = match inner.store.due_scheduled(PAGE).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "listing due schedules failed");
                return false;
            }
        };
        let mut healthy = true;
        let page = due.len();
        let mut claimed: Vec<EventRef> = Vec::new();
        for scheduled in due {
            match inner
                .store
                .claim_scheduled(scheduled.event.id, &inner.id)
                .await
            {
                Ok(true) => {
                    tracing::debug!(event = %scheduled.event.id, due = %scheduled.due, "executing scheduled event");
                    claimed.push(scheduled.event);
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(code = error.code(), %error, "claiming a schedule failed");
                    healthy = false;
                }
            }
        }
        if !claimed.is_empty()
            && let Err(error) = route(inner, Vec::new(), claimed).await
        {
            tracing::warn!(code = error.code(), %error, "routing scheduled events failed; the sweep retries");
        }
        if page < PAGE as usize || !healthy {
            return healthy;
        }
    }
}
