//! The HTTP adapter of `GET /sessions/current`.

use std::sync::Arc;

use serde_json::json;
use superhero_auth::authenticated;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use super::access::ShowSession;

/// The dispatcher of `GET /sessions/current`.
pub struct ShowUsingHttp {
    service: Arc<dyn ShowSession>,
}

impl ShowUsingHttp {
    /// An adapter driving `service`.
    pub fn new(service: Arc<dyn ShowSession>) -> Self {
        ShowUsingHttp { service }
    }
}

impl Service for ShowUsingHttp {}

#[async_trait]
impl Dispatcher for ShowUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let who = authenticated(request)?.clone();
        let name = self.service.user_name(&who.user_id).await?;
        view.set_body(json!({
            "user_id": who.user_id,
            "name": name,
            "session": {
                "started_at": who.session_started.to_rfc3339(),
                "expires_at": who.session_expires.to_rfc3339(),
                "algorithm": who.algorithm.name(),
            }
        }));
        Ok(())
    }
}
