//! Reading an order's logs: the facts the process managers decide on. Every context's
//! events of one order share its pid, so each domain's log of the order is one stream.

use std::sync::Arc;

use superhero_app::EventType;
use superhero_eventflow::{Event, EventStore};

use crate::error::Result;

use crate::notification::NOTIFICATION;
use crate::order::{ORDER, ORDER_PLACED, OrderPlaced};
use crate::payment::PAYMENT;
use crate::shipment::SHIPMENT;

/// The four domains of the saga, in the order of the flow.
pub const DOMAINS: [&str; 4] = [ORDER, PAYMENT, SHIPMENT, NOTIFICATION];

/// The saga domain that publishes the event called `name` (every saga event name
/// belongs to one domain; the prefixes of `sale-order.md` tell which).
pub fn domain_of(name: &str) -> &'static str {
    if name.starts_with("notified-") {
        NOTIFICATION
    } else if name.starts_with("shipment-") {
        SHIPMENT
    } else if name.starts_with("payment-") || name == "invalid-payment-confirmation" {
        PAYMENT
    } else {
        ORDER
    }
}

/// The order as placed, if it was.
pub async fn placed(
    store: &Arc<dyn EventStore>,
    order_id: &str,
) -> Result<Option<(Event, OrderPlaced)>> {
    let log = store.read_stream(ORDER, order_id).await?;
    let Some(event) = log.into_iter().find(|e| ORDER_PLACED.matches(e)) else {
        return Ok(None);
    };
    let placed = ORDER_PLACED.decode(&event)?;
    Ok(Some((event, placed)))
}

/// Whether the order's log of `contract`'s domain holds an event of `contract`.
pub async fn happened<P>(
    store: &Arc<dyn EventStore>,
    order_id: &str,
    contract: EventType<P>,
) -> Result<bool> {
    let log = store.read_stream(contract.domain(), order_id).await?;
    Ok(log.iter().any(|e| contract.matches(e)))
}

/// Publishes `event` only if its stream is still at `version` (optimistic
/// concurrency): a decision made on a log that changed meanwhile fails with
/// `E_EVENTFLOW_CONFLICT` and is made again on the new log (the handler's event is
/// retried; a controller reads again).
pub async fn publish_at(
    spoke: &superhero_eventflow::Spoke,
    event: superhero_eventflow::NewEvent,
    version: u64,
) -> Result<()> {
    let request = superhero_eventflow::AppendRequest::new(vec![event])
        .expect(superhero_eventflow::ExpectedVersion::Exact(version));
    spoke.publish_all(request).await?;
    Ok(())
}

/// What the payment log of an order says so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payments {
    /// A payment is confirmed.
    pub confirmed: bool,
    /// A received payment has no verdict yet (being verified).
    pub verifying: bool,
    /// Reminders sent.
    pub reminders: u32,
    /// When the last reminder was sent (Unix milliseconds).
    pub last_reminder: Option<i64>,
    /// The payment log's version (its number of events).
    pub version: u64,
}

/// The order's payments as its payment log tells.
pub async fn payments(store: &Arc<dyn EventStore>, order_id: &str) -> Result<Payments> {
    let log = store.read_stream(crate::payment::PAYMENT, order_id).await?;
    let mut payments = Payments::default();
    let (mut received, mut verdicts) = (0u32, 0u32);
    for event in &log {
        match event.name.as_str() {
            "payment-received" => received += 1,
            "payment-confirmed" => {
                verdicts += 1;
                payments.confirmed = true;
            }
            "invalid-payment-confirmation" => verdicts += 1,
            "payment-request-reminded" => {
                payments.reminders += 1;
                payments.last_reminder = Some(event.timestamp.as_millis());
            }
            _ => {}
        }
    }
    payments.verifying = received > verdicts;
    payments.version = log.last().map_or(0, |e| e.version);
    Ok(payments)
}

/// The composite log: the order's events of the four domains, in position order.
pub async fn composite(store: &Arc<dyn EventStore>, order_id: &str) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for domain in DOMAINS {
        events.extend(store.read_stream(domain, order_id).await?);
    }
    events.sort_by_key(|e| e.position);
    Ok(events)
}

/// The order's status as its composite log tells: the last milestone reached.
pub fn status(events: &[Event]) -> &'static str {
    let mut status = "placed";
    for event in events {
        status = match event.name.as_str() {
            "confirmed-product-availability" | "confirmed-sales-area" => "confirmed",
            "payment-requested" | "payment-request-reminded" => "awaiting-payment",
            "payment-confirmed" => "paid",
            "shipment-scheduled" => "shipment-scheduled",
            "shipment-delayed" => "shipment-delayed",
            "shipment-in-transit" => "in-transit",
            "shipment-delivered" => "delivered",
            "shipment-failed" => "shipment-failed",
            "payment-repayment-failed" => "repayment-pending",
            "payment-repaid-to-customer" => "repaid",
            "order-canceled" => "canceled",
            _ => continue,
        };
    }
    status
}
