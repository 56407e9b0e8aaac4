//! `superhero hub`: an eventflow hub node (the `eventflow/hub` service and its store) from
//! config, until SIGTERM/SIGINT; with `--metrics ADDR` also the `http` service serving the
//! probes and `/metrics` there.

use std::net::SocketAddr;

use clap::Args;
use serde_json::json;
use superhero_core::Core;

use crate::cli::GlobalArgs;
use crate::error::CliResult;
use crate::{services, settings};

/// Options of `superhero hub`.
#[derive(Debug, Args)]
pub struct HubArgs {
    /// Port to listen on (0: any free port; default: config `eventflow.hub.internal_port`,
    /// else 50001).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Store URL (default: config `eventflow.store.url`, else sqlite://data/eventflow.db).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Also serve `GET /metrics`, `/healthz` and `/readyz` over HTTP on this address
    /// (the `http` service with no app), e.g. 127.0.0.1:9100.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

pub async fn execute(global: &GlobalArgs, args: HubArgs) -> CliResult {
    let config = settings::load(global, |builder| {
        let mut builder = builder.add_value(
            "superhero hub defaults",
            json!({
                "locator": {"eventflow/hub": true},
                "bootstrap": {"eventflow/hub": true}
            }),
        );
        if let Some(port) = args.port {
            builder = builder.set("eventflow/hub/internal_port", json!(port));
        }
        if let Some(url) = args.store {
            builder = builder.set("eventflow/store/url", json!(url));
        }
        if let Some(addr) = args.metrics {
            builder = builder
                .add_value(
                    "superhero hub --metrics",
                    json!({"locator": {"http": true}, "bootstrap": {"http": true}}),
                )
                .set("http/server/listen", json!(addr.to_string()));
        }
        builder
    })?;
    Ok(Core::new(config, services::registry()).run().await?)
}
