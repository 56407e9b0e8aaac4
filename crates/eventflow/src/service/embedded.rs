//! A hub and a spoke in one process on one store, from a [`Config`]: what an all-in-one
//! node (`superhero demo`) mounts.

use std::sync::Arc;

use superhero_core::Config;

use super::settings;
use crate::certs::CertificateAuthority;
use crate::error::Result;
use crate::hub::{Hub, HubConfig};
use crate::spoke::{Spoke, SpokeConfig};
use crate::sql::SqlStore;
use crate::store::EventStore;

/// A running store + hub + spoke.
#[derive(Debug, Clone)]
pub struct EmbeddedNode {
    /// The store.
    pub store: SqlStore,
    /// The hub.
    pub hub: Hub,
    /// The spoke (publish, subscribe, consume, wait, schedule, reads).
    pub spoke: Spoke,
}

impl EmbeddedNode {
    /// Stops the spoke, then the hub, then closes the store.
    pub async fn shutdown(&self) {
        self.spoke.shutdown().await;
        self.hub.shutdown().await;
        self.store.close().await;
    }
}

/// Opens `eventflow.store` (default: SQLite under `./data`), starts a hub
/// (`eventflow.hub`) and a spoke (`eventflow.spoke`) with `eventflow.certificates`.
///
/// ```no_run
/// # async fn demo() -> superhero_eventflow::Result<()> {
/// use serde_json::json;
/// use superhero_core::Config;
///
/// let config = Config::builder()
///     .add_value("demo", json!({"eventflow": {
///         "certificates": {"secret": "a long random cluster secret"},
///         "hub": {"internal_port": 0}
///     }}))
///     .build()
///     .expect("config");
/// let node = superhero_eventflow::service::start_embedded(&config).await?;
/// node.spoke.publish(superhero_eventflow::NewEvent::new("demo", "p-1", "hello")).await?;
/// node.shutdown().await;
/// # Ok(()) }
/// ```
pub async fn start_embedded(config: &Config) -> Result<EmbeddedNode> {
    let store = SqlStore::open(&settings::store(config)?).await?;
    let shared: Arc<dyn EventStore> = Arc::new(store.clone());
    let hub_config: HubConfig = settings::section(config, settings::HUB_KEY)?;
    let spoke_config: SpokeConfig = settings::section(config, settings::SPOKE_KEY)?;
    let hub_authority = Arc::new(CertificateAuthority::new(
        shared.clone(),
        settings::certificates(config, settings::HUB_KEY)?,
    )?);
    let spoke_authority = Arc::new(CertificateAuthority::new(
        shared.clone(),
        settings::certificates(config, settings::SPOKE_KEY)?,
    )?);
    let hub = Hub::start(shared.clone(), hub_config, hub_authority).await?;
    let spoke = match Spoke::start(shared, spoke_config, spoke_authority).await {
        Ok(spoke) => spoke,
        Err(error) => {
            hub.shutdown().await;
            return Err(error);
        }
    };
    Ok(EmbeddedNode { store, hub, spoke })
}
