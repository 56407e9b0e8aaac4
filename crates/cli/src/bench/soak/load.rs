//! The soak's load, from the driver's own spoke: at a fixed offered rate, a publish of a
//! `tick` (nine in ten) or a schedule of a `timer` 1 – 4 s ahead (one in ten), each
//! call its own task (at most [`IN_FLIGHT`] at once: beyond that a tick is skipped and
//! counted as skipped), every acknowledged call written down for the checker. One publish
//! in twenty also has a waiter (`Spoke::wait` for that tick, started before it), which
//! exercises the waits through the faults.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use superhero_core::CancellationToken;
use superhero_eventflow::{NewEvent, Spoke, Timestamp};

use super::checker::{Acked, Kind};
use super::{DOMAIN, now_ms};

/// Calls in flight at most.
pub const IN_FLIGHT: usize = 512;

/// What the load did.
#[derive(Default)]
pub struct Load {
    acked: Mutex<Vec<Acked>>,
    refused: AtomicU64,
    skipped: AtomicU64,
    in_flight: AtomicUsize,
    waited: AtomicU64,
    wait_failed: AtomicU64,
}

impl Load {
    /// Acknowledged calls so far.
    pub fn acknowledged(&self) -> usize {
        self.acked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Every acknowledged call.
    pub fn acked(&self) -> Vec<Acked> {
        self.acked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Calls that failed.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Ticks skipped because [`IN_FLIGHT`] calls were already waiting.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Waits answered, and waits that failed or timed out.
    pub fn waits(&self) -> (u64, u64) {
        (
            self.waited.load(Ordering::Relaxed),
            self.wait_failed.load(Ordering::Relaxed),
        )
    }
}

/// Offers `rate` calls per second until `stop`, then waits for the calls in flight.
pub async fn run(spoke: Spoke, rate: u32, stop: CancellationToken, load: Arc<Load>) {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut tasks = tokio::task::JoinSet::new();
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        while tasks.try_join_next().is_some() {}
        n += 1;
        if load.in_flight.load(Ordering::Relaxed) >= IN_FLIGHT {
            load.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        load.in_flight.fetch_add(1, Ordering::Relaxed);
        let (spoke, load) = (spoke.clone(), load.clone());
        tasks.spawn(async move {
            call(&spoke, &load, n).await;
            load.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn call(spoke: &Spoke, load: &Load, n: u64) {
    let sent_ms = now_ms();
    let (kind, due_ms, result) = if n.is_multiple_of(10) {
        let due_ms = sent_ms + 1_000 + (n * 7919) % 3_000;
        let at = Timestamp::from_millis(i64::try_from(due_ms).unwrap_or(i64::MAX));
        let event = NewEvent::new(DOMAIN, format!("s-{n}"), "timer");
        (Kind::Schedule, due_ms, spoke.schedule(at, event).await)
    } else {
        let pid = format!("p-{n}");
        let waiter = (n % 20 == 1).then(|| {
            let (spoke, pid) = (spoke.clone(), pid.clone());
            tokio::spawn(async move {
                spoke
                    .wait(DOMAIN, &pid, &["tick"], Duration::from_secs(30))
                    .await
            })
        });
        let result = spoke.publish(NewEvent::new(DOMAIN, pid, "tick")).await;
        if let Some(waiter) = waiter {
            if result.is_err() {
                // The publish was refused: nothing to wait for.
                waiter.abort();
            } else if let Ok(Ok(_)) = waiter.await {
                load.waited.fetch_add(1, Ordering::Relaxed);
            } else {
                load.wait_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        (Kind::Publish, sent_ms, result)
    };
    match result {
        Ok(appended) => load
            .acked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Acked {
                id: appended.id,
                kind,
                due_ms,
            }),
        Err(_) => {
            load.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}
