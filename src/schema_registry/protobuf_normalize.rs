//! The normalized text of a Protobuf schema (`normalize=true`), as
//! Confluent's registry writes it (learned from its ProtobufSchemaUtils'
//! normalized formatting, not copied): comments and layout gone, every type
//! name fully qualified (`.pkg.Msg`), map fields as `map<K, V>` with their
//! synthetic entry messages dropped, imports sorted, options sorted by name
//! (message-valued ones with their keys sorted, one-element lists unwrapped),
//! fields and oneofs ordered by tag, enum constants by number, reserved and
//! extension ranges split one per line and sorted, `syntax` written for
//! proto3 only. Messages, enums, services and rpcs keep their order: message
//! indexes in the wire format count messages in declaration order.
//!
//! It is written from the compiled descriptors (protox), so a schema given as
//! `.proto` text and the same schema given as a base64 `FileDescriptorProto`
//! normalize to the same text, as in Confluent.

use prost_reflect::{
    DescriptorPool, DynamicMessage, EnumDescriptor, ExtensionDescriptor, FileDescriptor, Kind,
    MessageDescriptor, ServiceDescriptor, Value,
};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::FieldDescriptorProto;

/// Field numbers at or above this print as `max` in ranges (as Confluent does).
const MAX_TAG: i64 = 536_870_911;

/// The normalized text of `file`.
pub fn normalized(file: &FileDescriptor) -> String {
    let pool = file.parent_pool().clone();
    let proto = file.file_descriptor_proto();
    let ctx = Ctx {
        pool,
        labels_explicit: !matches!(proto.syntax(), "proto3" | "editions"),
    };
    let mut out = String::new();
    // proto2 (and anything else) is written without `syntax`, as Confluent does.
    if proto.syntax() == "proto3" {
        out.push_str("syntax = \"proto3\";\n");
    }
    if !file.package_name().is_empty() {
        out.push_str(&format!("package {};\n", file.package_name()));
    }
    let mut imports: Vec<&str> = Vec::new();
    let mut public: Vec<&str> = Vec::new();
    for (i, dep) in proto.dependency.iter().enumerate() {
        let i = i32::try_from(i).unwrap_or(i32::MAX);
        if proto.public_dependency.contains(&i) {
            public.push(dep);
        } else if !proto.weak_dependency.contains(&i) {
            // Weak imports are left out, as Confluent's formatter does.
            imports.push(dep);
        }
    }
    for list in [&mut imports, &mut public] {
        list.sort_unstable();
        list.dedup();
    }
    if !imports.is_empty() || !public.is_empty() {
        out.push('\n');
        for i in imports {
            out.push_str(&format!("import \"{i}\";\n"));
        }
        for i in public {
            out.push_str(&format!("import public \"{i}\";\n"));
        }
    }
    let options = sorted(collect_options(&file.options()));
    if !options.is_empty() {
        out.push('\n');
        for o in &options {
            out.push_str(&option_statement(o));
        }
    }
    let mut types = String::new();
    for m in file.messages() {
        types.push_str(&ctx.message(&m));
    }
    for e in file.enums() {
        types.push_str(&ctx.enumeration(&e));
    }
    if !types.is_empty() {
        out.push('\n');
        out.push_str(&types);
    }
    let extends = ctx.extends(file.extensions());
    if !extends.is_empty() {
        out.push('\n');
        for block in extends {
            out.push_str(&block);
        }
    }
    let services: Vec<ServiceDescriptor> = file.services().collect();
    if !services.is_empty() {
        out.push('\n');
        for s in &services {
            out.push_str(&service(s));
        }
    }
    out
}

