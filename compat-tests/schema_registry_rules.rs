//! The registry's Protobuf rules and JSON Schema `normalize`, over raw HTTP
//! with Confluent's JSON shapes (helpers from `schema_registry.rs`; JSON
//! Schema rules and references are in `schema_registry_json.rs`).

use serde_json::{json, Value};

use crate::harness;
use crate::schema_registry::{assert_error, call, register, start};

fn proto(text: &str) -> Value {
    json!({"schemaType": "PROTOBUF", "schema": text})
}

fn m(body: &str) -> Value {
    proto(&format!(
        "syntax = \"proto3\"; package p; message M {{ {body} }}"
    ))
}

/// Each case: v1, then v2 at `level`; v2 must be accepted (200) or refused
/// with Confluent's 409 body naming `kind`.
#[test]
fn protobuf_rules_per_compatibility_level() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        let enum_v1 = "syntax = \"proto3\"; package p; enum E { A = 0; B = 1; C = 2; } message M { E e = 1; }";
        let enum_v2 =
            "syntax = \"proto3\"; package p; enum E { A = 0; C = 1; } message M { E e = 1; }";
        let cases: Vec<(&str, &str, Value, Value, Option<&str>)> = vec![
            (
                "one-into-oneof",
                "BACKWARD",
                m("string a = 1; int32 b = 2;"),
                m("string a = 1; oneof o { int32 b = 2; }"),
                None,
            ),
            (
                "two-into-oneof",
                "BACKWARD",
                m("string a = 1; int32 b = 2;"),
                m("oneof o { string a = 1; int32 b = 2; }"),
                Some("MULTIPLE_FIELDS_MOVED_TO_ONEOF"),
            ),
            (
                "into-existing",
                "BACKWARD",
                m("string a = 1; oneof o { int32 b = 2; }"),
                m("oneof o { string a = 1; int32 b = 2; }"),
                Some("FIELD_MOVED_TO_EXISTING_ONEOF"),
            ),
            (
                "out-of-oneof",
                "BACKWARD",
                m("oneof o { string a = 1; int32 b = 2; }"),
                m("string a = 1; int32 b = 2;"),
                None,
            ),
            // Forward: the old schema reads the new one's data, so moving
            // fields out of a oneof is judged the other way round.
            (
                "out-of-oneof-forward",
                "FORWARD",
                m("oneof o { string a = 1; int32 b = 2; }"),
                m("string a = 1; int32 b = 2;"),
                Some("MULTIPLE_FIELDS_MOVED_TO_ONEOF"),
            ),
            (
                "oneof-member-removed",
                "BACKWARD",
                m("oneof o { string a = 1; int32 b = 2; }"),
                m("oneof o { string a = 1; }"),
                Some("ONEOF_FIELD_REMOVED"),
            ),
            (
                "enum-constants",
                "FULL",
                proto(enum_v1),
                proto(enum_v2),
                None,
            ),
            (
                "enum-as-int",
                "FULL",
                proto(enum_v1),
                m("int64 e = 1;"),
                None,
            ),
            (
                "scalar-kind",
                "FORWARD",
                m("string a = 1;"),
                m("int32 a = 1;"),
                Some("FIELD_SCALAR_KIND_CHANGED"),
            ),
            (
                "string-to-repeated",
                "FULL",
                m("optional string a = 1;"),
                m("repeated string a = 1;"),
                None,
            ),
            (
                "int-to-repeated",
                "BACKWARD",
                m("optional int32 a = 1;"),
                m("repeated int32 a = 1;"),
                Some("FIELD_NUMERIC_LABEL_CHANGED"),
            ),
            (
                "message-removed",
                "BACKWARD",
                proto(
                    "syntax = \"proto3\"; message M { string a = 1; } message N { int32 x = 1; }",
                ),
                proto("syntax = \"proto3\"; message M { string a = 1; }"),
                Some("MESSAGE_REMOVED"),
            ),
            (
                "no-check",
                "NONE",
                m("string a = 1;"),
                m("oneof o { int32 a = 1; }"),
                None,
            ),
        ];
        for (name, level, v1, v2, refused) in cases {
            let subject = harness::unique_topic(&format!("sr-pb-{name}"));
            let (s, _) = call(
                a,
                "PUT",
                &format!("/config/{subject}"),
                Some(json!({"compatibility": level})),
            );
            assert_eq!(s, 200, "{name}: config");
            let (s, body) = register(a, &subject, v1);
            assert_eq!(s, 200, "{name}: v1: {body}");
            let (s, verbose) = call(
                a,
                "POST",
                &format!("/compatibility/subjects/{subject}/versions/latest?verbose=true"),
                Some(v2.clone()),
            );
            assert_eq!(s, 200, "{name}: check: {verbose}");
            assert_eq!(
                verbose["is_compatible"],
                refused.is_none(),
                "{name}: {verbose}"
            );
            let (s, body) = register(a, &subject, v2);
            match refused {
                None => assert_eq!(s, 200, "{name}: v2: {body}"),
                Some(kind) => {
                    assert_error((s, body.clone()), 409, 40901, name);
                    assert!(
                        body["message"].as_str().unwrap().contains(kind),
                        "{name}: {body}"
                    );
                    assert!(verbose.to_string().contains(kind), "{name}: {verbose}");
                }
            }
        }
        // A reserved name or number reused inside one schema is invalid (422).
        let subject = harness::unique_topic("sr-pb-reserved");
        for body in ["reserved 2; int32 b = 2;", "reserved \"b\"; int32 b = 2;"] {
            assert_error(register(a, &subject, m(body)), 422, 42201, body);
        }
    });
}

/// Two JSON Schemas differing only in key order: one id with
/// `normalize=true`, two without (as Confluent, whose plain canonical form
/// keeps key order).
#[test]
fn json_schema_normalize_gives_equal_schemas_one_id() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        let one =
            r#"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}"#;
        let two =
            r#"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}"#;
        let body = |s: &str| json!({"schemaType": "JSON", "schema": s});
        let id = |subject: &str, s: &str, q: &str| {
            let (st, b) = call(
                a,
                "POST",
                &format!("/subjects/{subject}/versions{q}"),
                Some(body(s)),
            );
            assert_eq!(st, 200, "{b}");
            b["id"].as_i64().unwrap()
        };
        let plain = harness::unique_topic("sr-json-plain");
        assert_ne!(id(&plain, one, ""), id(&plain, two, ""));
        let norm = harness::unique_topic("sr-json-norm");
        assert_eq!(
            id(&norm, one, "?normalize=true"),
            id(&norm, two, "?normalize=true")
        );
        let (st, found) = call(
            a,
            "POST",
            &format!("/subjects/{norm}?normalize=true"),
            Some(body(two)),
        );
        assert_eq!((st, found["version"].clone()), (200, json!(1)), "{found}");
    });
}
