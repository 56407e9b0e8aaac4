//! # ping-pong — use case 1
//!
//! `GET /ping?sleep=MS` answers the JSON string `"pong"` after `sleep` milliseconds
//! (an integer 0..=10000, default 0). The route, its parameter and its bounds are
//! declared in the use case's OpenAPI document ([`ping::respond`]'s `route.json`), so
//! an invalid `sleep` is answered 400 with `E_OAS_*` details before any code of ours
//! runs. It is the smallest example of the whole tool-chain: config, locator,
//! bootstrap, HTTP and OpenAPI.
//!
//! Layout (the handbook's): `ping` is the bounded context, `respond` its use case:
//! `access.rs` is the contract the use case offers, `respond_with_pong.rs` the
//! application service that fulfils it, `access_using_http.rs` the HTTP adapter, and
//! `route.json` the OpenAPI fragment. [`APP`] is what the `superhero` binary mounts.
#![warn(missing_docs)]

pub mod ping;

use superhero_app::{App, Link, Wiring};

/// The app's name, as `superhero run ping-pong` knows it.
pub const NAME: &str = "ping-pong";

/// The app descriptor the `superhero` binary mounts.
pub const APP: App = App {
    name: NAME,
    summary: "GET /ping?sleep=MS answers \"pong\" (OpenAPI-validated)",
    links: &[Link {
        label: "ping",
        path: "/ping?sleep=100",
    }],
    register: ping::respond::register,
    wiring: || ping::respond::wire(Wiring::new()),
    panel: None,
    rebuild: None,
};
