//! Eventflow as superhero-core services, and an embedded hub + spoke for one-process nodes.
//!
//! | service | what it is | config |
//! | --- | --- | --- |
//! | `eventflow/store` | the [`SqlStore`], opened in its factory, closed last | `eventflow.store` |
//! | `eventflow/hub` | a [`Hub`], started by its bootstrap | `eventflow.hub`, `eventflow.certificates` (+ `eventflow.hub.certificates`) |
//! | `eventflow/spoke` | a [`Spoke`], started in its factory so other factories can use it | `eventflow.spoke`, `eventflow.certificates` (+ `eventflow.spoke.certificates`) |
//! | `eventflow/consume` | binds the consumer map to services exposing [`Consumer`] | `eventflow.spoke.consume` (or its bootstrap section) |
//!
//! ```toml
//! [locator]
//! "eventflow/hub" = true        # uses eventflow/store
//! "eventflow/spoke" = true      # uses eventflow/store
//! "eventflow/consume" = true    # uses eventflow/spoke
//!
//! [bootstrap]
//! "eventflow/hub" = true
//! "eventflow/consume" = "eventflow/spoke/consume"
//!
//! [eventflow.store]
//! url = "sqlite://data/eventflow.db"
//! [eventflow.certificates]      # the secret: SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET
//! [eventflow.hub]
//! internal_port = 50001
//! ```

mod consume;
mod embedded;
pub mod settings;

use std::sync::{Arc, Mutex, PoisonError};

use superhero_core::health::Readiness;
use superhero_core::metrics::Collect;
use superhero_core::{BoxError, ConfigSection, Registry, Service, ServiceContext};

use crate::certs::CertificateAuthority;
use crate::error::Result;
use crate::hub::{Hub, HubConfig};
use crate::spoke::{Spoke, SpokeConfig};
use crate::sql::SqlStore;
use crate::status::StatusStore;
use crate::store::EventStore;

pub use consume::{Consumer, bind, handler_not_found, method_name};
pub use embedded::{EmbeddedNode, start_embedded};

/// The store service's name.
pub const STORE: &str = "eventflow/store";
/// The hub service's name.
pub const HUB: &str = "eventflow/hub";
/// The spoke service's name.
pub const SPOKE: &str = "eventflow/spoke";
/// The consume service's name.
pub const CONSUME: &str = "eventflow/consume";

/// Registers the eventflow services (see the module docs).
pub fn register(registry: &mut Registry) {
    registry
        .register(STORE, |ctx: ServiceContext| async move {
            StoreService::open(&ctx).await.map_err(BoxError::from)
        })
        .expose::<dyn Readiness>(|s| s)
        .expose::<dyn Collect>(|s| s);
    registry
        .register(HUB, |ctx: ServiceContext| async move {
            HubService::new(&ctx).map_err(BoxError::from)
        })
        .uses([STORE])
        .expose::<dyn Readiness>(|s| s)
        .expose::<dyn Collect>(|s| s);
    registry
        .register(SPOKE, |ctx: ServiceContext| async move {
            SpokeService::start(&ctx).await.map_err(BoxError::from)
        })
        .uses([STORE])
        .expose::<dyn Readiness>(|s| s)
        .expose::<dyn Collect>(|s| s);
    registry
        .register(CONSUME, |ctx: ServiceContext| async move {
            Ok::<_, BoxError>(ConsumeService {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke.clone(),
                locator: ctx.locator().clone(),
                config: ctx.config().clone(),
            })
        })
        .uses([SPOKE]);
}

/// `eventflow/store`: the shared store.
#[derive(Debug)]
pub struct StoreService {
    store: SqlStore,
    /// The domains the last collection saw a backlog in (their gauges go to zero when it
    /// is gone).
    backlog: Mutex<Vec<String>>,
}

impl StoreService {
    async fn open(ctx: &ServiceContext) -> Result<Self> {
        crate::metrics::describe();
        let config = settings::store(ctx.config())?;
        Ok(StoreService {
            store: SqlStore::open(&config).await?,
            backlog: Mutex::default(),
        })
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn EventStore> {
        Arc::new(self.store.clone())
    }

    /// The store as its concrete type.
    pub fn sql_store(&self) -> &SqlStore {
        &self.store
    }
}

#[superhero_core::async_trait]
impl Service for StoreService {
    async fn destroy(&self) -> std::result::Result<(), BoxError> {
        self.store.close().await;
        Ok(())
    }
}

/// Ready when the database answers and holds the current schema.
#[superhero_core::async_trait]
impl Readiness for StoreService {
    async fn ready(&self) -> std::result::Result<(), String> {
        self.store.ping().await.map_err(|error| error.to_string())
    }
}

/// The pool's usage and the backlog per domain (one aggregate query; on failure the
/// backlog gauges keep their last values and the failure is logged).
#[superhero_core::async_trait]
impl Collect for StoreService {
    async fn collect(&self) {
        let (size, idle, max) = self.store.pool_usage();
        crate::metrics::pool(size, idle, max);
        match self.store.domain_status().await {
            Ok(domains) => {
                let mut previous = self.backlog.lock().unwrap_or_else(PoisonError::into_inner);
                crate::metrics::backlog(crate::clock::Timestamp::now(), &domains, &previous);
                *previous = domains.into_iter().map(|d| d.domain).collect();
            }
            Err(error) => {
                crate::metrics::backlog_refresh_failed();
                tracing::warn!(code = error.code(), %error, "the backlog gauges were not refreshed");
            }
        }
    }
}

/// `eventflow/hub`: a hub, started by bootstrap with its section (`eventflow.hub`).
pub struct HubService {
    store: Arc<dyn EventStore>,
    config: Arc<superhero_core::Config>,
    hub: Mutex<Option<Hub>>,
}

impl HubService {
    fn new(ctx: &ServiceContext) -> Result<Self> {
        let store = ctx
            .locate::<StoreService>(STORE)
            .map_err(|e| crate::error::Error::settings(STORE, e.to_string()))?
            .store();
        Ok(HubService {
            store,
            config: ctx.config().clone(),
            hub: Mutex::new(None),
        })
    }

