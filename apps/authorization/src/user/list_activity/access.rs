//! The contract of `list_activity`: pages of a user's `user-activity` events, read from
//! the event-log (domain `activity`, pid = the user id).

use serde_json::{Value, json};
use superhero_auth::activity::DOMAIN;
use superhero_auth::{AuthError, AuthService};
use superhero_core::async_trait;

/// One page of activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records, newest first: `version`, `at`, and the event's data.
    pub items: Vec<Value>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<u64>,
}

/// Reads activity.
#[async_trait]
pub trait ListActivity: Send + Sync {
    /// At most `limit` records of `user_id` older than `before`, newest first.
    async fn page(&self, user_id: &str, before: Option<u64>, limit: u32)
    -> Result<Page, AuthError>;
}

#[async_trait]
impl ListActivity for AuthService {
    async fn page(
        &self,
        user_id: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Page, AuthError> {
        let Some(spoke) = self.spoke() else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let events = spoke
            .store()
            .read_stream_backwards(DOMAIN, user_id, before, limit)
            .await?;
        let next = (events.len() == limit as usize)
            .then(|| events.last().map(|e| e.version))
            .flatten()
            .filter(|version| *version > 1);
        let items = events
            .into_iter()
            .map(|event| {
                let mut item =
                    json!({"version": event.version, "at": event.timestamp.to_rfc3339()});
                if let (Value::Object(item), Value::Object(data)) = (&mut item, event.data) {
                    item.extend(data);
                }
                item
            })
            .collect();
        Ok(Page { items, next })
    }
}
