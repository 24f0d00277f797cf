//! The Schema Registry's parsers (Avro, Protobuf, JSON Schema), the
//! compatibility check of a schema with itself, datum decoding and the
//! `_schemas` record decoders on arbitrary bytes (see src/schema_common.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/schema_common.rs"]
mod schema_common;

fuzz_target!(|data: &[u8]| {
    schema_common::check_schema(data);
});
