//! `superhero rebuild <app>`: rebuilds the app's read models from the event-log in the
//! configured store, reporting progress on stderr and a summary on stdout.

use clap::Args;
use superhero_app::read_model::Progress;

use super::store::{self, StoreArgs};
use crate::apps;
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};

/// Options of `superhero rebuild`.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The app whose read models to rebuild, e.g. `message-board`.
    pub app: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn execute(global: &GlobalArgs, args: RebuildArgs) -> CliResult {
    let app = apps::find(&args.app).ok_or_else(|| CliError::UnknownApp {
        name: args.app.clone(),
        known: apps::names(),
    })?;
    let rebuild = app.rebuild.ok_or_else(|| CliError::NothingToRebuild {
        app: app.name.to_owned(),
    })?;
    let store = store::open(global, &args.store).await?;
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
