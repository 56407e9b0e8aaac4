//! Coalescing: callers queue items, one task takes everything queued (up to a limit)
//! and answers the whole batch with one store round trip — group commit for writes,
//! group reads for lookups. On a hot path (every signed request reads its session and
//! claims a nonce; every post claims its title and is projected) it turns a transaction
//! per request into a transaction per batch, and SQLite's one writer at a time into
//! one writer per batch.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use superhero_eventflow::tables::Batcher;
//!
//! let stop = superhero_core::CancellationToken::new();
//! let doubling = Batcher::start(64, "the doubler", stop.clone(), |failed: &'static str| failed,
//!     |numbers: Vec<u32>| async move { Ok::<_, &'static str>(numbers.iter().map(|n| n * 2).collect()) });
//! assert_eq!(doubling.call(21).await, Ok(42));
//! stop.cancel();
//! # }
//! ```

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use superhero_core::CancellationToken;
use tokio::sync::{mpsc, oneshot};

/// A queue served in batches by one task. Cheap to clone.
pub struct Batcher<I, O, E> {
    queue: mpsc::Sender<(I, oneshot::Sender<Result<O, E>>)>,
    what: &'static str,
    failed: fn(&'static str) -> E,
}

impl<I, O, E> Clone for Batcher<I, O, E> {
    fn clone(&self) -> Self {
        Batcher {
            queue: self.queue.clone(),
            what: self.what,
            failed: self.failed,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static, E: Display + Send + 'static> Batcher<I, O, E> {
    /// Starts the task: it answers at most `most` items at a time with `answer`, which
    /// returns one output per item, in order; until `stop`. When a batch fails, its cause
    /// is logged and each of its callers gets `failed(what)` (errors are not `Clone`);
    /// `what` names the store (`the nonce store`).
    pub fn start<F, Fut>(
        most: usize,
        what: &'static str,
        stop: CancellationToken,
        failed: fn(&'static str) -> E,
        answer: F,
    ) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<O>, E>> + Send,
    {
        let (queue, mut items) = mpsc::channel::<(I, oneshot::Sender<Result<O, E>>)>(4 * most);
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            loop {
                let first = tokio::select! {
                    item = items.recv() => item,
                    () = stop.cancelled() => None,
                };
                let Some(first) = first else { return };
                let mut batch = vec![first];
                while batch.len() < most {
                    match items.try_recv() {
                        Ok(item) => batch.push(item),
                        Err(_) => break,
                    }
                }
                let (inputs, replies): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
                let size = inputs.len();
                match answer(inputs).await {
                    Ok(outputs) if outputs.len() == size => {
                        for (reply, output) in replies.into_iter().zip(outputs) {
                            let _ = reply.send(Ok(output));
                        }
                    }
                    Ok(_) => {
                        tracing::error!(what, size, "a batch got the wrong number of answers");
                        for reply in replies {
                            let _ = reply.send(Err(failed(what)));
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, what, size, "a batch failed");
                        for reply in replies {
                            let _ = reply.send(Err(failed(what)));
                        }
                    }
                }
            }
        });
        Batcher {
            queue,
            what,
            failed,
        }
    }

    /// Queues `item` and waits for its answer: `failed(what)` when its batch failed or
    /// the task has stopped.
    pub async fn call(&self, item: I) -> Result<O, E> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((item, reply))
            .await
            .map_err(|_| (self.failed)(self.what))?;
        answer.await.map_err(|_| (self.failed)(self.what))?
    }
}
