//! Routes from OpenAPI documents: parameter coercion and validation, strict body
//! validation with every violation reported, negotiation, `/openapi.json`. Includes the
//! original's http-server-using-oas cases (framework-http.md 9.9).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Proto, Setup, call, registry, router_app};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use superhero_http::App;
use tokio_util::sync::CancellationToken;

fn document() -> Value {
    json!({
      "openapi": "3.1.0",
      "info": {"title": "test", "version": "1"},
      "paths": {
        "/ping": {"get": {"x-dispatcher": "echo",
          "parameters": [{"name": "sleep", "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}}],
          "responses": {"200": {"description": "pong", "content": {"application/json": {"schema": {"type": "string"}}}}}}},
        "/example": {"get": {"operationId": "echo#example",
          "parameters": [{"$ref": "#/components/parameters/Query"}],
          "responses": {"200": {"$ref": "#/components/responses/Result"}}}},
        "/example/{path}/bar": {"parameters": [{"$ref": "#/components/parameters/Path"}],
          "get": {"x-dispatcher": "echo", "responses": {"200": {"description": "ok"}}}},
        "/header": {"get": {"x-dispatcher": "echo",
          "parameters": [{"name": "X-Foo", "in": "header", "required": true,
            "schema": {"type": "string", "enum": ["header", "other"]}}],
          "responses": {"200": {"description": "ok"}}}},
        "/users": {"post": {"x-dispatcher": "echo", "x-middleware": ["outer"],
          "parameters": [{"name": "dry", "in": "query", "schema": {"type": "boolean"}}],
          "requestBody": {"$ref": "#/components/requestBodies/User"},
          "responses": {"201": {"description": "created"}}}},
        "/required": {"get": {"x-dispatcher": "echo",
          "parameters": [{"name": "q", "in": "query", "required": true}],
          "responses": {"200": {"description": "ok"}}}},
        "/list": {"get": {"x-dispatcher": "echo", "parameters": [
            {"name": "id", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
            {"name": "tags", "in": "query", "explode": false, "schema": {"type": "array", "items": {"type": "string"}}},
            {"name": "n", "in": "query", "schema": {"type": ["integer", "null"]}}],
          "responses": {"200": {"description": "ok"}}}},
        "/items/{id}": {"get": {"x-dispatcher": "echo",
          "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer", "format": "int32"}}],
          "responses": {"200": {"description": "ok"}}}},
        "/conflict": {"post": {"x-dispatcher": "conflict",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
          "responses": {"409": {"description": "conflict"}}}},
        "/cookie": {"get": {"x-dispatcher": "echo",
          "parameters": [{"name": "session", "in": "cookie", "required": true, "schema": {"type": "string", "minLength": 4}}],
          "responses": {"200": {"description": "ok"}}}},
        "/tree": {"post": {"x-dispatcher": "echo",
          "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
          "responses": {"200": {"description": "ok"}}}},
        "/undocumented": {"get": {"responses": {"200": {"description": "no dispatcher named"}}}}
      },
      "components": {
        "parameters": {
          "Query": {"name": "query", "in": "query", "schema": {"type": "string", "default": "fallback"}},
          "Path": {"name": "path", "in": "path", "required": true, "schema": {"type": "string"}}
        },
        "responses": {"Result": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}},
        "requestBodies": {"User": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}},
        "schemas": {
          "User": {"type": "object", "required": ["name", "email"], "additionalProperties": false, "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 20},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "role": {"type": "string", "enum": ["admin", "user"], "default": "user"},
            "id": {"type": "string", "readOnly": true},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "maxItems": 3},
            "contact": {"oneOf": [
              {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string", "pattern": "^[0-9+ ]+$"}}},
              {"type": "object", "required": ["mail"]}]}
          }},
          "Node": {"type": "object", "required": ["value"], "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
        }
      }
    })
}

fn app() -> App {
    router_app(
        &json!({}),
        &[document()],
        registry(),
        &CancellationToken::new(),
    )
}

async fn get(app: &App, path: &str) -> common::Reply {
    call(app, Method::GET, path, &[], "").await
}

