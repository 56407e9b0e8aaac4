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
//! `route.json` the OpenAPI fragment.
#![warn(missing_docs)]

pub mod ping;

use serde_json::Value;
use superhero_core::Registry;
use superhero_core::config::{ConfigBuilder, Format};

/// The app's name, as `superhero run ping-pong` knows it.
pub const NAME: &str = "ping-pong";

/// Registers the app's services.
pub fn register(registry: &mut Registry) {
    ping::respond::register(registry);
}

/// Adds the app's wiring (locator, bootstrap, its OpenAPI route) as a config layer.
pub fn configure(builder: ConfigBuilder) -> ConfigBuilder {
    builder
        .add_text(
            "ping-pong/config.toml",
            Format::Toml,
            include_str!("config.toml"),
            None,
        )
        .add_value("ping-pong/openapi", openapi())
}

fn openapi() -> Value {
    let mut layer = serde_json::Map::new();
    let mut documents = serde_json::Map::new();
    documents.insert("ping-pong/ping/respond".into(), ping::respond::route());
    layer.insert("openapi".into(), Value::Object(documents));
    let mut root = serde_json::Map::new();
    root.insert("http".into(), Value::Object(layer));
    Value::Object(root)
}
