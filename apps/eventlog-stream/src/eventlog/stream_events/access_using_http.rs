//! The HTTP adapter of `GET /eventlog/{domain}/stream` and
//! `GET /eventlog/{domain}/{pid}/stream`.

use std::sync::Arc;
use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{HeaderValue, StatusCode};
use superhero_app::eventflow_http::http_error;
use superhero_core::{Service, async_trait};
use superhero_http::{Dispatcher, HttpError, Request, SseOptions, View};
use tokio::sync::Semaphore;

use super::stream::{self, Filter};
use crate::eventlog::feeds::Feeds;
use crate::eventlog::tickets::Tickets;
use crate::settings::Settings;

/// The dispatcher of both stream routes.
pub struct StreamEventsUsingHttp {
    feeds: Arc<Feeds>,
    tickets: Arc<Tickets>,
    settings: Settings,
    slots: Arc<Semaphore>,
}

impl StreamEventsUsingHttp {
    /// Streams from `feeds`, opened with `tickets`, at most `settings.max_streams` at once.
    pub fn new(feeds: Arc<Feeds>, tickets: Arc<Tickets>, settings: Settings) -> Self {
        let slots = Arc::new(Semaphore::new(settings.max_streams));
        StreamEventsUsingHttp {
            feeds,
            tickets,
            settings,
            slots,
        }
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.settings.max_streams - self.slots.available_permits()
    }
}

impl Service for StreamEventsUsingHttp {}

#[async_trait]
impl Dispatcher for StreamEventsUsingHttp {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        // `{domain}` may name several domains, separated by commas: one stream of all
        // of them in one position order (a process's composite log, say).
        let mut domains: Vec<String> = request
            .path_param("domain")
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect();
        domains.sort();
        domains.dedup();
        let pid = request.path_param("pid").map(str::to_owned);
        if let Some(unknown) = domains.iter().find(|d| !self.settings.streams(d)) {
            return Err(HttpError::status(
                StatusCode::NOT_FOUND,
                "E_EVENTLOG_DOMAIN_UNKNOWN",
                format!("The domain {unknown:?} is not streamed"),
            ));
        }
        let names = names(request.query_param("names").as_deref())?;
        let from = from(request)?;
        let ticket = request
            .query_param("ticket")
            .map(|t| t.into_owned())
            .ok_or_else(|| bad_ticket("A stream needs ?ticket= (POST /eventlog/tickets)"))?;
        // Before the ticket is used up: a client refused for the limit keeps its ticket.
        let slot = self.slots.clone().try_acquire_owned().map_err(|_| {
            HttpError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                "E_EVENTLOG_STREAM_LIMIT",
                format!(
                    "This node serves {} streams already",
                    self.settings.max_streams
                ),
            )
            .with_header(RETRY_AFTER, HeaderValue::from_static("5"))
        })?;
        let user = self
            .tickets
            .redeem(&ticket)
            .await
            .map_err(http_error)?
            .ok_or_else(|| bad_ticket("The stream ticket is unknown, used or expired"))?;
        if let Some(domain) = domains.iter().find(|d| self.settings.is_private(d))
            && pid.as_deref() != Some(user.as_str())
        {
            return Err(HttpError::status(
                StatusCode::FORBIDDEN,
                "E_EVENTLOG_FORBIDDEN",
                format!(
                    "The {domain} stream shows only your own process: /eventlog/{domain}/<your user id>/stream"
                ),
            ));
        }
        // A process of an owned domain is its owner's (domain streams show each user
        // only their own processes).
        let owners: std::collections::BTreeMap<String, crate::settings::Owner> = domains
            .iter()
            .filter_map(|d| self.settings.owner(d).map(|o| (d.clone(), o.clone())))
            .collect();
        if let Some(pid) = &pid {
            for (domain, rule) in &owners {
                let owner = self.feeds.owner_of(rule, pid).await.map_err(http_error)?;
                if owner.as_deref() != Some(user.as_str()) {
                    return Err(HttpError::status(
                        StatusCode::FORBIDDEN,
                        "E_EVENTLOG_FORBIDDEN",
                        format!("The process {pid} of {domain} is not yours"),
                    ));
                }
            }
        }
        let feed = match domains.as_slice() {
            [domain] => self.feeds.subscribe(domain).await,
            _ => self.feeds.subscribe_all().await,
        }
        .map_err(http_error)?;
        let store = self.feeds.store();
        // Without a position the stream starts now: after the head, read after the
        // subscription (so nothing between the two is lost).
        let after = match from {
            Some(from) => from,
            None => store.head_position().await.map_err(http_error)?,
        };
        let options = SseOptions {
            heartbeat: Some(Duration::from_millis(self.settings.heartbeat_ms)),
            retry: Some(Duration::from_millis(self.settings.retry_ms)),
            ..SseOptions::default()
        };
        let filter = Filter {
            domains,
            pid,
            names,
            viewer: user,
            owners,
        };
        view.sse_from(
            options,
            stream::frames(feed, self.feeds.clone(), filter, after, slot),
        );
        Ok(())
    }
}

/// `?names=a,b`: the names to show (empty: all).
fn names(names: Option<&str>) -> Result<Vec<String>, HttpError> {
    let Some(names) = names else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = names
        .split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.len() > 64 || names.iter().any(|n| n.len() > 255) {
        return Err(HttpError::status(
            StatusCode::BAD_REQUEST,
            "E_EVENTLOG_NAMES",
            "?names= takes at most 64 names of at most 255 bytes, separated by commas",
        ));
    }
    Ok(names)
}

/// The position to resume after: `Last-Event-ID` (what `EventSource` sends on reconnect)
/// or else `?from=`.
fn from(request: &Request) -> Result<Option<u64>, HttpError> {
    let given = match request.header("last-event-id") {
        Some(id) => Some(id.trim().to_owned()),
        None => request.query_param("from").map(|f| f.into_owned()),
    };
    given
        .map(|position| {
            // Positions are stored as signed 64-bit integers.
            let parsed = position
                .parse::<u64>()
                .ok()
                .filter(|p| i64::try_from(*p).is_ok() && !position.starts_with('+'));
            parsed.ok_or_else(|| {
                HttpError::status(
                    StatusCode::BAD_REQUEST,
                    "E_EVENTLOG_FROM",
                    format!("{position:?} is not a position (Last-Event-ID or ?from= take a whole number ≥ 0)"),
                )
            })
        })
        .transpose()
}

/// 401 `E_EVENTLOG_TICKET`.
fn bad_ticket(message: &str) -> HttpError {
    HttpError::status(StatusCode::UNAUTHORIZED, "E_EVENTLOG_TICKET", message)
}
