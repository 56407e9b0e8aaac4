//! The router and middleware chain, in memory. Ported from the original's router tests
//! (framework-http.md 9.6); tests that pinned a bug now pin the fixed behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{Trace, call, registry, router_app};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use superhero_http::{App, Registry, RouteSpec, Router, RoutesConfig};
use tokio_util::sync::CancellationToken;

fn app(routes: Value) -> App {
    app_with(routes, registry())
}

fn app_with(routes: Value, registry: Registry) -> App {
    router_app(&routes, &[], registry, &CancellationToken::new())
}

fn build(routes: Value) -> Result<Router, superhero_http::HttpError> {
    let routes: RoutesConfig = serde_json::from_value(routes).expect("deserializes");
    Router::builder(Arc::new(registry()))
        .routes(&routes)?
        .build()
}

async fn get(app: &App, path: &str) -> common::Reply {
    call(app, Method::GET, path, &[], "").await
}

#[tokio::test]
async fn can_set_valid_routes() {
    let router = build(json!({
        "a": {"condition": "/a", "dispatcher": "hello"},
        "b": {"condition": "/b/{id}", "method": ["GET", "post"], "dispatcher": "echo"}
    }))
    .unwrap();
    assert_eq!(router.route_names().collect::<Vec<_>>(), ["a", "b"]);
}

#[tokio::test]
async fn dispatches_to_the_matching_route_with_decoded_path_parameters() {
    let app = app(json!({"test": {"condition": "/test/{id}", "dispatcher": "echo"}}));
    let reply = get(&app, "/test/123").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["params"], json!({"id": "123"}));
    assert_eq!(reply.json()["route"], json!("test"));
    let reply = get(&app, "/test/caf%C3%A9%2Fx").await;
    assert_eq!(reply.json()["params"], json!({"id": "café/x"}));
}

#[tokio::test]
async fn a_catch_all_captures_the_rest_of_the_path() {
    let app = app(json!({"files": {"condition": "/files/{*path}", "dispatcher": "echo"}}));
    assert_eq!(
        get(&app, "/files/a/b/c.txt").await.json()["params"],
        json!({"path": "a/b/c.txt"})
    );
    assert_eq!(
        get(&app, "/files").await.json()["params"],
        json!({"path": ""})
    );
}

#[tokio::test]
async fn the_first_matching_route_in_declaration_order_wins() {
    let app = app(json!({
        "specific": {"condition": "/users/me", "dispatcher": "hello"},
        "general": {"condition": "/users/{id}", "dispatcher": "echo"}
    }));
    assert_eq!(
        get(&app, "/users/me").await.json(),
        json!({"hello": "world"})
    );
    assert_eq!(
        get(&app, "/users/7").await.json()["route"],
        json!("general")
    );
}

#[tokio::test]
async fn middleware_wraps_the_dispatcher_like_an_onion() {
    let app = app(
        json!({"r": {"condition": "/r", "middleware": ["outer", "inner"], "dispatcher": "echo"}}),
    );
    let body = get(&app, "/r").await.json();
    assert_eq!(
        body["trace"],
        json!(["outer:in", "inner:in"]),
        "upstream in order, before the dispatcher"
    );
    assert_eq!(
        body["after"],
        json!(["inner:out", "outer:out"]),
        "downstream in reverse order, after it"
    );
}

