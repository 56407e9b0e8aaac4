//! Every service this binary can run, by name.

use superhero_core::Registry;

use crate::apps::APPS;

/// The registry of all services the `superhero` binary knows: the HTTP server,
/// the eventflow store, hub, spoke and consume services,
/// the `hello` example and every app's services. The config's `locator` map picks
/// which of them a node constructs.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    superhero_http::service::register(&mut registry);
    superhero_eventflow::service::register(&mut registry);
    crate::hello::register(&mut registry);
    for app in APPS {
        (app.register)(&mut registry);
    }
    (crate::page::APP.register)(&mut registry);
    registry
}
