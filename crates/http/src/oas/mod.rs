//! OpenAPI 3.0/3.1 route documents: loading, merging, and turning operations into routes.
//!
//! Each operation with an `x-dispatcher` (or else an `operationId`; the part before the
//! first `#` is the name) becomes a route named `METHOD /path`, after the config routes.
//! An operation's `security` requirement (or the document's) puts in front of everything
//! the middleware each named scheme's `components.securitySchemes.<name>.x-middleware`
//! names, so unauthenticated requests are refused before validation; one requirement
//! object is supported (`E_OAS_UNSUPPORTED_SECURITY_SPECIFICATION` otherwise).
//! `x-middleware` (a name or a list) adds middleware after the validation step. The route
//! consumes the `requestBody.content` types (415 otherwise) and produces the `responses`
//! content types (406 otherwise). Validation happens before the route's middleware:
//! parameters are coerced and validated, JSON bodies validated strictly; all violations
//! of one request are reported together in `details` as `{path, code, message}` with
//! `path` like `/query/sleep` or `/body/items/0/sku` and `code` like
//! `E_OAS_SCHEMA_MINIMUM` (top-level code `E_OAS_INVALID_REQUEST_PARAMETERS`, or
//! `E_OAS_INVALID_REQUEST_BODY` when only the body is wrong; a missing required
//! parameter is `E_OAS_INVALID_PARAMETER_INSTANCE`, a missing required body
//! `E_OAS_REQUEST_BODY_REQUIRED`). Responses are not validated.
//!
//! **Parameter coercion** (text → JSON, the only place text becomes a number): for each
//! type the schema admits, in the order null, boolean, integer, number, string, the first
//! that parses wins: `null`; `true`/`false`; an optional sign and digits; a finite
//! decimal (`""`, `0x10`, `1e999` are not numbers). Text no type accepts stays a string
//! and is reported as `E_OAS_SCHEMA_TYPE`. Arrays: `form` query parameters with `explode`
//! (the default) repeat the name, others are comma-separated. `in: cookie` is supported;
//! styles other than `form`/`simple`, `content`, and object-valued parameters are refused
//! at load (`E_OAS_UNSUPORTED_PARAMETER_SPECIFICATION`).
//!
//! **Schemas**: a focused validator of the OpenAPI 3.0/3.1 subset (`type` incl. lists,
//! `nullable`, `enum`, `const`, bounds in both `exclusive*` styles, `multipleOf`, lengths,
//! `pattern`, common `format`s, `items`/`prefixItems`, `uniqueItems`, `properties`,
//! `required`, `additionalProperties`, `patternProperties`, `propertyNames`, property
//! counts, `allOf`/`anyOf`/`oneOf`/`not`, `if`/`then`/`else`, `readOnly` (must not be
//! sent), `default` (filled in), local `$ref`s incl. recursive ones), compiled once when
//! the routes are built. Bodies are never coerced. Why not the `jsonschema` crate: 3.0
//! schemas are not JSON Schema (`nullable`, boolean `exclusiveMinimum`, `readOnly`),
//! parameters need type-driven coercion before validation, and every violation must map
//! to a flat detail with a stable `E_OAS_*` code; the subset is small and fully tested.
//!
//! ```
//! use superhero_http::OpenApi;
//! let doc = OpenApi::from_json(r#"{
//!   "openapi": "3.1.0", "info": {"title": "ping", "version": "1"},
//!   "paths": {"/ping": {"get": {
//!     "x-dispatcher": "ping-pong/ping",
//!     "parameters": [{"name": "sleep", "in": "query",
//!       "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}}],
//!     "responses": {"200": {"description": "pong",
//!       "content": {"application/json": {"schema": {"type": "string"}}}}}}}}
//! }"#)?;
//! # Ok::<(), superhero_http::HttpError>(())
//! ```

mod operation;
mod params;
mod schema;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::HeaderValue;
use serde_json::{Map, Value};

pub(crate) use operation::compile_operations;

use crate::error::{HttpError, spec_code};
use crate::middleware::Dispatcher;
use crate::request::Request;
use crate::view::View;

/// An OpenAPI document (or several merged).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenApi {
    document: Value,
}

