//! Use case `show_order`: `GET /orders/{id}` (the state projected from the order's
//! composite event-log) and `GET /orders/{id}/eventlog` (that log). Signed; only the
//! order's customer sees it (anyone else gets 404, as for an unknown order).

use http::StatusCode;
use serde_json::json;
use superhero_app::{Wiring, route_document};
use superhero_auth::authenticated;
use superhero_core::{Registry, Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{SPOKE, SpokeService};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::error::SagaError;
use crate::saga;

/// The service name of the HTTP adapter (both routes).
pub const SHOW_ORDER: &str = "sale-order/order/show-order";

/// The dispatcher of `GET /orders/{id}` and `GET /orders/{id}/eventlog`.
pub struct ShowOrderUsingHttp {
    spoke: Spoke,
}

impl Service for ShowOrderUsingHttp {}

#[async_trait]
impl Dispatcher for ShowOrderUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let user = authenticated(request)?.user_id.clone();
        let id = request.path_param("id").unwrap_or_default().to_owned();
        let store = self.spoke.store();
        let placed = saga::placed(store, &id)
            .await
            .map_err(SagaError::into_http)?;
        let Some((_, placed)) = placed.filter(|(_, p)| p.customer_id == user) else {
            return Err(not_found(&id));
        };
        let events = saga::composite(store, &id)
            .await
            .map_err(SagaError::into_http)?;
        if request.path().ends_with("/eventlog") {
            view.set_body(json!({ "events": events }));
        } else {
            view.set_body(json!({
                "id": id,
                "customer_id": placed.customer_id,
                "items": placed.items,
                "area": placed.area,
                "total": placed.total,
                "status": saga::status(&events),
                "events": events.len(),
            }));
        }
        Ok(())
    }
}

/// 404 `E_SALE_ORDER_NOT_FOUND`.
pub fn not_found(id: &str) -> HttpError {
    HttpError::status(
        StatusCode::NOT_FOUND,
        "E_SALE_ORDER_NOT_FOUND",
        format!("No order {id} of yours"),
    )
}

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(SHOW_ORDER, |ctx| async move {
            Ok(ShowOrderUsingHttp {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke().clone(),
            })
        })
        .uses([SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(SHOW_ORDER)
        .route(SHOW_ORDER, route_document!("route.json"))
}
