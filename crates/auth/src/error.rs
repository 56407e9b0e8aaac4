//! The crate's one error type, [`AuthError`]: every failure has a stable `E_AUTH_*` code
//! and an HTTP answer. A rejected signed request is 401 with `Accept-Signature` naming
//! what the server expects (RFC 9421 §5.1).

use http::StatusCode;
use http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use superhero_http::HttpError;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The signature names no session (`keyid`).
    #[error("E_AUTH_SESSION_MISSING: the signature names no session (keyid)")]
    SessionMissing,
    /// No live session has this id (never existed, or ended).
    #[error("E_AUTH_SESSION_UNKNOWN: the session is unknown or has ended; sign in again")]
    SessionUnknown,
    /// The session ran past its idle or absolute limit.
    #[error("E_AUTH_SESSION_EXPIRED: the session has expired; sign in again")]
    SessionExpired,
    /// The request carries no `Signature-Input` / `Signature`.
    #[error(
        "E_AUTH_SIGNATURE_MISSING: the request is not signed (RFC 9421 Signature-Input and Signature)"
    )]
    SignatureMissing,
    /// The signature is malformed, unsupported, for another key, or does not verify.
    #[error("E_AUTH_SIGNATURE_INVALID: the signature is invalid: {reason}")]
    SignatureInvalid {
        /// Why (never the signature itself).
        reason: String,
    },
    /// `created` is older than the window, or `expires` has passed.
    #[error("E_AUTH_SIGNATURE_EXPIRED: the signature is too old; sign the request again")]
    SignatureExpired,
    /// `created` is ahead of the window (clock skew).
    #[error(
        "E_AUTH_SIGNATURE_NOT_YET_VALID: the signature is from the future; check the client's clock"
    )]
    SignatureNotYetValid,
    /// The nonce was used before within the window.
    #[error(
        "E_AUTH_SIGNATURE_REPLAYED: the signature's nonce was already used; sign the request again"
    )]
    SignatureReplayed,
    /// A component the server requires is not covered, or not in the request.
    #[error("E_AUTH_SIGNATURE_COMPONENT_MISSING: the signature must cover {component}")]
    ComponentMissing {
        /// The component's name.
        component: String,
    },
    /// The body does not match `Content-Digest`.
    #[error("E_AUTH_DIGEST_MISMATCH: {reason}")]
    DigestMismatch {
        /// Why.
        reason: String,
    },
    /// Sign-in failed: one message whether the name or the password was wrong.
    #[error("E_AUTH_CREDENTIALS: the name or the password is wrong")]
    Credentials,
    /// The user name is taken.
    #[error("E_AUTH_NAME_TAKEN: the name {name:?} is taken; choose another")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// A value the client sent cannot be used (a public key, say).
    #[error("E_AUTH_INVALID: {reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
    /// The authenticated user may not do this.
    #[error("E_AUTH_FORBIDDEN: {reason}")]
    Forbidden {
        /// Why.
        reason: String,
    },
    /// Too many sign-ins are waiting for a password check.
    #[error("E_AUTH_BUSY: too many sign-ins at once; retry shortly")]
    Busy,
    /// A store operation could not be done now (the database is unreachable or busy, or
    /// the service is stopping); the client may retry.
    #[error("E_AUTH_UNAVAILABLE: {what} is unavailable; retry shortly")]
    Unavailable {
        /// What.
        what: String,
    },
    /// A route needs the signed-session middleware in front of it.
    #[error(
        "E_AUTH_NOT_AUTHENTICATED: the route reads the session but is not protected by the signed-session middleware"
    )]
    NotAuthenticated,
    /// Hashing or sealing failed (a fault, never the client's).
    #[error("E_AUTH_CRYPTO: {reason}")]
    Crypto {
        /// What failed.
        reason: String,
    },
    /// Auth settings are invalid.
    #[error("E_AUTH_CONFIG: auth setting {key} is invalid: {reason}")]
    Config {
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] superhero_eventflow::Error),
}

