//! One accepted connection: TLS handshake and protocol detection under the header
//! deadline, then hyper's auto connection (HTTP/1.1 or HTTP/2), closed gracefully
//! (HTTP/1.1: finish the in-flight request, then close; HTTP/2: GOAWAY, finish open
//! streams) when shutdown starts or when it has been idle for `idle_timeout_ms`, and
//! dropped when the drain deadline passes.
//!
//! Deadlines hyper has no timer for are kept here: an HTTP/2 connection with no open
//! stream is idle however many PINGs it answers; an HTTP/2 header block still arriving
//! after `header_read_timeout_ms` closes the connection; after GOAWAY, a connection with
//! nothing open (no stream, no response still being written) waits `goaway_grace_ms` at
//! most for the client's PING acknowledgement, so a client that stopped reading cannot
//! hold it (or the server's shutdown) until the drain deadline; a write the client takes
//! nothing of for `write_timeout_ms` closes the connection. What is open is counted
//! in [`super::activity`], from hyper's requests and the frames seen in
//! [`super::frames`].
//!
//! Every response goes through [`Framed`], whatever service produced it, so the framing
//! rules of [`crate::framing`] hold on every protocol and every path.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use super::activity::{Activity, OpenRequest};
use super::frames::Watched;
use super::sniff::{PREFACE, Prefixed, read_preface};
use crate::error::BoxError;
use crate::framing::Framed;
use crate::request::RemoteAddr;

/// The service as one connection runs it: puts the peer address into every request's
/// extensions, counts the request as open until its response body is done, and frames
/// the response.
#[derive(Clone)]
struct PerConnection<S> {
    inner: S,
    remote: Option<std::net::SocketAddr>,
    activity: Activity,
}

impl<S, B, R> Service<http::Request<B>> for PerConnection<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    R: Body<Data = Bytes>,
{
    type Response = http::Response<ConnectionBody<R>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(remote) = self.remote {
            request.extensions_mut().insert(RemoteAddr(remote));
        }
        let open = self.activity.open();
        let head = request.method() == Method::HEAD;
        ResponseFuture {
            inner: self.inner.call(request),
            head,
            open: Some(open),
        }
    }
}

pin_project_lite::pin_project! {
    /// The service's future; the request counts as open while it runs.
    struct ResponseFuture<F> {
        #[pin]
        inner: F,
        head: bool,
        open: Option<OpenRequest>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
    R: Body<Data = Bytes>,
{
    type Output = Result<http::Response<ConnectionBody<R>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let open = this.open.take();
        Poll::Ready(Ok(
            Framed::response(*this.head, response).map(|body| ConnectionBody { body, _open: open })
        ))
    }
}

pin_project_lite::pin_project! {
    /// A framed response body; the request counts as open until hyper drops it.
    struct ConnectionBody<B> {
        #[pin]
        body: Framed<B>,
        _open: Option<OpenRequest>,
    }
}

impl<B: Body<Data = Bytes>> Body for ConnectionBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) builder: auto::Builder<TokioExecutor>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) goaway_grace: Duration,
    /// Cancelled when shutdown starts: stop reading new requests.
    pub(crate) shutdown: CancellationToken,
    /// Cancelled when the drain deadline passes: drop the connection.
    pub(crate) force: CancellationToken,
}

/// Serves one TCP connection to completion with its own clone of the service.
pub(crate) async fn serve<S, B>(stream: TcpStream, shared: Arc<Shared>, service: S)
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let activity = Activity::new();
    let service = PerConnection {
        inner: service,
        remote: stream.peer_addr().ok(),
        activity: activity.clone(),
    };
    let Some(acceptor) = shared.tls.clone() else {
        return serve_io(stream, &shared, service, &activity).await;
    };
    let handshake = tokio::time::timeout(shared.header_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%error, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        },
        () = shared.shutdown.cancelled() => return,
    };
    serve_io(stream, &shared, service, &activity).await;
}

async fn serve_io<I, S, B>(mut io: I, shared: &Shared, service: S, activity: &Activity)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let preface = tokio::time::timeout(shared.header_timeout, read_preface(&mut io));
    let prefix = tokio::select! {
        result = preface => match result {
            Ok(Ok(Some(prefix))) => prefix,
            Ok(Ok(None)) => return,
            Ok(Err(error)) => {
                tracing::debug!(%error, "reading the first bytes failed");
                return;
            }
            Err(_) => {
                tracing::debug!("no request head within the header timeout; closing");
                return;
            }
        },
        () = shared.shutdown.cancelled() => return,
    };
    let http2 = prefix.as_ref() == PREFACE;
    let io = TokioIo::new(Watched::new(
        Prefixed::new(prefix, io),
        http2,
        activity.clone(),
    ));
    let service = TowerToHyperService::new(service);
    let connection = shared.builder.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(error = %error, "connection ended with an error");
            }
            return;
        }
        () = shared.shutdown.cancelled() => {}
        () = activity.idle_for(shared.idle_timeout) => {
            tracing::debug!(http2, "idle connection; closing");
        }
        () = activity.header_block().lasted(shared.header_timeout) => {
            tracing::debug!("no whole header block within the header timeout; closing");
            return;
        }
        () = activity.write().lasted(shared.write_timeout) => {
            tracing::debug!("the client took no bytes within the write timeout; closing");
            return;
        }
    }
    // HTTP/1.1: close once the in-flight request is answered (at once when idle).
    // HTTP/2: GOAWAY, a PING round trip, the final GOAWAY once the open streams are done.
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(error = %error, "connection ended with an error while closing");
            }
        }
        () = shared.force.cancelled() => {
            tracing::debug!("drain deadline passed; closing the connection");
        }
        () = activity.idle_for(shared.goaway_grace) => {
            tracing::debug!("no open request and no answer to GOAWAY; closing the connection");
        }
        () = activity.header_block().lasted(shared.header_timeout) => {
            tracing::debug!("no whole header block within the header timeout; closing");
        }
        () = activity.write().lasted(shared.write_timeout) => {
            tracing::debug!("the client took no bytes within the write timeout; closing");
        }
    }
}
