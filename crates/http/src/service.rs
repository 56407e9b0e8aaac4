//! The HTTP server as a `superhero-core` service.
//!
//! [`register`] adds the service `http` to a core [`Registry`].
//! Its bootstrap reads the config section it is given (normally `http`):
//!
//! ```toml
//! [http.server]                 # ServerConfig: listen, tls, limits, shutdown_deadline_ms
//! listen = "127.0.0.1:8080"
//! tls = { cert = "certs/cert.pem", key = "certs/key.pem" }   # relative to this file
//!
//! [http.routes.status]          # RoutesConfig: routes from config
//! condition = "/status"
//! method = "GET"
//! dispatcher = "my-app/status"  # a service that exposes `dyn Dispatcher`
//!
//! [http.openapi]                # OpenAPI documents: name → document, file path or false
//! "ping-pong/ping" = "ping/route.json"
//! ```
//!
//! Dispatchers and middleware named by routes are services in the locator that expose
//! `dyn Dispatcher` / `dyn Middleware` (see
//! [`Registering::expose`](superhero_core::Registering::expose)). The listener is bound
//! with `SO_REUSEPORT` in a cluster worker, so every worker of a cluster serves the same
//! port (and exclusively otherwise: a port in use fails start-up with `E_CORE_LISTEN`).
//!
//! Shutdown: core cancels this service's token just before `destroy`, which stops
//! accepting, ends SSE streams and drains in-flight requests; `destroy` returns once the
//! server has drained. Services the routes use must be destroyed after the server, so
//! apps list their dispatchers in `locator.http.uses` (arrays union across config layers).
//! The drain gets at most half of the node's shutdown budget (`core/shutdown/timeout_ms`):
//! `http.server.shutdown_deadline_ms` is lowered to that share when it is longer, so a
//! slow request cannot leave the services destroyed after the server without time to
//! stop.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use superhero_core::cluster::bind_service;
use superhero_core::shutdown::DEFAULT_TIMEOUT;
use superhero_core::{
    BoxError, CancellationToken, ConfigSection, Locator, Registry, SHUTDOWN_TIMEOUT_KEY, Service,
    async_trait,
};

use crate::app::App;
use crate::config::ServerConfig;
use crate::error::HttpError;
use crate::middleware::{Dispatcher, Middleware, Resolver};
use crate::oas::OpenApi;
use crate::router::{Router, RoutesConfig};
use crate::server::{HttpServer, ServerHandle};

/// The name the HTTP service registers under.
pub const SERVICE: &str = "http";

/// Registers the [`HttpService`] as `http`.
pub fn register(registry: &mut Registry) {
    registry.register(SERVICE, |ctx| async move {
        crate::metrics::describe();
        Ok(HttpService {
            locator: ctx.locator().clone(),
            token: ctx.shutdown_token(),
            running: Mutex::new(None),
        })
    });
}

/// Serves HTTP for the routes in config, dispatching to located services.
pub struct HttpService {
    locator: Locator,
    token: CancellationToken,
    running: Mutex<Option<ServerHandle>>,
}

impl HttpService {
    /// The bound address, once bootstrapped.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(ServerHandle::local_addr)
    }
}

