//! [`TestNode`]: a real node in the test's process, as `superhero run` would start it —
//! superhero-core with the HTTP service on an ephemeral loopback port, the mounted apps,
//! and (with [`TestNodeBuilder::eventflow`]) an embedded hub and spoke on a scratch
//! database of the chosen backend, removed afterwards.
//!
//! ```no_run
//! # async fn demo(app: superhero_app::App) {
//! use superhero_testkit::{Backend, TestNode};
//!
//! let node = TestNode::builder().app(app).eventflow(Backend::Sqlite).start().await;
//! let reply = node.get("/ping").await;
//! assert_eq!(reply.status, 200);
//! node.shutdown().await;
//! # }
//! ```

use std::net::SocketAddr;

use serde_json::{Value, json};
use superhero_app::App;
use superhero_core::config::{Config, ConfigBuilder};
use superhero_core::{Core, Locator, Registry, Running};
use superhero_eventflow::service::SpokeService;
use superhero_eventflow::{Spoke, StoreConfig};
use superhero_http::service::HttpService;

use crate::backend::Backend;
use crate::eventflow::{Scratch, node_settings};
use crate::http::{Client, Proto, Reply};

type Layer = Box<dyn FnOnce(ConfigBuilder) -> ConfigBuilder>;
type Registration = Box<dyn FnOnce(&mut Registry)>;

/// Builds a [`TestNode`].
#[must_use]
pub struct TestNodeBuilder {
    apps: Vec<App>,
    registrations: Vec<Registration>,
    layers: Vec<Layer>,
    eventflow: Option<Backend>,
    join: Option<StoreConfig>,
}

/// A running node; shut it down with [`TestNode::shutdown`] (its scratch database is
/// removed then, or when it is dropped).
pub struct TestNode {
    running: Running,
    addr: Option<SocketAddr>,
    store: Option<StoreConfig>,
    // Declared last: dropped after the node's services.
    scratch: Option<Scratch>,
}

impl TestNode {
    /// A builder with nothing mounted.
    pub fn builder() -> TestNodeBuilder {
        TestNodeBuilder {
            apps: Vec::new(),
            registrations: Vec::new(),
            layers: Vec::new(),
            eventflow: None,
            join: None,
        }
    }

    /// The HTTP server's address; panics when the node serves no HTTP.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the node runs the http service")
    }

    /// A new connection to the node speaking `proto`.
    pub async fn client(&self, proto: &Proto) -> Client {
        Client::connect(self.addr(), proto).await
    }

    /// `GET path` over HTTP/1.1 on a new connection.
    pub async fn get(&self, path: &str) -> Reply {
        crate::http::get(self.addr(), path).await
    }

    /// The running node (its config, its deadline).
    pub fn running(&self) -> &Running {
        &self.running
    }

    /// The node's services.
    pub fn locator(&self) -> &Locator {
        self.running.locator()
    }

    /// The node's spoke; panics without [`TestNodeBuilder::eventflow`].
    pub fn spoke(&self) -> Spoke {
        self.locator()
            .locate::<SpokeService>(superhero_eventflow::service::SPOKE)
            .expect("the node runs eventflow/spoke")
            .spoke()
            .clone()
    }

    /// How to open the node's store (for a second spoke or process); panics without
    /// [`TestNodeBuilder::eventflow`].
    pub fn store_config(&self) -> &StoreConfig {
        self.store.as_ref().expect("the node runs eventflow")
    }

    /// Shuts the node down (reverse construction order, within its deadline); panics when
    /// a service fails to stop.
    pub async fn shutdown(self) {
        let TestNode {
            running, scratch, ..
        } = self;
        running.shutdown().await.expect("the node stops cleanly");
        drop(scratch);
    }
}

impl TestNodeBuilder {
    /// Mounts `app`: registers its services and adds its wiring.
    pub fn app(mut self, app: App) -> Self {
        self.apps.push(app);
        self
    }

    /// Registers more services (a test's own dispatchers or consumers).
    pub fn register(mut self, register: impl FnOnce(&mut Registry) + 'static) -> Self {
        self.registrations.push(Box::new(register));
        self
    }

    /// Lays `value` over the config (after the apps' wiring and the test defaults).
    pub fn config(self, value: Value) -> Self {
        self.with(move |builder| builder.add_value("test config", value))
    }

    /// Adjusts the config builder (to add a file, say).
    pub fn with(mut self, layer: impl FnOnce(ConfigBuilder) -> ConfigBuilder + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Runs an embedded hub and the spoke on a scratch database of `backend`.
    pub fn eventflow(mut self, backend: Backend) -> Self {
        self.eventflow = Some(backend);
        self
    }

    /// Runs a hub and the spoke on the existing store `store` (another node's, say, to
    /// play a second process of one cluster); nothing is removed afterwards.
    pub fn join(mut self, store: StoreConfig) -> Self {
        self.join = Some(store);
        self
    }

    /// Starts the node; panics with the error when it cannot.
    pub async fn start(self) -> TestNode {
        match self.try_start().await {
            Ok(node) => node,
            Err(error) => panic!(
                "the test node did not start: {}",
                superhero_core::report(&error)
            ),
        }
    }

    /// Starts the node, or says why it cannot (for tests of start-up errors).
    pub async fn try_start(self) -> superhero_core::Result<TestNode> {
        let mut registry = Registry::new();
        superhero_http::service::register(&mut registry);
        superhero_eventflow::service::register(&mut registry);
        for app in &self.apps {
            (app.register)(&mut registry);
        }
        for register in self.registrations {
            register(&mut registry);
        }

        let mut builder = Config::builder();
        for app in &self.apps {
            builder = app.configure(builder);
        }
        builder = builder.add_value(
            "test node",
            json!({
                "http": {"server": {"listen": "127.0.0.1:0", "shutdown_deadline_ms": 5_000}},
                "core": {"shutdown": {"timeout_ms": 15_000}}
            }),
        );
        let mut scratch = None;
        let mut store = None;
        let target = match (self.join, self.eventflow) {
            (Some(config), _) => Some(config),
            (None, Some(backend)) => {
                let database = Scratch::create(backend, "sh_test").await;
                let config = database.store_config();
                scratch = Some(database);
                Some(config)
            }
            (None, None) => None,
        };
        if let Some(config) = target {
            builder = builder.add_value(
                "test eventflow",
                json!({
                    "locator": {"eventflow/hub": true, "eventflow/spoke": true},
                    "bootstrap": {"eventflow/hub": true},
                    "eventflow": node_settings(&config),
                }),
            );
            store = Some(config);
        }
        for layer in self.layers {
            builder = layer(builder);
        }
        let config = builder.env_vars([]).build()?;
        let running = Core::new(config, registry).start().await?;
        let addr = running
            .locator()
            .locate::<HttpService>(superhero_http::service::SERVICE)
            .ok()
            .and_then(|http| http.local_addr());
        Ok(TestNode {
            running,
            addr,
            store,
            scratch,
        })
    }
}
