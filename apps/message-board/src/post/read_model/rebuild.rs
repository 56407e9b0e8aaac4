//! Rebuilding the read model from the event-log (`superhero rebuild message-board`).
//!
//! The rebuild runs beside the live consumer, so it never empties the tables: it
//! writes every row from its event again, marked with a new generation, a chunk per
//! transaction (SQLite's writers wait for one chunk, never for the whole rebuild); then
//! it looks at the rows it did not write, up to the head it started at: a row whose
//! event is in the event-log (projected live while the rebuild ran) is written again,
//! any other is deleted. The result is the read model a fresh projection of the
//! event-log makes, and what the live consumer projects meanwhile is never lost.

use superhero_app::read_model::{Progress, Replay};
use superhero_eventflow::{Error, EventLog, Result, SqlStore};
use uuid::Uuid;

use super::{Apply, ReadModel, rows};
use crate::post::{POST_CREATED, REPLY_CREATED};

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rebuilt {
    /// Posts written.
    pub posts: u64,
    /// Replies written.
    pub replies: u64,
    /// Rows without an event in the event-log, deleted.
    pub removed: u64,
    /// Events whose payload did not decode, skipped (each logged).
    pub skipped: u64,
}

impl std::fmt::Display for Rebuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} posts, {} replies, {} stale rows removed, {} undecodable events skipped",
            self.posts, self.replies, self.removed, self.skipped
        )
    }
}

/// Rebuilds the read model in `store`'s database (creating its tables if needed).
pub async fn rebuild(store: &SqlStore, progress: Progress) -> Result<Rebuilt> {
    let model = ReadModel::open(store).await?;
    let tables = model.tables();
    // Later than any earlier rebuild's, and never 0 (the live consumer's rows).
    let generation = tables.now().as_millis().max(1);
    let mode = Apply::Overwrite(generation);
    let mut done = Rebuilt::default();
    let mut replay =
        Replay::start(store, &[POST_CREATED.key(), REPLY_CREATED.key()], progress).await?;
    while let Some(events) = replay.next().await? {
        let mut write = tables.write("rebuild the read model").await?;
        for event in &events {
            if POST_CREATED.matches(event) {
                match POST_CREATED.decode(event) {
                    Ok(post) => {
                        rows::write_post(tables, write.connection(), event, &post, mode).await?;
                        done.posts += 1;
                    }
                    Err(error) => skip(&mut done, &error),
                }
            } else {
                match REPLY_CREATED.decode(event) {
                    Ok(reply) => {
                        rows::write_reply(tables, write.connection(), event, &reply, mode).await?;
                        done.replies += 1;
                    }
                    Err(error) => skip(&mut done, &error),
                }
            }
        }
        write.commit().await?;
    }
    for (table, id, event_id) in rows::stale(tables, generation, replay.head()).await? {
        let event = match Uuid::parse_str(&event_id) {
            Ok(event_id) => match store.read_event(event_id).await {
                Ok(event) => Some(event),
                Err(Error::EventNotFound { .. }) => None,
                Err(error) => return Err(error),
            },
            Err(_) => None,
        };
        let kept = match event {
            Some(event) if event.pid == id && table == "mb_post" => {
                match POST_CREATED.decode(&event) {
                    Ok(post) => model.apply_post(&event, &post, mode).await.map(|()| true)?,
                    Err(_) => false,
                }
            }
            Some(event) if event.pid == id => match REPLY_CREATED.decode(&event) {
                Ok(reply) => model
                    .apply_reply(&event, &reply, mode)
                    .await
                    .map(|()| true)?,
                Err(_) => false,
            },
            _ => false,
        };
        if !kept {
            tracing::info!(table, %id, "a row without its event in the event-log; deleting it");
            rows::delete(tables, table, &id).await?;
            done.removed += 1;
        }
    }
    Ok(done)
}

fn skip(done: &mut Rebuilt, error: &superhero_app::AppError) {
    tracing::warn!(code = error.code(), %error, "an event of the read model cannot be decoded; skipped");
    done.skipped += 1;
}
