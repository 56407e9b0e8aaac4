//! The HTTP adapter of `GET /posts`.

use std::sync::Arc;

use serde_json::{Value, json};
use superhero_app::eventflow_http::http_error;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::post::read_model::ReadModel;

/// Posts per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;

/// The dispatcher of `GET /posts`.
pub struct ListPostsUsingHttp {
    model: Arc<ReadModel>,
}

impl ListPostsUsingHttp {
    /// An adapter reading `model`.
    pub fn new(model: Arc<ReadModel>) -> Self {
        ListPostsUsingHttp { model }
    }
}

impl Service for ListPostsUsingHttp {}

#[async_trait]
impl Dispatcher for ListPostsUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        // route.json declares both: after ≥ 1, limit 1..=100.
        let after = request.param("after").and_then(|v| v.as_u64());
        let limit = request
            .param("limit")
            .and_then(|v| v.as_u64())
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(DEFAULT_LIMIT);
        let page = self.model.page(after, limit).await.map_err(http_error)?;
        let next = match page.last() {
            Some((last, _)) if page.len() == limit as usize => {
                json!(format!("/posts?after={}&limit={limit}", last.position))
            }
            _ => Value::Null,
        };
        let items: Vec<Value> = page
            .iter()
            .map(|(post, replies)| {
                let mut item = post.to_json();
                item["reply_count"] = json!(replies);
                item
            })
            .collect();
        view.set_body(json!({"items": items, "next": next}));
        Ok(())
    }
}
