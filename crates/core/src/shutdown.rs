//! Shutdown requests and process signals.
//!
//! The cancellation tree: every service gets its own child token of one root
//! token (see [`ServiceContext::shutdown_token`](crate::ServiceContext::shutdown_token)).
//! On shutdown [`Running::shutdown`](crate::Running::shutdown) walks the services
//! in reverse construction order, cancelling each one's token and awaiting its
//! `destroy`, so an HTTP server stops accepting and ends its streams while the
//! event store it uses is still open; the whole walk is bounded by the
//! configured deadline (`core/shutdown/timeout_ms`, default 10 000).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// The shutdown deadline when the config sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle any part of the process can use to ask for a graceful shutdown.
#[derive(Clone, Debug, Default)]
pub struct ShutdownTrigger {
    token: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
}

impl ShutdownTrigger {
    /// A trigger not yet pulled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for shutdown; the first reason given is kept.
    pub fn trigger(&self, reason: impl Into<String>) {
        let mut slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(reason.into());
        }
        self.token.cancel();
    }

    /// Whether shutdown was asked for.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown is asked for, with the reason.
    pub async fn triggered(&self) -> String {
        self.token.cancelled().await;
        self.reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_default()
    }
}

/// SIGTERM and SIGINT listeners. Install them before start-up so a signal that
/// arrives while services start is not lost (it is delivered by the next
/// [`recv`](Self::recv)).
#[derive(Debug)]
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Installs the handlers (from then on these signals no longer kill the
    /// process outright).
    pub fn install() -> Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate()).map_err(Error::Signal)?,
            interrupt: signal(SignalKind::interrupt()).map_err(Error::Signal)?,
        })
    }

    /// Waits for the next SIGTERM or SIGINT and returns which.
    pub async fn recv(&mut self) -> Received {
        tokio::select! {
            _ = self.terminate.recv() => Received::Terminate,
            _ = self.interrupt.recv() => Received::Interrupt,
        }
    }
}

/// A received termination signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// SIGTERM.
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
}

impl Received {
    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Received::Terminate => "SIGTERM",
            Received::Interrupt => "SIGINT",
        }
    }

    /// The raw signal number, to forward it.
    pub fn number(self) -> i32 {
        match self {
            Received::Terminate => libc::SIGTERM,
            Received::Interrupt => libc::SIGINT,
        }
    }
}
