//! The statements of the read model (the handbook's "persist/find in database").

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use superhero_eventflow::tables::Tables;
use superhero_eventflow::{Backend, Event, Result, Timestamp};

use super::{Apply, failed};
use crate::post::{PostCreated, ReplyCreated};

/// A projected post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    /// The post id (its process id).
    pub id: String,
    /// The id of its `post-created` event.
    pub event_id: String,
    /// That event's position in the event-log.
    pub position: u64,
    /// The author's user id.
    pub author_id: String,
    /// The author's name.
    pub author: String,
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
    /// When it was created (Unix milliseconds, the event's timestamp).
    pub created_at: i64,
}

/// A projected reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRow {
    /// The reply id (its process id).
    pub id: String,
    /// The post replied to.
    pub post_id: String,
    /// The id of its `reply-created` event.
    pub event_id: String,
    /// That event's position in the event-log.
    pub position: u64,
    /// The author's user id.
    pub author_id: String,
    /// The author's name.
    pub author: String,
    /// The body.
    pub body: String,
    /// When it was created (Unix milliseconds).
    pub created_at: i64,
}

impl PostRow {
    /// The post as answers show it (`replies` added by the caller where wanted).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author": self.author,
            "author_id": self.author_id,
            "created_at": Timestamp::from_millis(self.created_at).to_rfc3339(),
        })
    }

    /// The row `event` projects.
    pub fn of(event: &Event, post: &PostCreated) -> Self {
        PostRow {
            id: event.pid.clone(),
            event_id: event.id.to_string(),
            position: event.position,
            author_id: post.author_id.clone(),
            author: post.author.clone(),
            title: post.title.clone(),
            body: post.body.clone(),
            created_at: event.timestamp.as_millis(),
        }
    }
}

impl ReplyRow {
    /// The reply as answers show it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "post_id": self.post_id,
            "body": self.body,
            "author": self.author,
            "author_id": self.author_id,
            "created_at": Timestamp::from_millis(self.created_at).to_rfc3339(),
        })
    }

    /// The row `event` projects.
    pub fn of(event: &Event, reply: &ReplyCreated) -> Self {
        ReplyRow {
            id: event.pid.clone(),
            post_id: reply.post_id.clone(),
            event_id: event.id.to_string(),
            position: event.position,
            author_id: reply.author_id.clone(),
            author: reply.author.clone(),
            body: reply.body.clone(),
            created_at: event.timestamp.as_millis(),
        }
    }
}

const POST_COLUMNS: &str = "id, event_id, position, author_id, author, title, body, created_at";
const REPLY_COLUMNS: &str = "id, post_id, event_id, position, author_id, author, body, created_at";

/// The clause that makes an insert an upsert (or ignores the row) on `backend`.
fn on_conflict(backend: Backend, mode: Apply, columns: &[&str]) -> String {
    match (backend, mode) {
        (Backend::MySql, Apply::Insert) => " ON DUPLICATE KEY UPDATE id = id".into(),
        (Backend::MySql, Apply::Overwrite(_)) => {
            let set: Vec<String> = columns
                .iter()
                .map(|c| format!("{c} = VALUES({c})"))
                .collect();
            format!(" ON DUPLICATE KEY UPDATE {}", set.join(", "))
        }
        (_, Apply::Insert) => " ON CONFLICT (id) DO NOTHING".into(),
        (_, Apply::Overwrite(_)) => {
            let set: Vec<String> = columns
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            format!(" ON CONFLICT (id) DO UPDATE SET {}", set.join(", "))
        }
    }
}

fn generation(mode: Apply) -> i64 {
    match mode {
        Apply::Insert => 0,
        Apply::Overwrite(generation) => generation,
    }
}

fn position(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Writes the post row of `event`.
pub(super) async fn write_post(
    tables: &Tables,
    connection: &mut AnyConnection,
    event: &Event,
    post: &PostCreated,
    mode: Apply,
) -> Result<()> {
    let row = PostRow::of(event, post);
    let sql = format!(
        "INSERT INTO mb_post ({POST_COLUMNS}, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?){}",
        on_conflict(
            tables.backend(),
            mode,
            &[
                "event_id",
                "position",
                "author_id",
                "author",
                "title",
                "body",
                "created_at",
                "generation"
            ]
        )
    );
    tables
        .dynamic_query(sql)
        .bind(row.id)
        .bind(row.event_id)
        .bind(position(row.position))
        .bind(row.author_id)
        .bind(row.author)
        .bind(row.title)
        .bind(row.body)
        .bind(row.created_at)
        .bind(generation(mode))
        .execute(connection)
        .await
        .map_err(failed("project a post"))?;
    Ok(())
}

/// Writes the reply row of `event`.
pub(super) async fn write_reply(
    tables: &Tables,
    connection: &mut AnyConnection,
    event: &Event,
    reply: &ReplyCreated,
    mode: Apply,
) -> Result<()> {
    let row = ReplyRow::of(event, reply);
    let sql = format!(
        "INSERT INTO mb_reply ({REPLY_COLUMNS}, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?){}",
        on_conflict(
            tables.backend(),
            mode,
            &[
                "post_id",
                "event_id",
                "position",
                "author_id",
                "author",
                "body",
                "created_at",
                "generation"
            ]
        )
    );
    tables
        .dynamic_query(sql)
        .bind(row.id)
        .bind(row.post_id)
        .bind(row.event_id)
        .bind(position(row.position))
        .bind(row.author_id)
        .bind(row.author)
        .bind(row.body)
        .bind(row.created_at)
        .bind(generation(mode))
        .execute(connection)
        .await
        .map_err(failed("project a reply"))?;
    Ok(())
}

fn post_row(row: &AnyRow) -> std::result::Result<PostRow, sqlx::Error> {
    Ok(PostRow {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        position: u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0),
        author_id: row.try_get(3)?,
        author: row.try_get(4)?,
        title: row.try_get(5)?,
        body: row.try_get(6)?,
        created_at: row.try_get(7)?,
    })
}

