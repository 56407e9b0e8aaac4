//! Routing: claim a batch of events (one conditional update; exactly one hub wins each),
//! then per event notify the subscribed connections (first routing only), deliver it to
//! one consuming connection (round robin); with no consumer connected, settle it when no
//! consumer group takes it (subscribers only), or mark it orphan (routed again when a
//! consumer or subscriber connects) when one does or when it has no subscriber either.
//! A consumer away from this hub (restarting, cut off, connected to another hub) thus
//! finds its group's events when it comes back.
//!
//! Notices arrive in bursts; the router drains what is queued into one batch and keeps a
//! few batches in flight at once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use super::{ConnId, HubInner};
use crate::delivery::RouteClaim;
use crate::error::Result;
use crate::event::{Event, EventRef};
use crate::net::Message;

/// Work for the router.
#[derive(Debug)]
pub(crate) enum RouteJob {
    /// Events a spoke just published (payload included).
    Events(Vec<Event>),
    /// Events found by a sweep, an orphan release or the schedule timer.
    Refs(Vec<EventRef>),
}

impl RouteJob {
    fn len(&self) -> usize {
        match self {
            RouteJob::Events(events) => events.len(),
            RouteJob::Refs(refs) => refs.len(),
        }
    }
}

/// Drains route jobs into batches and routes them, a few batches at a time.
pub(crate) async fn run(inner: Arc<HubInner>, mut jobs: mpsc::UnboundedReceiver<RouteJob>) {
    let in_flight = Arc::new(Semaphore::new(inner.config.route_concurrency));
    loop {
        let first = tokio::select! {
            () = inner.token.cancelled() => return,
            job = jobs.recv() => match job {
                Some(job) => job,
                None => return,
            },
        };
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        // Drain after waiting for a slot: a busy store makes the batches bigger.
        let mut events = Vec::new();
        let mut refs = Vec::new();
        let mut size = first.len();
        push(first, &mut events, &mut refs);
        while size < inner.config.route_batch {
            match jobs.try_recv() {
                Ok(job) => {
                    size += job.len();
                    push(job, &mut events, &mut refs);
                }
                Err(_) => break,
            }
        }
        let task_inner = inner.clone();
        inner.spawn(async move {
            if let Err(error) = route(&task_inner, events, refs).await {
                tracing::error!(code = error.code(), %error, "routing failed; the sweep retries those events");
            }
            drop(permit);
        });
    }
}

fn push(job: RouteJob, events: &mut Vec<Event>, refs: &mut Vec<EventRef>) {
    match job {
        RouteJob::Events(more) => events.extend(more),
        RouteJob::Refs(more) => refs.extend(more),
    }
}

