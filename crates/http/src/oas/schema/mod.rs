//! A focused validator for the JSON-schema subset OpenAPI 3.0 and 3.1 use, compiled once.
//!
//! Why not the `jsonschema` crate: OpenAPI 3.0 schemas are not JSON Schema (`nullable`,
//! boolean `exclusiveMinimum`, `readOnly` meaning "must not be sent"), parameters need
//! coercion from text driven by the schema's type before validation, and every violation
//! must come out as a flat `{path, code, message}` with our stable `E_OAS_*` codes. Doing
//! that on top of a general validator means re-walking its output and re-implementing the
//! 3.0 dialect anyway; the subset below is small, fully tested, and compiles each schema
//! (including regexes and `$ref`s, recursive ones too) once when routes are built.
//!
//! Supported: `type` (string or list), `nullable`, `enum`, `const`, `minimum`, `maximum`,
//! `exclusiveMinimum`/`exclusiveMaximum` (3.0 boolean and 3.1 numeric forms), `multipleOf`,
//! `minLength`, `maxLength`, `pattern`, `format` (date, date-time, time, email, uuid, ipv4,
//! ipv6, uri, byte, int32, int64; others are annotations), `items`, `prefixItems`,
//! `minItems`, `maxItems`, `uniqueItems`, `properties`, `required`,
//! `additionalProperties` (boolean or schema), `patternProperties`, `propertyNames`,
//! `minProperties`, `maxProperties`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`,
//! `readOnly`, `default`, and local `$ref` (with siblings, treated as `allOf`).

mod format;
mod validate;

use std::collections::HashMap;

use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value;

pub(crate) use format::Format;
pub(crate) use validate::{Mode, Validator, apply_defaults};

use crate::error::{HttpError, spec_code};

/// Index of a compiled schema in its [`SchemaSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SchemaId(usize);

/// The JSON types a schema admits, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TypeSet(u8);

impl TypeSet {
    pub(crate) const NULL: Self = Self(1);
    pub(crate) const BOOLEAN: Self = Self(2);
    pub(crate) const INTEGER: Self = Self(4);
    pub(crate) const NUMBER: Self = Self(8);
    pub(crate) const STRING: Self = Self(16);
    pub(crate) const ARRAY: Self = Self(32);
    pub(crate) const OBJECT: Self = Self(64);

    pub(crate) fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "null" => Self::NULL,
            "boolean" => Self::BOOLEAN,
            "integer" => Self::INTEGER,
            "number" => Self::NUMBER,
            "string" => Self::STRING,
            "array" => Self::ARRAY,
            "object" => Self::OBJECT,
            _ => return None,
        })
    }

    /// Names, for messages (`integer or null`).
    pub(crate) fn describe(self) -> String {
        let names = [
            (Self::NULL, "null"),
            (Self::BOOLEAN, "boolean"),
            (Self::INTEGER, "integer"),
            (Self::NUMBER, "number"),
            (Self::STRING, "string"),
            (Self::ARRAY, "array"),
            (Self::OBJECT, "object"),
        ];
        names
            .iter()
            .filter(|(t, _)| self.contains(*t))
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// A bound: the limit and whether it is exclusive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bound {
    pub(crate) limit: f64,
    pub(crate) exclusive: bool,
}

/// `additionalProperties`.
#[derive(Debug)]
pub(crate) enum Additional {
    Allowed,
    Forbidden,
    Schema(SchemaId),
}

/// The keywords of one schema object.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub(crate) types: Option<TypeSet>,
    pub(crate) enumeration: Option<Vec<Value>>,
    pub(crate) constant: Option<Value>,
    pub(crate) minimum: Option<Bound>,
    pub(crate) maximum: Option<Bound>,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) pattern: Option<Regex>,
    pub(crate) format: Option<Format>,
    pub(crate) items: Option<SchemaId>,
    pub(crate) prefix_items: Vec<SchemaId>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) unique_items: bool,
    pub(crate) properties: IndexMap<String, SchemaId>,
    pub(crate) pattern_properties: Vec<(Regex, SchemaId)>,
    pub(crate) required: Vec<String>,
    pub(crate) additional: Option<Additional>,
    pub(crate) property_names: Option<SchemaId>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
    pub(crate) all_of: Vec<SchemaId>,
    pub(crate) any_of: Vec<SchemaId>,
    pub(crate) one_of: Vec<SchemaId>,
    pub(crate) not: Option<SchemaId>,
    pub(crate) condition: Option<(SchemaId, Option<SchemaId>, Option<SchemaId>)>,
    pub(crate) read_only: bool,
    pub(crate) default: Option<Value>,
}

