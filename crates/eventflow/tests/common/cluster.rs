//! Hub-and-spoke scaffolding: a store on a backend, a certificate authority with cheap key
//! sealing, hubs and spokes with short intervals, and polling helpers with generous
//! deadlines (the tests must hold on a loaded 2-core machine).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use superhero_eventflow::certs::{CertificateAuthority, CertificatesConfig, KdfCost};
use superhero_eventflow::{EventStore, Hub, HubConfig, Spoke, SpokeConfig};
use uuid::Uuid;

use super::{Db, Harness};

/// The test cluster's secret.
pub const SECRET: &str = "test-cluster-secret-0123456789";

/// Certificates with the cheapest key sealing (Argon2 at full cost is slow in debug builds).
pub fn certificates() -> CertificatesConfig {
    let mut config = CertificatesConfig::with_secret(SECRET);
    config.kdf = KdfCost::cheapest_for_tests();
    config
}

/// A hub on a free loopback port with short intervals.
pub fn hub_config() -> HubConfig {
    HubConfig {
        internal_port: 0,
        heartbeat_ms: 200,
        hub_ttl_ms: 2_000,
        sweep_ms: 100,
        route_lease_ms: 1_000,
        max_deliveries: 3,
        schedule_recheck_ms: 1_000,
        peer_timeout_ms: 3_000,
        ..HubConfig::default()
    }
}

/// A spoke with short intervals: 1 s leases, 3 deliveries, quick retries.
pub fn spoke_config() -> SpokeConfig {
    SpokeConfig {
        hub_poll_ms: 100,
        hub_ttl_ms: 2_000,
        connect_timeout_ms: 3_000,
        reconnect_min_ms: 50,
        reconnect_max_ms: 500,
        lease_ms: 1_000,
        max_deliveries: 3,
        retry_min_ms: 50,
        retry_max_ms: 200,
        wait_recheck_ms: 200,
        shutdown_drain_ms: 2_000,
        ..SpokeConfig::default()
    }
}

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

/// Polls `check` every 20 ms until it is true; panics with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// Declares, for each async fn `name(db: Db)`, a module `name` with one end-to-end test
/// per backend (the PostgreSQL and MySQL variants ignored when their URL is unset).
#[allow(unused_macros)]
macro_rules! end_to_end {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::common::Db;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Db::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(eventflow_no_postgres, ignore = "skipped: EVENTFLOW_TEST_POSTGRES_URL not set")]
                async fn postgres() {
                    super::$name(Db::Postgres).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(eventflow_no_mysql, ignore = "skipped: EVENTFLOW_TEST_MYSQL_URL not set")]
                async fn mysql() {
                    super::$name(Db::MySql).await;
                }
            }
        )*
    };
}
