//! # superhero-app
//!
//! What every Superhero app is built from, between the crates and the apps: apps depend
//! on it, crates never do. eventflow must not know HTTP and HTTP must not know eventflow;
//! the glue between them lives here.
//!
//! | module | owns |
//! | --- | --- |
//! | [`descriptor`] | [`App`]: name, summary, links, `register`, wiring, page panel — what the CLI mounts |
//! | [`wiring`] | [`Wiring`]: services, dispatchers, OpenAPI documents, consumer map, settings, declared once in code |
//! | [`contract`] | [`EventType`]: one definition per event (domain, name, payload type); [`Rejection`] |
//! | [`handlers`] | [`Handlers`]: a consumer service of typed handlers |
//! | [`command`] | [`AsyncCommand`]: publish → wait → 201 / 422 / 202 + `Location` |
//! | [`idempotency`] | `Idempotency-Key` for POST routes, kept in the store |
//! | [`read_model`] | rebuilding read models from the event-log ([`read_model::Replay`], `superhero rebuild`) |
//! | [`eventflow_http`] | eventflow errors as HTTP answers (409, 202, 503, 500) |
//! | [`error`] | [`AppError`] with stable `E_APP_*` codes |
//!
//! Adding an app: see "Adding an app" in the repository's `ARCHITECTURE.md`.
#![warn(missing_docs)]

pub mod command;
pub mod contract;
pub mod descriptor;
pub mod error;
pub mod eventflow_http;
pub mod handlers;
pub mod idempotency;
pub mod read_model;
pub mod wiring;

pub use command::{AsyncCommand, Outcome};
pub use contract::{EventKey, EventType, Received, Rejection, RejectionDetail, reply_id};
pub use descriptor::{App, Link, Panel};
pub use error::{AppError, Result};
pub use handlers::Handlers;
pub use idempotency::{CommandIds, IdempotencyKey};
pub use wiring::{Document, Wiring};
