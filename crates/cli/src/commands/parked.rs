//! `superhero parked`: the parked (dead-lettered) events with their last error and delivery
//! count, streamed page by page from any store.

use clap::Args;
use superhero_eventflow::DeliveryStore;

use super::store::{self, ParkedFilter, StoreArgs};
use crate::cli::GlobalArgs;
use crate::error::CliResult;

/// How many parked events one query reads.
const PAGE: u32 = 500;

/// Options of `superhero parked`.
#[derive(Debug, Args)]
pub struct ParkedArgs {
    #[command(flatten)]
    pub filter: ParkedFilter,
    /// List at most K events (at least 1).
    #[arg(long, value_name = "K", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    /// One JSON object per line instead of a table: `{event: {id, position, domain, pid,
    /// name}, deliveries, parked_at (RFC 3339), last_error}`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn execute(global: &GlobalArgs, args: ParkedArgs) -> CliResult {
    let store = store::open(global, &args.store).await?;
    let now = superhero_eventflow::Timestamp::now();
    let mut query = args.filter.query(PAGE);
    let mut listed = 0_u64;
    let mut last = None;
    'pages: while listed < args.limit {
        query.limit = u32::try_from((args.limit - listed).min(u64::from(PAGE))).unwrap_or(PAGE);
        let page = store.parked(&query).await?;
        if page.is_empty() {
            break;
        }
        for parked in page {
            let event = &parked.event;
            if args.json {
                let line = serde_json::json!({
                    "event": event,
                    "deliveries": parked.deliveries,
                    "parked_at": parked.parked_at.to_rfc3339(),
                    "last_error": parked.last_error,
                });
                if !out!("{line}") {
                    break 'pages;
                }
            } else if !out!(
                "#{:<8} {} › {}  {}  id={}  deliveries={}  parked {} ({} ago)  error: {}",
                event.position,
                event.domain,
                event.pid,
                event.name,
                event.id,
                parked.deliveries,
                parked.parked_at.to_rfc3339(),
                store::age(parked.parked_at, now),
                store::printable(parked.last_error.as_deref().unwrap_or("-"))
            ) {
                break 'pages;
            }
            listed += 1;
            last = Some(event.position);
            query.after = event.position;
            if listed >= args.limit {
                break 'pages;
            }
        }
    }
    store.close().await;
    if !args.json {
        let summary = match last {
            None => "no parked events".to_owned(),
            Some(position) if listed >= args.limit => {
                format!("{listed} parked events listed; more may follow: --after {position}")
            }
            Some(_) if listed == 1 => "1 parked event".to_owned(),
            Some(_) => format!("{listed} parked events"),
        };
        out!("{summary}");
    }
    Ok(())
}
