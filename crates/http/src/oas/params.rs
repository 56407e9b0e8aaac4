//! OpenAPI parameters (`in`: path, query, header, cookie): compiled once, then per request
//! extracted, coerced from text by the schema's type, defaulted and validated.
//!
//! Coercion (text → JSON) is the only place text becomes a number or a boolean, and it is
//! explicit: for each type the schema admits, in the order null, boolean, integer, number,
//! string, the first that parses wins: `null` ← `null`; boolean ← `true`/`false`; integer
//! ← an optional sign and digits; number ← a finite decimal (`""`, `0x10`, `1e999` are not
//! numbers). Text no type accepts stays a string, so validation reports it as a type error
//! naming the text. Arrays: `form` query parameters with `explode` (the default) repeat the
//! name (`?id=1&id=2`), otherwise values are comma-separated; each item is coerced by the
//! `items` schema. Object-valued parameters and styles other than `simple`/`form` are
//! refused when the document is loaded.

use std::borrow::Cow;

use http::HeaderName;
use serde_json::{Map, Number, Value};

use super::schema::{Compiler, Mode, SchemaId, SchemaSet, TypeSet, Validator};
use crate::error::{Detail, HttpError, spec_code};
use crate::request::Request;

/// Where a parameter comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// A compiled parameter.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) location: Location,
    header: Option<HeaderName>,
    required: bool,
    explode: bool,
    schema: Option<SchemaId>,
    types: Option<TypeSet>,
    item_types: Option<TypeSet>,
    /// `/query/name`, the detail path.
    pointer: String,
}

impl Param {
    /// Compiles a parameter object (`$ref`s already followed) found at `pointer`.
    pub(crate) fn compile(
        value: &Value,
        pointer: &str,
        compiler: &mut Compiler<'_>,
    ) -> Result<Self, HttpError> {
        let fail = |reason: &str| HttpError::spec(spec_code::INVALID_PARAMETER, pointer, reason);
        let unsupported =
            |reason: &str| HttpError::spec(spec_code::UNSUPPORTED_PARAMETER, pointer, reason);
        let object = value
            .as_object()
            .ok_or_else(|| fail("a parameter is an object"))?;
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| fail("a parameter needs a name"))?;
        let location = match object.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => Location::Cookie,
            _ => return Err(fail("`in` is one of path, query, header, cookie")),
        };
        if object.contains_key("content") {
            return Err(unsupported(
                "parameters with `content` are not supported; use `schema`",
            ));
        }
        let style = object.get("style").and_then(Value::as_str);
        let default_style = if matches!(location, Location::Query | Location::Cookie) {
            "form"
        } else {
            "simple"
        };
        if style.is_some_and(|s| s != default_style) {
            return Err(unsupported(&format!(
                "only style {default_style:?} is supported here"
            )));
        }
        if object.get("allowReserved").and_then(Value::as_bool) == Some(true) {
            return Err(unsupported("allowReserved is not supported"));
        }
        let explode = object
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(default_style == "form");
        let schema = match object.get("schema") {
            Some(schema) => Some(compiler.compile(schema, &format!("{pointer}/schema"))?),
            None => None,
        };
        let header = match location {
            Location::Header => Some(
                HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                    .map_err(|_| fail("the header name is not a valid header name"))?,
            ),
            _ => None,
        };
        Ok(Self {
            name: name.to_owned(),
            location,
            header,
            required: location == Location::Path
                || object
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            explode,
            schema,
            types: None,
            item_types: None,
            pointer: format!("/{}/{}", location.name(), name),
        })
    }

    /// Fills in the coercion types once every schema of the document is compiled.
    pub(crate) fn resolve_types(&mut self, set: &SchemaSet) -> Result<(), HttpError> {
        let Some(schema) = self.schema else {
            return Ok(());
        };
        self.types = set.types(schema);
        if let Some(types) = self.types {
            if types.contains(TypeSet::OBJECT) {
                return Err(HttpError::spec(
                    spec_code::UNSUPPORTED_PARAMETER,
                    &self.pointer,
                    "object-valued parameters are not supported",
                ));
            }
            if types.contains(TypeSet::ARRAY) {
                self.item_types = set
                    .rules(schema)
                    .and_then(|r| r.items)
                    .and_then(|items| set.types(items));
            }
        }
        Ok(())
    }

    fn is_array(&self) -> bool {
        self.types.is_some_and(|t| t.contains(TypeSet::ARRAY))
    }
}

/// The query string parsed once per request, when an operation has query parameters.
pub(crate) struct Query<'r> {
    pairs: Vec<(Cow<'r, str>, Cow<'r, str>)>,
}

impl<'r> Query<'r> {
    pub(crate) fn parse(request: &'r Request) -> Self {
        let pairs = request
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
            .unwrap_or_default();
        Self { pairs }
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_ref())
    }
}

