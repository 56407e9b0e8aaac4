//! The use-case apps this binary can mount, by name.

use superhero_core::Registry;
use superhero_core::config::ConfigBuilder;

/// One mountable app.
pub struct App {
    /// The name on the command line (`superhero run <name>`).
    pub name: &'static str,
    /// One line for `--help` and the demo banner.
    pub summary: &'static str,
    /// Registers the app's services.
    pub register: fn(&mut Registry),
    /// Adds the app's wiring as a config layer.
    pub configure: fn(ConfigBuilder) -> ConfigBuilder,
    /// Paths worth opening, relative to the HTTP base URL.
    pub links: &'static [&'static str],
}

/// Every app, in demo order.
pub const APPS: &[App] = &[App {
    name: ping_pong::NAME,
    summary: "GET /ping?sleep=MS answers \"pong\" (OpenAPI-validated)",
    register: ping_pong::register,
    configure: ping_pong::configure,
    links: &["/ping?sleep=100"],
}];

/// The app called `name`.
pub fn find(name: &str) -> Option<&'static App> {
    APPS.iter().find(|app| app.name == name)
}

/// The names of every app, for messages.
pub fn names() -> String {
    APPS.iter()
        .map(|app| app.name)
        .collect::<Vec<_>>()
        .join(", ")
}
