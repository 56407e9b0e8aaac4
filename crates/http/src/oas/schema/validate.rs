//! Validation of a JSON value against a compiled schema, collecting every violation as a
//! flat `{path, code, message}`; and filling in property defaults before validation.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Additional, Node, Rules, SchemaId, SchemaSet, TypeSet};
use crate::error::Detail;

/// Deepest chain of schema evaluations before giving up (guards self-referencing
/// schemas such as `A = allOf[A]`; real documents are far shallower).
const MAX_DEPTH: usize = 256;

/// Which way the value travels: requests must not carry `readOnly` properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Request,
}

/// Collects violations of one value.
pub(crate) struct Validator<'s> {
    set: &'s SchemaSet,
    mode: Mode,
    details: Vec<Detail>,
    depth: usize,
}

impl<'s> Validator<'s> {
    pub(crate) fn new(set: &'s SchemaSet, mode: Mode) -> Self {
        Self {
            set,
            mode,
            details: Vec::new(),
            depth: 0,
        }
    }

    /// The violations found so far.
    #[cfg(test)]
    pub(crate) fn into_details(self) -> Vec<Detail> {
        self.details
    }

    /// The violations, each path prefixed with where the value came from (`/query/x`):
    /// values are validated with an empty path, so scalars never allocate one.
    pub(crate) fn into_details_at(self, prefix: &str) -> impl Iterator<Item = Detail> {
        self.details.into_iter().map(move |mut detail| {
            detail.path.insert_str(0, prefix);
            detail
        })
    }

    fn report(&mut self, path: &str, code: &'static str, message: String) {
        self.details.push(Detail::new(path, code, message));
    }

    /// Whether `value` is valid, without reporting (for `anyOf`, `oneOf`, `not`, `if`).
    fn passes(&self, id: SchemaId, value: &Value, path: &mut String) -> bool {
        let mut probe = Validator {
            set: self.set,
            mode: self.mode,
            details: Vec::new(),
            depth: self.depth,
        };
        probe.validate(id, value, path);
        probe.details.is_empty()
    }

    /// Validates `value` at `path` (the path is restored on return).
    pub(crate) fn validate(&mut self, id: SchemaId, value: &Value, path: &mut String) {
        if self.depth >= MAX_DEPTH {
            self.report(
                path,
                "E_OAS_SCHEMA_TOO_DEEP",
                "The schema nests too deeply".into(),
            );
            return;
        }
        let rules = match self.set.node(id) {
            Node::Any => return,
            Node::Never => {
                self.report(
                    path,
                    "E_OAS_SCHEMA_FALSE",
                    "No value is allowed here".into(),
                );
                return;
            }
            Node::Rules(rules) => rules,
        };
        self.depth += 1;
        self.rules(rules, value, path);
        self.depth -= 1;
    }

    fn rules(&mut self, rules: &Rules, value: &Value, path: &mut String) {
        if let Some(types) = rules.types
            && !type_matches(types, value)
        {
            let message = format!("Expected {}, got {}", types.describe(), preview(value));
            self.report(path, "E_OAS_SCHEMA_TYPE", message);
            return;
        }
        if let Some(options) = &rules.enumeration
            && !options.iter().any(|o| json_eq(o, value))
        {
            let list: Vec<String> = options.iter().map(preview).collect();
            let message = format!("{} is not one of: {}", preview(value), list.join(", "));
            self.report(path, "E_OAS_SCHEMA_ENUM", message);
        }
        if let Some(constant) = &rules.constant
            && !json_eq(constant, value)
        {
            let message = format!("Expected {}, got {}", preview(constant), preview(value));
            self.report(path, "E_OAS_SCHEMA_CONST", message);
        }
        match value {
            Value::Number(number) => {
                if let Some(n) = number.as_f64() {
                    self.number(rules, n, path);
                }
            }
            Value::String(text) => self.string(rules, text, path),
            Value::Array(items) => self.array(rules, items, path),
            Value::Object(object) => self.object(rules, object, path),
            Value::Null | Value::Bool(_) => {}
        }
        self.combinators(rules, value, path);
    }

