//! The `notification` context: every phase keeps the customer informed, and an invalid
//! payment alerts security. One process manager ([`notify_customer`]) turns each saga
//! event into its notification (or two, for a cancellation with a reason).

pub mod notify_customer;

use serde::{Deserialize, Serialize};
use superhero_app::EventType;

/// The notification domain.
pub const NOTIFICATION: &str = "notification";

/// A notification: to whom, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notified {
    /// `customer` or `security`.
    pub to: String,
    /// The message.
    pub message: String,
}

macro_rules! notifications {
    ($($(#[$doc:meta])* $constant:ident = $name:literal;)*) => {
        $($(#[$doc])* pub const $constant: EventType<Notified> = EventType::new(NOTIFICATION, $name);)*
    };
}

notifications! {
    /// The customer learns a product is unavailable.
    NOTIFIED_PRODUCT_UNAVAILABLE = "notified-customer-of-product-unavailable";
    /// The customer learns the area is not served.
    NOTIFIED_SALES_AREA_UNAVAILABLE = "notified-customer-of-sales-area-unavailable";
    /// The customer learns the order is canceled.
    NOTIFIED_ORDER_CANCELED = "notified-customer-of-order-canceled";
    /// The customer is asked to pay.
    NOTIFIED_PAYMENT_REQUESTED = "notified-customer-of-payment-requested";
    /// The customer is reminded to pay.
    NOTIFIED_PAYMENT_REMINDER = "notified-customer-of-payment-reminder";
    /// The customer learns of a delay.
    NOTIFIED_SHIPMENT_DELAYED = "notified-customer-of-shipment-delayed";
    /// The customer learns the shipment is on its way.
    NOTIFIED_SHIPMENT_IN_TRANSIT = "notified-customer-of-shipment-in-transit";
    /// The customer learns of the delivery.
    NOTIFIED_SHIPMENT_DELIVERED = "notified-customer-of-shipment-delivered";
    /// The customer learns the shipment failed.
    NOTIFIED_SHIPMENT_FAILED = "notified-customer-of-shipment-failed";
    /// The customer learns the money is back.
    NOTIFIED_REPAID_PAYMENT = "notified-customer-of-repaid-payment";
    /// The customer learns a repayment failed and will be retried.
    NOTIFIED_REPAYMENT_FAILED = "notified-customer-of-repayment-failed";
    /// Security learns of an invalid payment.
    NOTIFIED_SECURITY_INVALID_PAYMENT = "notified-security-of-invalid-payment-confirmation";
}
