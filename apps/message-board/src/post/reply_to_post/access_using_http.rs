//! The HTTP adapter of `POST /posts/{id}/replies`.

use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use superhero_app::command::rejected;
use superhero_app::eventflow_http::{accepted, http_error};
use superhero_app::idempotency::{CommandIds, IdempotencyKey};
use superhero_app::{AsyncCommand, Outcome};
use superhero_auth::authenticated;
use superhero_core::{Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_http::{Dispatcher, HttpError, Request, View};
use uuid::Uuid;

use crate::post::authors::Authors;
use crate::post::read_model::ReplyRow;
use crate::post::{
    POST, REPLY_CREATE_REQUESTED, REPLY_CREATED, REPLY_REJECTED, Refusal, ReplyRequest, outcome,
    post_exists,
};
use crate::settings::Settings;

/// The request body (route.json refuses other fields).
#[derive(Debug, Deserialize)]
struct NewReply {
    body: String,
}

/// The dispatcher of `POST /posts/{id}/replies`.
pub struct ReplyToPostUsingHttp {
    spoke: Spoke,
    authors: Arc<Authors>,
    settings: Settings,
}

impl ReplyToPostUsingHttp {
    /// An adapter publishing through `spoke`.
    pub fn new(spoke: Spoke, authors: Arc<Authors>, settings: Settings) -> Self {
        ReplyToPostUsingHttp {
            spoke,
            authors,
            settings,
        }
    }
}

impl Service for ReplyToPostUsingHttp {}

#[async_trait]
impl Dispatcher for ReplyToPostUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let author_id = authenticated(request)?.user_id.clone();
        let post_id = request.path_param("id").unwrap_or_default().to_owned();
        let input: NewReply = request.json().await?;
        // The validator checks again (it is the authority); this answers the common
        // mistake at once, before anything is published.
        if !post_exists(&**self.spoke.store(), &post_id)
            .await
            .map_err(http_error)?
        {
            let refusal = Refusal::NoSuchPost.rejection();
            return Err(HttpError::status(
                StatusCode::NOT_FOUND,
                refusal.code,
                format!("No post {post_id}"),
            ));
        }
        let author = self.authors.name_of(&author_id).await?;
        let fresh = CommandIds::new(Uuid::now_v7().to_string());
        let scope = format!("{} {author_id}", crate::NAME);
        let ids = match IdempotencyKey::from_request(request, &scope).await? {
            Some(key) => key.claim(&self.spoke, fresh).await?,
            None => fresh,
        };
        let reply = ReplyRequest {
            post_id: post_id.clone(),
            body: input.body,
            author_id,
            author,
        };
        let event = REPLY_CREATE_REQUESTED
            .event(&ids.pid, &reply)?
            .with_id(ids.event_id)
            .with_cpid(POST, post_id.clone());
        let location = format!("/posts/{post_id}/replies/{}", ids.pid);
        let outcome = AsyncCommand::new(&self.spoke, event, &location)
            .success(REPLY_CREATED)
            .rejection(REPLY_REJECTED)
            .wait(self.settings.wait())
            .until(request.shutdown_token().clone())
            .run()
            .await?;
        match outcome {
            Outcome::Succeeded { event, .. } => {
                let created = REPLY_CREATED.decode(&event)?;
                outcome::created(view, &location, ReplyRow::of(&event, &created).to_json());
                Ok(())
            }
            Outcome::Rejected { rejection, .. } => Err(rejected(rejection)),
            Outcome::Pending => Err(accepted(&location)),
        }
    }
}
