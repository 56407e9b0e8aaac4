//! The `eventlog` context: the event-log as live streams.
//!
//! Domain layer: [`feeds`] (one fan-out per domain and node, reading the store by
//! position) and [`tickets`] (single-use stream tickets). Use cases: `stream_events`
//! (the SSE routes) and `issue_ticket` (the signed route that hands out tickets).

pub mod feeds;
pub mod issue_ticket;
pub mod stream_events;
pub mod tickets;
