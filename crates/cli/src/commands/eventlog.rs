//! `superhero eventlog <domain> <pid>`: the event-log of one process, then its projected
//! state.

use clap::Args;
use serde_json::json;
use superhero_eventflow::EventLog;

use super::store::{self, StoreArgs};
use crate::cli::GlobalArgs;
use crate::error::CliResult;

/// Options of `superhero eventlog`.
#[derive(Debug, Args)]
pub struct EventlogArgs {
    /// The process's domain.
    pub domain: String,
    /// The process id.
    pub pid: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print one JSON document `{events, state}` instead of lines.
    #[arg(long)]
    pub json: bool,
}

pub async fn execute(global: &GlobalArgs, args: EventlogArgs) -> CliResult {
    let store = store::open(global, &args.store).await?;
    let events = store.read_stream(&args.domain, &args.pid).await?;
    let state = store.read_state(&args.domain, &args.pid).await?;
    store.close().await;
    if args.json {
        let document =
            json!({"domain": args.domain, "pid": args.pid, "events": events, "state": state});
        out!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
        return Ok(());
    }
    out!(
        "event-log {} › {} ({} events)",
        args.domain,
        args.pid,
        events.len()
    );
    for event in &events {
        out!(
            "  v{:<4} #{:<8} {}  {:<24} {}  id={}",
            event.version,
            event.position,
            event.timestamp.to_rfc3339(),
            event.name,
            event.data,
            event.id
        );
    }
    out!("state:");
    out!(
        "{}",
        serde_json::to_string_pretty(&state).unwrap_or_default()
    );
    Ok(())
}
