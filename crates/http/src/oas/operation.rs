//! One OpenAPI operation compiled into a route whose first chain link validates the
//! request (parameters and JSON body) and reports every violation at once.

use std::sync::Arc;

use async_trait::async_trait;
use http::Method;
use serde_json::{Map, Value};

use super::params::{self, Location, Param};
use super::schema::{self, Compiler, Mode, SchemaId, Validator};
use super::{METHODS, OpenApi, SharedSchemas, follow};
use crate::error::{Detail, HttpError, spec_code};
use crate::middleware::{Middleware, Next, Resolver};
use crate::negotiate::{self, MediaRange};
use crate::request::Request;
use crate::router::builder::{media_ranges, resolve_middleware};
use crate::router::{CompiledRoute, Methods, Pattern, RouteInfo};
use crate::view::View;

/// The request body an operation accepts.
struct BodySpec {
    required: bool,
    content: Vec<(MediaRange, Option<SchemaId>)>,
    ranges: Vec<MediaRange>,
}

/// For a JSON body, the schema of the `content` entry the content type selects.
fn json_schema(spec: &BodySpec, content_type: Option<&str>) -> Option<Option<SchemaId>> {
    let matched = negotiate::consumed(content_type?, &spec.ranges)?;
    let (range, schema) = spec.content.iter().find(|(r, _)| r == matched)?;
    range.is_json().then_some(*schema)
}

/// The validation step in front of an operation's chain.
struct OperationStep {
    label: String,
    params: Vec<Param>,
    body: Option<BodySpec>,
    schemas: SharedSchemas,
}

struct Pending {
    name: String,
    path: String,
    method: Method,
    dispatcher: String,
    security: Vec<String>,
    middleware: Vec<String>,
    params: Vec<Param>,
    body: Option<BodySpec>,
    consumes: Vec<String>,
    produces: Vec<String>,
}

/// Compiles every operation that names a dispatcher into a route.
pub(crate) fn compile_operations(
    openapi: &OpenApi,
    resolver: &dyn Resolver,
) -> Result<Vec<CompiledRoute>, HttpError> {
    let document = openapi.document();
    let mut compiler = Compiler::new(document);
    let mut pending = Vec::new();
    let empty = Map::new();
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (path, item) in paths {
        let item_pointer = format!("/paths/{}", path.replace('~', "~0").replace('/', "~1"));
        let item = follow(document, item, &item_pointer)?;
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let pointer = format!("{item_pointer}/{method}");
            let Some(dispatcher) = dispatcher_name(operation) else {
                tracing::debug!(operation = %pointer, "operation names no dispatcher; not routed");
                continue;
            };
            let params = compile_params(document, item, operation, &pointer, &mut compiler)?;
            let (body, consumes) = compile_body(document, operation, &pointer, &mut compiler)?;
            let upper = method.to_ascii_uppercase();
            pending.push(Pending {
                name: format!("{upper} {path}"),
                path: path.clone(),
                method: Method::from_bytes(upper.as_bytes())
                    .map_err(|_| HttpError::spec(spec_code::INVALID, &pointer, "invalid method"))?,
                dispatcher,
                security: security_middleware(document, operation, &pointer)?,
                middleware: names(
                    operation
                        .get("x-middleware")
                        .or_else(|| operation.get("x-middlewares")),
                ),
                params,
                body,
                consumes,
                produces: produces(document, operation, &pointer)?,
            });
        }
    }
    let schemas = Arc::new(compiler.finish());
    pending
        .into_iter()
        .map(|mut op| {
            for param in &mut op.params {
                param.resolve_types(&schemas)?;
            }
            let dispatcher = resolver.dispatcher(&op.dispatcher).ok_or_else(|| {
                HttpError::UnknownDispatcher {
                    route: op.name.clone(),
                    name: op.dispatcher.clone(),
                    document: None,
                }
            })?;
            // Security first: an unauthenticated request learns nothing from validation.
            let mut chain = resolve_middleware(resolver, &op.name, &op.security)?;
            if !op.params.is_empty() || op.body.is_some() {
                chain.push(Arc::new(OperationStep {
                    label: op.name.clone(),
                    params: op.params,
                    body: op.body,
                    schemas: Arc::clone(&schemas),
                }));
            }
            chain.extend(resolve_middleware(resolver, &op.name, &op.middleware)?);
            Ok(CompiledRoute {
                info: Arc::new(RouteInfo {
                    name: op.name.clone(),
                    condition: op.path.clone(),
                    meta: Map::new(),
                    operation: Some(op.name.clone()),
                }),
                pattern: Pattern::compile(&op.name, &op.path)?,
                methods: Methods::List(vec![op.method]),
                chain: chain.into(),
                dispatcher: Some(dispatcher),
                consumes: media_ranges(&op.name, &op.consumes)?,
                produces: media_ranges(&op.name, &op.produces)?,
                metrics: crate::metrics::RouteMetrics::new(&op.name),
            })
        })
        .collect()
}

