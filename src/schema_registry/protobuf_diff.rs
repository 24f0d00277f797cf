//! Protobuf compatibility: the differences between a writer's (original)
//! and a reader's (update) compiled file that Confluent's Protobuf provider
//! reports, and which of them break reading old data.
//!
//! Learned from Confluent's rules (not their code): messages are matched by
//! name within the package, fields by number across the whole message
//! (top-level and oneof members alike), enums by constant number. Enum
//! changes, added/removed/renamed optional fields, string<->bytes label
//! changes, moving one field into a new oneof or out of a oneof, and moving
//! or adding messages are compatible; everything in [`INCOMPATIBLE`] is not.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};

use super::protobuf::ProtoSchema;

/// The difference types that fail a check (Confluent's names).
pub const INCOMPATIBLE: [&str; 11] = [
    "PACKAGE_CHANGED",
    "MESSAGE_REMOVED",
    "FIELD_KIND_CHANGED",
    "FIELD_SCALAR_KIND_CHANGED",
    "FIELD_NAMED_TYPE_CHANGED",
    "FIELD_NUMERIC_LABEL_CHANGED",
    "REQUIRED_FIELD_ADDED",
    "REQUIRED_FIELD_REMOVED",
    "ONEOF_FIELD_REMOVED",
    "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
    "FIELD_MOVED_TO_EXISTING_ONEOF",
];

/// One incompatible difference: its type and the path (`#/Msg/oneof/tag`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    pub kind: &'static str,
    pub path: String,
}

impl Difference {
    /// Confluent's message shape, "%s" filled with reader/writer.
    pub fn message(&self) -> String {
        let p = &self.path;
        let d = match self.kind {
            "PACKAGE_CHANGED" => format!("The package at '{p}' in the reader schema does not match the package in the writer schema"),
            "MESSAGE_REMOVED" => format!("The reader schema is missing a MESSAGE type at path '{p}' in the writer schema"),
            "FIELD_KIND_CHANGED" => format!("The type of a field at path '{p}' in the reader schema does not match the writer schema"),
            "FIELD_SCALAR_KIND_CHANGED" => format!("The kind of a SCALAR field at path '{p}' in the reader schema does not match its kind in the writer schema"),
            "FIELD_NAMED_TYPE_CHANGED" => format!("The type of a MESSAGE field at path '{p}' in the reader schema does not match its type in the writer schema"),
            "FIELD_NUMERIC_LABEL_CHANGED" => format!("The label for a NUMERIC field at path '{p}' in the reader schema does not match its label in the writer schema"),
            "REQUIRED_FIELD_ADDED" => format!("A required field at path '{p}' in the reader schema is missing in the writer schema"),
            "REQUIRED_FIELD_REMOVED" => format!("The reader schema is missing a required field at path: '{p}' in the writer schema"),
            "ONEOF_FIELD_REMOVED" => format!("The reader schema is missing a oneof field at path '{p}' in the writer schema"),
            "MULTIPLE_FIELDS_MOVED_TO_ONEOF" => format!("Multiple fields in the oneof at path '{p}' in the reader schema are outside a oneof in the writer schema"),
            "FIELD_MOVED_TO_EXISTING_ONEOF" => format!("A field in the oneof at path '{p}' in the reader schema is outside an existing oneof in the writer schema"),
            other => other.to_string(),
        };
        format!("{{errorType:\"{}\", description:\"{d}\"}}", self.kind)
    }
}

/// The incompatible differences when `reader` reads what `writer` wrote.
pub fn differences(reader: &ProtoSchema, writer: &ProtoSchema) -> Vec<Difference> {
    let mut d = Diff {
        out: BTreeSet::new(),
        visited: HashMap::new(),
    };
    if reader.package != writer.package {
        d.push("PACKAGE_CHANGED", "#/".to_string());
    }
    let mut stack: Vec<MessageDescriptor> = writer.messages.clone();
    while let Some(w) = stack.pop() {
        stack.extend(w.child_messages().filter(|m| !m.is_map_entry()));
        let local = local_name(&w);
        let full = if reader.package.is_empty() {
            local.clone()
        } else {
            format!("{}.{local}", reader.package)
        };
        match reader.pool.get_message_by_name(&full) {
            Some(r) => {
                d.message(&w, &r);
            }
            None => d.push("MESSAGE_REMOVED", format!("#/{local}")),
        }
    }
    d.out.into_iter().collect()
}

struct Diff {
    out: BTreeSet<Difference>,
    /// (writer, reader) message pairs compared, and whether they differed.
    visited: HashMap<(String, String), bool>,
}

/// A message's name without its file's package (`Outer.Inner`).
fn local_name(m: &MessageDescriptor) -> String {
    let package = m.parent_file().package_name().to_string();
    let full = m.full_name();
    match full.strip_prefix(&format!("{package}.")) {
        Some(l) if !package.is_empty() => l.to_string(),
        _ => full.to_string(),
    }
}

