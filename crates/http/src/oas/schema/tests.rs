//! The schema validator, group by group (ported from the original's schema tests where
//! they still apply; the original's silent coercions and strippings are violations here).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::{Compiler, Mode, Validator, apply_defaults};

/// The codes of every violation of `value` against `schema` (components under `defs`).
fn codes_with(defs: Value, schema: Value, value: Value) -> Vec<String> {
    let document = json!({"components": {"schemas": defs}});
    let mut compiler = Compiler::new(&document);
    let id = compiler
        .compile(&schema, "/schema")
        .expect("schema compiles");
    let set = compiler.finish();
    let mut validator = Validator::new(&set, Mode::Request);
    validator.validate(id, &value, &mut String::new());
    validator
        .into_details()
        .into_iter()
        .map(|d| d.code.into_owned())
        .collect()
}

fn codes(schema: Value, value: Value) -> Vec<String> {
    codes_with(json!({}), schema, value)
}

fn valid(schema: Value, value: Value) -> bool {
    codes(schema, value).is_empty()
}

#[test]
fn booleans_are_not_coerced_in_bodies() {
    assert!(valid(json!({"type": "boolean"}), json!(true)));
    assert_eq!(
        codes(json!({"type": "boolean"}), json!("true")),
        ["E_OAS_SCHEMA_TYPE"]
    );
    assert_eq!(
        codes(json!({"type": "boolean", "enum": [true]}), json!(false)),
        ["E_OAS_SCHEMA_ENUM"]
    );
    assert!(valid(
        json!({"type": "boolean", "nullable": true, "enum": [true, null]}),
        Value::Null
    ));
}

