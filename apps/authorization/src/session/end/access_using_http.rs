//! The HTTP adapter of `DELETE /sessions/current`.

use std::sync::Arc;

use http::StatusCode;
use superhero_auth::authenticated;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use super::access::EndSession;

/// The dispatcher of `DELETE /sessions/current`.
pub struct EndUsingHttp {
    service: Arc<dyn EndSession>,
}

impl EndUsingHttp {
    /// An adapter driving `service`.
    pub fn new(service: Arc<dyn EndSession>) -> Self {
        EndUsingHttp { service }
    }
}

impl Service for EndUsingHttp {}

#[async_trait]
impl Dispatcher for EndUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let who = authenticated(request)?.clone();
        // The session has ended in the store when this returns: every node refuses it
        // from the moment the 204 leaves.
        self.service.end(&who).await?;
        view.set_status(StatusCode::NO_CONTENT);
        Ok(())
    }
}
