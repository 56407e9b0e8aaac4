//! One framed connection: socket tuning, dialling a hub over TLS, and splitting a stream
//! into a frame reader and a writer task that pipelines frames (feeds every queued
//! message, then flushes once).
//!
//! Outboxes are bounded: a peer that does not read its messages fast enough to keep its
//! outbox under the limit is disconnected instead of buffered without bound. Nothing is
//! lost by that: undelivered events go back to their hub's sweep, and a spoke reconnects
//! and re-subscribes.

use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::frame::FrameCodec;
use super::protocol::Message;
use crate::error::{Error, Result};

/// The codec of every eventflow connection.
pub type Codec = FrameCodec<Message, Message>;

/// The reading half of a connection: a stream of messages.
pub type Reader<S> = FramedRead<ReadHalf<S>, Codec>;

/// Most messages written before one flush.
const PIPELINE: usize = 512;

/// Default most messages queued for one peer before it counts as too slow.
pub const DEFAULT_OUTBOX_CAPACITY: usize = 8192;

/// The sending side of a connection: messages queue here and the writer task sends them.
/// Cloning is cheap; the connection's writer ends when every clone is dropped.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Message>,
    overflow: CancellationToken,
}

impl Outbox {
    /// Queues a message; false when the connection is closed or its peer is too slow
    /// (then the connection is being closed, see [`Outbox::overflowed`]).
    pub fn send(&self, message: Message) -> bool {
        match self.tx.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.overflow.is_cancelled() {
                    tracing::warn!(
                        queued = self.tx.max_capacity(),
                        "the peer does not keep up with its messages; closing the connection"
                    );
                    self.overflow.cancel();
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// True once the connection's writer has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the outbox overflowed: the connection's reader must stop.
    pub async fn overflowed(&self) {
        self.overflow.cancelled().await;
    }
}

/// Disables Nagle (notices are small and latency matters) and enables keep-alive, so a
/// silently vanished peer is noticed.
pub fn tune(tcp: &TcpStream) {
    let _ = tcp.set_nodelay(true);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(30))
        .with_interval(Duration::from_secs(10));
    let _ = socket2::SockRef::from(tcp).set_tcp_keepalive(&keepalive);
}

/// How often an idle connection sends [`Message::Ping`]: a quarter of the idle timeout
/// after which the other side gives up on it.
pub fn ping_interval(idle_timeout: Duration) -> Duration {
    (idle_timeout / 4).max(Duration::from_millis(10))
}

/// Splits `stream` into a message reader and an [`Outbox`] (holding at most
/// `outbox_capacity` messages) served by a writer task, which sends [`Message::Ping`]
/// whenever it had nothing to write for `ping_every`.
pub fn split<S>(
    stream: S,
    max_frame: usize,
    outbox_capacity: usize,
    ping_every: Duration,
) -> (Reader<S>, Outbox, tokio::task::JoinHandle<()>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let reader = FramedRead::new(read, Codec::new(max_frame));
    let (tx, rx) = mpsc::channel(outbox_capacity.max(1));
    let overflow = CancellationToken::new();
    let writer = tokio::spawn(
        write_loop(
            FramedWrite::new(write, Codec::new(max_frame)),
            rx,
            overflow.clone(),
            ping_every,
        )
        .in_current_span(),
    );
    (reader, Outbox { tx, overflow }, writer)
}

async fn write_loop<S: AsyncWrite>(
    mut sink: FramedWrite<WriteHalf<S>, Codec>,
    mut rx: mpsc::Receiver<Message>,
    overflow: CancellationToken,
    ping_every: Duration,
) {
    loop {
        let message = tokio::select! {
            () = overflow.cancelled() => return,
            message = rx.recv() => match message {
                Some(message) => message,
                None => break,
            },
            () = tokio::time::sleep(ping_every) => Message::Ping,
        };
        if let Err(error) = sink.feed(message).await {
            tracing::debug!(%error, "connection write failed");
            return;
        }
        let mut fed = 1;
        while fed < PIPELINE {
            match rx.try_recv() {
                Ok(message) => {
                    if let Err(error) = sink.feed(message).await {
                        tracing::debug!(%error, "connection write failed");
                        return;
                    }
                    fed += 1;
                }
                Err(_) => break,
            }
        }
        let flushed = tokio::select! {
            () = overflow.cancelled() => return,
            flushed = sink.flush() => flushed,
        };
        if let Err(error) = flushed {
            tracing::debug!(%error, "connection flush failed");
            return;
        }
    }
    let _ = sink.close().await;
}

/// Opens a TLS connection to hub `hub_id` at `host:port`, verifying that the server holds
/// a hub certificate for exactly that id.
pub async fn dial(
    host: &str,
    port: u16,
    hub_id: &str,
    config: Arc<ClientConfig>,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let target = format!("{hub_id} at {host}:{port}");
    let fail = |reason: String| Error::Connect {
        target: target.clone(),
        reason,
    };
    let name = ServerName::try_from(hub_id.to_owned())
        .map_err(|e| fail(format!("the hub id is not a valid server name: {e}")))?;
    let connect = async {
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| fail(e.to_string()))?;
        tune(&tcp);
        tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| fail(format!("TLS handshake failed: {e}")))
    };
    tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| fail(format!("no connection within {} ms", timeout.as_millis())))?
}
