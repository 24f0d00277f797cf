//! Protobuf: parsing a `.proto` text with `protox` (its references are the
//! files it imports; Google's well-known types are built in), compatibility
//! rules over the messages of the file, and decoding a Confluent-framed
//! message (message indexes, then the payload) to JSON for the console.

use std::collections::HashMap;

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

use super::format::{Resolved, SchemaType};

/// The name the registered schema is compiled under.
const MAIN_FILE: &str = "skiff_registered_schema.proto";

/// A compiled `.proto` file and the pool holding it and its imports.
#[derive(Debug)]
pub struct ProtoSchema {
    pub pool: DescriptorPool,
    /// Top-level messages of the file in declaration order (message index 0 first).
    pub messages: Vec<MessageDescriptor>,
    pub package: String,
}

struct Sources(HashMap<String, String>);

impl FileResolver for Sources {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(src) => match descriptor_from_base64(name, src) {
                Some(fd) => Ok(File::from_file_descriptor_proto(fd)),
                None => File::from_source(name, src),
            },
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// Confluent also accepts a schema as a base64 `FileDescriptorProto`
/// (confluent-kafka Python's ProtobufSerializer registers that form).
fn descriptor_from_base64(name: &str, text: &str) -> Option<prost_types::FileDescriptorProto> {
    use base64::Engine as _;
    use prost::Message as _;
    let t = text.trim();
    // .proto text always has a space or a semicolon; base64 never does.
    if t.is_empty() || t.contains([' ', ';', '\n']) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    let mut fd = prost_types::FileDescriptorProto::decode(bytes.as_slice()).ok()?;
    fd.name = Some(name.to_string());
    Some(fd)
}

/// The schema as a base64 `FileDescriptorProto` (`?format=serialized`).
pub fn serialized(schema: &ProtoSchema) -> Option<String> {
    use base64::Engine as _;
    use prost::Message as _;
    let file = schema.pool.get_file_by_name(MAIN_FILE)?;
    let bytes = file.file_descriptor_proto().encode_to_vec();
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Compiles `text` with its references (import name -> text). The stored
/// text is the input as given (Confluent stores its own reformatting), or
/// with `normalize` Confluent's normalized form ([`super::protobuf_normalize`]),
/// which is compiled again so that what is checked is what is stored.
pub fn parse(
    text: &str,
    references: &[Resolved],
    normalize: bool,
) -> Result<(ProtoSchema, String), String> {
    let pool = compile(text, references).map_err(|e| format!("Invalid schema: {e}"))?;
    let schema = checked(pool)?;
    if !normalize {
        return Ok((schema, text.to_string()));
    }
    let file = schema
        .pool
        .get_file_by_name(MAIN_FILE)
        .ok_or_else(|| "Invalid schema: the file did not compile".to_string())?;
    let normalized = super::protobuf_normalize::normalized(&file);
    let pool = compile(&normalized, references)
        .map_err(|e| format!("Invalid schema: its normalized form does not compile: {e}"))?;
    Ok((checked(pool)?, normalized))
}

fn compile(text: &str, references: &[Resolved]) -> Result<DescriptorPool, protox::Error> {
    let mut sources: HashMap<String, String> = references
        .iter()
        .filter(|r| r.schema_type == SchemaType::Protobuf)
        .map(|r| (r.name.clone(), r.schema.clone()))
        .collect();
    sources.insert(MAIN_FILE.to_string(), text.to_string());
    let mut chain = ChainFileResolver::new();
    chain.add(Sources(sources));
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true);
    compiler.open_file(MAIN_FILE)?;
    Ok(compiler.descriptor_pool())
}

/// The compiled file's messages, after the checks protox leaves to us.
fn checked(pool: DescriptorPool) -> Result<ProtoSchema, String> {
    let file = pool
        .get_file_by_name(MAIN_FILE)
        .ok_or_else(|| "Invalid schema: the file did not compile".to_string())?;
    let messages: Vec<MessageDescriptor> = file.messages().collect();
    if messages.is_empty() {
        return Err("Invalid schema: the file declares no message".to_string());
    }
    reserved_names_unused(&messages)?;
    let package = file.package_name().to_string();
    Ok(ProtoSchema {
        pool,
        messages,
        package,
    })
}

/// protoc refuses a field named by a `reserved "name"` of its message;
/// protox checks only reserved numbers, so the names are checked here.
fn reserved_names_unused(messages: &[MessageDescriptor]) -> Result<(), String> {
    let mut stack: Vec<MessageDescriptor> = messages.to_vec();
    while let Some(m) = stack.pop() {
        stack.extend(m.child_messages());
        let reserved = &m.descriptor_proto().reserved_name;
        if let Some(f) = m.fields().find(|f| reserved.iter().any(|r| r == f.name())) {
            return Err(format!(
                "Invalid schema: field name '{}' of '{}' is reserved",
                f.name(),
                m.full_name()
            ));
        }
    }
    Ok(())
}

/// Why `reader` cannot read messages written with `writer` (Confluent's
/// Protobuf rules, see [`super::protobuf_diff`]).
pub fn can_read(reader: &ProtoSchema, writer: &ProtoSchema) -> Vec<String> {
    super::protobuf_diff::differences(reader, writer)
        .iter()
        .map(super::protobuf_diff::Difference::message)
        .collect()
}

/// Reads Confluent's message-index list (a zigzag varint count, then that
/// many zigzag varint indexes; a lone 0 means `[0]`) and returns the
/// indexes and the rest of the bytes.
pub fn read_message_indexes(bytes: &[u8]) -> Option<(Vec<i64>, &[u8])> {
    let (count, mut rest) = read_zigzag(bytes)?;
    if count == 0 {
        return Some((vec![0], rest));
    }
    if !(0..=100).contains(&count) {
        return None;
    }
    let mut idx = Vec::new();
    for _ in 0..count {
        let (v, r) = read_zigzag(rest)?;
        idx.push(v);
        rest = r;
    }
    Some((idx, rest))
}

fn read_zigzag(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let mut v: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let signed = ((v >> 1) as i64) ^ -((v & 1) as i64);
            return Some((signed, &bytes[i + 1..]));
        }
    }
    None
}

