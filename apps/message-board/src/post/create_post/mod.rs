//! Use case `create_post`: `POST /posts` {title, body}, an asynchronous controller
//! (publish `post-create-requested`, wait for `post-created` or `post-rejected`).

mod access_using_http;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_eventflow::service::SPOKE;
use superhero_http::Dispatcher;

pub use access_using_http::CreatePostUsingHttp;

use super::authors::{AUTHORS, Authors};
use crate::settings::Settings;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const CREATE_POST_USING_HTTP: &str = "message-board/post/create-post";

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(CREATE_POST_USING_HTTP, |ctx| async move {
            Ok(CreatePostUsingHttp::new(
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
        .dispatcher(CREATE_POST_USING_HTTP)
        .route(CREATE_POST_USING_HTTP, route_document!("route.json"))
}
