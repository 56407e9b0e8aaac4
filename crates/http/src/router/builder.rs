//! Building the route table: config routes by name, OpenAPI documents merged and turned
//! into routes, every name resolved and every pattern compiled before the server starts.

use std::sync::Arc;

use http::Method;
use indexmap::IndexMap;

use super::config::{MethodSpec, RouteEntry, RouteSpec, RoutesConfig};
use super::{CompiledRoute, Methods, Pattern, RouteInfo, Router};
use crate::error::HttpError;
use crate::metrics::RouteMetrics;
use crate::middleware::{Dispatcher, Middleware, Resolver};
use crate::negotiate::MediaRange;
use crate::oas::{self, OpenApi};

/// Collects routes, then [`build`](RouterBuilder::build)s the immutable [`Router`].
///
/// ```
/// use std::sync::Arc;
/// use superhero_http::{Registry, Router, RoutesConfig};
/// let routes: RoutesConfig = serde_json::from_str(r#"{"gone": false}"#).unwrap();
/// let router = Router::builder(Arc::new(Registry::new())).routes(&routes)?.build()?;
/// assert_eq!(router.route_names().count(), 0);
/// # Ok::<(), superhero_http::HttpError>(())
/// ```
pub struct RouterBuilder {
    resolver: Arc<dyn Resolver>,
    routes: IndexMap<String, CompiledRoute>,
    openapi: Option<OpenApi>,
    openapi_path: String,
}

impl std::fmt::Debug for RouterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterBuilder")
            .field("routes", &self.routes.keys().collect::<Vec<_>>())
            .field("openapi", &self.openapi.is_some())
            .finish_non_exhaustive()
    }
}

impl RouterBuilder {
    pub(crate) fn new(resolver: Arc<dyn Resolver>) -> Self {
        Self {
            resolver,
            routes: IndexMap::new(),
            openapi: None,
            openapi_path: "/openapi.json".to_owned(),
        }
    }

    /// Adds every route of a config map in order; `false` entries remove the route of
    /// that name if one was added before.
    pub fn routes(mut self, config: &RoutesConfig) -> Result<Self, HttpError> {
        for (name, entry) in config {
            match entry {
                RouteEntry::Disabled => {
                    self.routes.shift_remove(name);
                }
                RouteEntry::Route(spec) => self = self.route(name, spec)?,
            }
        }
        Ok(self)
    }

    /// Adds one route; a name can be used once (`E_ROUTER_INVALID_ROUTE`).
    pub fn route(mut self, name: &str, spec: &RouteSpec) -> Result<Self, HttpError> {
        if self.routes.contains_key(name) {
            return Err(HttpError::route(
                name,
                "a route of this name already exists",
            ));
        }
        let compiled = self.compile(name, spec)?;
        self.routes.insert(name.to_owned(), compiled);
        Ok(self)
    }

    /// Merges an OpenAPI document; its operations become routes at [`build`](Self::build)
    /// (after the config routes), and the merged document is served at `/openapi.json`.
    pub fn openapi(mut self, document: OpenApi) -> Result<Self, HttpError> {
        match &mut self.openapi {
            Some(merged) => merged.merge(document)?,
            None => self.openapi = Some(document),
        }
        Ok(self)
    }

    /// Where the merged document is served (default `/openapi.json`).
    #[must_use]
    pub fn openapi_path(mut self, path: impl Into<String>) -> Self {
        self.openapi_path = path.into();
        self
    }

