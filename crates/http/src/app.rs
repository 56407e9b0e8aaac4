//! The application as a tower [`Service`]: routes a request, checks content negotiation,
//! runs the middleware chain and the dispatcher, and turns the view or the error into the
//! response. A panicking dispatcher answers 500 instead of taking the connection down.
//!
//! Because it is a plain `Service<http::Request<B>>`, tower and tower-http layers
//! (timeouts, compression, tracing, limits) wrap it before it is handed to the server.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body::Body;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use crate::body::{BodyLimits, RequestBody, ResponseBody};
use crate::config::Limits;
use crate::error::{BoxError, HttpError};
use crate::framing;
use crate::metrics::RouteMetrics;
use crate::middleware::Next;
use crate::negotiate;
use crate::problem::error_response;
use crate::request::Request;
use crate::router::{Lookup, Router, Selected};
use crate::view::View;

/// The router plus per-request settings, as a tower `Service`. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use superhero_http::{App, Registry, Router};
/// use tokio_util::sync::CancellationToken;
/// let router = Router::builder(Arc::new(Registry::new())).build()?;
/// let shutdown = CancellationToken::new();
/// let app = App::new(router, shutdown.clone());
/// # Ok::<(), superhero_http::HttpError>(())
/// ```
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    router: Router,
    limits: BodyLimits,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("router", &self.inner.router)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app over `router`; SSE streams end and [`Request::shutdown_token`] fires when
    /// `shutdown` is cancelled (pass the token the server is shut down with).
    pub fn new(router: Router, shutdown: CancellationToken) -> Self {
        let limits = Limits::default();
        Self {
            inner: Arc::new(Inner {
                router,
                limits: BodyLimits {
                    max_bytes: limits.max_body_bytes,
                    timeout: limits.body_read_timeout(),
                },
                shutdown,
            }),
        }
    }

    /// Uses the body size limit and read timeout of `limits` (default: [`Limits::default`]).
    #[must_use]
    pub fn with_limits(mut self, limits: &Limits) -> Self {
        let inner = Arc::make_mut(&mut self.inner);
        inner.limits = BodyLimits {
            max_bytes: limits.max_body_bytes,
            timeout: limits.body_read_timeout(),
        };
        self
    }

    /// The route table.
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// The shutdown token.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    pub(crate) fn body_limits(&self) -> BodyLimits {
        self.inner.limits
    }

    /// An app with no routes, for requests built outside the server.
    pub(crate) fn detached() -> Self {
        let router = Router {
            routes: Arc::new([]),
            has_middleware_routes: false,
            unmatched: Arc::new(RouteMetrics::unmatched()),
        };
        Self::new(router, CancellationToken::new())
    }

    /// Handles one request to completion. Whichever path produced the response (a view,
    /// an error, a middleware that answered itself, an SSE stream), it follows the same
    /// framing rules: no content for HEAD, 204, 205 and 304, the GET's `Content-Length`
    /// on a HEAD answer, the body's own length on the others, never a final 1xx status
    /// (500 `E_HTTP_INFORMATIONAL_STATUS` instead). The server applies them once more to
    /// whatever tower layers in front of the app answer.
    pub async fn handle<B>(&self, request: http::Request<B>) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let started = std::time::Instant::now();
        let method = request.method().clone();
        let head = method == Method::HEAD;
        let (mut response, route) = self.respond(request).await;
        let status = response.status();
        if status.is_informational() {
            response = error_response(&HttpError::Internal {
                code: "E_HTTP_INFORMATIONAL_STATUS".into(),
                message: format!("a handler answered {status}, which cannot end an exchange"),
                source: None,
            });
        }
        route.record(&method, response.status(), started);
        framing::frame_response(head, response)
    }

    /// Routes, negotiates and runs the chain; the response is framed by [`Self::handle`].
    async fn respond<B>(&self, request: http::Request<B>) -> (Response<ResponseBody>, &RouteMetrics)
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let inner = &*self.inner;
        let (parts, body) = request.into_parts();
        let selected = match inner.router.lookup(&parts.method, parts.uri.path()) {
            Lookup::Found(selected) => selected,
            Lookup::NotFound => {
                let response = error_response(&HttpError::NotFound {
                    path: parts.uri.path().to_owned(),
                });
                return (response, &inner.router.unmatched);
            }
            Lookup::NotAllowed(allow) => {
                let response = error_response(&HttpError::MethodNotAllowed {
                    method: parts.method,
                    allow,
                });
                return (response, &inner.router.unmatched);
            }
            Lookup::Options(allow) => return (options_response(&allow), &inner.router.unmatched),
        };
        let metrics = &selected.route.metrics;
        let body = RequestBody::new(body);
        if let Err(error) = negotiate_request(&selected, &parts, !body.is_empty()) {
            return (error_response(&error), metrics);
        }
        let params = match selected.params(parts.uri.path()) {
            Ok(params) => params,
            Err(error) => return (error_response(&error), metrics),
        };
        let chain = selected.chain();
        let route = selected.route;
        let Some(dispatcher) = route.dispatcher.as_deref() else {
            let response = error_response(&HttpError::NotFound {
                path: parts.uri.path().to_owned(),
            });
            return (response, &inner.router.unmatched);
        };
        let mut request = Request::from_parts(parts, body, params, self.clone(), selected.index);
        let mut view = View::new();
        let run = Next::new(&chain, dispatcher).call(&mut request, &mut view);
        let outcome = CatchUnwind { inner: run }.await;
        drop(chain);
        let result = match outcome {
            Ok(result) => result,
            Err(panic) => Err(HttpError::Internal {
                code: "E_HTTP_DISPATCHER_PANICKED".into(),
                message: format!(
                    "a dispatcher or middleware of route {:?} panicked: {}",
                    request.route().name,
                    panic_message(&*panic)
                ),
                source: None,
            }),
        };
        let response = match result.and_then(|()| view.into_response(&inner.shutdown)) {
            Ok(response) => response,
            Err(error) => error_response(&error),
        };
        (response, metrics)
    }
}

fn negotiate_request(
    selected: &Selected<'_>,
    parts: &http::request::Parts,
    has_body: bool,
) -> Result<(), HttpError> {
    let route = selected.route;
    if !route.consumes.is_empty() {
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or(""));
        if has_body || content_type.is_some() {
            let allowed =
                content_type.is_some_and(|ct| negotiate::consumed(ct, &route.consumes).is_some());
            if !allowed {
                return Err(HttpError::UnsupportedMediaType {
                    method: parts.method.clone(),
                    content_type: content_type.map(str::to_owned),
                    consumes: route
                        .consumes
                        .iter()
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                });
            }
        }
    }
    if !route.produces.is_empty() {
        let accept = parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok());
        if !negotiate::acceptable(accept, &route.produces) {
            return Err(HttpError::NotAcceptable {
                produces: route
                    .produces
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
            });
        }
    }
    Ok(())
}

fn options_response(allow: &str) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

pin_project_lite::pin_project! {
    /// Turns a panic while polling `inner` into an `Err`.
    struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

impl<B> Service<http::Request<B>> for App
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let app = self.clone();
        Box::pin(async move { Ok(app.handle(request).await) })
    }
}