async fn post(app: &App, path: &str, body: &Value) -> common::Reply {
    call(
        app,
        Method::POST,
        path,
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await
}

/// The `(path, code)` pairs of an error body's details.
fn violations(body: &Value) -> BTreeSet<(String, String)> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_owned(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect()
}

#[tokio::test]
async fn ping_over_http1_h2c_and_tls_h2_coerces_and_defaults_sleep() {
    for tls in [false, true] {
        let mut setup = Setup::new(json!({})).openapi(document());
        if tls {
            setup = setup.tls();
        }
        let server = setup.start().await;
        let protos: &[Proto] = if tls {
            &[Proto::TlsH2, Proto::TlsHttp1]
        } else {
            &[Proto::Http1, Proto::H2c]
        };
        for proto in protos {
            let mut client = common::connect(&server, *proto).await;
            assert_eq!(
                client.get("/ping").await.json()["oas"],
                json!({"sleep": 0}),
                "{proto:?}"
            );
            assert_eq!(
                client.get("/ping?sleep=5").await.json()["oas"],
                json!({"sleep": 5})
            );
            let bad = client
                .get("/ping?sleep=-1")
                .await
                .error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
            assert_eq!(
                violations(&bad),
                pairs(&[("/query/sleep", "E_OAS_SCHEMA_MINIMUM")])
            );
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn invalid_sleep_values_get_400_naming_the_violated_rule() {
    let app = app();
    for (query, code) in [
        ("sleep=-1", "E_OAS_SCHEMA_MINIMUM"),
        ("sleep=10001", "E_OAS_SCHEMA_MAXIMUM"),
        ("sleep=abc", "E_OAS_SCHEMA_TYPE"),
        ("sleep=", "E_OAS_SCHEMA_TYPE"),
        ("sleep=1.5", "E_OAS_SCHEMA_TYPE"),
        ("sleep=0x10", "E_OAS_SCHEMA_TYPE"),
    ] {
        let body = get(&app, &format!("/ping?{query}"))
            .await
            .error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
        assert_eq!(
            violations(&body),
            pairs(&[("/query/sleep", code)]),
            "{query}"
        );
        assert!(body["error"].as_str().unwrap().contains("GET /ping"));
    }
    assert_eq!(get(&app, "/ping?sleep=10000").await.status, StatusCode::OK);
}

#[tokio::test]
async fn specification_with_references_to_components() {
    let app = app();
    assert_eq!(
        get(&app, "/example").await.json()["oas"],
        json!({"query": "fallback"}),
        "default query param"
    );
    assert_eq!(
        get(&app, "/example?query=given").await.json()["oas"],
        json!({"query": "given"})
    );
    assert_eq!(
        get(&app, "/example/foo/bar").await.json()["oas"],
        json!({"path": "foo"}),
        "path param"
    );
    let header = call(&app, Method::GET, "/header", &[("X-FOO", "header")], "").await;
    assert_eq!(
        header.json()["oas"],
        json!({"X-Foo": "header"}),
        "header names are case-insensitive"
    );
    let body = get(&app, "/required")
        .await
        .error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    assert_eq!(
        violations(&body),
        pairs(&[("/query/q", "E_OAS_INVALID_PARAMETER_INSTANCE")])
    );
    let created = post(&app, "/users", &json!({"name": "body", "email": "a@b.c"})).await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.json()["body"]["name"], json!("body"));
}

#[tokio::test]
async fn every_violation_of_a_request_is_reported_at_once() {
    let app = app();
    let body = json!({"name": "a", "age": -1, "role": "root", "id": "x", "extra": 1,
                      "tags": ["a", "a", "b", "c"], "contact": {}});
    let reply = call(
        &app,
        Method::POST,
        "/users?dry=maybe",
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await;
    let error = reply.error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    assert_eq!(
        violations(&error),
        pairs(&[
            ("/query/dry", "E_OAS_SCHEMA_TYPE"),
            ("/body/name", "E_OAS_SCHEMA_MIN_LENGTH"),
            (
                "/body/email",
                "E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"
            ),
            ("/body/age", "E_OAS_SCHEMA_MINIMUM"),
            ("/body/role", "E_OAS_SCHEMA_ENUM"),
            ("/body/id", "E_OAS_SCHEMA_READ_ONLY"),
            ("/body/extra", "E_OAS_SCHEMA_OBJECT_ADDITIONAL_PROPERTY"),
            ("/body/tags", "E_OAS_SCHEMA_UNIQUE_ITEMS"),
            ("/body/tags", "E_OAS_SCHEMA_MAX_ITEMS"),
            ("/body/contact", "E_OAS_SCHEMA_ONE_OF"),
        ])
    );
    // Only the body wrong: the body code.
    let only_body = post(&app, "/users", &json!({"name": "ab"}))
        .await
        .error(400, "E_OAS_INVALID_REQUEST_BODY");
    assert_eq!(
        violations(&only_body),
        pairs(&[(
            "/body/email",
            "E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"
        )])
    );
}

#[tokio::test]
async fn valid_bodies_reach_the_dispatcher_with_defaults_and_middleware() {
    let app = app();
    let reply = post(
        &app,
        "/users",
        &json!({"name": "ab", "email": "a@b.c", "contact": {"phone": "+46 70"}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(
        body["body"]["role"],
        json!("user"),
        "schema default filled in"
    );
    assert_eq!(
        body["trace"],
        json!(["outer:in"]),
        "x-middleware runs after validation"
    );
    assert_eq!(body["route"], json!("POST /users"));
}

#[tokio::test]
async fn bodies_are_validated_strictly_without_coercion() {
    let app = app();
    let body = post(
        &app,
        "/users",
        &json!({"name": "ab", "email": "a@b.c", "age": "5"}),
    )
    .await;
    let error = body.error(400, "E_OAS_INVALID_REQUEST_BODY");
    assert_eq!(
        violations(&error),
        pairs(&[("/body/age", "E_OAS_SCHEMA_TYPE")])
    );
    let invalid = call(
        &app,
        Method::POST,
        "/users",
        &[("content-type", "application/json")],
        "{oops",
    )
    .await;
    let error = invalid.error(400, "E_OAS_INVALID_REQUEST_BODY");
    assert_eq!(
        violations(&error),
        pairs(&[("/body", "E_HTTP_INVALID_JSON")])
    );
}

#[tokio::test]
async fn a_required_body_must_be_sent() {
    let app = app();
    let reply = call(
        &app,
        Method::POST,
        "/users",
        &[("content-type", "application/json")],
        "",
    )
    .await;
    let error = reply.error(400, "E_OAS_INVALID_REQUEST_BODY");
    assert_eq!(
        violations(&error),
        pairs(&[("/body", "E_OAS_REQUEST_BODY_REQUIRED")])
    );
}

#[tokio::test]
async fn operations_negotiate_method_and_media_types() {
    let app = app();
    let put = call(&app, Method::PUT, "/users", &[], "").await;
    put.error(405, "E_HTTP_METHOD_NOT_ALLOWED");
    assert_eq!(put.header("allow"), Some("OPTIONS, POST"));
    let text = call(
        &app,
        Method::POST,
        "/users",
        &[("content-type", "text/plain")],
        "hi",
    )
    .await;
    text.error(415, "E_HTTP_UNSUPPORTED_MEDIA_TYPE");
    let html = call(&app, Method::GET, "/ping", &[("accept", "text/html")], "").await;
    html.error(406, "E_HTTP_NOT_ACCEPTABLE");
}

#[tokio::test]
async fn array_and_nullable_query_parameters_are_coerced() {
    let app = app();
    let body = get(&app, "/list?id=1&id=2&tags=a,b&n=null").await.json();
    assert_eq!(
        body["oas"],
        json!({"id": [1, 2], "tags": ["a", "b"], "n": null})
    );
    assert_eq!(get(&app, "/list?n=7").await.json()["oas"], json!({"n": 7}));
    let error = get(&app, "/list?id=1&id=x")
        .await
        .error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    assert_eq!(
        violations(&error),
        pairs(&[("/query/id/1", "E_OAS_SCHEMA_TYPE")])
    );
}

#[tokio::test]
async fn path_parameters_are_decoded_then_coerced() {
    let app = app();
    assert_eq!(
        get(&app, "/items/%34%32").await.json()["oas"],
        json!({"id": 42})
    );
    let error = get(&app, "/items/abc")
        .await
        .error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    assert_eq!(
        violations(&error),
        pairs(&[("/path/id", "E_OAS_SCHEMA_TYPE")])
    );
    let error = get(&app, "/items/3000000000")
        .await
        .error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    assert_eq!(
        violations(&error),
        pairs(&[("/path/id", "E_OAS_SCHEMA_FORMAT")])
    );
}

#[tokio::test]
async fn errors_of_operation_dispatchers_keep_their_status() {
    // The original reported any error thrown behind an OAS route as 500.
    let app = app();
    post(&app, "/conflict", &json!({}))
        .await
        .error(409, "E_TEST_CONFLICT");
}

#[tokio::test]
async fn cookie_parameters_are_read_from_the_cookie_header() {
    let app = app();
    let reply = call(
        &app,
        Method::GET,
        "/cookie",
        &[("cookie", "a=b; session=abcd")],
        "",
    )
    .await;
    assert_eq!(reply.json()["oas"], json!({"session": "abcd"}));
    let error = call(
        &app,
        Method::GET,
        "/cookie",
        &[("cookie", "session=abc")],
        "",
    )
    .await;
    let error = error.error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    assert_eq!(
        violations(&error),
        pairs(&[("/cookie/session", "E_OAS_SCHEMA_MIN_LENGTH")])
    );
}

#[tokio::test]
async fn recursive_schemas_validate_nested_values() {
    let app = app();
    let tree = json!({"value": 1, "children": [{"value": 2, "children": [{"value": "three"}]}, {"children": []}]});
    let error = post(&app, "/tree", &tree)
        .await
        .error(400, "E_OAS_INVALID_REQUEST_BODY");
    assert_eq!(
        violations(&error),
        pairs(&[
            ("/body/children/0/children/0/value", "E_OAS_SCHEMA_TYPE"),
            (
                "/body/children/1/value",
                "E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"
            ),
        ])
    );
}

#[tokio::test]
async fn the_merged_document_is_served_at_openapi_json() {
    let second = json!({"openapi": "3.0.3", "info": {"title": "second", "version": "2"},
        "paths": {"/second": {"get": {"x-dispatcher": "hello", "responses": {"200": {"description": "ok"}}}}}});
    let app = router_app(
        &json!({}),
        &[document(), second],
        registry(),
        &CancellationToken::new(),
    );
    let reply = get(&app, "/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let served = reply.json();
    assert_eq!(
        served["info"]["title"],
        json!("test"),
        "the first document's info wins"
    );
    for path in ["/ping", "/second", "/undocumented"] {
        assert!(served["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(get(&app, "/second").await.json(), json!({"hello": "world"}));
    get(&app, "/undocumented")
        .await
        .error(404, "E_HTTP_NOT_FOUND");
}

#[tokio::test]
async fn config_routes_take_precedence_over_operations() {
    let routes = json!({"ping": {"condition": "/ping", "method": "GET", "dispatcher": "hello"}});
    let app = router_app(
        &routes,
        &[document()],
        registry(),
        &CancellationToken::new(),
    );
    assert_eq!(get(&app, "/ping").await.json(), json!({"hello": "world"}));
}

#[tokio::test]
async fn composed_schemas_at_the_top_of_a_body_are_accepted() {
    // The original failed route set-up for allOf/oneOf/anyOf at a denormalised level.
    let operation = json!({"x-dispatcher": "echo", "requestBody": {"content": {"application/json": {"schema": {
        "allOf": [{"type": "object", "required": ["a"]}, {"anyOf": [{"required": ["b"]}, {"required": ["c"]}]}],
        "not": {"required": ["forbidden"]}}}}}, "responses": {"200": {"description": "ok"}}});
    let document = json!({"openapi": "3.1.0", "paths": {"/x": {"post": operation}}});
    let app = router_app(
        &json!({}),
        &[document],
        registry(),
        &CancellationToken::new(),
    );
    assert_eq!(
        post(&app, "/x", &json!({"a": 1, "c": 2})).await.status,
        StatusCode::OK
    );
    let error = post(&app, "/x", &json!({"forbidden": 1}))
        .await
        .error(400, "E_OAS_INVALID_REQUEST_BODY");
    assert_eq!(
        violations(&error),
        pairs(&[
            ("/body/a", "E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"),
            ("/body", "E_OAS_SCHEMA_ANY_OF"),
            ("/body", "E_OAS_SCHEMA_NOT"),
        ])
    );
}

fn secured(security: Value, operation_security: Option<Value>) -> Value {
    let mut operation = json!({
        "x-dispatcher": "echo",
        "x-middleware": ["outer"],
        "parameters": [{"name": "n", "in": "query", "required": true,
                        "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}
    });
    if let Some(own) = operation_security {
        operation["security"] = own;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "secured", "version": "1"},
        "security": security,
        "components": {"securitySchemes": {
            "signedSession": {"type": "http", "scheme": "signature", "x-middleware": "deny"},
            "traced": {"type": "apiKey", "in": "header", "name": "x-key", "x-middleware": "inner"}
        }},
        "paths": {"/secret": {"get": operation}}
    })
}

fn secured_app(document: Value) -> Result<App, superhero_http::HttpError> {
    let router = superhero_http::Router::builder(Arc::new(registry()))
        .openapi(superhero_http::OpenApi::from_value(document)?)?
        .build()?;
    Ok(App::new(router, CancellationToken::new()))
}

#[tokio::test]
async fn a_security_requirement_runs_its_middleware_before_validation() {
    let app = secured_app(secured(json!([{"signedSession": []}]), None)).unwrap();
    // The query is invalid, yet the security middleware answers first.
    let reply = get(&app, "/secret?n=abc").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json(), json!({"denied": true}));
}

#[tokio::test]
async fn every_scheme_of_the_requirement_applies_in_order_and_an_operation_may_opt_out() {
    let both = secured_app(secured(json!([{"traced": [], "signedSession": []}]), None)).unwrap();
    let reply = get(&both, "/secret?n=1").await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "deny ran after inner"
    );

    let open = secured_app(secured(json!([{"signedSession": []}]), Some(json!([])))).unwrap();
    let reply = get(&open, "/secret?n=1").await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "security: [] on the operation"
    );
    assert_eq!(reply.json()["trace"], json!(["outer:in"]));

    let traced = secured_app(secured(json!([]), Some(json!([{"traced": []}])))).unwrap();
    let reply = get(&traced, "/secret?n=abc").await;
    reply.error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    let reply = get(&traced, "/secret?n=1").await;
    assert_eq!(
        reply.json()["trace"],
        json!(["inner:in", "outer:in"]),
        "the scheme's middleware runs before the operation's"
    );
}

#[tokio::test]
async fn security_the_router_cannot_enforce_is_refused_when_the_routes_are_built() {
    let alternatives = secured(json!([{"signedSession": []}, {"traced": []}]), None);
    let Err(error) = secured_app(alternatives) else {
        panic!("alternatives are refused")
    };
    assert_eq!(error.code(), "E_OAS_UNSUPPORTED_SECURITY_SPECIFICATION");

    let mut no_middleware = secured(json!([{"signedSession": []}]), None);
    no_middleware["components"]["securitySchemes"]["signedSession"]
        .as_object_mut()
        .unwrap()
        .remove("x-middleware");
    let Err(error) = secured_app(no_middleware) else {
        panic!("a scheme without middleware is refused")
    };
    assert_eq!(error.code(), "E_OAS_UNSUPPORTED_SECURITY_SPECIFICATION");

    let Err(error) = secured_app(secured(json!([{"unknown": []}]), None)) else {
        panic!("an undefined scheme is refused")
    };
    assert_eq!(error.code(), "E_OAS_INVALID_SPECIFICATION");
}
