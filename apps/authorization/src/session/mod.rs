//! The `session` context: sign in, who am I, sign out.

pub mod end;
pub mod show;
pub mod start;

use superhero_app::Wiring;
use superhero_core::Registry;

/// Registers the context's services.
pub fn register(registry: &mut Registry) {
    start::register(registry);
    show::register(registry);
    end::register(registry);
}

/// Wires the context's use cases.
pub fn wire(wiring: Wiring) -> Wiring {
    end::wire(show::wire(start::wire(wiring)))
}
