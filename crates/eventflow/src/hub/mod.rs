//! The hub: a router between spokes. It never carries the source of truth (the store
//! does); it decides, through one conditional update per batch, which hub routes an event,
//! notifies the subscribed spokes and delivers it to one consuming spoke.
//!
//! * [`config`] — `eventflow.hub`.
//! * [`subscribers`] — the routing table (domain, name, `*`).
//! * `connection`: accepting spokes and peer hubs (mutual TLS, role and revocation
//!   checks) and applying their messages.
//! * `router`: claim → notify subscribers → deliver to one consumer → orphan or settle.
//! * `background`: heartbeat, the redelivery sweep, and the schedule timer.
//! * `peers`: announcing a starting hub to the live peers, which tell their spokes.

mod background;
pub mod config;
mod connection;
mod peers;
mod router;
pub mod subscribers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::certs::{CertificateAuthority, Identity, NodeTls, Role};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids;
use crate::net::Outbox;
use crate::registry::HubRegistration;
use crate::store::EventStore;

pub use config::HubConfig;
pub use subscribers::{ConnId, SubscriberTable};

use router::RouteJob;

/// How long [`Hub::shutdown`] waits for its tasks.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// A running hub. Cheap to clone; [`Hub::shutdown`] stops it.
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<dyn superhero_eventflow::EventStore>) -> superhero_eventflow::Result<()> {
/// use std::sync::Arc;
/// use superhero_eventflow::certs::{CertificateAuthority, CertificatesConfig};
/// use superhero_eventflow::hub::{Hub, HubConfig};
///
/// let authority = Arc::new(CertificateAuthority::new(
///     store.clone(),
///     CertificatesConfig::with_secret("a long random cluster secret"),
/// )?);
/// let hub = Hub::start(store, HubConfig::default(), authority).await?;
/// println!("hub {} listening on {}", hub.id(), hub.local_addr());
/// hub.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("id", &self.inner.id)
            .field("addr", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

/// A connected spoke or peer hub.
pub(crate) struct Connection {
    pub(crate) identity: Identity,
    pub(crate) outbox: Outbox,
    pub(crate) close: CancellationToken,
}

/// What the hub knows about its connections.
#[derive(Default)]
pub(crate) struct HubState {
    pub(crate) connections: BTreeMap<ConnId, Connection>,
    pub(crate) subscribers: SubscriberTable,
    pub(crate) consumers: SubscriberTable,
    /// The consumer groups known to exist (`DeliveryStore::register_consumer`): from this
    /// hub's own consumers and from the store, read at start and with every orphan
    /// release round.
    pub(crate) groups: ConsumerGroups,
    /// Round-robin counter for choosing consumers.
    pub(crate) turn: usize,
}

/// The consumer groups a hub knows of: (domain, name), name `*` for every name.
#[derive(Debug, Default)]
pub(crate) struct ConsumerGroups(std::collections::HashSet<(String, String)>);

impl ConsumerGroups {
    /// Whether some consumer group takes events named `name` of `domain`.
    pub(crate) fn consume(&self, domain: &str, name: &str) -> bool {
        [name, "*"]
            .iter()
            .any(|n| self.0.contains(&(domain.to_owned(), (*n).to_owned())))
    }

    /// Adds a group; true when it was not known.
    pub(crate) fn insert(&mut self, domain: &str, name: &str) -> bool {
        self.0.insert((domain.to_owned(), name.to_owned()))
    }
}

/// Shared by the hub's tasks.
pub(crate) struct HubInner {
    pub(crate) id: String,
    pub(crate) config: HubConfig,
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) tls: Arc<NodeTls>,
    pub(crate) local_addr: SocketAddr,
    pub(crate) external_host: String,
    pub(crate) external_port: u16,
    pub(crate) state: Mutex<HubState>,
    pub(crate) router: mpsc::UnboundedSender<RouteJob>,
    pub(crate) rearm: mpsc::UnboundedSender<Timestamp>,
    pub(crate) token: CancellationToken,
    pub(crate) tasks: TaskTracker,
    pub(crate) span: tracing::Span,
    next_conn: AtomicU64,
}

impl HubInner {
    pub(crate) fn state(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Spawns a task that stops with the hub.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task.instrument(self.span.clone()));
    }
}

