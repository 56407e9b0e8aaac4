//! Every service this binary can run, by name.

use superhero_core::Registry;

/// The registry of all services the `superhero` binary knows. The config's
/// `locator` map picks which of them a node constructs.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    crate::hello::register(&mut registry);
    registry
}
