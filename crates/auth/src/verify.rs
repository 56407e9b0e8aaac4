//! The signed-session policy: what a request must carry, checked in this order (cheap
//! checks first; nothing is written unless the signature verifies):
//!
//! 1. exactly one signature in `Signature-Input` / `Signature`
//!    (`E_AUTH_SIGNATURE_MISSING`, `E_AUTH_SIGNATURE_INVALID`);
//! 2. `keyid` (`E_AUTH_SESSION_MISSING`), `alg` ∈ {`hmac-sha256`, `ed25519`}, `created`
//!    and `nonce` (`E_AUTH_SIGNATURE_INVALID`);
//! 3. covers `@method`, `@authority`, `@path`, `@query`, and `content-digest` when there
//!    is a body (`E_AUTH_SIGNATURE_COMPONENT_MISSING`);
//! 4. `created` within ± the window, `expires` not passed (`E_AUTH_SIGNATURE_EXPIRED`,
//!    `E_AUTH_SIGNATURE_NOT_YET_VALID`);
//! 5. the session `keyid` exists, has not ended (`E_AUTH_SESSION_UNKNOWN`) and is within
//!    its idle and absolute limits (`E_AUTH_SESSION_EXPIRED`);
//! 6. the signature verifies with the session's key for `alg`: its HMAC key, or for a
//!    session that registered an Ed25519 key, that key only (`E_AUTH_SIGNATURE_INVALID`);
//!    a session found expired is ended, so no later setting revives it;
//! 7. only now is the body read: it matches `Content-Digest`, all of its lines joined
//!    as signed (`E_AUTH_DIGEST_MISMATCH`);
//! 8. the nonce is new for this session (`E_AUTH_SIGNATURE_REPLAYED`), recorded in the
//!    store until it can no longer be replayed; last-seen is touched at most every touch
//!    interval.

use std::time::Duration;

use superhero_eventflow::Timestamp;
use superhero_http::Request;

use crate::error::{AuthError, Result};
use crate::service::AuthService;
use crate::signature::digest::{self, CONTENT_DIGEST, DigestError};
use crate::signature::input::{self, Signature};
use crate::signature::{Algorithm, Component, RequestParts, SignatureError, VerifyingKey};
use crate::store::nonces::keep_for;
use crate::store::sessions;

/// The components every signed request covers.
pub const REQUIRED: [&str; 4] = ["@method", "@authority", "@path", "@query"];

/// Who made an authenticated request; in the request's extensions after the
/// signed-session middleware (read it with [`crate::authenticated`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user.
    pub user_id: String,
    /// SHA-256 of the session id, hex (never the id).
    pub session_hash: String,
    /// The algorithm the request was signed with.
    pub algorithm: Algorithm,
    /// When the session started.
    pub session_started: Timestamp,
    /// When the session ends at the latest.
    pub session_expires: Timestamp,
}

/// What the signature of a request says, read from the request at once (so nothing
/// borrows the request across an await): its session, algorithm, parameters, the
/// signature base and value, and the `Content-Digest` it vouches for.
#[derive(Debug, Clone)]
pub struct Inspected {
    keyid: String,
    algorithm: Algorithm,
    created: i64,
    nonce: String,
    base: String,
    value: Vec<u8>,
    /// The whole (joined) `Content-Digest` value, when the request has a body.
    digest: Option<Vec<u8>>,
}

/// A request whose signature verified against a live session; its body and nonce are
/// still to be checked ([`AuthService::complete`]).
#[derive(Debug, Clone)]
pub struct Verified {
    who: Authenticated,
    nonce: String,
    created: i64,
    digest: Option<Vec<u8>>,
    last_seen_at: i64,
}

impl Verified {
    /// Whether the body must be read for the digest check.
    pub fn needs_body(&self) -> bool {
        self.digest.is_some()
    }
}

