//! The registry's JSON Schema support over raw HTTP with Confluent's JSON
//! shapes: Confluent's compatibility rules per level (content models,
//! combined schemas, keywords) and schema references (`$ref` by name, by
//! name and JSON pointer, by the referenced schema's `$id`; missing and
//! unresolvable references; checks across reference versions; referencedby).
//! Helpers from `schema_registry.rs`.

use serde_json::{json, Value};

use crate::harness;
use crate::schema_registry::{assert_error, call, register, start};

fn js(schema: Value) -> Value {
    json!({"schemaType": "JSON", "schema": schema.to_string()})
}

fn with_refs(schema: Value, refs: Value) -> Value {
    json!({"schemaType": "JSON", "schema": schema.to_string(), "references": refs})
}

fn object(props: Value, extra: Value) -> Value {
    let mut o = json!({"type": "object", "properties": props});
    if let (Some(o), Some(e)) = (o.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    o
}

/// Each case: v1, then v2 at `level`; v2 must be accepted (200) or refused
/// with Confluent's 409 body naming `kind`, and the verbose check must say
/// the same.
#[test]
fn json_schema_rules_per_compatibility_level() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        let s = json!({"type": "string"});
        let n = json!({"type": "number"});
        let b = json!({"type": "boolean"});
        let a_only = json!({"a": s});
        let a_and_b = json!({"a": s, "b": n});
        let closed = json!({"additionalProperties": false});
        let numbers_only = json!({"additionalProperties": {"type": "number"}});
        let cases: Vec<(&str, &str, Value, Value, Option<&str>)> = vec![
            (
                "optional-added-to-open",
                "BACKWARD",
                object(a_only.clone(), json!({})),
                object(a_and_b.clone(), json!({})),
                Some("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
            ),
            // The same change read the other way: the old schema (open)
            // reads the new data.
            (
                "optional-added-to-open-forward",
                "FORWARD",
                object(a_only.clone(), json!({})),
                object(a_and_b.clone(), json!({})),
                None,
            ),
            (
                "optional-added-to-closed",
                "BACKWARD",
                object(a_only.clone(), closed.clone()),
                object(a_and_b.clone(), closed.clone()),
                None,
            ),
            (
                "removed-from-closed",
                "BACKWARD",
                object(a_and_b.clone(), closed.clone()),
                object(a_only.clone(), closed.clone()),
                Some("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
            ),
            (
                "closed-both-ways",
                "FULL",
                object(a_only.clone(), closed.clone()),
                object(a_and_b.clone(), closed.clone()),
                Some("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
            ),
            (
                "removed-covered-by-partial",
                "BACKWARD",
                object(a_and_b.clone(), numbers_only.clone()),
                object(a_only.clone(), numbers_only.clone()),
                None,
            ),
            (
                "added-not-covered-by-partial",
                "BACKWARD",
                object(a_only.clone(), numbers_only.clone()),
                object(json!({"a": s, "c": b}), numbers_only.clone()),
                Some("PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
            ),
            (
                "closing-the-model",
                "BACKWARD",
                object(a_only.clone(), json!({})),
                object(a_only.clone(), closed.clone()),
                Some("ADDITIONAL_PROPERTIES_REMOVED"),
            ),
            (
                "required-added",
                "BACKWARD",
                object(a_and_b.clone(), json!({})),
                object(a_and_b.clone(), json!({"required": ["b"]})),
                Some("REQUIRED_ATTRIBUTE_ADDED"),
            ),
            (
                "sum-extended",
                "BACKWARD",
                json!({"oneOf": [s, n]}),
                json!({"oneOf": [s, n, b]}),
                None,
            ),
            (
                "sum-narrowed",
                "BACKWARD",
                json!({"oneOf": [s, n]}),
                json!({"oneOf": [s]}),
                Some("SUM_TYPE_NARROWED"),
            ),
            (
                "sum-extended-forward",
                "FORWARD",
                json!({"anyOf": [s, n]}),
                json!({"anyOf": [s, n, b]}),
                Some("SUM_TYPE_NARROWED"),
            ),
            (
                "product-extended",
                "BACKWARD",
                json!({"allOf": [object(a_only.clone(), json!({})), {"required": ["a"]}]}),
                json!({"allOf": [object(a_only.clone(), json!({})), {"required": ["a"]}, {"minProperties": 1}]}),
                Some("PRODUCT_TYPE_EXTENDED"),
            ),
            (
                "criterion-changed",
                "BACKWARD",
                json!({"anyOf": [s, n]}),
                json!({"allOf": [s, n]}),
                Some("COMBINED_TYPE_CHANGED"),
            ),
            (
                "subschemas-changed",
                "BACKWARD",
                json!({"oneOf": [s, n]}),
                json!({"oneOf": [s, b]}),
                Some("COMBINED_TYPE_SUBSCHEMAS_CHANGED"),
            ),
            (
                "nullable",
                "BACKWARD",
                object(a_only.clone(), json!({})),
                object(json!({"a": {"type": ["string", "null"]}}), json!({})),
                None,
            ),
            (
                "integer-to-number",
                "FULL",
                json!({"type": "integer"}),
                json!({"type": "number"}),
                Some("TYPE_NARROWED"),
            ),
            (
                "enum-extended",
                "BACKWARD",
                json!({"enum": ["x", "y"]}),
                json!({"enum": ["x", "y", "z"]}),
                None,
            ),
            (
                "max-length-added",
                "BACKWARD",
                s.clone(),
                json!({"type": "string", "maxLength": 3}),
                Some("MAX_LENGTH_ADDED"),
            ),
            (
                "no-check",
                "NONE",
                s.clone(),
                json!({"type": "object"}),
                None,
            ),
        ];
        for (name, level, v1, v2, refused) in cases {
            let subject = harness::unique_topic(&format!("sr-js-{name}"));
            let (st, _) = call(
                a,
                "PUT",
                &format!("/config/{subject}"),
                Some(json!({"compatibility": level})),
            );
            assert_eq!(st, 200, "{name}: config");
            let (st, body) = register(a, &subject, js(v1));
            assert_eq!(st, 200, "{name}: v1: {body}");
            let (st, verbose) = call(
                a,
                "POST",
                &format!("/compatibility/subjects/{subject}/versions/latest?verbose=true"),
                Some(js(v2.clone())),
            );
            assert_eq!(st, 200, "{name}: check: {verbose}");
            assert_eq!(
                verbose["is_compatible"],
                refused.is_none(),
                "{name}: {verbose}"
            );
            let (st, body) = register(a, &subject, js(v2));
            match refused {
                None => assert_eq!(st, 200, "{name}: v2: {body}"),
                Some(kind) => {
                    assert_error((st, body.clone()), 409, 40901, name);
                    let message = body["message"].as_str().unwrap();
                    assert!(
                        message.contains(&format!("errorType:\"{kind}\"")),
                        "{name}: {body}"
                    );
                    // Confluent's roles in the description: new / old.
                    assert!(
                        !message.contains("%s") && message.contains(" schema"),
                        "{name}: {body}"
                    );
                    assert!(verbose.to_string().contains(kind), "{name}: {verbose}");
                }
            }
        }
    });
}

/// References: `$ref` by the reference's name, by name and JSON pointer,
/// and by the referenced schema's `$id`; missing references and `$ref`s
/// that resolve to nothing get 422 (42201); a breaking change inside a
/// referenced schema is found when the referrer's new version points at
/// the new reference version; referencedby lists the referrers.
#[test]
fn json_schema_references() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        let address_subject = harness::unique_topic("sr-js-address");
        let address = |zip: &str| {
            json!({
                "$id": "http://example.com/address.json",
                "type": "object",
                "properties": {"street": {"type": "string"}, "zip": {"$ref": "#/definitions/Zip"}},
                "definitions": {"Zip": {"type": zip}}
            })
        };
        let (st, v1) = register(a, &address_subject, js(address("string")));
        assert_eq!(st, 200, "{v1}");
        // Version 2 changes Zip's type; NONE so it may be registered.
        let (st, _) = call(
            a,
            "PUT",
            &format!("/config/{address_subject}"),
            Some(json!({"compatibility": "NONE"})),
        );
        assert_eq!(st, 200);
        let (st, v2) = register(a, &address_subject, js(address("integer")));
        assert_eq!((st, v2["version"].clone()), (200, json!(2)), "{v2}");

        let refs = |version: i64| json!([{"name": "address.json", "subject": address_subject, "version": version}]);
        let customer = |r: &str| json!({"type": "object", "properties": {"name": {"type": "string"}, "home": {"$ref": r}}});
        // Each way of naming the referenced schema, in its own subject.
        let mut referrers = Vec::new();
        for (tag, r) in [
            ("name", "address.json"),
            ("pointer", "address.json#/definitions/Zip"),
            ("id", "http://example.com/address.json"),
        ] {
            let subject = harness::unique_topic(&format!("sr-js-customer-{tag}"));
            let (st, body) = register(a, &subject, with_refs(customer(r), refs(1)));
            assert_eq!(st, 200, "{tag}: {body}");
            referrers.push(body["id"].clone());
            // The version answers with its references.
            let (_, got) = call(a, "GET", &format!("/subjects/{subject}/versions/1"), None);
            assert_eq!(got["references"], refs(1), "{tag}: {got}");
        }
        let (st, refby) = call(
            a,
            "GET",
            &format!("/subjects/{address_subject}/versions/1/referencedby"),
            None,
        );
        assert_eq!((st, refby), (200, Value::Array(referrers)));

        // The customer's v2 points at address v2: Zip string -> integer
        // breaks BACKWARD through the reference.
        let customer_subject = harness::unique_topic("sr-js-customer");
        let ptr = "address.json#/definitions/Zip";
        assert_eq!(
            register(a, &customer_subject, with_refs(customer(ptr), refs(1))).0,
            200
        );
        let (st, verbose) = call(
            a,
            "POST",
            &format!("/compatibility/subjects/{customer_subject}/versions/latest?verbose=true"),
            Some(with_refs(customer(ptr), refs(2))),
        );
        assert_eq!(st, 200, "{verbose}");
        assert_eq!(verbose["is_compatible"], false, "{verbose}");
        assert!(
            verbose.to_string().contains("TYPE_CHANGED")
                && verbose.to_string().contains("#/properties/home"),
            "{verbose}"
        );
        let refused = register(a, &customer_subject, with_refs(customer(ptr), refs(2)));
        assert_error(refused.clone(), 409, 40901, "reference v2");
        assert!(
            refused.1["message"]
                .as_str()
                .unwrap()
                .contains("errorType:\"TYPE_CHANGED\""),
            "{}",
            refused.1
        );
        // The whole address (not its Zip) is unchanged in shape at the
        // top: a referrer of the whole document sees the change inside.
        let whole = harness::unique_topic("sr-js-whole");
        assert_eq!(
            register(a, &whole, with_refs(customer("address.json"), refs(1))).0,
            200
        );
        let (_, verbose) = call(
            a,
            "POST",
            &format!("/compatibility/subjects/{whole}/versions/latest?verbose=true"),
            Some(with_refs(customer("address.json"), refs(2))),
        );
        assert!(
            verbose
                .to_string()
                .contains("#/properties/home/properties/zip"),
            "{verbose}"
        );

        // Bad references: a version that does not exist, a $ref to a name
        // no reference has, a pointer to nothing.
        let bad = harness::unique_topic("sr-js-bad");
        let (st, body) = register(a, &bad, with_refs(customer("address.json"), refs(9)));
        assert_error((st, body.clone()), 422, 42201, "missing reference version");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("No schema reference found"),
            "{body}"
        );
        for r in ["other.json", "address.json#/definitions/Nope"] {
            let (st, body) = register(a, &bad, with_refs(customer(r), refs(1)));
            assert_error((st, body.clone()), 422, 42201, r);
            assert!(body["message"].as_str().unwrap().contains(r), "{body}");
        }
        assert_error(
            register(a, &bad, js(customer("address.json"))),
            422,
            42201,
            "a $ref without its reference",
        );
        // A referenced version cannot be deleted while referred to.
        assert_error(
            call(
                a,
                "DELETE",
                &format!("/subjects/{address_subject}/versions/1"),
                None,
            ),
            422,
            42206,
            "delete of a referenced version",
        );
    });
}
