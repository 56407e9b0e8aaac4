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

/// What a stream shows: one domain or several, optionally one process of them,
/// optionally some names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The domains (at least one).
    pub domains: Vec<String>,
    /// Only this process.
    pub pid: Option<String>,
    /// Only these names (empty: all).
    pub names: Vec<String>,
}

impl Filter {
    /// Whether `event` belongs to the stream.
    pub fn matches(&self, event: &Event) -> bool {
        self.domains.contains(&event.domain)
            && self.pid.as_ref().is_none_or(|pid| *pid == event.pid)
            && (self.names.is_empty() || self.names.contains(&event.name))
    }

    /// The catch-up read of `domain` after `after`.
    fn catch_up(&self, domain: &str, after: u64) -> CatchUp {
        let read = match &self.pid {
            Some(pid) => CatchUp::after(after, PAGE).process(domain.to_owned(), pid.clone()),
            None => CatchUp::after(after, PAGE).domain(domain.to_owned()),
        };
        read.names(self.names.iter().cloned())
    }

    /// The next events after `after`, in position order, from every domain: each
    /// domain's page, merged, up to where every domain's page is complete (a full page
    /// may stop short of what another domain's page reaches). `None` when there are none.
    async fn next_page(&self, store: &dyn EventStore, after: u64) -> Result<Option<Vec<Event>>> {
        let mut merged = Vec::new();
        let mut complete_to = u64::MAX;
        for domain in &self.domains {
            let page = store.read_from(&self.catch_up(domain, after)).await?;
            if page.len() == PAGE as usize
                && let Some(last) = page.last()
            {
                complete_to = complete_to.min(last.position);
            }
            merged.extend(page);
        }
        merged.retain(|e| e.position <= complete_to);
        merged.sort_by_key(|e| e.position);
        Ok((!merged.is_empty()).then_some(merged))
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
                    tracing::debug!(skipped, domains = ?filter.domains, "a stream fell behind; catching up from the store");
                    feeds.count_resync();
                    catch_up(&sender, &*store, &filter, &mut sent).await?;
                }
                Err(RecvError::Closed) => return Err(End::Closed),
            }
        }
    };
    let ended: std::result::Result<(), End> = ended.await;
    if let Err(End::Store(error)) = ended {
        tracing::warn!(code = error.code(), %error, domains = ?filter.domains, "a stream ended: the store could not be read");
    }
}

/// Sends every matching event after `sent` from the store.
async fn catch_up(
    sender: &SseSender,
    store: &dyn EventStore,
    filter: &Filter,
    sent: &mut u64,
) -> std::result::Result<(), End> {
    while let Some(page) = filter.next_page(store, *sent).await.map_err(End::Store)? {
        for event in &page {
            send(sender, event).await?;
            *sent = event.position;
        }
    }
    Ok(())
}

async fn send(sender: &SseSender, event: &Event) -> std::result::Result<(), End> {
    sender
        .send_encoded(frame(event))
        .await
        .map_err(|_| End::Closed)
}
