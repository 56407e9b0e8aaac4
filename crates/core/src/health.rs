//! [`Readiness`]: how a service tells the node whether it can do its work now, for
//! readiness probes (Kubernetes' `readinessProbe`; `GET /readyz` of the `http` service).
//!
//! A service that depends on something outside the process (a database, a connection to
//! a hub) exposes `dyn Readiness`
//! (`registry.register(…).expose::<dyn Readiness>(|s| s)`); whoever answers the probe
//! finds every such service with [`crate::Locator::exposing`] and asks each. Liveness
//! needs nothing from services: a process that answers at all is alive.

use async_trait::async_trait;

/// A readiness check.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when the service can do its work now; otherwise why not, in a sentence for
    /// the operator (never a secret: it is shown in the probe's answer). Should answer
    /// within a second or two; the caller bounds it with its own timeout.
    async fn ready(&self) -> Result<(), String>;
}
