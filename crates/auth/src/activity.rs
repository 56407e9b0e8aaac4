//! The activity recorder: after each authenticated request, a `user-activity` event in
//! domain `activity` (pid = the user id) with the method, the path (never the query),
//! the status, the duration and the session's hash — never a secret, a body, a
//! signature or a password.
//!
//! The event is announced (`Spoke::announce`: stored, then passed once to its
//! subscribers, without delivery bookkeeping — activity is read, not processed) on its
//! own task once the response is decided, so it never delays the answer. The one crash
//! window: the process dies between that moment (the response is decided, perhaps not
//! yet sent) and the spoke's next group commit (a few milliseconds): the record is
//! lost. At most [`MAX_IN_FLIGHT`] records wait to be stored; beyond, when the store
//! falls behind, records are dropped and counted in a warning rather than piling up in
//! memory. Every other failure to record is logged (`E_…` code, no payload).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use superhero_eventflow::{NewEvent, Spoke};

use crate::verify::Authenticated;

/// The domain of activity events.
pub const DOMAIN: &str = "activity";
/// The event name.
pub const USER_ACTIVITY: &str = "user-activity";

/// The payload of a `user-activity` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserActivity {
    /// The request method.
    pub method: String,
    /// The request path, without its query.
    pub path: String,
    /// The response status.
    pub status: u16,
    /// How long the request took, in milliseconds.
    pub duration_ms: u64,
    /// SHA-256 of the session id, hex.
    pub session: String,
}

/// The most records waiting to be stored at once (per process).
pub const MAX_IN_FLIGHT: usize = 10_000;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Announces `activity` for `who` on a task of its own.
pub fn record(spoke: &Spoke, who: &Authenticated, activity: UserActivity) {
    if IN_FLIGHT.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        let dropped = DROPPED.fetch_add(1, Ordering::Relaxed) + 1;
        if dropped.is_power_of_two() {
            tracing::warn!(
                dropped,
                "the store falls behind: activity records are dropped"
            );
        }
        return;
    }
    let data = match serde_json::to_value(&activity) {
        Ok(data) => data,
        Err(error) => {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(%error, "an activity record could not be encoded");
            return;
        }
    };
    let event = NewEvent::new(DOMAIN, who.user_id.clone(), USER_ACTIVITY).with_data(data);
    let spoke = spoke.clone();
    tokio::spawn(async move {
        if let Err(error) = spoke.announce(event).await {
            tracing::warn!(code = error.code(), "an activity record was not stored");
        }
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    });
}
