//! The HTTP adapter of `GET /users/{id}/activity`: own user only (403
//! `E_AUTH_FORBIDDEN` otherwise).

use std::sync::Arc;

use serde_json::json;
use superhero_auth::{AuthError, authenticated};
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use super::access::ListActivity;

/// The dispatcher of `GET /users/{id}/activity`.
pub struct ListActivityUsingHttp {
    service: Arc<dyn ListActivity>,
}

impl ListActivityUsingHttp {
    /// An adapter driving `service`.
    pub fn new(service: Arc<dyn ListActivity>) -> Self {
        ListActivityUsingHttp { service }
    }
}

impl Service for ListActivityUsingHttp {}

#[async_trait]
impl Dispatcher for ListActivityUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let who = authenticated(request)?;
        let id = request.path_param("id").unwrap_or_default().to_owned();
        if id != who.user_id {
            return Err(AuthError::Forbidden {
                reason: "only your own activity can be read".into(),
            }
            .into());
        }
        // route.json declares both: before ≥ 1, limit 1..=100 (default 20).
        let before = request.param("before").and_then(|v| v.as_u64());
        let limit = request
            .param("limit")
            .and_then(|v| v.as_u64())
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(20);
        let page = self.service.page(&id, before, limit).await?;
        let next = page
            .next
            .map(|before| format!("/users/{id}/activity?before={before}&limit={limit}"));
        view.set_body(json!({"items": page.items, "next": next}));
        Ok(())
    }
}
