//! [`AuthService`]: users, sign-in, sessions and the verifier, as the superhero-core
//! services `auth` and `auth/signed-session` (the middleware).
//!
//! ```toml
//! [locator]
//! "auth/signed-session" = true   # uses auth, which uses eventflow/store and eventflow/spoke
//! ```
//!
//! An app protects its routes by naming the middleware in its OpenAPI documents:
//!
//! ```json
//! "components": {"securitySchemes": {"signedSession": {
//!     "type": "http", "scheme": "signature", "x-middleware": "auth/signed-session"}}},
//! "security": [{"signedSession": []}]
//! ```

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use superhero_core::{BoxError, CancellationToken, Registry, Service, ServiceContext, async_trait};
use superhero_eventflow::service::{SPOKE, STORE, SpokeService, StoreService};
use superhero_eventflow::tables::Tables;
use superhero_eventflow::{Clock, Spoke, SystemClock, Timestamp};
use superhero_http::Middleware;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::config::AuthConfig;
use crate::error::{AuthError, Result};
use crate::middleware::SignedSession;
use crate::password::{Passwords, Verified};
use crate::store::nonces::{self, Nonces};
use crate::store::seal::Sealer;
use crate::store::sessions::{self, SessionRecord};
use crate::store::users::{self, UserRecord};
use crate::verify::Authenticated;

/// The service's name.
pub const AUTH: &str = "auth";
/// The signed-session middleware's name.
pub const SIGNED_SESSION: &str = "auth/signed-session";
/// The config section read.
pub const CONFIG_KEY: &str = "auth";
/// Where the sealing secret comes from when `auth.secret` is not set.
pub const FALLBACK_SECRET_KEY: &str = "eventflow/certificates/secret";

/// The longest user name.
pub const MAX_NAME_LEN: usize = 64;

/// A registered user as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The id.
    pub user_id: String,
    /// The name.
    pub name: String,
}

/// A new session: what the client needs to sign its requests. Its `Debug` hides the
/// secrets.
#[derive(Clone, Serialize)]
pub struct NewSession {
    /// The session id (the `keyid` of signatures): 256 random bits, base64url.
    pub session_id: String,
    /// The `hmac-sha256` key: 32 random bytes, standard base64; none (`null`) for a
    /// session that registered an Ed25519 public key, which signs with that key only.
    pub session_key: Option<String>,
    /// The user.
    pub user_id: String,
    /// When the session ends at the latest (RFC 3339).
    pub expires_at: String,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Users, sessions and signed-request checks.
pub struct AuthService {
    tables: Tables,
    config: AuthConfig,
    passwords: Passwords,
    sealer: Sealer,
    nonces: Nonces,
    sessions: sessions::Reader,
    clock: Arc<dyn Clock>,
    spoke: Option<Spoke>,
    stop: CancellationToken,
    random: SystemRandom,
}

impl AuthService {
    /// Opens the auth tables in `store`, and starts the nonce claimer and the pruner
    /// (both stop with `stop`). `spoke` records activity (when `config.activity`).
    pub async fn start(
        store: &superhero_eventflow::SqlStore,
        spoke: Option<Spoke>,
        config: AuthConfig,
        secret: &str,
        clock: Arc<dyn Clock>,
        stop: CancellationToken,
    ) -> Result<AuthService> {
        let tables = crate::store::open(store).await?;
        let passwords = Passwords::new(&config.passwords).await?;
        let sealer = Sealer::new(secret)?;
        let nonces = Nonces::start(tables.clone(), stop.clone());
        let sessions = sessions::Reader::start(tables.clone(), stop.clone());
        let service = AuthService {
            tables,
            config,
            passwords,
            sealer,
            nonces,
            sessions,
            clock,
            spoke,
            stop,
            random: SystemRandom::new(),
        };
        service.spawn_pruner();
        Ok(service)
    }

    /// The settings.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The clock sessions and signatures are checked against.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The spoke activity is published through, if any.
    pub fn spoke(&self) -> Option<&Spoke> {
        self.spoke.as_ref()
    }

    pub(crate) fn tables(&self) -> &Tables {
        &self.tables
    }

    pub(crate) fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub(crate) fn nonces(&self) -> &Nonces {
        &self.nonces
    }

    pub(crate) fn sessions(&self) -> &sessions::Reader {
        &self.sessions
    }

    /// Registers a user: a name of 1 to 64 letters, digits, `_`, `.` or `-` (unique in
    /// any case, `E_AUTH_NAME_TAKEN`) and a password of 8 to 1024 bytes.
    pub async fn register(&self, name: &str, password: &str) -> Result<User> {
        check_name(name)?;
        Passwords::check_rules(password)?;
        let record = UserRecord {
            user_id: Uuid::now_v7().to_string(),
            name: name.to_owned(),
            password_hash: self.passwords.hash(password).await?,
        };
        users::create(&self.tables, &record, self.clock.now().as_millis()).await?;
        tracing::info!(user_id = %record.user_id, "user registered");
        Ok(User {
            user_id: record.user_id,
            name: record.name,
        })
    }