/// The real (not proto3-`optional` synthetic) oneof a field belongs to.
fn oneof_of(f: &FieldDescriptor) -> Option<String> {
    f.containing_oneof()
        .filter(|o| !o.is_synthetic())
        .map(|o| o.name().to_string())
}

/// The label as written in the `.proto` (none for proto3's implicit
/// presence and for oneof members), which is what Confluent compares.
fn label(f: &FieldDescriptor) -> Option<Cardinality> {
    if f.field_descriptor_proto().proto3_optional() {
        return Some(Cardinality::Optional);
    }
    if f.cardinality() == Cardinality::Repeated {
        return Some(Cardinality::Repeated);
    }
    let proto3 = f.parent_file().file_descriptor_proto().syntax() == "proto3";
    if proto3 || oneof_of(f).is_some() {
        return None;
    }
    Some(f.cardinality())
}

/// Scalars that read each other's encoding (an enum is a varint).
fn scalar_group(k: &Kind) -> u8 {
    match k {
        Kind::Int32 | Kind::Uint32 | Kind::Int64 | Kind::Uint64 | Kind::Bool | Kind::Enum(_) => 0,
        Kind::Sint32 | Kind::Sint64 => 1,
        Kind::String | Kind::Bytes => 2,
        Kind::Fixed32 | Kind::Sfixed32 => 3,
        Kind::Fixed64 | Kind::Sfixed64 => 4,
        Kind::Float => 5,
        Kind::Double => 6,
        Kind::Message(_) => 7,
    }
}

#[derive(PartialEq)]
enum FieldKind {
    Scalar,
    Map,
    Message,
}

fn field_kind(f: &FieldDescriptor) -> FieldKind {
    if f.is_map() {
        FieldKind::Map
    } else if matches!(f.kind(), Kind::Message(_)) {
        FieldKind::Message
    } else {
        FieldKind::Scalar
    }
}

impl Diff {
    fn push(&mut self, kind: &'static str, path: String) {
        self.out.insert(Difference { kind, path });
    }

    /// Compares two messages; whether an incompatible difference was found.
    fn message(&mut self, w: &MessageDescriptor, r: &MessageDescriptor) -> bool {
        let key = (w.full_name().to_string(), r.full_name().to_string());
        if let Some(differed) = self.visited.get(&key) {
            return *differed;
        }
        // A cycle (a message holding itself) counts as equal while open.
        self.visited.insert(key.clone(), false);
        let before = self.out.len();
        let base = format!("#/{}", local_name(w).replace('.', "/"));
        let wf: BTreeMap<u32, FieldDescriptor> = w.fields().map(|f| (f.number(), f)).collect();
        let rf: BTreeMap<u32, FieldDescriptor> = r.fields().map(|f| (f.number(), f)).collect();
        let w_oneof: HashMap<u32, String> = wf
            .iter()
            .filter_map(|(n, f)| oneof_of(f).map(|o| (*n, o)))
            .collect();
        let r_oneof: HashMap<u32, String> = rf
            .iter()
            .filter_map(|(n, f)| oneof_of(f).map(|o| (*n, o)))
            .collect();
        let r_oneof_names: HashSet<&String> = r_oneof.values().collect();
        // A oneof gone by name with none of its members left anywhere is a
        // whole deletion (compatible); a partly kept one loses members.
        let wholly_deleted: HashSet<String> = w
            .oneofs()
            .filter(|o| !o.is_synthetic())
            .filter(|o| !r_oneof_names.contains(&o.name().to_string()))
            .filter(|o| o.fields().all(|f| !rf.contains_key(&f.number())))
            .map(|o| o.name().to_string())
            .collect();
        // New mutual exclusion: a reader oneof whose existing members came
        // from more than one writer group (a oneof, or each lone field).
        for o in r.oneofs().filter(|o| !o.is_synthetic()) {
            let mut groups: HashSet<String> = HashSet::new();
            let mut moved_in = 0;
            for f in o.fields() {
                let n = f.number();
                if let Some(wo) = w_oneof.get(&n) {
                    groups.insert(format!("oneof:{wo}"));
                } else if wf.contains_key(&n) {
                    groups.insert(format!("field:{n}"));
                    moved_in += 1;
                }
            }
            if groups.len() > 1 {
                let kind = if moved_in > 1 {
                    "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
                } else {
                    "FIELD_MOVED_TO_EXISTING_ONEOF"
                };
                self.push(kind, format!("{base}/{}", o.name()));
            }
        }
        let tags: BTreeSet<u32> = wf.keys().chain(rf.keys()).copied().collect();
        for n in tags {
            match (wf.get(&n), rf.get(&n)) {
                (Some(f), None) => match w_oneof.get(&n) {
                    Some(o) if !wholly_deleted.contains(o) => {
                        self.push("ONEOF_FIELD_REMOVED", format!("{base}/{o}/{n}"))
                    }
                    Some(_) => {}
                    None if f.cardinality() == Cardinality::Required => {
                        self.push("REQUIRED_FIELD_REMOVED", format!("{base}/{n}"))
                    }
                    None => {}
                },
                (None, Some(f)) => {
                    if !r_oneof.contains_key(&n) && f.cardinality() == Cardinality::Required {
                        self.push("REQUIRED_FIELD_ADDED", format!("{base}/{n}"));
                    }
                }
                (Some(wf), Some(rf)) => {
                    let path = match r_oneof.get(&n) {
                        Some(o) => format!("{base}/{o}/{n}"),
                        None => format!("{base}/{n}"),
                    };
                    self.field(wf, rf, &path);
                }
                (None, None) => {}
            }
        }
        let differed = self.out.len() > before;
        self.visited.insert(key, differed);
        differed
    }

