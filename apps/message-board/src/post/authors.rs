//! The names of authors: the signed-in user's id comes with the request, their name from
//! `superhero-auth`'s users, kept here once read (names never change).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use superhero_auth::{AUTH, AuthService};
use superhero_core::{Registry, Service};
use superhero_http::HttpError;

/// The service name.
pub const AUTHORS: &str = "message-board/post/authors";

/// How many names are kept before the cache starts over.
const KEPT: usize = 10_000;

/// User names by id.
pub struct Authors {
    auth: Arc<AuthService>,
    names: Mutex<HashMap<String, String>>,
}

impl Service for Authors {}

impl Authors {
    /// Names looked up in `auth`.
    pub fn new(auth: Arc<AuthService>) -> Self {
        Authors {
            auth,
            names: Mutex::new(HashMap::new()),
        }
    }

    /// The name of user `user_id` (the id itself for a user that no longer exists).
    pub async fn name_of(&self, user_id: &str) -> Result<String, HttpError> {
        if let Some(name) = self.lock().get(user_id) {
            return Ok(name.clone());
        }
        let name = self
            .auth
            .user_name(user_id)
            .await?
            .unwrap_or_else(|| user_id.to_owned());
        let mut names = self.lock();
        if names.len() >= KEPT {
            names.clear();
        }
        names.insert(user_id.to_owned(), name.clone());
        Ok(name)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Registers the service.
pub fn register(registry: &mut Registry) {
    registry
        .register(AUTHORS, |ctx| async move {
            Ok(Authors::new(ctx.locate::<AuthService>(AUTH)?))
        })
        .uses([AUTH]);
}
