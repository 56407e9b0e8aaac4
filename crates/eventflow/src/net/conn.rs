//! One framed connection: socket tuning, dialling a hub over TLS, and splitting a stream
//! into a frame reader and a writer task that pipelines frames (feeds every queued
//! message, then flushes once).

use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};
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

/// The sending side of a connection: messages queue here and the writer task sends them.
/// Cloning is cheap; the connection's writer ends when every clone is dropped.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Message>,
}

impl Outbox {
    /// Queues a message; false when the connection is closed.
    pub fn send(&self, message: Message) -> bool {
        self.tx.send(message).is_ok()
    }

    /// True once the connection's writer has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
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

/// Splits `stream` into a message reader and an [`Outbox`] served by a writer task.
pub fn split<S>(stream: S, max_frame: usize) -> (Reader<S>, Outbox, tokio::task::JoinHandle<()>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let reader = FramedRead::new(read, Codec::new(max_frame));
    let (tx, rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(
        write_loop(FramedWrite::new(write, Codec::new(max_frame)), rx).in_current_span(),
    );
    (reader, Outbox { tx }, writer)
}

async fn write_loop<S: AsyncWrite>(
    mut sink: FramedWrite<WriteHalf<S>, Codec>,
    mut rx: mpsc::UnboundedReceiver<Message>,
) {
    while let Some(message) = rx.recv().await {
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
        if let Err(error) = sink.flush().await {
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
