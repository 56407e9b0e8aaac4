//! One open stream: catch-up from the store after the client's position, then the
//! domain's feed, resynchronised from the store whenever the client falls behind the
//! feed's buffer (see [`crate::eventlog::feeds`] for why this has no gap and no
//! duplicate).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use superhero_eventflow::{CatchUp, Event, EventStore, Result};
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
    /// The user the stream is for, and the owner rules of its domains: events of an
    /// owned domain are shown only for processes this user owns.
    pub viewer: String,
    /// Owner rules by domain (only the stream's domains that have one).
    pub owners: std::collections::BTreeMap<String, crate::settings::Owner>,
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

/// Where a stream is: reading the store, or following the feed.
enum Phase {
    /// Reading pages from the store after `sent` (at the start, and after lagging).
    CatchUp,
    /// Taking the feed's broadcasts.
    Live,
}

/// A stream's state between frames.
struct Stream {
    feed: Feed,
    feeds: Arc<Feeds>,
    filter: Filter,
    /// The position of the last event sent (or skipped as not the stream's).
    sent: u64,
    /// Frames read from the store, not sent yet.
    pending: VecDeque<Bytes>,
    phase: Phase,
    /// The stream's place under the connection limit, held while it is open.
    _slot: OwnedSemaphorePermit,
}

impl Stream {
    /// Whether the viewer may see `event`: its process's owner, where its domain has
    /// owners.
    async fn visible(&self, event: &Event) -> Result<bool> {
        match self.filter.owners.get(&event.domain) {
            None => Ok(true),
            Some(rule) => Ok(self
                .feeds
                .owner_of(rule, &event.pid)
                .await?
                .is_some_and(|owner| owner == self.filter.viewer)),
        }
    }

    fn failed(&self, error: superhero_eventflow::Error) -> Option<Bytes> {
        tracing::warn!(code = error.code(), %error, domains = ?self.filter.domains, "a stream ended: the store could not be read");
        None
    }

    /// The next frame, or `None` to end the stream (the feed ended at shutdown, or
    /// the store failed: the client reconnects and resumes).
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Some(frame);
            }
            match self.phase {
                Phase::CatchUp => {
                    let store = self.feeds.store().clone();
                    match self.filter.next_page(&*store, self.sent).await {
                        Ok(Some(page)) => {
                            for event in &page {
                                self.sent = event.position;
                                match self.visible(event).await {
                                    Ok(true) => self.pending.push_back(frame(event)),
                                    Ok(false) => {}
                                    Err(error) => return self.failed(error),
                                }
                            }
                        }
                        Ok(None) => self.phase = Phase::Live,
                        Err(error) => return self.failed(error),
                    }
                }
                Phase::Live => match self.feed.recv().await {
                    Ok(broadcast) => {
                        let event = &broadcast.event;
                        let new = event.position > self.sent;
                        self.sent = self.sent.max(event.position);
                        if new && self.filter.matches(event) {
                            match self.visible(event).await {
                                Ok(true) => return Some(broadcast.frame.clone()),
                                Ok(false) => {}
                                Err(error) => return self.failed(error),
                            }
                        }
                    }
                    Err(RecvError::Lagged(skipped)) => {
                        tracing::debug!(skipped, domains = ?self.filter.domains, "a stream fell behind; catching up from the store");
                        self.feeds.count_resync();
                        self.phase = Phase::CatchUp;
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}

/// The stream's frames after position `after`: what the store holds first, then the
/// feed, resynchronised from the store when it lags. The connection polls them
/// directly ([`superhero_http::View::sse_from`]): no task and no channel per stream;
/// a client that stops reading simply stops being polled. `slot` is the stream's place
/// under the connection limit, given back when the stream ends.
pub(crate) fn frames(
    feed: Feed,
    feeds: Arc<Feeds>,
    filter: Filter,
    after: u64,
    slot: OwnedSemaphorePermit,
) -> impl futures_core::Stream<Item = Bytes> + Send + 'static {
    let stream = Stream {
        feed,
        feeds,
        filter,
        sent: after,
        pending: VecDeque::new(),
        phase: Phase::CatchUp,
        _slot: slot,
    };
    futures_util::stream::unfold(stream, |mut stream| async move {
        let frame = stream.next().await?;
        Some((frame, stream))
    })
}
