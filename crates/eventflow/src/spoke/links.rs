//! Connections to hubs: the registry poll finds live hubs, `hub-online` announcements name
//! new ones, and each hub gets one task that connects, re-sends every subscription and
//! consumer registration, reads the hub's messages, and reconnects with exponential
//! backoff until the hub is no longer live.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Link, SpokeInner};
use crate::certs::generate;
use crate::error::{Error, Result};
use crate::net::Message;
use crate::net::conn;

/// Reads the registry every `hub_poll_ms` and starts a link to each live hub.
pub(crate) async fn poll_hubs(inner: Arc<SpokeInner>) {
    let every = Duration::from_millis(inner.config.hub_poll_ms);
    let ttl = Duration::from_millis(inner.config.hub_ttl_ms);
    loop {
        match inner.store.live_hubs(ttl).await {
            Ok(hubs) => {
                for hub in hubs {
                    let registration = hub.registration;
                    ensure_link(
                        &inner,
                        registration.id,
                        registration.external_host,
                        registration.external_port,
                    );
                }
            }
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "could not read the hub registry");
            }
        }
        tokio::select! {
            () = inner.token.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Starts the link task of hub `id` unless it runs already.
pub(crate) fn ensure_link(inner: &Arc<SpokeInner>, id: String, host: String, port: u16) {
    if inner.token.is_cancelled() {
        return;
    }
    {
        let mut state = inner.state();
        if state.links.contains_key(&id) {
            return;
        }
        state.links.insert(id.clone(), Link { outbox: None });
    }
    let link = inner.clone();
    inner.spawn(async move { run_link(link, id, host, port).await });
}

/// Connects to one hub, again and again with backoff, while it is live.
async fn run_link(inner: Arc<SpokeInner>, id: String, host: String, port: u16) {
    let min = Duration::from_millis(inner.config.reconnect_min_ms);
    let max = Duration::from_millis(inner.config.reconnect_max_ms);
    let mut backoff = min;
    let mut failures = 0u32;
    loop {
        if inner.token.is_cancelled() {
            break;
        }
        match session(&inner, &id, &host, port).await {
            Ok(()) => {
                backoff = min;
                failures = 0;
            }
            Err(error) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(hub = %id, code = error.code(), %error, "cannot reach hub; retrying with backoff");
                } else {
                    tracing::debug!(hub = %id, code = error.code(), %error, failures, "hub still unreachable");
                }
            }
        }
        if inner.token.is_cancelled() || !still_live(&inner, &id).await {
            break;
        }
        tokio::select! {
            () = inner.token.cancelled() => break,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(max);
    }
    inner.state().links.remove(&id);
    tracing::debug!(hub = %id, "link ended");
}

/// Whether the registry still lists the hub as live (on a registry error: assume so).
async fn still_live(inner: &SpokeInner, id: &str) -> bool {
    let ttl = Duration::from_millis(inner.config.hub_ttl_ms);
    match inner.store.hub(id).await {
        Ok(Some(hub)) => {
            hub.quit_at.is_none() && crate::clock::Timestamp::now().since(hub.heartbeat_at) <= ttl
        }
        Ok(None) => false,
        Err(_) => true,
    }
}

/// One connection: dial, check the hub's certificate is current, register, read until it
/// closes. `Ok` when a connection was made (however it ended).
async fn session(inner: &Arc<SpokeInner>, id: &str, host: &str, port: u16) -> Result<()> {
    let tls = inner.tls().await?;
    let timeout = Duration::from_millis(inner.config.connect_timeout_ms);
    let stream = conn::dial(host, port, id, tls.client(), timeout).await?;
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .cloned();
    let current = match &leaf {
        Some(leaf) => tls.authority().is_current(id, leaf).await?,
        None => false,
    };
    if !current || leaf.as_deref().and_then(generate::identity_of).is_none() {
        return Err(Error::Unauthorized {
            peer: format!("hub {id}"),
            reason: "its certificate is revoked or not the current one of its id".into(),
        });
    }
    let idle_timeout = Duration::from_millis(inner.config.idle_timeout_ms);
    let (mut reader, outbox, writer) = conn::split(
        stream,
        inner.config.max_frame_bytes,
        inner.config.outbox_capacity,
        conn::ping_interval(idle_timeout),
    );
    {
        // Registered and re-subscribed under one lock: a concurrent subscribe either sees
        // this link or is part of the snapshot.
        let mut state = inner.state();
        for (domain, name) in state.subscriptions.keys() {
            outbox.send(Message::Subscribe { domain, name });
        }
        // This hub has not confirmed them yet: the next `wait` syncs again.
        state.subscriptions.unsync_all();
        for (domain, name) in state.consumers.keys() {
            outbox.send(Message::Consume { domain, name });
        }
        if let Some(link) = state.links.get_mut(id) {
            link.outbox = Some(outbox.clone());
        }
    }
    tracing::info!(hub = %id, %host, port, "connected to hub");
    loop {
        let frame = tokio::select! {
            () = inner.token.cancelled() => break,
            () = outbox.overflowed() => break,
            frame = tokio::time::timeout(idle_timeout, reader.next()) => match frame {
                Ok(frame) => frame,
                Err(_) => {
                    tracing::warn!(hub = %id, idle_ms = inner.config.idle_timeout_ms,
                        "nothing received from the hub, not even a ping, within the idle timeout: reconnecting");
                    break;
                }
            },
        };
        match frame {
            None => break,
            Some(Ok(message)) => {
                if let Err(reason) = handle(inner, message) {
                    let error = Error::Protocol {
                        peer: format!("hub {id}"),
                        reason,
                    };
                    tracing::warn!(code = error.code(), %error, "closing connection");
                    break;
                }
            }
            Some(Err(frame_error)) if frame_error.is_connection_lost() => {
                tracing::info!(hub = %id, error = %frame_error, "connection lost");
                break;
            }
            Some(Err(frame_error)) => {
                let error = Error::Protocol {
                    peer: format!("hub {id}"),
                    reason: frame_error.to_string(),
                };
                tracing::warn!(code = error.code(), %error, "closing connection");
                break;
            }
        }
    }
    if let Some(link) = inner.state().links.get_mut(id) {
        link.outbox = None;
    }
    drop(outbox);
    drop(reader);
    let _ = writer.await;
    tracing::info!(hub = %id, "disconnected from hub");
    Ok(())
}

/// Applies one message from a hub; `Err` (the reason) closes the connection.
fn handle(inner: &Arc<SpokeInner>, message: Message) -> std::result::Result<(), String> {
    match message {
        Message::Notify { events } => {
            let state = inner.state();
            for event in &events {
                state.subscriptions.emit(event);
            }
            Ok(())
        }
        Message::Deliver { events } => {
            for event in events {
                let _ = inner.deliveries.send(event);
            }
            Ok(())
        }
        Message::Synced { id } => {
            let waiter = inner
                .syncs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
            if let Some(waiter) = waiter {
                let _ = waiter.send(());
            }
            Ok(())
        }
        Message::Ping => Ok(()),
        Message::HubOnline { id, host, port } => {
            tracing::info!(hub = %id, %host, port, "a hub announced itself");
            ensure_link(inner, id, host, port);
            Ok(())
        }
        other => Err(format!("a hub may not send `{}` to a spoke", other.kind())),
    }
}
