//! Coalescing: callers queue items, one task takes everything queued (up to a limit)
//! and answers the whole batch with one store round trip — group commit for writes,
//! group reads for lookups. On this crate's hot path (every signed request reads its
//! session and claims a nonce) it turns a statement per request into a statement per
//! batch.

use std::future::Future;
use std::sync::Arc;

use superhero_core::CancellationToken;
use tokio::sync::{mpsc, oneshot};

use crate::error::{AuthError, Result};

/// A queue served in batches by one task. Cheap to clone.
pub struct Batcher<I, O> {
    queue: mpsc::Sender<(I, oneshot::Sender<Result<O>>)>,
    what: &'static str,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Batcher {
            queue: self.queue.clone(),
            what: self.what,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the task: it answers at most `most` items at a time with `answer`, which
    /// returns one output per item, in order; until `stop`. `what` names the store in
    /// errors (`the nonce store`).
    pub fn start<F, Fut>(
        most: usize,
        what: &'static str,
        stop: CancellationToken,
        answer: F,
    ) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<O>>> + Send,
    {
        let (queue, mut items) = mpsc::channel::<(I, oneshot::Sender<Result<O>>)>(4 * most);
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
                            let _ = reply.send(Err(unavailable(what)));
                        }
                    }
                    Err(error) => {
                        tracing::warn!(code = error.code(), what, size, "a batch failed");
                        for reply in replies {
                            let _ = reply.send(Err(unavailable(what)));
                        }
                    }
                }
            }
        });
        Batcher { queue, what }
    }

    /// Queues `item` and waits for its answer. A failed batch is `E_AUTH_UNAVAILABLE`
    /// for each of its items (the store's errors are not `Clone`; the cause is logged).
    pub async fn call(&self, item: I) -> Result<O> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((item, reply))
            .await
            .map_err(|_| unavailable(self.what))?;
        answer.await.map_err(|_| unavailable(self.what))?
    }
}

fn unavailable(what: &str) -> AuthError {
    AuthError::Unavailable { what: what.into() }
}
