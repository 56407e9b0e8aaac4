//! The app descriptor: everything the `superhero` binary needs to mount an app, exported
//! by the app itself, so the CLI's catalogue is a list of descriptors.
//!
//! ```
//! use superhero_app::{App, Link, Wiring};
//!
//! pub const APP: App = App {
//!     name: "hello-app",
//!     summary: "GET /hello answers \"hello\"",
//!     links: &[Link { label: "hello", path: "/hello" }],
//!     register: |_registry| {},
//!     wiring: || Wiring::new().service("hello-app/greeter"),
//!     panel: None,
//!     rebuild: None,
//! };
//! let config = APP.configure(superhero_core::Config::builder()).env_vars([]).build()?;
//! assert_eq!(config.find("locator/hello-app\\/greeter"), Some(&serde_json::json!(true)));
//! # Ok::<(), superhero_core::Error>(())
//! ```

use superhero_core::Registry;
use superhero_core::config::ConfigBuilder;

use crate::wiring::Wiring;

/// A mountable app.
#[derive(Debug, Clone, Copy)]
pub struct App {
    /// The name on the command line (`superhero run <name>`) and the prefix of its
    /// service names (`<name>/<context>/<use case>`).
    pub name: &'static str,
    /// One line for `--help` and the demo's banner.
    pub summary: &'static str,
    /// Paths worth opening, printed by the demo under its HTTP base URL.
    pub links: &'static [Link],
    /// Registers the app's services (every app is registered in the binary; only mounted
    /// apps are wired, so only theirs are constructed).
    pub register: fn(&mut Registry),
    /// What a node that mounts the app constructs, routes, consumes and bootstraps.
    pub wiring: fn() -> Wiring,
    /// What the app adds to the demo's browser page, if anything.
    pub panel: Option<Panel>,
    /// Rebuilds the app's read models from the event-log (`superhero rebuild <name>`),
    /// if it keeps any.
    pub rebuild: Option<crate::read_model::Rebuild>,
}

impl App {
    /// Adds the app's wiring (and its documents and default settings) to `builder`.
    pub fn configure(&self, builder: ConfigBuilder) -> ConfigBuilder {
        (self.wiring)().configure(self.name, builder)
    }
}

/// A path worth opening, relative to the node's HTTP base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// What it shows.
    pub label: &'static str,
    /// The path with its query, e.g. `/ping?sleep=100`.
    pub path: &'static str,
}

/// An app's section of the demo's browser page: a title and an HTML fragment (plain
/// HTML/CSS/JS, no external resources) that the page places in its own section.
///
/// A fragment's inline scripts run as the page loads and may use the page's toolkit,
/// `window.superhero` (`crates/cli/src/page/shell.html`): `signedFetch(method, path,
/// body?)` (an RFC 9421 signed request with the signed-in session), `api(method, path,
/// body?)`, `stream(path, names, {from, onEvent, onState, onResume})` (an event-log
/// stream opened with a ticket and resumed after drops), `timeline(ol)` and
/// `onSession(fn)`. Elements marked `data-needs-session` are greyed out while nobody is
/// signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panel {
    /// The section's heading.
    pub title: &'static str,
    /// The fragment.
    pub html: &'static str,
}
