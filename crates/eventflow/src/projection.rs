//! The state projection: the original's left-to-right deep merge of event `data`.
//!
//! Rules of [`merge`] (earlier value `a`, later value `b`):
//!
//! | `a` | `b` | result |
//! | --- | --- | --- |
//! | object | object | per key: keys only in `a` stay, keys in `b` are merged into `a`'s value or added |
//! | array | array | union: `a`'s elements, then `b`'s that are not present yet; duplicate primitives (also within one side) are dropped, objects and arrays inside arrays are never equal and accumulate |
//! | anything else, or mismatched kinds | | `b` replaces `a`; `null` overwrites |
//!
//! [`compose_state`] folds the `data` of an event-log into `{}` with [`merge`], one event at a
//! time. Top-level data that is not an object is ignored. For object data this is the
//! original's `composeEventlogState` for any segment size; unlike the original, the result
//! never depends on a batching size (its weakness W18).

use serde_json::{Map, Value};

/// Deep-merges `b` over `a` (see the module docs); neither input is changed.
///
/// ```
/// use serde_json::json;
/// use superhero_eventflow::projection::merge;
///
/// let merged = merge(&json!({"a": 1, "arr": [1, 2]}), &json!({"arr": [2, 3], "b": null}));
/// assert_eq!(merged, json!({"a": 1, "arr": [1, 2, 3], "b": null}));
/// ```
pub fn merge(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => Value::Object(merge_objects(a, b)),
        (Value::Array(a), Value::Array(b)) => Value::Array(union(a, b)),
        (_, b) => b.clone(),
    }
}

fn merge_objects(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = a.clone();
    for (key, value) in b {
        let next = match merged.get(key) {
            Some(existing) => merge(existing, value),
            None => value.clone(),
        };
        merged.insert(key.clone(), next);
    }
    merged
}

/// `a`'s elements then `b`'s, without repeating a primitive value.
fn union(a: &[Value], b: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(a.len() + b.len());
    for value in a.iter().chain(b) {
        let seen = is_primitive(value) && out.iter().any(|kept| same_primitive(kept, value));
        if !seen {
            out.push(value.clone());
        }
    }
    out
}

fn is_primitive(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// JavaScript's SameValueZero on JSON primitives: numbers compare by value (`1` equals `1.0`).
fn same_primitive(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (a, b) => is_primitive(a) && is_primitive(b) && a == b,
    }
}

/// Folds event `data` values into one state, left to right (see the module docs).
///
/// ```
/// use serde_json::json;
/// use superhero_eventflow::projection::compose_state;
///
/// let state = compose_state([&json!({"key1": 1}), &json!({"key2": 2}), &json!([1])]);
/// assert_eq!(state, json!({"key1": 1, "key2": 2}));
/// ```
pub fn compose_state<'a, I>(data: I) -> Value
where
    I: IntoIterator<Item = &'a Value>,
{
    let mut state = Map::new();
    for value in data {
        if let Value::Object(object) = value {
            state = merge_objects(&state, object);
        }
    }
    Value::Object(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reproduces_the_original_worked_example() {
        let data = [
            json!({"a": 1, "arr": [1, 2], "o": {"x": 1, "y": {"z": 1}}}),
            json!({"a": 2, "arr": [2, 3], "o": {"y": {"w": 2}}}),
            json!({"arr": [{"k": 1}], "o": {"x": null}}),
            json!({"arr": [{"k": 1}], "s": "str"}),
            json!({"s": {"obj": true}}),
            json!({"s": "back"}),
        ];
        let expected = json!({
            "a": 2,
            "arr": [1, 2, 3, {"k": 1}, {"k": 1}],
            "o": {"x": null, "y": {"z": 1, "w": 2}},
            "s": "back"
        });
        assert_eq!(compose_state(&data), expected);
    }

    #[test]
    fn merges_arrays_with_unique_values_in_order() {
        assert_eq!(
            merge(&json!([1, 2, 3]), &json!([2, 3, 4])),
            json!([1, 2, 3, 4])
        );
        assert_eq!(
            merge(&json!([2, 3, 4]), &json!([1, 2, 3])),
            json!([2, 3, 4, 1])
        );
        assert_eq!(
            merge(&json!([1, 1, 2, 2]), &json!([2, 2, 3, 3])),
            json!([1, 2, 3])
        );
        assert_eq!(merge(&json!([]), &json!([])), json!([]));
        assert_eq!(merge(&json!([1]), &json!([])), json!([1]));
        assert_eq!(merge(&json!([1, 2.0]), &json!([1.0, 2])), json!([1, 2.0]));
    }

    #[test]
    fn merges_nested_objects_and_replaces_non_objects() {
        assert_eq!(
            merge(&json!({"a": {"b": 1}}), &json!({"a": {"c": 2}})),
            json!({"a": {"b": 1, "c": 2}})
        );
        assert_eq!(merge(&json!(1), &json!("x")), json!("x"));
        assert_eq!(merge(&json!({"a": 1}), &json!([1])), json!([1]));
        assert_eq!(
            merge(&json!({"a": 1}), &json!({"a": null})),
            json!({"a": null})
        );
    }

    #[test]
    fn ignores_top_level_data_that_is_not_an_object() {
        let data = [json!({"a": 1}), json!([1]), json!("s"), json!(null)];
        assert_eq!(compose_state(&data), json!({"a": 1}));
        assert_eq!(compose_state(&[]), json!({}));
    }
}
