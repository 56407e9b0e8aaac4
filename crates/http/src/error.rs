//! The crate's one error type, [`HttpError`], with a stable code per variant.
//!
//! Codes never change once published; clients and tests match on them. Which HTTP status a
//! code answers with is decided in exactly one place, [`crate::problem`].

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;

/// A boxed error from a dependency or an application (the cause of [`HttpError::Internal`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One entry of the `details` list of an error body: where, which rule, and what happened.
///
/// `path` is a JSON-pointer-like location prefixed with where the value came from, e.g.
/// `/query/sleep`, `/path/id`, `/header/x-trace`, `/body/items/0/sku`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// Where the problem is (`/query/sleep`, `/body/name`, ...).
    pub path: String,
    /// The stable code of the violated rule (`E_OAS_SCHEMA_MINIMUM`, ...).
    pub code: Cow<'static, str>,
    /// A sentence for people.
    pub message: String,
}

impl Detail {
    /// Creates a detail entry.
    pub fn new(
        path: impl Into<String>,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Codes of OpenAPI specification problems found while loading documents or building routes.
pub mod spec_code {
    /// A document could not be read or parsed.
    pub const LOAD: &str = "E_OAS_LOAD_SPECIFICATION";
    /// The document is not a valid OpenAPI 3.0/3.1 document (or a `$ref` does not resolve).
    pub const INVALID: &str = "E_OAS_INVALID_SPECIFICATION";
    /// A parameter object is malformed.
    pub const INVALID_PARAMETER: &str = "E_OAS_INVALID_PARAMETER_SPECIFICATION";
    /// A parameter uses a feature this server does not implement (a `style`, `content`, ...).
    pub const UNSUPPORTED_PARAMETER: &str = "E_OAS_UNSUPORTED_PARAMETER_SPECIFICATION";
    /// A request body object is malformed.
    pub const INVALID_REQUEST_BODY: &str = "E_OAS_INVALID_REQUEST_BODIES_SPECIFICATION";
    /// A schema is malformed (unknown type, bad pattern, bad keyword value).
    pub const INVALID_SCHEMA: &str = "E_OAS_INVALID_SCHEMAS_SPECIFICATION";
    /// A security requirement this server cannot enforce (alternatives, or a scheme
    /// without the `x-middleware` that checks it).
    pub const UNSUPPORTED_SECURITY: &str = "E_OAS_UNSUPPORTED_SECURITY_SPECIFICATION";
    /// Two documents define the same operation.
    pub const DUPLICATE_OPERATION: &str = "E_OAS_DUPLICATE_OPERATION";
}

/// Every error this crate produces, set-up errors and per-request errors alike.
///
/// Each variant has a stable [`code`](HttpError::code); [`crate::problem`] maps it to a
/// status and renders the error body `{"status","error","code","details"}`.
/// Applications answer with their own status and code through [`HttpError::status`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No route's condition matches the request path.
    #[error("No route matches the path {path}")]
    NotFound {
        /// The request path.
        path: String,
    },
    /// A route matches the path but none accepts the method.
    #[error("The method {method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed {
        /// The request method.
        method: Method,
        /// Allowed methods, comma separated (the `Allow` header value).
        allow: String,
    },
    /// The `Accept` header accepts none of the media types the route produces.
    #[error("None of the media types this route produces is acceptable")]
    NotAcceptable {
        /// The media types the route produces.
        produces: Vec<String>,
    },
    /// The request body's `Content-Type` is missing or not one the route consumes.
    #[error("Unsupported content type {}", content_type.as_deref().unwrap_or("(none)"))]
    UnsupportedMediaType {
        /// The request method (selects `Accept-Post` / `Accept-Patch`).
        method: Method,
        /// The request's content type, if any.
        content_type: Option<String>,
        /// The media types the route consumes.
        consumes: Vec<String>,
    },
    /// The request target cannot be used (e.g. a path segment is not valid UTF-8).
    #[error("Invalid request target: {reason}")]
    InvalidTarget {
        /// Why.
        reason: String,
    },
    /// The body is not valid JSON.
    #[error("The body is not valid JSON")]
    InvalidJson {
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// Reading the body failed (the client aborted, or sent a malformed chunk).
    #[error("The request body could not be read")]
    BodyRead {
        /// The transport's error.
        #[source]
        source: BoxError,
    },
    /// The body is larger than `limits.max_body_bytes`.
    #[error("The request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The body did not arrive within `limits.body_read_timeout_ms`.
    #[error("The request body did not arrive within {} ms", timeout.as_millis())]
    BodyTimeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// OpenAPI parameter validation failed; every violation is in `details`.
    #[error("Invalid request parameters for operation {operation}")]
    InvalidParameters {
        /// `METHOD /path` of the operation.
        operation: String,
        /// Every violation found (request body violations too, if any).
        details: Vec<Detail>,
    },
    /// OpenAPI request body validation failed; every violation is in `details`.
    #[error("Invalid request body for operation {operation}")]
    InvalidRequestBody {
        /// `METHOD /path` of the operation.
        operation: String,
        /// Every violation found.
        details: Vec<Detail>,
    },
    /// An application-defined error with its own status and code.
    #[error("{message}")]
    Status {
        /// The status to answer with.
        status: StatusCode,
        /// The application's stable code.
        code: Cow<'static, str>,
        /// A sentence for people.
        message: String,
        /// Details for the error body.
        details: Vec<Detail>,
        /// Extra response headers.
        headers: Box<HeaderMap>,
    },
    /// A real fault in a dispatcher or middleware; answered with 500 and a generic message,
    /// the cause is logged, never sent.
    #[error("{message}")]
    Internal {
        /// A stable code chosen by the application (`E_HTTP_INTERNAL` by default).
        code: Cow<'static, str>,
        /// What failed (logged; the client gets a generic sentence).
        message: String,
        /// The cause, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A route definition is invalid (duplicate name, bad method, no condition, ...).
    #[error("Invalid route {route:?}: {reason}")]
    InvalidRoute {
        /// The route's name.
        route: String,
        /// Why.
        reason: String,
    },
    /// A route's condition (path pattern) cannot be compiled.
    #[error("Invalid condition {condition:?} in route {route:?}: {reason}")]
    InvalidCondition {
        /// The route's name.
        route: String,
        /// The pattern.
        condition: String,
        /// Why.
        reason: String,
    },
    /// The resolver knows no dispatcher of this name.
    #[error(
        "Route {route:?}{} names the dispatcher {name:?}, which is not registered",
        document.as_ref().map(|d| format!(" of {d}")).unwrap_or_default()
    )]
    UnknownDispatcher {
        /// The route's name.
        route: String,
        /// The dispatcher name.
        name: String,
        /// The OpenAPI document (file or embedded source) that names it, when known.
        document: Option<String>,
    },
    /// The resolver knows no middleware of this name.
    #[error("Route {route:?} names the middleware {name:?}, which is not registered")]
    UnknownMiddleware {
        /// The route's name.
        route: String,
        /// The middleware name.
        name: String,
    },
    /// An OpenAPI document could not be loaded or is invalid; `code` is one of [`spec_code`].
    #[error("OpenAPI specification error at {pointer}: {reason}")]
    Specification {
        /// One of the [`spec_code`] constants.
        code: &'static str,
        /// JSON pointer (or file path) of the offending part.
        pointer: String,
        /// Why.
        reason: String,
    },
    /// TLS set-up failed (unreadable or invalid certificate or key).
    #[error("TLS set-up failed: {reason}")]
    Tls {
        /// Why.
        reason: String,
        /// The cause, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Binding or configuring the listening socket failed.
    #[error("Cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A listener handed in could not be used.
    #[error("Cannot use the listener: {source}")]
    Listener {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An SSE stream ended (client gone or shutdown began); sending more is pointless.
    #[error("The event stream is closed")]
    StreamClosed,
    /// The server task ended abnormally (panicked or was aborted).
    #[error("The server task failed: {reason}")]
    ServerTask {
        /// Why.
        reason: String,
    },
}

impl HttpError {
    /// The stable code of this error.
    pub fn code(&self) -> &str {
        match self {
            Self::NotFound { .. } => "E_HTTP_NOT_FOUND",
            Self::MethodNotAllowed { .. } => "E_HTTP_METHOD_NOT_ALLOWED",
            Self::NotAcceptable { .. } => "E_HTTP_NOT_ACCEPTABLE",
            Self::UnsupportedMediaType {
                content_type: None, ..
            } => "E_HTTP_CONTENT_TYPE_MISSING",
            Self::UnsupportedMediaType { .. } => "E_HTTP_UNSUPPORTED_MEDIA_TYPE",
            Self::InvalidTarget { .. } => "E_HTTP_INVALID_TARGET",
            Self::InvalidJson { .. } => "E_HTTP_INVALID_JSON",
            Self::BodyRead { .. } => "E_HTTP_BODY_READ",
            Self::BodyTooLarge { .. } => "E_HTTP_BODY_TOO_LARGE",
            Self::BodyTimeout { .. } => "E_HTTP_BODY_TIMEOUT",
            Self::InvalidParameters { .. } => "E_OAS_INVALID_REQUEST_PARAMETERS",
            Self::InvalidRequestBody { .. } => "E_OAS_INVALID_REQUEST_BODY",
            Self::Status { code, .. } | Self::Internal { code, .. } => code,
            Self::InvalidRoute { .. } => "E_ROUTER_INVALID_ROUTE",
            Self::InvalidCondition { .. } => "E_ROUTER_INVALID_CONDITION",
            Self::UnknownDispatcher { .. } => "E_ROUTER_UNKNOWN_DISPATCHER",
            Self::UnknownMiddleware { .. } => "E_ROUTER_UNKNOWN_MIDDLEWARE",
            Self::Specification { code, .. } => code,
            Self::Tls { .. } => "E_HTTP_TLS",
            Self::Bind { .. } => "E_HTTP_BIND",
            Self::Listener { .. } => "E_HTTP_LISTENER",
            Self::StreamClosed => "E_HTTP_STREAM_CLOSED",
            Self::ServerTask { .. } => "E_HTTP_SERVER_TASK",
        }
    }

    /// An application error answered with `status`, a stable `code` and a message.
    ///
    /// ```
    /// use superhero_http::HttpError;
    /// use http::StatusCode;
    /// let e = HttpError::status(StatusCode::CONFLICT, "E_USER_EXISTS", "The name is taken");
    /// assert_eq!(e.code(), "E_USER_EXISTS");
    /// ```
    pub fn status(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self::Status {
            status,
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
            headers: Box::default(),
        }
    }

    /// A real fault with its cause: answered with 500 and a generic message.
    pub fn internal(code: impl Into<Cow<'static, str>>, cause: impl Into<BoxError>) -> Self {
        let source = cause.into();
        Self::Internal {
            code: code.into(),
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// Adds a detail entry (only [`HttpError::Status`] and the OpenAPI errors carry any).
    #[must_use]
    pub fn with_detail(mut self, detail: Detail) -> Self {
        match &mut self {
            Self::Status { details, .. }
            | Self::InvalidParameters { details, .. }
            | Self::InvalidRequestBody { details, .. } => details.push(detail),
            _ => {}
        }
        self
    }

    /// Adds a response header (only [`HttpError::Status`] carries extra headers).
    #[must_use]
    pub fn with_header(mut self, name: http::HeaderName, value: http::HeaderValue) -> Self {
        if let Self::Status { headers, .. } = &mut self {
            headers.append(name, value);
        }
        self
    }

    pub(crate) fn spec(
        code: &'static str,
        pointer: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Specification {
            code,
            pointer: pointer.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn route(route: &str, reason: impl Into<String>) -> Self {
        Self::InvalidRoute {
            route: route.to_owned(),
            reason: reason.into(),
        }
    }
}
