//! JSON Schema compatibility: the differences Confluent's JSON Schema
//! provider reports between an original (writer) and an update (reader)
//! schema, over the typed model of [`super::json_schema_model`], and which
//! of them break reading (Confluent's default STRICT policy).
//!
//! Learned from Confluent's rules (not their code): types are compared by
//! schema class; objects by required properties, properties under an open,
//! closed or partially open content model (additionalProperties,
//! patternProperties, unevaluatedProperties), dependencies and bounds;
//! arrays by items, tuples under their content model and bounds; combined
//! schemas (allOf/anyOf/oneOf) by criterion, size and a maximum matching of
//! compatible subschemas; `not` by reversing the comparison.
//! [`kinds`] holds the difference names and messages; objects and arrays
//! are compared in `containers`.

use std::collections::{HashMap, HashSet};

use super::json_schema_model::{Criterion, Id, Kind, Model};

mod containers;
mod kinds;

pub use kinds::{compatible, Difference, COMPATIBLE};

/// Every difference from `original` (the writer) to `update` (the reader).
/// If the schemas nest deeper or branch into more pairs than the limits,
/// the comparison stops and reports [`TOO_COMPLEX`] (incompatible): a few
/// KiB of `oneOf`s could otherwise cost minutes of CPU (Confluent bounds
/// it with its request timeout instead).
pub fn differences(original: &Model, update: &Model) -> Vec<Difference> {
    let mut c = Ctx {
        o: original,
        u: update,
        flipped: false,
        memo: HashMap::new(),
        open: HashSet::new(),
        depth: 0,
        budget: MAX_PAIRS,
        exceeded: false,
    };
    let mut d = c.compare(Some(original.root), Some(update.root));
    if c.exceeded {
        d.push(Difference {
            kind: TOO_COMPLEX,
            path: String::new(),
        });
    }
    d
}

/// The difference reported when a limit stops the comparison (not a
/// Confluent type; never compatible).
pub const TOO_COMPLEX: &str = "SCHEMA_TOO_COMPLEX_TO_COMPARE";

/// How deep the comparison may recurse (`$ref` chains included).
const MAX_DEPTH: usize = 64;

/// How many distinct subschema pairs may be compared.
const MAX_PAIRS: usize = 100_000;

/// The differences a reader cannot live with.
pub fn incompatible(original: &Model, update: &Model) -> Vec<Difference> {
    differences(original, update)
        .into_iter()
        .filter(|d| !COMPATIBLE.contains(&d.kind))
        .collect()
}

struct Ctx<'a> {
    o: &'a Model,
    u: &'a Model,
    /// Inside an odd number of `not`s: `o` and `u` are the models swapped.
    flipped: bool,
    /// Finished pairs and their differences (relative to the pair).
    memo: HashMap<(bool, Id, Id), Vec<Difference>>,
    /// Pairs being compared: met again through a cycle, they count as equal.
    open: HashSet<(bool, Id, Id)>,
    depth: usize,
    /// Pairs left to compare before giving up.
    budget: usize,
    /// A limit was hit: the result is incomplete.
    exceeded: bool,
}

/// Differences collected under a path.
struct Out {
    diffs: Vec<Difference>,
}

impl Out {
    fn new() -> Out {
        Out { diffs: Vec::new() }
    }
    fn add(&mut self, path: &str, kind: &'static str) {
        self.diffs.push(Difference {
            kind,
            path: path.to_string(),
        });
    }
    fn rebased(&mut self, prefix: &str, diffs: &[Difference]) {
        for d in diffs {
            self.diffs.push(Difference {
                kind: d.kind,
                path: format!("{prefix}{}", d.path),
            });
        }
    }
}

