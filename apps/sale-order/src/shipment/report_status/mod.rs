//! Use case `report_status`: `POST /shipments/{id}/status` {status}, the carrier's
//! callback, publishes `shipment-delayed`, `shipment-in-transit`, `shipment-delivered`
//! or `shipment-failed` for a scheduled shipment (409 before it is scheduled or after a
//! final status).
//!
//! The carrier signs with its configured key, keyid `carrier` (`auth.keys.carrier`,
//! `hmac-sha256` or `ed25519`); users named in `sale-order.carriers` may report too (the
//! demo lets anyone play the carrier).

use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use superhero_app::{EventType, Wiring, route_document};
use superhero_auth::{AUTH, AuthService, KEY_PREFIX, authenticated};
use superhero_core::{Registry, Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{SPOKE, SpokeService};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::error::SagaError;
use crate::order::Nothing;
use crate::order::show_order::not_found;
use crate::saga;
use crate::settings::Settings;
use crate::shipment::{
    SHIPMENT_DELAYED, SHIPMENT_DELIVERED, SHIPMENT_FAILED, SHIPMENT_IN_TRANSIT, SHIPMENT_SCHEDULED,
};

/// The keyid the carrier signs with (`auth.keys.carrier`).
pub const CARRIER_KEY: &str = "carrier";

/// The service name of the HTTP adapter.
pub const REPORT_STATUS: &str = "sale-order/shipment/report-status";

#[derive(Debug, Deserialize)]
struct Report {
    status: String,
}

/// The dispatcher of `POST /shipments/{id}/status`.
pub struct ReportStatusUsingHttp {
    spoke: Spoke,
    auth: Arc<AuthService>,
    settings: Settings,
}

impl Service for ReportStatusUsingHttp {}

#[async_trait]
impl Dispatcher for ReportStatusUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let user = authenticated(request)?.user_id.clone();
        let signed_with_carrier_key = user == format!("{KEY_PREFIX}{CARRIER_KEY}");
        let name = if signed_with_carrier_key {
            String::new()
        } else {
            self.auth.user_name(&user).await?.unwrap_or_default()
        };
        if !signed_with_carrier_key && !self.settings.is_carrier(&name) {
            return Err(HttpError::status(
                StatusCode::FORBIDDEN,
                "E_SALE_ORDER_NOT_CARRIER",
                "Only a carrier reports shipment status",
            ));
        }
        let id = request.path_param("id").unwrap_or_default().to_owned();
        let report: Report = request.json().await?;
        let contract: EventType<Nothing> = match report.status.as_str() {
            "delayed" => SHIPMENT_DELAYED,
            "in-transit" => SHIPMENT_IN_TRANSIT,
            "delivered" => SHIPMENT_DELIVERED,
            _ => SHIPMENT_FAILED,
        };
        let store = self.spoke.store();
        if saga::placed(store, &id)
            .await
            .map_err(SagaError::into_http)?
            .is_none()
        {
            return Err(not_found(&id));
        }
        // Check, then append only if the shipment log is still as read: of two reports
        // at once, each is decided on the log the other left.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let log = store
                .read_stream(crate::shipment::SHIPMENT, &id)
                .await
                .map_err(|e| SagaError::from(e).into_http())?;
            let scheduled = log.iter().any(|e| SHIPMENT_SCHEDULED.matches(e));
            let finished = log
                .iter()
                .any(|e| SHIPMENT_DELIVERED.matches(e) || SHIPMENT_FAILED.matches(e));
            if !scheduled || finished {
                return Err(HttpError::status(
                    StatusCode::CONFLICT,
                    "E_SALE_ORDER_SHIPMENT_STATE",
                    if finished {
                        "The shipment is already delivered or failed"
                    } else {
                        "The order's shipment is not scheduled"
                    },
                ));
            }
            let event = contract
                .event(&id, &Nothing {})
                .map_err(|e| SagaError::from(e).into_http())?;
            let version = log.last().map_or(0, |e| e.version);
            match saga::publish_at(&self.spoke, event, version).await {
                Ok(()) => break,
                Err(SagaError::Store(superhero_eventflow::Error::Conflict { .. }))
                    if attempts < 5 => {}
                Err(error) => return Err(error.into_http()),
            }
        }
        view.set_status(StatusCode::ACCEPTED);
        view.set_body(json!({"id": id, "status": report.status}));
        Ok(())
    }
}

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(REPORT_STATUS, |ctx| async move {
            Ok(ReportStatusUsingHttp {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke().clone(),
                auth: ctx.locate::<AuthService>(AUTH)?,
                settings: Settings::from_context(&ctx)?,
            })
        })
        .uses([SPOKE, AUTH])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(REPORT_STATUS)
        .route(REPORT_STATUS, route_document!("route.json"))
}
