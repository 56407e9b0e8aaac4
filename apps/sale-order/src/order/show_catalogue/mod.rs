//! Use case `show_catalogue`: `GET /catalogue`, the products with their price and the
//! units orders may still reserve, and the areas served.

use std::sync::Arc;

use serde_json::json;
use superhero_app::{Wiring, route_document};
use superhero_core::{Registry, Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::error::SagaError;
use crate::order::stock::{STOCK, Stock};
use crate::settings::Settings;

/// The service name of the HTTP adapter.
pub const SHOW_CATALOGUE: &str = "sale-order/order/show-catalogue";

/// The dispatcher of `GET /catalogue`.
pub struct ShowCatalogueUsingHttp {
    stock: Arc<Stock>,
    settings: Settings,
}

impl Service for ShowCatalogueUsingHttp {}

#[async_trait]
impl Dispatcher for ShowCatalogueUsingHttp {
    async fn dispatch(&self, _request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let mut products = Vec::new();
        for (sku, product) in &self.settings.catalogue {
            let available = self
                .stock
                .available(sku)
                .await
                .map_err(|e| SagaError::from(e).into_http())?;
            products.push(json!({"sku": sku, "price": product.price, "available": available}));
        }
        view.set_body(json!({"products": products, "areas": self.settings.areas}));
        Ok(())
    }
}

/// Registers the HTTP adapter.
pub fn register(registry: &mut Registry) {
    registry
        .register(SHOW_CATALOGUE, |ctx| async move {
            Ok(ShowCatalogueUsingHttp {
                stock: ctx.locate::<Stock>(STOCK)?,
                settings: Settings::from_context(&ctx)?,
            })
        })
        .uses([STOCK])
        .expose::<dyn Dispatcher>(|s| s);
}

/// Wires the dispatcher and its OpenAPI document.
pub fn wire(wiring: Wiring) -> Wiring {
    wiring
        .dispatcher(SHOW_CATALOGUE)
        .route(SHOW_CATALOGUE, route_document!("route.json"))
}
