//! JSON Schema documents loaded into the typed model Confluent's JSON Schema
//! provider compares (the everit schema classes: string, number, object,
//! array, enum, const, combined, not, empty, false...), with every `$ref`
//! resolved: inside the document, to a schema reference by its name
//! (resolved against the root's `$id`, as Confluent registers references),
//! or to any loaded document or subschema by its `$id`. An unresolvable
//! `$ref` is an invalid schema, as in Confluent.
//!
//! Nodes live in an arena and refer to each other by index, so recursive
//! schemas (a `$ref` back to an enclosing definition) are finite.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// A node's index in [`Model::nodes`].
pub type Id = usize;

/// Keywords every node may carry; a change is a compatible difference.
#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub id: Option<String>,
    pub title: Option<Value>,
    pub description: Option<Value>,
    pub default: Option<Value>,
    /// `"connect.type": "bytes"` (Kafka Connect's JSON converter).
    pub connect_bytes: bool,
}

/// allOf / anyOf / oneOf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    pub fn keyword(self) -> &'static str {
        match self {
            Criterion::All => "allOf",
            Criterion::Any => "anyOf",
            Criterion::One => "oneOf",
        }
    }
}

/// `additionalProperties` / `additionalItems`: absent or true, false, or a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    Allowed,
    Forbidden,
    Schema(Id),
}

#[derive(Debug, Default)]
pub struct ObjectNode {
    pub properties: BTreeMap<String, Id>,
    pub required: Vec<String>,
    pub additional: Option<Extra>,
    /// `(pattern, schema)`; a pattern the regex crate cannot compile never matches.
    pub pattern_properties: Vec<(Option<regex::Regex>, Id)>,
    pub unevaluated: Option<Id>,
    pub min_properties: Option<f64>,
    pub max_properties: Option<f64>,
    pub property_dependencies: BTreeMap<String, Vec<String>>,
    pub schema_dependencies: BTreeMap<String, Id>,
}

#[derive(Debug, Default)]
pub struct ArrayNode {
    /// `items` as one schema for every item.
    pub all_items: Option<Id>,
    /// `items` as a tuple (or `prefixItems`).
    pub tuple: Vec<Id>,
    pub additional: Option<Extra>,
    pub unevaluated: Option<Id>,
    pub min_items: Option<f64>,
    pub max_items: Option<f64>,
    pub unique: bool,
    pub min_contains: Option<f64>,
    pub max_contains: Option<f64>,
}

#[derive(Debug)]
pub enum Kind {
    /// `{}`, `true`, or only annotations.
    Empty,
    False,
    Null,
    Boolean,
    String {
        min_length: Option<f64>,
        max_length: Option<f64>,
        pattern: Option<String>,
    },
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
        exclusive_minimum: Option<f64>,
        exclusive_maximum: Option<f64>,
        multiple_of: Option<f64>,
    },
    Object(ObjectNode),
    Array(ArrayNode),
    Enum(Vec<Value>),
    Const(Value),
    Combined {
        criterion: Criterion,
        subs: Vec<Id>,
    },
    Not(Id),
    /// A resolved `$ref`.
    Ref(Id),
}

#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    pub meta: Meta,
    /// A hash of the subschema's JSON text (0 for nodes made by the
    /// loader): equal subschemas of a combined schema count once.
    pub content: u64,
    /// The subschema's text has no `$ref`: equal text means equal schema.
    pub pure: bool,
}

/// A loaded schema and every node reachable from it.
#[derive(Debug)]
pub struct Model {
    pub nodes: Vec<Node>,
    pub root: Id,
}

impl Model {
    /// `id` with `$ref`s followed (a chain of refs that loops ends at the loop).
    pub fn deref(&self, mut id: Id) -> Id {
        for _ in 0..64 {
            match self.nodes[id].kind {
                Kind::Ref(t) => id = t,
                _ => return id,
            }
        }
        id
    }
}

/// A document: its JSON and the base URI its relative `$ref`s resolve against.
struct Doc {
    value: Value,
    base: Option<String>,
}

