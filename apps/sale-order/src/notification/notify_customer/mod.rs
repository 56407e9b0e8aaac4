//! Use case `notify_customer`: the notification context's process manager. Each saga
//! event a customer (or security) must hear of becomes its notification; a cancellation
//! with a reason becomes two (the reason first, then the cancellation). The messages are
//! recorded as events; sending them (mail, push) would be an adapter of this use case.

use std::sync::Arc;

use superhero_app::{EventKey, EventType, Handlers, Received, Wiring};
use superhero_core::Registry;
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{Consumer, SPOKE, SpokeService};

use crate::notification::*;
use crate::order::{
    Nothing, ORDER_CANCELED, OrderCanceled, PRODUCT_UNAVAILABLE, SALES_AREA_UNAVAILABLE,
};
use crate::payment::{
    Amount, Attempt, INVALID_PAYMENT_CONFIRMATION, InvalidPayment, PAYMENT_REPAID_TO_CUSTOMER,
    PAYMENT_REPAYMENT_FAILED, PAYMENT_REQUEST_REMINDED, PAYMENT_REQUESTED, PaymentRequested,
    Reminded,
};
use crate::shipment::{SHIPMENT_DELAYED, SHIPMENT_DELIVERED, SHIPMENT_FAILED, SHIPMENT_IN_TRANSIT};
use serde::de::DeserializeOwned;

/// The service name of the process manager.
pub const NOTIFY_CUSTOMER: &str = "sale-order/notification/notify-customer";

/// The events it consumes.
pub const EVENTS: [EventKey; 10] = [
    ORDER_CANCELED.key(),
    PAYMENT_REQUESTED.key(),
    PAYMENT_REQUEST_REMINDED.key(),
    INVALID_PAYMENT_CONFIRMATION.key(),
    SHIPMENT_DELAYED.key(),
    SHIPMENT_IN_TRANSIT.key(),
    SHIPMENT_DELIVERED.key(),
    SHIPMENT_FAILED.key(),
    PAYMENT_REPAID_TO_CUSTOMER.key(),
    PAYMENT_REPAYMENT_FAILED.key(),
];

/// A notification to send: which, to whom, saying what.
type Note = (EventType<Notified>, &'static str, String);

/// Handles `contract` by publishing the notifications `decide` names, in order, each a
/// reply to the event.
fn handle<P, F>(
    handlers: Handlers,
    spoke: &Arc<Spoke>,
    contract: EventType<P>,
    decide: F,
) -> Handlers
where
    P: DeserializeOwned + Send + Sync + 'static,
    F: Fn(&Received<P>) -> Vec<Note> + Send + Sync + 'static,
{
    let spoke = spoke.clone();
    let decide = Arc::new(decide);
    handlers.on(contract, move |received: Received<P>| {
        let (spoke, decide) = (spoke.clone(), decide.clone());
        async move {
            for (notification, to, message) in decide(&received) {
                let notified = Notified {
                    to: to.to_owned(),
                    message,
                };
                spoke
                    .publish(received.reply(notification, &notified)?)
                    .await?;
            }
            Ok(())
        }
    })
}

fn customer(notification: EventType<Notified>, message: impl Into<String>) -> Note {
    (notification, "customer", message.into())
}

/// Registers the process manager.
pub fn register(registry: &mut Registry) {
    registry
        .register(NOTIFY_CUSTOMER, |ctx| async move {
            let spoke = Arc::new(ctx.locate::<SpokeService>(SPOKE)?.spoke().clone());
            let mut h = Handlers::new(NOTIFY_CUSTOMER);
            h = handle(h, &spoke, ORDER_CANCELED, |e: &Received<OrderCanceled>| {
                let mut notes = Vec::new();
                match e.payload.reason.as_str() {
                    PRODUCT_UNAVAILABLE => notes.push(customer(
                        NOTIFIED_PRODUCT_UNAVAILABLE,
                        "A product of your order is not available.",
                    )),
                    SALES_AREA_UNAVAILABLE => notes.push(customer(
                        NOTIFIED_SALES_AREA_UNAVAILABLE,
                        "We do not deliver to your area.",
                    )),
                    _ => {}
                }
                notes.push(customer(
                    NOTIFIED_ORDER_CANCELED,
                    format!("Your order is canceled ({}).", e.payload.reason),
                ));
                notes
            });
            h = handle(
                h,
                &spoke,
                PAYMENT_REQUESTED,
                |e: &Received<PaymentRequested>| {
                    vec![customer(
                        NOTIFIED_PAYMENT_REQUESTED,
                        format!(
                            "Please pay {} cents with reference {}.",
                            e.payload.amount, e.payload.reference
                        ),
                    )]
                },
            );
            h = handle(
                h,
                &spoke,
                PAYMENT_REQUEST_REMINDED,
                |e: &Received<Reminded>| {
                    vec![customer(
                        NOTIFIED_PAYMENT_REMINDER,
                        format!(
                            "Reminder {}: your order awaits payment.",
                            e.payload.reminder
                        ),
                    )]
                },
            );
            h = handle(
                h,
                &spoke,
                INVALID_PAYMENT_CONFIRMATION,
                |e: &Received<InvalidPayment>| {
                    vec![(
                        NOTIFIED_SECURITY_INVALID_PAYMENT,
                        "security",
                        format!(
                            "Invalid payment for order {}: {}.",
                            e.event.pid, e.payload.reason
                        ),
                    )]
                },
            );
            h = handle(h, &spoke, SHIPMENT_DELAYED, |_: &Received<Nothing>| {
                vec![customer(
                    NOTIFIED_SHIPMENT_DELAYED,
                    "Your shipment is delayed.",
                )]
            });
            h = handle(h, &spoke, SHIPMENT_IN_TRANSIT, |_: &Received<Nothing>| {
                vec![customer(
                    NOTIFIED_SHIPMENT_IN_TRANSIT,
                    "Your shipment is on its way.",
                )]
            });
            h = handle(h, &spoke, SHIPMENT_DELIVERED, |_: &Received<Nothing>| {
                vec![customer(
                    NOTIFIED_SHIPMENT_DELIVERED,
                    "Your order is delivered.",
                )]
            });
            h = handle(h, &spoke, SHIPMENT_FAILED, |_: &Received<Nothing>| {
                vec![customer(
                    NOTIFIED_SHIPMENT_FAILED,
                    "Your shipment failed; you will be repaid.",
                )]
            });
            h = handle(
                h,
                &spoke,
                PAYMENT_REPAID_TO_CUSTOMER,
                |e: &Received<Amount>| {
                    vec![customer(
                        NOTIFIED_REPAID_PAYMENT,
                        format!("{} cents are repaid to you.", e.payload.amount),
                    )]
                },
            );
            h = handle(
                h,
                &spoke,
                PAYMENT_REPAYMENT_FAILED,
                |e: &Received<Attempt>| {
                    vec![customer(
                        NOTIFIED_REPAYMENT_FAILED,
                        format!("Repayment attempt {} failed; we retry.", e.payload.attempt),
                    )]
                },
            );
            Ok(h)
        })
        .uses([SPOKE])
        .expose::<dyn Consumer>(|s| s);
}

/// Puts the process manager in the consumer map.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring.consumer(NOTIFY_CUSTOMER, &EVENTS)
}
