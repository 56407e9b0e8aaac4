//! What a connection is doing, as far as its deadlines care: whether anything is open on
//! it (to tell an idle connection from a busy one); on HTTP/2, whether a header block is
//! still arriving (hyper sees no stream until the block is complete, so no timer of its
//! own bounds one); whether a write has been waiting for the client to read (hyper has
//! no write timeout).
//!
//! [`Activity`] counts what is open through [`OpenRequest`] guards: a request from the
//! service call to the end of its response body, an HTTP/2 stream until its last frame
//! is written, a write the client is not taking (see [`super::frames`]);
//! [`Activity::idle_for`] resolves once nothing has been open for a while. Its two
//! [`Stall`]s — a header block arriving, a write waiting for the client — resolve
//! [`Stall::lasted`] once they have held for too long.
//!
//! The open count is an atomic and the end of the last request a timestamp: opening and
//! closing a request wakes no task and arms no timer (they happen on every request);
//! `idle_for` keeps one timer and reads them when it fires, re-checking every quarter of
//! its limit while something is open, so it resolves between `idle` and `1.25 × idle`
//! after the last request ended.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// What is open on one connection, and what is stalled on it.
#[derive(Clone)]
pub(crate) struct Activity {
    open: Arc<Open>,
    header_block: Stall,
    write: Stall,
}

/// The open count, and when it last fell to zero.
struct Open {
    count: AtomicUsize,
    /// Nanoseconds from `base` to the end of the last request (0: none yet).
    idle_since: AtomicU64,
    base: Instant,
}

impl Open {
    fn since_base(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            open: Arc::new(Open {
                count: AtomicUsize::new(0),
                idle_since: AtomicU64::new(0),
                base: Instant::now(),
            }),
            header_block: Stall::new(),
            write: Stall::new(),
        }
    }

    /// Whether an HTTP/2 header block is arriving.
    pub(crate) fn header_block(&self) -> &Stall {
        &self.header_block
    }

    /// Whether a write is waiting for the client to take bytes.
    pub(crate) fn write(&self) -> &Stall {
        &self.write
    }

    /// Counts a request as open until the guard is dropped.
    pub(crate) fn open(&self) -> OpenRequest {
        self.open.count.fetch_add(1, Ordering::AcqRel);
        OpenRequest {
            open: Arc::clone(&self.open),
        }
    }

    /// Resolves once no request has been open for `idle` without a break (counting from
    /// now, or from the end of the last one), within a quarter of `idle` after that.
    pub(crate) async fn idle_for(&self, idle: Duration) {
        let start = self.open.since_base(Instant::now());
        let recheck = (idle / 4).max(Duration::from_millis(1));
        loop {
            let busy = self.open.count.load(Ordering::Acquire) > 0;
            // Read after the count: a request that ended in between moves this forward.
            let since = self.open.idle_since.load(Ordering::Acquire).max(start);
            if busy {
                tokio::time::sleep(recheck).await;
                continue;
            }
            let due = self.open.base + Duration::from_nanos(since) + idle;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// One open request; dropped when its response body has been sent (or the exchange ended
/// otherwise: a reset stream, a closed connection).
pub(crate) struct OpenRequest {
    open: Arc<Open>,
}

impl Drop for OpenRequest {
    fn drop(&mut self) {
        // Stamp the end before the count can read zero, so `idle_for` never sees an idle
        // connection with an old stamp.
        let now = self.open.since_base(Instant::now());
        self.open.idle_since.fetch_max(now, Ordering::AcqRel);
        self.open.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A state that must not last: a header block arriving, a write waiting for the client
/// to take bytes.
#[derive(Clone)]
pub(crate) struct Stall {
    on: Arc<watch::Sender<bool>>,
}

impl Stall {
    fn new() -> Self {
        Self {
            on: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Records whether the state holds now.
    pub(crate) fn set(&self, on: bool) {
        self.on.send_if_modified(|was| {
            let changed = *was != on;
            *was = on;
            changed
        });
    }

    /// Resolves once the state has held for `limit` without a break.
    pub(crate) async fn lasted(&self, limit: Duration) {
        let mut on = self.on.subscribe();
        loop {
            while !*on.borrow_and_update() {
                // The sender lives as long as `self`: `changed` cannot fail here.
                let _ = on.changed().await;
            }
            tokio::select! {
                () = tokio::time::sleep(limit) => return,
                _ = on.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_counts_from_the_end_of_the_last_request() {
        tokio::time::pause();
        let activity = Activity::new();
        let request = activity.open();
        let idle = activity.idle_for(Duration::from_millis(100));
        tokio::pin!(idle);
        assert!(
            tokio::time::timeout(Duration::from_millis(500), idle.as_mut())
                .await
                .is_err(),
            "not idle while a request is open"
        );
        drop(request);
        let start = tokio::time::Instant::now();
        idle.await;
        assert!(start.elapsed() >= Duration::from_millis(100));
    }
}