const STRING_KEYS: [&str; 4] = ["minLength", "maxLength", "pattern", "format"];
const NUMBER_KEYS: [&str; 5] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const OBJECT_KEYS: [&str; 11] = [
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "unevaluatedProperties",
];
const ARRAY_KEYS: [&str; 10] = [
    "items",
    "prefixItems",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
];

struct Loader {
    docs: Vec<Doc>,
    /// Absolute (or, without a base, relative) URI -> (doc, JSON pointer).
    uris: HashMap<String, (usize, String)>,
    /// (doc, pointer) -> node, so a subschema reached twice is one node.
    loaded: HashMap<(usize, String), Id>,
    nodes: Vec<Node>,
    /// `$ref` nodes still to point: (node, doc, the reference text, where it is).
    pending: Vec<(Id, usize, String, String)>,
    /// The root declares draft 2019-09 or 2020-12 (`items` then means the
    /// items after `prefixItems`).
    modern: bool,
}

/// Loads `root` with its references (`(name, text)`, dependencies first).
pub fn load(root: &Value, references: &[(String, String)]) -> Result<Model, String> {
    let root_base = root.get("$id").and_then(Value::as_str).map(str::to_string);
    let mut l = Loader {
        docs: Vec::new(),
        uris: HashMap::new(),
        loaded: HashMap::new(),
        nodes: Vec::new(),
        pending: Vec::new(),
        modern: root
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("2019-09") || s.contains("2020-12")),
    };
    l.add_doc(root.clone(), root_base.clone(), &[]);
    for (name, text) in references {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("Invalid schema: reference '{name}' is not JSON: {e}"))?;
        let registered = join(root_base.as_deref(), name);
        let own = value
            .get("$id")
            .and_then(Value::as_str)
            .map(|id| join(Some(&registered), id));
        let base = own.clone().or_else(|| Some(registered.clone()));
        l.add_doc(value, base, &[registered, name.clone()]);
    }
    let root_id = l.node_at(0, String::new())?;
    while let Some((node, doc, reference, at)) = l.pending.pop() {
        let target = l.resolve(doc, &reference).ok_or_else(|| {
            format!("Invalid schema: the $ref '{reference}' at '#{at}' cannot be resolved")
        })?;
        l.nodes[node].kind = Kind::Ref(target);
    }
    Ok(Model {
        nodes: l.nodes,
        root: root_id,
    })
}

