//! Announcing a starting hub: a short-lived connection to every live peer hub (with this
//! hub's certificate, which must carry the hub role) carrying one `hub-online` message;
//! each peer relays it to its spokes, which then connect to the new hub.
//!
//! Unlike the original, an unreachable peer is not marked quit: liveness comes from
//! heartbeats, so a network blip between two hubs cannot take a live hub out.

use std::sync::Arc;
use std::time::Duration;

use super::HubInner;
use crate::net::Message;
use crate::net::conn;
use crate::registry::HubRecord;

/// Announces the hub to every live peer, concurrently; returns when all are done.
pub(crate) async fn announce(inner: &Arc<HubInner>) {
    let ttl = Duration::from_millis(inner.config.hub_ttl_ms);
    let peers = match inner.store.live_hubs(ttl).await {
        Ok(peers) => peers,
        Err(error) => {
            tracing::warn!(code = error.code(), %error, "could not list peer hubs to announce to");
            return;
        }
    };
    let announcements = peers
        .into_iter()
        .filter(|peer| peer.registration.id != inner.id)
        .map(|peer| announce_to(inner, peer));
    futures_util::future::join_all(announcements).await;
}

async fn announce_to(inner: &Arc<HubInner>, peer: HubRecord) {
    let registration = &peer.registration;
    let timeout = Duration::from_millis(inner.config.peer_timeout_ms);
    let stream = match conn::dial(
        &registration.external_host,
        registration.external_port,
        &registration.id,
        inner.tls.client(),
        timeout,
    )
    .await
    {
        Ok(stream) => stream,
        Err(error) => {
            tracing::warn!(peer = %registration.id, code = error.code(), %error, "could not announce to a peer hub");
            return;
        }
    };
    let ping_every = conn::ping_interval(Duration::from_millis(inner.config.idle_timeout_ms));
    let (reader, outbox, writer) = conn::split(stream, inner.config.max_frame_bytes, 1, ping_every);
    outbox.send(Message::HubOnline {
        id: inner.id.clone(),
        host: inner.external_host.clone(),
        port: inner.external_port,
    });
    drop(outbox);
    if tokio::time::timeout(timeout, writer).await.is_err() {
        tracing::warn!(peer = %registration.id, "announcing to a peer hub timed out");
    } else {
        tracing::info!(peer = %registration.id, "announced to peer hub");
    }
    drop(reader);
}
