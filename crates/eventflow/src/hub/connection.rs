//! Accepting connections: mutual TLS, then the checks TLS cannot do (the leaf names an
//! identity and is the current certificate of that id), then one reader loop per
//! connection that applies the peer's messages. A malformed, oversized or unexpected
//! frame closes that connection only, with a logged error.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::router::{self, RouteJob};
use super::{ConnId, Connection, HubInner};
use crate::certs::{Identity, Role, generate};
use crate::error::Error;
use crate::event::check_key;
use crate::net::Message;
use crate::net::conn::{self, Outbox};

/// Accepts connections until the hub stops.
pub(crate) async fn accept_loop(inner: Arc<HubInner>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            () = inner.token.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, addr)) => {
                let serving = inner.clone();
                inner.spawn(async move { serve(serving, tcp, addr).await });
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Handshake, checks, then the connection's reader loop.
async fn serve(inner: Arc<HubInner>, tcp: TcpStream, addr: SocketAddr) {
    conn::tune(&tcp);
    let Some(server) = inner.tls.server() else {
        return;
    };
    let timeout = Duration::from_millis(inner.config.peer_timeout_ms);
    let handshake = tokio_rustls::TlsAcceptor::from(server).accept(tcp);
    let stream = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::warn!(%addr, %error, "TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::warn!(%addr, "TLS handshake timed out");
            return;
        }
    };
    let identity = match authorize(&inner, &stream).await {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(%addr, code = error.code(), %error, "connection refused");
            return;
        }
    };
    let idle_timeout = Duration::from_millis(inner.config.idle_timeout_ms);
    let (mut reader, outbox, writer) = conn::split(
        stream,
        inner.config.max_frame_bytes,
        inner.config.outbox_capacity,
        conn::ping_interval(idle_timeout),
    );
    let id = inner.next_conn_id();
    let close = CancellationToken::new();
    inner.state().connections.insert(
        id,
        Connection {
            identity: identity.clone(),
            outbox: outbox.clone(),
            close: close.clone(),
        },
    );
    tracing::info!(%addr, peer = %identity, conn = id, "connected");
    loop {
        let frame = tokio::select! {
            () = inner.token.cancelled() => break,
            () = close.cancelled() => break,
            () = outbox.overflowed() => break,
            frame = tokio::time::timeout(idle_timeout, reader.next()) => match frame {
                Ok(frame) => frame,
                Err(_) => {
                    tracing::warn!(%addr, peer = %identity, idle_ms = inner.config.idle_timeout_ms,
                        "nothing received, not even a ping, within the idle timeout: closing the connection");
                    break;
                }
            },
        };
        match frame {
            None => break,
            Some(Ok(message)) => {
                if let Err(reason) = handle(&inner, id, &identity, &outbox, message) {
                    let error = Error::Protocol {
                        peer: identity.to_string(),
                        reason,
                    };
                    tracing::warn!(%addr, code = error.code(), %error, "closing connection");
                    break;
                }
            }
            Some(Err(frame_error)) if frame_error.is_connection_lost() => {
                tracing::info!(%addr, peer = %identity, error = %frame_error, "connection lost");
                break;
            }
            Some(Err(frame_error)) => {
                let error = Error::Protocol {
                    peer: identity.to_string(),
                    reason: frame_error.to_string(),
                };
                tracing::warn!(%addr, code = error.code(), %error, "closing connection");
                break;
            }
        }
    }
    {
        let mut state = inner.state();
        state.connections.remove(&id);
        state.subscribers.remove_conn(id);
        state.consumers.remove_conn(id);
    }
    drop(outbox);
    drop(reader);
    let _ = writer.await;
    tracing::info!(%addr, peer = %identity, conn = id, "disconnected");
}

