//! Typed consumers: a service whose handlers take decoded payloads, bound to the spoke by
//! the consumer map like any [`Consumer`].
//!
//! ```
//! use std::sync::Arc;
//! use serde::{Deserialize, Serialize};
//! use superhero_app::{EventType, Handlers, Received};
//! use superhero_core::Registry;
//! use superhero_eventflow::service::Consumer;
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Placed { pub total: u32 }
//! pub const PLACED: EventType<Placed> = EventType::new("order", "order-placed");
//!
//! let mut registry = Registry::new();
//! registry
//!     .register("billing/invoice", |_ctx| async {
//!         Ok(Handlers::new("billing/invoice").on(PLACED, |placed: Received<Placed>| async move {
//!             println!("invoice {} for {}", placed.event.pid, placed.payload.total);
//!             Ok(())
//!         }))
//!     })
//!     .expose::<dyn Consumer>(|s| s);
//! ```
//!
//! The wiring ([`crate::Wiring::consumer`]) puts the same contracts in the consumer map,
//! so the names a service consumes and the names it handles come from one constant each.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use superhero_core::{BoxError, Service, async_trait};
use superhero_eventflow::Event;
use superhero_eventflow::service::{Consumer, handler_not_found};

use crate::contract::{EventType, Received};

type Handler =
    Arc<dyn Fn(Event) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> + Send + Sync>;

/// A [`Consumer`] service made of typed handlers, one per event contract.
pub struct Handlers {
    service: String,
    handlers: HashMap<(String, String), Handler>,
}

impl Handlers {
    /// An empty set of handlers for the service called `service` (used in errors).
    pub fn new(service: impl Into<String>) -> Self {
        Handlers {
            service: service.into(),
            handlers: HashMap::new(),
        }
    }

    /// Handles events of `contract` with `handler`, which receives the decoded payload. A
    /// payload that does not decode is the handler's failure (`E_APP_EVENT_PAYLOAD`): the
    /// event is retried, then parked with that reason. A later `on` for the same contract
    /// replaces the earlier one.
    #[must_use]
    pub fn on<P, F, Fut>(mut self, contract: EventType<P>, handler: F) -> Self
    where
        P: DeserializeOwned + Send + 'static,
        F: Fn(Received<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |event: Event| {
            let handler = handler.clone();
            Box::pin(async move {
                let received = contract.receive(event).map_err(|e| {
                    tracing::warn!(code = e.code(), error = %e, "an event cannot be decoded");
                    BoxError::from(e)
                })?;
                handler(received).await
            })
        });
        self.handlers.insert(
            (contract.domain().to_owned(), contract.name().to_owned()),
            erased,
        );
        self
    }

    /// The (domain, name) pairs handled.
    pub fn events(&self) -> impl Iterator<Item = (&str, &str)> {
        self.handlers
            .keys()
            .map(|(domain, name)| (domain.as_str(), name.as_str()))
    }
}

impl Service for Handlers {}

#[async_trait]
impl Consumer for Handlers {
    /// Runs the handler of the event's contract (chosen by the event's domain and name;
    /// `method` only names it in the error when there is none).
    async fn consume(&self, method: &str, event: Event) -> Result<(), BoxError> {
        let key = (event.domain.clone(), event.name.clone());
        match self.handlers.get(&key) {
            Some(handler) => handler(event).await,
            None => Err(handler_not_found(&self.service, method, &event)),
        }
    }
}