impl Hub {
    /// Starts a hub: issues its leaf (creating the cluster's chain when it is the first
    /// hub), listens, registers in the store, starts heartbeat, sweep, schedule timer and
    /// router, and announces itself to the live peer hubs.
    pub async fn start(
        store: Arc<dyn EventStore>,
        config: HubConfig,
        authority: Arc<CertificateAuthority>,
    ) -> Result<Hub> {
        config.validate()?;
        let id = ids::node_id(&config.name)?;
        let span = tracing::info_span!("hub", id = %id);
        Self::start_as(store, config, authority, id, span.clone())
            .instrument(span)
            .await
    }

    async fn start_as(
        store: Arc<dyn EventStore>,
        config: HubConfig,
        authority: Arc<CertificateAuthority>,
        id: String,
        span: tracing::Span,
    ) -> Result<Hub> {
        let tls = NodeTls::establish(authority, &id, Role::Hub).await?;
        let listen = format!("{}:{}", config.internal_host, config.internal_port);
        let listener = TcpListener::bind((config.internal_host.as_str(), config.internal_port))
            .await
            .map_err(|e| Error::io(format!("listen on {listen}"), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::io(format!("read the address of {listen}"), e))?;
        let external_host = config
            .external_host
            .clone()
            .unwrap_or_else(|| config.internal_host.clone());
        let external_port = config.external_port.unwrap_or(local_addr.port());
        let registration = HubRegistration {
            id: id.clone(),
            external_host: external_host.clone(),
            external_port,
            internal_host: config.internal_host.clone(),
            internal_port: local_addr.port(),
        };
        if !store.register_hub(&registration).await? {
            return Err(Error::settings(
                "eventflow/hub/name",
                format!("hub id {id} is registered already"),
            ));
        }
        let mut state = HubState::default();
        for (domain, name) in store.consumer_groups().await? {
            state.groups.insert(&domain, &name);
        }
        let (router_tx, router_rx) = mpsc::unbounded_channel();
        let (rearm_tx, rearm_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(HubInner {
            id,
            config,
            store,
            tls: tls.clone(),
            local_addr,
            external_host,
            external_port,
            state: Mutex::new(state),
            router: router_tx,
            rearm: rearm_tx,
            token: CancellationToken::new(),
            tasks: TaskTracker::new(),
            span,
            next_conn: AtomicU64::new(1),
        });
        inner.spawn(connection::accept_loop(inner.clone(), listener));
        inner.spawn(router::run(inner.clone(), router_rx));
        inner.spawn(background::heartbeat(inner.clone()));
        inner.spawn(background::sweep(inner.clone()));
        inner.spawn(background::schedule(inner.clone(), rearm_rx));
        let renewal = tls.spawn_renewal(inner.token.child_token());
        inner.spawn(async move {
            let _ = renewal.await;
        });
        peers::announce(&inner).await;
        tracing::info!(addr = %inner.local_addr, external = %format!("{}:{}", inner.external_host, inner.external_port), "hub started");
        Ok(Hub { inner })
    }

    /// The hub's id (new at every start).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// The connected spokes and peer hubs, in connection order.
    pub fn connections(&self) -> Vec<Identity> {
        self.inner
            .state()
            .connections
            .values()
            .map(|c| c.identity.clone())
            .collect()
    }

    /// Stops the hub at once, as a crash would: connections drop, nothing is recorded (its
    /// registry row stays until its heartbeat lapses; its route leases lapse too).
    pub async fn kill(&self) {
        let inner = &self.inner;
        inner.token.cancel();
        {
            let mut state = inner.state();
            for connection in state.connections.values() {
                connection.close.cancel();
            }
            state.connections.clear();
        }
        inner.tasks.close();
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, inner.tasks.wait()).await;
        tracing::warn!(parent: &inner.span, "hub killed");
    }

    /// Stops the hub: marks it quit in the registry first (so spokes stop dialling it),
    /// then stops accepting, closes every connection and waits for its tasks.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        if inner.token.is_cancelled() {
            return;
        }
        if let Err(error) = inner.store.quit_hub(&inner.id).await {
            tracing::warn!(parent: &inner.span, code = error.code(), %error, "could not mark the hub quit");
        }
        inner.token.cancel();
        {
            let mut state = inner.state();
            for connection in state.connections.values() {
                connection.close.cancel();
            }
            state.connections.clear();
            state.subscribers.clear();
            state.consumers.clear();
        }
        inner.tasks.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(parent: &inner.span, "hub tasks did not stop in time");
        }
        tracing::info!(parent: &inner.span, "hub stopped");
    }
}