/// Appends `block` with every line indented two spaces (trailing empty lines
/// dropped, inner empty lines kept as two spaces).
fn indented(out: &mut String, block: &str) {
    let mut lines: Vec<&str> = block.split('\n').collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    for line in lines {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}

struct Ctx {
    pool: DescriptorPool,
    /// proto2: `optional`/`required` are written; proto3 and editions: only
    /// `repeated` and proto3 `optional`.
    labels_explicit: bool,
}

impl Ctx {
    fn message(&self, m: &MessageDescriptor) -> String {
        let mut s = format!("message {} {{", m.name());
        let reserved = reserved_lines(
            m.reserved_ranges()
                .map(|r| (i64::from(r.start), i64::from(r.end) - 1)),
            m.reserved_names(),
        );
        if !reserved.is_empty() {
            s.push('\n');
            for r in &reserved {
                indented(&mut s, r);
            }
        }
        let options = sorted(collect_options(&m.options()));
        if !options.is_empty() {
            s.push('\n');
            for o in &options {
                indented(&mut s, &option_statement(o));
            }
        }
        // proto3 `optional` fields sit in a synthetic oneof: they print as fields.
        let mut fields: Vec<prost_reflect::FieldDescriptor> = m
            .fields()
            .filter(|f| f.containing_oneof().is_none_or(|o| o.is_synthetic()))
            .collect();
        fields.sort_by_key(|f| f.number());
        if !fields.is_empty() {
            s.push('\n');
            for f in &fields {
                indented(
                    &mut s,
                    &self.field(f.field_descriptor_proto(), &f.options(), false),
                );
            }
        }
        let mut oneofs: Vec<(u32, String)> = Vec::new();
        for o in m.oneofs().filter(|o| !o.is_synthetic()) {
            let mut members: Vec<prost_reflect::FieldDescriptor> = o.fields().collect();
            members.sort_by_key(|f| f.number());
            let Some(first) = members.first().map(|f| f.number()) else {
                continue;
            };
            let mut block = format!("oneof {} {{", o.name());
            let options = sorted(collect_options(&o.options()));
            if !options.is_empty() {
                block.push('\n');
                for opt in &options {
                    indented(&mut block, &option_statement(opt));
                }
            }
            block.push('\n');
            for f in &members {
                indented(
                    &mut block,
                    &self.field(f.field_descriptor_proto(), &f.options(), true),
                );
            }
            block.push_str("}\n");
            oneofs.push((first, block));
        }
        oneofs.sort_by_key(|(first, _)| *first);
        if !oneofs.is_empty() {
            s.push('\n');
            for (_, block) in &oneofs {
                indented(&mut s, block);
            }
        }
        let mut ranges: Vec<(i64, i64)> = m
            .descriptor_proto()
            .extension_range
            .iter()
            .map(|r| (i64::from(r.start()), i64::from(r.end()) - 1))
            .collect();
        ranges.sort_by_key(|(start, _)| *start);
        if !ranges.is_empty() {
            s.push('\n');
            for (start, end) in ranges {
                indented(&mut s, &format!("extensions {};\n", range_text(start, end)));
            }
        }
        let extends = self.extends(m.child_extensions());
        if !extends.is_empty() {
            s.push('\n');
            for block in &extends {
                indented(&mut s, block);
            }
        }
        let mut nested = String::new();
        for child in m.child_messages().filter(|c| !c.is_map_entry()) {
            indented(&mut nested, &self.message(&child));
        }
        for e in m.child_enums() {
            indented(&mut nested, &self.enumeration(&e));
        }
        if !nested.is_empty() {
            s.push('\n');
            s.push_str(&nested);
        }
        s.push_str("}\n");
        s
    }

    fn enumeration(&self, e: &EnumDescriptor) -> String {
        let mut s = format!("enum {} {{", e.name());
        let reserved = reserved_lines(
            e.reserved_ranges()
                .map(|r| (i64::from(*r.start()), i64::from(*r.end()))),
            e.reserved_names(),
        );
        let options = sorted(collect_options(&e.options()));
        let mut values: Vec<prost_reflect::EnumValueDescriptor> = e.values().collect();
        values.sort_by(|a, b| a.number().cmp(&b.number()).then(a.name().cmp(b.name())));
        if !reserved.is_empty() {
            s.push('\n');
            for r in &reserved {
                indented(&mut s, r);
            }
        } else if !options.is_empty() || !values.is_empty() {
            s.push('\n');
        }
        for o in &options {
            indented(&mut s, &option_statement(o));
        }
        for v in &values {
            let mut line = format!("{} = {}", v.name(), v.number());
            let options = sorted(collect_options(&v.options()));
            if !options.is_empty() {
                line.push(' ');
                line.push_str(&options_inline(&options));
            }
            line.push_str(";\n");
            indented(&mut s, &line);
        }
        s.push_str("}\n");
        s
    }

    /// `extend .Target { ... }` blocks, one per extended message in order of
    /// first appearance, fields by tag.
    fn extends(&self, extensions: impl Iterator<Item = ExtensionDescriptor>) -> Vec<String> {
        let mut groups: Vec<(String, Vec<ExtensionDescriptor>)> = Vec::new();
        for x in extensions {
            let target = x.containing_message().full_name().to_string();
            match groups.iter_mut().find(|(t, _)| *t == target) {
                Some((_, list)) => list.push(x),
                None => groups.push((target, vec![x])),
            }
        }
        groups
            .into_iter()
            .map(|(target, mut fields)| {
                fields.sort_by_key(|f| f.number());
                let mut block = format!("extend .{target} {{");
                block.push('\n');
                for f in &fields {
                    indented(
                        &mut block,
                        &self.field(f.field_descriptor_proto(), &f.options(), false),
                    );
                }
                block.push_str("}\n");
                block
            })
            .collect()
    }

    fn field(&self, f: &FieldDescriptorProto, options: &DynamicMessage, in_oneof: bool) -> String {
        let (type_name, is_map) = self.type_name(f);
        let label = if in_oneof || is_map {
            None
        } else if f.proto3_optional() {
            Some("optional")
        } else {
            match f.label() {
                Label::Repeated => Some("repeated"),
                Label::Required if self.labels_explicit => Some("required"),
                Label::Optional if self.labels_explicit => Some("optional"),
                _ => None,
            }
        };
        let mut s = String::new();
        if let Some(l) = label {
            s.push_str(l);
            s.push(' ');
        }
        s.push_str(&format!("{type_name} {} = {}", f.name(), f.number()));
        let mut opts = collect_options(options);
        if let Some(d) = f.default_value.as_deref().filter(|_| self.labels_explicit) {
            opts.push(Opt {
                name: "default".into(),
                paren: false,
                value: default_value(f.r#type(), d),
            });
        }
        // The compiler fills in every field's json_name, so only one that
        // differs from the default can be told to have been written.
        if let Some(j) = f
            .json_name
            .as_ref()
            .filter(|j| **j != default_json_name(f.name()))
        {
            opts.push(Opt {
                name: "json_name".into(),
                paren: false,
                value: OptValue::Str(j.clone()),
            });
        }
        let opts = sorted(opts);
        if !opts.is_empty() {
            s.push(' ');
            s.push_str(&options_inline(&opts));
        }
        s.push_str(";\n");
        s
    }

    /// The field's type as written normalized, and whether it is a map.
    fn type_name(&self, f: &FieldDescriptorProto) -> (String, bool) {
        match f.r#type() {
            Type::Message | Type::Group | Type::Enum => {
                let name = f.type_name().trim_start_matches('.');
                if let Some(entry) = self
                    .pool
                    .get_message_by_name(name)
                    .filter(MessageDescriptor::is_map_entry)
                {
                    let key = kind_name(&entry.map_entry_key_field().kind());
                    let value = kind_name(&entry.map_entry_value_field().kind());
                    return (format!("map<{key}, {value}>"), true);
                }
                (format!(".{name}"), false)
            }
            t => (scalar_name(t).to_string(), false),
        }
    }
}

/// protoc's default JSON name: underscores dropped, the letter after one
/// upper-cased.
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn service(svc: &ServiceDescriptor) -> String {
    let mut s = format!("service {} {{", svc.name());
    let options = sorted(collect_options(&svc.options()));
    if !options.is_empty() {
        s.push('\n');
        for o in &options {
            indented(&mut s, &option_statement(o));
        }
    }
    let methods: Vec<prost_reflect::MethodDescriptor> = svc.methods().collect();
    if !methods.is_empty() {
        s.push('\n');
        for m in &methods {
            let stream = |on: bool| if on { "stream " } else { "" };
            let mut rpc = format!(
                "rpc {} ({}.{}) returns ({}.{})",
                m.name(),
                stream(m.is_client_streaming()),
                m.input().full_name(),
                stream(m.is_server_streaming()),
                m.output().full_name()
            );
            let options = sorted(collect_options(&m.options()));
            if !options.is_empty() {
                rpc.push_str(" {\n");
                for o in &options {
                    indented(&mut rpc, &option_statement(o));
                }
                rpc.push('}');
            }
            rpc.push_str(";\n");
            indented(&mut s, &rpc);
        }
    }
    s.push_str("}\n");
    s
}

fn scalar_name(t: Type) -> &'static str {
    match t {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
        Type::Group | Type::Message | Type::Enum => "bytes",
    }
}

