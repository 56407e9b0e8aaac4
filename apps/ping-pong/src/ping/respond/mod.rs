//! Use case `respond`: answer a ping with pong.

mod access;
mod access_using_http;
mod respond_with_pong;

use std::sync::Arc;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::RespondToPing;
pub use access_using_http::RespondUsingHttp;
pub use respond_with_pong::RespondWithPong;

/// The service name of the application service.
pub const RESPOND_WITH_PONG: &str = "ping-pong/ping/respond-with-pong";
/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`, checked
/// against the located services when the node starts.
pub const RESPOND_USING_HTTP: &str = "ping-pong/ping/respond";

/// Wires the use case: the dispatcher (which uses the application service) and its
/// OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(RESPOND_USING_HTTP)
        .route(RESPOND_USING_HTTP, route_document!("route.json"))
}

/// Registers the application service and its HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(RESPOND_WITH_PONG, |_ctx| async { Ok(RespondWithPong) })
        .expose::<dyn RespondToPing>(|s| s);
    registry
        .register(RESPOND_USING_HTTP, |ctx| async move {
            let service: Arc<dyn RespondToPing> = ctx.locate(RESPOND_WITH_PONG)?;
            Ok(RespondUsingHttp::new(service))
        })
        .uses([RESPOND_WITH_PONG])
        .expose::<dyn Dispatcher>(|s| s);
}