/// Extracts, coerces, defaults and validates every parameter; writes the values into
/// `values` and every violation into `details`.
pub(crate) fn extract(
    params: &[Param],
    request: &Request,
    set: &SchemaSet,
    values: &mut Map<String, Value>,
    details: &mut Vec<Detail>,
) {
    let needs_query = params.iter().any(|p| p.location == Location::Query);
    let query = needs_query.then(|| Query::parse(request));
    for param in params {
        let raw: Option<Vec<Cow<'_, str>>> = match param.location {
            Location::Path => request
                .path_param(&param.name)
                .map(|v| vec![Cow::Borrowed(v)]),
            Location::Query => {
                let values: Vec<Cow<'_, str>> = query
                    .as_ref()
                    .map(|q| q.all(&param.name).map(Cow::Borrowed).collect())
                    .unwrap_or_default();
                (!values.is_empty()).then_some(values)
            }
            Location::Header => {
                let values: Vec<Cow<'_, str>> = param
                    .header
                    .as_ref()
                    .map(|h| {
                        request
                            .headers()
                            .get_all(h)
                            .iter()
                            .map(|v| String::from_utf8_lossy(v.as_bytes()))
                            .collect()
                    })
                    .unwrap_or_default();
                (!values.is_empty()).then_some(values)
            }
            Location::Cookie => cookie(request, &param.name).map(|v| vec![Cow::Borrowed(v)]),
        };
        let value = match raw {
            Some(raw) => coerce_param(param, &raw),
            None => match param.schema.and_then(|s| set.default_of(s)) {
                Some(default) => default.clone(),
                None => {
                    if param.required {
                        let message = format!(
                            "The {} parameter {:?} is required",
                            param.location.name(),
                            param.name
                        );
                        details.push(Detail::new(
                            param.pointer.clone(),
                            "E_OAS_INVALID_PARAMETER_INSTANCE",
                            message,
                        ));
                    }
                    continue;
                }
            },
        };
        if let Some(schema) = param.schema {
            let mut validator = Validator::new(set, Mode::Request);
            validator.validate(schema, &value, &mut String::new());
            details.extend(validator.into_details_at(&param.pointer));
        }
        values.insert(param.name.clone(), value);
    }
}

fn cookie<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

fn coerce_param(param: &Param, raw: &[Cow<'_, str>]) -> Value {
    if param.is_array() {
        let items: Vec<&str> = if param.location == Location::Query && param.explode {
            raw.iter().map(AsRef::as_ref).collect()
        } else {
            raw.iter().flat_map(|v| v.split(',')).collect()
        };
        let item_types = param.item_types;
        return Value::Array(
            items
                .into_iter()
                .map(|t| coerce(t.trim_matches(' '), item_types))
                .collect(),
        );
    }
    let first = raw.first().map_or("", AsRef::as_ref);
    // Several header lines of one field are one comma-separated value.
    let text: Cow<'_, str> = if param.location == Location::Header && raw.len() > 1 {
        Cow::Owned(raw.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "))
    } else {
        Cow::Borrowed(first)
    };
    coerce(&text, param.types)
}

/// Text → JSON by the admitted types (see the module documentation).
pub(crate) fn coerce(text: &str, types: Option<TypeSet>) -> Value {
    let Some(types) = types else {
        return Value::String(text.to_owned());
    };
    if types.contains(TypeSet::NULL) && text == "null" {
        return Value::Null;
    }
    if types.contains(TypeSet::BOOLEAN) {
        match text {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    if types.contains(TypeSet::INTEGER) || types.contains(TypeSet::NUMBER) {
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = text.parse::<i64>() {
                return Value::Number(n.into());
            }
            if let Ok(n) = text.trim_start_matches('+').parse::<u64>() {
                return Value::Number(n.into());
            }
        }
    }
    if types.contains(TypeSet::NUMBER)
        && is_decimal(text)
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// `[sign] digits [. digits] [e [sign] digits]`, nothing else (no `0x`, `inf`, `NaN`).
fn is_decimal(text: &str) -> bool {
    let text = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty())
        && all_digits(whole)
        && all_digits(fraction)
        && exponent.is_none_or(|e| !e.is_empty() && all_digits(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercion_parses_only_well_formed_numbers_and_booleans() {
        let int = Some(TypeSet::INTEGER);
        let num = Some(TypeSet::NUMBER);
        assert_eq!(coerce("42", int), json!(42));
        assert_eq!(coerce("-1", int), json!(-1));
        assert_eq!(coerce("", int), json!(""));
        assert_eq!(coerce("0x10", int), json!("0x10"));
        assert_eq!(coerce("1.5", int), json!("1.5"));
        assert_eq!(coerce("1.5", num), json!(1.5));
        assert_eq!(coerce("1e999", num), json!("1e999"));
        assert_eq!(coerce("NaN", num), json!("NaN"));
        assert_eq!(coerce("true", Some(TypeSet::BOOLEAN)), json!(true));
        assert_eq!(coerce("yes", Some(TypeSet::BOOLEAN)), json!("yes"));
        assert_eq!(coerce("null", Some(TypeSet::NULL)), Value::Null);
        assert_eq!(coerce("7", None), json!("7"));
    }
}
