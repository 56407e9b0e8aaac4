//! # superhero-auth
//!
//! Users, sessions and signed requests for any Superhero app (use case 4,
//! `../shared/spec/use-cases.md` §4), with no dependency on another app:
//!
//! | module | owns |
//! | --- | --- |
//! | [`password`] | Argon2id PHC strings, hashed off the runtime with bounded concurrency |
//! | [`store`] | users, sessions (id hashes, sealed keys) and nonces in the event store's database |
//! | [`signature`] | RFC 9421 message signatures (`hmac-sha256`, `ed25519`), RFC 9530 digests, the client [`signature::Signer`] |
//! | [`verify`] | the signed-session policy and [`Authenticated`] |
//! | [`middleware`] | `auth/signed-session`: 401 + `Accept-Signature`, or the request carries who made it |
//! | [`activity`] | `user-activity` events after each authenticated request |
//! | [`service`] | [`AuthService`] (register, sign in, sign out) and the core services |
//! | [`config`], [`error`] | `auth.*` settings; [`AuthError`] with `E_AUTH_*` codes |
//!
//! Nothing here logs or stores a password, a session id, a session key or a
//! signature: sessions are kept by the SHA-256 of their id, keys sealed.
#![warn(missing_docs)]

pub mod activity;
pub mod config;
pub mod error;
pub mod middleware;
pub mod password;
pub mod service;
pub mod signature;
pub mod store;
pub mod verify;

pub use config::AuthConfig;
pub use error::{AuthError, Result};
pub use middleware::{SignedSession, authenticated};
pub use service::{AUTH, AuthService, NewSession, SIGNED_SESSION, User};
pub use verify::Authenticated;

/// How a request signed with a configured client key (`auth.keys.<keyid>`) is
/// authenticated: its `user_id` is `key:<keyid>`.
pub const KEY_PREFIX: &str = "key:";
