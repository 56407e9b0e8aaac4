//! Server-Sent Events as an explicit response mode with a typed sender.
//!
//! [`View::sse`](crate::View::sse) switches a response to `text/event-stream`
//! (with `cache-control: no-cache`) and returns an [`SseSender`]. Move the sender into a
//! task and return from the dispatcher: the response starts when the chain returns, and
//! the stream lasts until every sender is dropped, the client goes away, or the server
//! starts shutting down, whichever comes first. Events are encoded per the HTML standard
//! (`id:`, `event:`, `retry:`, one `data:` line per line of data); idle streams get
//! heartbeat comments.
//!
//! ```no_run
//! # use superhero_http::{SseEvent, SseOptions, View, HttpError};
//! # async fn demo(view: &mut View) -> Result<(), HttpError> {
//! let sender = view.sse(SseOptions::default());
//! tokio::spawn(async move {
//!     let event = SseEvent::data("hello").id("1").event("greeting");
//!     let _ = sender.send(event).await; // Err once the client is gone or shutdown began
//! });
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::error::HttpError;

/// Options of an event stream.
#[derive(Debug, Clone)]
pub struct SseOptions {
    /// Send a `: heartbeat` comment after this much silence (keeps proxies from closing
    /// the stream). `None` disables heartbeats. Default: 15 s.
    pub heartbeat: Option<Duration>,
    /// Reconnection delay sent to the client first (`retry:`). Default: none.
    pub retry: Option<Duration>,
    /// Events buffered before [`SseSender::send`] waits for the client. Default: 32.
    pub buffer: usize,
}

impl Default for SseOptions {
    fn default() -> Self {
        Self {
            heartbeat: Some(Duration::from_secs(15)),
            retry: None,
            buffer: 32,
        }
    }
}

/// One event: optional `id`, `event` and `retry`, and the `data` text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    id: Option<String>,
    event: Option<String>,
    data: String,
    retry: Option<u64>,
}

impl SseEvent {
    /// An event carrying `data` (may contain newlines: each line becomes a `data:` line).
    pub fn data(data: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            ..Self::default()
        }
    }

    /// An event whose data is `value` as JSON text.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, HttpError> {
        serde_json::to_string(value)
            .map(Self::data)
            .map_err(|e| HttpError::internal("E_HTTP_SSE_SERIALIZE", e))
    }

    /// Sets `id:` (line breaks and NUL are removed: they would break the framing).
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(single_line(id.into()));
        self
    }

    /// Sets `event:` (line breaks are removed).
    #[must_use]
    pub fn event(mut self, name: impl Into<String>) -> Self {
        self.event = Some(single_line(name.into()));
        self
    }

    /// Sets `retry:` (the client's reconnection delay).
    #[must_use]
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// The wire form of this event, ending with the blank line.
    pub fn encode(&self) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(id) = &self.id {
            let _ = writeln!(out, "id: {id}");
        }
        if let Some(event) = &self.event {
            let _ = writeln!(out, "event: {event}");
        }
        if let Some(retry) = self.retry {
            let _ = writeln!(out, "retry: {retry}");
        }
        for line in self.data.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let _ = writeln!(out, "data: {line}");
        }
        out.push('\n');
        Bytes::from(out)
    }
}

fn single_line(text: String) -> String {
    if text.contains(['\r', '\n', '\0']) {
        text.replace(['\r', '\n', '\0'], "")
    } else {
        text
    }
}

fn comment(text: &str) -> Bytes {
    let mut out = String::with_capacity(text.len() + 4);
    for line in text.split('\n') {
        let _ = writeln!(out, ": {}", line.trim_end_matches('\r'));
    }
    out.push('\n');
    Bytes::from(out)
}

/// Sends events into one response stream. Cloneable; the stream ends when all clones drop.
#[derive(Debug, Clone)]
pub struct SseSender {
    tx: mpsc::Sender<Bytes>,
}

impl SseSender {
    /// Sends one event; waits while the client is slow (bounded buffer).
    /// Fails with `E_HTTP_STREAM_CLOSED` once the client is gone or shutdown began.
    pub async fn send(&self, event: SseEvent) -> Result<(), HttpError> {
        self.send_bytes(event.encode()).await
    }

