//! `superhero status`: a cluster at a glance from its store — the hubs online with their
//! heartbeat age and connected spokes, the backlog per domain (unrouted, orphaned, in
//! flight, retrying, parked,
//! each with its oldest age; [`superhero_eventflow::status`] defines them) and the scheduled
//! events due in the next minute.

use std::time::Duration;

use clap::Args;
use serde_json::json;
use superhero_eventflow::{HubConfig, HubRegistry, StatusStore, Timestamp};

use super::store::{self, StoreArgs};
use crate::cli::GlobalArgs;
use crate::error::CliResult;

/// Options of `superhero status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One JSON document instead of tables.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn execute(global: &GlobalArgs, args: StatusArgs) -> CliResult {
    let store = store::open(global, &args.store).await?;
    let ttl = Duration::from_millis(HubConfig::default().hub_ttl_ms);
    let read = async {
        let hubs = store.live_hubs(ttl).await?;
        let domains = store.domain_status().await?;
        let now = Timestamp::now();
        let due = store.scheduled_due(now + Duration::from_secs(60)).await?;
        Ok::<_, superhero_eventflow::Error>((now, hubs, domains, due))
    }
    .await;
    store.close().await;
    let (now, hubs, domains, due) = read?;
    if args.json {
        let document = json!({
            "at": now.to_rfc3339(),
            "hubs": hubs.iter().map(|hub| json!({
                "id": hub.registration.id,
                "address": format!("{}:{}", hub.registration.external_host, hub.registration.external_port),
                "heartbeat_age_ms": now.since(hub.heartbeat_at).as_millis(),
                "spokes": hub.spokes,
            })).collect::<Vec<_>>(),
            "domains": domains,
            "scheduled_due_next_minute": due,
        });
        out!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
        return Ok(());
    }
    out!("status at {}", now.to_rfc3339());
    out!("hubs online: {}", hubs.len());
    for hub in &hubs {
        let registration = &hub.registration;
        out!(
            "  {}  {}:{}  heartbeat {} ago  spokes {}{}",
            registration.id,
            registration.external_host,
            registration.external_port,
            store::age(hub.heartbeat_at, now),
            hub.spokes.len(),
            if hub.spokes.is_empty() {
                String::new()
            } else {
                format!(": {}", hub.spokes.join(", "))
            }
        );
    }
    if domains.is_empty() {
        out!("backlog: none (every published event is settled)");
    } else {
        out!(
            "backlog    {:<24} {:>9} {:>7}  {:>8} {:>7}  {:>9} {:>7}  {:>8} {:>7}  {:>7} {:>7}",
            "domain",
            "unrouted",
            "oldest",
            "orphaned",
            "oldest",
            "in-flight",
            "oldest",
            "retrying",
            "oldest",
            "parked",
            "oldest"
        );
        let oldest =
            |at: Option<Timestamp>| at.map_or_else(|| "-".to_owned(), |at| store::age(at, now));
        for d in &domains {
            out!(
                "           {:<24} {:>9} {:>7}  {:>8} {:>7}  {:>9} {:>7}  {:>8} {:>7}  {:>7} {:>7}",
                d.domain,
                d.unrouted,
                oldest(d.oldest_unrouted),
                d.orphaned,
                oldest(d.oldest_orphaned),
                d.in_flight,
                oldest(d.oldest_in_flight),
                d.retrying,
                oldest(d.oldest_retrying),
                d.parked,
                oldest(d.oldest_parked)
            );
        }
    }
    out!("scheduled events due in the next minute: {due}");
    Ok(())
}
