//! The signed-session middleware (`auth/signed-session`): verifies the request
//! ([`crate::verify`]), answers 401 with one `E_AUTH_*` code and `Accept-Signature`
//! when it fails, otherwise puts [`Authenticated`] in the request for the dispatcher
//! ([`authenticated`]) and records the activity once the rest of the chain answered.

use std::sync::Arc;
use std::time::Instant;

use http::HeaderValue;
use superhero_core::{Service, async_trait};
use superhero_http::{HttpError, Middleware, Next, Request, View};

use crate::activity::{self, UserActivity};
use crate::error::{ACCEPT_SIGNATURE, AuthError};
use crate::service::AuthService;
use crate::verify::{self, Authenticated, accept_signature};

/// The middleware.
pub struct SignedSession {
    auth: Arc<AuthService>,
}

impl SignedSession {
    /// The middleware of `auth`.
    pub fn new(auth: Arc<AuthService>) -> Self {
        SignedSession { auth }
    }
}

impl Service for SignedSession {}

#[async_trait]
impl Middleware for SignedSession {
    async fn handle(
        &self,
        request: &mut Request,
        view: &mut View,
        next: Next<'_>,
    ) -> Result<(), HttpError> {
        let started = Instant::now();
        let has_body = request.has_body();
        let config = self.auth.config();
        let inspected = verify::inspect(
            request,
            has_body,
            self.auth.clock().now(),
            config.signatures.window_secs,
        );
        let verified = match inspected {
            Ok(inspected) => self.auth.check(inspected).await,
            Err(error) => Err(error),
        };
        let verified = match verified {
            Ok(verified) => verified,
            Err(error) => return Err(reject(error, has_body)),
        };
        // Only a verified signature gets its body read (within the server's limits).
        let body = if verified.needs_body() {
            request.body_bytes().await?
        } else {
            bytes::Bytes::new()
        };
        let who = match self.auth.complete(verified, &body).await {
            Ok(who) => who,
            Err(error) => return Err(reject(error, has_body)),
        };
        request.extensions_mut().insert(who.clone());
        let result = next.run(request, view).await;
        if self.auth.config().activity
            && let Some(spoke) = self.auth.spoke()
        {
            let status = match &result {
                Ok(()) => view.status().as_u16(),
                Err(error) => superhero_http::problem::status_of(error).as_u16(),
            };
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let activity = UserActivity {
                method: request.method().to_string(),
                path: request.path().to_owned(),
                status,
                duration_ms,
                session: who.session_hash.clone(),
            };
            activity::record(spoke, &who, activity);
        }
        result
    }
}

/// The answer to a rejected request: its status and code, and for a signature problem
/// `Accept-Signature` naming what is expected.
fn reject(error: AuthError, with_body: bool) -> HttpError {
    tracing::debug!(code = error.code(), "signed request refused");
    let rejection = error.is_signature_rejection();
    let answer = HttpError::from(error);
    if !rejection {
        return answer;
    }
    match HeaderValue::from_str(&accept_signature(with_body)) {
        Ok(value) => answer.with_header(ACCEPT_SIGNATURE, value),
        Err(_) => answer,
    }
}

/// Who made `request`: set by the signed-session middleware; `E_AUTH_NOT_AUTHENTICATED`
/// (500: a wiring fault) on a route it does not protect.
pub fn authenticated(request: &Request) -> Result<&Authenticated, AuthError> {
    request
        .extensions()
        .get::<Authenticated>()
        .ok_or(AuthError::NotAuthenticated)
}
