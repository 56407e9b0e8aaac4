//! Hub-and-spoke scaffolding: a store on a backend, a certificate authority with cheap key
//! sealing, hubs and spokes with the kit's short intervals
//! (`superhero_testkit::eventflow`), a counting consumer, and waiting until a spoke is
//! connected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use superhero_eventflow::certs::CertificateAuthority;
use superhero_eventflow::{EventStore, Hub, HubConfig, Spoke, SpokeConfig};
pub use superhero_testkit::eventflow::{certificates, hub_config, spoke_config};
pub use superhero_testkit::eventually;
use uuid::Uuid;

use super::{Db, Harness};

/// One store (a fresh database) and the cluster's certificate authority.
pub struct Cluster {
    pub harness: Harness,
    pub store: Arc<dyn EventStore>,
    pub authority: Arc<CertificateAuthority>,
}

impl Cluster {
    /// A fresh cluster on `db` (real time).
    pub async fn new(db: Db) -> Cluster {
        let harness = Harness::realtime(db).await;
        let store: Arc<dyn EventStore> = Arc::new(harness.store.clone());
        let authority = Arc::new(
            CertificateAuthority::new(store.clone(), certificates()).expect("an authority"),
        );
        Cluster {
            harness,
            store,
            authority,
        }
    }

    /// Starts a hub with the test settings.
    pub async fn hub(&self) -> Hub {
        self.hub_with(hub_config()).await
    }

    /// Starts a hub with `config`.
    pub async fn hub_with(&self, config: HubConfig) -> Hub {
        Hub::start(self.store.clone(), config, self.authority.clone())
            .await
            .unwrap_or_else(|e| panic!("hub start: {e} ({})", e.code()))
    }

    /// Starts a spoke with the test settings.
    pub async fn spoke(&self) -> Spoke {
        self.spoke_with(spoke_config()).await
    }

    /// Starts a spoke with `config`.
    pub async fn spoke_with(&self, config: SpokeConfig) -> Spoke {
        Spoke::start(self.store.clone(), config, self.authority.clone())
            .await
            .unwrap_or_else(|e| panic!("spoke start: {e} ({})", e.code()))
    }
}

/// How many times each event was handled, across every spoke counting into it.
pub type Handled = Arc<Mutex<HashMap<Uuid, usize>>>;

/// Makes `spoke` consume (`domain`, `name`), counting each handled event into `handled`.
pub fn count_handled(spoke: &Spoke, domain: &str, name: &str, handled: &Handled) {
    let handled = handled.clone();
    spoke
        .consume(domain, name, move |event| {
            let handled = handled.clone();
            async move {
                *handled.lock().unwrap().entry(event.id).or_default() += 1;
                Ok(())
            }
        })
        .unwrap();
}

/// Waits until `spoke` is connected to `hubs` hubs, then syncs (its registrations are
/// applied at every hub).
pub async fn connected(spoke: &Spoke, hubs: usize) {
    eventually(
        Duration::from_secs(20),
        "the spoke is connected",
        || async { spoke.connected_hubs().len() >= hubs },
    )
    .await;
    spoke.sync(Duration::from_secs(5)).await;
}
