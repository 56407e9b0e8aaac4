//! Environment overrides: the layer above every file.
//!
//! **Naming rule.** A variable `<PREFIX>__<SEG>__<SEG>…` (default prefix
//! `SUPERHERO`) sets the config value at `<seg>/<seg>/…`. Each segment matches an
//! existing key case-insensitively, with `_` in the variable standing for `-` or
//! `_` in the key (variable names cannot hold `-`); a segment that matches no
//! existing key becomes a new lower-case key. Examples:
//!
//! | variable | key path |
//! |---|---|
//! | `SUPERHERO__CORE__SHUTDOWN__TIMEOUT_MS=5000` | `core/shutdown/timeout_ms` |
//! | `SUPERHERO__PING_PONG__SLEEP=10` | `ping-pong/sleep` (if `ping-pong` exists) |
//!
//! **Types.** The text is converted to the type of the value it replaces: booleans
//! accept `true/false/1/0/yes/no/on/off`, integers and floats must parse, strings
//! are taken as they are, arrays and objects must be JSON of the same kind (and
//! replace the whole value, no union). A variable for a key that does not exist
//! yet (or is `null`) becomes a boolean, an integer or a float when it reads as
//! one, otherwise a string. A value that cannot be converted is an
//! `E_CONFIG_ENV` error naming the variable and the key.

use serde_json::{Map, Value};

use super::key;
use crate::error::{Error, Result};

/// The default variable prefix.
pub const DEFAULT_PREFIX: &str = "SUPERHERO";

/// One applied override, kept as a config layer for provenance.
#[derive(Debug, Clone)]
pub struct EnvOverride {
    /// The variable name.
    pub var: String,
    /// The key path it set.
    pub segments: Vec<String>,
    /// The converted value.
    pub value: Value,
}

/// Applies every variable starting with `<prefix>__` to `config`, in variable
/// name order, and returns what was applied.
pub fn apply(
    prefix: &str,
    vars: impl IntoIterator<Item = (String, String)>,
    config: &mut Value,
) -> Result<Vec<EnvOverride>> {
    let head = format!("{prefix}__");
    let mut selected: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(name, _)| name.starts_with(&head) && name.len() > head.len())
        .collect();
    selected.sort();

    let mut applied = Vec::with_capacity(selected.len());
    for (var, raw) in selected {
        let wanted: Vec<&str> = var[head.len()..].split("__").collect();
        let segments = resolve_segments(config, &wanted);
        let key = key::join(&segments);
        let existing = key::walk(config, &segments);
        let value = coerce(&raw, existing).map_err(|message| Error::ConfigEnv {
            var: var.clone(),
            key: key.clone(),
            message,
        })?;
        set(config, &segments, value.clone()).map_err(|message| Error::ConfigEnv {
            var: var.clone(),
            key,
            message,
        })?;
        applied.push(EnvOverride {
            var,
            segments,
            value,
        });
    }
    Ok(applied)
}

/// Maps variable segments to key segments, matching existing keys.
fn resolve_segments(config: &Value, wanted: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(wanted.len());
    let mut current = Some(config);
    for segment in wanted {
        let target = segment.to_lowercase();
        let found = current
            .and_then(Value::as_object)
            .and_then(|map| map.keys().find(|k| normalize(k) == target).cloned());
        let name = found.unwrap_or(target);
        current = current.and_then(|v| v.get(&name));
        out.push(name);
    }
    out
}

fn normalize(key: &str) -> String {
    key.to_lowercase().replace('-', "_")
}

/// Sets `value` at `segments`, creating objects on the way.
fn set(config: &mut Value, segments: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = segments.split_last() else {
        return Err("the variable names no key".into());
    };
    let mut current = config;
    for (depth, segment) in parents.iter().enumerate() {
        let map = match current {
            Value::Object(map) => map,
            Value::Null => {
                *current = Value::Object(Map::new());
                current.as_object_mut().ok_or("unreachable")?
            }
            other => {
                return Err(format!(
                    "\"{}\" holds {}, not a table, so nothing can be set below it",
                    key::join(&segments[..depth]),
                    kind(other)
                ));
            }
        };
        current = map
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    match current {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Null => {
            let mut map = Map::new();
            map.insert(last.clone(), value);
            *current = Value::Object(map);
            Ok(())
        }
        other => Err(format!(
            "\"{}\" holds {}, not a table, so nothing can be set below it",
            key::join(parents),
            kind(other)
        )),
    }
}

/// Converts `raw` to the type of `existing`.
fn coerce(raw: &str, existing: Option<&Value>) -> Result<Value, String> {
    match existing {
        Some(Value::Bool(_)) => parse_bool(raw).ok_or_else(|| expected("a boolean", raw)),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
            parse_integer(raw).ok_or_else(|| expected("an integer", raw))
        }
        Some(Value::Number(_)) => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| expected("a number", raw)),
        Some(Value::String(_)) => Ok(Value::String(raw.to_owned())),
        Some(Value::Array(_)) => match serde_json::from_str(raw) {
            Ok(v @ Value::Array(_)) => Ok(v),
            _ => Err(expected("a JSON array", raw)),
        },
        Some(Value::Object(_)) => match serde_json::from_str(raw) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(expected("a JSON object", raw)),
        },
        None | Some(Value::Null) => Ok(infer(raw)),
    }
}

