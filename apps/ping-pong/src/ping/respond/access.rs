//! The contract the `respond` use case offers to whatever drives it.

use superhero_core::async_trait;

use crate::ping::{Pong, Sleep};

/// Answers a ping.
#[async_trait]
pub trait RespondToPing: Send + Sync {
    /// Pauses for `sleep`, then answers.
    async fn respond(&self, sleep: Sleep) -> Pong;
}
