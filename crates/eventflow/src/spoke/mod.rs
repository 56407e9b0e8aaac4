//! The spoke: the client library every application process embeds. It writes and reads
//! the store directly and talks to every live hub.
//!
//! * `publish` commits the event and its publication in one transaction (concurrent
//!   publishes are coalesced into one transaction, each caller getting its own result),
//!   then tells one connected hub. With no hub reachable the event is still durable and a
//!   hub's sweep routes it when one appears.
//! * `subscribe` is broadcast: every subscribed spoke is notified of every matching event
//!   (`*` for every name of a domain). Subscribers never claim anything.
//! * `consume` is competing: each event is handled by exactly one consumer across all
//!   spokes. `Ok` records success; `Err` retries with backoff; a crash or hang is caught
//!   when the lease lapses; after `max_deliveries` deliveries the event is parked.
//! * `wait` resolves with the first matching event of a process, written before or after
//!   the call; `schedule` publishes at a due time.
//!
//! Modules: [`config`], [`listeners`], `links` (one connection task per hub with
//! reconnect backoff and re-subscription), `publisher` (group commit), `consume`
//! (claim → handle → record), `subscription`, `wait`.

pub mod config;
mod consume;
mod links;
pub mod listeners;
mod publisher;
mod subscription;
mod wait;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use superhero_core::BoxError;
use tokio::sync::{OnceCell, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;
use uuid::Uuid;

use crate::certs::{CertificateAuthority, NodeTls, Role};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::event::{AppendRequest, Appended, Event, Intent, NewEvent, check_key};
use crate::ids;
use crate::net::{Message, Outbox};
use crate::store::EventStore;

pub use config::SpokeConfig;
use listeners::{Consumers, Handler, Listeners, SubId};
pub use subscription::Subscription;

/// A spoke. Cheap to clone (clones share the connections); [`Spoke::shutdown`] stops it.
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<dyn superhero_eventflow::EventStore>) -> superhero_eventflow::Result<()> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use superhero_eventflow::certs::{CertificateAuthority, CertificatesConfig};
/// use superhero_eventflow::spoke::{Spoke, SpokeConfig};
/// use superhero_eventflow::NewEvent;
///
/// let authority = Arc::new(CertificateAuthority::new(
///     store.clone(),
///     CertificatesConfig::with_secret("a long random cluster secret"),
/// )?);
/// let spoke = Spoke::start(store, SpokeConfig::default(), authority).await?;
/// spoke.consume("order", "order-placed", |event| async move {
///     println!("handling {}", event.id);
///     Ok(())
/// })?;
/// spoke.publish(NewEvent::new("order", "o-1", "order-placed")).await?;
/// let done = spoke.wait("order", "o-1", &["order-shipped"], Duration::from_secs(5)).await;
/// # let _ = done;
/// spoke.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Spoke {
    inner: Arc<SpokeInner>,
}

impl std::fmt::Debug for Spoke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spoke")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

/// A connection to one hub (or the task trying to make one).
pub(crate) struct Link {
    pub(crate) outbox: Option<Outbox>,
}

/// The spoke's tables.
#[derive(Default)]
pub(crate) struct SpokeState {
    pub(crate) links: HashMap<String, Link>,
    pub(crate) subscriptions: Listeners,
    pub(crate) consumers: Consumers,
    pub(crate) turn: usize,
}

