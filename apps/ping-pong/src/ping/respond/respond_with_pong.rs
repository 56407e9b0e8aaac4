//! The application service: pause, then pong.

use superhero_core::{Service, async_trait};

use super::access::RespondToPing;
use crate::ping::{Pong, Sleep};

/// Fulfils [`RespondToPing`].
#[derive(Debug, Default)]
pub struct RespondWithPong;

impl Service for RespondWithPong {}

#[async_trait]
impl RespondToPing for RespondWithPong {
    async fn respond(&self, sleep: Sleep) -> Pong {
        if !sleep.duration().is_zero() {
            tokio::time::sleep(sleep.duration()).await;
        }
        Pong
    }
}
