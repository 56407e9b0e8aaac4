//! `superhero replay`: un-parks parked events page by page (never all of them in memory),
//! with progress on stderr, a stop point and a dry run; each page replayed is recorded in
//! the `eventflow-admin` domain with who replayed it ([`superhero_eventflow::parked`]).

use clap::Args;
use superhero_eventflow::parked::{self, ReplayRequest};

use super::store::{self, ParkedFilter, StoreArgs};
use crate::cli::GlobalArgs;
use crate::error::CliResult;

/// Options of `superhero replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub filter: ParkedFilter,
    /// Replay N events per page (one query, one update, one record each).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Stop after the event at this global position (it is replayed).
    #[arg(long, value_name = "POSITION")]
    pub stop_at: Option<u64>,
    /// List what would be replayed, page by page; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who replays, recorded with each page (default: $USER@host).
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub by: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn execute(global: &GlobalArgs, args: ReplayArgs) -> CliResult {
    let store = store::open(global, &args.store).await?;
    let mut query = args.filter.query(args.batch);
    query.until = args.stop_at;
    let request = ReplayRequest {
        query,
        by: args.by.clone().unwrap_or_else(operator),
        dry_run: args.dry_run,
    };
    let verb = if args.dry_run {
        "would replay"
    } else {
        "replayed"
    };
    let outcome = parked::replay(&store, &request, |progress| {
        eprintln!(
            "page {}: {verb} {} of {} parked events selected so far (up to position {})",
            progress.pages,
            if request.dry_run {
                progress.selected
            } else {
                progress.replayed
            },
            progress.selected,
            progress.position
        );
    })
    .await;
    store.close().await;
    let summary = outcome?;
    let progress = summary.progress;
    if args.dry_run {
        out!(
            "dry run: {} parked events selected in {}; nothing changed",
            progress.selected,
            pages(progress.pages)
        );
    } else {
        out!(
            "replayed {} of {} parked events in {} (run {}, recorded in eventflow-admin by {})",
            progress.replayed,
            progress.selected,
            pages(progress.pages),
            summary.run,
            request.by
        );
    }
    Ok(())
}

fn pages(count: u64) -> String {
    if count == 1 {
        "1 page".to_owned()
    } else {
        format!("{count} pages")
    }
}

/// `$USER@hostname`, for the record.
fn operator() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    format!("{user}@{host}")
}