/// Shared by the spoke's tasks.
pub(crate) struct SpokeInner {
    pub(crate) id: String,
    pub(crate) config: SpokeConfig,
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) authority: Arc<CertificateAuthority>,
    pub(crate) tls: OnceCell<Arc<NodeTls>>,
    pub(crate) state: Mutex<SpokeState>,
    pub(crate) publisher: mpsc::UnboundedSender<publisher::Request>,
    pub(crate) deliveries: mpsc::UnboundedSender<Event>,
    pub(crate) syncs: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    pub(crate) handler_slots: Arc<Semaphore>,
    /// Events whose handler runs in this spoke now: never claimed a second time here.
    pub(crate) running: Arc<Mutex<std::collections::HashSet<Uuid>>>,
    /// Stops connections and the registry poll.
    pub(crate) token: CancellationToken,
    /// Stops claiming deliveries.
    pub(crate) stop_consuming: CancellationToken,
    /// Stops the publisher (after it committed what is queued).
    pub(crate) stop_publishing: CancellationToken,
    /// Drops running handlers mid-flight ([`Spoke::kill`]).
    pub(crate) killed: CancellationToken,
    pub(crate) tasks: TaskTracker,
    pub(crate) handlers: TaskTracker,
    pub(crate) span: tracing::Span,
    next_id: AtomicU64,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl SpokeInner {
    /// The background tasks, handed over once (shutdown or kill).
    fn take_background(&self) -> Vec<tokio::task::JoinHandle<()>> {
        std::mem::take(
            &mut *self
                .background
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, SpokeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Spawns a task that stops with the connections.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task.instrument(self.span.clone()));
    }

    /// This spoke's TLS identity, established on first use (the chain must exist: a hub
    /// creates it).
    pub(crate) async fn tls(self: &Arc<Self>) -> Result<Arc<NodeTls>> {
        self.tls
            .get_or_try_init(|| async {
                let tls = NodeTls::establish(self.authority.clone(), &self.id, Role::Spoke).await?;
                let renewal = tls.spawn_renewal(self.token.child_token());
                self.tasks.spawn(async move {
                    let _ = renewal.await;
                });
                Ok::<_, Error>(tls)
            })
            .await
            .cloned()
    }

    /// Sends `message` to every connected hub.
    pub(crate) fn broadcast(&self, message: &Message) {
        let state = self.state();
        for link in state.links.values() {
            if let Some(outbox) = &link.outbox {
                outbox.send(message.clone());
            }
        }
    }

    /// One connected hub, in turn; `None` when none is connected.
    pub(crate) fn pick_hub(&self) -> Option<Outbox> {
        let mut state = self.state();
        let connected: Vec<Outbox> = state
            .links
            .values()
            .filter_map(|link| link.outbox.clone())
            .collect();
        if connected.is_empty() {
            return None;
        }
        state.turn = state.turn.wrapping_add(1);
        Some(connected[state.turn % connected.len()].clone())
    }

    fn unsubscribe(&self, id: SubId) {
        let emptied = self.state().subscriptions.remove(id);
        for (domain, name) in emptied {
            self.broadcast(&Message::Unsubscribe { domain, name });
        }
    }
}

impl Spoke {
    /// Starts a spoke: connects to every live hub in the background (and to hubs that
    /// start later), and starts the publisher and the consumer dispatcher. It does not
    /// wait for a hub: publishing works (durably) without one.
    pub async fn start(
        store: Arc<dyn EventStore>,
        config: SpokeConfig,
        authority: Arc<CertificateAuthority>,
    ) -> Result<Spoke> {
        config.validate()?;
        let id = ids::node_id(&config.name)?;
        let span = tracing::info_span!("spoke", id = %id);
        let (publish_tx, publish_rx) = mpsc::unbounded_channel();
        let (deliver_tx, deliver_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(SpokeInner {
            id,
            handler_slots: Arc::new(Semaphore::new(config.concurrency)),
            running: Arc::default(),
            config,
            store,
            authority,
            tls: OnceCell::new(),
            state: Mutex::new(SpokeState::default()),
            publisher: publish_tx,
            deliveries: deliver_tx,
            syncs: Mutex::new(HashMap::new()),
            token: CancellationToken::new(),
            stop_consuming: CancellationToken::new(),
            stop_publishing: CancellationToken::new(),
            killed: CancellationToken::new(),
            tasks: TaskTracker::new(),
            handlers: TaskTracker::new(),
            span: span.clone(),
            next_id: AtomicU64::new(1),
            background: Mutex::new(Vec::new()),
        });
        async {
            match inner.tls().await {
                Ok(_) | Err(Error::ChainMissing) => {}
                Err(error) => return Err(error),
            }
            let (outcome_tx, outcome_rx) = mpsc::unbounded_channel();
            let background = vec![
                tokio::spawn(publisher::run(inner.clone(), publish_rx).in_current_span()),
                tokio::spawn(
                    consume::dispatch(inner.clone(), deliver_rx, outcome_tx).in_current_span(),
                ),
                tokio::spawn(consume::complete(inner.clone(), outcome_rx).in_current_span()),
            ];
            *inner
                .background
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = background;
            inner.spawn(links::poll_hubs(inner.clone()));
            tracing::info!("spoke started");
            Ok(())
        }
        .instrument(span)
        .await?;
        Ok(Spoke { inner })
    }

    /// The spoke's id (new at every start).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The store this spoke reads and writes: every read of [`crate::EventLog`] (event-log
    /// by process, time range, names, child process, entity; distinct pids; catch-up by
    /// position; projected state) is available here.
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.inner.store
    }

