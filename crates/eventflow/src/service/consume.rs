//! The consume service: the consumer map in config binds event names to handler methods
//! of services, as the original's `consume` service did (`order-placed` →
//! `on_order_placed`).
//!
//! ```toml
//! [eventflow.spoke.consume]
//! order = ["order-placed", "order-paid"]   # service "order": on_order_placed, on_order_paid
//! audit = "*"                              # every event of domain "audit": on_<name>
//! [eventflow.spoke.consume.shipping]       # explicit form
//! service = "shipping-worker"              # the service (default: the domain's name)
//! events = ["order-paid"]                  # "*", a name, or names
//! methods = { "order-paid" = "ship" }      # explicit method names
//! [eventflow.spoke.consume."billing@order"] # any key, with the domain named inside
//! domain = "order"                         # (default: the key)
//! service = "billing"
//! events = ["order-placed"]
//! ```
//!
//! An entry set to `false` is skipped, so a deployment can move a consumer to another
//! process (`eventflow.spoke.consume."billing@order" = false` here, the entry there).
//!
//! The service must expose [`Consumer`]
//! (`registry.register("order", …).expose::<dyn Consumer>(|s| s)`). A missing method is an
//! error (`E_EVENTFLOW_CONSUMER_NO_HANDLER`): the event is retried, then parked, never
//! silently counted as handled.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use superhero_core::{BoxError, Locator};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::hub::subscribers::ANY_NAME;
use crate::spoke::Spoke;

/// A service that handles consumed events by method name.
///
/// ```
/// use superhero_eventflow::service::{Consumer, handler_not_found};
/// use superhero_eventflow::Event;
/// use superhero_core::BoxError;
///
/// struct Orders;
///
/// #[superhero_core::async_trait]
/// impl Consumer for Orders {
///     async fn consume(&self, method: &str, event: Event) -> Result<(), BoxError> {
///         match method {
///             "on_order_placed" => Ok(()),
///             _ => Err(handler_not_found("orders", method, &event)),
///         }
///     }
/// }
/// ```
#[superhero_core::async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// Handles `event` with the handler called `method`; `Ok` records success, `Err` a
    /// retry.
    async fn consume(&self, method: &str, event: Event) -> std::result::Result<(), BoxError>;
}

/// The error for a [`Consumer`] without the method asked for.
pub fn handler_not_found(service: &str, method: &str, event: &Event) -> BoxError {
    Box::new(Error::NoHandler {
        service: service.to_owned(),
        method: method.to_owned(),
        domain: event.domain.clone(),
        name: event.name.clone(),
    })
}

/// The handler method for an event name: `on_` and the name in snake case
/// (`order-placed` and `orderPlaced` → `on_order_placed`).
pub fn method_name(event_name: &str) -> String {
    let mut out = String::from("on_");
    let mut previous_lower = false;
    for c in event_name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Names::One(name) => vec![name],
            Names::Many(names) => names,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Names(Names),
    /// `false`: skipped (`true` is refused, it names no events).
    Enabled(bool),
    Detailed {
        #[serde(default)]
        domain: Option<String>,
        #[serde(default)]
        service: Option<String>,
        events: Names,
        #[serde(default)]
        methods: HashMap<String, String>,
    },
}

/// Registers the consumers of a consumer map on `spoke`, looking the services up in
/// `locator`. Returns how many (domain, name) pairs are consumed.
pub fn bind(spoke: &Spoke, locator: &Locator, map: &serde_json::Value, key: &str) -> Result<usize> {
    let entries: HashMap<String, Entry> = serde_json::from_value(map.clone())
        .map_err(|e| Error::settings(key, format!("a consumer map is domain → \"*\" | name | [names] | {{domain, service, events, methods}} | false: {e}")))?;
    let mut bound = 0;
    for (entry_key, entry) in entries {
        let (domain, service, names, methods) = match entry {
            Entry::Enabled(false) => continue,
            Entry::Enabled(true) => {
                return Err(Error::settings(
                    superhero_core::config::key::child(
                        key,
                        &superhero_core::config::key::join(&[&entry_key]),
                    ),
                    "`true` names no events: give \"*\", a name, [names] or {domain, service, events}",
                ));
            }
            Entry::Names(names) => (
                entry_key.clone(),
                entry_key.clone(),
                names.into_vec(),
                HashMap::new(),
            ),
            Entry::Detailed {
                domain,
                service,
                events,
                methods,
            } => {
                let domain = domain.unwrap_or_else(|| entry_key.clone());
                let service = service.unwrap_or_else(|| domain.clone());
                (domain, service, events.into_vec(), methods)
            }
        };
        let consumer: Arc<dyn Consumer> =
            locator.locate::<dyn Consumer>(&service).map_err(|e| {
                Error::settings(
                    superhero_core::config::key::child(
                        key,
                        &superhero_core::config::key::join(&[&entry_key]),
                    ),
                    format!("service {service:?} must be enabled and expose `dyn Consumer`: {e}"),
                )
            })?;
        for name in names {
            let fixed = methods.get(&name).cloned().filter(|_| name != ANY_NAME);
            let consumer = consumer.clone();
            spoke.consume(&domain, &name, move |event: Event| {
                let consumer = consumer.clone();
                let method = fixed.clone().unwrap_or_else(|| method_name(&event.name));
                async move { consumer.consume(&method, event).await }
            })?;
            tracing::info!(%domain, %name, %service, "consuming");
            bound += 1;
        }
    }
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_follow_the_original_convention() {
        assert_eq!(method_name("order-placed"), "on_order_placed");
        assert_eq!(method_name("orderPlaced"), "on_order_placed");
        assert_eq!(method_name("success"), "on_success");
        assert_eq!(method_name("a.b c"), "on_a_b_c");
    }

    #[test]
    fn consumer_maps_accept_the_original_shapes() {
        let map: HashMap<String, Entry> = serde_json::from_value(serde_json::json!({
            "a": "*", "b": "x", "c": ["x", "y"],
            "d": {"service": "svc", "events": ["x"], "methods": {"x": "handle"}},
            "svc@e": {"domain": "e", "service": "svc", "events": "*"},
            "off": false
        }))
        .unwrap();
        assert!(matches!(
            map["svc@e"],
            Entry::Detailed {
                domain: Some(_),
                ..
            }
        ));
        assert!(matches!(map["off"], Entry::Enabled(false)));
        assert!(matches!(map["a"], Entry::Names(Names::One(_))));
        assert!(matches!(map["c"], Entry::Names(Names::Many(_))));
        assert!(matches!(map["d"], Entry::Detailed { .. }));
    }
}
