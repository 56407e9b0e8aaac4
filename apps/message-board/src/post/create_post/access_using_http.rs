//! The HTTP adapter of `POST /posts`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use superhero_app::command::rejected;
use superhero_app::eventflow_http::accepted;
use superhero_app::idempotency::{CommandIds, IdempotencyKey};
use superhero_app::{AsyncCommand, Outcome};
use superhero_auth::authenticated;
use superhero_core::{Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_http::{Dispatcher, HttpError, Request, View};
use uuid::Uuid;

use crate::post::authors::Authors;
use crate::post::outcome;
use crate::post::read_model::PostRow;
use crate::post::{POST_CREATE_REQUESTED, POST_CREATED, POST_REJECTED, PostRequest};
use crate::settings::Settings;

/// The request body (route.json refuses other fields).
#[derive(Debug, Deserialize)]
struct NewPost {
    title: String,
    body: String,
}

/// The dispatcher of `POST /posts`.
pub struct CreatePostUsingHttp {
    spoke: Spoke,
    authors: Arc<Authors>,
    settings: Settings,
}

impl CreatePostUsingHttp {
    /// An adapter publishing through `spoke`.
    pub fn new(spoke: Spoke, authors: Arc<Authors>, settings: Settings) -> Self {
        CreatePostUsingHttp {
            spoke,
            authors,
            settings,
        }
    }
}

impl Service for CreatePostUsingHttp {}

#[async_trait]
impl Dispatcher for CreatePostUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let author_id = authenticated(request)?.user_id.clone();
        let input: NewPost = request.json().await?;
        let author = self.authors.name_of(&author_id).await?;
        let fresh = CommandIds::new(Uuid::now_v7().to_string());
        let scope = format!("{} {author_id}", crate::NAME);
        let ids = match IdempotencyKey::from_request(request, &scope).await? {
            Some(key) => key.claim(&self.spoke, fresh).await?,
            None => fresh,
        };
        let post = PostRequest {
            title: input.title,
            body: input.body,
            author_id,
            author,
        };
        let event = POST_CREATE_REQUESTED
            .event(&ids.pid, &post)?
            .with_id(ids.event_id);
        let location = format!("/posts/{}", ids.pid);
        let outcome = AsyncCommand::new(&self.spoke, event, &location)
            .success(POST_CREATED)
            .rejection(POST_REJECTED)
            .wait(self.settings.wait())
            .until(request.shutdown_token().clone())
            .run()
            .await?;
        match outcome {
            Outcome::Succeeded { event, .. } => {
                let created = POST_CREATED.decode(&event)?;
                let mut body = PostRow::of(&event, &created).to_json();
                body["replies"] = json!([]);
                outcome::created(view, &location, body);
                Ok(())
            }
            Outcome::Rejected { rejection, .. } => Err(rejected(rejection)),
            Outcome::Pending => Err(accepted(&location)),
        }
    }
}
