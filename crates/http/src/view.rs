//! The view: what a dispatcher answers with. Status (default 200), headers, and a body
//! that is JSON (default `{}`, with deep-merging [`View::assign`]), raw bytes, or an SSE
//! stream ([`View::sse`]).
//!
//! ```
//! use superhero_http::View;
//! use serde_json::json;
//! let mut view = View::new();
//! view.assign(json!({"a": {"b": 1}, "list": [1]}));
//! view.assign(json!({"a": {"c": 2}, "list": [1, 2]}));
//! assert_eq!(view.body(), Some(&json!({"a": {"b": 1, "c": 2}, "list": [1, 2]})));
//! ```

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::body::ResponseBody;
use crate::error::HttpError;
use crate::sse::{SseOptions, SseSender, SseStream};

/// The response under construction, handed to every middleware and the dispatcher.
#[derive(Debug)]
pub struct View {
    status: StatusCode,
    headers: HeaderMap,
    body: ViewBody,
}

#[derive(Debug)]
enum ViewBody {
    Json(Value),
    Bytes(Bytes),
    Sse(Box<SseStream>),
}

impl Default for View {
    fn default() -> Self {
        Self::new()
    }
}

impl View {
    /// A view with status 200, no headers and the JSON body `{}`.
    pub fn new() -> Self {
        Self {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: ViewBody::Json(Value::Object(serde_json::Map::new())),
        }
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Sets the response status.
    pub fn set_status(&mut self, status: StatusCode) {
        self.status = status;
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The JSON body, if the body is JSON.
    pub fn body(&self) -> Option<&Value> {
        match &self.body {
            ViewBody::Json(value) => Some(value),
            _ => None,
        }
    }

    /// The JSON body to change in place; a bytes or stream body is replaced by `{}` first.
    pub fn body_mut(&mut self) -> &mut Value {
        if !matches!(self.body, ViewBody::Json(_)) {
            self.body = ViewBody::Json(Value::Object(serde_json::Map::new()));
        }
        match &mut self.body {
            ViewBody::Json(value) => value,
            _ => unreachable!("the body was made JSON above"),
        }
    }

    /// Deep-merges `value` into the JSON body: objects merge key by key, arrays gain the
    /// items they lack, anything else replaces.
    pub fn assign(&mut self, value: Value) {
        deep_merge(self.body_mut(), value);
    }

    /// Replaces the body with a JSON value.
    pub fn set_body(&mut self, value: Value) {
        self.body = ViewBody::Json(value);
    }

    /// Replaces the body with `value` serialised as JSON (no intermediate [`Value`]).
    pub fn set_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HttpError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| HttpError::internal("E_HTTP_VIEW_SERIALIZE", e))?;
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = ViewBody::Bytes(Bytes::from(bytes));
        Ok(())
    }

    /// Replaces the body with raw bytes of the given content type (HTML, text, files).
    pub fn set_bytes(&mut self, content_type: HeaderValue, bytes: impl Into<Bytes>) {
        self.headers.insert(CONTENT_TYPE, content_type);
        self.body = ViewBody::Bytes(bytes.into());
    }

    /// Switches the response to an SSE stream and returns its sender; see [`crate::sse`].
    pub fn sse(&mut self, options: SseOptions) -> SseSender {
        let (sender, stream) = SseStream::channel(&options);
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        self.headers
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        self.body = ViewBody::Sse(Box::new(stream));
        sender
    }

    /// Switches the response to an SSE stream whose frames come from `frames` (each an
    /// encoded event, see [`SseEvent::encode`](crate::SseEvent::encode), or comment),
    /// polled by the connection itself: no task and no channel per stream, for
    /// servers with many. The stream ends when `frames` does, the client goes away, or
    /// the server shuts down; heartbeats and `retry:` are added as with [`View::sse`].
    pub fn sse_from(
        &mut self,
        options: SseOptions,
        frames: impl futures_core::Stream<Item = Bytes> + Send + 'static,
    ) {
        let stream = SseStream::frames(&options, frames);
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        self.headers
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        self.body = ViewBody::Sse(Box::new(stream));
    }

    /// Whether the response is an SSE stream.
    pub fn is_stream(&self) -> bool {
        matches!(self.body, ViewBody::Sse(_))
    }

    /// Turns the view into the response; SSE streams end when `shutdown` is cancelled.
    /// Whether the response may carry its body (HEAD, 204, 304, ...) is decided after
    /// this, for every response alike, by [`crate::framing`].
    pub(crate) fn into_response(
        self,
        shutdown: &CancellationToken,
    ) -> Result<Response<ResponseBody>, HttpError> {
        let Self {
            status,
            mut headers,
            body,
        } = self;
        let body = match body {
            ViewBody::Json(value) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let bytes = serde_json::to_vec(&value)
                    .map_err(|e| HttpError::internal("E_HTTP_VIEW_SERIALIZE", e))?;
                ResponseBody::full(bytes)
            }
            ViewBody::Bytes(bytes) => ResponseBody::full(bytes),
            ViewBody::Sse(mut stream) => {
                stream.end_on(shutdown);
                ResponseBody::sse(stream)
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

/// Deep merge as the original view did: objects recurse, arrays union, others replace.
pub fn deep_merge(target: &mut Value, source: Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(source)) => {
            for item in source {
                if !target.contains(&item) {
                    target.push(item);
                }
            }
        }
        (target, source) => *target = source,
    }
}
