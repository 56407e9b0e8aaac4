//! An app's wiring, declared once in code: which services the node constructs, which
//! are dispatchers the HTTP server routes to, the OpenAPI documents, the consumer map and
//! the app's default settings. [`Wiring::configure`] turns it into config layers under
//! the user's files, so any of it can still be overridden there
//! (`bootstrap."eventflow/consume" = false`, `http.openapi."ping-pong/ping/respond" = false`,
//! `eventflow.spoke.consume."svc@domain" = false`).
//!
//! ```
//! use superhero_app::{Wiring, route_document};
//! use superhero_core::config::Config;
//!
//! const CREATE: &str = "things/thing/create";
//! let wiring = Wiring::new()
//!     .dispatcher(CREATE)
//!     .route("things", route_document!("../tests/glue/things.json"));
//! let config = wiring.configure("things", Config::builder()).env_vars([]).build()?;
//! assert_eq!(config.get::<Vec<String>>("locator/http/uses")?, Some(vec![CREATE.to_owned()]));
//! assert!(config.find("http/openapi/things/paths").is_some());
//! # Ok::<(), superhero_core::Error>(())
//! ```
//!
//! What each declaration adds:
//!
//! | call | config |
//! | --- | --- |
//! | `service(name)` | `locator.<name> = true` (its `uses`, declared at registration, are constructed first) |
//! | `dispatcher(name)`, `middleware(name)` | the service, `locator.http.uses += [name]` (the server drains before it stops) and `bootstrap.http = true` |
//! | `route(name, document)` | `http.openapi.<name>` = the document, whose source name is its file |
//! | `consumer(service, events)` | the service, `eventflow.spoke.consume."<service>@<domain>"` per domain, and the `eventflow/consume` service bootstrapped |
//! | `bootstrap(name)` | `bootstrap.<name> = true` |
//! | `settings(file, toml)` | the TOML text as a layer of defaults |

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};
use superhero_core::config::{ConfigBuilder, Format};

use crate::contract::EventKey;

/// The HTTP server's service name (`superhero_http::service::SERVICE`).
const HTTP: &str = superhero_http::service::SERVICE;
/// The consume service's name (`superhero_eventflow::service::CONSUME`).
const CONSUME: &str = superhero_eventflow::service::CONSUME;

/// An OpenAPI document compiled into the binary, with the file it came from. Made by
/// [`route_document!`](crate::route_document).
#[derive(Debug, Clone)]
pub struct Document {
    source: String,
    text: &'static str,
}

impl Document {
    /// The document `text` of the file `relative` to the source file `caller` (what
    /// [`route_document!`](crate::route_document) passes: `file!()` and the literal).
    pub fn embedded(caller: &str, relative: &str, text: &'static str) -> Self {
        let source = Path::new(caller)
            .parent()
            .unwrap_or(Path::new(""))
            .join(relative);
        Document {
            source: source.display().to_string(),
            text,
        }
    }

    /// The file it came from, as errors name it.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// An OpenAPI document next to the calling source file, compiled in:
/// `route_document!("route.json")`. Its JSON is parsed when the node's config is built;
/// an error names the file, line and column.
#[macro_export]
macro_rules! route_document {
    ($file:literal) => {
        $crate::Document::embedded(file!(), $file, include_str!($file))
    };
}

/// An app's wiring (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Wiring {
    locator: Map<String, Value>,
    http_uses: Vec<String>,
    bootstrap: Map<String, Value>,
    consume: Map<String, Value>,
    documents: Vec<(String, Document)>,
    settings: Vec<(&'static str, &'static str)>,
}

impl Wiring {
    /// Nothing wired yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Constructs the service `name`.
    #[must_use]
    pub fn service(mut self, name: &str) -> Self {
        self.locator.entry(name).or_insert(Value::Bool(true));
        self
    }

    /// Constructs the dispatcher `name` and lets the HTTP server route to it (the server
    /// is bootstrapped, and drains before the dispatcher is destroyed).
    #[must_use]
    pub fn dispatcher(mut self, name: &str) -> Self {
        self = self.service(name);
        if !self.http_uses.iter().any(|n| n == name) {
            self.http_uses.push(name.to_owned());
        }
        self.bootstrap(HTTP)
    }

    /// Constructs the middleware `name` for the HTTP server (as a dispatcher).
    #[must_use]
    pub fn middleware(self, name: &str) -> Self {
        self.dispatcher(name)
    }

    /// Serves the OpenAPI `document` under `http.openapi.<name>`.
    #[must_use]
    pub fn route(mut self, name: &str, document: Document) -> Self {
        self.documents.push((name.to_owned(), document));
        self
    }

    /// Binds the events to the [`Consumer`](superhero_eventflow::service::Consumer)
    /// service `service` in the consumer map (one entry per domain), and bootstraps
    /// `eventflow/consume`.
    #[must_use]
    pub fn consumer(mut self, service: &str, events: &[EventKey]) -> Self {
        self = self.service(service);
        let mut by_domain: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for event in events {
            by_domain.entry(event.domain).or_default().push(event.name);
        }
        for (domain, names) in by_domain {
            let entry = self
                .consume
                .entry(format!("{service}@{domain}"))
                .or_insert_with(|| json!({"domain": domain, "service": service, "events": []}));
            if let Some(Value::Array(events)) = entry.get_mut("events") {
                for name in names {
                    if !events.iter().any(|e| e == name) {
                        events.push(Value::from(name));
                    }
                }
            }
        }
        self.service(CONSUME).bootstrap(CONSUME)
    }

    /// Bootstraps the service `name` (with the section of the same name).
    #[must_use]
    pub fn bootstrap(mut self, name: &str) -> Self {
        self.bootstrap.entry(name).or_insert(Value::Bool(true));
        self
    }

    /// Adds the TOML `text` of the file `source` as the app's default settings.
    #[must_use]
    pub fn settings(mut self, source: &'static str, text: &'static str) -> Self {
        self.settings.push((source, text));
        self
    }

    /// The wiring as one config value (without the documents and settings).
    pub fn to_value(&self) -> Value {
        let mut locator = self.locator.clone();
        if !self.http_uses.is_empty() {
            locator.insert(HTTP.to_owned(), json!({"uses": self.http_uses}));
        }
        let mut root = Map::new();
        root.insert("locator".into(), Value::Object(locator));
        if !self.bootstrap.is_empty() {
            root.insert("bootstrap".into(), Value::Object(self.bootstrap.clone()));
        }
        if !self.consume.is_empty() {
            root.insert(
                "eventflow".into(),
                json!({"spoke": {"consume": self.consume}}),
            );
        }
        Value::Object(root)
    }

    /// Adds the app's layers to `builder`: its settings, then its wiring (named
    /// `<app> wiring`), then each document (named by its file).
    pub fn configure(&self, app: &str, mut builder: ConfigBuilder) -> ConfigBuilder {
        for (source, text) in &self.settings {
            builder = builder.add_text(*source, Format::Toml, *text, None);
        }
        builder = builder.add_value(format!("{app} wiring"), self.to_value());
        for (name, document) in &self.documents {
            builder = match serde_json::from_str::<Value>(document.text) {
                Ok(parsed) => {
                    let mut documents = Map::new();
                    documents.insert(name.clone(), parsed);
                    builder.add_value(
                        document.source.clone(),
                        json!({"http": {"openapi": documents}}),
                    )
                }
                // Let the config builder parse the text as it is, so the node refuses to
                // start with the file's own line and column.
                Err(_) => {
                    builder.add_text(document.source.clone(), Format::Json, document.text, None)
                }
            };
        }
        builder
    }
}
