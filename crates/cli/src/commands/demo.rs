//! `superhero demo`: the all-in-one node — every app on one HTTP port, with an
//! embedded eventflow hub and spoke on SQLite under `./data` (or `--data DIR`).
//!
//! The hub listens on an ephemeral loopback port: spokes find it through the store's
//! hub registry, so two demos with different `--http` ports and data folders run side
//! by side.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use superhero_core::config::Format;
use superhero_core::{Core, Running};
use superhero_eventflow::service::{HUB, HubService};
use superhero_http::service::HttpService;

use crate::apps::APPS;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::error::{CliError, CliResult};
use crate::{services, settings};

/// The demo's own defaults, under the apps' wiring and the user's config files.
const DEFAULTS: &str = include_str!("demo.toml");

/// Where the demo keeps its data unless `--data` says otherwise.
const DATA_DIR: &str = "data";

pub async fn execute(global: &GlobalArgs, args: DemoArgs) -> CliResult {
    let data = args.data.clone().unwrap_or_else(|| PathBuf::from(DATA_DIR));
    prepare_data_folder(&data)?;
    let secret = cluster_secret(&data)?;
    let store = json!(format!("sqlite://{}", data.join("eventflow.db").display()));
    let config = settings::load(global, |builder| {
        let mut builder = builder
            .add_text("superhero demo defaults", Format::Toml, DEFAULTS, None)
            .add_value(
                data.join("eventflow.secret").display().to_string(),
                json!({"eventflow": {
                    "certificates": {"secret": secret},
                    "store": {"url": store},
                }}),
            );
        for app in APPS {
            builder = app.configure(builder);
        }
        builder = crate::page::APP.configure(builder);
        if args.data.is_some() {
            builder = builder.set("eventflow/store/url", store.clone());
        }
        match args.http {
            Some(addr) => builder.set("http/server/listen", json!(addr.to_string())),
            None => builder,
        }
    })?;
    Ok(Core::new(config, services::registry())
        .run_with(print_banner)
        .await?)
}

/// Creates the data folder and checks it can hold the store, naming the folder when it
/// cannot. Its path becomes part of a `sqlite:` URL, so `?`, `#` and `%` are refused.
fn prepare_data_folder(dir: &Path) -> CliResult<()> {
    let shown = dir.display().to_string();
    if shown.contains(['?', '#', '%']) {
        return Err(CliError::Demo(format!(
            "the data folder {shown} must not contain '?', '#' or '%'"
        )));
    }
    let failed = |e: std::io::Error| CliError::Demo(format!("the data folder {shown}: {e}"));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let probe = dir.join(".superhero-write-check");
    std::fs::write(&probe, b"").map_err(failed)?;
    std::fs::remove_file(&probe).map_err(failed)?;
    Ok(())
}

/// The eventflow cluster secret of this data folder: read from
/// `<data>/eventflow.secret`, or created there (owner-only) with 256 random bits on
/// the first run. An explicit `eventflow.certificates.secret` (config file or
/// `SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET`) takes precedence.
fn cluster_secret(dir: &Path) -> CliResult<String> {
    let file = dir.join("eventflow.secret");
    let failed = |e: std::io::Error| CliError::Demo(format!("{}: {e}", file.display()));
    match std::fs::read_to_string(&file) {
        Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(e)),
    }
    std::fs::create_dir_all(dir).map_err(failed)?;
    let secret: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut handle = options.open(&file).map_err(failed)?;
    handle.write_all(secret.as_bytes()).map_err(failed)?;
    Ok(secret)
}

fn print_banner(running: &Running) {
    let locator = running.locator();
    let Some(addr) = locator
        .locate::<HttpService>("http")
        .ok()
        .and_then(|http| http.local_addr())
    else {
        return;
    };
    let base = format!("http://{addr}");
    println!("Superhero demo node is up. Open {base}/ in a browser.");
    for app in APPS {
        println!("  {:<14} {}", app.name, app.summary);
        for link in app.links {
            println!("  {:<14}   {:<8} {base}{}", "", link.label, link.path);
        }
    }
    println!("  {:<14} {base}/openapi.json", "OpenAPI");
    if let Some(hub) = locator.locate::<HubService>(HUB).ok().and_then(|s| s.hub()) {
        println!(
            "  {:<14} {} (mutual TLS), store {}",
            "eventflow hub",
            hub.local_addr(),
            running
                .config()
                .find("eventflow/store/url")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
        );
    }
    println!("Stop with Ctrl-C.");
}
