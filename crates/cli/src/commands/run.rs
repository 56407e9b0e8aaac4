//! `superhero run`: one node, or a supervisor of worker processes.

use std::time::Duration;

use superhero_core::Core;
use superhero_core::cluster::{RestartPolicy, Supervisor, WorkerControl, Workers};
use tracing::Instrument;

use crate::apps;
use crate::cli::{GlobalArgs, RunArgs};
use crate::error::{CliError, CliResult};
use crate::{services, settings};

/// How much longer than a worker's own shutdown deadline the supervisor waits
/// before it kills the worker.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub async fn execute(global: &GlobalArgs, args: RunArgs) -> CliResult {
    let mounted = args
        .apps
        .iter()
        .map(|name| {
            apps::find(name).ok_or_else(|| CliError::UnknownApp {
                name: name.clone(),
                known: apps::names(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = settings::load(global, |mut builder| {
        for app in &mounted {
            builder = app.configure(builder);
        }
        builder
    })?;

    if let Some(id) = WorkerControl::current_id() {
        let span = tracing::info_span!("worker", id = %id);
        return Ok(Core::new(config, services::registry())
            .run()
            .instrument(span)
            .await?);
    }

    let workers = match args.workers {
        Some(workers) => Some(workers),
        None => config.get::<Workers>("core/cluster/workers")?,
    };
    match workers {
        None => Ok(Core::new(config, services::registry()).run().await?),
        Some(workers) => {
            let policy = config
                .get::<RestartPolicy>("core/cluster/restart")?
                .unwrap_or_default();
            let stop_timeout = settings::shutdown_timeout(&config)? + STOP_GRACE;
            Ok(Supervisor::new(workers.count())?
                .policy(policy)
                .stop_timeout(stop_timeout)
                .run()
                .await?)
        }
    }
}
