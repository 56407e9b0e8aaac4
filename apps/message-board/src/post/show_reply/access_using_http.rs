//! The HTTP adapter of `GET /posts/{id}/replies/{reply_id}`.

use std::sync::Arc;

use http::StatusCode;
use superhero_app::command::rejected;
use superhero_app::eventflow_http::{accepted, http_error};
use superhero_core::{Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::post::outcome::{Status, status};
use crate::post::read_model::{ReadModel, ReplyRow};
use crate::post::{REPLY, REPLY_CREATE_REQUESTED, REPLY_CREATED, REPLY_REJECTED};

/// The dispatcher of `GET /posts/{id}/replies/{reply_id}`.
pub struct ShowReplyUsingHttp {
    model: Arc<ReadModel>,
    spoke: Spoke,
}

impl ShowReplyUsingHttp {
    /// An adapter reading `model`, and the event-log of `spoke`'s store.
    pub fn new(model: Arc<ReadModel>, spoke: Spoke) -> Self {
        ShowReplyUsingHttp { model, spoke }
    }

    /// Whether reply `reply_id` was asked for post `post_id`.
    async fn requested_for(&self, reply_id: &str, post_id: &str) -> Result<bool, HttpError> {
        let requests = self
            .spoke
            .store()
            .read_stream_by_names(REPLY, reply_id, &[REPLY_CREATE_REQUESTED.name()])
            .await
            .map_err(http_error)?;
        Ok(requests.iter().any(|event| {
            REPLY_CREATE_REQUESTED
                .decode(event)
                .is_ok_and(|request| request.post_id == post_id)
        }))
    }
}

impl Service for ShowReplyUsingHttp {}

#[async_trait]
impl Dispatcher for ShowReplyUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let post_id = request.path_param("id").unwrap_or_default().to_owned();
        let id = request
            .path_param("reply_id")
            .unwrap_or_default()
            .to_owned();
        if let Some(reply) = self.model.reply(&post_id, &id).await.map_err(http_error)? {
            view.set_body(reply.to_json());
            return Ok(());
        }
        let not_found = || {
            HttpError::status(
                StatusCode::NOT_FOUND,
                "E_REPLY_NOT_FOUND",
                format!("No reply {id} to post {post_id}"),
            )
        };
        match status(&**self.spoke.store(), &id, REPLY_CREATED, REPLY_REJECTED)
            .await
            .map_err(http_error)?
        {
            Status::Created(event, created) if created.post_id == post_id => {
                view.set_body(ReplyRow::of(&event, &created).to_json());
                Ok(())
            }
            Status::Pending if self.requested_for(&id, &post_id).await? => {
                Err(accepted(&format!("/posts/{post_id}/replies/{id}")))
            }
            Status::Rejected(rejection) if self.requested_for(&id, &post_id).await? => {
                Err(rejected(rejection))
            }
            _ => Err(not_found()),
        }
    }
}