    /// Compiles the OpenAPI operations and returns the route table.
    pub fn build(self) -> Result<Router, HttpError> {
        let mut routes: Vec<CompiledRoute> = self.routes.into_values().collect();
        if let Some(document) = &self.openapi {
            let operations = oas::compile_operations(document, self.resolver.as_ref())?;
            for operation in operations {
                if routes.iter().any(|r| r.info.name == operation.info.name) {
                    return Err(HttpError::route(
                        &operation.info.name,
                        "a route of this name already exists",
                    ));
                }
                routes.push(operation);
            }
            let dispatcher: Arc<dyn Dispatcher> = Arc::new(oas::DocumentDispatcher::new(document)?);
            routes.push(CompiledRoute {
                info: Arc::new(RouteInfo {
                    name: "openapi.json".to_owned(),
                    condition: self.openapi_path.clone(),
                    ..RouteInfo::default()
                }),
                pattern: Pattern::compile("openapi.json", &self.openapi_path)?,
                methods: Methods::List(vec![Method::GET]),
                chain: Arc::new([]),
                dispatcher: Some(dispatcher),
                consumes: Vec::new(),
                produces: Vec::new(),
                metrics: RouteMetrics::new("openapi.json"),
            });
        }
        let has_middleware_routes = routes.iter().any(|r| r.dispatcher.is_none());
        Ok(Router {
            routes: routes.into(),
            has_middleware_routes,
            unmatched: Arc::new(RouteMetrics::unmatched()),
        })
    }

    fn compile(&self, name: &str, spec: &RouteSpec) -> Result<CompiledRoute, HttpError> {
        let pattern = Pattern::compile(name, &spec.condition)?;
        let methods = parse_methods(name, &spec.method)?;
        let chain = self.resolve_middleware(name, &spec.middleware)?;
        let dispatcher = match &spec.dispatcher {
            Some(dispatcher) => Some(self.resolver.dispatcher(dispatcher).ok_or_else(|| {
                HttpError::UnknownDispatcher {
                    route: name.to_owned(),
                    name: dispatcher.clone(),
                    document: None,
                }
            })?),
            None => None,
        };
        if dispatcher.is_none() && chain.is_empty() {
            return Err(HttpError::route(
                name,
                "a route needs a dispatcher or middleware",
            ));
        }
        Ok(CompiledRoute {
            info: Arc::new(RouteInfo {
                name: name.to_owned(),
                condition: spec.condition.clone(),
                meta: spec.meta.clone(),
                operation: None,
            }),
            pattern,
            methods,
            chain: chain.into(),
            dispatcher,
            consumes: media_ranges(name, &spec.consumes)?,
            produces: media_ranges(name, &spec.produces)?,
            metrics: RouteMetrics::new(name),
        })
    }

    pub(crate) fn resolve_middleware(
        &self,
        route: &str,
        names: &[String],
    ) -> Result<Vec<Arc<dyn Middleware>>, HttpError> {
        resolve_middleware(self.resolver.as_ref(), route, names)
    }
}

/// Looks up middleware names; unknown names are an error naming the route.
pub(crate) fn resolve_middleware(
    resolver: &dyn Resolver,
    route: &str,
    names: &[String],
) -> Result<Vec<Arc<dyn Middleware>>, HttpError> {
    names
        .iter()
        .map(|name| {
            resolver
                .middleware(name)
                .ok_or_else(|| HttpError::UnknownMiddleware {
                    route: route.to_owned(),
                    name: name.clone(),
                })
        })
        .collect()
}

fn parse_methods(route: &str, spec: &MethodSpec) -> Result<Methods, HttpError> {
    match spec {
        MethodSpec::Any => Ok(Methods::Any),
        MethodSpec::List(list) if list.is_empty() => {
            Err(HttpError::route(route, "the method list is empty"))
        }
        MethodSpec::List(list) => list
            .iter()
            .map(|m| {
                Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes())
                    .map_err(|_| HttpError::route(route, format!("invalid method {m:?}")))
            })
            .collect::<Result<_, _>>()
            .map(Methods::List),
    }
}

pub(crate) fn media_ranges(route: &str, list: &[String]) -> Result<Vec<MediaRange>, HttpError> {
    list.iter()
        .map(|text| {
            MediaRange::parse(text)
                .ok_or_else(|| HttpError::route(route, format!("invalid media type {text:?}")))
        })
        .collect()
}
