//! Use case `end`: `DELETE /sessions/current`, sign out.

mod access;
mod access_using_http;

use std::sync::Arc;

use superhero_app::{Wiring, route_document};
use superhero_auth::AUTH;
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::EndSession;
pub use access_using_http::EndUsingHttp;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const END_USING_HTTP: &str = "authorization/session/end";

/// Registers the HTTP adapter (the application service is `superhero-auth`'s).
pub fn register(registry: &mut Registry) {
    registry
        .register(END_USING_HTTP, |ctx| async move {
            let service: Arc<dyn EndSession> = crate::auth(&ctx)?;
            Ok(EndUsingHttp::new(service))
        })
        .uses([AUTH])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(END_USING_HTTP)
        .route(END_USING_HTTP, route_document!("route.json"))
}
