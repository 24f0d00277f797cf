//! The records of `_schemas`, in Confluent's JSON shapes so the topic reads
//! the same as one a Confluent registry wrote (and one it wrote replays here).
//!
//! Keys: `{"keytype":"SCHEMA","subject":S,"version":V,"magic":1}`,
//! `{"keytype":"CONFIG"[,"subject":S],"magic":0}`, `MODE` likewise,
//! `{"keytype":"DELETE_SUBJECT","subject":S,"magic":0}`,
//! `{"keytype":"NOOP","magic":0}` (field order as Confluent writes it; empty
//! fields omitted). Values: the schema (subject, version, id, schemaType
//! unless AVRO, references when any, schema, deleted), the config
//! (compatibilityLevel and normalize), the mode, or the deleted subject's latest version. A null value
//! (tombstone) removes the key's state.

use serde_json::{json, Map, Value};

use super::format::{Compatibility, SchemaType};

/// A reference from one schema to another subject's version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// One version of a subject as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaValue {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub schema_type: SchemaType,
    pub references: Vec<Reference>,
    pub schema: String,
    pub deleted: bool,
}

/// A decoded `_schemas` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Schema { subject: String, version: i32 },
    Config { subject: Option<String> },
    Mode { subject: Option<String> },
    DeleteSubject { subject: String },
    ClearSubject { subject: String },
    Noop,
}

/// The JSON bytes of `key`.
pub fn encode_key(key: &Key) -> Vec<u8> {
    let mut m = Map::new();
    let (keytype, subject, version, magic) = match key {
        Key::Schema { subject, version } => ("SCHEMA", Some(subject), Some(*version), 1),
        Key::Config { subject } => ("CONFIG", subject.as_ref(), None, 0),
        Key::Mode { subject } => ("MODE", subject.as_ref(), None, 0),
        Key::DeleteSubject { subject } => ("DELETE_SUBJECT", Some(subject), None, 0),
        Key::ClearSubject { subject } => ("CLEAR_SUBJECT", Some(subject), None, 0),
        Key::Noop => ("NOOP", None, None, 0),
    };
    m.insert("keytype".into(), keytype.into());
    if let Some(s) = subject.filter(|s| !s.is_empty()) {
        m.insert("subject".into(), s.as_str().into());
    }
    if let Some(v) = version {
        m.insert("version".into(), v.into());
    }
    m.insert("magic".into(), magic.into());
    Value::Object(m).to_string().into_bytes()
}

/// Decodes a key; `None` for keys this registry does not know (skipped).
pub fn decode_key(bytes: &[u8]) -> Option<Key> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let subject = v.get("subject").and_then(Value::as_str).map(str::to_string);
    match v.get("keytype")?.as_str()? {
        "SCHEMA" => Some(Key::Schema {
            subject: subject?,
            version: i32::try_from(v.get("version")?.as_i64()?).ok()?,
        }),
        "CONFIG" => Some(Key::Config { subject }),
        "MODE" => Some(Key::Mode { subject }),
        "DELETE_SUBJECT" => Some(Key::DeleteSubject { subject: subject? }),
        "CLEAR_SUBJECT" => Some(Key::ClearSubject { subject: subject? }),
        "NOOP" => Some(Key::Noop),
        _ => None,
    }
}

/// The JSON bytes of a schema value.
pub fn encode_schema(s: &SchemaValue) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("subject".into(), s.subject.as_str().into());
    m.insert("version".into(), s.version.into());
    m.insert("id".into(), s.id.into());
    if s.schema_type != SchemaType::Avro {
        m.insert("schemaType".into(), s.schema_type.name().into());
    }
    if !s.references.is_empty() {
        m.insert("references".into(), references_json(&s.references));
    }
    m.insert("schema".into(), s.schema.as_str().into());
    m.insert("deleted".into(), s.deleted.into());
    Value::Object(m).to_string().into_bytes()
}

/// `[{"name":..,"subject":..,"version":..}]`.
pub fn references_json(refs: &[Reference]) -> Value {
    Value::Array(
        refs.iter()
            .map(|r| json!({"name": r.name, "subject": r.subject, "version": r.version}))
            .collect(),
    )
}

/// Parses Confluent's `references` array; `None` when malformed.
pub fn parse_references(v: Option<&Value>) -> Option<Vec<Reference>> {
    let Some(v) = v else {
        return Some(Vec::new());
    };
    if v.is_null() {
        return Some(Vec::new());
    }
    v.as_array()?
        .iter()
        .map(|r| {
            Some(Reference {
                name: r.get("name")?.as_str()?.to_string(),
                subject: r.get("subject")?.as_str()?.to_string(),
                version: i32::try_from(r.get("version")?.as_i64()?).ok()?,
            })
        })
        .collect()
}