    /// Signs in: a new session for the user `name` with `password`, optionally with an
    /// Ed25519 public key (standard base64 of 32 bytes) for `ed25519` signatures. A wrong
    /// name or password is the same `E_AUTH_CREDENTIALS`, in the same time.
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        public_key: Option<&str>,
    ) -> Result<NewSession> {
        let public_key = public_key.map(parse_public_key).transpose()?;
        let user = users::by_name(&self.tables, name).await?;
        let verified = self
            .passwords
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let (Some(user), Verified::Right { rehashed }) = (user, verified) else {
            return Err(AuthError::Credentials);
        };
        if let Some(hash) = rehashed {
            users::set_password_hash(&self.tables, &user.user_id, &hash).await?;
        }
        let session_id = Zeroizing::new(URL_SAFE_NO_PAD.encode(self.random_bytes()?));
        let id_hash = sessions::id_hash(&session_id);
        // A session with a public key signs with it only: the server then holds no
        // secret that can sign for it.
        let key = match public_key {
            Some(_) => None,
            None => Some(Zeroizing::new(self.random_bytes()?)),
        };
        let sealed_key = key
            .as_ref()
            .map(|key| self.sealer.seal(key.as_ref(), &id_hash))
            .transpose()?;
        let now = self.clock.now();
        let expires = now + self.config.sessions.absolute();
        let record = SessionRecord {
            sealed_key,
            id_hash,
            user_id: user.user_id.clone(),
            public_key: public_key.map(|k| k.to_vec()),
            created_at: now.as_millis(),
            last_seen_at: now.as_millis(),
            expires_at: expires.as_millis(),
            ended_at: None,
        };
        sessions::create(&self.tables, &record).await?;
        tracing::info!(user_id = %user.user_id, "session started");
        Ok(NewSession {
            session_id: session_id.to_string(),
            session_key: key.map(|key| STANDARD.encode(key.as_ref())),
            user_id: user.user_id,
            expires_at: expires.to_rfc3339(),
        })
    }

    /// Ends the session of an authenticated request, at once for every node.
    pub async fn sign_out(&self, who: &Authenticated) -> Result<()> {
        sessions::end(
            &self.tables,
            &who.session_hash,
            self.clock.now().as_millis(),
        )
        .await?;
        tracing::info!(user_id = %who.user_id, "session ended");
        Ok(())
    }

    /// The name of user `user_id`.
    pub async fn user_name(&self, user_id: &str) -> Result<Option<String>> {
        users::name_of(&self.tables, user_id).await
    }

    fn random_bytes(&self) -> Result<[u8; 32]> {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| AuthError::crypto("the system's random source failed"))?;
        Ok(bytes)
    }

    /// Deletes expired nonces and long-expired sessions every prune interval.
    fn spawn_pruner(&self) {
        let tables = self.tables.clone();
        let clock = self.clock.clone();
        let stop = self.stop.clone();
        let every = Duration::from_secs(self.config.signatures.prune_interval_secs.max(1));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = stop.cancelled() => return,
                }
                let now = clock.now().as_millis();
                match nonces::prune(&tables, now).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::debug!(pruned, "expired nonces deleted"),
                    Err(error) => {
                        tracing::warn!(code = error.code(), %error, "pruning nonces failed")
                    }
                }
                let day_ago = now.saturating_sub(24 * 3600 * 1000);
                if let Err(error) = sessions::prune(&tables, day_ago).await {
                    tracing::warn!(code = error.code(), %error, "pruning sessions failed");
                }
            }
        });
    }
}

#[async_trait]
impl Service for AuthService {
    async fn destroy(&self) -> std::result::Result<(), BoxError> {
        self.stop.cancel();
        Ok(())
    }
}

fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(AuthError::Invalid {
            reason: format!(
                "a name has 1 to {MAX_NAME_LEN} ASCII letters, digits, '_', '.' or '-'"
            ),
        })
    }
}

fn parse_public_key(text: &str) -> Result<[u8; 32]> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| AuthError::Invalid {
            reason: "public_key is the standard base64 of a raw 32-byte Ed25519 public key".into(),
        })
}

/// Registers `auth` and `auth/signed-session` on the system clock.
pub fn register(registry: &mut Registry) {
    register_with_clock(registry, Arc::new(SystemClock));
}

/// [`register`] with another clock (tests move a `ManualClock` to expire sessions).
pub fn register_with_clock(registry: &mut Registry, clock: Arc<dyn Clock>) {
    registry
        .register(AUTH, move |ctx: ServiceContext| {
            let clock = clock.clone();
            async move { start_from(&ctx, clock).await.map_err(BoxError::from) }
        })
        .uses([STORE, SPOKE]);
    registry
        .register(SIGNED_SESSION, |ctx: ServiceContext| async move {
            Ok(SignedSession::new(ctx.locate::<AuthService>(AUTH)?))
        })
        .uses([AUTH])
        .expose::<dyn Middleware>(|s| s);
}

async fn start_from(ctx: &ServiceContext, clock: Arc<dyn Clock>) -> Result<AuthService> {
    let settings = |reason: String| AuthError::Config {
        key: CONFIG_KEY.into(),
        reason,
    };
    let config: AuthConfig = ctx
        .config()
        .get(CONFIG_KEY)
        .map_err(|e| settings(e.to_string()))?
        .unwrap_or_default();
    config.validate().map_err(settings)?;
    let secret = match &config.secret {
        Some(secret) => secret.expose().to_owned(),
        None => ctx
            .config()
            .get::<String>(FALLBACK_SECRET_KEY)
            .map_err(|e| settings(e.to_string()))?
            .ok_or_else(|| {
                settings(
                    "no secret to seal session keys: set auth.secret or eventflow.certificates.secret"
                        .into(),
                )
            })?,
    };
    let store = ctx
        .locate::<StoreService>(STORE)
        .map_err(|e| settings(e.to_string()))?;
    let spoke = if config.activity {
        Some(
            ctx.locate::<SpokeService>(SPOKE)
                .map_err(|e| settings(e.to_string()))?
                .spoke()
                .clone(),
        )
    } else {
        None
    };
    AuthService::start(
        store.sql_store(),
        spoke,
        config,
        &secret,
        clock,
        ctx.shutdown_token(),
    )
    .await
}

/// The time `timestamp` as RFC 3339 (for answers).
pub fn rfc3339(timestamp: Timestamp) -> String {
    timestamp.to_rfc3339()
}
