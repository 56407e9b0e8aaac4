//! Eventflow for tests: throw-away databases removed when dropped, and hub, spoke and
//! certificate settings with short intervals and cheap key sealing, so tests finish
//! quickly yet hold on a loaded 2-core machine.

use serde_json::{Value, json};
use superhero_eventflow::certs::{CertificatesConfig, KdfCost};
use superhero_eventflow::scratch::ScratchDatabase;
use superhero_eventflow::{HubConfig, SpokeConfig, StoreConfig};

use crate::backend::Backend;

/// The test cluster's secret.
pub const SECRET: &str = "test-cluster-secret-0123456789";

/// Certificates with the cheapest key sealing (Argon2 at full cost is slow in debug
/// builds). Never for real secrets.
pub fn certificates() -> CertificatesConfig {
    let mut config = CertificatesConfig::with_secret(SECRET);
    config.kdf = KdfCost::cheapest_for_tests();
    config
}

/// A hub on a free loopback port with short intervals: 200 ms heartbeats, 100 ms
/// sweeps, 1 s route leases, 3 deliveries.
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

/// A spoke with short intervals: 1 s leases, 3 deliveries, quick retries and reconnects.
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

/// The `eventflow` config section of a node with a hub and a spoke on `store`, with the
/// settings above.
pub fn node_settings(store: &StoreConfig) -> Value {
    let kdf = KdfCost::cheapest_for_tests();
    json!({
        "store": without_nulls(json!(store)),
        "certificates": {"secret": SECRET, "kdf": kdf},
        "hub": without_nulls(json!(hub_config())),
        "spoke": without_nulls(json!(spoke_config())),
    })
}

/// The object without its `null` members (unset options stay unset in the config).
fn without_nulls(mut value: Value) -> Value {
    if let Value::Object(members) = &mut value {
        members.retain(|_, member| !member.is_null());
    }
    value
}

/// A fresh, isolated database on a backend, removed when dropped: a SQLite file in a
/// temporary folder, a schema on the PostgreSQL server, a database on the MySQL server.
pub struct Scratch {
    backend: Backend,
    database: Option<ScratchDatabase>,
}

impl Scratch {
    /// Creates the scratch database, its generated name starting with `prefix`; panics
    /// with the reason when the server is unusable.
    pub async fn create(backend: Backend, prefix: &str) -> Scratch {
        let server = backend.required_url();
        let database = ScratchDatabase::create(server.as_deref(), prefix)
            .await
            .unwrap_or_else(|e| panic!("cannot prepare the {backend} test database: {e}"));
        Scratch {
            backend,
            database: Some(database),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A store configuration that opens the scratch database: 16 connections, 30 s to
    /// acquire one (generous for loaded machines).
    pub fn store_config(&self) -> StoreConfig {
        let base = self
            .database
            .as_ref()
            .map(|d| d.config().clone())
            .unwrap_or_default();
        StoreConfig {
            max_connections: 16,
            acquire_timeout_ms: 30_000,
            ..base
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(database) = self.database.take() else {
            return;
        };
        // Drop may run inside a runtime: do the async clean-up on a thread of its own.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a clean-up runtime");
            runtime.block_on(database.remove())
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("warning: could not drop the {} test database", self.backend);
        }
    }
}