/// Steps 1 to 4: the request's one signature, its parameters, components and window,
/// and its signature base. `has_body`: whether the request carries a body.
pub fn inspect(
    request: &Request,
    has_body: bool,
    now: Timestamp,
    window_secs: u64,
) -> Result<Inspected> {
    let signature = single_signature(request)?;
    let params = &signature.params;
    let keyid = params.keyid.clone().ok_or(AuthError::SessionMissing)?;
    let algorithm = params
        .alg
        .as_deref()
        .ok_or_else(|| AuthError::invalid_signature("the alg parameter is required"))
        .and_then(|name| {
            Algorithm::from_name(name).ok_or_else(|| {
                AuthError::invalid_signature(format!(
                    "the algorithm {name:?} is not supported (hmac-sha256, ed25519)"
                ))
            })
        })?;
    let created = params
        .created
        .ok_or_else(|| AuthError::invalid_signature("the created parameter is required"))?;
    let nonce = params
        .nonce
        .clone()
        .ok_or_else(|| AuthError::invalid_signature("the nonce parameter is required"))?;

    let has_body = has_body || request.headers().contains_key(CONTENT_DIGEST);
    for name in REQUIRED
        .iter()
        .copied()
        .chain(has_body.then_some(CONTENT_DIGEST))
    {
        if !signature.components.iter().any(|c| c.name() == name) {
            return Err(AuthError::ComponentMissing {
                component: name.to_owned(),
            });
        }
    }

    let now_secs = now.as_millis().div_euclid(1000);
    let window = i64::try_from(window_secs).unwrap_or(i64::MAX);
    if created > now_secs.saturating_add(window) {
        return Err(AuthError::SignatureNotYetValid);
    }
    if created < now_secs.saturating_sub(window)
        || params.expires.is_some_and(|expires| expires < now_secs)
    {
        return Err(AuthError::SignatureExpired);
    }

    let parts = RequestParts::of(request);
    let base = signature.base(&parts).map_err(signature_error)?;
    // The digest checked is the value signed: every field line, joined (RFC 9421 §2.1),
    // where a later member of the same name wins (RFC 8941).
    let digest = has_body
        .then(|| Component::Field(CONTENT_DIGEST.to_owned()).value(&parts))
        .transpose()
        .map_err(signature_error)?
        .map(String::into_bytes);
    Ok(Inspected {
        keyid,
        algorithm,
        created,
        nonce,
        base,
        value: signature.value,
        digest,
    })
}

impl AuthService {
    /// Checks `request`'s signature and session (see the module docs); `body` is the
    /// request's whole body (empty when it has none). The middleware runs the steps
    /// separately so the body is read only for a verified signature.
    pub async fn verify(&self, request: &mut Request, body: &[u8]) -> Result<Authenticated> {
        let inspected = inspect(
            request,
            !body.is_empty(),
            self.clock().now(),
            self.config().signatures.window_secs,
        )?;
        let verified = self.check(inspected).await?;
        self.complete(verified, body).await
    }

    /// Steps 5 and 6: the session is live and the signature verifies with its key; or
    /// the keyid names a configured client key (`auth.keys`) and the signature
    /// verifies with it.
    pub async fn check(&self, inspected: Inspected) -> Result<Verified> {
        if let Some(key) = self.config().keys.get(&inspected.keyid) {
            return self.check_client_key(inspected, key);
        }
        let session_hash = sessions::id_hash(&inspected.keyid);
        let session = self
            .sessions()
            .find(&session_hash)
            .await?
            .filter(|s| s.ended_at.is_none())
            .ok_or(AuthError::SessionUnknown)?;
        let now_ms = self.clock().now().as_millis();
        let idle = duration_ms(self.config().sessions.idle());
        if now_ms >= session.expires_at || now_ms.saturating_sub(session.last_seen_at) > idle {
            // Ended for good: raising the limits later does not revive it.
            sessions::end(self.tables(), &session_hash, now_ms).await?;
            return Err(AuthError::SessionExpired);
        }

        let key = match (
            inspected.algorithm,
            &session.sealed_key,
            &session.public_key,
        ) {
            (Algorithm::HmacSha256, Some(sealed), _) => {
                match self.sealer().open(sealed, &session.id_hash) {
                    Ok(secret) => VerifyingKey::hmac(&secret),
                    Err(error) => {
                        // Sealed under another secret (auth.secret rotated or differing
                        // between nodes): the session cannot be used any more.
                        warn_unopenable(&error);
                        return Err(AuthError::SessionUnknown);
                    }
                }
            }
            (Algorithm::Ed25519, _, Some(public)) => {
                VerifyingKey::ed25519(public).map_err(signature_error)?
            }
            (algorithm, _, _) => {
                return Err(AuthError::invalid_signature(format!(
                    "this session does not sign with {}",
                    algorithm.name()
                )));
            }
        };
        if !key.verify(inspected.base.as_bytes(), &inspected.value) {
            return Err(AuthError::invalid_signature(
                "the signature does not verify",
            ));
        }
        Ok(Verified {
            who: Authenticated {
                user_id: session.user_id,
                session_hash,
                algorithm: inspected.algorithm,
                session_started: Timestamp::from_millis(session.created_at),
                session_expires: Timestamp::from_millis(session.expires_at),
            },
            nonce: inspected.nonce,
            created: inspected.created,
            digest: inspected.digest,
            last_seen_at: session.last_seen_at,
        })
    }