impl OpenApi {
    /// Checks the top-level shape: `openapi` is 3.0.x or 3.1.x, `paths` is an object.
    pub fn from_value(document: Value) -> Result<Self, HttpError> {
        let version = document
            .get("openapi")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                HttpError::spec(spec_code::INVALID, "/openapi", "missing `openapi` version")
            })?;
        if !(version.starts_with("3.0.") || version.starts_with("3.1.")) {
            return Err(HttpError::spec(
                spec_code::INVALID,
                "/openapi",
                format!("version {version:?} is not 3.0.x or 3.1.x"),
            ));
        }
        match document.get("paths") {
            None | Some(Value::Object(_)) => Ok(Self { document }),
            Some(_) => Err(HttpError::spec(
                spec_code::INVALID,
                "/paths",
                "`paths` is an object",
            )),
        }
    }

    /// Parses a JSON document.
    pub fn from_json(text: &str) -> Result<Self, HttpError> {
        let value = serde_json::from_str(text)
            .map_err(|e| HttpError::spec(spec_code::LOAD, "(text)", e.to_string()))?;
        Self::from_value(value)
    }

    /// Reads a JSON document (`route.json`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, HttpError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| HttpError::spec(spec_code::LOAD, &shown, e.to_string()))?;
        let value = serde_json::from_str(&text)
            .map_err(|e| HttpError::spec(spec_code::LOAD, &shown, e.to_string()))?;
        Self::from_value(value)
    }

    /// The document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Every routed operation as (route name `METHOD /path`, dispatcher name), in
    /// document order: what the router will look up when it compiles the document.
    pub fn dispatchers(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let Some(paths) = self.document.get("paths").and_then(Value::as_object) else {
            return found;
        };
        for (path, item) in paths {
            let pointer = format!("/paths/{}", path.replace('~', "~0").replace('/', "~1"));
            let Ok(item) = follow(&self.document, item, &pointer) else {
                continue;
            };
            for method in METHODS {
                if let Some(dispatcher) = item.get(method).and_then(operation::dispatcher_name) {
                    found.push((
                        format!("{} {path}", method.to_ascii_uppercase()),
                        dispatcher,
                    ));
                }
            }
        }
        found
    }

    /// Merges `other` into this document: objects merge key by key (this document's
    /// scalars win, e.g. `info`), but an operation (`paths./p.get`) or a component
    /// defined differently by both is an error (`E_OAS_DUPLICATE_OPERATION`).
    pub fn merge(&mut self, other: OpenApi) -> Result<(), HttpError> {
        merge_value(&mut self.document, other.document, &mut String::new())
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn merge_value(target: &mut Value, source: Value, pointer: &mut String) -> Result<(), HttpError> {
    let (Value::Object(target), Value::Object(source)) = (&mut *target, source) else {
        return Ok(());
    };
    for (key, value) in source {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        match target.get_mut(&key) {
            None => {
                target.insert(key, value);
            }
            Some(existing) => {
                let depth = pointer.matches('/').count();
                let is_operation =
                    pointer.starts_with("/paths/") && depth == 3 && METHODS.contains(&key.as_str());
                let is_component = pointer.starts_with("/components/") && depth == 3;
                if (is_operation || is_component) && *existing != value {
                    return Err(HttpError::spec(
                        spec_code::DUPLICATE_OPERATION,
                        pointer.clone(),
                        "defined differently by two documents",
                    ));
                }
                merge_value(existing, value, pointer)?;
            }
        }
        pointer.truncate(len);
    }
    Ok(())
}

/// Follows `$ref` chains of a component object (parameters, request bodies).
pub(crate) fn follow<'d>(
    document: &'d Value,
    mut value: &'d Value,
    pointer: &str,
) -> Result<&'d Value, HttpError> {
    for _ in 0..32 {
        match value.get("$ref") {
            Some(reference) => {
                let text = reference.as_str().ok_or_else(|| {
                    HttpError::spec(spec_code::INVALID, pointer, "$ref is a string")
                })?;
                value = schema::resolve_ref(document, text, pointer)?;
            }
            None => return Ok(value),
        }
    }
    Err(HttpError::spec(
        spec_code::INVALID,
        pointer,
        "$ref chain too long or circular",
    ))
}

/// Serves the merged document as JSON.
pub(crate) struct DocumentDispatcher {
    bytes: Bytes,
}

impl DocumentDispatcher {
    pub(crate) fn new(document: &OpenApi) -> Result<Self, HttpError> {
        let mut value = document.document.clone();
        if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
            paths.sort_keys();
        }
        if value.get("info").is_none()
            && let Some(object) = value.as_object_mut()
        {
            let mut info = Map::new();
            info.insert("title".into(), Value::from("superhero"));
            info.insert("version".into(), Value::from("0"));
            object.insert("info".into(), Value::Object(info));
        }
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| HttpError::spec(spec_code::INVALID, "/", e.to_string()))?;
        Ok(Self {
            bytes: Bytes::from(bytes),
        })
    }
}

#[async_trait]
impl Dispatcher for DocumentDispatcher {
    async fn dispatch(&self, _: &mut Request, view: &mut View) -> Result<(), HttpError> {
        view.set_bytes(
            HeaderValue::from_static("application/json"),
            self.bytes.clone(),
        );
        Ok(())
    }
}

/// Shared by all operations of one document.
pub(crate) type SharedSchemas = Arc<schema::SchemaSet>;
