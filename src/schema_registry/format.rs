//! Schema types, parsing to a checked form with the text that identifies a
//! schema (two registrations with the same text get the same id), and the
//! compatibility levels with their dispatch to the per-format rules.

use std::fmt;

use super::{avro, json_schema, protobuf};

/// The three schema types Confluent serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchemaType {
    Avro,
    Protobuf,
    Json,
}

impl SchemaType {
    /// Confluent's name (`schemaType`).
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Protobuf => "PROTOBUF",
            SchemaType::Json => "JSON",
        }
    }

    /// From `schemaType` (case-insensitive, as Confluent accepts it).
    pub fn parse(s: &str) -> Option<SchemaType> {
        match s.to_ascii_uppercase().as_str() {
            "AVRO" => Some(SchemaType::Avro),
            "PROTOBUF" => Some(SchemaType::Protobuf),
            "JSON" => Some(SchemaType::Json),
            _ => None,
        }
    }
}

/// A schema checked by its format's parser.
#[derive(Debug)]
pub enum Parsed {
    Avro(avro::AvroSchema),
    Protobuf(protobuf::ProtoSchema),
    Json(json_schema::JsonSchema),
}

/// A referenced schema: the name it is imported by and its text.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub schema_type: SchemaType,
    pub schema: String,
}

/// Parses `text` as `schema_type` with its references' texts. Returns the
/// parsed schema and the text to store (compact JSON for Avro and JSON
/// Schema; for `normalize`, the format's normalized form).
pub fn parse(
    schema_type: SchemaType,
    text: &str,
    references: &[Resolved],
    normalize: bool,
) -> Result<(Parsed, String), String> {
    match schema_type {
        SchemaType::Avro => {
            avro::parse(text, references, normalize).map(|(p, t)| (Parsed::Avro(p), t))
        }
        SchemaType::Protobuf => {
            protobuf::parse(text, references, normalize).map(|(p, t)| (Parsed::Protobuf(p), t))
        }
        SchemaType::Json => {
            json_schema::parse(text, references, normalize).map(|(p, t)| (Parsed::Json(p), t))
        }
    }
}

/// Why `reader` cannot read everything `writer` wrote (empty: it can).
pub fn can_read(reader: &Parsed, writer: &Parsed) -> Vec<String> {
    match (reader, writer) {
        (Parsed::Avro(r), Parsed::Avro(w)) => avro::can_read(r, w),
        (Parsed::Protobuf(r), Parsed::Protobuf(w)) => protobuf::can_read(r, w),
        (Parsed::Json(r), Parsed::Json(w)) => json_schema::can_read(r, w),
        _ => vec!["Incompatible because of different schema type".to_string()],
    }
}

/// A subject's (or the global) compatibility level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Compatibility {
    pub fn name(self) -> &'static str {
        match self {
            Compatibility::None => "NONE",
            Compatibility::Backward => "BACKWARD",
            Compatibility::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Compatibility::Forward => "FORWARD",
            Compatibility::ForwardTransitive => "FORWARD_TRANSITIVE",
            Compatibility::Full => "FULL",
            Compatibility::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Case-insensitive, as Confluent's `CompatibilityLevel.forName`.
    pub fn parse(s: &str) -> Option<Compatibility> {
        Some(match s.to_ascii_uppercase().as_str() {
            "NONE" => Compatibility::None,
            "BACKWARD" => Compatibility::Backward,
            "BACKWARD_TRANSITIVE" => Compatibility::BackwardTransitive,
            "FORWARD" => Compatibility::Forward,
            "FORWARD_TRANSITIVE" => Compatibility::ForwardTransitive,
            "FULL" => Compatibility::Full,
            "FULL_TRANSITIVE" => Compatibility::FullTransitive,
            _ => return None,
        })
    }

    /// Whether every earlier version is checked, not only the latest.
    pub fn transitive(self) -> bool {
        matches!(
            self,
            Compatibility::BackwardTransitive
                | Compatibility::ForwardTransitive
                | Compatibility::FullTransitive
        )
    }

    /// Why `new` may not follow `previous` (oldest first) at this level;
    /// empty when it may.
    pub fn check(self, new: &Parsed, previous: &[&Parsed]) -> Vec<String> {
        let against: &[&Parsed] = match (self, previous.last()) {
            (Compatibility::None, _) | (_, None) => return Vec::new(),
            _ if self.transitive() => previous,
            _ => &previous[previous.len() - 1..],
        };
        let backward = matches!(
            self,
            Compatibility::Backward
                | Compatibility::BackwardTransitive
                | Compatibility::Full
                | Compatibility::FullTransitive
        );
        let forward = matches!(
            self,
            Compatibility::Forward
                | Compatibility::ForwardTransitive
                | Compatibility::Full
                | Compatibility::FullTransitive
        );
        let mut messages = Vec::new();
        // Newest first, as Confluent reports the first failing version.
        for old in against.iter().rev() {
            if backward {
                for m in can_read(new, old) {
                    let m = roles(&m, "new", "old");
                    messages.push(format!(
                        "{m} (the new schema cannot read data written with an earlier one: {})",
                        self.name()
                    ));
                }
            }
            if forward {
                for m in can_read(old, new) {
                    let m = roles(&m, "old", "new");
                    messages.push(format!(
                        "{m} (an earlier schema cannot read data written with the new one: {})",
                        self.name()
                    ));
                }
            }
            if !messages.is_empty() {
                break;
            }
        }
        messages
    }
}

/// Fills a message's `%s` placeholders (JSON Schema's, as Confluent's):
/// the reader's role first, then the writer's.
fn roles(message: &str, reader: &str, writer: &str) -> String {
    message.replacen("%s", reader, 1).replacen("%s", writer, 1)
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A subject's (or the global) mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ReadWrite,
    ReadOnly,
    ReadOnlyOverride,
    Import,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::ReadWrite => "READWRITE",
            Mode::ReadOnly => "READONLY",
            Mode::ReadOnlyOverride => "READONLY_OVERRIDE",
            Mode::Import => "IMPORT",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Mode::ReadWrite,
            "READONLY" => Mode::ReadOnly,
            "READONLY_OVERRIDE" => Mode::ReadOnlyOverride,
            "IMPORT" => Mode::Import,
            _ => return None,
        })
    }

    /// Whether registrations and deletes are refused.
    pub fn read_only(self) -> bool {
        matches!(self, Mode::ReadOnly | Mode::ReadOnlyOverride)
    }
}