/// `reference` resolved against `base` (RFC 3986 for the cases schemas
/// use: absolute URIs, absolute paths and relative paths).
fn join(base: Option<&str>, reference: &str) -> String {
    let r = reference.strip_prefix("./").unwrap_or(reference);
    let has_scheme = |s: &str| {
        s.find(':').is_some_and(|i| {
            i > 0
                && s[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
    };
    let Some(base) = base.filter(|b| has_scheme(b)) else {
        return r.to_string();
    };
    if has_scheme(r) {
        return r.to_string();
    }
    let base = base.split('#').next().unwrap_or(base);
    if r.is_empty() {
        return base.to_string();
    }
    let authority_end = base
        .find("://")
        .map(|i| base[i + 3..].find('/').map_or(base.len(), |j| i + 3 + j))
        .unwrap_or(0);
    if r.starts_with('/') {
        return format!("{}{r}", &base[..authority_end]);
    }
    let dir = match base[authority_end..].rfind('/') {
        Some(i) => &base[..authority_end + i + 1],
        None => &base[..authority_end],
    };
    let sep = if dir.ends_with('/') { "" } else { "/" };
    format!("{dir}{sep}{r}")
}

fn unescape(token: &str) -> String {
    let decoded = percent_decode(token);
    decoded.replace("~1", "/").replace("~0", "~")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pointer_get<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(v);
    }
    let mut cur = v;
    for token in pointer.strip_prefix('/')?.split('/') {
        let t = unescape(token);
        cur = match cur {
            Value::Object(o) => o.get(&t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The meta-schemas a `$ref` may name without a reference (read as `{}`).
fn is_meta_schema(uri: &str) -> bool {
    let u = uri.trim_end_matches('#');
    (u.starts_with("http://json-schema.org/") || u.starts_with("https://json-schema.org/"))
        && (u.ends_with("/schema") || u.contains("/meta/"))
}

impl Loader {
    fn add_doc(&mut self, value: Value, base: Option<String>, names: &[String]) {
        let doc = self.docs.len();
        for n in names {
            self.uris
                .entry(n.trim_end_matches('#').to_string())
                .or_insert((doc, String::new()));
        }
        let mut ids = Vec::new();
        collect_ids(&value, String::new(), &mut ids, 0);
        for (id, pointer) in ids {
            let uri = join(base.as_deref(), &id);
            self.uris
                .entry(uri.trim_end_matches('#').to_string())
                .or_insert((doc, pointer));
        }
        self.docs.push(Doc { value, base });
    }

    fn resolve(&mut self, doc: usize, reference: &str) -> Option<Id> {
        let (uri, fragment) = match reference.split_once('#') {
            Some((u, f)) => (u, f),
            None => (reference, ""),
        };
        let (target_doc, base_pointer) = if uri.is_empty() {
            (doc, String::new())
        } else {
            let absolute = join(self.docs[doc].base.as_deref(), uri);
            match self
                .uris
                .get(absolute.as_str())
                .or_else(|| self.uris.get(uri.strip_prefix("./").unwrap_or(uri)))
            {
                Some(found) => found.clone(),
                None if is_meta_schema(&absolute) => return Some(self.push(Kind::Empty)),
                None => return None,
            }
        };
        let fragment = percent_decode(fragment);
        if !fragment.is_empty() && !fragment.starts_with('/') {
            // A plain-name fragment: a `$anchor` (2019-09+) or `"$id": "#name"`.
            let mut found = None;
            find_anchor(
                &self.docs[target_doc].value,
                &fragment,
                String::new(),
                &mut found,
                0,
            );
            return found.and_then(|p| self.node_at(target_doc, p).ok());
        }
        let mut pointer = format!("{base_pointer}{fragment}");
        let value = &self.docs[target_doc].value;
        if pointer_get(value, &pointer).is_none() {
            // Confluent reads `#/$defs/X` from `definitions` too.
            let alt = format!(
                "{base_pointer}{}",
                fragment.replacen("/$defs/", "/definitions/", 1)
            );
            pointer_get(value, &alt)?;
            pointer = alt;
        }
        self.node_at(target_doc, pointer).ok()
    }

    fn push(&mut self, kind: Kind) -> Id {
        self.nodes.push(Node {
            kind,
            meta: Meta::default(),
            content: 0,
            pure: false,
        });
        self.nodes.len() - 1
    }

    /// The node for the subschema at `pointer` of `doc` (loaded once).
    fn node_at(&mut self, doc: usize, pointer: String) -> Result<Id, String> {
        if let Some(id) = self.loaded.get(&(doc, pointer.clone())) {
            return Ok(*id);
        }
        if pointer.matches('/').count() > 256 {
            return Err("Invalid schema: nested too deeply".to_string());
        }
        let value = pointer_get(&self.docs[doc].value, &pointer)
            .cloned()
            .ok_or_else(|| format!("Invalid schema: nothing at '#{pointer}'"))?;
        let id = self.push(Kind::Empty);
        self.loaded.insert((doc, pointer.clone()), id);
        let (kind, meta) = self.build(doc, &pointer, &value, id)?;
        let text = value.to_string();
        let content = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.hash(&mut h);
            h.finish()
        };
        let pure = !text.contains("\"$ref\"");
        self.nodes[id] = Node {
            kind,
            meta,
            content,
            pure,
        };
        Ok(id)
    }

    fn child(&mut self, doc: usize, pointer: &str, key: &str) -> Result<Id, String> {
        let escaped = key.replace('~', "~0").replace('/', "~1");
        self.node_at(doc, format!("{pointer}/{escaped}"))
    }

    fn build(
        &mut self,
        doc: usize,
        pointer: &str,
        value: &Value,
        id: Id,
    ) -> Result<(Kind, Meta), String> {
        let o = match value {
            Value::Bool(true) => return Ok((Kind::Empty, Meta::default())),
            Value::Bool(false) => return Ok((Kind::False, Meta::default())),
            Value::Object(o) => o,
            _ => return Err(format!("Invalid schema: '#{pointer}' is not a schema")),
        };
        let meta = Meta {
            id: o.get("$id").and_then(Value::as_str).map(str::to_string),
            title: o.get("title").cloned(),
            description: o.get("description").cloned(),
            default: o.get("default").cloned(),
            connect_bytes: o.get("connect.type").and_then(Value::as_str) == Some("bytes"),
        };
        if let Some(r) = o.get("$ref") {
            let r = r
                .as_str()
                .ok_or_else(|| format!("Invalid schema: $ref at '#{pointer}' is not a string"))?;
            self.pending
                .push((id, doc, r.to_string(), pointer.to_string()));
            // Kind::Empty until resolved; the loop in `load` sets Kind::Ref.
            return Ok((Kind::Empty, meta));
        }
        let mut parts: Vec<Kind> = Vec::new();
        if let Some(Value::Array(values)) = o.get("enum") {
            parts.push(Kind::Enum(values.clone()));
        }
        if let Some(c) = o.get("const") {
            parts.push(Kind::Const(c.clone()));
        }
        for (key, criterion) in [
            ("allOf", Criterion::All),
            ("anyOf", Criterion::Any),
            ("oneOf", Criterion::One),
        ] {
            if let Some(Value::Array(a)) = o.get(key) {
                let mut subs = Vec::new();
                for i in 0..a.len() {
                    subs.push(self.node_at(doc, format!("{pointer}/{key}/{i}"))?);
                }
                parts.push(Kind::Combined { criterion, subs });
            }
        }
        if o.contains_key("not") {
            parts.push(Kind::Not(self.child(doc, pointer, "not")?));
        }
        match o.get("type") {
            Some(Value::String(t)) => parts.push(self.typed(doc, pointer, o, t)?),
            Some(Value::Array(ts)) => {
                let mut subs = Vec::new();
                for t in ts.iter().filter_map(Value::as_str) {
                    let kind = self.typed(doc, pointer, o, t)?;
                    subs.push(self.push(kind));
                }
                parts.push(Kind::Combined {
                    criterion: Criterion::Any,
                    subs,
                });
            }
            _ => {
                // No `type`: one schema per family of keywords present.
                for (keys, t) in [
                    (&OBJECT_KEYS[..], "object"),
                    (&ARRAY_KEYS[..], "array"),
                    (&NUMBER_KEYS[..], "number"),
                    (&STRING_KEYS[..], "string"),
                ] {
                    if keys.iter().any(|k| o.contains_key(*k)) {
                        parts.push(self.typed(doc, pointer, o, t)?);
                    }
                }
            }
        }
        let kind = match parts.len() {
            0 => Kind::Empty,
            1 => parts.pop().unwrap_or(Kind::Empty),
            _ => {
                // Several keyword families side by side: all must hold.
                let subs = parts.into_iter().map(|k| self.push(k)).collect();
                Kind::Combined {
                    criterion: Criterion::All,
                    subs,
                }
            }
        };
        Ok((kind, meta))
    }

    fn typed(
        &mut self,
        doc: usize,
        pointer: &str,
        o: &Map<String, Value>,
        t: &str,
    ) -> Result<Kind, String> {
        let num = |k: &str| o.get(k).and_then(Value::as_f64);
        Ok(match t {
            "null" => Kind::Null,
            "boolean" => Kind::Boolean,
            "string" => Kind::String {
                min_length: num("minLength"),
                max_length: num("maxLength"),
                pattern: o.get("pattern").and_then(Value::as_str).map(str::to_string),
            },
            "number" | "integer" => {
                // Draft 4 spells exclusive bounds as booleans on minimum/maximum.
                let exclusive = |k: &str, bound: &str| match o.get(k) {
                    Some(Value::Bool(true)) => num(bound),
                    Some(v) => v.as_f64(),
                    None => None,
                };
                let draft4 = |k: &str, bound: &str| match o.get(k) {
                    Some(Value::Bool(true)) => None,
                    _ => num(bound),
                };
                Kind::Number {
                    integer: t == "integer",
                    minimum: draft4("exclusiveMinimum", "minimum"),
                    maximum: draft4("exclusiveMaximum", "maximum"),
                    exclusive_minimum: exclusive("exclusiveMinimum", "minimum"),
                    exclusive_maximum: exclusive("exclusiveMaximum", "maximum"),
                    multiple_of: num("multipleOf"),
                }
            }
            "object" => Kind::Object(self.object(doc, pointer, o)?),
            "array" => Kind::Array(self.array(doc, pointer, o)?),
            other => return Err(format!("Invalid schema: unknown type '{other}'")),
        })
    }

    fn extra(
        &mut self,
        doc: usize,
        pointer: &str,
        v: Option<&Value>,
        key: &str,
    ) -> Result<Option<Extra>, String> {
        Ok(match v {
            None => None,
            Some(Value::Bool(true)) => Some(Extra::Allowed),
            Some(Value::Bool(false)) => Some(Extra::Forbidden),
            Some(_) => Some(Extra::Schema(self.child(doc, pointer, key)?)),
        })
    }

    fn object(
        &mut self,
        doc: usize,
        pointer: &str,
        o: &Map<String, Value>,
    ) -> Result<ObjectNode, String> {
        let mut n = ObjectNode::default();
        if let Some(Value::Object(props)) = o.get("properties") {
            for name in props.keys() {
                let escaped = name.replace('~', "~0").replace('/', "~1");
                let id = self.node_at(doc, format!("{pointer}/properties/{escaped}"))?;
                n.properties.insert(name.clone(), id);
            }
        }
        if let Some(Value::Array(r)) = o.get("required") {
            n.required = r
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
        }
        n.additional = self.extra(
            doc,
            pointer,
            o.get("additionalProperties"),
            "additionalProperties",
        )?;
        if let Some(Value::Object(pp)) = o.get("patternProperties") {
            for p in pp.keys() {
                let escaped = p.replace('~', "~0").replace('/', "~1");
                let id = self.node_at(doc, format!("{pointer}/patternProperties/{escaped}"))?;
                n.pattern_properties.push((regex::Regex::new(p).ok(), id));
            }
        }
        if o.contains_key("unevaluatedProperties") {
            n.unevaluated = Some(self.child(doc, pointer, "unevaluatedProperties")?);
        }
        n.min_properties = o.get("minProperties").and_then(Value::as_f64);
        n.max_properties = o.get("maxProperties").and_then(Value::as_f64);
        for key in ["dependencies", "dependentRequired", "dependentSchemas"] {
            let Some(Value::Object(deps)) = o.get(key) else {
                continue;
            };
            for (prop, dep) in deps {
                match dep {
                    Value::Array(a) => {
                        n.property_dependencies.insert(
                            prop.clone(),
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect(),
                        );
                    }
                    _ => {
                        let escaped = prop.replace('~', "~0").replace('/', "~1");
                        let id = self.node_at(doc, format!("{pointer}/{key}/{escaped}"))?;
                        n.schema_dependencies.insert(prop.clone(), id);
                    }
                }
            }
        }
        Ok(n)
    }

    fn array(
        &mut self,
        doc: usize,
        pointer: &str,
        o: &Map<String, Value>,
    ) -> Result<ArrayNode, String> {
        let mut n = ArrayNode::default();
        let tuple_key = if o.contains_key("prefixItems") {
            "prefixItems"
        } else {
            "items"
        };
        match o.get(tuple_key) {
            Some(Value::Array(a)) => {
                for i in 0..a.len() {
                    n.tuple
                        .push(self.node_at(doc, format!("{pointer}/{tuple_key}/{i}"))?);
                }
                // 2020-12: `items` next to `prefixItems` is the additional items' schema.
                if tuple_key == "prefixItems" {
                    n.additional = self.extra(doc, pointer, o.get("items"), "items")?;
                }
            }
            Some(Value::Bool(_)) if self.modern => {
                n.additional = self.extra(doc, pointer, o.get("items"), "items")?;
            }
            Some(_) if tuple_key == "items" => {
                n.all_items = Some(self.child(doc, pointer, "items")?)
            }
            _ => {}
        }
        if n.additional.is_none() {
            n.additional = self.extra(doc, pointer, o.get("additionalItems"), "additionalItems")?;
        }
        if o.contains_key("unevaluatedItems") {
            n.unevaluated = Some(self.child(doc, pointer, "unevaluatedItems")?);
        }
        n.min_items = o.get("minItems").and_then(Value::as_f64);
        n.max_items = o.get("maxItems").and_then(Value::as_f64);
        n.unique = o.get("uniqueItems") == Some(&Value::Bool(true));
        n.min_contains = o.get("minContains").and_then(Value::as_f64);
        n.max_contains = o.get("maxContains").and_then(Value::as_f64);
        Ok(n)
    }
}

/// The pointer of the first object inside `v` anchored as `name`.
fn find_anchor(v: &Value, name: &str, pointer: String, found: &mut Option<String>, depth: usize) {
    if depth > 256 || found.is_some() {
        return;
    }
    match v {
        Value::Object(o) => {
            let id_anchor = o
                .get("$id")
                .and_then(Value::as_str)
                .and_then(|id| id.strip_prefix('#'));
            if o.get("$anchor").and_then(Value::as_str) == Some(name) || id_anchor == Some(name) {
                *found = Some(pointer);
                return;
            }
            for (k, c) in o {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                find_anchor(c, name, format!("{pointer}/{escaped}"), found, depth + 1);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                find_anchor(c, name, format!("{pointer}/{i}"), found, depth + 1);
            }
        }
        _ => {}
    }
}

/// Every `$id` string inside `v` (schema positions and others alike) with its pointer.
fn collect_ids(v: &Value, pointer: String, out: &mut Vec<(String, String)>, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Object(o) => {
            if let Some(Value::String(id)) = o.get("$id") {
                out.push((id.clone(), pointer.clone()));
            }
            for (k, c) in o {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                collect_ids(c, format!("{pointer}/{escaped}"), out, depth + 1);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                collect_ids(c, format!("{pointer}/{i}"), out, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uris_join_like_rfc3986() {
        assert_eq!(join(None, "a.json"), "a.json");
        assert_eq!(join(None, "./a.json"), "a.json");
        assert_eq!(
            join(Some("http://x.com/s/c.json"), "a.json"),
            "http://x.com/s/a.json"
        );
        assert_eq!(
            join(Some("http://x.com/s/c.json"), "/a.json"),
            "http://x.com/a.json"
        );
        assert_eq!(join(Some("http://x.com"), "a.json"), "http://x.com/a.json");
        assert_eq!(join(Some("http://x.com/c"), "urn:y"), "urn:y");
    }

    #[test]
    fn refs_resolve_by_name_pointer_and_id() {
        let address = r#"{"$id":"http://example.com/address.json","type":"object",
            "properties":{"street":{"type":"string"}},
            "definitions":{"Zip":{"type":"string","pattern":"^[0-9]+$"}}}"#;
        let refs = vec![("address.json".to_string(), address.to_string())];
        for r in [
            "address.json",
            "address.json#/definitions/Zip",
            "address.json#/$defs/Zip",
            "http://example.com/address.json",
        ] {
            let root = json!({"type":"object","properties":{"a":{"$ref": r}}});
            let m = load(&root, &refs).unwrap_or_else(|e| panic!("{r}: {e}"));
            let Kind::Object(o) = &m.nodes[m.root].kind else {
                panic!("{r}")
            };
            let target = m.deref(o.properties["a"]);
            assert!(
                matches!(m.nodes[target].kind, Kind::Object(_) | Kind::String { .. }),
                "{r}"
            );
        }
        let missing = json!({"properties":{"a":{"$ref":"nope.json"}}});
        assert!(load(&missing, &refs).unwrap_err().contains("nope.json"));
        let bad_pointer = json!({"properties":{"a":{"$ref":"address.json#/definitions/No"}}});
        assert!(load(&bad_pointer, &refs).is_err());
        let anchored = json!({"properties":{"a":{"$ref":"#zip"}},
            "$defs":{"Z":{"$anchor":"zip","type":"string"}}});
        let m = load(&anchored, &[]).unwrap();
        let Kind::Object(o) = &m.nodes[m.root].kind else {
            panic!("anchored")
        };
        assert!(matches!(
            m.nodes[m.deref(o.properties["a"])].kind,
            Kind::String { .. }
        ));
        // A recursive schema is finite.
        let tree =
            json!({"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#"}}}});
        assert!(load(&tree, &[]).is_ok());
    }
}
