//! `Idempotency-Key` for POST routes: a retried request with the same key and the same
//! body is the same command (it gets the first request's process id and request event
//! id, so it publishes nothing new and answers from the first outcome); the same key with
//! another body is refused, 422 `E_APP_IDEMPOTENCY_KEY_REUSED`.
//!
//! Keys are kept in the event store, so every worker and every node sees them: each key
//! is a stream of domain [`DOMAIN`] whose pid is the SHA-256 of the scope and the key.
//! The first request appends its claim expecting the stream to be empty; a concurrent
//! duplicate loses that race with `E_EVENTFLOW_CONFLICT` and reads the winner's claim
//! instead. A claim older than the time to live (default 24 h) may be taken over by a new
//! request.
//!
//! ```no_run
//! # async fn dispatch(spoke: &superhero_eventflow::Spoke, request: &mut superhero_http::Request)
//! # -> Result<(), superhero_http::HttpError> {
//! use superhero_app::idempotency::{CommandIds, IdempotencyKey};
//!
//! let fresh = CommandIds::new(uuid::Uuid::now_v7().to_string());
//! let ids = match IdempotencyKey::from_request(request, "alice").await? {
//!     Some(key) => key.claim(spoke, fresh).await?,
//!     None => fresh,
//! };
//! // Build the request event with `ids.pid` and `.with_id(ids.event_id)`, then run the
//! // AsyncCommand as usual.
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use superhero_eventflow::{
    AppendRequest, Error as EventflowError, ExpectedVersion, Spoke, Timestamp,
};
use superhero_http::Request;
use uuid::Uuid;

use crate::contract::EventType;
use crate::error::{AppError, Result};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The domain of the key streams.
pub const DOMAIN: &str = "idempotency-key";
/// How long a key holds by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// The claim recorded for a key.
pub const CLAIMED: EventType<Claim> = EventType::new(DOMAIN, "idempotency-key-claimed");

/// What a key's stream records: which command the key stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The scope the key was used in (route and user, say).
    pub scope: String,
    /// SHA-256 of the request body, hex.
    pub fingerprint: String,
    /// The command's process id.
    pub pid: String,
    /// The id of the command's request event.
    pub event_id: Uuid,
}

/// A command's process id and the id of its request event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandIds {
    /// The process id.
    pub pid: String,
    /// The request event's id (set it with `NewEvent::with_id`).
    pub event_id: Uuid,
}

impl CommandIds {
    /// Ids for a new command of process `pid`, with a new event id.
    pub fn new(pid: impl Into<String>) -> Self {
        CommandIds {
            pid: pid.into(),
            event_id: Uuid::now_v7(),
        }
    }
}

/// A request's `Idempotency-Key` in its scope, with the fingerprint of its body.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: String,
    scope: String,
    fingerprint: String,
    ttl: Duration,
}

impl IdempotencyKey {
    /// The key of `request` (`None` without the header) in `scope` (whose keys these are:
    /// the user, say), fingerprinted with its method, path, query and body: the same key
    /// on another resource is a reuse too.
    /// A key of 1 to 255 visible ASCII characters (optionally a quoted string, as the
    /// IETF draft writes it) is accepted; anything else is 400
    /// `E_APP_IDEMPOTENCY_KEY_INVALID`.
    pub async fn from_request(
        request: &mut Request,
        scope: &str,
    ) -> std::result::Result<Option<IdempotencyKey>, superhero_http::HttpError> {
        let Some(raw) = request.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = parse(raw.as_bytes())?;
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(|| request.path().to_owned(), ToString::to_string);
        let method = request.method().to_string();
        let body = request.body_bytes().await?;
        Ok(Some(IdempotencyKey::new(
            key,
            scope,
            &[method.as_bytes(), target.as_bytes(), &body],
        )))
    }

    /// The key `key` in `scope` for a request made of `parts` (method, target, body…):
    /// the fingerprint is the SHA-256 of the parts, each length-prefixed.
    pub fn new(key: impl Into<String>, scope: impl Into<String>, parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        IdempotencyKey {
            key: key.into(),
            scope: scope.into(),
            fingerprint: hex(&hash.finalize()),
            ttl: DEFAULT_TTL,
        }
    }

