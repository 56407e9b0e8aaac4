//! Use case `place_order`: `POST /orders` (signed) publishes `order-placed` for the
//! session's user and answers 202 with the order id; the saga runs from there.

use http::header::LOCATION;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::json;
use superhero_app::{Wiring, route_document};
use superhero_auth::authenticated;
use superhero_core::{Registry, Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{SPOKE, SpokeService};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::error::SagaError;
use crate::order::{Item, ORDER_PLACED, OrderPlaced};
use crate::settings::Settings;

/// The service name of the HTTP adapter: the `x-dispatcher` of `route.json`.
pub const PLACE_ORDER: &str = "sale-order/order/place-order";

#[derive(Debug, Deserialize)]
struct NewOrder {
    items: Vec<Item>,
    area: String,
}

/// The dispatcher of `POST /orders`.
pub struct PlaceOrderUsingHttp {
    spoke: Spoke,
    settings: Settings,
}

impl Service for PlaceOrderUsingHttp {}

#[async_trait]
impl Dispatcher for PlaceOrderUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let customer_id = authenticated(request)?.user_id.clone();
        let order: NewOrder = request.json().await?;
        let (total, _) = self.settings.total(&order.items);
        let id = uuid::Uuid::now_v7().to_string();
        let placed = OrderPlaced {
            customer_id,
            items: order.items,
            area: order.area,
            total,
        };
        let event = ORDER_PLACED
            .event(&id, &placed)
            .map_err(|e| SagaError::from(e).into_http())?;
        self.spoke
            .publish(event)
            .await
            .map_err(|e| SagaError::from(e).into_http())?;
        view.set_status(StatusCode::ACCEPTED);
        if let Ok(location) = HeaderValue::try_from(format!("/orders/{id}")) {
            view.headers_mut().insert(LOCATION, location);
        }
        view.set_body(json!({"id": id, "total": total}));
        Ok(())
    }
}

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(PLACE_ORDER, |ctx| async move {
            Ok(PlaceOrderUsingHttp {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke().clone(),
                settings: Settings::from_context(&ctx)?,
            })
        })
        .uses([SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(PLACE_ORDER)
        .route(PLACE_ORDER, route_document!("route.json"))
}
