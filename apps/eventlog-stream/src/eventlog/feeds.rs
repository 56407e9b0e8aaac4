//! The fan-out: one feed per streamed domain and node. A feed holds one spoke
//! subscription to its domain (every name) and uses each notification only as a signal:
//! it reads the domain's new events from the store after its cursor, in position order,
//! and broadcasts them to every stream of the node. Reading by position, not relaying
//! notifications, is what makes the broadcast complete and ordered: notifications of two
//! publishers can arrive out of order, and events only appended (never published) send
//! none; the store's positions are in commit order and never skipped
//! (`superhero_eventflow::store`). The store is also read every `poll_ms` without a
//! notification.
//!
//! The broadcast keeps the last `buffer` events ([`tokio::sync::broadcast`]): memory per
//! domain is bounded however slow a client is; a stream that falls further behind is told
//! so (`Lagged`) and catches up from the store by position.
//!
//! Hand-over (no gap, no duplicate): a stream subscribes to the feed *before* it reads
//! its catch-up from the store. Every event the feed broadcasts after that moment has a
//! position above the feed's cursor at that moment, and every event up to that cursor was
//! committed before it, so the catch-up read sees it. The stream skips what it already
//! sent by position.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use superhero_core::{CancellationToken, Registry, Service};
use superhero_eventflow::service::{SPOKE, SpokeService};
use superhero_eventflow::{CatchUp, Event, Result, Spoke};
use superhero_http::SseEvent;
use tokio::sync::{Mutex, broadcast, mpsc};

use crate::settings::Settings;

/// The service name.
pub const FEEDS: &str = "eventlog-stream/eventlog/feeds";

/// Events read from the store per query.
pub const PAGE: u32 = 500;

/// An event as the feed broadcasts it: the event, and its SSE frame encoded once for
/// every stream.
#[derive(Debug)]
pub struct Broadcast {
    /// The event.
    pub event: Event,
    /// `id: <position>`, `event: <name>`, `data: <the event as JSON>`.
    pub frame: Bytes,
}

/// A domain's events as the feed broadcasts them.
pub type Feed = broadcast::Receiver<Arc<Broadcast>>;

/// The SSE frame of `event`.
pub fn frame(event: &Event) -> Bytes {
    match SseEvent::json(event) {
        Ok(data) => data
            .id(event.position.to_string())
            .event(event.name.clone())
            .encode(),
        // An event read from the store is JSON already; were it not, the client still
        // gets its position and name, and no data.
        Err(_) => SseEvent::data("null")
            .id(event.position.to_string())
            .event(event.name.clone())
            .encode(),
    }
}

/// The key of the feed of every streamed domain at once (for streams of several).
const ALL: &str = "*";

/// The feeds of this node, one per domain, and one of every streamed domain for streams
/// of several domains, each started on first use.
pub struct Feeds {
    spoke: Spoke,
    buffer: usize,
    poll: Duration,
    domains: Vec<String>,
    feeds: Mutex<HashMap<String, broadcast::Sender<Arc<Broadcast>>>>,
    stop: CancellationToken,
    resyncs: AtomicU64,
    /// Owners of processes, by (owner domain, pid): an owner never changes, so each is
    /// read from the store once per node.
    owners: std::sync::Mutex<HashMap<(String, String), String>>,
}

impl Service for Feeds {}