/// A compiled schema.
#[derive(Debug)]
pub(crate) enum Node {
    /// `true` or `{}`.
    Any,
    /// `false`.
    Never,
    /// A schema object.
    Rules(Box<Rules>),
}

/// All schemas of one document, addressed by [`SchemaId`].
#[derive(Debug, Default)]
pub(crate) struct SchemaSet {
    nodes: Vec<Node>,
}

impl SchemaSet {
    pub(crate) fn node(&self, id: SchemaId) -> &Node {
        &self.nodes[id.0]
    }

    pub(crate) fn rules(&self, id: SchemaId) -> Option<&Rules> {
        match self.node(id) {
            Node::Rules(rules) => Some(rules),
            _ => None,
        }
    }

    /// The types a schema admits, looking through a lone `$ref`/`allOf` wrapper.
    pub(crate) fn types(&self, id: SchemaId) -> Option<TypeSet> {
        let rules = self.rules(id)?;
        rules
            .types
            .or_else(|| rules.all_of.iter().find_map(|sub| self.types(*sub)))
    }

    /// The `default` of a schema, looking through a lone `$ref`/`allOf` wrapper.
    pub(crate) fn default_of(&self, id: SchemaId) -> Option<&Value> {
        let rules = self.rules(id)?;
        rules
            .default
            .as_ref()
            .or_else(|| rules.all_of.iter().find_map(|sub| self.default_of(*sub)))
    }
}

/// Compiles schemas of one document, resolving local `$ref`s once each.
pub(crate) struct Compiler<'d> {
    document: &'d Value,
    set: SchemaSet,
    refs: HashMap<String, SchemaId>,
}

impl<'d> Compiler<'d> {
    pub(crate) fn new(document: &'d Value) -> Self {
        Self {
            document,
            set: SchemaSet::default(),
            refs: HashMap::new(),
        }
    }

    pub(crate) fn finish(self) -> SchemaSet {
        self.set
    }

    /// Compiles the schema `value` found at `pointer` (for messages).
    pub(crate) fn compile(&mut self, value: &Value, pointer: &str) -> Result<SchemaId, HttpError> {
        if let Some(object) = value.as_object()
            && let Some(reference) = object.get("$ref")
            && object.keys().all(|k| k == "$ref" || is_annotation(k))
        {
            return self.reference(reference, pointer);
        }
        let id = self.push(Node::Any);
        self.fill(id, value, pointer)?;
        Ok(id)
    }

    /// Resolves a `$ref` value to a compiled schema, compiling each target once; the id is
    /// reserved before the target is compiled, so recursive schemas refer to themselves.
    fn reference(&mut self, reference: &Value, pointer: &str) -> Result<SchemaId, HttpError> {
        let text = reference
            .as_str()
            .ok_or_else(|| invalid(pointer, "$ref is a string"))?;
        if let Some(id) = self.refs.get(text) {
            return Ok(*id);
        }
        let target = resolve_ref(self.document, text, pointer)?;
        let id = self.push(Node::Any);
        self.refs.insert(text.to_owned(), id);
        self.fill(id, target, text.trim_start_matches('#'))?;
        Ok(id)
    }

    fn fill(&mut self, id: SchemaId, value: &Value, pointer: &str) -> Result<(), HttpError> {
        let node = match value {
            Value::Bool(true) => Node::Any,
            Value::Bool(false) => Node::Never,
            Value::Object(object) => {
                if object.keys().all(|k| is_annotation(k)) {
                    Node::Any
                } else {
                    let mut rules = self.rules(value, pointer)?;
                    if let Some(reference) = object.get("$ref") {
                        let target = self.reference(reference, pointer)?;
                        rules.all_of.insert(0, target);
                    }
                    Node::Rules(Box::new(rules))
                }
            }
            _ => return Err(invalid(pointer, "a schema is an object or a boolean")),
        };
        self.set.nodes[id.0] = node;
        Ok(())
    }

