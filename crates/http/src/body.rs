//! Request and response bodies: the response body type the server sends ([`ResponseBody`]:
//! empty, one buffer, or an SSE stream) and bounded reading of request bodies (size limit
//! and read timeout).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::{BoxError, HttpError};
use crate::sse::SseStream;

/// The body of every response the server produces.
#[derive(Debug)]
pub struct ResponseBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Empty,
    Full(Option<Bytes>),
    Sse(Box<SseStream>),
}

impl Default for ResponseBody {
    fn default() -> Self {
        Self::empty()
    }
}

impl ResponseBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self { kind: Kind::Empty }
    }

    /// A body of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Self::empty();
        }
        Self {
            kind: Kind::Full(Some(bytes)),
        }
    }

    pub(crate) fn sse(stream: Box<SseStream>) -> Self {
        Self {
            kind: Kind::Sse(stream),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Sse(stream) => stream
                .poll_next_chunk(cx)
                .map(|c| c.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Sse(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Sse(_) => SizeHint::default(),
        }
    }
}

/// A request body not read yet: nothing at all, or the transport's body behind a box.
pub(crate) enum RequestBody {
    Empty,
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl RequestBody {
    /// Wraps any body; bodies already at their end cost nothing.
    pub(crate) fn new<B>(body: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if body.is_end_stream() {
            Self::Empty
        } else {
            Self::Boxed(UnsyncBoxBody::new(body.map_err(Into::into)))
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }
}

/// How much and how long a dispatcher may read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub(crate) max_bytes: u64,
    pub(crate) timeout: Duration,
}

/// Reads a whole body within `limits`: 413 when too large (checked against `Content-Length`
/// first, so an oversized body is refused before it is read), 408 when too slow.
pub(crate) async fn read_body(
    body: RequestBody,
    content_length: Option<u64>,
    limits: BodyLimits,
) -> Result<Bytes, HttpError> {
    let body = match body {
        RequestBody::Empty => return Ok(Bytes::new()),
        RequestBody::Boxed(body) => body,
    };
    let too_large = HttpError::BodyTooLarge {
        limit: limits.max_bytes,
    };
    if content_length.is_some_and(|n| n > limits.max_bytes) {
        return Err(too_large);
    }
    let max = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
    // Boxed as a `dyn Future + Send` here, where the bounds are checked with their real
    // lifetimes; holding the concrete `Collect` across the await trips rustc's
    // higher-ranked `Send` check for async fns.
    let collect: Pin<Box<dyn Future<Output = Result<_, BoxError>> + Send>> =
        Box::pin(Limited::new(body, max).collect());
    match tokio::time::timeout(limits.timeout, collect).await {
        Err(_) => Err(HttpError::BodyTimeout {
            timeout: limits.timeout,
        }),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(too_large),
        Ok(Err(source)) => Err(HttpError::BodyRead { source }),
    }
}
