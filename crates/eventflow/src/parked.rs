//! Replaying parked (dead-lettered) events in chunks, and recording who replayed what:
//! the engine of `superhero replay`.
//!
//! A replay walks the parked events a [`ParkedQuery`] selects in position order, one page
//! of `limit` at a time (so memory holds one page, however many are parked), un-parks each
//! page ([`DeliveryStore::replay_parked`]: zero deliveries, available now; the hubs' sweep
//! routes them again) and appends one [`REPLAYED`] event to the [`ADMIN_DOMAIN`] stream of
//! the run, naming who replayed which events. `until` is the stop point (KurrentDB's
//! "replay parked messages … stop at"). A dry run reads the same pages and changes nothing.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::delivery::{DeliveryStore, ParkedQuery};
use crate::error::Result;
use crate::event::NewEvent;
use crate::eventlog::EventLog;

/// The domain of the event-log's administrative records.
pub const ADMIN_DOMAIN: &str = "eventflow-admin";

/// The name of the event a replay appends per replayed page: data
/// `{by, dry_run: false, filter, events: [ids], replayed, first_position, last_position}`,
/// pid = the run's id.
pub const REPLAYED: &str = "parked-events-replayed";

/// What to replay and on whose behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRequest {
    /// Which parked events (`after` is where to start, `limit` the page size).
    pub query: ParkedQuery,
    /// Who replays (recorded with every page), e.g. `alice@ops-1`.
    pub by: String,
    /// Read and report, change nothing, record nothing.
    pub dry_run: bool,
}

/// One page done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayProgress {
    /// Pages so far (1 for the first).
    pub pages: u64,
    /// Parked events selected so far.
    pub selected: u64,
    /// Of those, un-parked so far (0 in a dry run; fewer than selected when another
    /// replay or a consumer got there first).
    pub replayed: u64,
    /// The position of the last event of this page.
    pub position: u64,
}

/// A finished replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplaySummary {
    /// The run's id: the pid of its records in [`ADMIN_DOMAIN`].
    pub run: Uuid,
    /// The last page's progress (all zero when nothing was parked).
    pub progress: ReplayProgress,
}

/// Replays the parked events `request` selects, page by page, calling `on_page` after each.
///
/// Errors are the store's; pages replayed before an error stay replayed and recorded (the
/// error says what failed; running the same replay again continues with what is still
/// parked).
pub async fn replay<S>(
    store: &S,
    request: &ReplayRequest,
    mut on_page: impl FnMut(&ReplayProgress),
) -> Result<ReplaySummary>
where
    S: DeliveryStore + EventLog + ?Sized,
{
    let run = Uuid::now_v7();
    let mut query = request.query.clone();
    let mut progress = ReplayProgress {
        pages: 0,
        selected: 0,
        replayed: 0,
        position: query.after,
    };
    loop {
        let page = store.parked(&query).await?;
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            break;
        };
        let (first_position, last_position) = (first.event.position, last.event.position);
        let ids: Vec<Uuid> = page.iter().map(|parked| parked.event.id).collect();
        drop(page);
        let replayed = if request.dry_run {
            0
        } else {
            let replayed = store.replay_parked(&ids).await?;
            let record = NewEvent::new(ADMIN_DOMAIN, run.to_string(), REPLAYED).with_data(json!({
                "by": request.by,
                "dry_run": false,
                "filter": {
                    "domain": request.query.domain,
                    "name": request.query.name,
                    "since": request.query.since.map(|t| t.to_rfc3339()),
                    "until": request.query.until,
                },
                "events": ids,
                "replayed": replayed,
                "first_position": first_position,
                "last_position": last_position,
            }));
            store.append_one(record).await?;
            replayed
        };
        progress.pages += 1;
        progress.selected += ids.len() as u64;
        progress.replayed += replayed;
        progress.position = last_position;
        on_page(&progress);
        query.after = last_position;
    }
    Ok(ReplaySummary { run, progress })
}