pub(super) fn dispatcher_name(operation: &Value) -> Option<String> {
    let name = operation
        .get("x-dispatcher")
        .or_else(|| operation.get("operationId"))
        .and_then(Value::as_str)?;
    let name = name.split('#').next().unwrap_or(name);
    (!name.is_empty()).then(|| name.to_owned())
}

/// The middleware that enforces an operation's security requirement (its own
/// `security`, else the document's): each scheme the requirement names must be a
/// `components.securitySchemes` entry with an `x-middleware` naming the middleware that
/// checks it. One requirement object (its schemes all apply) is supported; `[]` or `[{}]`
/// means no security.
fn security_middleware(
    document: &Value,
    operation: &Value,
    pointer: &str,
) -> Result<Vec<String>, HttpError> {
    let (requirements, at) = match operation.get("security") {
        Some(own) => (own, format!("{pointer}/security")),
        None => match document.get("security") {
            Some(shared) => (shared, "/security".to_owned()),
            None => return Ok(Vec::new()),
        },
    };
    let invalid = |reason: &str| HttpError::spec(spec_code::INVALID, &at, reason);
    let list = requirements
        .as_array()
        .ok_or_else(|| invalid("`security` is a list of security requirement objects"))?;
    let mut schemes = Vec::new();
    match list.as_slice() {
        [] => return Ok(Vec::new()),
        [requirement] => {
            let requirement = requirement
                .as_object()
                .ok_or_else(|| invalid("a security requirement is an object"))?;
            schemes.extend(requirement.keys().cloned());
        }
        _ => {
            return Err(HttpError::spec(
                spec_code::UNSUPPORTED_SECURITY,
                &at,
                "alternative security requirements are not supported; give one requirement object",
            ));
        }
    }
    schemes
        .into_iter()
        .map(|scheme| {
            let scheme_pointer = format!("/components/securitySchemes/{scheme}");
            let definition = document.pointer(&scheme_pointer).ok_or_else(|| {
                invalid(&format!("the security scheme {scheme:?} is not defined"))
            })?;
            let definition = follow(document, definition, &scheme_pointer)?;
            definition
                .get("x-middleware")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    HttpError::spec(
                        spec_code::UNSUPPORTED_SECURITY,
                        &scheme_pointer,
                        "a security scheme needs `x-middleware`: the middleware that checks it",
                    )
                })
        })
        .collect()
}

