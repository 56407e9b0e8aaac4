//! The `user` context: registration and the user's activity.

pub mod list_activity;
pub mod register;

use superhero_app::Wiring;
use superhero_core::Registry;

/// Registers the context's services.
pub fn register(registry: &mut Registry) {
    register::register(registry);
    list_activity::register(registry);
}

/// Wires the context's use cases.
pub fn wire(wiring: Wiring) -> Wiring {
    list_activity::wire(register::wire(wiring))
}
