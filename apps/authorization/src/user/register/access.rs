//! The contract of `register`, fulfilled by `superhero-auth`'s service.

use superhero_auth::{AuthError, AuthService, User};
use superhero_core::async_trait;

/// Registers users.
#[async_trait]
pub trait RegisterUser: Send + Sync {
    /// A new user `name` with `password`; `E_AUTH_NAME_TAKEN` when the name is taken.
    async fn register(&self, name: &str, password: &str) -> Result<User, AuthError>;
}

#[async_trait]
impl RegisterUser for AuthService {
    async fn register(&self, name: &str, password: &str) -> Result<User, AuthError> {
        AuthService::register(self, name, password).await
    }
}
