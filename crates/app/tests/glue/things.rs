//! A small app built only from `superhero-app`, as a use case would be: `POST /things`
//! is an asynchronous controller (publish `thing-requested`, wait for `thing-created` or
//! `thing-rejected`), a typed consumer validates requests, `GET /things/{id}` shows the
//! projected state.
//!
//! The validator answers by name: `bad…` is rejected, `slow…` gets no outcome (the test
//! publishes one later), anything else is created.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use superhero_app::idempotency::{CommandIds, IdempotencyKey};
use superhero_app::{
    App, AsyncCommand, EventType, Handlers, Received, Rejection, RejectionDetail, Wiring,
    route_document,
};
use superhero_core::{BoxError, Registry, Service, async_trait};
use superhero_eventflow::Spoke;
use superhero_eventflow::service::{Consumer, SPOKE, SpokeService};
use superhero_http::{Dispatcher, HttpError, Request, View};

/// What a client asks for (`id`: an existing thing to rename; a new one without).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThingRequested {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
}

/// What the validator decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThingCreated {
    pub name: String,
    pub created: bool,
}

pub const REQUESTED: EventType<ThingRequested> = EventType::new("thing", "thing-requested");
pub const CREATED: EventType<ThingCreated> = EventType::new("thing", "thing-created");
pub const REJECTED: EventType<Rejection> = EventType::new("thing", "thing-rejected");

/// An event of another domain, wrongly declared as an outcome by `POST /misdeclared`.
pub const ELSEWHERE: EventType<ThingCreated> = EventType::new("elsewhere", "thing-created");

pub const CREATE: &str = "things/thing/create";
pub const MISDECLARED: &str = "things/thing/misdeclared";
pub const SHOW: &str = "things/thing/show";
pub const VALIDATE: &str = "things/thing/validate";

/// How long `POST /things` waits for an outcome.
pub const WAIT: Duration = Duration::from_millis(1_500);

/// The app, as the CLI would mount it.
pub const APP: App = App {
    name: "things",
    summary: "a test app of asynchronous controllers",
    links: &[],
    register,
    wiring: || {
        Wiring::new()
            .dispatcher(CREATE)
            .dispatcher(SHOW)
            .dispatcher(MISDECLARED)
            .consumer(VALIDATE, &[REQUESTED.key()])
            .route("things", route_document!("things.json"))
    },
    panel: None,
    rebuild: None,
};

/// The same app whose route document misspells a dispatcher.
pub const MISSPELT: App = App {
    wiring: || {
        Wiring::new()
            .dispatcher(CREATE)
            .dispatcher(SHOW)
            .dispatcher(MISDECLARED)
            .route("things", route_document!("misspelt.json"))
    },
    ..APP
};

fn spoke_of(ctx: &superhero_core::ServiceContext) -> Result<Spoke, BoxError> {
    Ok(ctx.locate::<SpokeService>(SPOKE)?.spoke().clone())
}

fn register(registry: &mut Registry) {
    registry
        .register(CREATE, |ctx| async move {
            Ok(Create {
                spoke: spoke_of(&ctx)?,
            })
        })
        .uses([SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
    registry
        .register(MISDECLARED, |ctx| async move {
            Ok(Misdeclared {
                spoke: spoke_of(&ctx)?,
            })
        })
        .uses([SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
    registry
        .register(SHOW, |ctx| async move {
            Ok(Show {
                spoke: spoke_of(&ctx)?,
            })
        })
        .uses([SPOKE])
        .expose::<dyn Dispatcher>(|s| s);
    registry
        .register(VALIDATE, |ctx| async move {
            let spoke = spoke_of(&ctx)?;
            Ok(Handlers::new(VALIDATE).on(REQUESTED, move |request| {
                let spoke = spoke.clone();
                async move { validate(&spoke, request).await }
            }))
        })
        .uses([SPOKE])
        .expose::<dyn Consumer>(|s| s);
}

async fn validate(spoke: &Spoke, request: Received<ThingRequested>) -> Result<(), BoxError> {
    let name = request.payload.name.clone();
    if name.starts_with("slow") {
        return Ok(());
    }
    let outcome = if name.starts_with("bad") {
        let mut rejection = Rejection::new("E_THING_NAME", format!("{name:?} is not a good name"));
        rejection.details.push(RejectionDetail {
            path: "/body/name".into(),
            code: "E_THING_NAME".into(),
            message: "a good name does not start with \"bad\"".into(),
        });
        request.reply(REJECTED, &rejection)?
    } else {
        request.reply(
            CREATED,
            &ThingCreated {
                name,
                created: true,
            },
        )?
    };
    spoke.publish(outcome).await?;
    Ok(())
}

/// `POST /things`.
struct Create {
    spoke: Spoke,
}

impl Service for Create {}

#[async_trait]
impl Dispatcher for Create {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let body: ThingRequested = request.json().await?;
        let pid = body
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let fresh = CommandIds::new(pid);
        let ids = match IdempotencyKey::from_request(request, "POST /things").await? {
            Some(key) => key.claim(&self.spoke, fresh).await?,
            None => fresh,
        };
        let event = REQUESTED.event(&ids.pid, &body)?.with_id(ids.event_id);
        AsyncCommand::new(&self.spoke, event, format!("/things/{}", ids.pid))
            .success(CREATED)
            .rejection(REJECTED)
            .wait(WAIT)
            .until(request.shutdown_token().clone())
            .respond(view)
            .await
    }
}

/// `POST /misdeclared`: a command whose outcome is of another domain.
struct Misdeclared {
    spoke: Spoke,
}

impl Service for Misdeclared {}

#[async_trait]
impl Dispatcher for Misdeclared {
    async fn dispatch(&self, _request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let event = REQUESTED.event(
            "misdeclared",
            &ThingRequested {
                id: None,
                name: "x".into(),
            },
        )?;
        AsyncCommand::new(&self.spoke, event, "/things/misdeclared")
            .success(ELSEWHERE)
            .respond(view)
            .await
    }
}

/// `GET /things/{id}`.
struct Show {
    spoke: Spoke,
}

impl Service for Show {}

#[async_trait]
impl Dispatcher for Show {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        let id = request.path_param("id").unwrap_or_default().to_owned();
        let state = self
            .spoke
            .read_state(REQUESTED.domain(), &id)
            .await
            .map_err(superhero_app::eventflow_http::http_error)?;
        if state.as_object().is_none_or(|o| o.is_empty()) {
            return Err(HttpError::status(
                http::StatusCode::NOT_FOUND,
                "E_THING_NOT_FOUND",
                format!("No thing {id}"),
            ));
        }
        view.set_body(state);
        Ok(())
    }
}
