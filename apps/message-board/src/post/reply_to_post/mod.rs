//! Use case `reply_to_post`: `POST /posts/{id}/replies` {body}, an asynchronous controller
//! (publish `reply-create-requested` with the post as its `cpid`, wait for `reply-created`
//! or `reply-rejected`).

mod access_using_http;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_eventflow::service::SPOKE;
use superhero_http::Dispatcher;

pub use access_using_http::ReplyToPostUsingHttp;

use super::authors::{AUTHORS, Authors};
use crate::settings::Settings;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const REPLY_TO_POST_USING_HTTP: &str = "message-board/post/reply-to-post";

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(REPLY_TO_POST_USING_HTTP, |ctx| async move {
            Ok(ReplyToPostUsingHttp::new(
                crate::spoke_of(&ctx)?,
                ctx.locate::<Authors>(AUTHORS)?,
                Settings::from_context(&ctx)?,
            ))
        })
        .uses([SPOKE, AUTHORS])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(REPLY_TO_POST_USING_HTTP)
        .route(REPLY_TO_POST_USING_HTTP, route_document!("route.json"))
}
