//! One open stream: catch-up from the store after the client's position, then the
//! domain's feed, resynchronised from the store whenever the client falls behind the
//! feed's buffer (see [`crate::eventlog::feeds`] for why this has no gap and no
//! duplicate).

use std::sync::Arc;

use superhero_eventflow::{CatchUp, Event, EventStore, Result};
use superhero_http::SseSender;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;

use crate::eventlog::feeds::{Feed, Feeds, PAGE, frame};

/// What a stream shows: a domain, optionally one process of it, optionally some names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The domain.
    pub domain: String,
    /// Only this process.
    pub pid: Option<String>,
    /// Only these names (empty: all).
    pub names: Vec<String>,
}

impl Filter {
    /// Whether `event` belongs to the stream.
    pub fn matches(&self, event: &Event) -> bool {
        event.domain == self.domain
            && self.pid.as_ref().is_none_or(|pid| *pid == event.pid)
            && (self.names.is_empty() || self.names.contains(&event.name))
    }

    fn catch_up(&self, after: u64) -> CatchUp {
        let read = match &self.pid {
            Some(pid) => CatchUp::after(after, PAGE).process(self.domain.clone(), pid.clone()),
            None => CatchUp::after(after, PAGE).domain(self.domain.clone()),
        };
        read.names(self.names.iter().cloned())
    }
}

/// Why a stream ended.
enum End {
    /// The client went away or the server is shutting down.
    Closed,
    /// The store failed; the client reconnects and resumes.
    Store(superhero_eventflow::Error),
}

/// Runs the stream until the client leaves, the server shuts down or the store fails;
/// `_slot` is the stream's place under the connection limit.
pub(crate) async fn run(
    sender: SseSender,
    mut feed: Feed,
    feeds: Arc<Feeds>,
    filter: Filter,
    after: u64,
    _slot: OwnedSemaphorePermit,
) {
    let mut sent = after;
    let store = feeds.store().clone();
    let ended = async {
        catch_up(&sender, &*store, &filter, &mut sent).await?;
        loop {
            let event = tokio::select! {
                () = sender.closed() => return Err(End::Closed),
                received = feed.recv() => received,
            };
            match event {
                Ok(broadcast) => {
                    let event = &broadcast.event;
                    if event.position > sent && filter.matches(event) {
                        sender
                            .send_encoded(broadcast.frame.clone())
                            .await
                            .map_err(|_| End::Closed)?;
                    }
                    sent = sent.max(event.position);
                }
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(skipped, domain = %filter.domain, "a stream fell behind; catching up from the store");
                    feeds.count_resync();
                    catch_up(&sender, &*store, &filter, &mut sent).await?;
                }
                Err(RecvError::Closed) => return Err(End::Closed),
            }
        }
    };
    let ended: std::result::Result<(), End> = ended.await;
    if let Err(End::Store(error)) = ended {
        tracing::warn!(code = error.code(), %error, domain = %filter.domain, "a stream ended: the store could not be read");
    }
}

/// Sends every matching event after `sent` from the store.
async fn catch_up(
    sender: &SseSender,
    store: &dyn EventStore,
    filter: &Filter,
    sent: &mut u64,
) -> std::result::Result<(), End> {
    loop {
        let page: Result<Vec<Event>> = store.read_from(&filter.catch_up(*sent)).await;
        let page = page.map_err(End::Store)?;
        let full = page.len() == PAGE as usize;
        for event in &page {
            send(sender, event).await?;
            *sent = event.position;
        }
        if !full {
            return Ok(());
        }
    }
}

async fn send(sender: &SseSender, event: &Event) -> std::result::Result<(), End> {
    sender
        .send_encoded(frame(event))
        .await
        .map_err(|_| End::Closed)
}
