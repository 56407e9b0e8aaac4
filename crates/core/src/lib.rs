//! # superhero-core
//!
//! The framework under every Superhero service:
//!
//! - [`config`]: layered JSON/TOML configuration with branch files, environment
//!   overrides and provenance (relative paths resolve against the file that set
//!   them);
//! - [`Registry`] and [`Locator`]: services registered by name at compile time,
//!   picked by the config's `locator` map, constructed in `uses` order and
//!   looked up by type;
//! - [`bootstrap`]: the `bootstrap` map starts services in order with their
//!   config;
//! - [`Core`]: one node's life — start, run until a signal, shut down in reverse
//!   order within a deadline ([`shutdown`]);
//! - [`cluster`]: a supervisor that runs the binary as N worker processes
//!   sharing ports with `SO_REUSEPORT`;
//! - [`logging`]: `tracing` output, human or JSON.
//!
//! Errors are one enum, [`Error`], each variant with a stable `E_…` code.
#![warn(missing_docs)]

pub mod bootstrap;
pub mod cluster;
pub mod config;
mod error;
pub mod health;
mod lifecycle;
pub mod locator;
pub mod logging;
pub mod metrics;
pub mod registry;
mod service;
pub mod shutdown;

pub use config::{Config, ConfigSection};
pub use error::{BoxError, Error, Result, report};
pub use lifecycle::{Core, Running, SHUTDOWN_TIMEOUT_KEY};
pub use locator::Locator;
pub use registry::{Registering, Registry};
pub use service::{Service, ServiceContext};
pub use shutdown::ShutdownTrigger;

/// Re-exported so services can implement [`Service`] without naming the crate.
pub use async_trait::async_trait;
/// Re-exported: the token type of the cancellation tree.
pub use tokio_util::sync::CancellationToken;