#[async_trait]
impl Service for HttpService {
    async fn bootstrap(&self, config: ConfigSection) -> Result<(), BoxError> {
        let mut server_config: ServerConfig = config.get("server")?.unwrap_or_default();
        if let Some(tls) = server_config.tls.as_mut() {
            if let Some(cert) = config.resolve_path("server/tls/cert")? {
                tls.cert = cert;
            }
            if let Some(key) = config.resolve_path("server/tls/key")? {
                tls.key = key;
            }
        }
        let budget = config
            .config()
            .get::<u64>(SHUTDOWN_TIMEOUT_KEY)?
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        let share = drain_share(budget);
        if server_config.shutdown_deadline() > share {
            tracing::debug!(
                configured_ms = server_config.shutdown_deadline_ms,
                share_ms = share.as_millis() as u64,
                "the HTTP drain deadline is capped at half the node's shutdown budget"
            );
            server_config.shutdown_deadline_ms = share.as_millis() as u64;
        }
        let mut routes: RoutesConfig = config.get("routes")?.unwrap_or_default();
        crate::health::add_routes(&mut routes);
        crate::metrics::add_route(&mut routes);
        let resolver = Arc::new(LocatorResolver {
            locator: self.locator.clone(),
        });
        let mut router = Router::builder(resolver.clone()).routes(&routes)?;
        for (source, document) in openapi_documents(&config)? {
            check_dispatchers(&document, &source, resolver.as_ref())?;
            router = router.openapi(document)?;
        }
        let router = router.build()?;

        let listener = bind_service(server_config.listen)?;
        let server = HttpServer::from_std(listener, server_config.clone())?;
        let app = App::new(router, self.token.clone()).with_limits(&server_config.limits);
        let scheme = if server.is_tls() { "https" } else { "http" };
        let handle = server.spawn(app, self.token.clone());
        tracing::info!(url = %format!("{scheme}://{}", handle.local_addr()), "http listening");
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(())
    }

    async fn destroy(&self) -> Result<(), BoxError> {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            handle.shutdown().await?;
            tracing::info!("http drained");
        }
        Ok(())
    }
}

/// The part of the node's shutdown budget the HTTP drain may use: half, so the services
/// destroyed after the server (those its routes use, the event store) keep the rest.
fn drain_share(budget: Duration) -> Duration {
    budget / 2
}

/// Refuses a document that names a dispatcher no located service exposes, naming the
/// document's file (or embedded source), the route and the name. Checked per document,
/// before they are merged, so the error can say where the name was written.
fn check_dispatchers(
    document: &OpenApi,
    source: &str,
    resolver: &dyn Resolver,
) -> Result<(), HttpError> {
    for (route, name) in document.dispatchers() {
        if resolver.dispatcher(&name).is_none() {
            return Err(HttpError::UnknownDispatcher {
                route,
                name,
                document: Some(source.to_owned()),
            });
        }
    }
    Ok(())
}

/// The OpenAPI documents of `openapi`, each with where it was written: name → document
/// object, file path (relative to the declaring config file) or `false`.
fn openapi_documents(config: &ConfigSection) -> Result<Vec<(String, OpenApi)>, BoxError> {
    let Some(Value::Object(entries)) = config.section("openapi").value().cloned() else {
        return Ok(Vec::new());
    };
    let mut documents = Vec::new();
    for (name, entry) in entries {
        let key = superhero_core::config::key::join(&["openapi", &name]);
        match entry {
            Value::Bool(false) | Value::Null => {}
            Value::String(_) => {
                let path = config
                    .resolve_path(&key)?
                    .ok_or("unreachable: the path exists")?;
                documents.push((path.display().to_string(), OpenApi::from_file(path)?));
            }
            document @ Value::Object(_) => {
                let full = superhero_core::config::key::child(config.path(), &key);
                let source = config
                    .config()
                    .origin(&full)
                    .map_or_else(|| full.clone(), ToString::to_string);
                documents.push((source, OpenApi::from_value(document)?));
            }
            other => {
                return Err(format!(
                    "http.openapi.{name} must be a document, a file path or false, found {other}"
                )
                .into());
            }
        }
    }
    Ok(documents)
}

/// Finds dispatchers and middleware among the located services.
struct LocatorResolver {
    locator: Locator,
}

impl Resolver for LocatorResolver {
    fn dispatcher(&self, name: &str) -> Option<Arc<dyn Dispatcher>> {
        crate::health::dispatcher(name, &self.locator)
            .or_else(|| crate::metrics::dispatcher(name, &self.locator))
            .or_else(|| self.locator.locate::<dyn Dispatcher>(name).ok())
    }

    fn middleware(&self, name: &str) -> Option<Arc<dyn Middleware>> {
        self.locator.locate::<dyn Middleware>(name).ok()
    }
}