fn kind_name(k: &Kind) -> String {
    match k {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => format!(".{}", m.full_name()),
        Kind::Enum(e) => format!(".{}", e.full_name()),
    }
}

/// `reserved` lines, one value or range each: numbers and ranges by start,
/// then names by name.
fn reserved_lines<'a>(
    ranges: impl Iterator<Item = (i64, i64)>,
    names: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut items: Vec<(i64, String, String)> = ranges
        .map(|(start, end)| {
            let tie = if start == end {
                start.to_string()
            } else {
                format!("{start}..{end}")
            };
            (start, tie, range_text(start, end))
        })
        .collect();
    items.extend(names.map(|n| (i64::MAX, n.to_string(), format!("\"{n}\""))));
    items.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    items
        .into_iter()
        .map(|(_, _, text)| format!("reserved {text};\n"))
        .collect()
}

fn range_text(start: i64, end: i64) -> String {
    if start == end {
        start.to_string()
    } else if end < MAX_TAG {
        format!("{start} to {end}")
    } else {
        format!("{start} to max")
    }
}

// -- options ------------------------------------------------------------------

/// One option as written: `name = value` (`(full.name)` for an extension).
struct Opt {
    name: String,
    paren: bool,
    value: OptValue,
}

enum OptValue {
    /// Quoted and escaped when written.
    Str(String),
    /// Written as is: booleans, enum names, numbers.
    Raw(String),
    /// A message literal `{ key: value, ... }`.
    Map(Vec<(String, OptValue)>),
    List(Vec<OptValue>),
}