/// Claims and routes `events` (with payload) and `refs` (read back when won). Returns how
/// many events this hub won.
pub(crate) async fn route(
    inner: &Arc<HubInner>,
    events: Vec<Event>,
    refs: Vec<EventRef>,
) -> Result<usize> {
    let mut ids: Vec<Uuid> = events
        .iter()
        .map(|e| e.id)
        .chain(refs.iter().map(|r| r.id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    let claims = claim(inner, &ids).await?;
    if claims.is_empty() {
        return Ok(0);
    }
    let won: HashMap<Uuid, u32> = claims.iter().map(|c| (c.event_id, c.deliveries)).collect();
    let mut seen = HashSet::new();
    let mut full: Vec<Event> = events
        .into_iter()
        .filter(|e| won.contains_key(&e.id) && seen.insert(e.id))
        .collect();
    let missing: Vec<Uuid> = won
        .keys()
        .filter(|id| !seen.contains(*id))
        .copied()
        .collect();
    if !missing.is_empty() {
        full.extend(inner.store.read_events(&missing).await?);
    }
    full.sort_by_key(|e| e.position);
    let count = full.len();
    dispatch(inner, full, &won).await;
    Ok(count)
}

/// Passes announced events to the connections subscribed to them, once: no claim, no
/// settlement, no retry (a subscriber that misses one reads it from the store).
pub(crate) fn announce(inner: &Arc<HubInner>, events: Vec<Event>) {
    let state = inner.state();
    let mut notify: HashMap<ConnId, Vec<Event>> = HashMap::new();
    for event in events {
        for conn in state.subscribers.get(&event.domain, &event.name) {
            notify.entry(conn).or_default().push(event.clone());
        }
    }
    for (conn, events) in notify {
        if let Some(connection) = state.connections.get(&conn) {
            connection.outbox.send(Message::Notify { events });
        }
    }
}

/// The route claim, retried a few times when the store is busy (lock contention).
async fn claim(inner: &Arc<HubInner>, ids: &[Uuid]) -> Result<Vec<RouteClaim>> {
    let lease = Duration::from_millis(inner.config.route_lease_ms);
    let mut attempt = 0;
    loop {
        match inner.store.claim_routes(ids, &inner.id, lease).await {
            Err(error) if error.is_transient() && attempt < 3 => {
                attempt += 1;
                tracing::debug!(code = error.code(), %error, attempt, "route claim retried");
                tokio::time::sleep(Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// Sends won events to their subscribers and one consumer each; settles or orphans the
/// rest.
async fn dispatch(inner: &Arc<HubInner>, events: Vec<Event>, won: &HashMap<Uuid, u32>) {
    if inner.token.is_cancelled() {
        // Stopping: connections are going away, so the tables no longer say who
        // subscribes. Leave the events to their route lease; a live hub's sweep takes them.
        return;
    }
    let mut notify: HashMap<ConnId, Vec<Event>> = HashMap::new();
    let mut deliver: HashMap<ConnId, Vec<Event>> = HashMap::new();
    let mut settle = Vec::new();
    let mut orphans = Vec::new();
    {
        let mut state = inner.state();
        for event in events {
            let first = won.get(&event.id).copied().unwrap_or(0) == 0;
            let subscribers = state.subscribers.get(&event.domain, &event.name);
            let consumers = state.consumers.get(&event.domain, &event.name);
            if first {
                for conn in &subscribers {
                    notify.entry(*conn).or_default().push(event.clone());
                }
            }
            if !consumers.is_empty() {
                let pick = consumers[state.turn % consumers.len()];
                state.turn = state.turn.wrapping_add(1);
                deliver.entry(pick).or_default().push(event);
            } else if !subscribers.is_empty() && !state.groups.consume(&event.domain, &event.name) {
                settle.push(event.id);
            } else {
                orphans.push(event.to_ref());
            }
        }
        for (conn, events) in notify {
            if let Some(connection) = state.connections.get(&conn) {
                connection.outbox.send(Message::Notify { events });
            }
        }
        for (conn, events) in deliver {
            if let Some(connection) = state.connections.get(&conn) {
                // A closed connection loses nothing: the route lease expires and the
                // sweep routes the events again.
                connection.outbox.send(Message::Deliver { events });
            }
        }
    }
    if !settle.is_empty()
        && let Err(error) = inner.store.settle_many(&settle).await
    {
        tracing::warn!(code = error.code(), %error, "could not settle events without consumers; the sweep retries");
    }
    if orphans.is_empty() {
        return;
    }
    for orphan in &orphans {
        match inner.store.mark_orphan(orphan.id, &inner.id).await {
            Ok(_) => {
                tracing::debug!(event = %orphan.id, domain = %orphan.domain, name = %orphan.name, "orphan event: no subscriber");
            }
            Err(error) => {
                tracing::warn!(code = error.code(), %error, event = %orphan.id, "could not mark an orphan; the sweep retries");
            }
        }
    }
    // A subscriber may have registered between the table lookup and the orphan mark; its
    // orphan release ran before the mark, so release those events here.
    let released: Vec<EventRef> = {
        let state = inner.state();
        orphans
            .into_iter()
            .filter(|o| {
                state.subscribers.matches(&o.domain, &o.name)
                    || state.consumers.matches(&o.domain, &o.name)
            })
            .collect()
    };
    if !released.is_empty() {
        let _ = inner.router.send(RouteJob::Refs(released));
    }
}

/// Routes the orphans of `domain` that an event named `name` (or `*`) now matches.
pub(crate) async fn release_orphans(inner: Arc<HubInner>, domain: String, name: String) {
    const PAGE: u32 = 500;
    loop {
        let only = (name != super::subscribers::ANY_NAME).then_some(name.as_str());
        let orphans = match inner.store.orphans(&domain, only, PAGE).await {
            Ok(orphans) => orphans,
            Err(error) => {
                tracing::warn!(code = error.code(), %error, %domain, "could not list orphans");
                return;
            }
        };
        let page = orphans.len();
        // Only what this hub can now hand on: to a connected consumer, or to subscribers
        // when no consumer group takes it. The rest keeps waiting for its consumers (and
        // would come back first on the next page: stop after this one).
        let (routable, waiting): (Vec<EventRef>, Vec<EventRef>) = {
            let state = inner.state();
            orphans.into_iter().partition(|event| {
                !state.consumers.get(&event.domain, &event.name).is_empty()
                    || (!state.groups.consume(&event.domain, &event.name)
                        && !state.subscribers.get(&event.domain, &event.name).is_empty())
            })
        };
        if routable.is_empty() {
            return;
        }
        match route(&inner, Vec::new(), routable).await {
            Ok(routed) => {
                tracing::debug!(%domain, %name, released = page, routed, "orphans released");
                if routed == 0 || page < PAGE as usize || !waiting.is_empty() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(code = error.code(), %error, %domain, "could not release orphans");
                return;
            }
        }
    }
}
