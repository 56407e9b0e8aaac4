//! An SSE client for tests: a `GET` on one [`Client`] connection whose body is parsed by
//! an independent Server-Sent Events parser (`eventsource-stream`), so the server's
//! framing is checked by code that is not ours.
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr) {
//! use std::time::Duration;
//! use superhero_testkit::http::{Client, Proto};
//! use superhero_testkit::sse::SseStream;
//!
//! let mut client = Client::connect(addr, &Proto::Http1).await;
//! let mut stream = SseStream::open(&mut client, "/events", &[("last-event-id", "41")])
//!     .await
//!     .expect("a 200 event stream");
//! let event = stream.next(Duration::from_secs(5)).await.expect("an event");
//! assert_eq!(event.id, "42");
//! # }
//! ```

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;

use crate::http::{Client, Reply, read};

/// One parsed event: `id`, `event` (empty for the default `message`), `data` (lines
/// joined by `\n`), `retry`.
pub use eventsource_stream::Event as SseEvent;

type Events = Pin<Box<dyn Stream<Item = Result<SseEvent, EventStreamError<hyper::Error>>> + Send>>;

/// An open event stream.
pub struct SseStream {
    /// The response status (200).
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    events: Events,
}

impl SseStream {
    /// Sends `GET path` with `accept: text/event-stream` and `headers`; the stream when
    /// the answer is 200, else the whole answer (an error body, say).
    pub async fn open(
        client: &mut Client,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<SseStream, Reply> {
        let mut all = vec![("accept", "text/event-stream")];
        all.extend_from_slice(headers);
        let request = client.build(Method::GET, path, &all, Bytes::new());
        let response = client.send(request).await.expect("response head");
        if response.status() != StatusCode::OK {
            return Err(read(response).await);
        }
        let (parts, body) = response.into_parts();
        Ok(SseStream {
            status: parts.status,
            headers: parts.headers,
            events: Box::pin(body.into_data_stream().eventsource()),
        })
    }

    /// The next event; `None` when the server ended the stream. Panics when nothing
    /// arrives `within`, or the stream is malformed.
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        match tokio::time::timeout(within, self.events.next()).await {
            Err(_) => panic!("no event within {within:?}"),
            Ok(None) => None,
            Ok(Some(Ok(event))) => Some(event),
            Ok(Some(Err(error))) => panic!("malformed event stream: {error}"),
        }
    }

    /// The next `count` events; panics when the stream ends sooner or stalls `within`
    /// (per event).
    pub async fn take(&mut self, count: usize, within: Duration) -> Vec<SseEvent> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            match self.next(within).await {
                Some(event) => events.push(event),
                None => panic!("the stream ended after {} of {count} events", events.len()),
            }
        }
        events
    }

    /// Whether the server ends the stream within `within` (events before the end are
    /// skipped).
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let end = async { while self.events.next().await.is_some() {} };
        tokio::time::timeout(within, end).await.is_ok()
    }
}