impl Feeds {
    /// Feeds reading through `spoke`, ending with `stop`.
    pub fn new(spoke: Spoke, settings: &Settings, stop: CancellationToken) -> Self {
        Feeds {
            spoke,
            buffer: settings.buffer,
            poll: Duration::from_millis(settings.poll_ms),
            domains: settings.domains.clone(),
            feeds: Mutex::new(HashMap::new()),
            stop,
            resyncs: AtomicU64::new(0),
            owners: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The store the feeds read.
    pub fn store(&self) -> &Arc<dyn superhero_eventflow::EventStore> {
        self.spoke.store()
    }

    /// The user owning process `pid` by `rule` (`None`: no such process yet, or no
    /// owner written).
    pub async fn owner_of(
        &self,
        rule: &crate::settings::Owner,
        pid: &str,
    ) -> Result<Option<String>> {
        let key = (rule.domain.clone(), pid.to_owned());
        if let Some(owner) = self.lock_owners().get(&key) {
            return Ok(Some(owner.clone()));
        }
        let log = self.spoke.store().read_stream(&rule.domain, pid).await?;
        let owner = log
            .first()
            .and_then(|event| event.data.get(&rule.field))
            .and_then(|value| value.as_str())
            .map(str::to_owned);
        if let Some(owner) = &owner {
            let mut owners = self.lock_owners();
            if owners.len() >= 100_000 {
                owners.clear();
            }
            owners.insert(key, owner.clone());
        }
        Ok(owner)
    }

    fn lock_owners(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), String>> {
        self.owners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many times a stream fell behind the fan-out's buffer and was resynchronised
    /// from the store, since the node started.
    pub fn resyncs(&self) -> u64 {
        self.resyncs.load(Ordering::Relaxed)
    }

    pub(crate) fn count_resync(&self) {
        self.resyncs.fetch_add(1, Ordering::Relaxed);
    }

    /// A receiver of `domain`'s events from now on, starting its feed if needed (the
    /// caller checked that `domain` is streamed: feeds are never removed).
    pub async fn subscribe(&self, domain: &str) -> Result<Feed> {
        self.feed(domain, std::slice::from_ref(&domain.to_owned()))
            .await
    }

    /// A receiver of the events of every streamed domain, in one position order: for
    /// streams of several domains (each stream filters what it shows).
    pub async fn subscribe_all(&self) -> Result<Feed> {
        self.feed(ALL, &self.domains.clone()).await
    }

    async fn feed(&self, key: &str, domains: &[String]) -> Result<Feed> {
        let mut feeds = self.feeds.lock().await;
        if let Some(sender) = feeds.get(key) {
            return Ok(sender.subscribe());
        }
        let mut subscriptions = Vec::with_capacity(domains.len());
        for domain in domains {
            subscriptions.push(self.spoke.subscribe(domain, "*")?);
        }
        // Events up to the head now are the streams' catch-up; the feed starts after.
        let cursor = self.spoke.store().head_position().await?;
        let (sender, receiver) = broadcast::channel(self.buffer);
        feeds.insert(key.to_owned(), sender.clone());
        let (notify, notified) = mpsc::channel(1);
        for mut subscription in subscriptions {
            let notify = notify.clone();
            tokio::spawn(async move {
                while subscription.recv().await.is_some() {
                    // A full channel already holds a signal: the feed reads all anyway.
                    let _ = notify.try_send(());
                }
            });
        }
        drop(notify);
        tokio::spawn(run(
            FeedTask {
                domains: domains.to_vec(),
                store: self.spoke.store().clone(),
                sender,
                cursor,
            },
            notified,
            self.poll,
            self.stop.clone(),
        ));
        Ok(receiver)
    }
}

struct FeedTask {
    domains: Vec<String>,
    store: Arc<dyn superhero_eventflow::EventStore>,
    sender: broadcast::Sender<Arc<Broadcast>>,
    cursor: u64,
}

impl FeedTask {
    /// Broadcasts every event after the cursor.
    async fn advance(&mut self) -> Result<()> {
        loop {
            // One domain: read just it. Several: read everything after the cursor (one
            // position order) and keep theirs.
            let read = match self.domains.as_slice() {
                [domain] => CatchUp::after(self.cursor, PAGE).domain(domain.clone()),
                _ => CatchUp::after(self.cursor, PAGE),
            };
            let page = self.store.read_from(&read).await?;
            let full = page.len() == PAGE as usize;
            for event in page {
                self.cursor = event.position;
                if !self.domains.contains(&event.domain) {
                    continue;
                }
                // No receiver (no stream open) is fine: the cursor still moves.
                let frame = frame(&event);
                let _ = self.sender.send(Arc::new(Broadcast { event, frame }));
            }
            if !full {
                return Ok(());
            }
        }
    }
}

async fn run(
    mut feed: FeedTask,
    mut notified: mpsc::Receiver<()>,
    poll: Duration,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            signal = notified.recv() => {
                if signal.is_none() {
                    return; // the spoke shut down
                }
            }
            () = tokio::time::sleep(poll) => {}
        }
        if let Err(error) = feed.advance().await {
            tracing::warn!(code = error.code(), %error, domains = ?feed.domains, "the event-log feed could not read the store; retrying");
        }
    }
}

/// Registers the service.
pub fn register(registry: &mut Registry) {
    registry
        .register(FEEDS, |ctx| async move {
            let spoke = ctx.locate::<SpokeService>(SPOKE)?.spoke().clone();
            let settings = Settings::from_context(&ctx)?;
            Ok(Feeds::new(spoke, &settings, ctx.shutdown_token()))
        })
        .uses([SPOKE]);
}