    /// A request signed with a configured client key: authenticated as
    /// `key:<keyid>`, with the key's own nonce namespace and no session to touch.
    fn check_client_key(
        &self,
        inspected: Inspected,
        key: &crate::config::ClientKey,
    ) -> Result<Verified> {
        let key = key.verifying_key().map_err(AuthError::invalid_signature)?;
        if key.algorithm() != inspected.algorithm {
            return Err(AuthError::invalid_signature(format!(
                "this key does not sign with {}",
                inspected.algorithm.name()
            )));
        }
        if !key.verify(inspected.base.as_bytes(), &inspected.value) {
            return Err(AuthError::invalid_signature(
                "the signature does not verify",
            ));
        }
        let identity = format!("{}{}", crate::KEY_PREFIX, inspected.keyid);
        Ok(Verified {
            who: Authenticated {
                session_hash: sessions::id_hash(&identity),
                user_id: identity,
                algorithm: inspected.algorithm,
                session_started: Timestamp::from_millis(0),
                session_expires: Timestamp::from_millis(i64::MAX),
            },
            nonce: inspected.nonce,
            created: inspected.created,
            digest: inspected.digest,
            // Nothing to touch: there is no session row.
            last_seen_at: i64::MAX,
        })
    }

    /// Steps 7 and 8: the body matches the digest, the nonce is new (and recorded), and
    /// the session's last-seen is touched when due.
    pub async fn complete(&self, verified: Verified, body: &[u8]) -> Result<Authenticated> {
        if let Some(field) = &verified.digest {
            digest::check(field, body).map_err(|e| AuthError::DigestMismatch {
                reason: match e {
                    DigestError::Mismatch => "the body does not match its Content-Digest".into(),
                    other => other.to_string(),
                },
            })?;
        }
        let window = Duration::from_secs(self.config().signatures.window_secs);
        let keep = duration_ms(keep_for(window));
        let created_ms = verified.created.saturating_mul(1000);
        let fresh = self
            .nonces()
            .claim(
                &verified.who.session_hash,
                &verified.nonce,
                created_ms.saturating_add(keep),
            )
            .await?;
        if !fresh {
            return Err(AuthError::SignatureReplayed);
        }
        let now_ms = self.clock().now().as_millis();
        let touch = duration_ms(Duration::from_secs(
            self.config().sessions.touch_interval_secs,
        ));
        if verified.last_seen_at != i64::MAX
            && now_ms.saturating_sub(verified.last_seen_at) >= touch
        {
            sessions::touch(self.tables(), &verified.who.session_hash, now_ms).await?;
        }
        Ok(verified.who)
    }
}

/// Logs, once per process, that a session key cannot be opened.
fn warn_unopenable(error: &AuthError) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            code = error.code(),
            "a session key was sealed under another secret (was auth.secret changed?); such sessions are refused as unknown"
        );
    }
}

/// The request's one signature.
fn single_signature(request: &Request) -> Result<Signature> {
    let input = request.headers().get("signature-input");
    let value = request.headers().get("signature");
    let (input, value) = match (input, value) {
        (None, None) => return Err(AuthError::SignatureMissing),
        (Some(input), Some(value)) => (input, value),
        _ => {
            return Err(AuthError::invalid_signature(
                "Signature-Input and Signature come together",
            ));
        }
    };
    if request.headers().get_all("signature-input").iter().count() > 1
        || request.headers().get_all("signature").iter().count() > 1
    {
        return Err(AuthError::invalid_signature(
            "send one Signature-Input and one Signature field",
        ));
    }
    let mut signatures =
        input::parse(input.as_bytes(), value.as_bytes()).map_err(signature_error)?;
    match signatures.len() {
        1 => Ok(signatures.remove(0)),
        0 => Err(AuthError::SignatureMissing),
        _ => Err(AuthError::invalid_signature(
            "send exactly one signature (one label)",
        )),
    }
}

fn signature_error(error: SignatureError) -> AuthError {
    match error {
        SignatureError::Invalid { reason } => AuthError::SignatureInvalid { reason },
        SignatureError::ComponentMissing { component } => AuthError::ComponentMissing { component },
    }
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The `Accept-Signature` value a 401 names (RFC 9421 §5.1): the components and
/// parameters this server requires (`content-digest` when the request has a body).
pub fn accept_signature(with_body: bool) -> String {
    let mut components: Vec<Component> = REQUIRED
        .iter()
        .filter_map(|name| Component::parse(name).ok())
        .collect();
    if with_body {
        components.push(Component::Field(CONTENT_DIGEST.to_owned()));
    }
    let names: Vec<String> = components
        .iter()
        .map(|c| format!("\"{}\"", c.name()))
        .collect();
    format!("sig=({});created;nonce;keyid;alg", names.join(" "))
}
