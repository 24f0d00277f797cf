//! JSON Schema: a structural check of the document, the stored text
//! (compact JSON), and this registry's own compatibility rules (no crate
//! checks compatibility of JSON Schemas). What the rules cover is listed in
//! the README's "Schema Registry" section; `$ref`s to references are not
//! followed by the check.

use serde_json::{Map, Value};

use super::format::Resolved;

/// A parsed JSON Schema document.
#[derive(Debug)]
pub struct JsonSchema {
    pub root: Value,
}

const TYPES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Checks `text` is a JSON Schema (an object or a boolean whose `type`,
/// `properties`, `required`, `items` and `enum` are well formed).
pub fn parse(
    text: &str,
    _references: &[Resolved],
    normalize: bool,
) -> Result<(JsonSchema, String), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("Invalid schema: {e}"))?;
    check(&root, 0).map_err(|e| format!("Invalid schema: {e}"))?;
    // Confluent's normalize re-reads the schema with sorted object keys
    // (every level; arrays keep their order).
    let stored = if normalize {
        sorted(&root).to_string()
    } else {
        root.to_string()
    };
    Ok((JsonSchema { root }, stored))
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

/// Why `reader` rejects documents `writer` accepts.
pub fn can_read(reader: &JsonSchema, writer: &JsonSchema) -> Vec<String> {
    let mut out = Vec::new();
    compare(&reader.root, &writer.root, "#", &mut out, 0);
    out
}

fn types_of(o: &Map<String, Value>) -> Option<Vec<String>> {
    match o.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

fn required(o: &Map<String, Value>) -> Vec<&str> {
    o.get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn closed(o: &Map<String, Value>) -> bool {
    o.get("additionalProperties") == Some(&Value::Bool(false))
}

fn compare(reader: &Value, writer: &Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let (r, w) = match (reader, writer) {
        (Value::Bool(true), _) => return,
        (Value::Bool(false), Value::Bool(false)) => return,
        (Value::Bool(false), _) => {
            out.push(format!("{path}: the reader accepts nothing"));
            return;
        }
        (Value::Object(r), Value::Object(w)) => (r, w),
        (Value::Object(r), Value::Bool(_)) => {
            if !r.is_empty() {
                out.push(format!(
                    "{path}: the writer accepts anything, the reader has constraints"
                ));
            }
            return;
        }
        _ => return,
    };
    // Types: every type the writer allows the reader must allow
    // (an integer is a number).
    if let Some(rt) = types_of(r) {
        let wt = types_of(w).unwrap_or_else(|| TYPES.iter().map(|t| t.to_string()).collect());
        for t in &wt {
            let ok = rt.contains(t) || (t == "integer" && rt.iter().any(|x| x == "number"));
            if !ok {
                out.push(format!(
                    "{path}: TYPE_NARROWED: type '{t}' is no longer allowed"
                ));
            }
        }
    }
    // Enums: the reader must keep every value the writer allows.
    if let Some(re) = r.get("enum").and_then(Value::as_array) {
        match w.get("enum").and_then(Value::as_array) {
            Some(we) => {
                for v in we {
                    if !re.contains(v) {
                        out.push(format!(
                            "{path}: ENUM_ARRAY_NARROWED: value {v} was removed"
                        ));
                    }
                }
            }
            None => out.push(format!("{path}: ENUM_ARRAY_NARROWED: an enum was added")),
        }
    }
    // Bounds may widen, not narrow.
    for (key, lower) in [
        ("minimum", true),
        ("exclusiveMinimum", true),
        ("minLength", true),
        ("minItems", true),
        ("minProperties", true),
        ("maximum", false),
        ("exclusiveMaximum", false),
        ("maxLength", false),
        ("maxItems", false),
        ("maxProperties", false),
    ] {
        let Some(rv) = r.get(key).and_then(Value::as_f64) else {
            continue;
        };
        let narrowed = match w.get(key).and_then(Value::as_f64) {
            None => true,
            Some(wv) => {
                if lower {
                    rv > wv
                } else {
                    rv < wv
                }
            }
        };
        if narrowed {
            out.push(format!("{path}: {key} was added or narrowed"));
        }
    }
    if r.get("pattern").is_some() && r.get("pattern") != w.get("pattern") {
        out.push(format!("{path}: pattern was added or changed"));
    }
    // Required properties: the reader may not require one the writer did not.
    let wreq = required(w);
    for p in required(r) {
        if !wreq.contains(&p) {
            out.push(format!(
                "{path}: REQUIRED_PROPERTY_ADDED: property '{p}' is now required"
            ));
        }
    }
    let empty = Map::new();
    let rprops = r
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let wprops = w
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, ws) in wprops {
        match rprops.get(name) {
            Some(rs) => compare(rs, ws, &format!("{path}/properties/{name}"), out, depth + 1),
            None if closed(r) => out.push(format!(
                "{path}: PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL: property '{name}'"
            )),
            None => {}
        }
    }
    if closed(r) && !closed(w) {
        out.push(format!(
            "{path}: ADDITIONAL_PROPERTIES_REMOVED: the reader no longer accepts other properties"
        ));
    }
    if let (Some(ri), Some(wi)) = (r.get("items"), w.get("items")) {
        compare(ri, wi, &format!("{path}/items"), out, depth + 1);
    }
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
        let req = js(
            r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a","b"]}"#,
        );
        let narrowed =
            js(r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#);
        assert!(can_read(&added, &v1).is_empty());
        assert_eq!(can_read(&req, &v1).len(), 1);
        assert_eq!(can_read(&narrowed, &v1).len(), 1);
        let num = js(r#"{"type":"number"}"#);
        let int = js(r#"{"type":"integer"}"#);
        assert!(can_read(&num, &int).is_empty());
        assert!(!can_read(&int, &num).is_empty());
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
