//! The HTTP adapter of `POST /sessions`.

use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use super::access::StartSession;

/// The body, validated by `route.json`.
#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
    #[serde(default)]
    public_key: Option<String>,
}

/// The dispatcher of `POST /sessions`.
pub struct StartUsingHttp {
    service: Arc<dyn StartSession>,
}

impl StartUsingHttp {
    /// An adapter driving `service`.
    pub fn new(service: Arc<dyn StartSession>) -> Self {
        StartUsingHttp { service }
    }
}

impl Service for StartUsingHttp {}

#[async_trait]
impl Dispatcher for StartUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let body: Credentials = request.json().await?;
        let session = self
            .service
            .start(&body.name, &body.password, body.public_key.as_deref())
            .await?;
        view.set_status(StatusCode::CREATED);
        view.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        view.set_json(&session)
    }
}
