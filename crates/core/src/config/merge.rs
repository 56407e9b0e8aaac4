//! The deep merge that layers configuration.
//!
//! Rules, applied recursively when a layer is merged over what is there:
//!
//! | existing | incoming | result |
//! |---|---|---|
//! | object | object | merged key by key |
//! | array | array | union: existing items first, then incoming items not already present |
//! | anything | `{"$replace": v}` | replaced by `v` (the explicit way to replace an object or array) |
//! | anything | anything else (scalars, `null`, a different type) | replaced by the incoming value |
//!
//! Array equality is value equality, so `[1, {"a": 1}]` merged with `[{"a": 1}, 2]`
//! gives `[1, {"a": 1}, 2]`.

use serde_json::Value;

/// The marker key that makes a layer replace a value instead of merging into it.
pub const REPLACE_MARKER: &str = "$replace";

/// If `value` is `{"$replace": inner}`, returns `inner`.
pub fn replacement(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get(REPLACE_MARKER),
        _ => None,
    }
}

/// Merges `incoming` over `target` with the rules above.
pub fn merge(target: &mut Value, incoming: Value) {
    if replacement(&incoming).is_some() {
        *target = strip_markers(incoming);
        return;
    }
    match (target, incoming) {
        (Value::Object(existing), Value::Object(incoming)) => {
            for (key, value) in incoming {
                match existing.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        existing.insert(key, strip_markers(value));
                    }
                }
            }
        }
        (Value::Array(existing), Value::Array(incoming)) => {
            for item in incoming {
                let item = strip_markers(item);
                if !existing.contains(&item) {
                    existing.push(item);
                }
            }
        }
        (slot, incoming) => *slot = strip_markers(incoming),
    }
}

/// Removes every `{"$replace": v}` wrapper, leaving `v`.
pub fn strip_markers(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key(REPLACE_MARKER) => {
            strip_markers(map.remove(REPLACE_MARKER).unwrap_or(Value::Null))
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, strip_markers(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_markers).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn merged(a: Value, b: Value) -> Value {
        let mut a = a;
        merge(&mut a, b);
        a
    }

    #[test]
    fn objects_merge_recursively() {
        let out = merged(
            json!({"a": {"x": 1, "y": 2}}),
            json!({"a": {"y": 3, "z": 4}}),
        );
        assert_eq!(out, json!({"a": {"x": 1, "y": 3, "z": 4}}));
    }

    #[test]
    fn arrays_union_existing_first_without_duplicates() {
        let out = merged(json!({"a": [1, 2]}), json!({"a": [2, 3, 1, 4]}));
        assert_eq!(out, json!({"a": [1, 2, 3, 4]}));
    }

    #[test]
    fn null_overwrites() {
        assert_eq!(
            merged(json!({"a": {"b": 1}}), json!({"a": null})),
            json!({"a": null})
        );
    }

    #[test]
    fn replace_marker_replaces_arrays_and_objects() {
        let out = merged(
            json!({"a": [1, 2], "o": {"x": 1}}),
            json!({"a": {"$replace": [3]}, "o": {"$replace": {"y": 2}}}),
        );
        assert_eq!(out, json!({"a": [3], "o": {"y": 2}}));
    }

    #[test]
    fn replace_marker_on_a_new_key_is_unwrapped() {
        let out = merged(json!({}), json!({"n": {"deep": {"$replace": [1]}}}));
        assert_eq!(out, json!({"n": {"deep": [1]}}));
    }

    #[test]
    fn different_types_replace() {
        assert_eq!(
            merged(json!({"a": [1]}), json!({"a": "s"})),
            json!({"a": "s"})
        );
        assert_eq!(
            merged(json!({"a": 1}), json!({"a": {"b": 1}})),
            json!({"a": {"b": 1}})
        );
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..5).prop_map(|n| json!(n)),
            "[ab]{0,2}".prop_map(Value::String),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[abc]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn merging_a_value_into_itself_changes_nothing(v in value()) {
            prop_assert_eq!(merged(v.clone(), v.clone()), v);
        }

        #[test]
        fn every_incoming_scalar_leaf_wins(a in value(), b in value()) {
            let out = merged(a, b.clone());
            assert_scalar_leaves_present(&out, &b);
        }

        #[test]
        fn existing_array_items_are_kept_in_front(a in prop::collection::vec(leaf(), 0..5), b in prop::collection::vec(leaf(), 0..5)) {
            let out = merged(Value::Array(a.clone()), Value::Array(b.clone()));
            let out = out.as_array().cloned().unwrap_or_default();
            prop_assert_eq!(&out[..a.len()], &a[..]);
            for item in &b { prop_assert!(out.contains(item)); }
        }
    }

    /// Every scalar reachable in `incoming` through objects only is present at the
    /// same place in `out`.
    fn assert_scalar_leaves_present(out: &Value, incoming: &Value) {
        match incoming {
            Value::Object(map) => {
                for (k, v) in map {
                    let o = out
                        .get(k)
                        .unwrap_or_else(|| panic!("key {k} missing in {out}"));
                    assert_scalar_leaves_present(o, v);
                }
            }
            Value::Array(items) => {
                let o = out
                    .as_array()
                    .unwrap_or_else(|| panic!("{out} is not an array"));
                for item in items {
                    assert!(o.contains(item), "{item} missing in {out}");
                }
            }
            scalar => assert_eq!(out, scalar),
        }
    }
}