    /// The running hub (after bootstrap).
    pub fn hub(&self) -> Option<Hub> {
        self.hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[superhero_core::async_trait]
impl Service for HubService {
    async fn bootstrap(&self, section: ConfigSection) -> std::result::Result<(), BoxError> {
        let hub_config: HubConfig = if section.is_present() {
            section.deserialize()?
        } else {
            settings::section(&self.config, settings::HUB_KEY)?
        };
        let certificates = settings::certificates(&self.config, settings::HUB_KEY)?;
        let authority = Arc::new(CertificateAuthority::new(self.store.clone(), certificates)?);
        let hub = Hub::start(self.store.clone(), hub_config, authority).await?;
        *self.hub.lock().unwrap_or_else(PoisonError::into_inner) = Some(hub);
        Ok(())
    }

    async fn destroy(&self) -> std::result::Result<(), BoxError> {
        let hub = self
            .hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        Ok(())
    }
}

/// Ready once bootstrap started the hub (and until it stops).
#[superhero_core::async_trait]
impl Readiness for HubService {
    async fn ready(&self) -> std::result::Result<(), String> {
        match self.hub() {
            Some(_) => Ok(()),
            None => Err("the hub is not started".to_owned()),
        }
    }
}

/// The hub's connections by role.
#[superhero_core::async_trait]
impl Collect for HubService {
    async fn collect(&self) {
        if let Some(hub) = self.hub() {
            let connections = hub.connections();
            let spokes = connections
                .iter()
                .filter(|c| c.role == crate::certs::Role::Spoke)
                .count();
            crate::metrics::hub_connections(spokes, connections.len() - spokes);
        }
    }
}

/// `eventflow/spoke`: a spoke, running from construction (`eventflow.spoke`).
#[derive(Debug)]
pub struct SpokeService {
    spoke: Spoke,
}

impl SpokeService {
    async fn start(ctx: &ServiceContext) -> Result<Self> {
        let store = ctx
            .locate::<StoreService>(STORE)
            .map_err(|e| crate::error::Error::settings(STORE, e.to_string()))?
            .store();
        let config: SpokeConfig = settings::section(ctx.config(), settings::SPOKE_KEY)?;
        let certificates = settings::certificates(ctx.config(), settings::SPOKE_KEY)?;
        let authority = Arc::new(CertificateAuthority::new(store.clone(), certificates)?);
        Ok(SpokeService {
            spoke: Spoke::start(store, config, authority).await?,
        })
    }

    /// The spoke.
    pub fn spoke(&self) -> &Spoke {
        &self.spoke
    }
}

#[superhero_core::async_trait]
impl Service for SpokeService {
    async fn destroy(&self) -> std::result::Result<(), BoxError> {
        self.spoke.shutdown().await;
        Ok(())
    }
}

/// Ready while the spoke is connected to at least one hub (it can publish durably without
/// one, but nothing is routed: events wait in the store).
#[superhero_core::async_trait]
impl Readiness for SpokeService {
    async fn ready(&self) -> std::result::Result<(), String> {
        if self.spoke.connected_hubs().is_empty() {
            Err("no hub connected".to_owned())
        } else {
            Ok(())
        }
    }
}

/// The hubs the spoke is connected to.
#[superhero_core::async_trait]
impl Collect for SpokeService {
    async fn collect(&self) {
        crate::metrics::spoke_hubs(self.spoke.connected_hubs().len());
    }
}

/// `eventflow/consume`: binds the consumer map (its bootstrap section, else
/// `eventflow.spoke.consume`) to [`Consumer`] services.
pub struct ConsumeService {
    spoke: Spoke,
    locator: superhero_core::Locator,
    config: Arc<superhero_core::Config>,
}

#[superhero_core::async_trait]
impl Service for ConsumeService {
    async fn bootstrap(&self, section: ConfigSection) -> std::result::Result<(), BoxError> {
        let key = format!("{}/consume", settings::SPOKE_KEY);
        let (map, key) = match section.value() {
            Some(value) => (value.clone(), section.path().to_owned()),
            None => match self.config.find(&key) {
                Some(value) => (value.clone(), key),
                None => return Ok(()),
            },
        };
        let bound = bind(&self.spoke, &self.locator, &map, &key)?;
        tracing::info!(bound, "consumer map bound");
        Ok(())
    }
}
