//! One accepted connection: TLS handshake and protocol detection under the header
//! deadline, then hyper's auto connection (HTTP/1.1 or HTTP/2), shut down gracefully
//! (HTTP/1.1: finish the in-flight request, then close; HTTP/2: GOAWAY, finish open
//! streams) when shutdown starts, and dropped when the drain deadline passes.
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
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use super::sniff::{Prefixed, read_preface};
use crate::error::BoxError;
use crate::framing::Framed;
use crate::request::RemoteAddr;

/// The service as one connection runs it: puts the peer address into every request's
/// extensions and frames every response (see [`crate::framing`]), whatever service
/// produced it.
#[derive(Clone)]
struct PerConnection<S> {
    inner: S,
    remote: Option<std::net::SocketAddr>,
}

impl<S, B, R> Service<http::Request<B>> for PerConnection<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    R: Body<Data = Bytes>,
{
    type Response = http::Response<Framed<R>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(remote) = self.remote {
            request.extensions_mut().insert(RemoteAddr(remote));
        }
        let head = request.method() == Method::HEAD;
        ResponseFuture {
            inner: self.inner.call(request),
            head,
        }
    }
}

pin_project_lite::pin_project! {
    /// The service's future, framing its response.
    struct ResponseFuture<F> {
        #[pin]
        inner: F,
        head: bool,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
    R: Body<Data = Bytes>,
{
    type Output = Result<http::Response<Framed<R>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        Poll::Ready(Ok(Framed::response(*this.head, response)))
    }
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) builder: auto::Builder<TokioExecutor>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) header_timeout: Duration,
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
    let service = PerConnection {
        inner: service,
        remote: stream.peer_addr().ok(),
    };
    let Some(acceptor) = shared.tls.clone() else {
        return serve_io(stream, &shared, service).await;
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
    serve_io(stream, &shared, service).await;
}

async fn serve_io<I, S, B>(mut io: I, shared: &Shared, service: S)
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
    let io = TokioIo::new(Prefixed::new(prefix, io));
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
    }
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(error = %error, "connection ended with an error while draining");
            }
        }
        () = shared.force.cancelled() => {
            tracing::debug!("drain deadline passed; closing the connection");
        }
    }
}
