//! OpenAPI documents: loading, merging, and refusing invalid ones with `E_OAS_*` codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::registry;
use serde_json::{Value, json};
use superhero_http::{OpenApi, Router};

fn build(documents: &[Value]) -> Result<Router, superhero_http::HttpError> {
    let mut builder = Router::builder(Arc::new(registry()));
    for document in documents {
        builder = builder.openapi(OpenApi::from_value(document.clone())?)?;
    }
    builder.build()
}

fn with_operation(operation: Value) -> Value {
    json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": operation}}})
}

#[tokio::test]
async fn invalid_documents_are_refused_with_oas_codes() {
    let ok = json!({"description": "ok"});
    let cases = [
        (
            json!({"openapi": "2.0", "paths": {}}),
            "E_OAS_INVALID_SPECIFICATION",
        ),
        (
            json!({"openapi": "3.1.0", "paths": []}),
            "E_OAS_INVALID_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"$ref": "#/components/parameters/Nope"}], "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"$ref": "other.json#/x"}], "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"name": "a", "in": "query", "style": "deepObject"}], "responses": {"200": ok}}),
            ),
            "E_OAS_UNSUPORTED_PARAMETER_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"name": "a", "in": "body"}], "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_PARAMETER_SPECIFICATION",
        ),
        (
            // One name in two places would shadow one value in `Request::param`.
            with_operation(json!({"x-dispatcher": "echo", "parameters": [
                    {"name": "a", "in": "query", "schema": {"type": "string"}},
                    {"name": "a", "in": "header", "schema": {"type": "string"}}
                ], "responses": {"200": ok}})),
            "E_OAS_INVALID_PARAMETER_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"in": "query"}], "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_PARAMETER_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"name": "o", "in": "query", "schema": {"type": "object"}}], "responses": {"200": ok}}),
            ),
            "E_OAS_UNSUPORTED_PARAMETER_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"name": "p", "in": "query", "schema": {"type": "string", "pattern": "("}}], "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_SCHEMAS_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "parameters": [{"name": "t", "in": "query", "schema": {"type": "text"}}], "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_SCHEMAS_SPECIFICATION",
        ),
        (
            with_operation(
                json!({"x-dispatcher": "echo", "requestBody": {"content": {}}, "responses": {"200": ok}}),
            ),
            "E_OAS_INVALID_REQUEST_BODIES_SPECIFICATION",
        ),
        (
            with_operation(json!({"x-dispatcher": "nobody", "responses": {"200": ok}})),
            "E_ROUTER_UNKNOWN_DISPATCHER",
        ),
    ];
    for (document, code) in cases {
        let error = match OpenApi::from_value(document.clone()) {
            Err(error) => error,
            Ok(_) => build(std::slice::from_ref(&document)).expect_err("refused"),
        };
        assert_eq!(error.code(), code, "{document}");
    }
    let a = with_operation(json!({"x-dispatcher": "echo", "responses": {"200": ok}}));
    let b = with_operation(json!({"x-dispatcher": "hello", "responses": {"200": ok}}));
    assert_eq!(
        build(&[a.clone(), b]).expect_err("clash").code(),
        "E_OAS_DUPLICATE_OPERATION"
    );
    assert!(
        build(&[a.clone(), a]).is_ok(),
        "the same operation twice is no clash"
    );
}

#[tokio::test]
async fn documents_load_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("route.json");
    let document = with_operation(
        json!({"x-dispatcher": "echo", "responses": {"200": {"description": "ok"}}}),
    );
    std::fs::write(&path, document.to_string()).unwrap();
    let loaded = OpenApi::from_file(&path).unwrap();
    assert_eq!(loaded.document()["info"]["title"], json!("t"));
    let missing = OpenApi::from_file(dir.path().join("nope.json")).expect_err("missing");
    assert_eq!(missing.code(), "E_OAS_LOAD_SPECIFICATION");
    std::fs::write(&path, "{not json").unwrap();
    assert_eq!(
        OpenApi::from_file(&path).expect_err("broken").code(),
        "E_OAS_LOAD_SPECIFICATION"
    );
}
