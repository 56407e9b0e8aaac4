//! # sale-order — use case 3
//!
//! The sale-order saga of `../shared/spec/sale-order.md`: four bounded contexts, each a
//! process manager that consumes the others' events and publishes its own — no central
//! orchestrator. Every context's events of one order share the order id as pid, so an
//! order's composite log is the union of four streams. Timers (payment windows, the
//! payment deadline, repayment retries) are scheduled events in `order-timer` and
//! `payment-timer`, never sleeping tasks; stock is reserved in the store's database.
//!
//! | route | use case |
//! | --- | --- |
//! | `POST /orders` {items, area} (signed) → 202 {id} | [`order::place_order`] |
//! | `GET /catalogue` → products, prices, units available, areas | [`order::show_catalogue`] |
//! | `GET /orders/{id}`, `GET /orders/{id}/eventlog` (signed, the customer) | [`order::show_order`] |
//! | `POST /orders/{id}/payments` {amount, reference} (signed, the customer) → 202 | [`payment::pay_order`] |
//! | `POST /shipments/{id}/status` {status} (signed, a carrier) → 202 | [`shipment::report_status`] |
//!
//! | process manager | consumes |
//! | --- | --- |
//! | [`order::manage_order`] | `order-placed`, `confirmed-product-availability`, the payment deadline |
//! | [`payment::manage_payment`] | `confirmed-sales-area`, `payment-received`, windows, `notified-customer-of-shipment-failed`, repayment retries |
//! | [`shipment::manage_shipment`] | `payment-confirmed` |
//! | [`notification::notify_customer`] | the events a customer (or security) hears of |
//!
//! Each handler's events are replies to the event it handles (their ids derive from
//! it), so a redelivered event publishes nothing twice. Settings: [`settings`].
#![warn(missing_docs)]

pub mod error;
pub mod notification;
pub mod order;
pub mod payment;
pub mod reference;
pub mod saga;
pub mod settings;
pub mod shipment;

use superhero_app::{App, Link, Panel, Wiring};
use superhero_auth::SIGNED_SESSION;
use superhero_core::Registry;

/// The app's name, as `superhero run sale-order` knows it.
pub const NAME: &str = "sale-order";

/// The app descriptor the `superhero` binary mounts.
pub const APP: App = App {
    name: NAME,
    summary: "POST /orders, /orders/{id}/payments, /shipments/{id}/status (signed); GET /orders/{id}[/eventlog]: the sale-order saga",
    links: &[Link {
        label: "orders",
        path: "/openapi.json",
    }],
    register,
    wiring,
    panel: Some(Panel {
        title: "Sale orders",
        html: include_str!("panel.html"),
    }),
    rebuild: None,
};

fn register(registry: &mut Registry) {
    superhero_auth::service::register(registry);
    order::stock::register(registry);
    order::place_order::register(registry);
    order::show_catalogue::register(registry);
    order::show_order::register(registry);
    order::manage_order::register(registry);
    payment::pay_order::register(registry);
    payment::manage_payment::register(registry);
    shipment::report_status::register(registry);
    shipment::manage_shipment::register(registry);
    notification::notify_customer::register(registry);
}

fn wiring() -> Wiring {
    let mut wiring = Wiring::new().middleware(SIGNED_SESSION);
    for wire in [
        order::place_order::wire,
        order::show_catalogue::wire,
        order::show_order::wire,
        order::manage_order::wire,
        payment::pay_order::wire,
        payment::manage_payment::wire,
        shipment::report_status::wire,
        shipment::manage_shipment::wire,
        notification::notify_customer::wire,
    ] {
        wiring = wire(wiring);
    }
    wiring
}