#[tokio::test]
async fn middleware_routes_compose_with_the_selected_route() {
    let registry = registry()
        .with_middleware("m1", Arc::new(Trace("m1")))
        .with_middleware("m2", Arc::new(Trace("m2")))
        .with_middleware("m3", Arc::new(Trace("m3")))
        .with_middleware("m4", Arc::new(Trace("m4")));
    let app = app_with(
        json!({
            "m1route": {"condition": "/*/*", "middleware": ["m1"]},
            "m2route": {"condition": "/test/*", "middleware": "m2"},
            "m3route": {"condition": "/test/{num}", "middleware": ["m3"]},
            "m4route": {"condition": "/{tier}/{id}", "middleware": ["m4", "m1"]},
            "dispatcher1route": {"condition": "/test/123", "dispatcher": "echo"},
            "other": {"condition": "/other/{x}", "middleware": ["m2"]}
        }),
        registry,
    );
    let body = get(&app, "/test/123").await.json();
    assert_eq!(
        body["trace"],
        json!(["m1:in", "m2:in", "m3:in", "m4:in"]),
        "each middleware once, in route order"
    );
    assert_eq!(
        body["params"],
        json!({"num": "123", "id": "123", "tier": "test"})
    );
}

#[tokio::test]
async fn routes_are_not_changed_by_the_requests_they_serve() {
    // The original merged matched routes into the first one in place, so a later request
    // evaluated the wrong route. Here the table is immutable: same answer every time.
    let app = app(json!({
        "a": {"condition": "/x/*", "middleware": ["outer"]},
        "b": {"condition": "/x/y", "middleware": ["inner"], "dispatcher": "echo"},
        "c": {"condition": "/x/z", "dispatcher": "echo"}
    }));
    for _ in 0..3 {
        assert_eq!(
            get(&app, "/x/y").await.json()["trace"],
            json!(["outer:in", "inner:in"])
        );
        assert_eq!(get(&app, "/x/z").await.json()["trace"], json!(["outer:in"]));
    }
}

#[tokio::test]
async fn per_request_state_does_not_leak_between_requests() {
    let app = app(json!({"r": {"condition": "/r", "middleware": ["outer"], "dispatcher": "echo"}}));
    for _ in 0..3 {
        assert_eq!(get(&app, "/r").await.json()["trace"], json!(["outer:in"]));
    }
}

#[tokio::test]
async fn a_middleware_can_short_circuit_the_chain() {
    let app = app(json!({"r": {"condition": "/r", "middleware": ["deny"], "dispatcher": "panic"}}));
    let reply = get(&app, "/r").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json(),
        json!({"denied": true}),
        "the dispatcher never ran"
    );
}

#[tokio::test]
async fn on_error_of_a_middleware_handles_errors_of_the_rest_of_the_chain() {
    let app = app(json!({
        "caught": {"condition": "/caught", "middleware": ["recover"], "dispatcher": "conflict"},
        "uncaught": {"condition": "/uncaught", "dispatcher": "conflict"}
    }));
    let caught = get(&app, "/caught").await;
    assert_eq!(caught.status, StatusCode::OK);
    assert_eq!(caught.json(), json!({"recovered": "E_TEST_CONFLICT"}));
    get(&app, "/uncaught").await.error(409, "E_TEST_CONFLICT");
}

#[tokio::test]
async fn a_failing_dispatcher_answers_with_its_error() {
    let app = app(json!({"r": {"condition": "/r", "dispatcher": "internal"}}));
    get(&app, "/r").await.error(500, "E_TEST_DATABASE");
}

#[tokio::test]
async fn no_matching_route_is_404_not_500() {
    let app = app(json!({"r": {"condition": "/r", "dispatcher": "hello"}}));
    get(&app, "/elsewhere").await.error(404, "E_HTTP_NOT_FOUND");
}

#[tokio::test]
async fn middleware_routes_alone_do_not_answer() {
    // Only a middleware route matches: there is nothing to dispatch to, so 404.
    let app = app(json!({"m": {"condition": "/m", "middleware": ["outer"]}}));
    get(&app, "/m").await.error(404, "E_HTTP_NOT_FOUND");
}

