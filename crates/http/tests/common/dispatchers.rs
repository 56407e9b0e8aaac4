//! Test dispatchers and middleware, registered by name in [`registry`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};
use superhero_http::{
    Dispatcher, HttpError, Middleware, Next, Registry, Request, SseEvent, SseOptions, View,
};

pub fn registry() -> Registry {
    Registry::new()
        .with_dispatcher("hello", Arc::new(Hello))
        .with_dispatcher("echo", Arc::new(Echo))
        .with_dispatcher("sleep", Arc::new(Sleep))
        .with_dispatcher("conflict", Arc::new(Conflict))
        .with_dispatcher("panic", Arc::new(Panic))
        .with_dispatcher("internal", Arc::new(Internal))
        .with_dispatcher("sse", Arc::new(Sse))
        .with_dispatcher("sse-forever", Arc::new(SseForever))
        .with_dispatcher("sse-frames", Arc::new(SseFrames))
        .with_dispatcher("no-content", Arc::new(NoContent))
        .with_dispatcher("headers", Arc::new(Headers))
        .with_dispatcher("big", Arc::new(Big))
        .with_dispatcher("status", Arc::new(Status))
        .with_dispatcher("bulk", Arc::new(Bulk))
        .with_dispatcher("wrong-length", Arc::new(WrongLength))
        .with_middleware("outer", Arc::new(Trace("outer")))
        .with_middleware("inner", Arc::new(Trace("inner")))
        .with_middleware("deny", Arc::new(Deny))
        .with_middleware("recover", Arc::new(Recover))
}

/// `{"hello": "world"}`.
pub struct Hello;
#[async_trait]
impl Dispatcher for Hello {
    async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.assign(json!({"hello": "world"}));
        Ok(())
    }
}

/// Reflects what the request carried.
pub struct Echo;
#[async_trait]
impl Dispatcher for Echo {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let params: serde_json::Map<String, Value> = request
            .path_params()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        let body = if request.has_body() {
            request.json::<Value>().await?
        } else {
            Value::Null
        };
        let trace: Vec<String> = request
            .extensions()
            .get::<Vec<String>>()
            .cloned()
            .unwrap_or_default();
        view.assign(json!({
            "method": request.method().as_str(),
            "route": request.route().name,
            "params": params,
            "oas": request.params(),
            "body": body,
            "version": format!("{:?}", request.version()),
            "trace": trace,
        }));
        Ok(())
    }
}

/// Sleeps `?ms=` milliseconds, then answers `"slept"`.
pub struct Sleep;
#[async_trait]
impl Dispatcher for Sleep {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let ms = request
            .query_param("ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        view.set_body(json!("slept"));
        Ok(())
    }
}

/// 409 with a code and a detail.
pub struct Conflict;
#[async_trait]
impl Dispatcher for Conflict {
    async fn dispatch(&self, _: &mut Request, _: &mut View) -> Result<(), HttpError> {
        Err(
            HttpError::status(StatusCode::CONFLICT, "E_TEST_CONFLICT", "Already there")
                .with_detail(superhero_http::Detail::new(
                    "/body/name",
                    "E_TEST_TAKEN",
                    "The name is taken",
                )),
        )
    }
}

pub struct Panic;
#[async_trait]
impl Dispatcher for Panic {
    async fn dispatch(&self, _: &mut Request, _: &mut View) -> Result<(), HttpError> {
        panic!("boom");
    }
}

pub struct Internal;
#[async_trait]
impl Dispatcher for Internal {
    async fn dispatch(&self, _: &mut Request, _: &mut View) -> Result<(), HttpError> {
        Err(HttpError::internal(
            "E_TEST_DATABASE",
            std::io::Error::other("secret connection string"),
        ))
    }
}

/// Three events, then the stream ends.
pub struct Sse;
#[async_trait]
impl Dispatcher for Sse {
    async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let options = SseOptions {
            heartbeat: None,
            retry: Some(Duration::from_millis(1500)),
            buffer: 8,
        };
        let sender = view.sse(options);
        tokio::spawn(async move {
            let events = [
                SseEvent::json(&json!({"n": 1}))
                    .unwrap()
                    .id("1")
                    .event("count"),
                SseEvent::data("line one\nline two").id("2"),
                SseEvent::json(&json!({"n": 3}))
                    .unwrap()
                    .id("3")
                    .event("count"),
            ];
            for event in events {
                if sender.send(event).await.is_err() {
                    return;
                }
            }
        });
        Ok(())
    }
}

