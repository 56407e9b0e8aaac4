//! Property tests of the state projection's deep merge.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use superhero_eventflow::projection::{compose_state, merge};

/// JSON values small enough to collide: few keys, few distinct primitives.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0_i64..4).prop_map(|n| json!(n)),
        prop::sample::select(vec!["x", "y", "z"]).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "c", "d"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(vec!["a", "b", "c", "d"]),
        json_value(),
        0..4,
    )
    .prop_map(|m| {
        Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

fn is_primitive(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// True when `value` has no arrays holding objects/arrays or repeated primitives.
fn is_set_like(value: &Value) -> bool {
    match value {
        Value::Array(items) => {
            items.iter().all(is_primitive)
                && items
                    .iter()
                    .enumerate()
                    .all(|(i, x)| !items[..i].contains(x))
        }
        Value::Object(map) => map.values().all(is_set_like),
        _ => true,
    }
}

proptest! {
    #[test]
    fn merged_objects_keep_every_key_of_both_sides(a in json_object(), b in json_object()) {
        let merged = merge(&a, &b);
        let merged = merged.as_object().expect("objects merge into an object");
        for key in a.as_object().into_iter().flatten().map(|(k, _)| k).chain(b.as_object().into_iter().flatten().map(|(k, _)| k)) {
            prop_assert!(merged.contains_key(key), "key {key} lost");
        }
    }

    #[test]
    fn later_non_container_values_win_and_null_overwrites(a in json_object(), b in json_object()) {
        let merged = merge(&a, &b);
        for (key, later) in b.as_object().into_iter().flatten() {
            let earlier = a.get(key);
            let both_arrays = later.is_array() && earlier.is_some_and(Value::is_array);
            let both_objects = later.is_object() && earlier.is_some_and(Value::is_object);
            if !both_arrays && !both_objects {
                prop_assert_eq!(&merged[key], later);
            }
        }
    }

    #[test]
    fn arrays_merge_as_an_ordered_union_without_repeated_primitives(
        a in prop::collection::vec(json_value(), 0..6),
        b in prop::collection::vec(json_value(), 0..6),
    ) {
        let merged = merge(&Value::Array(a.clone()), &Value::Array(b.clone()));
        let merged = merged.as_array().expect("arrays merge into an array");
        for item in a.iter().chain(&b) {
            prop_assert!(merged.contains(item), "{item} lost");
        }
        let primitives: Vec<&Value> = merged.iter().filter(|v| is_primitive(v)).collect();
        for (i, p) in primitives.iter().enumerate() {
            prop_assert!(!primitives[..i].contains(p), "{p} repeated");
        }
        let containers = |items: &[Value]| items.iter().filter(|v| !is_primitive(v)).count();
        prop_assert_eq!(containers(merged), containers(&a) + containers(&b), "containers accumulate");
        // a's elements come first, in a's order.
        let mut first_of_a: Vec<&Value> = Vec::new();
        for item in &a {
            if !is_primitive(item) || !first_of_a.contains(&item) {
                first_of_a.push(item);
            }
        }
        prop_assert_eq!(merged.iter().take(first_of_a.len()).collect::<Vec<_>>(), first_of_a);
    }

    #[test]
    fn merging_the_same_set_like_value_again_changes_nothing(a in json_object(), b in json_object()) {
        prop_assume!(is_set_like(&b));
        let once = merge(&a, &b);
        prop_assert_eq!(merge(&once, &b), once.clone());
        if is_set_like(&a) {
            prop_assert_eq!(merge(&a, &a), a.clone());
        }
    }

    #[test]
    fn composed_state_is_the_left_fold_of_object_data(data in prop::collection::vec(json_value(), 0..6)) {
        let state = compose_state(&data);
        let folded = data
            .iter()
            .filter(|d| d.is_object())
            .fold(json!({}), |state, d| merge(&state, d));
        prop_assert_eq!(&state, &folded);
        prop_assert!(state.is_object(), "the state is always an object");
    }
}
