//! The demo's browser page at `/`: the product's front door. One HTML document with no
//! external resources (the machine may have no internet): the shell (`shell.html`:
//! sign-up and sign-in, and `window.superhero`, the toolkit the panels use — RFC 9421
//! request signing with WebCrypto, event-log streams opened with tickets and resumed
//! after drops, timelines) and the [`Panel`](superhero_app::Panel) of every app the demo
//! mounts, in demo order, assembled once when the node starts.

use http::{HeaderValue, StatusCode};
use superhero_app::{App, Wiring, route_document};
use superhero_core::{Registry, Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

/// The service name of the page's dispatcher.
pub const PAGE: &str = "demo/page";

/// The page as a mountable part of the demo (not an app of its own: `superhero run`
/// does not know it).
pub const APP: App = App {
    name: "demo",
    summary: "the browser page at /",
    links: &[],
    register,
    wiring: || {
        Wiring::new()
            .dispatcher(PAGE)
            .route(PAGE, route_document!("route.json"))
    },
    panel: None,
    rebuild: None,
};

const SHELL: &str = include_str!("shell.html");

/// Serves the assembled page.
pub struct PageUsingHttp {
    html: String,
}

impl PageUsingHttp {
    /// The shell with the panels of `apps`.
    pub fn new(apps: &[App]) -> Self {
        PageUsingHttp {
            html: assemble(apps),
        }
    }
}

impl Service for PageUsingHttp {}

#[async_trait]
impl Dispatcher for PageUsingHttp {
    async fn dispatch(&self, _request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.set_status(StatusCode::OK);
        view.set_bytes(
            HeaderValue::from_static("text/html; charset=utf-8"),
            self.html.clone(),
        );
        Ok(())
    }
}

/// The shell with one `<section>` per app that has a panel.
pub fn assemble(apps: &[App]) -> String {
    let mut sections = String::new();
    for app in apps {
        if let Some(panel) = &app.panel {
            sections.push_str(&format!(
                "<section class=\"panel\" data-app=\"{}\">\n<h2>{}</h2>\n{}\n</section>\n",
                app.name, panel.title, panel.html
            ));
        }
    }
    SHELL.replace("<!--panels-->", &sections)
}

fn register(registry: &mut Registry) {
    registry
        .register(PAGE, |_ctx| async {
            Ok(PageUsingHttp::new(crate::apps::APPS))
        })
        .expose::<dyn Dispatcher>(|s| s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panel_of_the_demo_is_in_the_page_in_demo_order() {
        let html = assemble(crate::apps::APPS);
        let with_panels: Vec<&App> = crate::apps::APPS
            .iter()
            .filter(|a| a.panel.is_some())
            .collect();
        assert!(!with_panels.is_empty());
        let mut from = 0;
        for app in with_panels {
            let marker = format!("data-app=\"{}\"", app.name);
            let at = html[from..]
                .find(&marker)
                .unwrap_or_else(|| panic!("{} in order", app.name));
            from += at + marker.len();
        }
        assert!(!html.contains("<!--panels-->"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external resources"
        );
    }
}
