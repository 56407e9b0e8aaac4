//! "No duplicate title by the same author within an hour", enforced by the event store:
//! each (author, title) is a stream of domain [`DOMAIN`] whose events claim the title
//! for one post. A request claims it by appending to that stream expecting the version it
//! read, so of two requests racing for the same title exactly one wins, on any number of
//! validators; the loser reads the winner's claim and is refused.
//!
//! A claim names the request that made it, so a validator that runs again for the same
//! request (its event was redelivered) finds its own claim and goes on.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use superhero_app::{EventType, reply_id};
use superhero_eventflow::{AppendRequest, Error, Event, EventLog, ExpectedVersion, SqlStore};
use uuid::Uuid;

use crate::error::BoardError;

/// The domain of title streams.
pub const DOMAIN: &str = "post-title";

/// A claim of a title.
pub const TITLE_CLAIMED: EventType<TitleClaim> = EventType::new(DOMAIN, "post-title-claimed");

/// Which post claimed the title, for which request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleClaim {
    /// The post.
    pub post_id: String,
    /// The `post-create-requested` event.
    pub request_id: Uuid,
}

/// The title as compared: trimmed, white space collapsed, lower case.
pub fn normalize(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The stream of `author`'s `title`.
pub fn stream(author_id: &str, title: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(author_id.as_bytes());
    hash.update([0]);
    hash.update(normalize(title).as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Claims `title` of `author_id` for the post of `request`: `Ok(true)` when this
/// request holds the claim, `Ok(false)` when another post holds one made less than
/// `window` ago.
pub async fn claim(
    store: &SqlStore,
    request: &Event,
    author_id: &str,
    title: &str,
    window: Duration,
) -> Result<bool, ClaimError> {
    let stream = stream(author_id, title);
    let claim = TitleClaim {
        post_id: request.pid.clone(),
        request_id: request.id,
    };
    for _ in 0..3 {
        let version = store.stream_version(DOMAIN, &stream).await?;
        if version > 0 {
            let last = store
                .read_stream_backwards(DOMAIN, &stream, None, 1)
                .await?;
            if let Some(last) = last.first() {
                let held = TITLE_CLAIMED.decode(last);
                if held
                    .as_ref()
                    .is_ok_and(|held| held.request_id == request.id)
                {
                    return Ok(true);
                }
                let now = store.tables().now();
                if now.since(last.timestamp) < window {
                    return Ok(false);
                }
            }
        }
        let event = TITLE_CLAIMED
            .event(&stream, &claim)?
            .with_id(reply_id(request, TITLE_CLAIMED.key()));
        let append = AppendRequest::new(vec![event]).expect(ExpectedVersion::Exact(version));
        match store.append(append).await {
            Ok(_) => return Ok(true),
            Err(Error::Conflict { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ClaimError::Contended(BoardError::TitleContended {
        author: author_id.to_owned(),
    }))
}

/// Why a claim could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Error),
    /// The claim does not serialize.
    #[error(transparent)]
    Payload(#[from] superhero_app::AppError),
    /// Three rounds lost to other writers.
    #[error(transparent)]
    Contended(BoardError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_compare_without_case_or_extra_white_space() {
        assert_eq!(normalize("  Hello   World "), "hello world");
        assert_eq!(stream("u-1", "Hello World"), stream("u-1", " hello  world"));
        assert_ne!(stream("u-1", "Hello"), stream("u-2", "Hello"));
        assert_ne!(stream("u-1", "Hello"), stream("u-1", "Hello!"));
    }
}
