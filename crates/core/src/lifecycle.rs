//! The life of one node: construct → bootstrap → run → shut down.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bootstrap;
use crate::cluster::WorkerControl;
use crate::config::Config;
use crate::error::{BoxError, Error, Result, report};
use crate::locator::{Instance, Locator, plan};
use crate::registry::Registry;
use crate::service::ServiceContext;
use crate::shutdown::{DEFAULT_TIMEOUT, ShutdownTrigger, Signals};

/// The config key of the shutdown deadline in milliseconds.
pub const SHUTDOWN_TIMEOUT_KEY: &str = "core/shutdown/timeout_ms";

/// A node before start-up: its configuration and the services it can build.
///
/// ```
/// # use superhero_core::{Core, Registry, Service, config::Config};
/// # use serde_json::json;
/// struct Clock;
/// impl Service for Clock {}
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut registry = Registry::new();
/// registry.register("clock", |_ctx| async { Ok(Clock) });
/// let config = Config::builder()
///     .add_value("inline", json!({"locator": {"clock": true}}))
///     .env_vars([])
///     .build()?;
/// let running = Core::new(config, registry).start().await?;
/// let _clock = running.locator().locate::<Clock>("clock")?;
/// running.shutdown().await?;
/// # Ok::<(), superhero_core::Error>(())
/// # }).unwrap();
/// ```
pub struct Core {
    config: Arc<Config>,
    registry: Registry,
}

impl Core {
    /// A node with this configuration and registry.
    pub fn new(config: impl Into<Arc<Config>>, registry: Registry) -> Self {
        Core {
            config: config.into(),
            registry,
        }
    }

    /// Constructs the services of the `locator` map in dependency order, then
    /// runs the `bootstrap` map. If anything fails, the services constructed so
    /// far are destroyed (in reverse order) before the error is returned.
    pub async fn start(self) -> Result<Running> {
        crate::metrics::install();
        let deadline = self
            .config
            .get::<u64>(SHUTDOWN_TIMEOUT_KEY)?
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        let running = Running {
            config: self.config.clone(),
            locator: Locator::default(),
            root: CancellationToken::new(),
            trigger: ShutdownTrigger::new(),
            deadline,
        };
        let started = async {
            let plan = plan::plan(&self.registry, self.config.find("locator"))?;
            for planned in &plan {
                running.construct(&self.registry, planned).await?;
            }
            bootstrap::run(&self.config, &running.locator).await
        }
        .await;
        match started {
            Ok(()) => Ok(running),
            Err(error) => {
                if let Err(teardown) = running.teardown().await {
                    tracing::error!(error = %report(&teardown), "clean-up after a failed start-up also failed");
                }
                Err(error)
            }
        }
    }

    /// Runs the node until SIGTERM/SIGINT, a [`ShutdownTrigger`], or (in a
    /// cluster worker) the loss of the supervisor; then shuts down.
    ///
    /// In a cluster worker it reports readiness, or the start-up error, to the
    /// supervisor.
    pub async fn run(self) -> Result<()> {
        self.run_with(|_| {}).await
    }

    /// Like [`run`](Self::run), calling `on_started` once every service has
    /// started (to print where the node can be reached, say).
    pub async fn run_with(self, on_started: impl FnOnce(&Running)) -> Result<()> {
        let mut signals = Signals::install()?;
        let mut worker = WorkerControl::from_env()?;
        let running = match self.start().await {
            Ok(running) => running,
            Err(error) => {
                if let Some(worker) = worker.as_mut() {
                    worker.failed(&report(&error)).await;
                }
                return Err(error);
            }
        };
        if let Some(worker) = worker.as_mut() {
            worker.ready().await;
        }
        tracing::info!(services = running.locator.names().len(), "started");
        on_started(&running);
        let reason = tokio::select! {
            received = signals.recv() => received.name().to_owned(),
            reason = running.trigger.triggered() => reason,
            () = WorkerControl::supervisor_gone(worker.as_mut()) => "the supervisor is gone".to_owned(),
        };
        tracing::info!(%reason, deadline_ms = running.deadline.as_millis() as u64, "graceful shutdown initiated");
        let shutdown = running.shutdown();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                result = &mut shutdown => return result,
                received = signals.recv() => {
                    tracing::warn!(signal = received.name(), "redundant shutdown signal; waiting for the shutdown in progress");
                }
            }
        }
    }
}

/// A started node.
pub struct Running {
    config: Arc<Config>,
    locator: Locator,
    root: CancellationToken,
    trigger: ShutdownTrigger,
    deadline: Duration,
}

impl Running {
    /// The constructed services.
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// A handle to ask this node to shut down.
    pub fn trigger(&self) -> ShutdownTrigger {
        self.trigger.clone()
    }

    /// The shutdown deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Destroys every service in reverse construction order, each after its
    /// shutdown token is cancelled, within the deadline.
    ///
    /// `E_CORE_DESTROY` lists the services whose `destroy` failed;
    /// `E_CORE_DESTROY_TIMEOUT` names those still running when time ran out.
    pub async fn shutdown(self) -> Result<()> {
        let result = self.teardown().await;
        match &result {
            Ok(()) => tracing::info!("shut down cleanly"),
            Err(error) => tracing::error!(error = %report(error), "shutdown failed"),
        }
        result
    }

    async fn construct(&self, registry: &Registry, planned: &plan::Planned) -> Result<()> {
        let registration =
            registry
                .get(&planned.implementation)
                .ok_or_else(|| Error::LocatorUnknownService {
                    name: planned.implementation.clone(),
                    required_by: None,
                })?;
        let token = self.root.child_token();
        let context = ServiceContext {
            name: planned.name.clone(),
            config: self.config.clone(),
            locator: self.locator.clone(),
            token: token.clone(),
            trigger: self.trigger.clone(),
        };
        let span = tracing::info_span!("service", name = %planned.name);
        let built = (registration.factory)(context)
            .instrument(span.clone())
            .await
            .map_err(|source| Error::LocatorConstruct {
                name: planned.name.clone(),
                source,
            })?;
        let mut views: HashMap<_, Box<dyn std::any::Any + Send + Sync>> = HashMap::new();
        views.insert(registration.type_id, built.own_view);
        for exposure in &registration.exposures {
            if let Some((type_id, view)) = exposure(&built.concrete) {
                views.insert(type_id, view);
            }
        }
        self.locator.insert(
            planned.name.clone(),
            Instance {
                service: built.service,
                type_name: registration.type_name,
                views,
                token,
            },
        );
        tracing::debug!(parent: &span, "constructed");
        Ok(())
    }

    async fn teardown(&self) -> Result<()> {
        let walk = async {
            let mut failures: Vec<(String, BoxError)> = Vec::new();
            for name in self.locator.names().into_iter().rev() {
                let Ok(instance) = self.locator.instance(&name) else {
                    continue;
                };
                instance.token.cancel();
                let span = tracing::info_span!("service", name = %name);
                if let Err(error) = instance.service.destroy().instrument(span).await {
                    failures.push((name.clone(), error));
                }
                self.locator.remove(&name);
            }
            failures
        };
        let outcome = tokio::time::timeout(self.deadline, walk).await;
        self.root.cancel();
        match outcome {
            Ok(failures) if failures.is_empty() => Ok(()),
            Ok(failures) => Err(Error::Destroy { failures }),
            Err(_) => Err(Error::DestroyTimeout {
                deadline: self.deadline,
                pending: self.locator.names(),
            }),
        }
    }
}
