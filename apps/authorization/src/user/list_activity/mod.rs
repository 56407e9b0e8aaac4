//! Use case `list_activity`: `GET /users/{id}/activity`, the signed-in user's own requests, newest first.

mod access;
mod access_using_http;

use std::sync::Arc;

use superhero_app::{Wiring, route_document};
use superhero_auth::AUTH;
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access::ListActivity;
pub use access_using_http::ListActivityUsingHttp;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const LIST_ACTIVITY_USING_HTTP: &str = "authorization/user/list-activity";

/// Registers the HTTP adapter (the application service is `superhero-auth`'s).
pub fn register(registry: &mut Registry) {
    registry
        .register(LIST_ACTIVITY_USING_HTTP, |ctx| async move {
            let service: Arc<dyn ListActivity> = crate::auth(&ctx)?;
            Ok(ListActivityUsingHttp::new(service))
        })
        .uses([AUTH])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(LIST_ACTIVITY_USING_HTTP)
        .route(LIST_ACTIVITY_USING_HTTP, route_document!("route.json"))
}