fn seg(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn is_combined(k: &Kind) -> bool {
    matches!(k, Kind::Combined { .. })
}

fn same_class(a: &Kind, b: &Kind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn changed_bound(
    out: &mut Out,
    path: &str,
    o: Option<f64>,
    u: Option<f64>,
    names: [&'static str; 4],
) {
    let [added, removed, increased, decreased] = names;
    match (o, u) {
        (None, Some(_)) => out.add(path, added),
        (Some(_), None) => out.add(path, removed),
        (Some(a), Some(b)) if a < b => out.add(path, increased),
        (Some(a), Some(b)) if a > b => out.add(path, decreased),
        _ => {}
    }
}

/// `a` is a whole multiple of `b` (within float rounding).
fn multiple(a: f64, b: f64) -> bool {
    if b == 0.0 {
        return false;
    }
    let q = a / b;
    (q - q.round()).abs() < 1e-9
}

impl Ctx<'_> {
    fn compare(&mut self, o: Option<Id>, u: Option<Id>) -> Vec<Difference> {
        let mut out = Out::new();
        match (o, u) {
            (None, None) => {}
            (None, Some(_)) => out.add("", "SCHEMA_ADDED"),
            (Some(_), None) => out.add("", "SCHEMA_REMOVED"),
            (Some(o), Some(u)) => {
                let key = (self.flipped, self.o.deref(o), self.u.deref(u));
                if let Some(d) = self.memo.get(&key) {
                    return d.clone();
                }
                if self.identical(key.1, key.2) {
                    return Vec::new();
                }
                if self.exceeded || self.depth >= MAX_DEPTH || self.budget == 0 {
                    self.exceeded = true;
                    return Vec::new();
                }
                if !self.open.insert(key) {
                    return Vec::new();
                }
                self.budget -= 1;
                self.depth += 1;
                let d = self.compare_types(key.1, key.2);
                self.depth -= 1;
                self.open.remove(&key);
                self.memo.insert(key, d.clone());
                return d;
            }
        }
        out.diffs
    }

    /// The same `$ref`-free text on both sides: nothing to compare.
    fn identical(&self, o: Id, u: Id) -> bool {
        let (a, b) = (&self.o.nodes[o], &self.u.nodes[u]);
        a.pure && b.pure && a.content != 0 && a.content == b.content
    }

    /// `compare` of a pair, rebased under `prefix` into `out`.
    fn under(&mut self, out: &mut Out, prefix: &str, o: Option<Id>, u: Option<Id>) {
        let d = self.compare(o, u);
        out.rebased(prefix, &d);
    }

    fn compare_types(&mut self, o: Id, u: Id) -> Vec<Difference> {
        let mut out = Out::new();
        let (on, un) = (&self.o.nodes[o], &self.u.nodes[u]);
        // A combined schema on one side only: the plain schema may match one branch.
        if let (false, Kind::Combined { criterion, subs }) = (is_combined(&on.kind), &un.kind) {
            if subs.len() == 1 {
                let d = self.compare(Some(o), Some(subs[0]));
                if compatible(&d) {
                    return d;
                }
            } else if *criterion != Criterion::All {
                for s in subs.clone() {
                    let mut d = self.compare(Some(o), Some(s));
                    if compatible(&d) {
                        d.push(Difference {
                            kind: "SUM_TYPE_EXTENDED",
                            path: String::new(),
                        });
                        return d;
                    }
                }
            }
        } else if let (Kind::Combined { criterion, subs }, false) =
            (&on.kind, is_combined(&un.kind))
        {
            if subs.len() == 1 {
                let d = self.compare(Some(subs[0]), Some(u));
                if compatible(&d) {
                    return d;
                }
            } else if *criterion == Criterion::All {
                for s in subs.clone() {
                    let mut d = self.compare(Some(s), Some(u));
                    if compatible(&d) {
                        d.push(Difference {
                            kind: "PRODUCT_TYPE_NARROWED",
                            path: String::new(),
                        });
                        return d;
                    }
                }
            }
        }
        let (on, un) = (&self.o.nodes[o], &self.u.nodes[u]);
        if !same_class(&on.kind, &un.kind) {
            if matches!(on.kind, Kind::False) || matches!(un.kind, Kind::Empty) {
                return Vec::new();
            }
            // As Confluent: two bytes fields of Kafka Connect's converter
            // (its decimal fix changed their JSON type) count as equal.
            if on.meta.connect_bytes && un.meta.connect_bytes {
                return Vec::new();
            }
            out.add("", "TYPE_CHANGED");
            return out.diffs;
        }
        if on.meta.id != un.meta.id {
            out.add("", "ID_CHANGED");
        }
        if on.meta.title != un.meta.title {
            out.add("", "TITLE_CHANGED");
        }
        if on.meta.description != un.meta.description {
            out.add("", "DESCRIPTION_CHANGED");
        }
        if on.meta.default != un.meta.default {
            out.add("", "DEFAULT_CHANGED");
        }
        match (&on.kind, &un.kind) {
            (
                Kind::String {
                    min_length: omin,
                    max_length: omax,
                    pattern: op,
                },
                Kind::String {
                    min_length: umin,
                    max_length: umax,
                    pattern: up,
                },
            ) => {
                changed_bound(
                    &mut out,
                    "/maxLength",
                    *omax,
                    *umax,
                    [
                        "MAX_LENGTH_ADDED",
                        "MAX_LENGTH_REMOVED",
                        "MAX_LENGTH_INCREASED",
                        "MAX_LENGTH_DECREASED",
                    ],
                );
                changed_bound(
                    &mut out,
                    "/minLength",
                    *omin,
                    *umin,
                    [
                        "MIN_LENGTH_ADDED",
                        "MIN_LENGTH_REMOVED",
                        "MIN_LENGTH_INCREASED",
                        "MIN_LENGTH_DECREASED",
                    ],
                );
                match (op, up) {
                    (None, Some(_)) => out.add("/pattern", "PATTERN_ADDED"),
                    (Some(_), None) => out.add("/pattern", "PATTERN_REMOVED"),
                    (Some(a), Some(b)) if a != b => out.add("/pattern", "PATTERN_CHANGED"),
                    _ => {}
                }
            }
            (
                Kind::Number {
                    integer: oi,
                    minimum: omin,
                    maximum: omax,
                    exclusive_minimum: oemin,
                    exclusive_maximum: oemax,
                    multiple_of: om,
                },
                Kind::Number {
                    integer: ui,
                    minimum: umin,
                    maximum: umax,
                    exclusive_minimum: uemin,
                    exclusive_maximum: uemax,
                    multiple_of: um,
                },
            ) => {
                changed_bound(
                    &mut out,
                    "/maximum",
                    *omax,
                    *umax,
                    [
                        "MAXIMUM_ADDED",
                        "MAXIMUM_REMOVED",
                        "MAXIMUM_INCREASED",
                        "MAXIMUM_DECREASED",
                    ],
                );
                changed_bound(
                    &mut out,
                    "/minimum",
                    *omin,
                    *umin,
                    [
                        "MINIMUM_ADDED",
                        "MINIMUM_REMOVED",
                        "MINIMUM_INCREASED",
                        "MINIMUM_DECREASED",
                    ],
                );
                changed_bound(
                    &mut out,
                    "/exclusiveMaximum",
                    *oemax,
                    *uemax,
                    [
                        "EXCLUSIVE_MAXIMUM_ADDED",
                        "EXCLUSIVE_MAXIMUM_REMOVED",
                        "EXCLUSIVE_MAXIMUM_INCREASED",
                        "EXCLUSIVE_MAXIMUM_DECREASED",
                    ],
                );
                changed_bound(
                    &mut out,
                    "/exclusiveMinimum",
                    *oemin,
                    *uemin,
                    [
                        "EXCLUSIVE_MINIMUM_ADDED",
                        "EXCLUSIVE_MINIMUM_REMOVED",
                        "EXCLUSIVE_MINIMUM_INCREASED",
                        "EXCLUSIVE_MINIMUM_DECREASED",
                    ],
                );
                match (om, um) {
                    (None, Some(_)) => out.add("/multipleOf", "MULTIPLE_OF_ADDED"),
                    (Some(_), None) => out.add("/multipleOf", "MULTIPLE_OF_REMOVED"),
                    (Some(a), Some(b)) if a != b => {
                        if multiple(*b, *a) {
                            out.add("/multipleOf", "MULTIPLE_OF_EXPANDED");
                        } else if multiple(*a, *b) {
                            out.add("/multipleOf", "MULTIPLE_OF_REDUCED");
                        } else {
                            out.add("/multipleOf", "MULTIPLE_OF_CHANGED");
                        }
                    }
                    _ => {}
                }
                if oi != ui {
                    out.add(
                        "",
                        if *oi {
                            "TYPE_EXTENDED"
                        } else {
                            "TYPE_NARROWED"
                        },
                    );
                }
            }
            (Kind::Enum(ov), Kind::Enum(uv)) => {
                let o_in_u = ov.iter().all(|v| uv.contains(v));
                let u_in_o = uv.iter().all(|v| ov.contains(v));
                if !(o_in_u && u_in_o) {
                    let kind = if o_in_u {
                        "ENUM_ARRAY_EXTENDED"
                    } else if u_in_o {
                        "ENUM_ARRAY_NARROWED"
                    } else {
                        "ENUM_ARRAY_CHANGED"
                    };
                    out.add("/enum", kind);
                }
            }
            (Kind::Const(a), Kind::Const(b)) if a != b => {
                out.add("/const", "ENUM_ARRAY_CHANGED");
            }
            (Kind::Not(a), Kind::Not(b)) => {
                let (a, b) = (*a, *b);
                // The negated schemas swap roles: what the update excludes
                // must already be excluded by the original.
                std::mem::swap(&mut self.o, &mut self.u);
                self.flipped = !self.flipped;
                let d = self.compare(Some(b), Some(a));
                std::mem::swap(&mut self.o, &mut self.u);
                self.flipped = !self.flipped;
                let kind = if compatible(&d) {
                    "NOT_TYPE_NARROWED"
                } else {
                    "NOT_TYPE_EXTENDED"
                };
                out.add("/not", kind);
            }
            (
                Kind::Combined {
                    criterion: oc,
                    subs: os,
                },
                Kind::Combined {
                    criterion: uc,
                    subs: us,
                },
            ) => {
                let (oc, uc) = (*oc, *uc);
                let (os, us) = (distinct(self.o, os), distinct(self.u, us));
                self.combined(&mut out, oc, &os, uc, &us);
            }
            (Kind::Object(_), Kind::Object(_)) => self.object(&mut out, o, u),
            (Kind::Array(_), Kind::Array(_)) => self.array(&mut out, o, u),
            _ => {}
        }
        out.diffs
    }

    fn combined(&mut self, out: &mut Out, oc: Criterion, os: &[Id], uc: Criterion, us: &[Id]) {
        if oc != uc {
            let extended = uc == Criterion::Any
                || (os.len() == 1 && us.len() == 1)
                || (os.len() == 1 && uc == Criterion::One)
                || (us.len() == 1 && oc == Criterion::All);
            if !extended {
                out.add("", "COMBINED_TYPE_CHANGED");
                return;
            }
            out.add("", "COMBINED_TYPE_EXTENDED");
        }
        if os.len() < us.len() {
            let kind = if uc == Criterion::All {
                "PRODUCT_TYPE_EXTENDED"
            } else {
                "SUM_TYPE_EXTENDED"
            };
            out.add("", kind);
        } else if os.len() > us.len() {
            let kind = if oc == Criterion::All {
                "PRODUCT_TYPE_NARROWED"
            } else {
                "SUM_TYPE_NARROWED"
            };
            out.add("", kind);
        }
        // Identical subschemas pair up first (cheap, and what a matching
        // would pick); the rest by compatible pairs and a maximum matching.
        let mut matched_to: Vec<Option<usize>> = vec![None; us.len()];
        let mut fixed = vec![false; os.len()];
        let mut size = 0;
        for (i, o) in os.iter().enumerate() {
            if let Some(j) =
                (0..us.len()).find(|j| matched_to[*j].is_none() && self.identical(*o, us[*j]))
            {
                matched_to[j] = Some(i);
                fixed[i] = true;
                size += 1;
            }
        }
        let mut edges: Vec<Vec<(usize, Vec<Difference>)>> = Vec::new();
        for (i, o) in os.iter().enumerate() {
            let mut row = Vec::new();
            for (j, u) in us.iter().enumerate() {
                if fixed[i] || matched_to[j].is_some() {
                    continue;
                }
                let d = self.compare(Some(*o), Some(*u));
                if compatible(&d) {
                    row.push((j, d));
                }
            }
            edges.push(row);
        }
        for i in (0..os.len()).filter(|i| !fixed[*i]) {
            // Identical pairs are in no edge, so no path can take them.
            let mut seen = vec![false; us.len()];
            if augment(i, &edges, &mut seen, &mut matched_to) {
                size += 1;
            }
        }
        for (j, m) in matched_to.iter().enumerate() {
            if let Some(i) = m {
                if let Some((_, d)) = edges[*i].iter().find(|(jj, _)| *jj == j) {
                    out.rebased(&format!("/{}/{i}", oc.keyword()), d);
                }
            }
        }
        if size < os.len().min(us.len()) {
            out.add("", "COMBINED_TYPE_SUBSCHEMAS_CHANGED");
        }
    }
}

/// `subs` without repeats of an equal subschema (the first one kept).
fn distinct(m: &Model, subs: &[Id]) -> Vec<Id> {
    let mut seen = HashSet::new();
    subs.iter()
        .copied()
        .filter(|s| {
            let c = m.nodes[*s].content;
            c == 0 || seen.insert(c)
        })
        .collect()
}

/// Kuhn's augmenting path for the subschema matching.
fn augment(
    i: usize,
    edges: &[Vec<(usize, Vec<Difference>)>],
    seen: &mut [bool],
    matched_to: &mut [Option<usize>],
) -> bool {
    for (j, _) in &edges[i] {
        if seen[*j] {
            continue;
        }
        seen[*j] = true;
        let free = match matched_to[*j] {
            None => true,
            Some(k) => augment(k, edges, seen, matched_to),
        };
        if free {
            matched_to[*j] = Some(i);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_registry::json_schema_model::load;

    /// The sorted `KIND path` list from `original` to `update`, and whether it is compatible.
    fn diff(original: &str, update: &str) -> (Vec<String>, bool) {
        let o = load(&serde_json::from_str(original).unwrap(), &[]).unwrap();
        let u = load(&serde_json::from_str(update).unwrap(), &[]).unwrap();
        let d = differences(&o, &u);
        let mut names: Vec<String> = d
            .iter()
            .map(|d| format!("{} {}", d.kind, d.json_path()))
            .collect();
        names.sort();
        (names, compatible(&d))
    }

    fn obj(props: &str, extra: &str) -> String {
        format!(r#"{{"type":"object","properties":{{{props}}}{extra}}}"#)
    }

    #[test]
    fn content_models() {
        let a = r#""a":{"type":"string"}"#;
        let ab = r#""a":{"type":"string"},"b":{"type":"number"}"#;
        let closed = r#","additionalProperties":false"#;
        let partial = r#","additionalProperties":{"type":"number"}"#;
        let cases: [(String, String, &str, bool); 8] = [
            (
                obj(a, ""),
                obj(ab, ""),
                "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b",
                false,
            ),
            (
                obj(ab, ""),
                obj(a, ""),
                "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL #/properties/b",
                true,
            ),
            (
                obj(a, closed),
                obj(ab, closed),
                "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b",
                true,
            ),
            (
                obj(ab, closed),
                obj(a, closed),
                "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b",
                false,
            ),
            (
                obj(ab, partial),
                obj(a, partial),
                "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
                true,
            ),
            (
                obj(a, r#","patternProperties":{"^s_":{"type":"string"}}"#),
                obj(
                    r#""a":{"type":"string"},"s_x":{"type":"number"}"#,
                    r#","patternProperties":{"^s_":{"type":"string"}}"#,
                ),
                "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/s_x",
                false,
            ),
            (
                obj(a, ""),
                obj(a, closed),
                "ADDITIONAL_PROPERTIES_REMOVED #/additionalProperties",
                false,
            ),
            (
                obj(a, ""),
                obj(
                    r#""a":{"type":"string"},"b":{"type":"number","default":1}"#,
                    r#","required":["b"]"#,
                ),
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b",
                false,
            ),
        ];
        for (o, u, kind, ok) in cases {
            let (names, compatible) = diff(&o, &u);
            assert!(names.iter().any(|n| n == kind), "{o} -> {u}: {names:?}");
            assert_eq!(compatible, ok, "{o} -> {u}: {names:?}");
        }
    }

    #[test]
    fn combined_schemas() {
        let s = r#"{"type":"string"}"#;
        let n = r#"{"type":"number"}"#;
        let b = r#"{"type":"boolean"}"#;
        let c = |k: &str, subs: &[&str]| format!(r#"{{"{k}":[{}]}}"#, subs.join(","));
        let cases = [
            (
                c("oneOf", &[s, n]),
                c("oneOf", &[s, n, b]),
                "SUM_TYPE_EXTENDED #/",
                true,
            ),
            (
                c("oneOf", &[s, n]),
                c("oneOf", &[s]),
                "SUM_TYPE_NARROWED #/",
                false,
            ),
            (
                c("allOf", &[s, n]),
                c("allOf", &[s, n, b]),
                "PRODUCT_TYPE_EXTENDED #/",
                false,
            ),
            (
                c("allOf", &[s, n]),
                c("allOf", &[s]),
                "PRODUCT_TYPE_NARROWED #/",
                true,
            ),
            (
                c("anyOf", &[s, n]),
                c("allOf", &[s, n]),
                "COMBINED_TYPE_CHANGED #/",
                false,
            ),
            (
                c("oneOf", &[s, n]),
                c("anyOf", &[s, n]),
                "COMBINED_TYPE_EXTENDED #/",
                true,
            ),
            (
                c("oneOf", &[s, n]),
                c("oneOf", &[s, b]),
                "COMBINED_TYPE_SUBSCHEMAS_CHANGED #/",
                false,
            ),
            (
                s.to_string(),
                c("anyOf", &[s, n]),
                "SUM_TYPE_EXTENDED #/",
                true,
            ),
            (
                r#"{"type":"string"}"#.to_string(),
                r#"{"type":["string","null"]}"#.to_string(),
                "SUM_TYPE_EXTENDED #/",
                true,
            ),
        ];
        for (o, u, kind, ok) in cases {
            let (names, compatible) = diff(&o, &u);
            assert!(names.iter().any(|x| x == kind), "{o} -> {u}: {names:?}");
            assert_eq!(compatible, ok, "{o} -> {u}: {names:?}");
        }
    }

    #[test]
    fn keywords_arrays_and_not() {
        let cases = [
            (
                r#"{"type":"string"}"#,
                r#"{"type":"string","maxLength":5}"#,
                "MAX_LENGTH_ADDED #/maxLength",
                false,
            ),
            (
                r#"{"type":"string","maxLength":5}"#,
                r#"{"type":"string","maxLength":9}"#,
                "MAX_LENGTH_INCREASED #/maxLength",
                true,
            ),
            (
                r#"{"type":"number","multipleOf":2}"#,
                r#"{"type":"number","multipleOf":4}"#,
                "MULTIPLE_OF_EXPANDED #/multipleOf",
                false,
            ),
            (
                r#"{"enum":["a","b"]}"#,
                r#"{"enum":["a","b","c"]}"#,
                "ENUM_ARRAY_EXTENDED #/enum",
                true,
            ),
            (
                r#"{"enum":["a","b"]}"#,
                r#"{"enum":["a"]}"#,
                "ENUM_ARRAY_NARROWED #/enum",
                false,
            ),
            (
                r#"{"type":"array","items":{"type":"string"}}"#,
                r#"{"type":"array","items":{"type":"number"}}"#,
                "TYPE_CHANGED #/items",
                false,
            ),
            (
                r#"{"type":"array"}"#,
                r#"{"type":"array","uniqueItems":true}"#,
                "UNIQUE_ITEMS_ADDED #/uniqueItems",
                false,
            ),
            (
                r#"{"type":"array","items":[{"type":"string"}]}"#,
                r#"{"type":"array","items":[{"type":"string"},{"type":"number"}]}"#,
                "ITEM_ADDED_TO_OPEN_CONTENT_MODEL #/items/1",
                false,
            ),
            (
                r#"{"not":{"type":"string"}}"#,
                r#"{"not":{"enum":["x"]}}"#,
                "NOT_TYPE_EXTENDED #/not",
                false,
            ),
            (
                r#"{"properties":{"a":{}},"dependencies":{"a":["b"]}}"#,
                r#"{"properties":{"a":{}},"dependencies":{"a":["b","c"]}}"#,
                "DEPENDENCY_ARRAY_EXTENDED #/dependencies/a",
                false,
            ),
            (
                r#"{"type":"object"}"#,
                r#"{"type":"string"}"#,
                "TYPE_CHANGED #/",
                false,
            ),
        ];
        for (o, u, kind, ok) in cases {
            let (names, compatible) = diff(o, u);
            assert!(names.iter().any(|x| x == kind), "{o} -> {u}: {names:?}");
            assert_eq!(compatible, ok, "{o} -> {u}: {names:?}");
        }
    }

    #[test]
    fn recursive_schemas_terminate_and_changes_inside_are_found() {
        let tree = |t: &str| {
            format!(
                r##"{{"$ref":"#/definitions/N","definitions":{{"N":{{"type":"object","properties":{{"v":{{"type":"{t}"}},"kids":{{"type":"array","items":{{"$ref":"#/definitions/N"}}}}}}}}}}}}"##
            )
        };
        assert_eq!(diff(&tree("string"), &tree("string")), (vec![], true));
        // A cycle through `not` (the models swap at each one) ends too.
        let negated = r##"{"$ref":"#/definitions/A","definitions":{"A":{"not":{"$ref":"#/definitions/A"}}}}"##;
        assert!(diff(negated, negated).1);
        let (names, ok) = diff(&tree("string"), &tree("number"));
        assert!(
            !ok && names.contains(&"TYPE_CHANGED #/properties/v".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn limits_stop_deep_and_wide_comparisons() {
        // A $ref chain deeper than MAX_DEPTH: reported, no stack overflow.
        let chain = |last: &str| {
            let mut defs = serde_json::Map::new();
            for i in 0..200 {
                let next = format!("#/definitions/d{}", i + 1);
                defs.insert(
                    format!("d{i}"),
                    serde_json::json!({"type": "object", "properties": {"x": {"$ref": next}}}),
                );
            }
            defs.insert("d200".into(), serde_json::json!({ "type": last }));
            serde_json::json!({"$ref": "#/definitions/d0", "definitions": defs}).to_string()
        };
        let (names, ok) = diff(&chain("string"), &chain("number"));
        assert!(
            !ok && names.contains(&format!("{TOO_COMPLEX} #/")),
            "{names:?}"
        );
        // A wide oneOf left unchanged pairs identical branches without
        // comparing every pair.
        let wide: Vec<serde_json::Value> = (0..300)
            .map(|i| serde_json::json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": i}, "b": {"type": "number"}}}))
            .collect();
        let wide = serde_json::json!({ "oneOf": wide }).to_string();
        assert_eq!(diff(&wide, &wide), (vec![], true));
    }

    #[test]
    fn connect_bytes_fields_may_change_type() {
        let s = r#"{"type":"string","connect.type":"bytes"}"#;
        let n = r#"{"type":"number","connect.type":"bytes"}"#;
        assert_eq!(diff(s, n), (vec![], true));
        let (names, ok) = diff(r#"{"type":"string"}"#, n);
        assert!(!ok && names == ["TYPE_CHANGED #/"], "{names:?}");
    }
}
