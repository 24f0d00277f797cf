//! The Schema Registry's parser entry points on arbitrary input: the first
//! byte picks the format (Avro, Protobuf, JSON Schema) and whether to
//! normalize, the rest up to a 0xff byte is the schema text and what follows
//! it a payload decoded with the schema (as the console decodes a framed
//! message). Checks: no panic; a parsed schema's stored text parses again
//! (and a normalized Protobuf text normalizes to itself);
//! the `_schemas` record decoders accept or refuse the bytes without panic.

use skiff::schema_registry::format::{self, Parsed, SchemaType};
use skiff::schema_registry::{avro, protobuf, records, wire};

pub fn check_schema(data: &[u8]) {
    let _ = records::decode_key(data);
    let _ = records::decode_schema(data);
    let _ = wire::split(data);
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let schema_type = match first % 3 {
        0 => SchemaType::Avro,
        1 => SchemaType::Protobuf,
        _ => SchemaType::Json,
    };
    let normalize = first & 0x80 != 0;
    let (text, payload) = match rest.iter().position(|b| *b == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let Ok((parsed, stored)) = format::parse(schema_type, &text, &[], normalize) else {
        return;
    };
    if format::parse(schema_type, &stored, &[], false).is_err() {
        panic!("stored text of a parsed {schema_type:?} schema does not parse: {stored:?}");
    }
    // Normalizing is idempotent: the normalized text normalizes to itself.
    if normalize && schema_type == SchemaType::Protobuf {
        match format::parse(schema_type, &stored, &[], true) {
            Ok((_, again)) if again == stored => {}
            other => {
                panic!("normalized Protobuf text is not a fixed point: {stored:?} -> {other:?}")
            }
        }
    }
    let _ = format::can_read(&parsed, &parsed);
    match &parsed {
        Parsed::Avro(a) => {
            let _ = avro::decode(a, payload);
        }
        Parsed::Protobuf(p) => {
            let _ = protobuf::decode(p, payload);
        }
        Parsed::Json(_) => {}
    }
}
