//! [`Subscription`]: the receiving end of `subscribe`; dropping it unsubscribes.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::SpokeInner;
use super::listeners::SubId;
use crate::event::Event;

/// Events a subscription receives; dropping it unsubscribes.
pub struct Subscription {
    pub(super) rx: mpsc::UnboundedReceiver<Event>,
    pub(super) id: SubId,
    pub(super) inner: Arc<SpokeInner>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

impl Subscription {
    /// The next notified event; `None` once the spoke is shut down.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// A notified event if one is waiting.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.inner.unsubscribe(self.id);
    }
}
