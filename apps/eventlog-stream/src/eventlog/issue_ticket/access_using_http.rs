//! The HTTP adapter of `POST /eventlog/tickets`.

use std::sync::Arc;

use http::StatusCode;
use serde_json::json;
use superhero_app::eventflow_http::http_error;
use superhero_auth::authenticated;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, View};

use crate::eventlog::tickets::Tickets;
use crate::settings::Settings;

/// The dispatcher of `POST /eventlog/tickets`.
pub struct IssueTicketUsingHttp {
    tickets: Arc<Tickets>,
    settings: Settings,
}

impl IssueTicketUsingHttp {
    /// An adapter issuing `tickets`.
    pub fn new(tickets: Arc<Tickets>, settings: Settings) -> Self {
        IssueTicketUsingHttp { tickets, settings }
    }
}

impl Service for IssueTicketUsingHttp {}

#[async_trait]
impl Dispatcher for IssueTicketUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let user_id = authenticated(request)?.user_id.clone();
        let ttl = self.settings.ticket_ttl();
        let ticket = self
            .tickets
            .issue(&user_id, ttl)
            .await
            .map_err(http_error)?;
        view.set_status(StatusCode::CREATED);
        view.set_body(json!({
            "ticket": ticket,
            "expires_in_ms": self.settings.ticket_ttl_ms,
            "user_id": user_id,
        }));
        Ok(())
    }
}