    /// The ids of the hubs this spoke is connected to now.
    pub fn connected_hubs(&self) -> Vec<String> {
        let mut hubs: Vec<String> = self
            .inner
            .state()
            .links
            .iter()
            .filter(|(_, link)| link.outbox.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        hubs.sort();
        hubs
    }

    /// Publishes an event: appends it with its publication in one transaction (shared with
    /// concurrent publishes), then notifies a hub. Returns once the event is committed.
    pub async fn publish(&self, event: NewEvent) -> Result<Appended> {
        self.commit(event, false).await
    }

    /// Announces an event: appends it without delivery bookkeeping (shared with
    /// concurrent announcements), then tells a hub, which passes it once to the spokes
    /// subscribed to it. No consumer handles it, nothing is retried; a subscriber that
    /// misses the notice (no hub connected, a reconnect) finds the event in the store by
    /// position. For records that are read, not processed: activity, audit, metrics.
    /// Returns once the event is committed.
    pub async fn announce(&self, event: NewEvent) -> Result<Appended> {
        self.commit(event, true).await
    }

    async fn commit(&self, event: NewEvent, announce: bool) -> Result<Appended> {
        if self.inner.stop_publishing.is_cancelled() {
            return Err(Error::Destroyed { what: "spoke" });
        }
        event.validate()?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .publisher
            .send(publisher::Request {
                event,
                reply,
                announce,
            })
            .map_err(|_| Error::Destroyed { what: "spoke" })?;
        answer
            .await
            .map_err(|_| Error::Destroyed { what: "spoke" })?
    }

    /// Publishes a batch (optionally with an expected version) in its own transaction.
    /// The request's intent is replaced by "published by this spoke".
    pub async fn publish_all(&self, mut request: AppendRequest) -> Result<Vec<Appended>> {
        request.intent = Intent::Publish {
            publisher: self.inner.id.clone(),
        };
        let events = request.events.clone();
        let appended = self.inner.store.append(request).await?;
        publisher::notify(&self.inner, publisher::events_of(events, &appended));
        Ok(appended)
    }

    /// Appends an event without publishing it (nobody is notified).
    pub async fn persist(&self, event: NewEvent) -> Result<Appended> {
        self.inner.store.append_one(event).await
    }

    /// Schedules `event`: appended now, published at `at` (woken by the earliest due time
    /// at every hub; executed by exactly one).
    pub async fn schedule(&self, at: Timestamp, event: NewEvent) -> Result<Appended> {
        let appended = self.inner.store.schedule(event, &self.inner.id, at).await?;
        self.inner.broadcast(&Message::Scheduled { due: at });
        Ok(appended)
    }

    /// Subscribes to events named `name` (or `*`) of `domain`: every subscribed spoke is
    /// notified of each such event published from now on. Dropping the subscription
    /// unsubscribes.
    ///
    /// Notices are signals, not a log: one is missed while the spoke is not connected to
    /// the hub that routes the event, and can come twice when that hub's route lease lapses
    /// before it settled the event (the sweep routes it again). A reader that needs every
    /// event exactly once follows the store by position and takes notices as a cue to read
    /// (as the event-log streams do); consumers ([`Spoke::consume`]) get each event exactly
    /// once.
    pub fn subscribe(&self, domain: &str, name: &str) -> Result<Subscription> {
        self.subscribe_names(domain, &[name])
    }

    pub(crate) fn subscribe_names(&self, domain: &str, names: &[&str]) -> Result<Subscription> {
        self.subscribe_process(domain, names, None)
    }

    /// Subscribes to `names` of `domain`, limited to process `pid` if given (a `wait`'s:
    /// only that process's events are sent to it).
    pub(crate) fn subscribe_process(
        &self,
        domain: &str,
        names: &[&str],
        pid: Option<&str>,
    ) -> Result<Subscription> {
        check_key("domain", domain)?;
        for name in names {
            check_key("name", name)?;
        }
        let inner = &self.inner;
        let id = inner.next_id();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut first = Vec::new();
        {
            let mut state = inner.state();
            for name in names {
                if state.subscriptions.add(id, domain, name, pid, tx.clone()) {
                    first.push((*name).to_owned());
                }
            }
        }
        for name in first {
            inner.broadcast(&Message::Subscribe {
                domain: domain.to_owned(),
                name: name.clone(),
            });
            inner.state().subscriptions.told(domain, &name);
        }
        Ok(Subscription {
            rx,
            id,
            inner: inner.clone(),
        })
    }

    /// Consumes events named `name` (or `*`) of `domain`: each is handled by exactly one
    /// consumer across all spokes. `Ok` records success; `Err` retries later with backoff;
    /// a handler that panics counts as an `Err`; one that hangs loses the event when its
    /// lease lapses. One consumer per (domain, name) per spoke.
    ///
    /// The first hub told of it records the consumer group (`DeliveryStore::
    /// register_consumer`): from then on the group's events wait for a consumer while none
    /// is connected (restarting, cut off, connected to another hub), even when subscribers
    /// took them. Groups are durable, like a broker's durable queue: a group no spoke
    /// consumes any more keeps its new events as orphans (`superhero status` shows them).
    ///
    /// Across crashes delivery is at least once: a consumer killed after its handler's
    /// effect and before the success is recorded (or whose recording meets an unreachable
    /// store) leaves the event to be delivered again once the lease lapses; make handlers
    /// idempotent by the event id where that matters.
    pub fn consume<F, Fut>(&self, domain: &str, name: &str, handler: F) -> Result<()>
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), BoxError>> + Send + 'static,
    {
        check_key("domain", domain)?;
        check_key("name", name)?;
        let handler: Handler = Arc::new(move |event| Box::pin(handler(event)));
        if !self.inner.state().consumers.add(domain, name, handler) {
            return Err(Error::ConsumerExists {
                domain: domain.to_owned(),
                name: name.to_owned(),
            });
        }
        self.inner.broadcast(&Message::Consume {
            domain: domain.to_owned(),
            name: name.to_owned(),
        });
        tracing::debug!(parent: &self.inner.span, %domain, %name, "consuming");
        Ok(())
    }

