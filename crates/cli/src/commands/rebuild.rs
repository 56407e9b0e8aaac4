//! `superhero rebuild <app>`: rebuilds the app's read models from the event-log in the
//! configured store, reporting progress on stderr and a summary on stdout.

use clap::Args;
use serde_json::json;
use superhero_app::read_model::Progress;
use superhero_eventflow::SqlStore;
use superhero_eventflow::service::settings as eventflow_settings;

use crate::apps;
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::settings;

/// Options of `superhero rebuild`.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The app whose read models to rebuild, e.g. `message-board`.
    pub app: String,
    /// Store URL (default: config `eventflow.store.url`, else sqlite://data/eventflow.db).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

pub async fn execute(global: &GlobalArgs, args: RebuildArgs) -> CliResult {
    let app = apps::find(&args.app).ok_or_else(|| CliError::UnknownApp {
        name: args.app.clone(),
        known: apps::names(),
    })?;
    let rebuild = app.rebuild.ok_or_else(|| CliError::NothingToRebuild {
        app: app.name.to_owned(),
    })?;
    let config = settings::load(global, |builder| match &args.store {
        Some(url) => builder.set("eventflow/store/url", json!(url)),
        None => builder,
    })?;
    let store = SqlStore::open(&eventflow_settings::store(&config)?).await?;
    eprintln!("rebuilding the read models of {} …", app.name);
    let outcome = rebuild(store.clone(), Progress::stderr(app.name)).await;
    store.close().await;
    let summary = outcome.map_err(|error| CliError::Rebuild {
        app: app.name.to_owned(),
        reason: superhero_core::report(&*error),
    })?;
    println!("rebuilt {}: {summary}", app.name);
    Ok(())
}
