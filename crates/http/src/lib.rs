//! `superhero-http`: the HTTP server of Superhero services.
//!
//! HTTP/1.1 and HTTP/2 on one port (h2c with prior knowledge in clear text, ALPN `h2` /
//! `http/1.1` over rustls), routes from configuration and from OpenAPI documents,
//! onion-model middleware, JSON views, Server-Sent Events, one error shape with stable
//! codes, bounded reads, and graceful shutdown.
//!
//! The pieces, in the order a request meets them:
//!
//! | module | owns |
//! |---|---|
//! | [`server`] | listening, TLS handshake, protocol detection, limits, graceful shutdown |
//! | [`app`] | the tower `Service`: routing, content negotiation, running the chain |
//! | [`router`] | route table from config ([`RoutesConfig`]) and OpenAPI ([`OpenApi`]) |
//! | [`middleware`] | [`Dispatcher`], [`Middleware`], [`Next`], [`Resolver`] |
//! | [`request`], [`view`], [`sse`] | what dispatchers read and write |
//! | [`oas`] | OpenAPI documents, parameter coercion, schema validation |
//! | [`error`], [`problem`] | [`HttpError`] and its codes; the one code → status mapping |
//! | [`config`], [`tls`] | `http.server` settings; rustls and development certificates |
//! | [`service`] | the server as a `superhero-core` service (`http`) |
//!
//! Wiring it up (see [`server`] for a complete example):
//! config → [`Router::builder`] (with a [`Resolver`]) → [`App::new`] (with the shutdown
//! token) → optional tower layers → [`HttpServer::bind`] / [`HttpServer::from_std`] →
//! [`HttpServer::serve`] or [`HttpServer::spawn`].

#![warn(missing_docs)]

pub mod app;
pub mod body;
pub mod config;
pub mod error;
mod framing;
pub mod health;
pub mod metrics;
pub mod middleware;
mod negotiate;
pub mod oas;
pub mod problem;
pub mod request;
pub mod router;
pub mod server;
pub mod service;
pub mod sse;
pub mod tls;
pub mod view;

pub use app::App;
pub use body::ResponseBody;
pub use config::{Limits, ServerConfig, TlsFiles};
pub use error::{BoxError, Detail, HttpError};
pub use middleware::{Dispatcher, Middleware, Next, Registry, Resolver};
pub use oas::OpenApi;
pub use request::Request;
pub use router::{
    MethodSpec, RouteEntry, RouteInfo, RouteSpec, Router, RouterBuilder, RoutesConfig,
};
pub use server::{HttpServer, ServerHandle};
pub use sse::{SseEvent, SseOptions, SseSender};
pub use view::View;
