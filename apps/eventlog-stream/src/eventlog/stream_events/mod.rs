//! Use case `stream_events`: `GET /eventlog/{domain}/stream` (every process of a domain)
//! and `GET /eventlog/{domain}/{pid}/stream` (one process), optionally `?names=a,b`, as
//! Server-Sent Events: `id:` is the event's global position, so a client that reconnects
//! with `Last-Event-ID` (or `?from=`) gets exactly what it missed, then live events.
//! Opened with a stream ticket (`?ticket=`), limited to `max_streams` per node.

mod access_using_http;
pub mod stream;

use superhero_app::{Wiring, route_document};
use superhero_core::Registry;
use superhero_http::Dispatcher;

pub use access_using_http::StreamEventsUsingHttp;

use crate::eventlog::feeds::{FEEDS, Feeds};
use crate::eventlog::tickets::{TICKETS, Tickets};
use crate::settings::Settings;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const STREAM_EVENTS_USING_HTTP: &str = "eventlog-stream/eventlog/stream-events";

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(STREAM_EVENTS_USING_HTTP, |ctx| async move {
            Ok(StreamEventsUsingHttp::new(
                ctx.locate::<Feeds>(FEEDS)?,
                ctx.locate::<Tickets>(TICKETS)?,
                Settings::from_context(&ctx)?,
            ))
        })
        .uses([FEEDS, TICKETS])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(STREAM_EVENTS_USING_HTTP)
        .route(STREAM_EVENTS_USING_HTTP, route_document!("route.json"))
}
