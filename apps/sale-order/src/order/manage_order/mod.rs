//! Use case `manage_order`: the order context's process manager.
//!
//! | consumes | decides | publishes |
//! | --- | --- | --- |
//! | `order-placed` | reserve the stock | `confirmed-product-availability`, or `order-canceled` (product-unavailable) |
//! | `confirmed-product-availability` | is the area served? | `confirmed-sales-area` and the payment deadline (scheduled), or `order-canceled` (sales-area-unavailable, stock released) |
//! | `order-timer` › `payment-deadline` | paid, or still being reminded? | nothing, a later check, or `order-canceled` (payment-missing, stock released) once the window after the last reminder passed |
//!
//! Every event it publishes is a reply to the event it handles (`rid`, and an id derived
//! from both), so a redelivered event publishes nothing twice.

use std::sync::Arc;

use superhero_app::{EventKey, Handlers, Received, Wiring};
use superhero_core::Registry;
use superhero_eventflow::service::{Consumer, SPOKE, SpokeService};
use superhero_eventflow::{Spoke, Timestamp};

use crate::error::Result;
use crate::order::stock::{CANCELED, STOCK, Stock};
use crate::order::{
    CONFIRMED_PRODUCT_AVAILABILITY, CONFIRMED_SALES_AREA, Nothing, ORDER_CANCELED, ORDER_PLACED,
    OrderCanceled, OrderPlaced, PAYMENT_DEADLINE, PAYMENT_MISSING, PRODUCT_UNAVAILABLE,
    SALES_AREA_UNAVAILABLE,
};
use crate::saga;
use crate::settings::Settings;

/// The service name of the process manager.
pub const MANAGE_ORDER: &str = "sale-order/order/manage-order";

/// The events it consumes.
pub const EVENTS: [EventKey; 3] = [
    ORDER_PLACED.key(),
    CONFIRMED_PRODUCT_AVAILABILITY.key(),
    PAYMENT_DEADLINE.key(),
];

/// The order context's decisions.
pub struct ManageOrder {
    spoke: Spoke,
    stock: Arc<Stock>,
    settings: Settings,
}

impl ManageOrder {
    /// Reserves the stock of a placed order.
    pub async fn placed(&self, placed: Received<OrderPlaced>) -> Result<()> {
        let order_id = placed.event.pid.clone();
        let reply = if self.stock.reserve(&order_id, &placed.payload.items).await? {
            placed.reply(CONFIRMED_PRODUCT_AVAILABILITY, &Nothing {})?
        } else {
            placed.reply(ORDER_CANCELED, &canceled(PRODUCT_UNAVAILABLE))?
        };
        self.spoke.publish(reply).await?;
        Ok(())
    }

    /// Checks the delivery area of an order whose stock is reserved.
    pub async fn available(&self, available: Received<Nothing>) -> Result<()> {
        let order_id = available.event.pid.clone();
        let Some((_, placed)) = saga::placed(self.spoke.store(), &order_id).await? else {
            return Ok(());
        };
        if self.settings.areas.contains(&placed.area) {
            let due = later(self.settings.payment_deadline());
            let deadline = available.reply(PAYMENT_DEADLINE, &Nothing {})?;
            self.spoke.schedule(due, deadline).await?;
            self.spoke
                .publish(available.reply(CONFIRMED_SALES_AREA, &Nothing {})?)
                .await?;
        } else {
            self.stock.release(&order_id).await?;
            self.spoke
                .publish(available.reply(ORDER_CANCELED, &canceled(SALES_AREA_UNAVAILABLE))?)
                .await?;
        }
        Ok(())
    }

    /// Cancels an order still unpaid once the window after its last reminder passed.
    /// The deadline is a check, not a verdict: while reminders are still to come (they
    /// can be late when consumers are busy or were killed) or a received payment is
    /// being verified, it is checked again later.
    pub async fn deadline(&self, deadline: Received<Nothing>) -> Result<()> {
        let order_id = deadline.event.pid.clone();
        let store = self.spoke.store();
        let payments = saga::payments(store, &order_id).await?;
        if payments.confirmed || saga::happened(store, &order_id, ORDER_CANCELED).await? {
            return Ok(());
        }
        let window = i64::try_from(self.settings.payment_window().as_millis()).unwrap_or(i64::MAX);
        let now = Timestamp::now().as_millis();
        let due = match payments.last_reminder {
            _ if payments.verifying || payments.reminders < self.settings.reminders => {
                Some(now.saturating_add(window))
            }
            Some(last) if now < last.saturating_add(window) => Some(last.saturating_add(window)),
            _ => None,
        };
        if let Some(due) = due {
            let again = deadline.reply(PAYMENT_DEADLINE, &Nothing {})?;
            self.spoke
                .schedule(Timestamp::from_millis(due), again)
                .await?;
            return Ok(());
        }
        // Canceled only if the payment phase closes as canceled by this deadline: a
        // payment verified in the meantime closed it as paid.
        if !self
            .stock
            .close(&order_id, CANCELED, &deadline.event.id.to_string())
            .await?
        {
            return Ok(());
        }
        self.stock.release(&order_id).await?;
        self.spoke
            .publish(deadline.reply(ORDER_CANCELED, &canceled(PAYMENT_MISSING))?)
            .await?;
        Ok(())
    }
}

fn canceled(reason: &str) -> OrderCanceled {
    OrderCanceled {
        reason: reason.to_owned(),
    }
}

/// Now plus `wait`.
pub(crate) fn later(wait: std::time::Duration) -> Timestamp {
    let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(Timestamp::now().as_millis().saturating_add(wait))
}

/// Registers the process manager.
pub fn register(registry: &mut Registry) {
    registry
        .register(MANAGE_ORDER, |ctx| async move {
            let manager = Arc::new(ManageOrder {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke().clone(),
                stock: ctx.locate::<Stock>(STOCK)?,
                settings: Settings::from_context(&ctx)?,
            });
            let (a, b, c) = (manager.clone(), manager.clone(), manager);
            Ok(Handlers::new(MANAGE_ORDER)
                .on(ORDER_PLACED, move |e| {
                    let m = a.clone();
                    async move { Ok(m.placed(e).await?) }
                })
                .on(CONFIRMED_PRODUCT_AVAILABILITY, move |e| {
                    let m = b.clone();
                    async move { Ok(m.available(e).await?) }
                })
                .on(PAYMENT_DEADLINE, move |e| {
                    let m = c.clone();
                    async move { Ok(m.deadline(e).await?) }
                }))
        })
        .uses([SPOKE, STOCK])
        .expose::<dyn Consumer>(|s| s);
}

/// Puts the process manager in the consumer map.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring.consumer(MANAGE_ORDER, &EVENTS)
}
