//! Dispatchers, middleware (onion model) and the resolver that finds them by name.
//!
//! A route's chain is `middleware... → dispatcher`. Each middleware gets a [`Next`]: code
//! before `next.run(..)` runs on the way in, code after it on the way out; not calling it
//! short-circuits the chain. When `handle` returns an error, the same middleware's
//! `on_error` gets it and may answer instead (return `Ok`) or pass it on; because `next`
//! runs inside `handle`, this also catches errors of everything after it.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use superhero_http::{Dispatcher, HttpError, Middleware, Next, Registry, Request, View};
//!
//! struct Hello;
//! #[async_trait]
//! impl Dispatcher for Hello {
//!     async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
//!         view.set_body(serde_json::json!("hello"));
//!         Ok(())
//!     }
//! }
//!
//! struct Timing;
//! #[async_trait]
//! impl Middleware for Timing {
//!     async fn handle(&self, req: &mut Request, view: &mut View, next: Next<'_>)
//!         -> Result<(), HttpError> {
//!         let started = std::time::Instant::now();
//!         next.run(req, view).await?;                      // the rest of the chain
//!         let ms = started.elapsed().as_millis().to_string();
//!         view.headers_mut().insert("x-elapsed-ms", ms.parse().unwrap());
//!         Ok(())
//!     }
//! }
//!
//! let registry = Registry::new()
//!     .with_dispatcher("hello", Arc::new(Hello))
//!     .with_middleware("timing", Arc::new(Timing));
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::HttpError;
use crate::request::Request;
use crate::view::View;

/// The end of a chain: answers a request by filling the view.
#[async_trait]
pub trait Dispatcher: Send + Sync + 'static {
    /// Handles the request.
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError>;

    /// Gets the error `dispatch` returned; return `Ok` to answer with the view instead.
    async fn on_error(
        &self,
        error: HttpError,
        _request: &mut Request,
        _view: &mut View,
    ) -> Result<(), HttpError> {
        Err(error)
    }
}

/// A layer of the onion around the dispatcher.
#[async_trait]
pub trait Middleware: Send + Sync + 'static {
    /// Handles the request; call `next.run(request, view)` to continue the chain.
    async fn handle(
        &self,
        request: &mut Request,
        view: &mut View,
        next: Next<'_>,
    ) -> Result<(), HttpError>;

    /// Gets the error `handle` returned (including errors from later links when `handle`
    /// propagated them); return `Ok` to answer with the view instead.
    async fn on_error(
        &self,
        error: HttpError,
        _request: &mut Request,
        _view: &mut View,
    ) -> Result<(), HttpError> {
        Err(error)
    }
}

type ChainFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HttpError>> + Send + 'a>>;

/// The rest of the chain, handed to a middleware.
pub struct Next<'a> {
    chain: &'a [Arc<dyn Middleware>],
    dispatcher: &'a dyn Dispatcher,
}

impl<'a> Next<'a> {
    pub(crate) fn new(chain: &'a [Arc<dyn Middleware>], dispatcher: &'a dyn Dispatcher) -> Self {
        Self { chain, dispatcher }
    }

    /// Runs the rest of the chain.
    pub fn run<'r>(self, request: &'r mut Request, view: &'r mut View) -> ChainFuture<'r>
    where
        'a: 'r,
    {
        Box::pin(self.call(request, view))
    }

    /// Runs the rest of the chain without boxing this level (the server's entry point).
    pub(crate) async fn call(
        self,
        request: &mut Request,
        view: &mut View,
    ) -> Result<(), HttpError> {
        match self.chain.split_first() {
            Some((middleware, rest)) => {
                let next = Next::new(rest, self.dispatcher);
                match middleware.handle(request, view, next).await {
                    Ok(()) => Ok(()),
                    Err(error) => middleware.on_error(error, request, view).await,
                }
            }
            None => match self.dispatcher.dispatch(request, view).await {
                Ok(()) => Ok(()),
                Err(error) => self.dispatcher.on_error(error, request, view).await,
            },
        }
    }
}

/// Finds dispatchers and middleware by the names routes use. The application backs it
/// with its service registry; [`Registry`] is a plain map for tests and small servers.
pub trait Resolver: Send + Sync {
    /// The dispatcher registered under `name`.
    fn dispatcher(&self, name: &str) -> Option<Arc<dyn Dispatcher>>;
    /// The middleware registered under `name`.
    fn middleware(&self, name: &str) -> Option<Arc<dyn Middleware>>;
}

/// A [`Resolver`] over two maps.
#[derive(Default, Clone)]
pub struct Registry {
    dispatchers: HashMap<String, Arc<dyn Dispatcher>>,
    middleware: HashMap<String, Arc<dyn Middleware>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a dispatcher under `name`.
    #[must_use]
    pub fn with_dispatcher(mut self, name: &str, dispatcher: Arc<dyn Dispatcher>) -> Self {
        self.dispatchers.insert(name.to_owned(), dispatcher);
        self
    }

    /// Registers a middleware under `name`.
    #[must_use]
    pub fn with_middleware(mut self, name: &str, middleware: Arc<dyn Middleware>) -> Self {
        self.middleware.insert(name.to_owned(), middleware);
        self
    }
}

impl Resolver for Registry {
    fn dispatcher(&self, name: &str) -> Option<Arc<dyn Dispatcher>> {
        self.dispatchers.get(name).cloned()
    }

    fn middleware(&self, name: &str) -> Option<Arc<dyn Middleware>> {
        self.middleware.get(name).cloned()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("dispatchers", &self.dispatchers.keys().collect::<Vec<_>>())
            .field("middleware", &self.middleware.keys().collect::<Vec<_>>())
            .finish()
    }
}