    /// Sends a comment line (`: text`), e.g. a custom heartbeat.
    pub async fn comment(&self, text: &str) -> Result<(), HttpError> {
        self.send_bytes(comment(text)).await
    }

    async fn send_bytes(&self, bytes: Bytes) -> Result<(), HttpError> {
        self.tx
            .send(bytes)
            .await
            .map_err(|_| HttpError::StreamClosed)
    }

    /// Whether the stream has ended (client gone, shutdown).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the stream has ended (client gone, shutdown).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

/// Where a stream's frames come from.
enum Source {
    /// An [`SseSender`]'s channel.
    Channel(mpsc::Receiver<Bytes>),
    /// Frames polled straight from a stream ([`crate::View::sse_from`]): no task and
    /// no channel in between. The mutex only makes the body `Sync` (as hyper's boxed
    /// bodies must be); polling takes `&mut` and never locks.
    Frames(std::sync::Mutex<Pin<Box<dyn futures_core::Stream<Item = Bytes> + Send>>>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Channel(_) => "Channel",
            Source::Frames(_) => "Frames",
        })
    }
}

impl Source {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        match self {
            Source::Channel(rx) => rx.poll_recv(cx),
            Source::Frames(frames) => frames
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_mut()
                .poll_next(cx),
        }
    }

    fn close(&mut self) {
        if let Source::Channel(rx) = self {
            rx.close();
        }
    }
}

/// The receiving end, polled as the response body.
#[derive(Debug)]
pub(crate) struct SseStream {
    rx: Source,
    first: Option<Bytes>,
    heartbeat: Option<tokio::time::Interval>,
    shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    done: bool,
}

impl SseStream {
    pub(crate) fn channel(options: &SseOptions) -> (SseSender, Self) {
        let (tx, rx) = mpsc::channel(options.buffer.max(1));
        (
            SseSender { tx },
            Self::from_source(options, Source::Channel(rx)),
        )
    }

    /// A stream whose frames (each one encoded event or comment, e.g. from
    /// [`SseEvent::encode`]) come from `frames`; it ends when `frames` does.
    pub(crate) fn frames(
        options: &SseOptions,
        frames: impl futures_core::Stream<Item = Bytes> + Send + 'static,
    ) -> Self {
        Self::from_source(
            options,
            Source::Frames(std::sync::Mutex::new(Box::pin(frames))),
        )
    }

    fn from_source(options: &SseOptions, rx: Source) -> Self {
        let first = options.retry.map(|retry| {
            let ms = retry.as_millis();
            Bytes::from(format!("retry: {ms}\n\n"))
        });
        let heartbeat = options.heartbeat.map(|period| {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        Self {
            rx,
            first,
            heartbeat,
            shutdown: None,
            done: false,
        }
    }

    /// Ends the stream when `token` is cancelled (server shutdown).
    pub(crate) fn end_on(&mut self, token: &CancellationToken) {
        self.shutdown = Some(Box::pin(token.clone().cancelled_owned()));
    }

    pub(crate) fn poll_next_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(shutdown) = &mut self.shutdown
            && shutdown.as_mut().poll(cx).is_ready()
        {
            return self.finish();
        }
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(first));
        }
        match self.rx.poll_next(cx) {
            Poll::Ready(Some(bytes)) => {
                if let Some(heartbeat) = &mut self.heartbeat {
                    heartbeat.reset();
                }
                Poll::Ready(Some(bytes))
            }
            Poll::Ready(None) => self.finish(),
            Poll::Pending => {
                let beat = self
                    .heartbeat
                    .as_mut()
                    .is_some_and(|heartbeat| heartbeat.poll_tick(cx).is_ready());
                if beat {
                    Poll::Ready(Some(Bytes::from_static(b": heartbeat\n\n")))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn finish(&mut self) -> Poll<Option<Bytes>> {
        self.done = true;
        // Closing the receiver makes every sender's `send` fail and `closed` resolve.
        self.rx.close();
        Poll::Ready(None)
    }
}
