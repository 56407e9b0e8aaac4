//! The request as dispatchers and middleware see it: method, URI, headers, decoded path
//! parameters, OpenAPI-validated parameters and body, a bounded body reader, and
//! per-request extensions for middleware state (fresh for every request).

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Uri, Version};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::body::{BodyLimits, RequestBody, read_body};
use crate::error::HttpError;
use crate::router::RouteInfo;

/// What [`Request::route`] returns outside a route table (unit tests).
static NO_ROUTE: LazyLock<RouteInfo> = LazyLock::new(RouteInfo::default);

/// One request on its way through the middleware chain to the dispatcher.
pub struct Request {
    parts: Parts,
    body: BodyState,
    path_params: Vec<(Arc<str>, String)>,
    params: Map<String, Value>,
    json: Option<Value>,
    /// The app (route table, limits, shutdown token): one reference count per request,
    /// rather than one per piece.
    app: App,
    route: usize,
}

enum BodyState {
    Unread(RequestBody),
    Read(Bytes),
    Failed,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri)
            .field("route", &self.route().name)
            .field("path_params", &self.path_params)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Request {
    pub(crate) fn from_parts(
        parts: Parts,
        body: RequestBody,
        path_params: Vec<(Arc<str>, String)>,
        app: App,
        route: usize,
    ) -> Self {
        Self {
            parts,
            body: BodyState::Unread(body),
            path_params,
            params: Map::new(),
            json: None,
            app,
            route,
        }
    }

    /// A request outside the server, for unit tests of dispatchers and middleware.
    pub fn new(request: http::Request<Bytes>) -> Self {
        let (parts, body) = request.into_parts();
        let mut request = Self::from_parts(
            parts,
            RequestBody::Empty,
            Vec::new(),
            App::detached(),
            usize::MAX,
        );
        request.body = BodyState::Read(body);
        request
    }

    /// Adds a path parameter (for unit tests; the router sets them in the server).
    pub fn insert_path_param(&mut self, name: &str, value: impl Into<String>) {
        self.path_params.push((Arc::from(name), value.into()));
    }

    /// The address of the client's end of the connection (not set for requests built
    /// outside the server).
    pub fn remote_addr(&self) -> Option<std::net::SocketAddr> {
        self.parts.extensions.get::<RemoteAddr>().map(|r| r.0)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The raw (not decoded) path.
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.parts.uri.query()
    }

    /// The first value of a query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.parts.uri.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// The protocol version (HTTP/1.1 or HTTP/2).
    pub fn version(&self) -> Version {
        self.parts.version
    }

    /// The headers (names are lower-case; HTTP/2's `:authority` is in [`Request::uri`]).
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// A header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name)?.to_str().ok()
    }

    /// Typed per-request state, e.g. a session a middleware attached. Never shared
    /// between requests.
    pub fn extensions(&self) -> &http::Extensions {
        &self.parts.extensions
    }

    /// Typed per-request state, to change.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.parts.extensions
    }

    /// The matched route.
    pub fn route(&self) -> &RouteInfo {
        self.app
            .router()
            .route_info(self.route)
            .unwrap_or(&NO_ROUTE)
    }

    /// A path parameter, percent-decoded (`/users/{id}` → `path_param("id")`).
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(key, _)| &**key == name)
            .map(|(_, value)| value.as_str())
    }

    /// All path parameters, percent-decoded, in pattern order.
    pub fn path_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.path_params.iter().map(|(k, v)| (&**k, v.as_str()))
    }

    /// A parameter validated and coerced by the route's OpenAPI operation (path, query,
    /// header or cookie; defaults applied). `None` on routes without an operation.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    /// All OpenAPI parameters.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }

    pub(crate) fn set_params(&mut self, params: Map<String, Value>) {
        self.params = params;
    }

    /// The JSON body validated by the route's OpenAPI operation (defaults applied).
    pub fn body_json(&self) -> Option<&Value> {
        self.json.as_ref()
    }

    pub(crate) fn set_body_json(&mut self, value: Value) {
        self.json = Some(value);
    }

    /// Whether the request has a body still to read or already read and non-empty.
    pub fn has_body(&self) -> bool {
        match &self.body {
            BodyState::Unread(body) => !body.is_empty(),
            BodyState::Read(bytes) => !bytes.is_empty(),
            BodyState::Failed => false,
        }
    }

    /// The whole body, read once within the configured size and time limits
    /// (413 `E_HTTP_BODY_TOO_LARGE`, 408 `E_HTTP_BODY_TIMEOUT`); later calls are free.
    pub async fn body_bytes(&mut self) -> Result<Bytes, HttpError> {
        match std::mem::replace(&mut self.body, BodyState::Failed) {
            BodyState::Read(bytes) => {
                self.body = BodyState::Read(bytes.clone());
                Ok(bytes)
            }
            BodyState::Failed => Err(HttpError::BodyRead {
                source: "the body could not be read before".into(),
            }),
            BodyState::Unread(body) => {
                let length = self
                    .parts
                    .headers
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let limits: BodyLimits = self.app.body_limits();
                let bytes = read_body(body, length, limits).await?;
                self.body = BodyState::Read(bytes.clone());
                Ok(bytes)
            }
        }
    }

    /// The body as JSON: the validated body on OpenAPI routes, otherwise parsed from the
    /// bytes (400 `E_HTTP_INVALID_JSON`). An empty body reads as `{}`.
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, HttpError> {
        if let Some(value) = &self.json {
            return T::deserialize(value).map_err(|source| HttpError::InvalidJson { source });
        }
        let bytes = self.body_bytes().await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return serde_json::from_str("{}").map_err(|source| HttpError::InvalidJson { source });
        }
        serde_json::from_slice(&bytes).map_err(|source| HttpError::InvalidJson { source })
    }

    /// Cancelled when the server starts shutting down: long waits should give up.
    pub fn shutdown_token(&self) -> &CancellationToken {
        self.app.shutdown_token()
    }
}

/// The client's address, put into each request's extensions by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub std::net::SocketAddr);