/// The options set in `options` (an `*Options` message with its
/// extensions); a repeated option gives one entry per value.
fn collect_options(options: &DynamicMessage) -> Vec<Opt> {
    let mut out = Vec::new();
    let mut push = |name: String, paren: bool, kind: Kind, value: &Value| match value {
        Value::List(values) => {
            for v in values {
                out.push(Opt {
                    name: name.clone(),
                    paren,
                    value: opt_value(&kind, v),
                });
            }
        }
        v => out.push(Opt {
            name,
            paren,
            value: opt_value(&kind, v),
        }),
    };
    for (f, v) in options.fields() {
        // Resolved by the compiler already; a map entry is never printed.
        if matches!(f.name(), "uninterpreted_option" | "map_entry") {
            continue;
        }
        push(f.name().to_string(), false, f.kind(), v);
    }
    for (x, v) in options.extensions() {
        push(x.full_name().to_string(), true, x.kind(), v);
    }
    out
}

/// Stable sort by name, as Confluent's normalization orders options.
fn sorted(mut options: Vec<Opt>) -> Vec<Opt> {
    options.sort_by(|a, b| a.name.cmp(&b.name));
    options
}

fn opt_value(kind: &Kind, v: &Value) -> OptValue {
    match v {
        Value::Bool(b) => OptValue::Raw(b.to_string()),
        Value::I32(n) => OptValue::Raw(n.to_string()),
        Value::I64(n) => OptValue::Raw(n.to_string()),
        Value::U32(n) => OptValue::Raw(n.to_string()),
        Value::U64(n) => OptValue::Raw(n.to_string()),
        Value::F32(x) => OptValue::Raw(number(f64::from(*x))),
        Value::F64(x) => OptValue::Raw(number(*x)),
        Value::String(s) => OptValue::Str(s.clone()),
        Value::Bytes(b) => OptValue::Str(String::from_utf8_lossy(b).into_owned()),
        Value::EnumNumber(n) => OptValue::Raw(
            kind.as_enum()
                .and_then(|e| e.get_value(*n))
                .map(|v| v.name().to_string())
                .unwrap_or_else(|| n.to_string()),
        ),
        Value::Message(m) => OptValue::Map(message_entries(m)),
        Value::List(values) => OptValue::List(values.iter().map(|v| opt_value(kind, v)).collect()),
        Value::Map(map) => {
            let entry = kind.as_message();
            let key_kind = entry.map(|e| e.map_entry_key_field().kind());
            let value_kind = entry.map(|e| e.map_entry_value_field().kind());
            let mut entries: Vec<(String, OptValue)> = map
                .iter()
                .map(|(k, v)| {
                    let key = opt_value(
                        key_kind.as_ref().unwrap_or(&Kind::String),
                        &Value::from(k.clone()),
                    );
                    let value = opt_value(value_kind.as_ref().unwrap_or(&Kind::String), v);
                    (
                        sort_key(&key),
                        OptValue::Map(vec![("key".into(), key), ("value".into(), value)]),
                    )
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            OptValue::List(entries.into_iter().map(|(_, v)| v).collect())
        }
    }
}

fn sort_key(v: &OptValue) -> String {
    match v {
        OptValue::Str(s) | OptValue::Raw(s) => s.clone(),
        _ => String::new(),
    }
}

fn message_entries(m: &DynamicMessage) -> Vec<(String, OptValue)> {
    let mut out: Vec<(String, OptValue)> = m
        .fields()
        .map(|(f, v)| (f.name().to_string(), opt_value(&f.kind(), v)))
        .collect();
    out.extend(
        m.extensions()
            .map(|(x, v)| (format!("[{}]", x.full_name()), opt_value(&x.kind(), v))),
    );
    out
}

/// A proto2 field default (the descriptor's text form) as Confluent writes it.
fn default_value(t: Type, text: &str) -> OptValue {
    match t {
        Type::String => OptValue::Str(text.to_string()),
        // Already C-escaped in the descriptor.
        Type::Bytes => OptValue::Raw(format!("\"{text}\"")),
        Type::Bool | Type::Enum | Type::Message | Type::Group => OptValue::Raw(text.to_string()),
        _ => OptValue::Raw(match (text.parse::<i128>(), text.parse::<f64>()) {
            (Ok(n), _) => n.to_string(),
            (_, Ok(x)) if x.is_finite() => number(x),
            _ => text.to_string(),
        }),
    }
}

/// A floating-point option value as Java's default DecimalFormat writes it
/// (at most three decimals, no grouping, no trailing zeros).
fn number(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn option_text(o: &Opt) -> String {
    let name = if o.paren {
        format!("({})", o.name)
    } else {
        o.name.clone()
    };
    match &o.value {
        OptValue::Str(s) => format!("{name} = \"{}\"", escape(s)),
        OptValue::Raw(r) => format!("{name} = {r}"),
        OptValue::Map(entries) => format!("{name} = {{\n{}}}", map_body(entries)),
        OptValue::List(values) => {
            let mut s = format!("{name} = ");
            if values.len() == 1 {
                s.push_str(&format!("[{}]", value_text(&values[0])));
            } else {
                s.push_str("[\n");
                for (i, v) in values.iter().enumerate() {
                    let comma = if i + 1 < values.len() { "," } else { "" };
                    indented(&mut s, &format!("{}{comma}", value_text(v)));
                }
                s.push(']');
            }
            s
        }
    }
}

fn option_statement(o: &Opt) -> String {
    format!("option {};\n", option_text(o))
}

/// Field and enum-value options: `[a = 1]`, or one per line when several.
fn options_inline(options: &[Opt]) -> String {
    if let [one] = options {
        return format!("[{}]", option_text(one));
    }
    let mut s = String::from("[\n");
    for (i, o) in options.iter().enumerate() {
        let comma = if i + 1 < options.len() { "," } else { "" };
        indented(&mut s, &format!("{}{comma}", option_text(o)));
    }
    s.push(']');
    s
}

/// The inside of a message literal: keys sorted, empty lists left out.
fn map_body(entries: &[(String, OptValue)]) -> String {
    let mut kept: Vec<&(String, OptValue)> = entries
        .iter()
        .filter(|(_, v)| !matches!(v, OptValue::List(l) if l.is_empty()))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.dedup_by(|a, b| a.0 == b.0);
    let mut s = String::new();
    for (i, (k, v)) in kept.iter().enumerate() {
        let comma = if i + 1 < kept.len() { "," } else { "" };
        indented(&mut s, &format!("{k}: {}{comma}", value_text(v)));
    }
    s
}

fn value_text(v: &OptValue) -> String {
    match v {
        OptValue::Str(s) => format!("\"{}\"", escape(s)),
        OptValue::Raw(r) => r.clone(),
        OptValue::Map(entries) => format!("{{\n{}}}", map_body(entries)),
        OptValue::List(values) if values.len() == 1 => value_text(&values[0]),
        OptValue::List(values) => {
            let mut s = String::from("[\n");
            for (i, v) in values.iter().enumerate() {
                let comma = if i + 1 < values.len() { "," } else { "" };
                indented(&mut s, &format!("{}{comma}", value_text(v)));
            }
            s.push(']');
            s
        }
    }
}

/// Escapes as Confluent's formatter does (C escapes for control characters,
/// backslash and both quotes).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::protobuf::{parse, serialized};

    fn norm(text: &str) -> String {
        parse(text, &[], true)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .1
    }

    /// Written by hand: the same schema as [`WANT`] with comments, other
    /// layout, relative type names, and options, imports, fields, oneofs,
    /// enum constants and reserved ranges in another order.
    const MESSY: &str = r#"
// A file comment.
syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
option java_package = "dev.skiff.shop";
option go_package = "shop/v1";   option java_multiple_files = true;

/* An order. */
message Order {
  reserved "legacy", "old";
  reserved 15, 9 to 11;
  option deprecated = true;
  Line first = 3;
  string id = 1 [json_name = "orderId", deprecated = true];
  map<string, Line> lines = 2;
  google.protobuf.Timestamp at = 4;
  optional int64 total = 5;
  oneof pay { string card = 8; Cash cash = 7; }
  oneof ship { string address = 6; }
  message Line { string sku = 1; Status status = 2; }
  enum Status { option allow_alias = true; NEW = 0; SHIPPED = 2; FRESH = 0; }
}
message Cash { double amount = 1; }
service Orders {
  rpc Watch (Order) returns (stream Cash);
  rpc Get (Cash) returns (Order) { option idempotency_level = NO_SIDE_EFFECTS; option deprecated = true; }
}
"#;

    const WANT: &str = r#"syntax = "proto3";
package shop.v1;

import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";

option go_package = "shop/v1";
option java_multiple_files = true;
option java_package = "dev.skiff.shop";

message Order {
  reserved 9 to 11;
  reserved 15;
  reserved "legacy";
  reserved "old";

  option deprecated = true;

  string id = 1 [
    deprecated = true,
    json_name = "orderId"
  ];
  map<string, .shop.v1.Order.Line> lines = 2;
  .shop.v1.Order.Line first = 3;
  .google.protobuf.Timestamp at = 4;
  optional int64 total = 5;

  oneof ship {
    string address = 6;
  }
  oneof pay {
    .shop.v1.Cash cash = 7;
    string card = 8;
  }

  message Line {
    string sku = 1;
    .shop.v1.Order.Status status = 2;
  }
  enum Status {
    option allow_alias = true;
    FRESH = 0;
    NEW = 0;
    SHIPPED = 2;
  }
}
message Cash {
  double amount = 1;
}

service Orders {
  rpc Watch (.shop.v1.Order) returns (stream .shop.v1.Cash);
  rpc Get (.shop.v1.Cash) returns (.shop.v1.Order) {
    option deprecated = true;
    option idempotency_level = NO_SIDE_EFFECTS;
  };
}
"#;

    #[test]
    fn normalized_text_is_confluents_shape() {
        assert_eq!(norm(MESSY), WANT);
        // A fixed point, and the same from the base64 descriptor form.
        assert_eq!(norm(WANT), WANT);
        let (compiled, _) = parse(MESSY, &[], false).unwrap();
        assert_eq!(norm(&serialized(&compiled).unwrap()), WANT);
    }

    #[test]
    fn proto2_labels_defaults_extensions_and_custom_options() {
        let text = r#"
syntax = "proto2";
package p;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions { optional Meta meta = 50001; repeated string tag = 50002; }
message Meta { optional string doc = 1; repeated string tags = 2; optional double w = 3; }
message M {
  extensions 100 to max, 20;
  required string a = 1 [default = "x\"y", (meta) = { tags: ["k"], doc: "d", w: 0.12345 }];
  optional int32 b = 2 [default = 7, (tag) = "one", (tag) = "two"];
  repeated M c = 3;
}
"#;
        let want = r#"package p;

import "google/protobuf/descriptor.proto";

message Meta {
  optional string doc = 1;
  repeated string tags = 2;
  optional double w = 3;
}
message M {
  required string a = 1 [
    default = "x\"y",
    (p.meta) = {
      doc: "d",
      tags: "k",
      w: 0.123
    }
  ];
  optional int32 b = 2 [
    default = 7,
    (p.tag) = "one",
    (p.tag) = "two"
  ];
  repeated .p.M c = 3;

  extensions 20;
  extensions 100 to max;
}

extend .google.protobuf.FieldOptions {
  optional .p.Meta meta = 50001;
  repeated string tag = 50002;
}
"#;
        assert_eq!(norm(text), want);
        assert_eq!(norm(want), want);
    }

    #[test]
    fn plain_fields_get_no_json_name_and_bad_input_is_an_error() {
        let n = norm("syntax = \"proto3\"; message M { string the_id = 1; }");
        assert_eq!(
            n,
            "syntax = \"proto3\";\n\nmessage M {\n  string the_id = 1;\n}\n"
        );
        assert!(parse("message {", &[], true).is_err());
    }
}
