//! Competing consumers: a hub delivers an event to one consuming spoke; the spoke claims
//! it (one conditional update per batch, with a lease), runs the handler, and records the
//! outcome: success (batched), or a failure that retries with backoff or parks the event
//! after its last delivery. Only a spoke with a handler for the event ever claims it.

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
    deliveries: u32,
    result: Result<(), String>,
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
            for event in batch {
                if !seen.insert(event.id) {
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
            let Some(delivery) = claims.iter().find(|d| d.event_id == event.id) else {
                continue;
            };
            let deliveries = delivery.deliveries;
            let Ok(permit) = inner.handler_slots.clone().acquire_owned().await else {
                return;
            };
            let outcomes = outcomes.clone();
            let killed = inner.killed.clone();
            inner.handlers.spawn(
                async move {
                    let run = AssertUnwindSafe(handler(event.clone())).catch_unwind();
                    let result = tokio::select! {
                        () = killed.cancelled() => return,
                        result = run => result,
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
                        deliveries,
                        result,
                    });
                    drop(permit);
                }
                .instrument_in(&inner.span),
            );
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
    let ids: Vec<Uuid> = succeeded.iter().map(|o| o.event.id).collect();
    for attempt in 0..5u64 {
        match inner.store.succeed_deliveries(&ids, &inner.id).await {
            Ok(recorded) => {
                if recorded.len() < ids.len() {
                    let recorded: HashSet<Uuid> = recorded.into_iter().collect();
                    for outcome in succeeded.iter().filter(|o| !recorded.contains(&o.event.id)) {
                        tracing::warn!(event = %outcome.event.id, domain = %outcome.event.domain, name = %outcome.event.name,
                            "handled, but the lease had lapsed and another consumer claimed the event; it may be handled again");
                    }
                }
                return;
            }
            Err(error) if error.is_transient() && attempt < 4 => {
                tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
            }
            Err(error) => {
                tracing::error!(code = error.code(), %error, events = ids.len(),
                    "could not record successes; the events are redelivered after their lease");
                return;
            }
        }
    }
}

async fn record_failure(inner: &SpokeInner, outcome: Outcome) {
    let Outcome {
        event,
        deliveries,
        result,
    } = outcome;
    let reason = result.err().unwrap_or_default();
    let retry_at = Timestamp::now() + inner.config.retry_delay(deliveries);
    match inner
        .store
        .fail_delivery(
            event.id,
            &inner.id,
            &reason,
            retry_at,
            inner.config.max_deliveries,
        )
        .await
    {
        Ok(FailOutcome::Retry { at }) => {
            tracing::warn!(event = %event.id, domain = %event.domain, name = %event.name, pid = %event.pid,
                deliveries, retry_at = %at, error = %reason, "consumer failed; retrying later");
        }
        Ok(FailOutcome::Parked) => {
            tracing::error!(event = %event.id, domain = %event.domain, name = %event.name, pid = %event.pid,
                deliveries, error = %reason, "consumer failed on the last delivery; the event is parked");
        }
        Ok(FailOutcome::NotHeld) => {
            tracing::warn!(event = %event.id, error = %reason,
                "consumer failed after its lease had lapsed; another consumer has the event");
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