fn reply_row(row: &AnyRow) -> std::result::Result<ReplyRow, sqlx::Error> {
    Ok(ReplyRow {
        id: row.try_get(0)?,
        post_id: row.try_get(1)?,
        event_id: row.try_get(2)?,
        position: u64::try_from(row.try_get::<i64, _>(3)?).unwrap_or(0),
        author_id: row.try_get(4)?,
        author: row.try_get(5)?,
        body: row.try_get(6)?,
        created_at: row.try_get(7)?,
    })
}

pub(super) async fn post(tables: &Tables, id: &str) -> Result<Option<PostRow>> {
    const OP: &str = "read a post";
    let row = tables
        .dynamic_query(format!("SELECT {POST_COLUMNS} FROM mb_post WHERE id = ?"))
        .bind(id.to_owned())
        .fetch_optional(tables.pool())
        .await
        .map_err(failed(OP))?;
    row.as_ref().map(post_row).transpose().map_err(failed(OP))
}

pub(super) async fn replies(tables: &Tables, post_id: &str) -> Result<Vec<ReplyRow>> {
    const OP: &str = "read the replies to a post";
    let rows = tables
        .dynamic_query(format!(
            "SELECT {REPLY_COLUMNS} FROM mb_reply WHERE post_id = ? ORDER BY position, id"
        ))
        .bind(post_id.to_owned())
        .fetch_all(tables.pool())
        .await
        .map_err(failed(OP))?;
    rows.iter()
        .map(reply_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(failed(OP))
}

pub(super) async fn reply(tables: &Tables, post_id: &str, id: &str) -> Result<Option<ReplyRow>> {
    const OP: &str = "read a reply";
    let row = tables
        .dynamic_query(format!(
            "SELECT {REPLY_COLUMNS} FROM mb_reply WHERE id = ? AND post_id = ?"
        ))
        .bind(id.to_owned())
        .bind(post_id.to_owned())
        .fetch_optional(tables.pool())
        .await
        .map_err(failed(OP))?;
    row.as_ref().map(reply_row).transpose().map_err(failed(OP))
}

pub(super) async fn page(
    tables: &Tables,
    after: Option<u64>,
    limit: u32,
) -> Result<Vec<(PostRow, u64)>> {
    const OP: &str = "list posts";
    let rows = tables
        .dynamic_query(format!(
            "SELECT {POST_COLUMNS}, (SELECT COUNT(*) FROM mb_reply r WHERE r.post_id = p.id) \
             FROM mb_post p WHERE position < ? ORDER BY position DESC, id DESC LIMIT ?"
        ))
        .bind(after.map_or(i64::MAX, position))
        .bind(i64::from(limit))
        .fetch_all(tables.pool())
        .await
        .map_err(failed(OP))?;
    rows.iter()
        .map(|row| {
            let replies: i64 = row.try_get(8)?;
            Ok((post_row(row)?, u64::try_from(replies).unwrap_or(0)))
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(failed(OP))
}

pub(super) async fn dump(tables: &Tables) -> Result<(Vec<PostRow>, Vec<ReplyRow>)> {
    const OP: &str = "read the read model";
    let posts = tables
        .dynamic_query(format!("SELECT {POST_COLUMNS} FROM mb_post ORDER BY id"))
        .fetch_all(tables.pool())
        .await
        .map_err(failed(OP))?;
    let replies = tables
        .dynamic_query(format!("SELECT {REPLY_COLUMNS} FROM mb_reply ORDER BY id"))
        .fetch_all(tables.pool())
        .await
        .map_err(failed(OP))?;
    let posts = posts
        .iter()
        .map(post_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(failed(OP))?;
    let replies = replies
        .iter()
        .map(reply_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(failed(OP))?;
    Ok((posts, replies))
}

/// The rows a rebuild of `generation` did not write, of events up to `head`: each
/// table's name, the row id and its event id.
pub(super) async fn stale(
    tables: &Tables,
    generation: i64,
    head: u64,
) -> Result<Vec<(&'static str, String, String)>> {
    const OP: &str = "find rows a rebuild did not write";
    let mut found = Vec::new();
    for table in ["mb_post", "mb_reply"] {
        let rows = tables
            .dynamic_query(format!(
                "SELECT id, event_id FROM {table} WHERE generation <> ? AND position <= ?"
            ))
            .bind(generation)
            .bind(position(head))
            .fetch_all(tables.pool())
            .await
            .map_err(failed(OP))?;
        for row in rows {
            let id: String = row.try_get(0).map_err(failed(OP))?;
            let event_id: String = row.try_get(1).map_err(failed(OP))?;
            found.push((table, id, event_id));
        }
    }
    Ok(found)
}

/// Deletes row `id` of `table` (one of the read model's).
pub(super) async fn delete(tables: &Tables, table: &'static str, id: &str) -> Result<()> {
    const OP: &str = "delete a stale row";
    let mut write = tables.write(OP).await?;
    tables
        .dynamic_query(format!("DELETE FROM {table} WHERE id = ?"))
        .bind(id.to_owned())
        .execute(write.connection())
        .await
        .map_err(failed(OP))?;
    write.commit().await
}
