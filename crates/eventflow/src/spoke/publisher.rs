//! Group commit: concurrent `publish` calls are coalesced into one append transaction
//! (each caller gets its own result), then one `published` notice carries the batch to a
//! hub. While a transaction runs, the next batch gathers. `announce` calls are
//! coalesced the same way, in a transaction of their own without publications, and
//! their notice is `announced`.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::SpokeInner;
use crate::error::Result;
use crate::event::{AppendRequest, Appended, Event, NewEvent};
use crate::net::Message;

/// One queued publish.
pub(crate) struct Request {
    pub(crate) event: NewEvent,
    pub(crate) reply: oneshot::Sender<Result<Appended>>,
    /// Announce (persist, notify subscribers once) rather than publish.
    pub(crate) announce: bool,
}

/// Commits queued publishes in batches until the spoke stops publishing; what is queued
/// then is still committed.
pub(crate) async fn run(inner: Arc<SpokeInner>, mut queue: mpsc::UnboundedReceiver<Request>) {
    let most = inner.config.publish_batch;
    loop {
        let first = tokio::select! {
            biased;
            request = queue.recv() => match request {
                Some(request) => request,
                None => return,
            },
            () = inner.stop_publishing.cancelled() => match queue.try_recv() {
                Ok(request) => request,
                Err(_) => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < most {
            match queue.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let (announced, published): (Vec<Request>, Vec<Request>) =
            batch.into_iter().partition(|r| r.announce);
        if !published.is_empty() {
            commit(&inner, published, false).await;
        }
        if !announced.is_empty() {
            commit(&inner, announced, true).await;
        }
    }
}

/// The append of a batch: with publications, or (announced) without.
fn append_request(inner: &SpokeInner, events: Vec<NewEvent>, announce: bool) -> AppendRequest {
    let request = AppendRequest::new(events);
    if announce {
        request
    } else {
        request.publish(inner.id.clone())
    }
}

async fn commit(inner: &Arc<SpokeInner>, batch: Vec<Request>, announce: bool) {
    let events: Vec<NewEvent> = batch.iter().map(|r| r.event.clone()).collect();
    let request = append_request(inner, events.clone(), announce);
    match inner.store.append(request).await {
        Ok(appended) => {
            tell(inner, events_of(events, &appended), announce);
            for (request, appended) in batch.into_iter().zip(appended) {
                let _ = request.reply.send(Ok(appended));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(request) = batch.into_iter().next() {
                let _ = request.reply.send(Err(error));
            }
        }
        Err(error) => {
            // One event spoiled the batch (a taken id, say), or the store failed: each
            // event gets its own transaction and its own result.
            tracing::debug!(code = error.code(), %error, size = batch.len(), "batched publish failed; publishing one by one");
            for request in batch {
                let single = append_request(inner, vec![request.event.clone()], announce);
                let result = inner.store.append(single).await.and_then(|appended| {
                    appended.into_iter().next().ok_or_else(|| {
                        crate::error::Error::decode(
                            "publish an event",
                            "the store returned no result",
                        )
                    })
                });
                if let Ok(appended) = &result {
                    tell(
                        inner,
                        events_of(vec![request.event], std::slice::from_ref(appended)),
                        announce,
                    );
                }
                let _ = request.reply.send(result);
            }
        }
    }
}

/// The stored events, from what was appended and what the store returned.
pub(crate) fn events_of(events: Vec<NewEvent>, appended: &[Appended]) -> Vec<Event> {
    events
        .into_iter()
        .zip(appended)
        .map(|(event, appended)| Event {
            id: appended.id,
            position: appended.position,
            version: appended.version,
            timestamp: appended.timestamp,
            domain: event.domain,
            pid: event.pid,
            name: event.name,
            data: event.data,
            rid: event.rid,
        })
        .collect()
}

/// Tells one connected hub about committed events: published ones are routed (with
/// none connected they wait for a hub's sweep), announced ones passed to subscribers
/// (with none connected, nobody is told; readers find them in the store).
fn tell(inner: &SpokeInner, events: Vec<Event>, announce: bool) {
    if !announce {
        return notify(inner, events);
    }
    if events.is_empty() {
        return;
    }
    if let Some(hub) = inner.pick_hub() {
        hub.send(Message::Announced { events });
    }
}

/// Tells one connected hub about committed events; with none connected the events wait
/// for a hub's sweep.
pub(crate) fn notify(inner: &SpokeInner, events: Vec<Event>) {
    if events.is_empty() {
        return;
    }
    crate::metrics::published(&events);
    match inner.pick_hub() {
        Some(hub) => {
            hub.send(Message::Published { events });
        }
        None => {
            tracing::debug!(
                events = events.len(),
                "no hub connected: the events are stored and a hub's sweep routes them"
            );
        }
    }
}
