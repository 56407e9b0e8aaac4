//! # eventlog-stream — use case 5
//!
//! The event-log, live, over Server-Sent Events (`../shared/spec/use-cases.md` §5): a
//! client catches up from any global position and then follows new events, and after a
//! disconnect resumes with `Last-Event-ID` with no gap and no duplicate. One spoke
//! subscription per domain and node feeds every stream of that node; a stream that falls
//! behind is resynchronised from the store, so nothing is buffered without bound.
//!
//! | route | use case |
//! | --- | --- |
//! | `POST /eventlog/tickets` (signed) → 201 `{ticket, expires_in_ms, user_id}` | [`eventlog::issue_ticket`] |
//! | `GET /eventlog/{domain}/stream?ticket=&from=&names=` → `text/event-stream` | [`eventlog::stream_events`] |
//! | `GET /eventlog/{domain}/{pid}/stream?ticket=&from=&names=` → one process | [`eventlog::stream_events`] |
//!
//! Authorization: `EventSource` cannot sign, so a stream is opened with a ticket that a
//! signed request obtained ([`eventlog::tickets`]). Domains in `private_domains` (the
//! activity records by default) are streamed only per process and only to the user the
//! process is. Settings: [`settings`].
#![warn(missing_docs)]

pub mod error;
pub mod eventlog;
pub mod settings;

use superhero_app::{App, Link, Panel, Wiring};
use superhero_auth::SIGNED_SESSION;
use superhero_core::Registry;

/// The app's name, as `superhero run eventlog-stream` knows it.
pub const NAME: &str = "eventlog-stream";

/// The app descriptor the `superhero` binary mounts.
pub const APP: App = App {
    name: NAME,
    summary: "POST /eventlog/tickets (signed), GET /eventlog/{domain}[/{pid}]/stream?ticket= (SSE, resumable)",
    links: &[Link {
        label: "event-log streams",
        path: "/openapi.json",
    }],
    register,
    wiring,
    panel: Some(Panel {
        title: "Event-log explorer",
        html: include_str!("panel.html"),
    }),
    rebuild: None,
};

fn register(registry: &mut Registry) {
    superhero_auth::service::register(registry);
    eventlog::tickets::register(registry);
    eventlog::feeds::register(registry);
    eventlog::issue_ticket::register(registry);
    eventlog::stream_events::register(registry);
}

fn wiring() -> Wiring {
    eventlog::stream_events::wire(eventlog::issue_ticket::wire(
        Wiring::new().middleware(SIGNED_SESSION),
    ))
}
