//! Use case `manage_payment`: the payment context's process manager.
//!
//! | consumes | publishes |
//! | --- | --- |
//! | `order` › `confirmed-sales-area` | `payment-requested`, and the first payment window (scheduled) |
//! | `payment-timer` › `payment-window-elapsed` | unpaid: `payment-request-reminded` and the next window, up to `reminders` (the order's deadline cancels after the last) |
//! | `payment-received` | `payment-confirmed` (the amount and reference asked for, not paid yet, order open) or `invalid-payment-confirmation` |
//! | `notification` › `notified-customer-of-shipment-failed` | a repayment attempt: `payment-repaid-to-customer`, or `payment-repayment-failed` and a retry (scheduled, backoff doubling) |
//! | `payment-timer` › `repayment-due` | the next attempt, likewise |
//!
//! The repayment starts from the customer's notification of the failed shipment rather
//! than from `shipment-failed` itself: eventflow hands each event name of a domain to
//! one consumer, and the notification context consumes `shipment-failed`. The repayment
//! gateway is simulated (`repayment_failures`).

use std::sync::Arc;

use superhero_app::{EventKey, Handlers, Received, Wiring};
use superhero_core::Registry;
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{Consumer, SPOKE, SpokeService};

use crate::error::{Result, SagaError};
use crate::notification::{NOTIFIED_SHIPMENT_FAILED, Notified};
use crate::order::manage_order::later;
use crate::order::stock::{PAID, STOCK, Stock};
use crate::order::{CONFIRMED_SALES_AREA, Nothing, ORDER_CANCELED};
use crate::payment::{
    Amount, Attempt, INVALID_PAYMENT_CONFIRMATION, InvalidPayment, PAYMENT_CONFIRMED,
    PAYMENT_RECEIVED, PAYMENT_REPAID_TO_CUSTOMER, PAYMENT_REPAYMENT_FAILED,
    PAYMENT_REQUEST_REMINDED, PAYMENT_REQUESTED, PAYMENT_WINDOW_ELAPSED, PaymentReceived,
    PaymentRequested, REPAYMENT_DUE, Reminded, Window,
};
use crate::saga;
use crate::settings::Settings;

/// The service name of the process manager.
pub const MANAGE_PAYMENT: &str = "sale-order/payment/manage-payment";

/// The events it consumes.
pub const EVENTS: [EventKey; 5] = [
    CONFIRMED_SALES_AREA.key(),
    PAYMENT_WINDOW_ELAPSED.key(),
    PAYMENT_RECEIVED.key(),
    NOTIFIED_SHIPMENT_FAILED.key(),
    REPAYMENT_DUE.key(),
];

/// The payment context's decisions.
pub struct ManagePayment {
    spoke: Spoke,
    stock: Arc<Stock>,
    settings: Settings,
}

impl ManagePayment {
    /// Requests payment of a confirmed order and opens its first window.
    pub async fn request(&self, confirmed: Received<Nothing>) -> Result<()> {
        let order_id = confirmed.event.pid.clone();
        let Some((_, placed)) = saga::placed(self.spoke.store(), &order_id).await? else {
            return Ok(());
        };
        // The request is logged before its window is scheduled (see `repay`).
        let requested = PaymentRequested {
            amount: placed.total,
            reference: order_id,
        };
        self.spoke
            .publish(confirmed.reply(PAYMENT_REQUESTED, &requested)?)
            .await?;
        let window = confirmed.reply(PAYMENT_WINDOW_ELAPSED, &Window { window: 1 })?;
        self.spoke
            .schedule(later(self.settings.payment_window()), window)
            .await?;
        Ok(())
    }

    /// Reminds the customer of an unpaid order, and opens the next window. While a
    /// received payment is being verified, nobody is reminded: the window is opened
    /// again instead.
    pub async fn window_elapsed(&self, elapsed: Received<Window>) -> Result<()> {
        let order_id = elapsed.event.pid.clone();
        let store = self.spoke.store();
        let window = elapsed.payload.window;
        let payments = saga::payments(store, &order_id).await?;
        if window > self.settings.reminders
            || payments.confirmed
            || saga::happened(store, &order_id, ORDER_CANCELED).await?
        {
            return Ok(());
        }
        if payments.verifying {
            let again = elapsed.reply(PAYMENT_WINDOW_ELAPSED, &Window { window })?;
            self.spoke
                .schedule(later(self.settings.payment_window()), again)
                .await?;
            return Ok(());
        }
        if window < self.settings.reminders {
            let next = elapsed.reply(PAYMENT_WINDOW_ELAPSED, &Window { window: window + 1 })?;
            self.spoke
                .schedule(later(self.settings.payment_window()), next)
                .await?;
        }
        // Only on the log as read: a payment confirmed meanwhile means no reminder.
        let reminded = elapsed.reply(PAYMENT_REQUEST_REMINDED, &Reminded { reminder: window })?;
        saga::publish_at(&self.spoke, reminded, payments.version).await
    }