    fn field(&mut self, w: &FieldDescriptor, r: &FieldDescriptor, path: &str) {
        let (wk, rk) = (field_kind(w), field_kind(r));
        if wk != rk {
            self.push("FIELD_KIND_CHANGED", path.to_string());
            return;
        }
        match wk {
            FieldKind::Scalar => self.scalar(&w.kind(), &r.kind(), label(w), label(r), path),
            FieldKind::Message => self.named(&w.kind(), &r.kind(), path),
            FieldKind::Map => {
                let (Kind::Message(we), Kind::Message(re)) = (w.kind(), r.kind()) else {
                    return;
                };
                for (a, b) in [
                    (we.map_entry_key_field(), re.map_entry_key_field()),
                    (we.map_entry_value_field(), re.map_entry_value_field()),
                ] {
                    let (ak, bk) = (a.kind(), b.kind());
                    match (&ak, &bk) {
                        (Kind::Message(_), Kind::Message(_)) => self.named(&ak, &bk, path),
                        (Kind::Message(_), _) | (_, Kind::Message(_)) => {
                            self.push("FIELD_KIND_CHANGED", path.to_string())
                        }
                        _ => self.scalar(&ak, &bk, None, None, path),
                    }
                }
            }
        }
    }

    fn scalar(
        &mut self,
        w: &Kind,
        r: &Kind,
        wl: Option<Cardinality>,
        rl: Option<Cardinality>,
        path: &str,
    ) {
        let group = scalar_group(w);
        if group != scalar_group(r) {
            self.push("FIELD_SCALAR_KIND_CHANGED", path.to_string());
            return;
        }
        // Packed numbers are not read as one value; strings and bytes are
        // (the last one wins), so only numeric label changes break.
        if let (Some(a), Some(b)) = (wl, rl) {
            if a != b && group != 2 {
                self.push("FIELD_NUMERIC_LABEL_CHANGED", path.to_string());
            }
        }
    }

