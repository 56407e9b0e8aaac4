//! The contract of `show`, fulfilled by `superhero-auth`'s service.

use superhero_auth::{AuthError, AuthService};
use superhero_core::async_trait;

/// Names users.
#[async_trait]
pub trait ShowSession: Send + Sync {
    /// The name of user `user_id`.
    async fn user_name(&self, user_id: &str) -> Result<Option<String>, AuthError>;
}

#[async_trait]
impl ShowSession for AuthService {
    async fn user_name(&self, user_id: &str) -> Result<Option<String>, AuthError> {
        AuthService::user_name(self, user_id).await
    }
}
