//! The contract of `start`, fulfilled by `superhero-auth`'s service.

use superhero_auth::{AuthError, AuthService, NewSession};
use superhero_core::async_trait;

/// Signs users in.
#[async_trait]
pub trait StartSession: Send + Sync {
    /// A new session for `name` with `password` (and an Ed25519 public key for
    /// `ed25519` signatures); `E_AUTH_CREDENTIALS` for a wrong name or password.
    async fn start(
        &self,
        name: &str,
        password: &str,
        public_key: Option<&str>,
    ) -> Result<NewSession, AuthError>;
}

#[async_trait]
impl StartSession for AuthService {
    async fn start(
        &self,
        name: &str,
        password: &str,
        public_key: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        self.sign_in(name, password, public_key).await
    }
}