fn names(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(name)) => vec![name.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Path-item parameters overridden by operation parameters of the same name and `in`.
fn compile_params(
    document: &Value,
    item: &Value,
    operation: &Value,
    pointer: &str,
    compiler: &mut Compiler<'_>,
) -> Result<Vec<Param>, HttpError> {
    let mut params: Vec<Param> = Vec::new();
    let sources = [(item, "parameters"), (operation, "parameters")];
    for (index, (source, key)) in sources.into_iter().enumerate() {
        let Some(list) = source.get(key) else {
            continue;
        };
        let list = list.as_array().ok_or_else(|| {
            HttpError::spec(
                spec_code::INVALID_PARAMETER,
                pointer,
                "`parameters` is a list",
            )
        })?;
        for (i, value) in list.iter().enumerate() {
            let at = if index == 0 {
                format!("{pointer}/../parameters/{i}")
            } else {
                format!("{pointer}/parameters/{i}")
            };
            let value = follow(document, value, &at)?;
            let param = Param::compile(value, &at, compiler)?;
            params.retain(|p| !(p.name == param.name && p.location == param.location));
            params.push(param);
        }
    }
    if params
        .iter()
        .any(|p| p.location == Location::Path && p.name.is_empty())
    {
        return Err(HttpError::spec(
            spec_code::INVALID_PARAMETER,
            pointer,
            "empty path parameter name",
        ));
    }
    // `Request::param` is one map by name, so one name in two places (path `id` and
    // query `id`) would silently shadow a value; refuse the document instead.
    for (i, param) in params.iter().enumerate() {
        if let Some(other) = params[..i].iter().find(|p| p.name == param.name) {
            return Err(HttpError::spec(
                spec_code::INVALID_PARAMETER,
                pointer,
                format!(
                    "parameter `{}` is declared in {} and in {}; give them different names",
                    param.name,
                    other.location.name(),
                    param.location.name()
                ),
            ));
        }
    }
    Ok(params)
}

fn compile_body(
    document: &Value,
    operation: &Value,
    pointer: &str,
    compiler: &mut Compiler<'_>,
) -> Result<(Option<BodySpec>, Vec<String>), HttpError> {
    let Some(body) = operation.get("requestBody") else {
        return Ok((None, Vec::new()));
    };
    let at = format!("{pointer}/requestBody");
    let body = follow(document, body, &at)?;
    let fail = |reason: &str| HttpError::spec(spec_code::INVALID_REQUEST_BODY, &at, reason);
    let content = body
        .get("content")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| fail("`content` is a non-empty object"))?;
    let mut spec = BodySpec {
        required: body
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        content: Vec::new(),
        ranges: Vec::new(),
    };
    let mut consumes = Vec::new();
    for (media, entry) in content {
        let range = MediaRange::parse(media)
            .ok_or_else(|| fail(&format!("invalid media type {media:?}")))?;
        let schema = match entry.get("schema") {
            Some(schema) if range.is_json() => {
                let escaped = media.replace('~', "~0").replace('/', "~1");
                Some(compiler.compile(schema, &format!("{at}/content/{escaped}/schema"))?)
            }
            _ => None,
        };
        consumes.push(media.clone());
        spec.ranges.push(range.clone());
        spec.content.push((range, schema));
    }
    Ok((Some(spec), consumes))
}

fn produces(document: &Value, operation: &Value, pointer: &str) -> Result<Vec<String>, HttpError> {
    let mut types: Vec<String> = Vec::new();
    let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
        return Ok(types);
    };
    for (status, response) in responses {
        let response = follow(document, response, &format!("{pointer}/responses/{status}"))?;
        if let Some(content) = response.get("content").and_then(Value::as_object) {
            for media in content.keys() {
                if !types.contains(media) {
                    types.push(media.clone());
                }
            }
        }
    }
    Ok(types)
}

#[async_trait]
impl Middleware for OperationStep {
    async fn handle(
        &self,
        request: &mut Request,
        view: &mut View,
        next: Next<'_>,
    ) -> Result<(), HttpError> {
        let mut details = Vec::new();
        if !self.params.is_empty() {
            let mut values = Map::new();
            params::extract(
                &self.params,
                request,
                &self.schemas,
                &mut values,
                &mut details,
            );
            request.set_params(values);
        }
        let param_violations = !details.is_empty();
        if let Some(body) = &self.body {
            self.check_body(body, request, &mut details).await?;
        }
        if !details.is_empty() {
            let operation = self.label.clone();
            return Err(if param_violations {
                HttpError::InvalidParameters { operation, details }
            } else {
                HttpError::InvalidRequestBody { operation, details }
            });
        }
        next.run(request, view).await
    }
}

impl OperationStep {
    async fn check_body(
        &self,
        spec: &BodySpec,
        request: &mut Request,
        details: &mut Vec<Detail>,
    ) -> Result<(), HttpError> {
        if !request.has_body() {
            if spec.required {
                details.push(Detail::new(
                    "/body",
                    "E_OAS_REQUEST_BODY_REQUIRED",
                    "A request body is required",
                ));
            }
            return Ok(());
        }
        // `None`: not JSON (or a type negotiation already refused): nothing to validate.
        let Some(schema) = json_schema(spec, request.header("content-type")) else {
            return Ok(());
        };
        let bytes = request.body_bytes().await?;
        let mut value: Value = match serde_json::from_slice(&bytes) {
            Ok(value) => value,
            Err(error) => {
                details.push(Detail::new(
                    "/body",
                    "E_HTTP_INVALID_JSON",
                    format!("The body is not valid JSON: {error}"),
                ));
                return Ok(());
            }
        };
        if let Some(schema) = schema {
            schema::apply_defaults(&self.schemas, schema, &mut value, 0);
            let mut validator = Validator::new(&self.schemas, Mode::Request);
            validator.validate(schema, &value, &mut String::new());
            details.extend(validator.into_details_at("/body"));
        }
        request.set_body_json(value);
        Ok(())
    }
}