/// Decodes a Confluent-framed Protobuf value (after the schema id) to JSON.
pub fn decode(schema: &ProtoSchema, bytes: &[u8]) -> Result<serde_json::Value, String> {
    let (indexes, payload) =
        read_message_indexes(bytes).ok_or_else(|| "bad message indexes".to_string())?;
    let mut desc: Option<MessageDescriptor> = None;
    for i in indexes {
        let list: Vec<MessageDescriptor> = match &desc {
            None => schema.messages.clone(),
            Some(d) => d.child_messages().filter(|m| !m.is_map_entry()).collect(),
        };
        let i = usize::try_from(i).map_err(|_| "bad message index".to_string())?;
        desc = Some(
            list.get(i)
                .cloned()
                .ok_or_else(|| "message index out of range".to_string())?,
        );
    }
    let desc = desc.ok_or_else(|| "no message".to_string())?;
    let msg = DynamicMessage::decode(desc, payload).map_err(|e| e.to_string())?;
    serde_json::to_value(&msg).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(text: &str) -> ProtoSchema {
        parse(text, &[], false).unwrap().0
    }

    #[test]
    fn compatible_changes_pass_and_kind_changes_fail() {
        let v1 = proto("syntax = \"proto3\"; message M { string a = 1; int32 b = 2; }");
        let added =
            proto("syntax = \"proto3\"; message M { string a = 1; int32 b = 2; string c = 3; }");
        let widened = proto("syntax = \"proto3\"; message M { string a = 1; int64 b = 2; }");
        let changed = proto("syntax = \"proto3\"; message M { string a = 1; string b = 2; }");
        assert!(can_read(&added, &v1).is_empty());
        assert!(can_read(&v1, &added).is_empty());
        assert!(can_read(&widened, &v1).is_empty());
        assert_eq!(can_read(&changed, &v1).len(), 1);
        let renamed = proto("syntax = \"proto3\"; message N { string a = 1; }");
        assert!(!can_read(&renamed, &v1).is_empty());
    }

    #[test]
    fn base64_descriptors_parse_like_text() {
        let s = proto("syntax = \"proto3\"; package p; message M { string a = 1; }");
        let b64 = serialized(&s).unwrap();
        let again = proto(&b64);
        assert_eq!(again.messages[0].full_name(), "p.M");
        assert!(can_read(&again, &s).is_empty());
        assert!(parse("bm90IGEgZGVzY3JpcHRvcg==", &[], false).is_err());
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(parse("message {", &[], false).is_err());
        assert!(parse("syntax = \"proto3\";", &[], false).is_err());
        assert!(parse(
            "syntax = \"proto3\"; import \"missing.proto\"; message M {}",
            &[],
            false
        )
        .is_err());
    }

    #[test]
    fn decodes_with_message_indexes() {
        let s =
            proto("syntax = \"proto3\"; message M { string a = 1; } message N { int32 x = 1; }");
        // Index [1] (count 1 -> zigzag 2, index 1 -> 2), then field 1 varint 5.
        let v = decode(&s, &[2, 2, 0x08, 5]).unwrap();
        assert_eq!(v, serde_json::json!({"x": 5}));
        let v = decode(&s, &[0, 0x0a, 1, b'z']).unwrap();
        assert_eq!(v, serde_json::json!({"a": "z"}));
    }
}