    fn named(&mut self, w: &Kind, r: &Kind, path: &str) {
        let (Kind::Message(wm), Kind::Message(rm)) = (w, r) else {
            return;
        };
        if local_name(wm) != local_name(rm) || self.message(wm, rm) {
            self.push("FIELD_NAMED_TYPE_CHANGED", path.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_registry::protobuf::parse;

    fn kinds(reader: &str, writer: &str) -> Vec<&'static str> {
        let p = |t: &str| parse(t, &[], false).unwrap().0;
        differences(&p(reader), &p(writer))
            .into_iter()
            .map(|d| d.kind)
            .collect()
    }

    const P3: &str = "syntax = \"proto3\"; package p; ";

    fn m(body: &str) -> String {
        format!("{P3}message M {{ {body} }}")
    }

    #[test]
    fn oneof_moves() {
        let flat = m("string a = 1; int32 b = 2; int32 c = 3;");
        // One field into a new oneof: nothing was exclusive before.
        let one_in = m("string a = 1; int32 b = 2; oneof o { int32 c = 3; }");
        assert!(kinds(&one_in, &flat).is_empty());
        // Two existing fields into one oneof: newly exclusive.
        let two_in = m("string a = 1; oneof o { int32 b = 2; int32 c = 3; }");
        assert_eq!(kinds(&two_in, &flat), ["MULTIPLE_FIELDS_MOVED_TO_ONEOF"]);
        // A top-level field into an existing oneof.
        let existing = m("string a = 1; oneof o { int32 b = 2; int32 c = 3; }");
        let before = m("string a = 1; int32 b = 2; oneof o { int32 c = 3; }");
        assert_eq!(kinds(&existing, &before), ["FIELD_MOVED_TO_EXISTING_ONEOF"]);
        // Out of a oneof to the top level: only relaxes exclusivity.
        assert!(kinds(&flat, &two_in).is_empty());
        // A oneof member dropped while the oneof stays.
        let dropped = m("string a = 1; oneof o { int32 b = 2; }");
        assert_eq!(kinds(&dropped, &two_in), ["ONEOF_FIELD_REMOVED"]);
        // The whole oneof deleted: compatible, as a removed field is.
        assert!(kinds(&m("string a = 1;"), &two_in).is_empty());
        // A oneof renamed with the same members: same origin group.
        let renamed = m("string a = 1; oneof q { int32 b = 2; int32 c = 3; }");
        assert!(kinds(&renamed, &two_in).is_empty());
        // A type change inside a oneof is still seen.
        let changed = m("string a = 1; oneof o { int32 b = 2; string c = 3; }");
        assert_eq!(kinds(&changed, &two_in), ["FIELD_SCALAR_KIND_CHANGED"]);
    }

    #[test]
    fn enums_change_compatibly_and_read_as_varints() {
        let e1 = format!("{P3}enum E {{ A = 0; B = 1; C = 2; }} message M {{ E e = 1; }}");
        let removed = format!("{P3}enum E {{ A = 0; B = 1; }} message M {{ E e = 1; }}");
        let renumbered = format!("{P3}enum E {{ A = 0; C = 1; B = 2; }} message M {{ E e = 1; }}");
        assert!(kinds(&removed, &e1).is_empty());
        assert!(kinds(&renumbered, &e1).is_empty());
        let as_int = m("int32 e = 1;");
        assert!(kinds(&as_int, &e1).is_empty());
        assert_eq!(
            kinds(&m("string e = 1;"), &e1),
            ["FIELD_SCALAR_KIND_CHANGED"]
        );
    }

    #[test]
    fn labels_kinds_and_named_types() {
        let p2 = |b: &str| format!("syntax = \"proto2\"; package p; message M {{ {b} }}");
        assert_eq!(
            kinds(&p2("repeated int32 a = 1;"), &p2("optional int32 a = 1;")),
            ["FIELD_NUMERIC_LABEL_CHANGED"]
        );
        assert!(kinds(&p2("repeated string a = 1;"), &p2("optional string a = 1;")).is_empty());
        assert_eq!(
            kinds(&p2("required int32 a = 1;"), &p2("optional int32 b = 2;")),
            ["REQUIRED_FIELD_ADDED"]
        );
        assert_eq!(
            kinds(&p2("optional int32 b = 2;"), &p2("required int32 a = 1;")),
            ["REQUIRED_FIELD_REMOVED"]
        );
        let msg = |inner: &str, ty: &str| {
            format!("{P3}message I {{ {inner} }} message J {{ string z = 1; }} message M {{ {ty} f = 1; }}")
        };
        assert_eq!(
            kinds(&msg("string x = 1;", "J"), &msg("string x = 1;", "I")),
            ["FIELD_NAMED_TYPE_CHANGED"]
        );
        // A break inside the referenced message is reported there and at the field.
        let got = kinds(&msg("int64 x = 1;", "I"), &msg("string x = 1;", "I"));
        assert_eq!(
            got,
            ["FIELD_NAMED_TYPE_CHANGED", "FIELD_SCALAR_KIND_CHANGED"]
        );
        assert_eq!(
            kinds(&m("map<string, int32> a = 1;"), &m("string a = 1;")),
            ["FIELD_KIND_CHANGED"]
        );
        assert_eq!(
            kinds(
                &m("map<string, string> a = 1;"),
                &m("map<string, int32> a = 1;")
            ),
            ["FIELD_SCALAR_KIND_CHANGED"]
        );
        assert_eq!(
            kinds(
                "syntax = \"proto3\"; package q; message M { string a = 1; }",
                &m("string a = 1;")
            ),
            ["PACKAGE_CHANGED"]
        );
        // Messages may be added and moved; a removed one breaks.
        let two = format!("{P3}message N {{}} message M {{ string a = 1; }}");
        assert!(kinds(&two, &m("string a = 1;")).is_empty());
        assert_eq!(kinds(&m("string a = 1;"), &two), ["MESSAGE_REMOVED"]);
    }

    #[test]
    fn reserved_numbers_and_names_cannot_be_reused_in_one_schema() {
        assert!(parse(&m("reserved 2; string a = 1; int32 b = 2;"), &[], false).is_err());
        assert!(parse(&m("reserved \"b\"; string a = 1; int32 b = 2;"), &[], false).is_err());
        // Across versions Confluent has no reserved rule: reusing a number
        // is judged by the field's type like any other change.
        assert!(kinds(
            &m("string a = 1; string b = 2;"),
            &m("string a = 1; reserved 2;")
        )
        .is_empty());
    }
}