/// The peer's identity, if its leaf names one and is the current certificate of that id
/// (a revoked or replaced leaf is refused).
async fn authorize(
    inner: &HubInner,
    stream: &tokio_rustls::server::TlsStream<TcpStream>,
) -> crate::error::Result<Identity> {
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| Error::Unauthorized {
            peer: "unknown".into(),
            reason: "no client certificate".into(),
        })?;
    let identity = generate::identity_of(leaf).ok_or_else(|| Error::Unauthorized {
        peer: "unknown".into(),
        reason: "the certificate names no eventflow identity".into(),
    })?;
    if !inner.tls.authority().is_current(&identity.id, leaf).await? {
        return Err(Error::Unauthorized {
            peer: identity.to_string(),
            reason: "the certificate is revoked or not the current one of its id".into(),
        });
    }
    Ok(identity)
}

/// Applies one message; `Err` (the reason) closes the connection.
fn handle(
    inner: &Arc<HubInner>,
    conn: ConnId,
    identity: &Identity,
    outbox: &Outbox,
    message: Message,
) -> Result<(), String> {
    match (identity.role, message) {
        (Role::Spoke, Message::Subscribe { domain, name }) => {
            register(inner, conn, domain, name, false)
        }
        (Role::Spoke, Message::Consume { domain, name }) => {
            register(inner, conn, domain, name, true)
        }
        (Role::Spoke, Message::Unsubscribe { domain, name }) => {
            inner.state().subscribers.remove(conn, &domain, &name);
            Ok(())
        }
        (Role::Spoke, Message::Unconsume { domain, name }) => {
            inner.state().consumers.remove(conn, &domain, &name);
            Ok(())
        }
        (Role::Spoke, Message::Published { events }) => {
            if events.is_empty() {
                return Err("an empty published notice".into());
            }
            let _ = inner.router.send(RouteJob::Events(events));
            Ok(())
        }
        (Role::Spoke, Message::Announced { events }) => {
            if events.is_empty() {
                return Err("an empty announced notice".into());
            }
            super::router::announce(inner, events);
            Ok(())
        }
        (Role::Spoke, Message::Scheduled { due }) => {
            let _ = inner.rearm.send(due);
            Ok(())
        }
        (_, Message::Ping) => Ok(()),
        (Role::Spoke, Message::Sync { id }) => {
            outbox.send(Message::Synced { id });
            Ok(())
        }
        (Role::Hub, Message::HubOnline { id, host, port }) => {
            if id != inner.id {
                relay_online(inner, id, host, port);
            }
            Ok(())
        }
        (role, message) => Err(format!(
            "a {role} may not send `{}` to a hub",
            message.kind()
        )),
    }
}

fn register(
    inner: &Arc<HubInner>,
    conn: ConnId,
    domain: String,
    name: String,
    consume: bool,
) -> Result<(), String> {
    check_key("domain", &domain).map_err(|e| e.to_string())?;
    check_key("name", &name).map_err(|e| e.to_string())?;
    let (added, new_group) = {
        let mut state = inner.state();
        if consume {
            let new_group = state.groups.insert(&domain, &name);
            (state.consumers.add(conn, &domain, &name), new_group)
        } else {
            (state.subscribers.add(conn, &domain, &name), false)
        }
    };
    tracing::debug!(conn, %domain, %name, consume, "registered");
    if new_group {
        // Durable, so every hub keeps this group's events while its consumers are away.
        let (store, domain, name) = (inner.store.clone(), domain.clone(), name.clone());
        inner.spawn(async move {
            if let Err(error) = store.register_consumer(&domain, &name).await {
                tracing::warn!(code = error.code(), %error, %domain, %name, "could not record a consumer group; the next consume retries");
            }
        });
    }
    if added {
        let releasing = inner.clone();
        inner.spawn(router::release_orphans(releasing, domain, name));
    }
    Ok(())
}

/// Tells every connected spoke that a peer hub is online.
fn relay_online(inner: &HubInner, id: String, host: String, port: u16) {
    let state = inner.state();
    let mut told = 0;
    for connection in state.connections.values() {
        if connection.identity.role == Role::Spoke {
            connection.outbox.send(Message::HubOnline {
                id: id.clone(),
                host: host.clone(),
                port,
            });
            told += 1;
        }
    }
    tracing::info!(peer = %id, %host, port, spokes = told, "relayed a peer hub's online announcement");
}
