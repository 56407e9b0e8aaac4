//! `superhero demo`: the all-in-one node.

use serde_json::json;
use superhero_core::config::Format;
use superhero_core::{Core, Running};
use superhero_http::service::HttpService;

use crate::apps::APPS;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::error::CliResult;
use crate::{services, settings};

/// The demo's own defaults, under the user's config files.
const DEFAULTS: &str = include_str!("demo.toml");

pub async fn execute(global: &GlobalArgs, args: DemoArgs) -> CliResult {
    let config = settings::load(global, |mut builder| {
        for app in APPS {
            builder = (app.configure)(builder);
        }
        let builder = builder.add_text("superhero demo defaults", Format::Toml, DEFAULTS, None);
        match args.http {
            Some(addr) => builder.set("http/server/listen", json!(addr.to_string())),
            None => builder,
        }
    })?;
    Ok(Core::new(config, services::registry())
        .run_with(print_banner)
        .await?)
}

fn print_banner(running: &Running) {
    let Some(addr) = running
        .locator()
        .locate::<HttpService>("http")
        .ok()
        .and_then(|http| http.local_addr())
    else {
        return;
    };
    let base = format!("http://{addr}");
    println!("Superhero demo node is up.");
    for app in APPS {
        println!("  {:<14} {}", app.name, app.summary);
        for link in app.links {
            println!("  {:<14}   {base}{link}", "");
        }
    }
    println!("  {:<14} {base}/openapi.json", "OpenAPI");
    println!("Stop with Ctrl-C.");
}
