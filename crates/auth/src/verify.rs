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
//! 6. the signature verifies with the session's key for `alg` (`E_AUTH_SIGNATURE_INVALID`);
//! 7. the body matches `Content-Digest` (`E_AUTH_DIGEST_MISMATCH`);
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

impl AuthService {
    /// Checks `request`'s signature and session (see the module docs); `body` is the
    /// request's whole body (empty when it has none).
    pub async fn verify(&self, request: &mut Request, body: &[u8]) -> Result<Authenticated> {
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

        let has_body = !body.is_empty() || request.headers().contains_key(CONTENT_DIGEST);
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

        let now = self.clock().now();
        let window = self.config().signatures.window_secs;
        let now_secs = now.as_millis().div_euclid(1000);
        let window_secs = i64::try_from(window).unwrap_or(i64::MAX);
        if created > now_secs.saturating_add(window_secs) {
            return Err(AuthError::SignatureNotYetValid);
        }
        if created < now_secs.saturating_sub(window_secs)
            || params.expires.is_some_and(|expires| expires < now_secs)
        {
            return Err(AuthError::SignatureExpired);
        }

        let session_hash = sessions::id_hash(&keyid);
        let session = self
            .sessions()
            .find(&session_hash)
            .await?
            .filter(|s| s.ended_at.is_none())
            .ok_or(AuthError::SessionUnknown)?;
        let now_ms = now.as_millis();
        let idle = duration_ms(self.config().sessions.idle());
        if now_ms >= session.expires_at || now_ms.saturating_sub(session.last_seen_at) > idle {
            return Err(AuthError::SessionExpired);
        }

        let key = match algorithm {
            Algorithm::HmacSha256 => {
                let secret = self.sealer().open(&session.sealed_key, &session.id_hash)?;
                VerifyingKey::hmac(&secret)
            }
            Algorithm::Ed25519 => {
                let public = session.public_key.as_deref().ok_or_else(|| {
                    AuthError::invalid_signature("this session registered no Ed25519 public key")
                })?;
                VerifyingKey::ed25519(public).map_err(signature_error)?
            }
        };
        let base = signature
            .base(&RequestParts::of(request))
            .map_err(signature_error)?;
        if !key.verify(base.as_bytes(), &signature.value) {
            return Err(AuthError::invalid_signature(
                "the signature does not verify",
            ));
        }

        if has_body {
            let field = request
                .headers()
                .get(CONTENT_DIGEST)
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default();
            digest::check(&field, body).map_err(|e| AuthError::DigestMismatch {
                reason: match e {
                    DigestError::Mismatch => "the body does not match its Content-Digest".into(),
                    other => other.to_string(),
                },
            })?;
        }

        let keep = duration_ms(keep_for(Duration::from_secs(window)));
        let created_ms = created.saturating_mul(1000);
        let fresh = self
            .nonces()
            .claim(&session_hash, &nonce, created_ms.saturating_add(keep))
            .await?;
        if !fresh {
            return Err(AuthError::SignatureReplayed);
        }
        let touch = duration_ms(Duration::from_secs(
            self.config().sessions.touch_interval_secs,
        ));
        if now_ms.saturating_sub(session.last_seen_at) >= touch {
            sessions::touch(self.tables(), &session_hash, now_ms).await?;
        }
        Ok(Authenticated {
            user_id: session.user_id,
            session_hash,
            algorithm,
            session_started: Timestamp::from_millis(session.created_at),
            session_expires: Timestamp::from_millis(session.expires_at),
        })
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
