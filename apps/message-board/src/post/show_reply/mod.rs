//! Use case `show_reply`: `GET /posts/{id}/replies/{reply_id}`, one reply from the read
//! model; a reply the read model does not show yet answers from the event-log (202 while
//! its request is undecided, 422 with the rejection, the reply once created).

mod access_using_http;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_eventflow::service::SPOKE;
use superhero_http::Dispatcher;

pub use access_using_http::ShowReplyUsingHttp;

use super::read_model::{READ_MODEL, ReadModel};

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const SHOW_REPLY_USING_HTTP: &str = "message-board/post/show-reply";

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(SHOW_REPLY_USING_HTTP, |ctx| async move {
            Ok(ShowReplyUsingHttp::new(
                ctx.locate::<ReadModel>(READ_MODEL)?,
                crate::spoke_of(&ctx)?,
            ))
        })
        .uses([READ_MODEL, SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(SHOW_REPLY_USING_HTTP)
        .route(SHOW_REPLY_USING_HTTP, route_document!("route.json"))
}