#[tokio::test]
async fn false_routes_are_not_set_and_delete_earlier_ones() {
    let router =
        build(json!({"gone": false, "kept": {"condition": "/k", "dispatcher": "hello"}})).unwrap();
    assert_eq!(router.route_names().collect::<Vec<_>>(), ["kept"]);
    let first: RoutesConfig =
        serde_json::from_value(json!({"a": {"condition": "/a", "dispatcher": "hello"}})).unwrap();
    let second: RoutesConfig = serde_json::from_value(json!({"a": false})).unwrap();
    let router = Router::builder(Arc::new(registry()))
        .routes(&first)
        .unwrap()
        .routes(&second)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(router.route_names().count(), 0);
}

#[tokio::test]
async fn invalid_route_maps_are_refused_when_read() {
    assert!(
        serde_json::from_value::<RoutesConfig>(json!([])).is_err(),
        "a list is not a route map"
    );
    assert!(
        serde_json::from_value::<RoutesConfig>(json!({"a": "x"})).is_err(),
        "a string is not a route"
    );
    assert!(
        serde_json::from_value::<RoutesConfig>(json!({"a": true})).is_err(),
        "true is not a route"
    );
    let missing = serde_json::from_value::<RoutesConfig>(json!({"a": {"dispatcher": "hello"}}));
    assert!(missing.unwrap_err().to_string().contains("condition"));
    let typo =
        serde_json::from_value::<RoutesConfig>(json!({"a": {"condition": "/", "dispatch": "x"}}));
    assert!(typo.is_err(), "unknown keys are refused");
}

#[tokio::test]
async fn invalid_routes_are_refused_when_built() {
    let cases = [
        (json!({"a": {"condition": "/a"}}), "E_ROUTER_INVALID_ROUTE"),
        (
            json!({"a": {"condition": "/a", "method": [], "dispatcher": "hello"}}),
            "E_ROUTER_INVALID_ROUTE",
        ),
        (
            json!({"a": {"condition": "/a", "method": "G T", "dispatcher": "hello"}}),
            "E_ROUTER_INVALID_ROUTE",
        ),
        (
            json!({"a": {"condition": "/a", "produces": ["json"], "dispatcher": "hello"}}),
            "E_ROUTER_INVALID_ROUTE",
        ),
        (
            json!({"a": {"condition": "a/{x", "dispatcher": "hello"}}),
            "E_ROUTER_INVALID_CONDITION",
        ),
        (
            json!({"a": {"condition": "/a", "dispatcher": "missing"}}),
            "E_ROUTER_UNKNOWN_DISPATCHER",
        ),
        (
            json!({"a": {"condition": "/a", "middleware": ["missing"], "dispatcher": "hello"}}),
            "E_ROUTER_UNKNOWN_MIDDLEWARE",
        ),
    ];
    for (routes, code) in cases {
        let error = build(routes.clone()).expect_err("refused");
        assert_eq!(error.code(), code, "{routes}");
    }
}

#[tokio::test]
async fn a_route_name_can_be_used_once() {
    let spec = RouteSpec::new("/a").dispatcher("hello");
    let error = Router::builder(Arc::new(registry()))
        .route("a", &spec)
        .unwrap()
        .route("a", &spec)
        .expect_err("duplicate");
    assert_eq!(error.code(), "E_ROUTER_INVALID_ROUTE");
}

#[tokio::test]
async fn routes_read_from_toml_config() {
    let routes: RoutesConfig = toml::from_str(
        r#"
        legacy = false
        [api]
        condition = "/api/**"
        middleware = "outer"
        [ping]
        condition = "/api/ping"
        method = ["GET", "HEAD"]
        dispatcher = "echo"
        meta = { owner = "ping-pong" }
        "#,
    )
    .unwrap();
    let router = Router::builder(Arc::new(registry()))
        .routes(&routes)
        .unwrap()
        .build()
        .unwrap();
    let app = App::new(router, CancellationToken::new());
    let body = get(&app, "/api/ping").await.json();
    assert_eq!(body["trace"], json!(["outer:in"]));
    assert_eq!(
        call(&app, Method::POST, "/api/ping", &[], "").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}
