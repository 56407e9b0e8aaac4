//! The `post` context: posts and their replies.
//!
//! Domain layer: the events (one contract each, shared by the controllers, the
//! validator and the projector), the payloads, and the rules a request must pass. The
//! use cases are folders: `create_post`, `reply_to_post` (asynchronous controllers),
//! `validate_request` (the consumer that decides), `project_read_model` (the consumer
//! that keeps the [`read_model`]), `show_post`, `show_reply`, `list_posts` (reads);
//! [`authors`] names the signed-in user.
//!
//! Processes: a post is the process `post`/`<post id>`; a reply is its own process
//! `reply`/`<reply id>`, whose events carry the child-process association
//! (`cpid`) of their post, `post`/`<post id>`, so `read_by_cpid("post", id)` finds a
//! post's replies in the event-log.

pub mod authors;
pub mod create_post;
pub mod list_posts;
pub mod outcome;
pub mod project_read_model;
pub mod read_model;
pub mod reply_to_post;
pub mod show_post;
pub mod show_reply;
pub mod validate_request;

use serde::{Deserialize, Serialize};
use superhero_app::{EventType, Rejection};
use superhero_eventflow::EventLog;

/// The domain of posts.
pub const POST: &str = "post";
/// The domain of replies.
pub const REPLY: &str = "reply";

/// Asks for a post (published by `POST /posts`).
pub const POST_CREATE_REQUESTED: EventType<PostRequest> =
    EventType::new(POST, "post-create-requested");
/// The post exists (the validator's reply).
pub const POST_CREATED: EventType<PostCreated> = EventType::new(POST, "post-created");
/// The post was refused (the validator's reply).
pub const POST_REJECTED: EventType<Rejection> = EventType::new(POST, "post-rejected");
/// Asks for a reply (published by `POST /posts/{id}/replies`).
pub const REPLY_CREATE_REQUESTED: EventType<ReplyRequest> =
    EventType::new(REPLY, "reply-create-requested");
/// The reply exists.
pub const REPLY_CREATED: EventType<ReplyCreated> = EventType::new(REPLY, "reply-created");
/// The reply was refused.
pub const REPLY_REJECTED: EventType<Rejection> = EventType::new(REPLY, "reply-rejected");

/// The most characters of a title.
pub const MAX_TITLE: usize = 200;
/// The most characters of a body.
pub const MAX_BODY: usize = 10_000;

/// A post as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRequest {
    /// 1 to 200 characters.
    pub title: String,
    /// 1 to 10,000 characters.
    pub body: String,
    /// The signed-in user's id.
    pub author_id: String,
    /// Their name.
    pub author: String,
}

/// A post as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCreated {
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
    /// The author's user id.
    pub author_id: String,
    /// Their name.
    pub author: String,
}

/// A reply as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRequest {
    /// The post replied to.
    pub post_id: String,
    /// 1 to 10,000 characters.
    pub body: String,
    /// The signed-in user's id.
    pub author_id: String,
    /// Their name.
    pub author: String,
}

/// A reply as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyCreated {
    /// The post replied to.
    pub post_id: String,
    /// The body.
    pub body: String,
    /// The author's user id.
    pub author_id: String,
    /// Their name.
    pub author: String,
}

/// Why a request is refused, as the rejection's code and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The title is empty or longer than 200 characters.
    Title,
    /// The body is empty or longer than 10,000 characters.
    Body,
    /// The author is banned.
    Banned,
    /// The author posted the same title within the hour.
    DuplicateTitle,
    /// The post replied to does not exist.
    NoSuchPost,
}

impl Refusal {
    /// The rejection (code and reason) clients receive.
    pub fn rejection(self) -> Rejection {
        let (code, reason) = match self {
            Refusal::Title => ("E_POST_TITLE", "A title has 1 to 200 characters"),
            Refusal::Body => ("E_POST_BODY", "A body has 1 to 10000 characters"),
            Refusal::Banned => ("E_POST_AUTHOR_BANNED", "The author may not post"),
            Refusal::DuplicateTitle => (
                "E_POST_DUPLICATE_TITLE",
                "The author posted this title within the last hour",
            ),
            Refusal::NoSuchPost => ("E_POST_NOT_FOUND", "The post replied to does not exist"),
        };
        Rejection::new(code, reason)
    }
}

/// The rules of a text field: 1 to `most` characters, not only white space.
pub fn text_fits(text: &str, most: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= most
}

/// The rules a post request must pass before anything else is looked up.
pub fn check_post(request: &PostRequest) -> Result<(), Refusal> {
    if !text_fits(&request.title, MAX_TITLE) {
        return Err(Refusal::Title);
    }
    if !text_fits(&request.body, MAX_BODY) {
        return Err(Refusal::Body);
    }
    Ok(())
}

/// Whether post `id` was created: its `post-created` is in the event-log (the truth,
/// ahead of the read model).
pub async fn post_exists(
    store: &(impl EventLog + ?Sized),
    id: &str,
) -> superhero_eventflow::Result<bool> {
    let created = store
        .read_stream_by_names(POST, id, &[POST_CREATED.name()])
        .await?;
    Ok(!created.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(title: &str, body: &str) -> PostRequest {
        PostRequest {
            title: title.into(),
            body: body.into(),
            author_id: "u-1".into(),
            author: "alice".into(),
        }
    }

    #[test]
    fn titles_and_bodies_have_bounded_lengths_in_characters() {
        assert_eq!(check_post(&request("Hi", "there")), Ok(()));
        assert_eq!(check_post(&request("", "x")), Err(Refusal::Title));
        assert_eq!(check_post(&request("   ", "x")), Err(Refusal::Title));
        assert_eq!(check_post(&request(&"é".repeat(200), "x")), Ok(()));
        assert_eq!(
            check_post(&request(&"é".repeat(201), "x")),
            Err(Refusal::Title)
        );
        assert_eq!(check_post(&request("t", "")), Err(Refusal::Body));
        assert_eq!(
            check_post(&request("t", &"b".repeat(10_001))),
            Err(Refusal::Body)
        );
    }
}