    /// Stops consuming (`domain`, `name`); false when this spoke did not consume it.
    pub fn unconsume(&self, domain: &str, name: &str) -> bool {
        let removed = self.inner.state().consumers.remove(domain, name);
        if removed {
            self.inner.broadcast(&Message::Unconsume {
                domain: domain.to_owned(),
                name: name.to_owned(),
            });
        }
        removed
    }

    /// Waits for the first event of process `pid` in `domain` whose name is one of
    /// `names`, written before the call or within `timeout`; `E_EVENTFLOW_WAIT_TIMEOUT`
    /// otherwise. Waiting never takes a consume claim.
    pub async fn wait(
        &self,
        domain: &str,
        pid: &str,
        names: &[&str],
        timeout: Duration,
    ) -> Result<Event> {
        wait::wait(self, domain, pid, names, timeout, |_| true).await
    }

    /// Waits for the reply to the request event `request`: the first event of process
    /// `pid` in `domain` named one of `names` whose `rid` is `request` (the handler sets
    /// it with `NewEvent::with_rid`), written before the call or within `timeout`. Unlike
    /// [`Spoke::wait`], an earlier command's outcome on the same process is not taken for
    /// this one's.
    pub async fn wait_for_reply(
        &self,
        domain: &str,
        pid: &str,
        names: &[&str],
        request: Uuid,
        timeout: Duration,
    ) -> Result<Event> {
        wait::wait(self, domain, pid, names, timeout, |event| {
            event.rid == Some(request)
        })
        .await
    }

    /// Returns once every connected hub has applied this spoke's earlier messages
    /// (subscriptions, consumers), or after `timeout`.
    pub async fn sync(&self, timeout: Duration) {
        wait::sync(&self.inner, timeout).await;
    }

    /// The event with this id.
    pub async fn read(&self, id: Uuid) -> Result<Event> {
        self.inner.store.read_event(id).await
    }

    /// The event-log of a process, in version order.
    pub async fn read_eventlog(&self, domain: &str, pid: &str) -> Result<Vec<Event>> {
        self.inner.store.read_stream(domain, pid).await
    }

    /// The projected state of a process.
    pub async fn read_state(&self, domain: &str, pid: &str) -> Result<serde_json::Value> {
        self.inner.store.read_state(domain, pid).await
    }

    /// Stops the spoke: stops claiming deliveries, lets running handlers finish (up to
    /// `shutdown_drain_ms`; the rest are abandoned to their lease), records their outcomes,
    /// commits queued publishes, then closes the hub connections.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        if inner.stop_consuming.is_cancelled() {
            return;
        }
        inner.stop_consuming.cancel();
        inner.handlers.close();
        let drain = Duration::from_millis(inner.config.shutdown_drain_ms);
        if tokio::time::timeout(drain, inner.handlers.wait())
            .await
            .is_err()
        {
            tracing::warn!(parent: &inner.span, "handlers still running at shutdown; their events are redelivered after the lease");
        }
        inner.stop_publishing.cancel();
        let background = inner.take_background();
        for task in background {
            if tokio::time::timeout(drain, task).await.is_err() {
                tracing::warn!(parent: &inner.span, "a spoke task did not stop in time");
            }
        }
        inner.token.cancel();
        // Subscriptions end (`recv` gives `None`).
        inner.state().subscriptions = Listeners::default();
        inner.tasks.close();
        if tokio::time::timeout(drain, inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(parent: &inner.span, "spoke connections did not close in time");
        }
        tracing::info!(parent: &inner.span, "spoke stopped");
    }

    /// Stops the spoke at once, as a crash would: running handlers are abandoned (their
    /// events are redelivered when the lease lapses), nothing more is recorded.
    pub async fn kill(&self) {
        let inner = &self.inner;
        inner.killed.cancel();
        inner.stop_consuming.cancel();
        inner.stop_publishing.cancel();
        inner.token.cancel();
        let background = inner.take_background();
        for task in background {
            task.abort();
        }
        inner.state().subscriptions = Listeners::default();
        inner.handlers.close();
        inner.tasks.close();
        tracing::warn!(parent: &inner.span, "spoke killed");
    }
}
