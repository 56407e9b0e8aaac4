//! # authorization — use case 4
//!
//! Users, sessions and signed requests (`../shared/spec/use-cases.md` §4), exposed over
//! HTTP; the reusable parts live in `superhero-auth`:
//!
//! | route | use case |
//! | --- | --- |
//! | `POST /users` {name, password} → 201 {user_id, name}; 409 `E_AUTH_NAME_TAKEN` | [`mod@user::register`] |
//! | `POST /sessions` {name, password, public_key?} → 201 {session_id, session_key, user_id, expires_at}; 401 `E_AUTH_CREDENTIALS` | [`mod@session::start`] |
//! | `GET /sessions/current` (signed) → who am I | [`mod@session::show`] |
//! | `DELETE /sessions/current` (signed) → 204, ended for every node | [`mod@session::end`] |
//! | `GET /users/{id}/activity?before=&limit=` (signed, own user) → a page, newest first | [`mod@user::list_activity`] |
//!
//! Signed routes name the `signedSession` security scheme in their OpenAPI documents;
//! its `x-middleware` is `auth/signed-session`, which checks the RFC 9421 signature
//! before anything else runs and records the request as a `user-activity` event.
//!
//! Layout (the handbook's): contexts `user` and `session`, a folder per use case with
//! its contract (`access.rs`, fulfilled by `superhero_auth::AuthService`), its HTTP
//! adapter (`access_using_http.rs`) and its `route.json`.
#![warn(missing_docs)]

pub mod session;
pub mod user;

use superhero_app::{App, Panel, Wiring};
use superhero_auth::SIGNED_SESSION;
use superhero_core::Registry;

/// The app's name, as `superhero run authorization` knows it.
pub const NAME: &str = "authorization";

/// The app descriptor the `superhero` binary mounts.
pub const APP: App = App {
    name: NAME,
    summary: "POST /users, POST /sessions, RFC 9421 signed requests, GET /users/{id}/activity",
    links: &[],
    register,
    wiring,
    panel: Some(Panel {
        title: "Your activity",
        html: include_str!("panel.html"),
    }),
    rebuild: None,
};

fn register(registry: &mut Registry) {
    superhero_auth::service::register(registry);
    user::register(registry);
    session::register(registry);
}

fn wiring() -> Wiring {
    let wiring = Wiring::new().middleware(SIGNED_SESSION);
    session::wire(user::wire(wiring))
}

/// The `AuthService` a factory needs.
fn auth(
    ctx: &superhero_core::ServiceContext,
) -> Result<std::sync::Arc<superhero_auth::AuthService>, superhero_core::BoxError> {
    Ok(ctx.locate::<superhero_auth::AuthService>(superhero_auth::AUTH)?)
}
