//! The `payment` context: requesting payment with reminders, verifying payments, and
//! repaying the customer when the shipment failed (retried with backoff until the
//! gateway accepts). Its process manager is [`manage_payment`]; customers pay through
//! [`pay_order`]. Windows and retries are scheduled events in `payment-timer`.

pub mod manage_payment;
pub mod pay_order;

use serde::{Deserialize, Serialize};
use superhero_app::EventType;

/// The payment domain.
pub const PAYMENT: &str = "payment";
/// The payment context's timers.
pub const PAYMENT_TIMER: &str = "payment-timer";

/// `payment-requested`: what to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequested {
    /// Cents.
    pub amount: u64,
    /// The reference a payment must carry (the order id).
    pub reference: String,
}

/// `payment-request-reminded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminded {
    /// 1 for the first reminder.
    pub reminder: u32,
}

/// `payment-received`: a payment as the customer made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReceived {
    /// Cents.
    pub amount: u64,
    /// The reference given.
    pub reference: String,
}

/// `payment-confirmed`, `payment-repaid-to-customer`: an amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// Cents.
    pub amount: u64,
}

/// `invalid-payment-confirmation`: why the payment was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidPayment {
    /// `wrong-amount`, `wrong-reference`, `already-paid` or `order-closed`.
    pub reason: String,
}

/// A repayment attempt (`payment-repayment-failed`, and the `repayment-due` timer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// A payment window (the `payment-window-elapsed` timer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// 1 for the first window.
    pub window: u32,
}

/// Payment is requested.
pub const PAYMENT_REQUESTED: EventType<PaymentRequested> =
    EventType::new(PAYMENT, "payment-requested");
/// A window passed unpaid.
pub const PAYMENT_REQUEST_REMINDED: EventType<Reminded> =
    EventType::new(PAYMENT, "payment-request-reminded");
/// The customer paid (published by `POST /orders/{id}/payments`).
pub const PAYMENT_RECEIVED: EventType<PaymentReceived> =
    EventType::new(PAYMENT, "payment-received");
/// The payment is valid.
pub const PAYMENT_CONFIRMED: EventType<Amount> = EventType::new(PAYMENT, "payment-confirmed");
/// The payment is not valid.
pub const INVALID_PAYMENT_CONFIRMATION: EventType<InvalidPayment> =
    EventType::new(PAYMENT, "invalid-payment-confirmation");
/// The customer got the money back.
pub const PAYMENT_REPAID_TO_CUSTOMER: EventType<Amount> =
    EventType::new(PAYMENT, "payment-repaid-to-customer");
/// A repayment attempt failed; another is scheduled.
pub const PAYMENT_REPAYMENT_FAILED: EventType<Attempt> =
    EventType::new(PAYMENT, "payment-repayment-failed");
/// Timer: a payment window passed.
pub const PAYMENT_WINDOW_ELAPSED: EventType<Window> =
    EventType::new(PAYMENT_TIMER, "payment-window-elapsed");
/// Timer: a repayment retry is due.
pub const REPAYMENT_DUE: EventType<Attempt> = EventType::new(PAYMENT_TIMER, "repayment-due");
