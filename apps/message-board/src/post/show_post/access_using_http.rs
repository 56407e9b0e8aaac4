//! The HTTP adapter of `GET /posts/{id}`.

use std::sync::Arc;

use http::StatusCode;
use serde_json::{Value, json};
use superhero_app::command::rejected;
use superhero_app::eventflow_http::{accepted, http_error};
use superhero_core::{Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::post::outcome::{Status, status};
use crate::post::read_model::{PostRow, ReadModel};
use crate::post::{POST_CREATED, POST_REJECTED};

/// The dispatcher of `GET /posts/{id}`.
pub struct ShowPostUsingHttp {
    model: Arc<ReadModel>,
    spoke: Spoke,
}

impl ShowPostUsingHttp {
    /// An adapter reading `model`, and the event-log of `spoke`'s store.
    pub fn new(model: Arc<ReadModel>, spoke: Spoke) -> Self {
        ShowPostUsingHttp { model, spoke }
    }

    /// The post's answer with its replies.
    async fn with_replies(&self, post: &PostRow) -> Result<Value, HttpError> {
        let replies = self.model.replies(&post.id).await.map_err(http_error)?;
        let mut body = post.to_json();
        body["reply_count"] = json!(replies.len());
        body["replies"] = replies.iter().map(|r| r.to_json()).collect();
        Ok(body)
    }
}

impl Service for ShowPostUsingHttp {}

#[async_trait]
impl Dispatcher for ShowPostUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let id = request.path_param("id").unwrap_or_default().to_owned();
        if let Some(post) = self.model.post(&id).await.map_err(http_error)? {
            view.set_body(self.with_replies(&post).await?);
            return Ok(());
        }
        match status(&**self.spoke.store(), &id, POST_CREATED, POST_REJECTED)
            .await
            .map_err(http_error)?
        {
            Status::Created(event, created) => {
                view.set_body(self.with_replies(&PostRow::of(&event, &created)).await?);
                Ok(())
            }
            Status::Pending => Err(accepted(&format!("/posts/{id}"))),
            Status::Rejected(rejection) => Err(rejected(rejection)),
            Status::Unknown => Err(not_found(&id)),
        }
    }
}

/// 404 `E_POST_NOT_FOUND`.
fn not_found(id: &str) -> HttpError {
    HttpError::status(
        StatusCode::NOT_FOUND,
        "E_POST_NOT_FOUND",
        format!("No post {id}"),
    )
}
