//! # message-board — use case 2
//!
//! Posts and replies through asynchronous controllers over eventflow
//! (`../shared/spec/use-cases.md` §2): a controller publishes the request and waits for
//! the outcome that a validating consumer — in this process or another, as the consumer
//! map says — publishes; a second consumer keeps a read model in the store's database,
//! which the reads answer from.
//!
//! | route | use case |
//! | --- | --- |
//! | `POST /posts` {title, body} (signed) → 201 post, 422 refusal, 202 + `Location` | [`post::create_post`] |
//! | `POST /posts/{id}/replies` {body} (signed) → 201 reply, 404, 422, 202 | [`post::reply_to_post`] |
//! | `GET /posts/{id}` → the post and its replies (404 unknown) | [`post::show_post`] |
//! | `GET /posts/{id}/replies/{reply_id}` → one reply | [`post::show_reply`] |
//! | `GET /posts?after=&limit=` → a page, newest first | [`post::list_posts`] |
//!
//! | consumer | events | use case |
//! | --- | --- | --- |
//! | `message-board/post/validate-request` | `post-create-requested`, `reply-create-requested` | [`post::validate_request`] |
//! | `message-board/post/project-read-model` | `post-created`, `reply-created` | [`post::project_read_model`] |
//!
//! `superhero rebuild message-board` rebuilds the read model from the event-log
//! ([`post::read_model::rebuild`]). Settings: [`settings`]. Users and sessions come from
//! `superhero-auth` (mount the `authorization` app for its routes); the signed-session
//! middleware guards both POST routes.
#![warn(missing_docs)]

pub mod error;
pub mod post;
pub mod settings;

use superhero_app::read_model::Progress;
use superhero_app::{App, Link, Panel, Wiring};
use superhero_auth::SIGNED_SESSION;
use superhero_core::{BoxError, Registry, ServiceContext};
use superhero_eventflow::service::{SPOKE, SpokeService};
use superhero_eventflow::{Spoke, SqlStore};

/// The app's name, as `superhero run message-board` knows it.
pub const NAME: &str = "message-board";

/// The app descriptor the `superhero` binary mounts.
pub const APP: App = App {
    name: NAME,
    summary: "POST /posts and /posts/{id}/replies (signed, asynchronous), GET /posts, GET /posts/{id}",
    links: &[Link {
        label: "posts",
        path: "/posts",
    }],
    register,
    wiring,
    panel: Some(Panel {
        title: "Message board",
        html: include_str!("panel.html"),
    }),
    rebuild: Some(|store: SqlStore, progress: Progress| {
        Box::pin(async move {
            let rebuilt = post::read_model::rebuild(&store, progress).await?;
            Ok(rebuilt.to_string())
        })
    }),
};

fn register(registry: &mut Registry) {
    superhero_auth::service::register(registry);
    post::authors::register(registry);
    post::read_model::register(registry);
    post::create_post::register(registry);
    post::reply_to_post::register(registry);
    post::show_post::register(registry);
    post::show_reply::register(registry);
    post::list_posts::register(registry);
    post::validate_request::register(registry);
    post::project_read_model::register(registry);
}

fn wiring() -> Wiring {
    let mut wiring = Wiring::new().middleware(SIGNED_SESSION);
    for wire in [
        post::create_post::wire,
        post::reply_to_post::wire,
        post::show_post::wire,
        post::show_reply::wire,
        post::list_posts::wire,
        post::validate_request::wire,
        post::project_read_model::wire,
    ] {
        wiring = wire(wiring);
    }
    wiring
}

/// The spoke a factory needs.
fn spoke_of(ctx: &ServiceContext) -> Result<Spoke, BoxError> {
    Ok(ctx.locate::<SpokeService>(SPOKE)?.spoke().clone())
}
