//! Use case `list_posts`: `GET /posts?after=&limit=`, a page of posts, newest first,
//! from the read model. The cursor is the position of the page's last post, so posts
//! added while a client pages through never shift the pages it has not read yet.

mod access_using_http;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access_using_http::ListPostsUsingHttp;

use super::read_model::{READ_MODEL, ReadModel};

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const LIST_POSTS_USING_HTTP: &str = "message-board/post/list-posts";

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(LIST_POSTS_USING_HTTP, |ctx| async move {
            Ok(ListPostsUsingHttp::new(
                ctx.locate::<ReadModel>(READ_MODEL)?,
            ))
        })
        .uses([READ_MODEL])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(LIST_POSTS_USING_HTTP)
        .route(LIST_POSTS_USING_HTTP, route_document!("route.json"))
}
