//! The probes every node with an `http` service answers (unless its config disables them):
//! `GET /healthz` (liveness: the process serves requests) and `GET /readyz` (readiness:
//! every service exposing [`superhero_core::health::Readiness`] says it can work now, e.g.
//! the event store answers and its migrations are applied, a spoke has a hub).
//!
//! They are ordinary config routes named [`HEALTHZ`] and [`READYZ`] (so `http.routes`
//! can move them, or remove them with `"http/readyz" = false`), not OpenAPI operations,
//! so they are not in `/openapi.json`. Answers are small JSON documents:
//!
//! ```text
//! GET /healthz → 200 {"status": "ok"}
//! GET /readyz  → 200 {"status": "ready", "checks": {"eventflow/store": "ok", "eventflow/spoke": "ok"}}
//!              → 503 {"status": "not ready", "checks": {"eventflow/store": "ok", "eventflow/spoke": "no hub connected"}}
//! ```
//!
//! A check that does not answer within [`CHECK_TIMEOUT`] counts as not ready.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use http::header::{CACHE_CONTROL, HeaderValue};
use serde_json::{Map, Value, json};
use superhero_core::health::Readiness;
use superhero_core::{Locator, async_trait};

use crate::middleware::Dispatcher;
use crate::router::{MethodSpec, RouteEntry, RouteSpec, RoutesConfig};
use crate::{HttpError, Request, View};

/// The route and dispatcher name of the liveness probe (`GET /healthz`).
pub const HEALTHZ: &str = "http/healthz";
/// The route and dispatcher name of the readiness probe (`GET /readyz`).
pub const READYZ: &str = "http/readyz";
/// How long `/readyz` waits for one check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Adds the probe routes to `routes` unless the config names them already (moved or
/// disabled with `false`).
pub(crate) fn add_routes(routes: &mut RoutesConfig) {
    add_get_route(routes, HEALTHZ, "/healthz");
    add_get_route(routes, READYZ, "/readyz");
}

/// Adds the built-in `GET path` route whose route and dispatcher are both `name`, unless
/// the config names it already (moved, or disabled with `false`).
pub(crate) fn add_get_route(routes: &mut RoutesConfig, name: &str, path: &str) {
    routes.entry(name.to_owned()).or_insert_with(|| {
        let mut spec = RouteSpec::new(path).dispatcher(name);
        spec.method = MethodSpec::List(vec!["GET".to_owned()]);
        RouteEntry::Route(Box::new(spec))
    });
}

/// The dispatcher for `name` when it is one of the probes.
pub(crate) fn dispatcher(name: &str, locator: &Locator) -> Option<Arc<dyn Dispatcher>> {
    match name {
        HEALTHZ => Some(Arc::new(Healthz)),
        READYZ => Some(Arc::new(Readyz {
            locator: locator.clone(),
        })),
        _ => None,
    }
}

fn no_store(view: &mut View) {
    view.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// `GET /healthz`.
struct Healthz;

#[async_trait]
impl Dispatcher for Healthz {
    async fn dispatch(&self, _request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        no_store(view);
        view.set_body(json!({"status": "ok"}));
        Ok(())
    }
}

/// `GET /readyz`: asks every readiness check of the node, concurrently.
struct Readyz {
    locator: Locator,
}

#[async_trait]
impl Dispatcher for Readyz {
    async fn dispatch(&self, _request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let mut running = tokio::task::JoinSet::new();
        for (index, (name, check)) in self
            .locator
            .exposing::<dyn Readiness>()
            .into_iter()
            .enumerate()
        {
            running.spawn(async move {
                let answer = match tokio::time::timeout(CHECK_TIMEOUT, check.ready()).await {
                    Ok(answer) => answer,
                    Err(_) => Err(format!("no answer within {} ms", CHECK_TIMEOUT.as_millis())),
                };
                (index, name, answer)
            });
        }
        let mut answers = Vec::new();
        while let Some(joined) = running.join_next().await {
            answers.push(joined.unwrap_or_else(|error| {
                (
                    usize::MAX,
                    "a readiness check".to_owned(),
                    Err(format!("it panicked: {error}")),
                )
            }));
        }
        answers.sort_by_key(|(index, _, _)| *index);
        let answers: Vec<(String, Result<(), String>)> = answers
            .into_iter()
            .map(|(_, name, answer)| (name, answer))
            .collect();
        let ready = answers.iter().all(|(_, answer)| answer.is_ok());
        let checks: Map<String, Value> = answers
            .into_iter()
            .map(|(name, answer)| {
                (
                    name,
                    Value::from(answer.err().unwrap_or_else(|| "ok".into())),
                )
            })
            .collect();
        no_store(view);
        if ready {
            view.set_body(json!({"status": "ready", "checks": checks}));
        } else {
            view.set_status(StatusCode::SERVICE_UNAVAILABLE);
            view.set_body(json!({"status": "not ready", "checks": checks}));
        }
        Ok(())
    }
}
