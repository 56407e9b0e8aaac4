//! Use case `issue_ticket`: `POST /eventlog/tickets` (signed) → 201 `{ticket,
//! expires_in_ms, user_id}`, a single-use, short-lived ticket that opens one stream
//! (`?ticket=`), for clients such as `EventSource` that cannot sign.

mod access_using_http;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access_using_http::IssueTicketUsingHttp;

use crate::eventlog::tickets::{TICKETS, Tickets};
use crate::settings::Settings;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const ISSUE_TICKET_USING_HTTP: &str = "eventlog-stream/eventlog/issue-ticket";

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(ISSUE_TICKET_USING_HTTP, |ctx| async move {
            Ok(IssueTicketUsingHttp::new(
                ctx.locate::<Tickets>(TICKETS)?,
                Settings::from_context(&ctx)?,
            ))
        })
        .uses([TICKETS])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(ISSUE_TICKET_USING_HTTP)
        .route(ISSUE_TICKET_USING_HTTP, route_document!("route.json"))
}
