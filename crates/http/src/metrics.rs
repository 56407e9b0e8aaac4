//! HTTP metrics and `GET /metrics`.
//!
//! Every request the [`App`](crate::App) answers is counted once the response head is
//! ready (an SSE stream counts when it starts):
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `http_server_requests_total` | counter | `route`, `method`, `status` |
//! | `http_server_request_duration_seconds` | histogram (seconds to the response head) | `route`, `method`, `status` |
//!
//! `route` is the route's name (the config key, or `GET /posts/{id}` for an OpenAPI
//! operation), `(none)` when no route matched (404, 405), so paths never become labels;
//! `method` is one of the RFC 9110 methods or `OTHER`.
//!
//! `GET /metrics` (the route [`METRICS`], a config route like the probes of
//! [`crate::health`], not in `/openapi.json`) first asks every service exposing
//! [`superhero_core::metrics::Collect`] to refresh its gauges (each within
//! [`COLLECT_TIMEOUT`]), then answers the process's metrics in the Prometheus text format
//! ([`superhero_core::metrics::render`]).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use http::header::{CACHE_CONTROL, HeaderValue};
use http::{Method, StatusCode};
use metrics::{Counter, Histogram, SharedString};
use superhero_core::metrics::Collect;
use superhero_core::{Locator, async_trait};

use crate::middleware::Dispatcher;
use crate::router::RoutesConfig;
use crate::{HttpError, Request, View};

/// The route and dispatcher name of `GET /metrics`.
pub const METRICS: &str = "http/metrics";
/// How long `/metrics` waits for one service's gauges.
pub const COLLECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Gives the metrics their `# HELP` lines (once per process, after the recorder is
/// installed: the service's construction calls it).
pub(crate) fn describe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        metrics::describe_counter!(
            "http_server_requests_total",
            "HTTP requests answered, by route name, method and status"
        );
        metrics::describe_histogram!(
            "http_server_request_duration_seconds",
            metrics::Unit::Seconds,
            "Time from a request's arrival to its response head, by route name, method and status"
        );
    });
}

/// The request metrics of one route (or of the requests no route matched): the handles
/// of its counter and histogram per method and status, registered on first use and kept,
/// so answering a request builds no metric key and looks nothing up in the registry.
pub(crate) struct RouteMetrics {
    route: SharedString,
    handles: RwLock<Vec<Handles>>,
}

/// The handles of one (method, status) pair.
struct Handles {
    method: &'static str,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

impl RouteMetrics {
    /// The metrics of the route named `name`.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            route: name.to_owned().into(),
            handles: RwLock::new(Vec::new()),
        }
    }

    /// The metrics of requests no route matched (404, 405, OPTIONS): route `(none)`.
    pub(crate) fn unmatched() -> Self {
        Self {
            route: SharedString::const_str("(none)"),
            handles: RwLock::new(Vec::new()),
        }
    }

    /// Counts one answered request.
    pub(crate) fn record(&self, method: &Method, status: StatusCode, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        let method = method_label(method);
        let status = status.as_u16();
        let found = |handles: &[Handles]| {
            handles
                .iter()
                .find(|h| h.status == status && h.method == method)
                .map(|h| {
                    h.requests.increment(1);
                    h.duration.record(seconds);
                })
                .is_some()
        };
        // A poisoned lock only means a panic elsewhere while registering: the list is
        // still whole (pushes are single steps), so keep using it.
        if found(&self.handles.read().unwrap_or_else(PoisonError::into_inner)) {
            return;
        }
        let mut handles = self.handles.write().unwrap_or_else(PoisonError::into_inner);
        if found(&handles) {
            return;
        }
        let labels = [
            ("route", self.route.clone()),
            ("method", SharedString::const_str(method)),
            ("status", status.to_string().into()),
        ];
        let registered = Handles {
            method,
            status,
            requests: metrics::counter!("http_server_requests_total", &labels),
            duration: metrics::histogram!("http_server_request_duration_seconds", &labels),
        };
        registered.requests.increment(1);
        registered.duration.record(seconds);
        handles.push(registered);
    }
}

/// The `method` label: the RFC 9110 method, or `OTHER` (never a client's free text).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Adds the `/metrics` route unless the config names it already (moved or disabled).
pub(crate) fn add_route(routes: &mut RoutesConfig) {
    crate::health::add_get_route(routes, METRICS, "/metrics");
}

/// The dispatcher for `name` when it is [`METRICS`].
pub(crate) fn dispatcher(name: &str, locator: &Locator) -> Option<Arc<dyn Dispatcher>> {
    (name == METRICS).then(|| {
        Arc::new(Scrape {
            locator: locator.clone(),
        }) as Arc<dyn Dispatcher>
    })
}

/// `GET /metrics`.
struct Scrape {
    locator: Locator,
}

#[async_trait]
impl Dispatcher for Scrape {
    async fn dispatch(&self, _request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let mut collecting = tokio::task::JoinSet::new();
        for (name, collector) in self.locator.exposing::<dyn Collect>() {
            collecting.spawn(async move {
                if tokio::time::timeout(COLLECT_TIMEOUT, collector.collect())
                    .await
                    .is_err()
                {
                    tracing::warn!(service = %name, "metrics collection timed out; its gauges keep their last values");
                }
            });
        }
        while collecting.join_next().await.is_some() {}
        let Some(text) = superhero_core::metrics::render() else {
            return Err(HttpError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                "E_HTTP_METRICS_UNAVAILABLE",
                "this process installed another metrics recorder; /metrics has nothing to show",
            ));
        };
        view.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        view.set_bytes(HeaderValue::from_static(CONTENT_TYPE), text);
        Ok(())
    }
}
