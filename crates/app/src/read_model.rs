//! Read models rebuilt from the event-log: what `superhero rebuild <app>` runs.
//!
//! A read model is a table an app keeps by consuming events (the message board's list
//! of posts, say). Its consumer applies each event idempotently, and the app's
//! [`Rebuild`] replays the event-log into it: [`Replay`] reads the events of some
//! contracts, oldest first, a chunk at a time, up to the head the rebuild started
//! at, and reports its [`Progress`]. Events appended while a rebuild runs are the live
//! consumer's: they are delivered to it as usual.
//!
//! ```no_run
//! # async fn demo(store: superhero_eventflow::SqlStore) -> Result<(), superhero_eventflow::Error> {
//! use superhero_app::EventType;
//! use superhero_app::read_model::{Progress, Replay};
//!
//! const CREATED: EventType<serde_json::Value> = EventType::new("post", "post-created");
//! let mut replay = Replay::start(&store, &[CREATED.key()], Progress::stderr("posts")).await?;
//! while let Some(events) = replay.next().await? {
//!     for event in events {
//!         // upsert the row of `event`
//!     }
//! }
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use superhero_core::BoxError;
use superhero_eventflow::{CatchUp, Event, EventLog, Result, SqlStore};

use crate::contract::EventKey;

/// Rebuilds an app's read models in `store`'s database from its event-log, reporting
/// progress; answers a one-line summary (`"120 posts, 300 replies"`).
pub type Rebuild =
    fn(
        SqlStore,
        Progress,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<String, BoxError>> + Send>>;

/// How far a rebuild is: called with the position read up to and the head it runs to.
#[derive(Clone)]
pub struct Progress {
    report: Arc<dyn Fn(u64, u64) + Send + Sync>,
}

impl Progress {
    /// Reports to `report(position, head)`.
    pub fn new(report: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        Progress {
            report: Arc::new(report),
        }
    }

    /// Reports nothing.
    pub fn silent() -> Self {
        Progress::new(|_, _| {})
    }

    /// Prints `<label>: position P of H (N%)` lines on stderr.
    pub fn stderr(label: impl Into<String>) -> Self {
        let label = label.into();
        Progress::new(move |position, head| {
            let percent = position
                .saturating_mul(100)
                .checked_div(head)
                .unwrap_or(100);
            eprintln!("{label}: position {position} of {head} ({percent}%)");
        })
    }

    /// Reports `position` of `head`.
    pub fn report(&self, position: u64, head: u64) {
        (self.report)(position, head);
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

/// The events of some contracts, oldest first, from the start of the event-log up to
/// its head when the replay started (see the module docs).
#[derive(Debug)]
pub struct Replay {
    store: SqlStore,
    keys: Vec<EventKey>,
    after: u64,
    head: u64,
    chunk: u32,
    progress: Progress,
    done: bool,
}

/// Events read per chunk by default.
pub const DEFAULT_CHUNK: u32 = 500;

impl Replay {
    /// A replay of the events of `keys` up to the current head.
    pub async fn start(store: &SqlStore, keys: &[EventKey], progress: Progress) -> Result<Self> {
        let head = store.head_position().await?;
        Ok(Replay {
            store: store.clone(),
            keys: keys.to_vec(),
            after: 0,
            head,
            chunk: DEFAULT_CHUNK,
            progress,
            done: head == 0 || keys.is_empty(),
        })
    }

    /// Reads `chunk` events at a time (at least 1; default [`DEFAULT_CHUNK`]).
    #[must_use]
    pub fn chunk(mut self, chunk: u32) -> Self {
        self.chunk = chunk.max(1);
        self
    }

    /// The head position the replay runs to.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The next chunk (never empty), or `None` at the head.
    pub async fn next(&mut self) -> Result<Option<Vec<Event>>> {
        while !self.done {
            let names: Vec<&str> = self.keys.iter().map(|k| k.name).collect();
            let page = self
                .store
                .read_from(&CatchUp::after(self.after, self.chunk).names(names))
                .await?;
            let full = page.len() == self.chunk as usize;
            self.after = page.last().map_or(self.head, |e| e.position);
            if !full || self.after >= self.head {
                self.done = true;
                self.after = self.after.max(self.head);
            }
            self.progress.report(self.after.min(self.head), self.head);
            let events: Vec<Event> = page
                .into_iter()
                .filter(|e| e.position <= self.head)
                .filter(|e| {
                    self.keys
                        .iter()
                        .any(|k| k.domain == e.domain && k.name == e.name)
                })
                .collect();
            if !events.is_empty() {
                return Ok(Some(events));
            }
        }
        Ok(None)
    }
}
