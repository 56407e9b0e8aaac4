//! What a service is: something the locator constructs, bootstrap starts and
//! shutdown destroys.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigSection};
use crate::error::{BoxError, Result};
use crate::locator::Locator;
use crate::shutdown::ShutdownTrigger;

/// The lifecycle of a registered service. Both methods have no-op defaults.
///
/// Order of calls: the factory constructs every enabled service (dependencies
/// first), then `bootstrap` runs for the services in the `bootstrap` config map,
/// in map order, then on shutdown `destroy` runs in reverse construction order.
/// `destroy` may be called on a service whose `bootstrap` never ran (start-up
/// failed), so it must cope with that.
#[async_trait::async_trait]
pub trait Service: Send + Sync + 'static {
    /// Starts the service with its config section (bind sockets, spawn tasks).
    async fn bootstrap(&self, config: ConfigSection) -> Result<(), BoxError> {
        let _ = config;
        Ok(())
    }

    /// Stops the service; by the time it is called the service's shutdown token
    /// ([`ServiceContext::shutdown_token`]) is already cancelled.
    async fn destroy(&self) -> Result<(), BoxError> {
        Ok(())
    }
}

/// What a factory gets to build its service.
#[derive(Clone)]
pub struct ServiceContext {
    pub(crate) name: String,
    pub(crate) config: Arc<Config>,
    pub(crate) locator: Locator,
    pub(crate) token: CancellationToken,
    pub(crate) trigger: ShutdownTrigger,
}

impl ServiceContext {
    /// The name the service is registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The config section named like the service (`a/b` for service `a/b`).
    pub fn section(&self) -> ConfigSection {
        self.config.section(&self.name)
    }

    /// A service constructed earlier; name it in `uses` so it is.
    pub fn locate<T: ?Sized + Send + Sync + 'static>(&self, name: &str) -> Result<Arc<T>> {
        self.locator.locate(name)
    }

    /// The locator, for services that look others up later (by name from config).
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// Cancelled when this service's shutdown begins, just before its
    /// `destroy`: stop accepting work and end long-lived streams when it fires.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Lets the service ask the whole process to shut down (a fatal fault in a
    /// background task, say).
    pub fn shutdown_trigger(&self) -> ShutdownTrigger {
        self.trigger.clone()
    }
}