impl AuthError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::SessionMissing => "E_AUTH_SESSION_MISSING",
            AuthError::SessionUnknown => "E_AUTH_SESSION_UNKNOWN",
            AuthError::SessionExpired => "E_AUTH_SESSION_EXPIRED",
            AuthError::SignatureMissing => "E_AUTH_SIGNATURE_MISSING",
            AuthError::SignatureInvalid { .. } => "E_AUTH_SIGNATURE_INVALID",
            AuthError::SignatureExpired => "E_AUTH_SIGNATURE_EXPIRED",
            AuthError::SignatureNotYetValid => "E_AUTH_SIGNATURE_NOT_YET_VALID",
            AuthError::SignatureReplayed => "E_AUTH_SIGNATURE_REPLAYED",
            AuthError::ComponentMissing { .. } => "E_AUTH_SIGNATURE_COMPONENT_MISSING",
            AuthError::DigestMismatch { .. } => "E_AUTH_DIGEST_MISMATCH",
            AuthError::Credentials => "E_AUTH_CREDENTIALS",
            AuthError::NameTaken { .. } => "E_AUTH_NAME_TAKEN",
            AuthError::Invalid { .. } => "E_AUTH_INVALID",
            AuthError::Forbidden { .. } => "E_AUTH_FORBIDDEN",
            AuthError::Busy => "E_AUTH_BUSY",
            AuthError::Unavailable { .. } => "E_AUTH_UNAVAILABLE",
            AuthError::NotAuthenticated => "E_AUTH_NOT_AUTHENTICATED",
            AuthError::Crypto { .. } => "E_AUTH_CRYPTO",
            AuthError::Config { .. } => "E_AUTH_CONFIG",
            AuthError::Store(error) => error.code(),
        }
    }

    /// Whether this is a rejected signed request (401 with `Accept-Signature`).
    pub fn is_signature_rejection(&self) -> bool {
        matches!(
            self,
            AuthError::SessionMissing
                | AuthError::SessionUnknown
                | AuthError::SessionExpired
                | AuthError::SignatureMissing
                | AuthError::SignatureInvalid { .. }
                | AuthError::SignatureExpired
                | AuthError::SignatureNotYetValid
                | AuthError::SignatureReplayed
                | AuthError::ComponentMissing { .. }
                | AuthError::DigestMismatch { .. }
        )
    }

    pub(crate) fn invalid_signature(reason: impl Into<String>) -> Self {
        AuthError::SignatureInvalid {
            reason: reason.into(),
        }
    }

    pub(crate) fn crypto(reason: impl Into<String>) -> Self {
        AuthError::Crypto {
            reason: reason.into(),
        }
    }
}

/// The message without its leading code, as a sentence.
fn message(error: &AuthError) -> String {
    let text = error.to_string();
    let text = match text.split_once(": ") {
        Some((code, rest)) if code == error.code() => rest.to_owned(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

impl From<AuthError> for HttpError {
    fn from(error: AuthError) -> HttpError {
        let status = match error {
            AuthError::Store(inner) => return store_error(inner),
            AuthError::Busy | AuthError::Unavailable { .. } => {
                return HttpError::status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    error.code(),
                    message(&error),
                )
                .with_header(RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ref e if e.is_signature_rejection() => StatusCode::UNAUTHORIZED,
            AuthError::Credentials => StatusCode::UNAUTHORIZED,
            AuthError::NameTaken { .. } => StatusCode::CONFLICT,
            AuthError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AuthError::Forbidden { .. } => StatusCode::FORBIDDEN,
            _ => return HttpError::internal(error.code(), error),
        };
        HttpError::status(status, error.code(), message(&error))
    }
}

/// Store failures: unavailable or busy is 503 with `Retry-After`, anything else 500.
fn store_error(error: superhero_eventflow::Error) -> HttpError {
    match error {
        superhero_eventflow::Error::Unavailable { .. }
        | superhero_eventflow::Error::Busy { .. }
        | superhero_eventflow::Error::Destroyed { .. } => {
            tracing::warn!(code = error.code(), %error, "answering 503");
            HttpError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                error.code(),
                "The store is unavailable; retry later",
            )
            .with_header(RETRY_AFTER, HeaderValue::from_static("1"))
        }
        other => HttpError::internal(other.code(), other),
    }
}

/// The `Accept-Signature` header name.
pub const ACCEPT_SIGNATURE: HeaderName = HeaderName::from_static("accept-signature");

/// The crate's result type.
pub type Result<T, E = AuthError> = std::result::Result<T, E>;

/// `E_AUTH_UNAVAILABLE` for `what` (a batch of the session or nonce store failed; its
/// cause is logged).
pub(crate) fn unavailable(what: &'static str) -> AuthError {
    AuthError::Unavailable { what: what.into() }
}