    fn number(&mut self, rules: &Rules, n: f64, path: &str) {
        if let Some(min) = rules.minimum {
            let fails = if min.exclusive {
                n <= min.limit
            } else {
                n < min.limit
            };
            if fails {
                let relation = if min.exclusive {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                self.report(
                    path,
                    "E_OAS_SCHEMA_MINIMUM",
                    format!("The number {n} must be {relation} {}", min.limit),
                );
            }
        }
        if let Some(max) = rules.maximum {
            let fails = if max.exclusive {
                n >= max.limit
            } else {
                n > max.limit
            };
            if fails {
                let relation = if max.exclusive {
                    "less than"
                } else {
                    "less than or equal to"
                };
                self.report(
                    path,
                    "E_OAS_SCHEMA_MAXIMUM",
                    format!("The number {n} must be {relation} {}", max.limit),
                );
            }
        }
        if let Some(divisor) = rules.multiple_of {
            let quotient = n / divisor;
            if (quotient - quotient.round()).abs() > 1e-9 {
                self.report(
                    path,
                    "E_OAS_SCHEMA_MULTIPLE_OF",
                    format!("The number {n} must be a multiple of {divisor}"),
                );
            }
        }
        if let Some(format) = rules.format
            && !format.check_number(n)
        {
            self.report(
                path,
                "E_OAS_SCHEMA_FORMAT",
                format!("The number {n} is out of range for {}", format.name()),
            );
        }
    }

    fn string(&mut self, rules: &Rules, text: &str, path: &str) {
        if rules.min_length.is_some() || rules.max_length.is_some() {
            let length = text.chars().count() as u64;
            if let Some(min) = rules.min_length.filter(|min| length < *min) {
                self.report(
                    path,
                    "E_OAS_SCHEMA_MIN_LENGTH",
                    format!("The text must be at least {min} characters long, it has {length}"),
                );
            }
            if let Some(max) = rules.max_length.filter(|max| length > *max) {
                self.report(
                    path,
                    "E_OAS_SCHEMA_MAX_LENGTH",
                    format!("The text must be at most {max} characters long, it has {length}"),
                );
            }
        }
        if let Some(pattern) = &rules.pattern
            && !pattern.is_match(text)
        {
            self.report(
                path,
                "E_OAS_SCHEMA_PATTERN",
                format!("The text does not match the pattern {}", pattern.as_str()),
            );
        }
        if let Some(format) = rules.format
            && !format.check_str(text)
        {
            self.report(
                path,
                "E_OAS_SCHEMA_FORMAT",
                format!("The text is not a valid {}", format.name()),
            );
        }
    }

    fn array(&mut self, rules: &Rules, items: &[Value], path: &mut String) {
        let len = items.len() as u64;
        if let Some(min) = rules.min_items.filter(|min| len < *min) {
            self.report(
                path,
                "E_OAS_SCHEMA_MIN_ITEMS",
                format!("The list must have at least {min} items, it has {len}"),
            );
        }
        if let Some(max) = rules.max_items.filter(|max| len > *max) {
            self.report(
                path,
                "E_OAS_SCHEMA_MAX_ITEMS",
                format!("The list must have at most {max} items, it has {len}"),
            );
        }
        if rules.unique_items {
            let mut seen = HashSet::with_capacity(items.len());
            if let Some(index) = items.iter().position(|item| !seen.insert(canonical(item))) {
                self.report(
                    path,
                    "E_OAS_SCHEMA_UNIQUE_ITEMS",
                    format!("The item at index {index} repeats an earlier one"),
                );
            }
        }
        for (index, item) in items.iter().enumerate() {
            let schema = rules.prefix_items.get(index).copied().or(rules.items);
            if let Some(schema) = schema {
                let len = push_segment(path, &index.to_string());
                self.validate(schema, item, path);
                path.truncate(len);
            }
        }
    }

    fn object(&mut self, rules: &Rules, object: &Map<String, Value>, path: &mut String) {
        for name in &rules.required {
            if !object.contains_key(name) {
                let len = push_segment(path, name);
                self.report(
                    path,
                    "E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES",
                    format!("The property {name:?} is required"),
                );
                path.truncate(len);
            }
        }
        let count = object.len() as u64;
        if let Some(min) = rules.min_properties.filter(|min| count < *min) {
            self.report(
                path,
                "E_OAS_SCHEMA_OBJECT_MIN_PROPERTIES",
                format!("The object must have at least {min} properties, it has {count}"),
            );
        }
        if let Some(max) = rules.max_properties.filter(|max| count > *max) {
            self.report(
                path,
                "E_OAS_SCHEMA_OBJECT_MAX_PROPERTIES",
                format!("The object must have at most {max} properties, it has {count}"),
            );
        }
        for (name, value) in object {
            let len = push_segment(path, name);
            if let Some(names) = rules.property_names
                && !self.passes(names, &Value::String(name.clone()), path)
            {
                self.report(
                    path,
                    "E_OAS_SCHEMA_OBJECT_PROPERTY_NAMES_INVALID_NAME",
                    format!("The property name {name:?} is not allowed"),
                );
            }
            let mut known = false;
            if let Some(schema) = rules.properties.get(name) {
                known = true;
                if self.mode == Mode::Request && self.is_read_only(*schema) {
                    self.report(
                        path,
                        "E_OAS_SCHEMA_READ_ONLY",
                        format!("The property {name:?} is read-only and cannot be sent"),
                    );
                } else {
                    self.validate(*schema, value, path);
                }
            }
            for (pattern, schema) in &rules.pattern_properties {
                if pattern.is_match(name) {
                    known = true;
                    self.validate(*schema, value, path);
                }
            }
            if !known {
                match &rules.additional {
                    Some(Additional::Forbidden) => {
                        self.report(
                            path,
                            "E_OAS_SCHEMA_OBJECT_ADDITIONAL_PROPERTY",
                            format!("The property {name:?} is not allowed"),
                        );
                    }
                    Some(Additional::Schema(schema)) => self.validate(*schema, value, path),
                    Some(Additional::Allowed) | None => {}
                }
            }
            path.truncate(len);
        }
    }

    fn is_read_only(&self, id: SchemaId) -> bool {
        self.set
            .rules(id)
            .is_some_and(|r| r.read_only || r.all_of.iter().any(|s| self.is_read_only(*s)))
    }

    fn combinators(&mut self, rules: &Rules, value: &Value, path: &mut String) {
        for schema in &rules.all_of {
            self.validate(*schema, value, path);
        }
        if !rules.any_of.is_empty() && !rules.any_of.iter().any(|s| self.passes(*s, value, path)) {
            let n = rules.any_of.len();
            self.report(
                path,
                "E_OAS_SCHEMA_ANY_OF",
                format!("The value matches none of the {n} allowed schemas (anyOf)"),
            );
        }
        if !rules.one_of.is_empty() {
            let matched = rules
                .one_of
                .iter()
                .filter(|s| self.passes(**s, value, path))
                .count();
            if matched != 1 {
                let n = rules.one_of.len();
                self.report(path, "E_OAS_SCHEMA_ONE_OF", format!("The value must match exactly one of the {n} schemas (oneOf); it matches {matched}"));
            }
        }
        if let Some(not) = rules.not
            && self.passes(not, value, path)
        {
            self.report(
                path,
                "E_OAS_SCHEMA_NOT",
                "The value matches a schema it must not match (not)".into(),
            );
        }
        if let Some((when, then, otherwise)) = rules.condition {
            let branch = if self.passes(when, value, path) {
                then
            } else {
                otherwise
            };
            if let Some(branch) = branch {
                self.validate(branch, value, path);
            }
        }
    }
}

/// Inserts the `default` of every absent property (recursively, through `allOf`).
pub(crate) fn apply_defaults(set: &SchemaSet, id: SchemaId, value: &mut Value, depth: usize) {
    let Some(rules) = set.rules(id) else {
        return;
    };
    if depth >= MAX_DEPTH {
        return;
    }
    for sub in &rules.all_of {
        apply_defaults(set, *sub, value, depth + 1);
    }
    match value {
        Value::Object(object) => {
            for (name, schema) in &rules.properties {
                match object.get_mut(name) {
                    Some(inner) => apply_defaults(set, *schema, inner, depth + 1),
                    None => {
                        if let Some(default) = set.default_of(*schema) {
                            object.insert(name.clone(), default.clone());
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                if let Some(schema) = rules.prefix_items.get(index).copied().or(rules.items) {
                    apply_defaults(set, schema, item, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Appends `/segment` (JSON-pointer escaped) and returns the length to truncate back to.
pub(crate) fn push_segment(path: &mut String, segment: &str) -> usize {
    let len = path.len();
    path.push('/');
    for c in segment.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
    len
}

fn type_matches(types: TypeSet, value: &Value) -> bool {
    match value {
        Value::Null => types.contains(TypeSet::NULL),
        Value::Bool(_) => types.contains(TypeSet::BOOLEAN),
        Value::Number(n) => {
            types.contains(TypeSet::NUMBER)
                || (types.contains(TypeSet::INTEGER)
                    && (n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)))
        }
        Value::String(_) => types.contains(TypeSet::STRING),
        Value::Array(_) => types.contains(TypeSet::ARRAY),
        Value::Object(_) => types.contains(TypeSet::OBJECT),
    }
}

/// JSON equality where `1` equals `1.0`.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A canonical text of a value for duplicate detection (object keys sorted, `1.0` as `1`).
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        Value::Object(object) => {
            let mut entries: Vec<String> = object
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", canonical(v)))
                .collect();
            entries.sort_unstable();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

/// A short text of a value for messages.
fn preview(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(b) => return b.to_string(),
        Value::Number(n) => return n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => return format!("{s:?}"),
        Value::String(_) => "a long string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    kind.into()
}
