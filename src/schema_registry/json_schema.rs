//! JSON Schema: a structural check of the document, the stored text
//! (compact JSON), its `$ref`s resolved against the schema's references
//! (an unresolvable one makes the schema invalid), and Confluent's
//! compatibility rules over the resolved schemas (no crate checks
//! compatibility of JSON Schemas): [`super::json_schema_model`] loads,
//! [`super::json_schema_diff`] compares. What the rules cover is listed in
//! the README's "Schema Registry" section.

use serde_json::Value;

use super::format::{Resolved, SchemaType};
use super::json_schema_diff;
use super::json_schema_model::{self, Model};

/// A parsed JSON Schema document and its model with references resolved.
#[derive(Debug)]
pub struct JsonSchema {
    pub root: Value,
    pub model: Model,
}

const TYPES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Checks `text` is a JSON Schema (an object or a boolean whose `type`,
/// `properties`, `required`, `items` and `enum` are well formed).
pub fn parse(
    text: &str,
    references: &[Resolved],
    normalize: bool,
) -> Result<(JsonSchema, String), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("Invalid schema: {e}"))?;
    check(&root, 0).map_err(|e| format!("Invalid schema: {e}"))?;
    let refs: Vec<(String, String)> = references
        .iter()
        .filter(|r| r.schema_type == SchemaType::Json)
        .map(|r| (r.name.clone(), r.schema.clone()))
        .collect();
    let model = json_schema_model::load(&root, &refs)?;
    // Confluent's normalize re-reads the schema with sorted object keys
    // (every level; arrays keep their order).
    let stored = if normalize {
        sorted(&root).to_string()
    } else {
        root.to_string()
    };
    Ok((JsonSchema { root, model }, stored))
}

/// `v` with every object's keys sorted (serde_json keeps insertion order here).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&o[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn check(v: &Value, depth: usize) -> Result<(), String> {
    if depth > 64 {
        return Err("nested too deeply".into());
    }
    let obj = match v {
        Value::Bool(_) => return Ok(()),
        Value::Object(o) => o,
        _ => return Err("a schema must be an object or a boolean".into()),
    };
    match obj.get("type") {
        None => {}
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
        Some(Value::Array(ts))
            if ts
                .iter()
                .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t))) => {}
        Some(t) => return Err(format!("unknown type {t}")),
    }
    if let Some(p) = obj.get("properties") {
        let p = p.as_object().ok_or("properties must be an object")?;
        for s in p.values() {
            check(s, depth + 1)?;
        }
    }
    if let Some(r) = obj.get("required") {
        if !r.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
            return Err("required must be an array of strings".into());
        }
    }
    if let Some(e) = obj.get("enum") {
        if !e.is_array() {
            return Err("enum must be an array".into());
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(s) = obj.get(key) {
            if !s.is_array() {
                check(s, depth + 1)?;
            }
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(a) = obj.get(key) {
            for s in a.as_array().ok_or("allOf/anyOf/oneOf must be arrays")? {
                check(s, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// Why `reader` rejects documents `writer` accepts: Confluent's
/// incompatible differences from the writer (original) to the reader
/// (update), see [`super::json_schema_diff`]. Each message has two `%s`,
/// the reader's role then the writer's, as Confluent's have.
pub fn can_read(reader: &JsonSchema, writer: &JsonSchema) -> Vec<String> {
    json_schema_diff::incompatible(&writer.model, &reader.model)
        .iter()
        .map(json_schema_diff::Difference::message)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(t: &str) -> JsonSchema {
        parse(t, &[], false).unwrap().0
    }

    #[test]
    fn rules() {
        let v1 = js(r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#);
        let added = js(
            r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"]}"#,
        );
        let narrowed =
            js(r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#);
        // Confluent: old data of an open model may hold any `b`.
        let m = can_read(&added, &v1);
        assert!(
            m.len() == 1 && m[0].contains("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
            "{m:?}"
        );
        // Removing it again is fine: the reader's model is open.
        assert!(can_read(&v1, &added).is_empty());
        assert_eq!(can_read(&narrowed, &v1).len(), 1);
        let num = js(r#"{"type":"number"}"#);
        let int = js(r#"{"type":"integer"}"#);
        assert!(can_read(&num, &int).is_empty());
        assert!(can_read(&int, &num)[0].contains("TYPE_NARROWED"));
    }

    #[test]
    fn refs_are_compared_resolved() {
        let reference = |text: &str| Resolved {
            name: "address.json".into(),
            schema_type: SchemaType::Json,
            schema: text.into(),
        };
        let zip_str = reference(r#"{"definitions":{"Zip":{"type":"string"}}}"#);
        let zip_int = reference(r#"{"definitions":{"Zip":{"type":"integer"}}}"#);
        let text =
            r#"{"type":"object","properties":{"zip":{"$ref":"address.json#/definitions/Zip"}}}"#;
        let old = parse(text, std::slice::from_ref(&zip_str), false)
            .unwrap()
            .0;
        let same = parse(text, std::slice::from_ref(&zip_str), false)
            .unwrap()
            .0;
        let new = parse(text, std::slice::from_ref(&zip_int), false)
            .unwrap()
            .0;
        assert!(can_read(&same, &old).is_empty());
        let m = can_read(&new, &old);
        assert!(m.len() == 1 && m[0].contains("TYPE_CHANGED"), "{m:?}");
        assert!(m[0].contains("#/properties/zip"), "{m:?}");
        let err = parse(text, &[], false).unwrap_err();
        assert!(
            err.starts_with("Invalid schema") && err.contains("address.json"),
            "{err}"
        );
    }

    #[test]
    fn normalize_sorts_keys_at_every_level() {
        let a = r#"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}"#;
        let b = r#"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}"#;
        assert_ne!(
            parse(a, &[], false).unwrap().1,
            parse(b, &[], false).unwrap().1
        );
        assert_eq!(
            parse(a, &[], true).unwrap().1,
            parse(b, &[], true).unwrap().1
        );
    }

    #[test]
    fn malformed() {
        assert!(parse("[1]", &[], false).is_err());
        assert!(parse(r#"{"type":"thing"}"#, &[], false).is_err());
        assert!(parse(r#"{"required":"a"}"#, &[], false).is_err());
        assert!(parse("{", &[], false).is_err());
    }
}
