//! `auth_user`: registration (a name taken is `E_AUTH_NAME_TAKEN`), lookups, rehash.

use sqlx::Row;
use superhero_eventflow::tables::Tables;

use super::{failed, is_unique_violation};
use crate::error::{AuthError, Result};

/// A stored user (its password hash stays inside the crate's services).
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The user id (a UUIDv7).
    pub user_id: String,
    /// The name as registered.
    pub name: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The uniqueness key of a name: names differing only in ASCII case are the same.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Stores a new user; `E_AUTH_NAME_TAKEN` when the name (in any case) exists.
pub async fn create(tables: &Tables, user: &UserRecord, now_ms: i64) -> Result<()> {
    const OP: &str = "register a user";
    let mut write = tables.write(OP).await?;
    let inserted = tables
        .query(
            "INSERT INTO auth_user (user_id, name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user.user_id.clone())
        .bind(user.name.clone())
        .bind(name_key(&user.name))
        .bind(user.password_hash.clone())
        .bind(now_ms)
        .execute(write.connection())
        .await;
    match inserted {
        Ok(_) => write.commit().await.map_err(Into::into),
        Err(error) if is_unique_violation(&error) => Err(AuthError::NameTaken {
            name: user.name.clone(),
        }),
        Err(error) => Err(failed(OP)(error)),
    }
}

/// The user called `name` (in any case).
pub async fn by_name(tables: &Tables, name: &str) -> Result<Option<UserRecord>> {
    let row = tables
        .query("SELECT user_id, name, password_hash FROM auth_user WHERE name_key = ?")
        .bind(name_key(name))
        .fetch_optional(tables.pool())
        .await
        .map_err(failed("find a user by name"))?;
    Ok(row.map(|row| UserRecord {
        user_id: row.get(0),
        name: row.get(1),
        password_hash: row.get(2),
    }))
}

/// The name of user `user_id`.
pub async fn name_of(tables: &Tables, user_id: &str) -> Result<Option<String>> {
    let row = tables
        .query("SELECT name FROM auth_user WHERE user_id = ?")
        .bind(user_id.to_owned())
        .fetch_optional(tables.pool())
        .await
        .map_err(failed("find a user"))?;
    Ok(row.map(|row| row.get(0)))
}

/// Replaces a user's password hash (after a sign-in with old parameters).
pub async fn set_password_hash(tables: &Tables, user_id: &str, hash: &str) -> Result<()> {
    const OP: &str = "rehash a password";
    let mut write = tables.write(OP).await?;
    tables
        .query("UPDATE auth_user SET password_hash = ? WHERE user_id = ?")
        .bind(hash.to_owned())
        .bind(user_id.to_owned())
        .execute(write.connection())
        .await
        .map_err(failed(OP))?;
    write.commit().await.map_err(Into::into)
}
