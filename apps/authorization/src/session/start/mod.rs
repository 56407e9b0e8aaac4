//! Use case `start`: `POST /sessions`, sign in.

mod access;
mod access_using_http;

use std::sync::Arc;

use superhero_app::{Wiring, route_document};
use superhero_auth::AUTH;
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::StartSession;
pub use access_using_http::StartUsingHttp;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const START_USING_HTTP: &str = "authorization/session/start";

/// Registers the HTTP adapter (the application service is `superhero-auth`'s).
pub fn register(registry: &mut Registry) {
    registry
        .register(START_USING_HTTP, |ctx| async move {
            let service: Arc<dyn StartSession> = crate::auth(&ctx)?;
            Ok(StartUsingHttp::new(service))
        })
        .uses([AUTH])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(START_USING_HTTP)
        .route(START_USING_HTTP, route_document!("route.json"))
}
