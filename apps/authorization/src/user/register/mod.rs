//! Use case `register`: `POST /users`.

mod access;
mod access_using_http;

use std::sync::Arc;

use superhero_app::{Wiring, route_document};
use superhero_auth::AUTH;
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::RegisterUser;
pub use access_using_http::RegisterUsingHttp;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const REGISTER_USING_HTTP: &str = "authorization/user/register";

/// Registers the HTTP adapter (the application service is `superhero-auth`'s).
pub fn register(registry: &mut Registry) {
    registry
        .register(REGISTER_USING_HTTP, |ctx| async move {
            let service: Arc<dyn RegisterUser> = crate::auth(&ctx)?;
            Ok(RegisterUsingHttp::new(service))
        })
        .uses([AUTH])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(REGISTER_USING_HTTP)
        .route(REGISTER_USING_HTTP, route_document!("route.json"))
}
