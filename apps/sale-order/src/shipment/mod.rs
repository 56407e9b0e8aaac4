//! The `shipment` context: scheduling the shipment of a paid order ([`manage_shipment`])
//! and the carrier's status reports ([`report_status`]).

pub mod manage_shipment;
pub mod report_status;

use superhero_app::EventType;

use crate::order::Nothing;

/// The shipment domain.
pub const SHIPMENT: &str = "shipment";

/// The order is paid and handed to the carrier.
pub const SHIPMENT_SCHEDULED: EventType<Nothing> = EventType::new(SHIPMENT, "shipment-scheduled");
/// Carrier: delayed.
pub const SHIPMENT_DELAYED: EventType<Nothing> = EventType::new(SHIPMENT, "shipment-delayed");
/// Carrier: in transit.
pub const SHIPMENT_IN_TRANSIT: EventType<Nothing> = EventType::new(SHIPMENT, "shipment-in-transit");
/// Carrier: delivered (final).
pub const SHIPMENT_DELIVERED: EventType<Nothing> = EventType::new(SHIPMENT, "shipment-delivered");
/// Carrier: failed (final; the customer is repaid).
pub const SHIPMENT_FAILED: EventType<Nothing> = EventType::new(SHIPMENT, "shipment-failed");
