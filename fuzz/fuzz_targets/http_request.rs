//! A request as a client sends it, through the whole application path of
//! `superhero_http::App`: routing (every app's OpenAPI document and the probes' patterns),
//! content negotiation, OpenAPI parameter coercion and body validation, the middleware
//! chain and the response framing. Input: `METHOD path?query\n` then `name: value` header
//! lines, a blank line, and the body. No input may panic, and every answer must be framed
//! (HEAD, 204 and 304 without content).
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use superhero_core::async_trait;
use superhero_http::{
    App, Dispatcher, HttpError, Middleware, Next, OpenApi, Request, Resolver, RouteSpec, Router,
    View,
};

/// Every app's documents, as the demo mounts them.
const DOCUMENTS: &[&str] = &[
    include_str!("../../apps/ping-pong/src/ping/respond/route.json"),
    include_str!("../../apps/authorization/src/user/register/route.json"),
    include_str!("../../apps/authorization/src/user/list_activity/route.json"),
    include_str!("../../apps/authorization/src/session/start/route.json"),
    include_str!("../../apps/authorization/src/session/show/route.json"),
    include_str!("../../apps/authorization/src/session/end/route.json"),
    include_str!("../../apps/message-board/src/post/create_post/route.json"),
    include_str!("../../apps/message-board/src/post/reply_to_post/route.json"),
    include_str!("../../apps/message-board/src/post/show_post/route.json"),
    include_str!("../../apps/message-board/src/post/show_reply/route.json"),
    include_str!("../../apps/message-board/src/post/list_posts/route.json"),
    include_str!("../../apps/sale-order/src/order/place_order/route.json"),
    include_str!("../../apps/sale-order/src/order/show_order/route.json"),
    include_str!("../../apps/sale-order/src/order/show_catalogue/route.json"),
    include_str!("../../apps/sale-order/src/payment/pay_order/route.json"),
    include_str!("../../apps/sale-order/src/shipment/report_status/route.json"),
    include_str!("../../apps/eventlog-stream/src/eventlog/issue_ticket/route.json"),
    include_str!("../../apps/eventlog-stream/src/eventlog/stream_events/route.json"),
];

/// Answers with what the OpenAPI step made of the request.
struct Echo;

#[async_trait]
impl Dispatcher for Echo {
    async fn dispatch(&self, request: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.set_body(json!({"params": request.params(), "body": request.body_json()}));
        Ok(())
    }
}

/// Passes every request on (the real middleware is tested on its own).
struct Pass;

#[async_trait]
impl Middleware for Pass {
    async fn handle(
        &self,
        request: &mut Request,
        view: &mut View,
        next: Next<'_>,
    ) -> Result<(), HttpError> {
        next.run(request, view).await
    }
}

struct Everything;

impl Resolver for Everything {
    fn dispatcher(&self, _name: &str) -> Option<Arc<dyn Dispatcher>> {
        Some(Arc::new(Echo))
    }

    fn middleware(&self, _name: &str) -> Option<Arc<dyn Middleware>> {
        Some(Arc::new(Pass))
    }
}

fn app() -> &'static (App, tokio::runtime::Runtime) {
    static APP: OnceLock<(App, tokio::runtime::Runtime)> = OnceLock::new();
    APP.get_or_init(|| {
        let mut builder = Router::builder(Arc::new(Everything));
        for document in DOCUMENTS {
            builder = builder
                .openapi(OpenApi::from_json(document).expect("an app's document"))
                .expect("routes");
        }
        for (name, path) in [("files", "/static/{*path}"), ("any", "/api/**")] {
            builder = builder
                .route(name, &RouteSpec::new(path).dispatcher(name))
                .expect("a route");
        }
        let router = builder.build().expect("the router");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        (
            App::new(router, superhero_core::CancellationToken::new()),
            runtime,
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let Some(start) = lines.next() else { return };
    let Some((method, target)) = start.split_once(' ') else {
        return;
    };
    let mut builder = http::Request::builder().method(method).uri(target);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    // What hyper would refuse before the app never reaches it.
    let Ok(request) = builder.body(Full::new(Bytes::copy_from_slice(body))) else {
        return;
    };
    let head_request = request.method() == http::Method::HEAD;
    let (app, runtime) = app();
    let response = runtime.block_on(app.handle(request));
    let status = response.status();
    let bytes = runtime
        .block_on(response.into_body().collect())
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    if head_request || status == 204 || status == 304 {
        assert!(bytes.is_empty(), "{status} with content");
    }
    assert!(!status.is_informational(), "a final 1xx");
});
