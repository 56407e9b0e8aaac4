//! The HTTP adapter of `POST /users`.

use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use super::access::RegisterUser;

/// The body, validated by `route.json`.
#[derive(Deserialize)]
struct Registration {
    name: String,
    password: String,
}

/// The dispatcher of `POST /users`.
pub struct RegisterUsingHttp {
    service: Arc<dyn RegisterUser>,
}

impl RegisterUsingHttp {
    /// An adapter driving `service`.
    pub fn new(service: Arc<dyn RegisterUser>) -> Self {
        RegisterUsingHttp { service }
    }
}

impl Service for RegisterUsingHttp {}

#[async_trait]
impl Dispatcher for RegisterUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let body: Registration = request.json().await?;
        let user = self.service.register(&body.name, &body.password).await?;
        view.set_status(StatusCode::CREATED);
        view.set_json(&user)
    }
}