#[test]
fn integers_check_bounds_multiples_and_formats() {
    let schema = json!({"type": "integer", "minimum": 1, "maximum": 10});
    assert!(valid(schema.clone(), json!(1)));
    assert!(valid(schema.clone(), json!(10.0)), "10.0 is an integer");
    assert_eq!(codes(schema.clone(), json!(0)), ["E_OAS_SCHEMA_MINIMUM"]);
    assert_eq!(codes(schema.clone(), json!(11)), ["E_OAS_SCHEMA_MAXIMUM"]);
    assert_eq!(codes(schema, json!(1.5)), ["E_OAS_SCHEMA_TYPE"]);
    let exclusive30 = json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true, "maximum": 3, "exclusiveMaximum": true});
    assert_eq!(
        codes(exclusive30.clone(), json!(1)),
        ["E_OAS_SCHEMA_MINIMUM"]
    );
    assert_eq!(
        codes(exclusive30.clone(), json!(3)),
        ["E_OAS_SCHEMA_MAXIMUM"]
    );
    assert!(valid(exclusive30, json!(2)));
    let exclusive31 = json!({"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 3});
    assert_eq!(
        codes(exclusive31.clone(), json!(1)),
        ["E_OAS_SCHEMA_MINIMUM"]
    );
    assert!(valid(exclusive31, json!(2)));
    assert_eq!(
        codes(json!({"type": "integer", "multipleOf": 3}), json!(7)),
        ["E_OAS_SCHEMA_MULTIPLE_OF"]
    );
    assert_eq!(
        codes(
            json!({"type": "integer", "format": "int32"}),
            json!(2_147_483_648_i64)
        ),
        ["E_OAS_SCHEMA_FORMAT"]
    );
    assert!(valid(
        json!({"type": "integer", "format": "int64"}),
        json!(9_007_199_254_740_991_i64)
    ));
}

#[test]
fn numbers_accept_integers_and_decimals() {
    assert!(valid(json!({"type": "number"}), json!(123.456)));
    assert!(valid(json!({"type": "number"}), json!(7)));
    assert_eq!(
        codes(json!({"type": "number"}), json!("123.456")),
        ["E_OAS_SCHEMA_TYPE"]
    );
    assert!(valid(
        json!({"type": "number", "multipleOf": 0.1}),
        json!(0.3)
    ));
}

#[test]
fn strings_check_length_pattern_and_format() {
    let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
    assert!(
        valid(schema.clone(), json!("äö")),
        "length counts characters"
    );
    assert_eq!(
        codes(schema.clone(), json!("a")),
        ["E_OAS_SCHEMA_MIN_LENGTH"]
    );
    assert_eq!(codes(schema, json!("abcd")), ["E_OAS_SCHEMA_MAX_LENGTH"]);
    assert_eq!(
        codes(json!({"type": "string"}), json!(42)),
        ["E_OAS_SCHEMA_TYPE"],
        "no number to string"
    );
    assert!(
        valid(json!({"type": "string", "pattern": "b+"}), json!("abbc")),
        "patterns are unanchored"
    );
    assert_eq!(
        codes(json!({"type": "string", "pattern": "^b+$"}), json!("abbc")),
        ["E_OAS_SCHEMA_PATTERN"]
    );
    for (format, good, bad) in [
        ("date", "2024-02-29", "2024-02-30"),
        ("date-time", "2024-02-29T12:00:00Z", "yesterday"),
        ("email", "a@b.c", "nobody"),
        ("uuid", "0190a6f4-1b2c-7d3e-8f40-123456789abc", "not-a-uuid"),
        ("ipv4", "10.0.0.1", "10.0.0.256"),
        ("ipv6", "fe80::1", "fe80:::1"),
        ("uri", "urn:isbn:123", "no scheme"),
        ("byte", "aGk=", "a"),
    ] {
        let schema = json!({"type": "string", "format": format});
        assert!(valid(schema.clone(), json!(good)), "{format} {good}");
        assert_eq!(
            codes(schema, json!(bad)),
            ["E_OAS_SCHEMA_FORMAT"],
            "{format} {bad}"
        );
    }
    assert!(
        valid(json!({"type": "string", "format": "color"}), json!("red")),
        "unknown formats annotate"
    );
}

#[test]
fn null_is_allowed_only_where_declared() {
    assert!(valid(json!({"type": "null"}), Value::Null));
    assert_eq!(
        codes(json!({"type": "null"}), json!(0)),
        ["E_OAS_SCHEMA_TYPE"]
    );
    assert_eq!(
        codes(json!({"type": "string"}), Value::Null),
        ["E_OAS_SCHEMA_TYPE"]
    );
    assert!(valid(
        json!({"type": "string", "nullable": true}),
        Value::Null
    ));
    assert!(valid(json!({"type": ["string", "null"]}), Value::Null));
}

#[test]
fn untyped_schemas_accept_anything() {
    for value in [
        json!(1),
        json!("x"),
        json!(null),
        json!([1]),
        json!({"a": 1}),
    ] {
        assert!(valid(json!({}), value.clone()));
        assert!(valid(json!(true), value.clone()));
        assert_eq!(codes(json!(false), value), ["E_OAS_SCHEMA_FALSE"]);
    }
}

#[test]
fn arrays_check_items_counts_and_uniqueness() {
    let schema =
        json!({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3});
    assert!(valid(schema.clone(), json!([1, 2])));
    assert_eq!(codes(schema.clone(), json!([])), ["E_OAS_SCHEMA_MIN_ITEMS"]);
    assert_eq!(
        codes(schema.clone(), json!([1, 2, 3, 4])),
        ["E_OAS_SCHEMA_MAX_ITEMS"]
    );
    assert_eq!(
        codes(schema, json!([1, "x", "y"])),
        ["E_OAS_SCHEMA_TYPE", "E_OAS_SCHEMA_TYPE"]
    );
    let unique = json!({"type": "array", "uniqueItems": true});
    assert_eq!(
        codes(unique.clone(), json!([1, 1.0, 2])),
        ["E_OAS_SCHEMA_UNIQUE_ITEMS"],
        "reported, not dropped"
    );
    assert!(valid(unique.clone(), json!([{"a": 1, "b": 2}, {"b": 2}])));
    assert_eq!(
        codes(unique, json!([{"a": 1, "b": 2}, {"b": 2, "a": 1}])),
        ["E_OAS_SCHEMA_UNIQUE_ITEMS"]
    );
    let tuple = json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]});
    assert!(valid(tuple.clone(), json!(["a", 1, true])));
    assert_eq!(
        codes(tuple, json!([1, "a"])),
        ["E_OAS_SCHEMA_TYPE", "E_OAS_SCHEMA_TYPE"]
    );
    assert!(valid(
        json!({"type": "array", "enum": [[1, 2]]}),
        json!([1, 2])
    ));
    assert!(valid(
        json!({"type": "array", "items": {"type": "integer", "nullable": true}}),
        json!([1, null])
    ));
}

