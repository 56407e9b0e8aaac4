//! The contract of `end`, fulfilled by `superhero-auth`'s service.

use superhero_auth::{AuthError, AuthService, Authenticated};
use superhero_core::async_trait;

/// Signs users out.
#[async_trait]
pub trait EndSession: Send + Sync {
    /// Ends the session that signed the request, for every node at once.
    async fn end(&self, who: &Authenticated) -> Result<(), AuthError>;
}

#[async_trait]
impl EndSession for AuthService {
    async fn end(&self, who: &Authenticated) -> Result<(), AuthError> {
        self.sign_out(who).await
    }
}
