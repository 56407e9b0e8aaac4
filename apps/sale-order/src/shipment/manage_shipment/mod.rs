//! Use case `manage_shipment`: the shipment context's process manager — a paid order is
//! handed to the carrier (`payment` › `payment-confirmed` → `shipment-scheduled`).

use std::sync::Arc;

use superhero_app::{EventKey, Handlers, Wiring};
use superhero_core::Registry;
use superhero_eventflow::service::{Consumer, SPOKE, SpokeService};

use crate::order::Nothing;
use crate::payment::PAYMENT_CONFIRMED;
use crate::shipment::SHIPMENT_SCHEDULED;

/// The service name of the process manager.
pub const MANAGE_SHIPMENT: &str = "sale-order/shipment/manage-shipment";

/// The events it consumes.
pub const EVENTS: [EventKey; 1] = [PAYMENT_CONFIRMED.key()];

/// Registers the process manager.
pub fn register(registry: &mut Registry) {
    registry
        .register(MANAGE_SHIPMENT, |ctx| async move {
            let spoke = Arc::new(ctx.locate::<SpokeService>(SPOKE)?.spoke().clone());
            Ok(
                Handlers::new(MANAGE_SHIPMENT).on(PAYMENT_CONFIRMED, move |paid| {
                    let spoke = spoke.clone();
                    async move {
                        spoke
                            .publish(paid.reply(SHIPMENT_SCHEDULED, &Nothing {})?)
                            .await?;
                        Ok(())
                    }
                }),
            )
        })
        .uses([SPOKE])
        .expose::<dyn Consumer>(|s| s);
}

/// Puts the process manager in the consumer map.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring.consumer(MANAGE_SHIPMENT, &EVENTS)
}
