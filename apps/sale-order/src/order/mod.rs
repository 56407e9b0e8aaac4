//! The `order` context: placing an order, reserving its stock, confirming the sales
//! area, and canceling (which releases the stock). Its process manager
//! ([`manage_order`]) consumes its own `order-placed` and
//! `confirmed-product-availability`, and its timer, the payment deadline.

pub mod manage_order;
pub mod place_order;
pub mod show_catalogue;
pub mod show_order;
pub mod stock;

use serde::{Deserialize, Serialize};
use superhero_app::EventType;

/// The order domain.
pub const ORDER: &str = "order";
/// The order context's timers (scheduled events, outside the saga's four logs).
pub const ORDER_TIMER: &str = "order-timer";

/// An order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The product.
    pub sku: String,
    /// Units, 1 to 1,000.
    pub quantity: u64,
}

/// `order-placed`: what the customer asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    /// The customer's user id.
    pub customer_id: String,
    /// The lines.
    pub items: Vec<Item>,
    /// The delivery area.
    pub area: String,
    /// The price in cents (unknown SKUs count 0; such an order is canceled).
    pub total: u64,
}

/// An event that carries nothing beyond its name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nothing {}

/// `order-canceled`: why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCanceled {
    /// `product-unavailable`, `sales-area-unavailable` or `payment-missing`.
    pub reason: String,
}

/// Reason: a product is out of stock or unknown.
pub const PRODUCT_UNAVAILABLE: &str = "product-unavailable";
/// Reason: the delivery area is not served.
pub const SALES_AREA_UNAVAILABLE: &str = "sales-area-unavailable";
/// Reason: no valid payment before the deadline.
pub const PAYMENT_MISSING: &str = "payment-missing";

/// The customer placed an order.
pub const ORDER_PLACED: EventType<OrderPlaced> = EventType::new(ORDER, "order-placed");
/// The stock is reserved.
pub const CONFIRMED_PRODUCT_AVAILABILITY: EventType<Nothing> =
    EventType::new(ORDER, "confirmed-product-availability");
/// The delivery area is served.
pub const CONFIRMED_SALES_AREA: EventType<Nothing> = EventType::new(ORDER, "confirmed-sales-area");
/// The order is canceled; its stock is released.
pub const ORDER_CANCELED: EventType<OrderCanceled> = EventType::new(ORDER, "order-canceled");
/// Timer: the payment deadline passed (scheduled when the sales area is confirmed).
pub const PAYMENT_DEADLINE: EventType<Nothing> = EventType::new(ORDER_TIMER, "payment-deadline");