fn infer(raw: &str) -> Value {
    if let Some(b) = parse_bool_strict(raw) {
        return Value::Bool(b);
    }
    if let Some(n) = parse_integer(raw) {
        return n;
    }
    if let Some(n) = raw
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(raw.to_owned())
}

fn parse_bool(raw: &str) -> Option<Value> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(Value::Bool(true)),
        "false" | "0" | "no" | "off" => Some(Value::Bool(false)),
        _ => None,
    }
}

fn parse_bool_strict(raw: &str) -> Option<bool> {
    match raw {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn parse_integer(raw: &str) -> Option<Value> {
    let raw = raw.trim();
    raw.parse::<i64>()
        .map(Value::from)
        .or_else(|_| raw.parse::<u64>().map(Value::from))
        .ok()
}

fn expected(what: &str, raw: &str) -> String {
    format!("expected {what} like the value it replaces, found \"{raw}\"")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_take_the_type_of_what_they_replace() {
        let mut config =
            json!({"http": {"port": 80, "tls": false, "ratio": 0.5, "name": "x", "hosts": ["a"]}});
        apply(
            "APP",
            vars(&[
                ("APP__HTTP__PORT", "8080"),
                ("APP__HTTP__TLS", "yes"),
                ("APP__HTTP__RATIO", "0.75"),
                ("APP__HTTP__NAME", "42"),
                ("APP__HTTP__HOSTS", r#"["b","c"]"#),
            ]),
            &mut config,
        )
        .unwrap();
        assert_eq!(
            config,
            json!({"http": {"port": 8080, "tls": true, "ratio": 0.75, "name": "42", "hosts": ["b", "c"]}})
        );
    }

    #[test]
    fn underscores_match_hyphenated_keys() {
        let mut config = json!({"ping-pong": {"max-sleep": 1}});
        let applied = apply(
            "SUPERHERO",
            vars(&[("SUPERHERO__PING_PONG__MAX_SLEEP", "5")]),
            &mut config,
        )
        .unwrap();
        assert_eq!(config, json!({"ping-pong": {"max-sleep": 5}}));
        assert_eq!(applied[0].segments, ["ping-pong", "max-sleep"]);
    }

    #[test]
    fn new_keys_are_lower_case_with_inferred_types() {
        let mut config = json!({});
        apply(
            "SUPERHERO",
            vars(&[
                ("SUPERHERO__A__B", "3"),
                ("SUPERHERO__A__C", "true"),
                ("SUPERHERO__A__D", "text"),
            ]),
            &mut config,
        )
        .unwrap();
        assert_eq!(config, json!({"a": {"b": 3, "c": true, "d": "text"}}));
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_variable_and_key() {
        let mut config = json!({"http": {"port": 80}});
        let err = apply(
            "SUPERHERO",
            vars(&[("SUPERHERO__HTTP__PORT", "eighty")]),
            &mut config,
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.code(), "E_CONFIG_ENV");
        assert!(
            text.contains("SUPERHERO__HTTP__PORT") && text.contains("http/port"),
            "{text}"
        );
    }

    #[test]
    fn other_prefixes_are_ignored() {
        let mut config = json!({"a": 1});
        apply(
            "SUPERHERO",
            vars(&[("OTHER__A", "2"), ("SUPERHERO_A", "3")]),
            &mut config,
        )
        .unwrap();
        assert_eq!(config, json!({"a": 1}));
    }

    #[test]
    fn setting_below_a_scalar_is_refused() {
        let mut config = json!({"a": 1});
        let err = apply("SUPERHERO", vars(&[("SUPERHERO__A__B", "2")]), &mut config).unwrap_err();
        assert_eq!(err.code(), "E_CONFIG_ENV");
    }
}
