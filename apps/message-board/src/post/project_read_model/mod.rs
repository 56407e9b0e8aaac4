//! Use case `project_read_model`: the consumer that keeps the [read model](super::read_model)
//! from `post-created` and `reply-created`. Applying an event inserts its row and leaves
//! one that exists, so a redelivered event changes nothing; rows projected at the same
//! time are written in one transaction.

use std::sync::Arc;

use superhero_app::{EventKey, Handlers, Wiring};
use superhero_core::Registry;
use superhero_eventflow::service::Consumer;

use super::read_model::{Projected, READ_MODEL, ReadModel};
use super::{POST_CREATED, REPLY_CREATED};

/// The service name of the consumer.
pub const PROJECT_READ_MODEL: &str = "message-board/post/project-read-model";

/// The events it consumes.
pub const EVENTS: [EventKey; 2] = [POST_CREATED.key(), REPLY_CREATED.key()];

/// Registers the consumer.
pub fn register(registry: &mut Registry) {
    registry
        .register(PROJECT_READ_MODEL, |ctx| async move {
            let posts = ctx.locate::<ReadModel>(READ_MODEL)?;
            let replies: Arc<ReadModel> = posts.clone();
            Ok(Handlers::new(PROJECT_READ_MODEL)
                .on(POST_CREATED, move |created| {
                    let model = posts.clone();
                    async move {
                        model
                            .project(Projected::Post(created.event, created.payload))
                            .await?;
                        Ok(())
                    }
                })
                .on(REPLY_CREATED, move |created| {
                    let model = replies.clone();
                    async move {
                        model
                            .project(Projected::Reply(created.event, created.payload))
                            .await?;
                        Ok(())
                    }
                }))
        })
        .uses([READ_MODEL])
        .expose::<dyn Consumer>(|s| s);
}

/// Puts the consumer in the consumer map.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring.consumer(PROJECT_READ_MODEL, &EVENTS)
}
