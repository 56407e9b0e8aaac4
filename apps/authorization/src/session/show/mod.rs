//! Use case `show`: `GET /sessions/current`, who am I.

mod access;
mod access_using_http;

use std::sync::Arc;

use superhero_app::{Wiring, route_document};
use superhero_auth::AUTH;
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::ShowSession;
pub use access_using_http::ShowUsingHttp;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const SHOW_USING_HTTP: &str = "authorization/session/show";

/// Registers the HTTP adapter (the application service is `superhero-auth`'s).
pub fn register(registry: &mut Registry) {
    registry
        .register(SHOW_USING_HTTP, |ctx| async move {
            let service: Arc<dyn ShowSession> = crate::auth(&ctx)?;
            Ok(ShowUsingHttp::new(service))
        })
        .uses([AUTH])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(SHOW_USING_HTTP)
        .route(SHOW_USING_HTTP, route_document!("route.json"))
}