/// An event every 20 ms until the stream closes; heartbeats every 50 ms of silence.
/// `sse_from`: three frames from a stream, then the end; `?forever` keeps it open.
pub struct SseFrames;
#[async_trait]
impl Dispatcher for SseFrames {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let forever = request.query_param("forever").is_some();
        let frames = futures_util::stream::iter((1..=3).map(|n: u64| {
            SseEvent::data(format!("frame {n}"))
                .id(n.to_string())
                .encode()
        }));
        let options = SseOptions {
            retry: Some(Duration::from_millis(700)),
            ..SseOptions::default()
        };
        if forever {
            view.sse_from(
                options,
                futures_util::StreamExt::chain(frames, futures_util::stream::pending()),
            );
        } else {
            view.sse_from(options, frames);
        }
        Ok(())
    }
}

pub struct SseForever;
#[async_trait]
impl Dispatcher for SseForever {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let quiet = request.query_param("quiet").is_some();
        let options = SseOptions {
            heartbeat: Some(Duration::from_millis(50)),
            ..SseOptions::default()
        };
        let sender = view.sse(options);
        tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                if quiet {
                    sender.closed().await;
                    return;
                }
                n += 1;
                if sender
                    .send(SseEvent::data(n.to_string()).id(n.to_string()))
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Ok(())
    }
}

pub struct NoContent;
#[async_trait]
impl Dispatcher for NoContent {
    async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.set_status(StatusCode::NO_CONTENT);
        Ok(())
    }
}

pub struct Headers;
#[async_trait]
impl Dispatcher for Headers {
    async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.headers_mut()
            .insert("foo", HeaderValue::from_static("bar"));
        Ok(())
    }
}

/// A compressible 16 KiB JSON string.
pub struct Big;
#[async_trait]
impl Dispatcher for Big {
    async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.set_body(json!("superhero ".repeat(1600)));
        Ok(())
    }
}

/// `?kib=` KiB of `x` (default 1024) as `application/octet-stream`, in one buffer.
pub struct Bulk;
#[async_trait]
impl Dispatcher for Bulk {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let kib: usize = request
            .query_param("kib")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1024);
        view.set_bytes(
            HeaderValue::from_static("application/octet-stream"),
            vec![b'x'; kib * 1024],
        );
        Ok(())
    }
}

/// Answers the status `?code=` with the JSON body `{"status": code}`.
pub struct Status;
#[async_trait]
impl Dispatcher for Status {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let code: u16 = request
            .query_param("code")
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        view.set_status(StatusCode::from_u16(code).unwrap());
        view.set_body(json!({"status": code}));
        Ok(())
    }
}

/// `{"hello": "world"}` (17 bytes) with a `Content-Length` of `?length=` (default 999).
pub struct WrongLength;
#[async_trait]
impl Dispatcher for WrongLength {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let length = request
            .query_param("length")
            .map_or_else(|| "999".to_owned(), |v| v.into_owned());
        view.headers_mut()
            .insert("content-length", HeaderValue::from_str(&length).unwrap());
        view.assign(json!({"hello": "world"}));
        Ok(())
    }
}

/// Records `name:in` before and `name:out` after the rest of the chain.
pub struct Trace(pub &'static str);
#[async_trait]
impl Middleware for Trace {
    async fn handle(
        &self,
        request: &mut Request,
        view: &mut View,
        next: Next<'_>,
    ) -> Result<(), HttpError> {
        let trace = request
            .extensions_mut()
            .get_or_insert_default::<Vec<String>>();
        trace.push(format!("{}:in", self.0));
        next.run(request, view).await?;
        let out = json!({"after": [format!("{}:out", self.0)]});
        view.assign(out);
        Ok(())
    }
}

/// Answers 401 without calling the rest of the chain.
pub struct Deny;
#[async_trait]
impl Middleware for Deny {
    async fn handle(
        &self,
        _: &mut Request,
        view: &mut View,
        _next: Next<'_>,
    ) -> Result<(), HttpError> {
        view.set_status(StatusCode::UNAUTHORIZED);
        view.set_body(json!({"denied": true}));
        Ok(())
    }
}

/// Turns any error of the rest of the chain into 200 `{"recovered": code}`.
pub struct Recover;
#[async_trait]
impl Middleware for Recover {
    async fn handle(
        &self,
        request: &mut Request,
        view: &mut View,
        next: Next<'_>,
    ) -> Result<(), HttpError> {
        next.run(request, view).await
    }

    async fn on_error(
        &self,
        error: HttpError,
        _: &mut Request,
        view: &mut View,
    ) -> Result<(), HttpError> {
        view.set_status(StatusCode::OK);
        view.set_body(json!({"recovered": error.code()}));
        Ok(())
    }
}