/// Decodes a schema value; `None` when malformed.
pub fn decode_schema(bytes: &[u8]) -> Option<SchemaValue> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let schema_type = match v.get("schemaType").and_then(Value::as_str) {
        None => SchemaType::Avro,
        Some(t) => SchemaType::parse(t)?,
    };
    Some(SchemaValue {
        subject: v.get("subject")?.as_str()?.to_string(),
        version: i32::try_from(v.get("version")?.as_i64()?).ok()?,
        id: i32::try_from(v.get("id")?.as_i64()?).ok()?,
        schema_type,
        references: parse_references(v.get("references"))?,
        schema: v.get("schema")?.as_str()?.to_string(),
        deleted: v.get("deleted").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A CONFIG value: the fields of Confluent's ConfigValue this registry
/// keeps (either may be unset; a subject's unset field falls back to the
/// global one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConfigValue {
    pub compatibility: Option<Compatibility>,
    pub normalize: Option<bool>,
}

/// `{"subject":S,"normalize":N,"compatibilityLevel":L}` (no subject for the
/// global config; unset fields omitted, as Confluent's NON_EMPTY writes them).
pub fn encode_config(subject: Option<&str>, config: &ConfigValue) -> Vec<u8> {
    let mut m = Map::new();
    if let Some(s) = subject {
        m.insert("subject".into(), s.into());
    }
    if let Some(n) = config.normalize {
        m.insert("normalize".into(), n.into());
    }
    if let Some(c) = config.compatibility {
        m.insert("compatibilityLevel".into(), c.name().into());
    }
    Value::Object(m).to_string().into_bytes()
}

/// A config value; `None` when it is not a JSON object. Fields this registry
/// does not keep (validateFields, metadata, rule sets...) are ignored.
pub fn decode_config(bytes: &[u8]) -> Option<ConfigValue> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let o = v.as_object()?;
    Some(ConfigValue {
        compatibility: o
            .get("compatibilityLevel")
            .and_then(Value::as_str)
            .and_then(Compatibility::parse),
        normalize: o.get("normalize").and_then(Value::as_bool),
    })
}

/// `{"subject":S,"mode":M}` (no subject for the global mode).
pub fn encode_mode(subject: Option<&str>, mode: &str) -> Vec<u8> {
    let mut m = Map::new();
    if let Some(s) = subject {
        m.insert("subject".into(), s.into());
    }
    m.insert("mode".into(), mode.into());
    Value::Object(m).to_string().into_bytes()
}

/// The mode of a mode value.
pub fn decode_mode(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    Some(v.get("mode")?.as_str()?.to_string())
}

/// `{"subject":S,"version":V}`: every version up to V was soft-deleted.
pub fn encode_delete_subject(subject: &str, version: i32) -> Vec<u8> {
    json!({"subject": subject, "version": version})
        .to_string()
        .into_bytes()
}

/// A NOOP value carrying the highest id ever assigned (Confluent writes
/// NOOP with no value and ignores its value), so that a permanent delete of
/// the newest schema, once compaction drops its records, cannot lead a
/// restart to hand its id out again.
pub fn encode_max_id(max_id: i32) -> Vec<u8> {
    json!({"maxId": max_id}).to_string().into_bytes()
}

/// The id of a NOOP value written by [`encode_max_id`].
pub fn decode_max_id(bytes: &[u8]) -> Option<i32> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    i32::try_from(v.get("maxId")?.as_i64()?).ok()
}

/// The version of a DELETE_SUBJECT value.
pub fn decode_delete_subject(bytes: &[u8]) -> Option<i32> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    i32::try_from(v.get("version")?.as_i64()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_confluents_field_order() {
        let k = Key::Schema {
            subject: "t-value".into(),
            version: 3,
        };
        assert_eq!(
            String::from_utf8(encode_key(&k)).unwrap(),
            r#"{"keytype":"SCHEMA","subject":"t-value","version":3,"magic":1}"#
        );
        assert_eq!(decode_key(&encode_key(&k)), Some(k));
        assert_eq!(
            String::from_utf8(encode_key(&Key::Config { subject: None })).unwrap(),
            r#"{"keytype":"CONFIG","magic":0}"#
        );
        assert_eq!(decode_key(b"{\"keytype\":\"OTHER\"}"), None);
        assert_eq!(decode_key(b"not json"), None);
    }

    #[test]
    fn config_values_carry_level_and_normalize() {
        let c = ConfigValue {
            compatibility: Some(Compatibility::Full),
            normalize: Some(true),
        };
        let bytes = encode_config(Some("s"), &c);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"subject":"s","normalize":true,"compatibilityLevel":"FULL"}"#
        );
        assert_eq!(decode_config(&bytes), Some(c));
        // What an older Skiff or a Confluent registry wrote.
        assert_eq!(
            decode_config(br#"{"compatibilityLevel":"NONE","validateFields":true}"#),
            Some(ConfigValue {
                compatibility: Some(Compatibility::None),
                normalize: None
            })
        );
        assert_eq!(
            String::from_utf8(encode_config(None, &ConfigValue::default())).unwrap(),
            "{}"
        );
        assert_eq!(decode_config(b"[]"), None);
    }

    #[test]
    fn schema_value_round_trips() {
        let v = SchemaValue {
            subject: "s".into(),
            version: 1,
            id: 7,
            schema_type: SchemaType::Protobuf,
            references: vec![Reference {
                name: "a.proto".into(),
                subject: "a".into(),
                version: 2,
            }],
            schema: "syntax = \"proto3\";".into(),
            deleted: false,
        };
        let bytes = encode_schema(&v);
        assert!(String::from_utf8_lossy(&bytes).starts_with(
            r#"{"subject":"s","version":1,"id":7,"schemaType":"PROTOBUF","references":["#
        ));
        assert_eq!(decode_schema(&bytes), Some(v));
    }
}