    fn push(&mut self, node: Node) -> SchemaId {
        self.set.nodes.push(node);
        SchemaId(self.set.nodes.len() - 1)
    }

    fn sub(&mut self, value: &Value, pointer: &str, key: &str) -> Result<SchemaId, HttpError> {
        self.compile(value, &format!("{pointer}/{key}"))
    }

    fn list(
        &mut self,
        value: &Value,
        pointer: &str,
        key: &str,
    ) -> Result<Vec<SchemaId>, HttpError> {
        let items = value
            .as_array()
            .ok_or_else(|| invalid(pointer, &format!("{key} is a list of schemas")))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.compile(item, &format!("{pointer}/{key}/{i}")))
            .collect()
    }

    fn rules(&mut self, value: &Value, pointer: &str) -> Result<Rules, HttpError> {
        let mut rules = Rules::default();
        let Some(object) = value.as_object() else {
            return Ok(rules);
        };
        let mut nullable = false;
        for (key, value) in object {
            let at = |reason: &str| invalid(&format!("{pointer}/{key}"), reason);
            match key.as_str() {
                "type" => rules.types = Some(parse_types(value).ok_or_else(|| at("unknown type"))?),
                "nullable" => nullable = value.as_bool().ok_or_else(|| at("a boolean"))?,
                "enum" => {
                    let list = value.as_array().ok_or_else(|| at("a list"))?;
                    rules.enumeration = Some(list.clone());
                }
                "const" => rules.constant = Some(value.clone()),
                "minimum" => {
                    rules.minimum = Some(bound(value, false).ok_or_else(|| at("a number"))?)
                }
                "maximum" => {
                    rules.maximum = Some(bound(value, false).ok_or_else(|| at("a number"))?)
                }
                "exclusiveMinimum" | "exclusiveMaximum" => {}
                "multipleOf" => {
                    let n = value.as_f64().filter(|n| *n > 0.0);
                    rules.multiple_of = Some(n.ok_or_else(|| at("a positive number"))?);
                }
                "minLength" => rules.min_length = Some(count(value).ok_or_else(|| at("a count"))?),
                "maxLength" => rules.max_length = Some(count(value).ok_or_else(|| at("a count"))?),
                "pattern" => rules.pattern = Some(regex(value).map_err(|e| at(&e))?),
                "format" => rules.format = value.as_str().and_then(Format::parse),
                "items" if value.is_array() => {
                    rules.prefix_items = self.list(value, pointer, key)?
                }
                "items" => rules.items = Some(self.sub(value, pointer, key)?),
                "prefixItems" => rules.prefix_items = self.list(value, pointer, key)?,
                "minItems" => rules.min_items = Some(count(value).ok_or_else(|| at("a count"))?),
                "maxItems" => rules.max_items = Some(count(value).ok_or_else(|| at("a count"))?),
                "uniqueItems" => {
                    rules.unique_items = value.as_bool().ok_or_else(|| at("a boolean"))?
                }
                "properties" => {
                    let map = value.as_object().ok_or_else(|| at("an object"))?;
                    for (name, schema) in map {
                        let id = self.compile(schema, &format!("{pointer}/properties/{name}"))?;
                        rules.properties.insert(name.clone(), id);
                    }
                }
                "patternProperties" => {
                    let map = value.as_object().ok_or_else(|| at("an object"))?;
                    for (pattern, schema) in map {
                        let regex = regex(&Value::String(pattern.clone())).map_err(|e| at(&e))?;
                        let id = self
                            .compile(schema, &format!("{pointer}/patternProperties/{pattern}"))?;
                        rules.pattern_properties.push((regex, id));
                    }
                }
                "required" => {
                    let list = value.as_array().ok_or_else(|| at("a list of names"))?;
                    rules.required = list
                        .iter()
                        .map(|n| {
                            n.as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| at("a list of names"))
                        })
                        .collect::<Result<_, _>>()?;
                }
                "additionalProperties" => {
                    rules.additional = Some(match value {
                        Value::Bool(true) => Additional::Allowed,
                        Value::Bool(false) => Additional::Forbidden,
                        _ => Additional::Schema(self.sub(value, pointer, key)?),
                    });
                }
                "propertyNames" => rules.property_names = Some(self.sub(value, pointer, key)?),
                "minProperties" => {
                    rules.min_properties = Some(count(value).ok_or_else(|| at("a count"))?)
                }
                "maxProperties" => {
                    rules.max_properties = Some(count(value).ok_or_else(|| at("a count"))?)
                }
                "allOf" => rules.all_of = self.list(value, pointer, key)?,
                "anyOf" => rules.any_of = self.list(value, pointer, key)?,
                "oneOf" => rules.one_of = self.list(value, pointer, key)?,
                "not" => rules.not = Some(self.sub(value, pointer, key)?),
                "if" => {
                    let when = self.sub(value, pointer, key)?;
                    let then = object
                        .get("then")
                        .map(|v| self.sub(v, pointer, "then"))
                        .transpose()?;
                    let otherwise = object
                        .get("else")
                        .map(|v| self.sub(v, pointer, "else"))
                        .transpose()?;
                    rules.condition = Some((when, then, otherwise));
                }
                "readOnly" => rules.read_only = value.as_bool().ok_or_else(|| at("a boolean"))?,
                "default" => rules.default = Some(value.clone()),
                _ => {}
            }
        }
        rules.minimum = exclusive(object.get("exclusiveMinimum"), rules.minimum, pointer)?;
        rules.maximum = exclusive(object.get("exclusiveMaximum"), rules.maximum, pointer)?;
        if nullable && let Some(types) = &mut rules.types {
            types.insert(TypeSet::NULL);
        }
        Ok(rules)
    }
}