#[test]
fn objects_check_properties_required_additional_and_counts() {
    let schema = json!({"type": "object", "required": ["a"], "additionalProperties": false,
        "properties": {"a": {"type": "integer"}, "nested": {"type": "object", "properties": {"b": {"type": "string"}}}}});
    assert!(valid(schema.clone(), json!({"a": 1, "nested": {"b": "x"}})));
    assert_eq!(
        codes(schema.clone(), json!({"nested": {"b": 1}, "extra": true})),
        [
            "E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES",
            "E_OAS_SCHEMA_TYPE",
            "E_OAS_SCHEMA_OBJECT_ADDITIONAL_PROPERTY"
        ]
    );
    assert_eq!(codes(schema, json!([])), ["E_OAS_SCHEMA_TYPE"]);
    let additional = json!({"type": "object", "additionalProperties": {"type": "string"}});
    assert_eq!(
        codes(additional, json!({"x": 1})),
        ["E_OAS_SCHEMA_TYPE"],
        "a schema for additional properties applies"
    );
    let counts = json!({"type": "object", "minProperties": 1, "maxProperties": 1});
    assert_eq!(
        codes(counts.clone(), json!({})),
        ["E_OAS_SCHEMA_OBJECT_MIN_PROPERTIES"]
    );
    assert_eq!(
        codes(counts, json!({"a": 1, "b": 2})),
        ["E_OAS_SCHEMA_OBJECT_MAX_PROPERTIES"]
    );
    let names = json!({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}});
    assert_eq!(
        codes(names, json!({"ok": 1, "NOT": 2})),
        ["E_OAS_SCHEMA_OBJECT_PROPERTY_NAMES_INVALID_NAME"]
    );
    let patterns = json!({"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false});
    assert!(valid(patterns.clone(), json!({"x-a": "1"})));
    assert_eq!(
        codes(patterns, json!({"x-a": 1, "b": "1"})),
        [
            "E_OAS_SCHEMA_TYPE",
            "E_OAS_SCHEMA_OBJECT_ADDITIONAL_PROPERTY"
        ]
    );
}

#[test]
fn read_only_properties_must_not_be_sent() {
    let schema =
        json!({"type": "object", "properties": {"id": {"type": "string", "readOnly": true}}});
    assert!(valid(schema.clone(), json!({})));
    assert_eq!(
        codes(schema, json!({"id": "x"})),
        ["E_OAS_SCHEMA_READ_ONLY"]
    );
}

#[test]
fn defaults_fill_absent_properties_only() {
    let document = json!({});
    let schema = json!({"type": "object", "properties": {
        "qty": {"type": "integer", "default": 1},
        "inner": {"type": "object", "properties": {"flag": {"default": false}}}}});
    let mut compiler = Compiler::new(&document);
    let id = compiler.compile(&schema, "/").unwrap();
    let set = compiler.finish();
    let mut value = json!({"inner": {}});
    apply_defaults(&set, id, &mut value, 0);
    assert_eq!(value, json!({"qty": 1, "inner": {"flag": false}}));
    let mut value = json!({"qty": 5});
    apply_defaults(&set, id, &mut value, 0);
    assert_eq!(value, json!({"qty": 5}));
}

#[test]
fn conditional_and_negated_schemas() {
    let conditional = json!({"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["a"]}, "else": {"required": ["b"]}});
    assert!(valid(conditional.clone(), json!({"kind": "a", "a": 1})));
    assert_eq!(
        codes(conditional.clone(), json!({"kind": "a"})),
        ["E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"]
    );
    assert_eq!(
        codes(conditional, json!({"kind": "z", "a": 1})),
        ["E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"]
    );
    assert_eq!(
        codes(json!({"not": {"type": "string"}}), json!("x")),
        ["E_OAS_SCHEMA_NOT"]
    );
    assert!(valid(json!({"not": {"type": "string"}}), json!(1)));
}

#[test]
fn all_any_and_one_of() {
    let all = json!({"allOf": [{"type": "object", "required": ["a"]}, {"required": ["b"]}]});
    assert!(
        valid(all.clone(), json!({"a": 1, "b": 2, "extra": 3})),
        "extra fields kept"
    );
    assert_eq!(
        codes(all, json!({"a": 1})),
        ["E_OAS_SCHEMA_OBJECT_MISSING_REQUIRED_PROPERTIES"]
    );
    let any = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    assert!(valid(any.clone(), json!(1)));
    assert_eq!(codes(any, json!(true)), ["E_OAS_SCHEMA_ANY_OF"]);
    let one = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
    assert_eq!(
        codes(one.clone(), json!(1)),
        ["E_OAS_SCHEMA_ONE_OF"],
        "both match"
    );
    assert!(valid(one.clone(), json!(1.5)));
    assert_eq!(
        codes(one, json!("x")),
        ["E_OAS_SCHEMA_ONE_OF"],
        "none match"
    );
}

#[test]
fn const_and_enum_compare_strictly_and_deeply() {
    assert!(valid(
        json!({"const": {"a": [1, {"b": null}]}}),
        json!({"a": [1.0, {"b": null}]})
    ));
    assert_eq!(
        codes(json!({"const": 1}), json!("1")),
        ["E_OAS_SCHEMA_CONST"],
        "no loose equality"
    );
    assert_eq!(
        codes(json!({"enum": [1, 2]}), json!("1")),
        ["E_OAS_SCHEMA_ENUM"]
    );
}

#[test]
fn references_resolve_and_may_recurse() {
    let defs = json!({
        "Name": {"type": "string", "minLength": 1},
        "Alias": {"$ref": "#/components/schemas/Name"},
        "List": {"type": "array", "items": {"$ref": "#/components/schemas/List"}},
        "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}]}
    });
    assert_eq!(
        codes_with(
            defs.clone(),
            json!({"$ref": "#/components/schemas/Alias"}),
            json!("")
        ),
        ["E_OAS_SCHEMA_MIN_LENGTH"]
    );
    assert!(
        codes_with(
            defs.clone(),
            json!({"$ref": "#/components/schemas/List"}),
            json!([[[]], []])
        )
        .is_empty()
    );
    assert_eq!(
        codes_with(
            defs.clone(),
            json!({"$ref": "#/components/schemas/List"}),
            json!([[1]])
        ),
        ["E_OAS_SCHEMA_TYPE"]
    );
    let looped = codes_with(defs, json!({"$ref": "#/components/schemas/Loop"}), json!(1));
    assert_eq!(
        looped,
        ["E_OAS_SCHEMA_TOO_DEEP"],
        "a schema that only refers to itself ends"
    );
}

#[test]
fn invalid_schemas_are_refused_when_compiled() {
    let document = json!({"components": {"schemas": {}}});
    for schema in [
        json!("string"),
        json!({"type": "text"}),
        json!({"type": ["string", 1]}),
        json!({"minimum": "1"}),
        json!({"pattern": "("}),
        json!({"required": "a"}),
        json!({"items": 1}),
        json!({"$ref": "#/components/schemas/Missing"}),
        json!({"$ref": "https://example.com/schema.json"}),
        json!({"exclusiveMinimum": true}),
        json!({"multipleOf": 0}),
    ] {
        let mut compiler = Compiler::new(&document);
        let error = compiler.compile(&schema, "/s").expect_err("refused");
        assert!(
            error.code().starts_with("E_OAS_INVALID_"),
            "{schema}: {}",
            error.code()
        );
    }
}
