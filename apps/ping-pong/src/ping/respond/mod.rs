//! Use case `respond`: answer a ping with pong.

mod access;
mod access_using_http;
mod respond_with_pong;

use std::sync::Arc;

use serde_json::Value;
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::RespondToPing;
pub use access_using_http::RespondUsingHttp;
pub use respond_with_pong::RespondWithPong;

/// The service name of the application service.
pub const RESPOND_WITH_PONG: &str = "ping-pong/ping/respond-with-pong";
/// The service name of the HTTP adapter (the dispatcher `route.json` names).
pub const RESPOND_USING_HTTP: &str = "ping-pong/ping/respond";

/// The OpenAPI fragment of this use case.
pub fn route() -> Value {
    serde_json::from_str(include_str!("route.json")).unwrap_or(Value::Null)
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_route_document_is_valid_json() {
        assert!(super::route().is_object());
    }
}