    /// How long the key holds (default [`DEFAULT_TTL`]), measured on this process's clock
    /// against the claim's store timestamp; zero: every claim has expired.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The pid of this key's stream.
    pub fn stream(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.scope.as_bytes());
        hash.update([0]);
        hash.update(self.key.as_bytes());
        hex(&hash.finalize())
    }

    /// Claims the key for the command `fresh`; returns the ids to use: `fresh` for the
    /// first use, the first use's ids for a retry with the same body, and
    /// [`AppError::IdempotencyKeyReused`] for another body.
    pub async fn claim(&self, spoke: &Spoke, fresh: CommandIds) -> Result<CommandIds> {
        let stream = self.stream();
        let claim = Claim {
            scope: self.scope.clone(),
            fingerprint: self.fingerprint.clone(),
            pid: fresh.pid.clone(),
            event_id: fresh.event_id,
        };
        // At most: claim fails on a fresh stream, the winner's claim has expired, a
        // third request took it over in between.
        for _ in 0..3 {
            let version = spoke.store().stream_version(DOMAIN, &stream).await?;
            if version > 0 {
                let events = spoke.store().read_stream(DOMAIN, &stream).await?;
                if let Some(last) = events.last() {
                    let held = CLAIMED.decode(last)?;
                    let expired = Timestamp::now().since(last.timestamp) >= self.ttl;
                    if !expired {
                        return self.replay(held);
                    }
                }
            }
            let append = AppendRequest::new(vec![CLAIMED.event(&stream, &claim)?])
                .expect(ExpectedVersion::Exact(version));
            match spoke.store().append(append).await {
                Ok(_) => return Ok(fresh),
                Err(EventflowError::Conflict { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(AppError::IdempotencyKeyContended {
            key: self.key.clone(),
        })
    }

    /// The held claim's ids when it is for the same request.
    fn replay(&self, held: Claim) -> Result<CommandIds> {
        if held.fingerprint != self.fingerprint {
            return Err(AppError::IdempotencyKeyReused {
                key: self.key.clone(),
            });
        }
        Ok(CommandIds {
            pid: held.pid,
            event_id: held.event_id,
        })
    }
}

/// The key text of a header value.
fn parse(raw: &[u8]) -> Result<String> {
    let invalid = |reason: &str| AppError::IdempotencyKeyInvalid {
        reason: reason.to_owned(),
    };
    let raw = match raw {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    if raw.is_empty() {
        return Err(invalid("is empty"));
    }
    if raw.len() > MAX_KEY_LEN {
        return Err(invalid("is longer than 255 characters"));
    }
    if !raw.iter().all(|b| b.is_ascii_graphic()) {
        return Err(invalid("must be visible ASCII characters"));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255_bytes_optionally_quoted() {
        assert_eq!(parse(b"abc-123").unwrap(), "abc-123");
        assert_eq!(parse(b"\"abc\"").unwrap(), "abc");
        for bad in [&b""[..], b"\"\"", b"a b", &[b'x'; 256]] {
            assert_eq!(
                parse(bad).unwrap_err().code(),
                "E_APP_IDEMPOTENCY_KEY_INVALID"
            );
        }
    }

    #[test]
    fn the_stream_depends_on_scope_and_key_not_on_the_body() {
        let a = IdempotencyKey::new("k", "alice", &[b"POST", b"/posts", b"{}"]);
        let b = IdempotencyKey::new("k", "alice", &[b"POST", b"/posts", b"{\"x\":1}"]);
        let c = IdempotencyKey::new("k", "bob", &[b"POST", b"/posts", b"{}"]);
        let d = IdempotencyKey::new("k", "alice", &[b"POST", b"/posts/2", b"{}"]);
        let e = IdempotencyKey::new("k", "alice", &[b"POST", b"/posts/", b"2{}"]);
        assert_eq!(a.stream(), b.stream());
        assert_ne!(a.stream(), c.stream());
        assert_eq!(a.stream().len(), 64);
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, d.fingerprint, "another resource");
        assert_ne!(d.fingerprint, e.fingerprint, "parts are length-prefixed");
    }
}
