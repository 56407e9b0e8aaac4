//! The use-case apps this binary can mount: each app's own descriptor
//! ([`superhero_app::App`]), in demo order.

use superhero_app::App;

/// Every app, in demo order.
pub const APPS: &[App] = &[
    ping_pong::APP,
    authorization::APP,
    message_board::APP,
    sale_order::APP,
    eventlog_stream::APP,
];

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
