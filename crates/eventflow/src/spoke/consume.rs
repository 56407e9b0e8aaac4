//! Competing consumers: a hub delivers an event to one consuming spoke; the spoke claims
//! it (one conditional update per batch, with a lease), runs the handler, and records the
//! outcome: success (batched), or a failure that retries with backoff or parks the event
//! after its last delivery. Only a spoke with a handler for the event ever claims it.
//!
//! While a handler runs, the spoke renews its lease every third of the lease, so a slow
//! handler keeps its event; a killed spoke stops renewing, so its events come back when
//! the lease lapses. Outcomes name their delivery (consumer and delivery number), so the
//! outcome of a delivery whose lease lapsed never settles a later one, and a spoke never
//! claims an event whose handler it is still running.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::SpokeInner;
use super::listeners::Handler;
use crate::clock::Timestamp;
use crate::delivery::{Delivery, FailOutcome};
use crate::event::Event;

/// What a handler did with one delivery.
pub(crate) struct Outcome {
    event: Event,
    delivery: Delivery,
    result: Result<(), String>,
}

/// Keeps an event in the spoke's running set until dropped (the handler ended, or its
/// task was dropped by a kill).
struct Running {
    set: Arc<std::sync::Mutex<HashSet<Uuid>>>,
    id: Uuid,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// Most outcomes recorded in one batch.
const OUTCOME_BATCH: usize = 512;

/// Claims delivered events in batches and runs their handlers.
pub(crate) async fn dispatch(
    inner: Arc<SpokeInner>,
    mut delivered: mpsc::UnboundedReceiver<Event>,
    outcomes: mpsc::UnboundedSender<Outcome>,
) {
    let lease = Duration::from_millis(inner.config.lease_ms);
    loop {
        let first = tokio::select! {
            () = inner.stop_consuming.cancelled() => return,
            event = delivered.recv() => match event {
                Some(event) => event,
                None => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < inner.config.claim_batch {
            match delivered.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let mut seen = HashSet::new();
        let mut runnable: Vec<(Event, Handler)> = Vec::with_capacity(batch.len());
        {
            let state = inner.state();
            let running = inner
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for event in batch {
                // Its handler still runs here (a redelivery after a lapsed lease): the
                // running handler's outcome settles it, or its lease brings it back.
                if running.contains(&event.id) || !seen.insert(event.id) {
                    continue;
                }
                // No handler (it was just removed): leave the event to its route lease.
                if let Some(handler) = state.consumers.handler_for(&event) {
                    runnable.push((event, handler));
                }
            }
        }
        if runnable.is_empty() {
            continue;
        }
        let ids: Vec<Uuid> = runnable.iter().map(|(e, _)| e.id).collect();
        let claims = match claim(&inner, &ids, lease).await {
            Some(claims) => claims,
            None => continue,
        };
        for (event, handler) in runnable {
            let Some(delivery) = claims.iter().find(|d| d.event_id == event.id).cloned() else {
                continue;
            };
            crate::metrics::delivered(&event, delivery.deliveries);
            let Ok(permit) = inner.handler_slots.clone().acquire_owned().await else {
                return;
            };
            inner
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(event.id);
            let running = Running {
                set: inner.running.clone(),
                id: event.id,
            };
            let outcomes = outcomes.clone();
            let killed = inner.killed.clone();
            let store = inner.store.clone();
            inner.handlers.spawn(
                async move {
                    let run = AssertUnwindSafe(handler(event.clone())).catch_unwind();
                    tokio::pin!(run);
                    let renewing = renew_while_running(store, delivery.clone(), lease);
                    tokio::pin!(renewing);
                    let mut renewing_done = false;
                    let result = loop {
                        tokio::select! {
                            () = killed.cancelled() => return,
                            result = &mut run => break result,
                            () = &mut renewing, if !renewing_done => renewing_done = true,
                        }
                    };
                    let result = match result {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(error)) => Err(superhero_core::report(error.as_ref())),
                        Err(panic) => {
                            Err(format!("the handler panicked: {}", panic_message(&panic)))
                        }
                    };
                    let _ = outcomes.send(Outcome {
                        event,
                        delivery,
                        result,
                    });
                    drop(running);
                    drop(permit);
                }
                .instrument_in(&inner.span),
            );
        }
    }
}

/// Renews `delivery`'s lease every third of `lease` until the delivery no longer holds
/// the event (then it returns); store errors are retried at the next tick.
async fn renew_while_running(
    store: Arc<dyn crate::store::EventStore>,
    delivery: Delivery,
    lease: Duration,
) {
    let every = (lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        match store.renew_lease(&delivery, lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(event = %delivery.event_id, delivery = delivery.deliveries,
                    "the lease of a running handler could not be renewed; the event may be handled again");
                return;
            }
            Err(error) => {
                tracing::debug!(code = error.code(), %error, "renewing a lease failed; retrying");
            }
        }
    }
}

/// The delivery claims won, retried once when the store is busy; `None` on failure (the
/// events come back after their route lease).
async fn claim(inner: &SpokeInner, ids: &[Uuid], lease: Duration) -> Option<Vec<Delivery>> {
    let max = inner.config.max_deliveries;
    for attempt in 0..3u64 {
        match inner
            .store
            .claim_deliveries(ids, &inner.id, lease, max)
            .await
        {
            Ok(claims) => return Some(claims),
            Err(error) if error.is_transient() && attempt < 2 => {
                tokio::time::sleep(Duration::from_millis(10 * (attempt + 1))).await;
            }
            Err(error) => {
                tracing::warn!(code = error.code(), %error, events = ids.len(), "claiming deliveries failed; they are redelivered later");
                return None;
            }
        }
    }
    None
}

/// Records handler outcomes: successes in batches, failures one by one.
pub(crate) async fn complete(
    inner: Arc<SpokeInner>,
    mut outcomes: mpsc::UnboundedReceiver<Outcome>,
) {
    while let Some(first) = outcomes.recv().await {
        let mut batch = vec![first];
        while batch.len() < OUTCOME_BATCH {
            match outcomes.try_recv() {
                Ok(outcome) => batch.push(outcome),
                Err(_) => break,
            }
        }
        let (succeeded, failed): (Vec<Outcome>, Vec<Outcome>) =
            batch.into_iter().partition(|o| o.result.is_ok());
        if !succeeded.is_empty() {
            record_successes(&inner, &succeeded).await;
        }
        for outcome in failed {
            record_failure(&inner, outcome).await;
        }
    }
}

async fn record_successes(inner: &SpokeInner, succeeded: &[Outcome]) {
    let deliveries: Vec<Delivery> = succeeded.iter().map(|o| o.delivery.clone()).collect();
    for attempt in 0..5u64 {
        match inner.store.succeed_deliveries(&deliveries).await {
            Ok(recorded) => {
                let recorded: HashSet<Uuid> = recorded.into_iter().collect();
                for outcome in succeeded.iter().filter(|o| recorded.contains(&o.event.id)) {
                    crate::metrics::succeeded(&outcome.event);
                }
                if recorded.len() < deliveries.len() {
                    for outcome in succeeded.iter().filter(|o| !recorded.contains(&o.event.id)) {
                        tracing::warn!(event = %outcome.event.id, domain = %outcome.event.domain, name = %outcome.event.name,
                            delivery = outcome.delivery.deliveries,
                            "handled, but this delivery's lease had lapsed and the event was claimed again; it may be handled again");
                    }
                }
                return;
            }
            Err(error) if error.is_transient() && attempt < 4 => {
                tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
            }
            Err(error) => {
                tracing::error!(code = error.code(), %error, events = deliveries.len(),
                    "could not record successes; the events are redelivered after their lease");
                return;
            }
        }
    }
}

async fn record_failure(inner: &SpokeInner, outcome: Outcome) {
    let Outcome {
        event,
        delivery,
        result,
    } = outcome;
    let deliveries = delivery.deliveries;
    let reason = result.err().unwrap_or_default();
    let retry_at = Timestamp::now() + inner.config.retry_delay(deliveries);
    match inner
        .store
        .fail_delivery(&delivery, &reason, retry_at, inner.config.max_deliveries)
        .await
    {
        Ok(FailOutcome::Retry { at }) => {
            crate::metrics::failed(&event, false);
            tracing::warn!(event = %event.id, domain = %event.domain, name = %event.name, pid = %event.pid,
                deliveries, retry_at = %at, error = %reason, "consumer failed; retrying later");
        }
        Ok(FailOutcome::Parked) => {
            crate::metrics::failed(&event, true);
            tracing::error!(event = %event.id, domain = %event.domain, name = %event.name, pid = %event.pid,
                deliveries, error = %reason, "consumer failed on the last delivery; the event is parked");
        }
        Ok(FailOutcome::NotHeld) => {
            tracing::warn!(event = %event.id, delivery = deliveries, error = %reason,
                "consumer failed after this delivery's lease had lapsed; the failure is not recorded");
        }
        Err(error) => {
            tracing::error!(code = error.code(), %error, event = %event.id,
                "could not record a failure; the event is redelivered after its lease");
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// `instrument` with a borrowed span.
trait InstrumentIn: Sized {
    fn instrument_in(self, span: &tracing::Span) -> tracing::instrument::Instrumented<Self>;
}

impl<F: std::future::Future> InstrumentIn for F {
    fn instrument_in(self, span: &tracing::Span) -> tracing::instrument::Instrumented<Self> {
        tracing::Instrument::instrument(self, span.clone())
    }
}
