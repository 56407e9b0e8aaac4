//! The router: routes from config and OpenAPI documents, compiled once into an immutable
//! table; each request is matched against it without copying or mutating it (the
//! original's state leak across requests cannot happen).
//!
//! Selection: routes are tried in declaration order (config routes, then OpenAPI
//! operations); the first route with a dispatcher whose condition and method match is
//! selected. Every matching route *without* a dispatcher (a middleware route) adds its
//! middleware in front of the selected route's chain, each middleware once. When no
//! condition matches: 404. When conditions match but no method: 405 with `Allow`
//! (an `OPTIONS` request gets 204 with `Allow` instead). HEAD is answered by GET routes.
//!
//! # Condition syntax
//! `/users/{id}` or `/users/:id` (one segment), `*` (one segment, not captured),
//! `{*rest}` or `**` as the last segment (the rest of the path). Repeated and trailing
//! slashes are ignored; captured values are percent-decoded.

pub(crate) mod builder;
mod config;
mod pattern;

use std::sync::Arc;

use http::Method;
use serde_json::{Map, Value};

pub use builder::RouterBuilder;
pub use config::{MethodSpec, RouteEntry, RouteSpec, RoutesConfig};
pub(crate) use pattern::Pattern;

use crate::error::HttpError;
use crate::middleware::{Dispatcher, Middleware};
use crate::negotiate::MediaRange;

/// What dispatchers can learn about the route that matched.
#[derive(Debug, Clone, Default)]
pub struct RouteInfo {
    /// The route's name (config key, or `GET /path` for OpenAPI operations).
    pub name: String,
    /// The route's condition.
    pub condition: String,
    /// The route's free `meta` data from config.
    pub meta: Map<String, Value>,
    /// `METHOD /path` of the OpenAPI operation, if the route came from one.
    pub operation: Option<String>,
}

/// Which methods a compiled route answers.
#[derive(Debug)]
pub(crate) enum Methods {
    Any,
    List(Vec<Method>),
}

impl Methods {
    fn matches(&self, method: &Method) -> bool {
        match self {
            Self::Any => true,
            Self::List(list) => {
                list.contains(method) || (method == Method::HEAD && list.contains(&Method::GET))
            }
        }
    }
}

/// A route ready for matching.
pub(crate) struct CompiledRoute {
    pub(crate) info: Arc<RouteInfo>,
    pub(crate) pattern: Pattern,
    pub(crate) methods: Methods,
    pub(crate) chain: Arc<[Arc<dyn Middleware>]>,
    pub(crate) dispatcher: Option<Arc<dyn Dispatcher>>,
    pub(crate) consumes: Vec<MediaRange>,
    pub(crate) produces: Vec<MediaRange>,
    /// The route's request metrics.
    pub(crate) metrics: crate::metrics::RouteMetrics,
}

/// The immutable route table. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    pub(crate) routes: Arc<[CompiledRoute]>,
    pub(crate) has_middleware_routes: bool,
    /// The metrics of requests no route matched.
    pub(crate) unmatched: Arc<crate::metrics::RouteMetrics>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.routes.iter().map(|r| &r.info.name))
            .finish()
    }
}

/// The outcome of matching one request.
pub(crate) enum Lookup<'r> {
    Found(Selected<'r>),
    NotFound,
    NotAllowed(String),
    Options(String),
}

/// The selected route and the middleware routes that wrap it.
pub(crate) struct Selected<'r> {
    pub(crate) route: &'r CompiledRoute,
    pub(crate) index: usize,
    wrappers: Vec<&'r CompiledRoute>,
}

impl Router {
    /// Starts a router over routes whose names `resolver` resolves.
    pub fn builder(resolver: Arc<dyn crate::Resolver>) -> RouterBuilder {
        RouterBuilder::new(resolver)
    }

    /// The names of the routes, in matching order.
    pub fn route_names(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.info.name.as_str())
    }

    /// The route at `index` of the table.
    pub(crate) fn route_info(&self, index: usize) -> Option<&RouteInfo> {
        self.routes.get(index).map(|r| &*r.info)
    }

    pub(crate) fn lookup<'r>(&'r self, method: &Method, path: &str) -> Lookup<'r> {
        let mut path_matched = false;
        let mut allow: Vec<&Method> = Vec::new();
        let mut selected = None;
        for (index, route) in self.routes.iter().enumerate() {
            if route.dispatcher.is_none() || !route.pattern.matches(path, None) {
                continue;
            }
            path_matched = true;
            if route.methods.matches(method) {
                selected = Some((index, route));
                break;
            }
            if let Methods::List(list) = &route.methods {
                allow.extend(list.iter());
            }
        }
        let Some((index, route)) = selected else {
            if !path_matched {
                return Lookup::NotFound;
            }
            let allow = allow_header(allow);
            return if method == Method::OPTIONS {
                Lookup::Options(allow)
            } else {
                Lookup::NotAllowed(allow)
            };
        };
        let mut wrappers = Vec::new();
        if self.has_middleware_routes {
            for candidate in self.routes.iter() {
                if candidate.dispatcher.is_none()
                    && candidate.methods.matches(method)
                    && candidate.pattern.matches(path, None)
                {
                    wrappers.push(candidate);
                }
            }
        }
        Lookup::Found(Selected {
            route,
            index,
            wrappers,
        })
    }
}

fn allow_header(methods: Vec<&Method>) -> String {
    let mut names: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    if names.contains(&"GET") {
        names.push("HEAD");
    }
    names.push("OPTIONS");
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

impl<'r> Selected<'r> {
    /// Percent-decoded captures of the route and its wrappers (the route's win on clashes).
    pub(crate) fn params(&self, path: &str) -> Result<Vec<(Arc<str>, String)>, HttpError> {
        let mut params = Vec::new();
        let routes = std::iter::once(self.route).chain(self.wrappers.iter().copied());
        for route in routes.filter(|r| r.pattern.has_captures()) {
            let mut raw = Vec::new();
            route.pattern.matches(path, Some(&mut raw));
            for (name, value) in raw {
                if !params.iter().any(|(n, _): &(Arc<str>, String)| n == name) {
                    params.push((Arc::clone(name), pattern::decode(value)?));
                }
            }
        }
        Ok(params)
    }

    /// The middleware chain: wrappers' middleware first, then the route's, each once.
    pub(crate) fn chain(&self) -> ChainRef<'r> {
        if self.wrappers.is_empty() {
            return ChainRef::Borrowed(&self.route.chain);
        }
        let mut chain: Vec<Arc<dyn Middleware>> = Vec::new();
        let all = self.wrappers.iter().flat_map(|w| w.chain.iter());
        for middleware in all.chain(self.route.chain.iter()) {
            if !chain.iter().any(|m| Arc::ptr_eq(m, middleware)) {
                chain.push(Arc::clone(middleware));
            }
        }
        ChainRef::Owned(chain)
    }
}

/// A chain borrowed from the table, or assembled for this request.
pub(crate) enum ChainRef<'r> {
    Borrowed(&'r [Arc<dyn Middleware>]),
    Owned(Vec<Arc<dyn Middleware>>),
}

impl std::ops::Deref for ChainRef<'_> {
    type Target = [Arc<dyn Middleware>];

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Borrowed(slice) => slice,
            Self::Owned(vec) => vec,
        }
    }
}