/// Keywords that never constrain a value.
fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "title"
            | "description"
            | "example"
            | "examples"
            | "deprecated"
            | "externalDocs"
            | "xml"
            | "discriminator"
            | "$schema"
            | "$id"
            | "$comment"
            | "summary"
    ) || key.starts_with("x-")
}

fn parse_types(value: &Value) -> Option<TypeSet> {
    let mut set = TypeSet::default();
    match value {
        Value::String(name) => set.insert(TypeSet::parse(name)?),
        Value::Array(names) => {
            for name in names {
                set.insert(TypeSet::parse(name.as_str()?)?);
            }
        }
        _ => return None,
    }
    (!set.is_empty()).then_some(set)
}

fn bound(value: &Value, exclusive: bool) -> Option<Bound> {
    value.as_f64().map(|limit| Bound { limit, exclusive })
}

fn count(value: &Value) -> Option<u64> {
    value.as_u64()
}

fn regex(value: &Value) -> Result<Regex, String> {
    let text = value.as_str().ok_or("a pattern is a string")?;
    Regex::new(text).map_err(|e| format!("invalid pattern: {e}"))
}

/// Folds 3.0 boolean and 3.1 numeric `exclusiveMinimum`/`exclusiveMaximum` into a bound.
fn exclusive(
    value: Option<&Value>,
    base: Option<Bound>,
    pointer: &str,
) -> Result<Option<Bound>, HttpError> {
    match value {
        None | Some(Value::Bool(false)) => Ok(base),
        Some(Value::Bool(true)) => match base {
            Some(bound) => Ok(Some(Bound {
                exclusive: true,
                ..bound
            })),
            None => Err(invalid(
                pointer,
                "a boolean exclusive bound needs minimum/maximum",
            )),
        },
        Some(value) => {
            let limit = value
                .as_f64()
                .ok_or_else(|| invalid(pointer, "an exclusive bound is a number or a boolean"))?;
            Ok(Some(Bound {
                limit,
                exclusive: true,
            }))
        }
    }
}

/// Follows a local `$ref` (`#/components/...`) in `document`.
pub(crate) fn resolve_ref<'d>(
    document: &'d Value,
    reference: &str,
    pointer: &str,
) -> Result<&'d Value, HttpError> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(HttpError::spec(
            spec_code::INVALID,
            pointer,
            format!("only local references are supported, not {reference:?}"),
        ));
    };
    document.pointer(fragment).ok_or_else(|| {
        HttpError::spec(
            spec_code::INVALID,
            pointer,
            format!("{reference:?} does not resolve"),
        )
    })
}

fn invalid(pointer: &str, reason: &str) -> HttpError {
    HttpError::spec(spec_code::INVALID_SCHEMA, pointer, reason)
}

#[cfg(test)]
mod tests;
