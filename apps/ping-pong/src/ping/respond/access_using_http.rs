//! The HTTP adapter: reads the validated `sleep` parameter, writes the pong.

use std::sync::Arc;

use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use super::access::RespondToPing;
use crate::ping::{Pong, Sleep};

/// The dispatcher of `GET /ping`.
pub struct RespondUsingHttp {
    service: Arc<dyn RespondToPing>,
}

impl RespondUsingHttp {
    /// An adapter driving `service`.
    pub fn new(service: Arc<dyn RespondToPing>) -> Self {
        RespondUsingHttp { service }
    }
}

impl Service for RespondUsingHttp {}

#[async_trait]
impl Dispatcher for RespondUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        // route.json declares `sleep` as an integer 0..=10000 with default 0, so the
        // OpenAPI layer has already coerced and checked it.
        let millis = request.param("sleep").and_then(|v| v.as_u64()).unwrap_or(0);
        let sleep = Sleep::from_millis(millis).unwrap_or_default();
        let Pong = self.service.respond(sleep).await;
        view.set_json(Pong::WORD)
    }
}
