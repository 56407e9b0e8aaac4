//! Use case `pay_order`: `POST /orders/{id}/payments` (signed, the order's customer)
//! publishes `payment-received` and answers 202; the payment context decides whether
//! it is valid.

use http::StatusCode;
use serde_json::json;
use superhero_app::{Wiring, route_document};
use superhero_auth::authenticated;
use superhero_core::{Registry, Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{SPOKE, SpokeService};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::error::SagaError;
use crate::order::show_order::not_found;
use crate::payment::{PAYMENT_RECEIVED, PaymentReceived};
use crate::saga;

/// The service name of the HTTP adapter.
pub const PAY_ORDER: &str = "sale-order/payment/pay-order";

/// The dispatcher of `POST /orders/{id}/payments`.
pub struct PayOrderUsingHttp {
    spoke: Spoke,
}

impl Service for PayOrderUsingHttp {}

#[async_trait]
impl Dispatcher for PayOrderUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let user = authenticated(request)?.user_id.clone();
        let id = request.path_param("id").unwrap_or_default().to_owned();
        let payment: PaymentReceived = request.json().await?;
        let placed = saga::placed(self.spoke.store(), &id)
            .await
            .map_err(SagaError::into_http)?;
        if placed.is_none_or(|(_, p)| p.customer_id != user) {
            return Err(not_found(&id));
        }
        let event = PAYMENT_RECEIVED
            .event(&id, &payment)
            .map_err(|e| SagaError::from(e).into_http())?;
        self.spoke
            .publish(event)
            .await
            .map_err(|e| SagaError::from(e).into_http())?;
        view.set_status(StatusCode::ACCEPTED);
        view.set_body(json!({"id": id}));
        Ok(())
    }
}

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(PAY_ORDER, |ctx| async move {
            Ok(PayOrderUsingHttp {
                spoke: ctx.locate::<SpokeService>(SPOKE)?.spoke().clone(),
            })
        })
        .uses([SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(PAY_ORDER)
        .route(PAY_ORDER, route_document!("route.json"))
}