    /// Verifies a payment. The verdict is appended only if the payment log did not
    /// change since it was read: of two payments verified at once, one is confirmed and
    /// the other, decided again, is refused as already paid.
    pub async fn received(&self, received: Received<PaymentReceived>) -> Result<()> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.verify(&received).await {
                Err(SagaError::Store(superhero_eventflow::Error::Conflict { .. }))
                    if attempts < 10 => {}
                outcome => return outcome,
            }
        }
    }

    /// One decision on the payment log as it is now.
    async fn verify(&self, received: &Received<PaymentReceived>) -> Result<()> {
        let order_id = received.event.pid.clone();
        let store = self.spoke.store();
        let refuse = |reason: &str| {
            received.reply(
                INVALID_PAYMENT_CONFIRMATION,
                &InvalidPayment {
                    reason: reason.to_owned(),
                },
            )
        };
        let payments = saga::payments(store, &order_id).await?;
        let reply = match saga::placed(store, &order_id).await? {
            None => refuse("order-closed")?,
            Some(_) if saga::happened(store, &order_id, ORDER_CANCELED).await? => {
                refuse("order-closed")?
            }
            Some(_) if payments.confirmed => refuse("already-paid")?,
            Some(_) if received.payload.reference != order_id => refuse("wrong-reference")?,
            Some((_, placed)) if received.payload.amount != placed.total => refuse("wrong-amount")?,
            // Valid: confirmed only if the order's payment phase closes as paid by this
            // payment (the deadline may have closed it as canceled meanwhile).
            Some((_, placed)) => {
                let paid = self
                    .stock
                    .close(&order_id, PAID, &received.event.id.to_string())
                    .await?;
                if paid {
                    received.reply(
                        PAYMENT_CONFIRMED,
                        &Amount {
                            amount: placed.total,
                        },
                    )?
                } else if saga::happened(store, &order_id, PAYMENT_CONFIRMED).await? {
                    refuse("already-paid")?
                } else {
                    refuse("order-closed")?
                }
            }
        };
        saga::publish_at(&self.spoke, reply, payments.version).await
    }

    /// The first repayment attempt, once the customer knows the shipment failed.
    pub async fn shipment_failed(&self, notified: Received<Notified>) -> Result<()> {
        self.repay(&notified, 1).await
    }

    /// A retried repayment attempt.
    pub async fn repayment_due(&self, due: Received<Attempt>) -> Result<()> {
        let attempt = due.payload.attempt;
        self.repay(&due, attempt).await
    }

    /// Repayment attempt `attempt`, caused by `cause`.
    async fn repay<P: Sync>(&self, cause: &Received<P>, attempt: u32) -> Result<()> {
        let order_id = cause.event.pid.as_str();
        let store = self.spoke.store();
        if saga::happened(store, order_id, PAYMENT_REPAID_TO_CUSTOMER).await? {
            return Ok(());
        }
        let Some((_, placed)) = saga::placed(store, order_id).await? else {
            return Ok(());
        };
        // The simulated gateway: the first `repayment_failures` attempts fail.
        if attempt > self.settings.repayment_failures {
            let repaid = Amount {
                amount: placed.total,
            };
            self.spoke
                .publish(cause.reply(PAYMENT_REPAID_TO_CUSTOMER, &repaid)?)
                .await?;
            return Ok(());
        }
        // The failure is logged before its retry is scheduled: a handler that dies
        // between the two is delivered again and repeats both (the same ids), whereas a
        // retry scheduled first could come due before that redelivery and repay an order
        // whose failed attempt is then never logged (found by the soak).
        self.spoke
            .publish(cause.reply(PAYMENT_REPAYMENT_FAILED, &Attempt { attempt })?)
            .await?;
        let next = Attempt {
            attempt: attempt + 1,
        };
        self.spoke
            .schedule(
                later(self.settings.repayment_backoff(attempt + 1)),
                cause.reply(REPAYMENT_DUE, &next)?,
            )
            .await?;
        Ok(())
    }
}

/// Registers the process manager.
pub fn register(registry: &mut Registry) {
    registry
        .register(MANAGE_PAYMENT, |ctx| async move {
            let manager = Arc::new(ManagePayment {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke().clone(),
                stock: ctx.locate::<Stock>(STOCK)?,
                settings: Settings::from_context(&ctx)?,
            });
            let m = [0; 5].map(|_| manager.clone());
            let [a, b, c, d, e] = m;
            Ok(Handlers::new(MANAGE_PAYMENT)
                .on(CONFIRMED_SALES_AREA, move |ev| {
                    let m = a.clone();
                    async move { Ok(m.request(ev).await?) }
                })
                .on(PAYMENT_WINDOW_ELAPSED, move |ev| {
                    let m = b.clone();
                    async move { Ok(m.window_elapsed(ev).await?) }
                })
                .on(PAYMENT_RECEIVED, move |ev| {
                    let m = c.clone();
                    async move { Ok(m.received(ev).await?) }
                })
                .on(NOTIFIED_SHIPMENT_FAILED, move |ev| {
                    let m = d.clone();
                    async move { Ok(m.shipment_failed(ev).await?) }
                })
                .on(REPAYMENT_DUE, move |ev| {
                    let m = e.clone();
                    async move { Ok(m.repayment_due(ev).await?) }
                }))
        })
        .uses([SPOKE, STOCK])
        .expose::<dyn Consumer>(|s| s);
}

/// Puts the process manager in the consumer map.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring.consumer(MANAGE_PAYMENT, &EVENTS)
}
