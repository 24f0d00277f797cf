//! Avro: parsing with the `apache-avro` crate (named references resolved
//! from the referenced schemas), the stored text, compatibility by the Avro
//! specification's schema resolution (the crate's `SchemaCompatibility`),
//! and decoding a datum to JSON for the console.

use apache_avro::schema_compatibility::{Compatibility as AvroCompat, SchemaCompatibility};
use apache_avro::Schema;

use super::format::{Resolved, SchemaType};

/// A parsed Avro schema and the named schemas it references.
#[derive(Debug)]
pub struct AvroSchema {
    pub schema: Schema,
    pub dependencies: Vec<Schema>,
}

/// Parses `text`; the stored text is the compact JSON of the input (key
/// order kept), or with `normalize` the crate's normalized JSON of the
/// parsed schema (full names, defaults spelled out).
pub fn parse(
    text: &str,
    references: &[Resolved],
    normalize: bool,
) -> Result<(AvroSchema, String), String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("Invalid schema: {e}"))?;
    let deps: Vec<&str> = references
        .iter()
        .filter(|r| r.schema_type == SchemaType::Avro)
        .map(|r| r.schema.as_str())
        .collect();
    let (schema, dependencies) = if deps.is_empty() {
        (Schema::parse(&json).map_err(invalid)?, Vec::new())
    } else {
        Schema::parse_str_with_list(text, deps).map_err(invalid)?
    };
    let stored = if normalize {
        serde_json::to_string(&schema).map_err(|e| format!("Invalid schema: {e}"))?
    } else {
        json.to_string()
    };
    Ok((
        AvroSchema {
            schema,
            dependencies,
        },
        stored,
    ))
}

fn invalid(e: apache_avro::Error) -> String {
    format!("Invalid schema: {e}")
}

/// Why `reader` cannot read data written with `writer`. A "partial" match
/// (a writer's enum symbol or union branch the reader lacks) counts as
/// incompatible, as in Avro's Java `SchemaCompatibility`.
pub fn can_read(reader: &AvroSchema, writer: &AvroSchema) -> Vec<String> {
    match SchemaCompatibility::can_read(&writer.schema, &reader.schema) {
        Ok(AvroCompat::Full) => Vec::new(),
        Ok(AvroCompat::Partial) => vec![
            "a writer's enum symbol or union branch is missing in the reader (and it has no default)"
                .to_string(),
        ],
        Err(e) => vec![e.to_string()],
    }
}

/// The most one decoded string, bytes or collection may claim. The crate's
/// default (512 MiB) lets a few bytes of a hostile message (a huge length
/// prefix) make the console allocate that much; no legitimate field of a
/// message under `message.max.bytes` comes near this.
pub const MAX_DECODE_ALLOCATION: usize = 16 * 1024 * 1024;

/// Decodes one datum written with `schema` to JSON; errors as text.
pub fn decode(schema: &AvroSchema, mut bytes: &[u8]) -> Result<serde_json::Value, String> {
    // A process-wide setting of the crate; the first call fixes it.
    apache_avro::util::max_allocation_bytes(MAX_DECODE_ALLOCATION);
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&schema.schema)
        .writer_schemata(schema.dependencies.iter().collect())
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    let value = reader.read_value(&mut bytes).map_err(|e| e.to_string())?;
    serde_json::Value::try_from(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avro(text: &str) -> AvroSchema {
        parse(text, &[], false).unwrap().0
    }

    const V1: &str =
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#;
    const V2_DEFAULT: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0}]}"#;
    const V2_REQUIRED: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#;

    #[test]
    fn adding_a_field_with_a_default_can_read_old_data() {
        assert!(can_read(&avro(V2_DEFAULT), &avro(V1)).is_empty());
        assert!(!can_read(&avro(V2_REQUIRED), &avro(V1)).is_empty());
        // Old readers ignore the new field.
        assert!(can_read(&avro(V1), &avro(V2_REQUIRED)).is_empty());
    }

    #[test]
    fn stored_text_is_compact() {
        let (_, text) = parse("{ \"type\" : \"string\" }", &[], false).unwrap();
        assert_eq!(text, r#"{"type":"string"}"#);
        assert!(parse("{\"type\":\"record\"}", &[], false).is_err());
        assert!(parse("not json", &[], false).is_err());
    }

    #[test]
    fn decodes_a_record() {
        let s = avro(V1);
        // string "ab": zigzag length 2 -> 4, then the bytes.
        let v = decode(&s, &[4, b'a', b'b']).unwrap();
        assert_eq!(v, serde_json::json!({"name": "ab"}));
        assert!(decode(&s, &[9]).is_err());
    }
}
