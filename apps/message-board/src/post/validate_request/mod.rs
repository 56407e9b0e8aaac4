//! Use case `validate_request`: the consumer that decides every request and publishes
//! its outcome as the reply the controller waits for. It runs wherever the consumer map
//! puts it (`message-board/post/validate-request@post` and `@reply`): the controller's
//! process or another one.
//!
//! | request | rules, in order | outcomes |
//! | --- | --- | --- |
//! | `post-create-requested` | title 1..200 characters, body 1..10,000, author not banned, no post of the same title by the author within the window ([`title_claim`]) | `post-created` \| `post-rejected` |
//! | `reply-create-requested` | body 1..10,000, author not banned, the post exists | `reply-created` \| `reply-rejected` |
//!
//! Outcomes have ids derived from their request ([`superhero_app::reply_id`]), so
//! deciding a redelivered request again publishes nothing new.

pub mod title_claim;

use std::sync::Arc;

use superhero_app::{EventKey, Handlers, Received, Wiring};
use superhero_core::{BoxError, Registry};
use superhero_eventflow::service::{Consumer, SPOKE, STORE, StoreService};
use superhero_eventflow::{Spoke, SqlStore};

use super::{
    MAX_BODY, POST, POST_CREATE_REQUESTED, POST_CREATED, POST_REJECTED, PostCreated, PostRequest,
    REPLY_CREATE_REQUESTED, REPLY_CREATED, REPLY_REJECTED, Refusal, ReplyCreated, ReplyRequest,
    check_post, post_exists, text_fits,
};
use crate::error::BoardError;
use crate::settings::Settings;
use title_claim::TitleClaims;

/// The service name of the consumer.
pub const VALIDATE_REQUEST: &str = "message-board/post/validate-request";

/// The events it consumes.
pub const EVENTS: [EventKey; 2] = [POST_CREATE_REQUESTED.key(), REPLY_CREATE_REQUESTED.key()];

/// Decides requests (see the module docs).
pub struct Validator {
    spoke: Spoke,
    store: SqlStore,
    titles: TitleClaims,
    settings: Settings,
}

impl Validator {
    /// A validator publishing through `spoke`, reading `store`, claiming `titles`.
    pub fn new(spoke: Spoke, store: SqlStore, titles: TitleClaims, settings: Settings) -> Self {
        Validator {
            spoke,
            store,
            titles,
            settings,
        }
    }

    /// The verdict on a post request.
    pub async fn decide_post(
        &self,
        request: &Received<PostRequest>,
    ) -> Result<Result<(), Refusal>, BoardError> {
        let post = &request.payload;
        if let Err(refusal) = check_post(post) {
            return Ok(Err(refusal));
        }
        if self.settings.is_banned(&post.author_id, &post.author) {
            return Ok(Err(Refusal::Banned));
        }
        // Last: a title is claimed only by a post that is created.
        let claimed = self
            .titles
            .claim(
                &request.event,
                &post.author_id,
                &post.title,
                self.settings.duplicate_window(),
            )
            .await?;
        Ok(if claimed {
            Ok(())
        } else {
            Err(Refusal::DuplicateTitle)
        })
    }

    /// Decides a post request and publishes the outcome.
    pub async fn on_post(&self, request: Received<PostRequest>) -> Result<(), BoxError> {
        let outcome = match self.decide_post(&request).await? {
            Ok(()) => {
                let post = &request.payload;
                request.reply(
                    POST_CREATED,
                    &PostCreated {
                        title: post.title.clone(),
                        body: post.body.clone(),
                        author_id: post.author_id.clone(),
                        author: post.author.clone(),
                    },
                )?
            }
            Err(refusal) => request.reply(POST_REJECTED, &refusal.rejection())?,
        };
        self.spoke.publish(outcome).await?;
        Ok(())
    }

    /// The verdict on a reply request.
    pub async fn decide_reply(
        &self,
        request: &Received<ReplyRequest>,
    ) -> Result<Result<(), Refusal>, superhero_eventflow::Error> {
        let reply = &request.payload;
        if !text_fits(&reply.body, MAX_BODY) {
            return Ok(Err(Refusal::Body));
        }
        if self.settings.is_banned(&reply.author_id, &reply.author) {
            return Ok(Err(Refusal::Banned));
        }
        if !post_exists(&self.store, &reply.post_id).await? {
            return Ok(Err(Refusal::NoSuchPost));
        }
        Ok(Ok(()))
    }

    /// Decides a reply request and publishes the outcome, linked to its post by `cpid`.
    pub async fn on_reply(&self, request: Received<ReplyRequest>) -> Result<(), BoxError> {
        let reply = &request.payload;
        let outcome = match self.decide_reply(&request).await? {
            Ok(()) => request.reply(
                REPLY_CREATED,
                &ReplyCreated {
                    post_id: reply.post_id.clone(),
                    body: reply.body.clone(),
                    author_id: reply.author_id.clone(),
                    author: reply.author.clone(),
                },
            )?,
            Err(refusal) => request.reply(REPLY_REJECTED, &refusal.rejection())?,
        };
        self.spoke
            .publish(outcome.with_cpid(POST, reply.post_id.clone()))
            .await?;
        Ok(())
    }
}

/// Registers the consumer.
pub fn register(registry: &mut Registry) {
    registry
        .register(VALIDATE_REQUEST, |ctx| async move {
            let spoke = crate::spoke_of(&ctx)?;
            let store = ctx.locate::<StoreService>(STORE)?.sql_store().clone();
            let settings = Settings::from_context(&ctx)?;
            let titles = TitleClaims::open(&store, ctx.shutdown_token()).await?;
            let validator = Arc::new(Validator::new(spoke, store, titles, settings));
            let replies = validator.clone();
            Ok(Handlers::new(VALIDATE_REQUEST)
                .on(POST_CREATE_REQUESTED, move |request| {
                    let validator = validator.clone();
                    async move { validator.on_post(request).await }
                })
                .on(REPLY_CREATE_REQUESTED, move |request| {
                    let validator = replies.clone();
                    async move { validator.on_reply(request).await }
                }))
        })
        .uses([SPOKE, STORE])
        .expose::<dyn Consumer>(|s| s);
}

/// Puts the consumer in the consumer map.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring.consumer(VALIDATE_REQUEST, &EVENTS)
}
