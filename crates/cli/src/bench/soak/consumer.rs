//! `superhero bench soak-consumer` (hidden): one consuming spoke of the soak, in its own
//! process so the driver can kill it. It consumes every event of the soak's domain and,
//! for each, appends `<event id> <unix ms> <pid>` to its records file before its handler
//! returns `Ok`: the handlers' own records the checker reads.
//!
//! One `write(2)` per line on a file opened for appending: a process killed at any point
//! leaves whole lines (the kernel has them once the call returns; the soak kills
//! processes, not the machine, so no `fsync`).

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Args;
use serde_json::json;
use superhero_core::Core;
use superhero_eventflow::service::{SPOKE, SpokeService};

use super::DOMAIN;
use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::{services, settings};

/// Options of `superhero bench soak-consumer`.
#[derive(Debug, Args)]
pub struct SoakConsumerArgs {
    /// The file to append handler records to.
    #[arg(long)]
    pub records: PathBuf,
}

/// Runs the consumer until SIGTERM/SIGINT.
pub async fn execute(global: &GlobalArgs, args: SoakConsumerArgs) -> CliResult {
    let failed = |e: String| CliError::Bench(format!("soak consumer: {e}"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.records)
        .map_err(|e| failed(format!("{}: {e}", args.records.display())))?;
    let file = Arc::new(Mutex::new(file));
    let config = settings::load(global, |builder| {
        builder.add_value(
            "superhero bench soak-consumer",
            json!({
                "locator": {"eventflow/spoke": true},
                "bootstrap": {"eventflow/spoke": true}
            }),
        )
    })?;
    let mut signals =
        superhero_core::shutdown::Signals::install().map_err(|e| failed(e.to_string()))?;
    let running = Core::new(config, services::registry()).start().await?;
    let spoke = running
        .locator()
        .locate::<SpokeService>(SPOKE)?
        .spoke()
        .clone();
    let pid = std::process::id();
    spoke
        .consume(DOMAIN, "*", move |event| {
            let file = file.clone();
            async move {
                let line = format!("{} {} {pid}\n", event.id, super::now_ms());
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                file.write_all(line.as_bytes())?;
                Ok(())
            }
        })
        .map_err(|e| failed(e.to_string()))?;
    tracing::info!(records = %args.records.display(), "soak consumer ready");
    signals.recv().await;
    running.shutdown().await?;
    Ok(())
}
