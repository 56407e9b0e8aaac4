//! The activity recorder: after each authenticated request, a `user-activity` event in
//! domain `activity` (pid = the user id) with the method, the path (never the query),
//! the status, the duration and the session's hash — never a secret, a body, a
//! signature or a password.
//!
//! The event is announced (`Spoke::announce`: stored, then passed once to its
//! subscribers, without delivery bookkeeping — activity is read, not processed) on its
//! own task once the response is decided, so it never delays the answer. The one crash
//! window: the process dies after the response is handed to the connection and before
//! the spoke's next group commit (a few milliseconds). The event is then lost; the
//! response was sent. Every other failure to record is logged (`E_…` code, no payload).

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

/// Announces `activity` for `who` on a task of its own.
pub fn record(spoke: &Spoke, who: &Authenticated, activity: UserActivity) {
    let data = match serde_json::to_value(&activity) {
        Ok(data) => data,
        Err(error) => {
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
    });
}
