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

use std::collections::{HashMap, HashSet};

use super::json_schema_model::{ArrayNode, Criterion, Extra, Id, Kind, Model, ObjectNode};

/// The difference types that do not break a reader (Confluent's STRICT set).
pub const COMPATIBLE: [&str; 65] = [
    "ID_CHANGED",
    "DESCRIPTION_CHANGED",
    "TITLE_CHANGED",
    "DEFAULT_CHANGED",
    "SCHEMA_REMOVED",
    "TYPE_EXTENDED",
    "MAX_LENGTH_INCREASED",
    "MAX_LENGTH_REMOVED",
    "MIN_LENGTH_DECREASED",
    "MIN_LENGTH_REMOVED",
    "PATTERN_REMOVED",
    "MAXIMUM_INCREASED",
    "MAXIMUM_REMOVED",
    "MINIMUM_DECREASED",
    "MINIMUM_REMOVED",
    "EXCLUSIVE_MAXIMUM_INCREASED",
    "EXCLUSIVE_MAXIMUM_REMOVED",
    "EXCLUSIVE_MINIMUM_DECREASED",
    "EXCLUSIVE_MINIMUM_REMOVED",
    "MULTIPLE_OF_REDUCED",
    "MULTIPLE_OF_REMOVED",
    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
    "REQUIRED_ATTRIBUTE_REMOVED",
    "DEPENDENCY_ARRAY_NARROWED",
    "DEPENDENCY_ARRAY_REMOVED",
    "DEPENDENCY_SCHEMA_REMOVED",
    "MAX_PROPERTIES_INCREASED",
    "MAX_PROPERTIES_REMOVED",
    "MIN_PROPERTIES_DECREASED",
    "MIN_PROPERTIES_REMOVED",
    "ADDITIONAL_PROPERTIES_ADDED",
    "ADDITIONAL_PROPERTIES_EXTENDED",
    "UNEVALUATED_PROPERTIES_ADDED",
    "UNEVALUATED_PROPERTIES_EXTENDED",
    "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "MAX_ITEMS_INCREASED",
    "MAX_ITEMS_REMOVED",
    "MIN_ITEMS_DECREASED",
    "MIN_ITEMS_REMOVED",
    "MAX_CONTAINS_INCREASED",
    "MAX_CONTAINS_REMOVED",
    "MIN_CONTAINS_DECREASED",
    "MIN_CONTAINS_REMOVED",
    "UNIQUE_ITEMS_REMOVED",
    "ADDITIONAL_ITEMS_ADDED",
    "ADDITIONAL_ITEMS_EXTENDED",
    "UNEVALUATED_ITEMS_ADDED",
    "UNEVALUATED_ITEMS_EXTENDED",
    "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
    "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ENUM_ARRAY_EXTENDED",
    "COMBINED_TYPE_EXTENDED",
    "PRODUCT_TYPE_NARROWED",
    "SUM_TYPE_EXTENDED",
    "NOT_TYPE_NARROWED",
];

/// One difference: its type and the JSON path (`#/properties/a`) it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: &'static str,
    /// Relative to the compared pair: "" is the root, else `/a/b`.
    pub path: String,
}

/// Whether every difference is one a reader can live with.
pub fn compatible(diffs: &[Difference]) -> bool {
    diffs.iter().all(|d| COMPATIBLE.contains(&d.kind))
}

impl Difference {
    /// `#/` for the root, else `#/a/b`.
    pub fn json_path(&self) -> String {
        if self.path.is_empty() {
            "#/".to_string()
        } else {
            format!("#{}", self.path)
        }
    }

    /// Confluent's message shape; `%s` stands first for the reader's (the
    /// update's) role, then the writer's, filled in by the caller.
    pub fn message(&self) -> String {
        let p = self.json_path();
        let k = self.kind;
        let has = |list: &[&str]| list.contains(&k);
        let d = if has(&KEYWORD_ADDED_OR_REMOVED) {
            format!("The keyword at path '{p}' in the %s schema is not present in the %s schema")
        } else if has(&VALUE_INCREASED) {
            format!(
                "The value at path '{p}' in the %s schema is more than its value in the %s schema"
            )
        } else if has(&VALUE_DECREASED) {
            format!(
                "The value at path '{p}' in the %s schema is less than its value in the %s schema"
            )
        } else if has(&[
            "PATTERN_CHANGED",
            "MULTIPLE_OF_CHANGED",
            "DEPENDENCY_ARRAY_CHANGED",
        ]) {
            format!("The value at path '{p}' is different between the %s and %s schema")
        } else if has(&TYPE_NARROWED) {
            format!("An array or combined type at path '{p}' has fewer elements in the %s schema than the %s schema")
        } else if has(&TYPE_EXTENDED) {
            format!("An array or combined type at path '{p}' has more elements in the %s schema than the %s schema")
        } else if has(&TYPE_CHANGED) {
            format!("A type at path '{p}' is different between the %s schema and the %s schema")
        } else if has(&ADDED_TO_OPEN) {
            format!("The %s schema has an open content model and has a property or item at path '{p}' which is missing in the %s schema")
        } else if k == "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL" {
            format!("The %s schema has an unopen content model and has a required property at path '{p}' which is missing in the %s schema")
        } else if has(&[
            "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        ]) {
            format!("The %s has a closed content model and is missing a property or item present at path '{p}' in the %s schema")
        } else if has(&[
            "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        ]) {
            format!("A property or item is missing in the %s schema but present at path '{p}' in the %s schema and is not covered by its partially open content model")
        } else if has(&[
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        ]) {
            format!("The %s schema has a property or item at path '{p}' which is missing in the %s schema and is not covered by its partially open content model")
        } else {
            format!("A difference at path '{p}' between the %s schema and the %s schema")
        };
        format!("{{errorType:\"{k}\", description:\"{d}\"}}")
    }
}

const KEYWORD_ADDED_OR_REMOVED: [&str; 22] = [
    "MAXIMUM_ADDED",
    "MINIMUM_ADDED",
    "EXCLUSIVE_MAXIMUM_ADDED",
    "EXCLUSIVE_MINIMUM_ADDED",
    "MULTIPLE_OF_ADDED",
    "MAX_LENGTH_ADDED",
    "MIN_LENGTH_ADDED",
    "PATTERN_ADDED",
    "REQUIRED_ATTRIBUTE_ADDED",
    "MAX_PROPERTIES_ADDED",
    "MIN_PROPERTIES_ADDED",
    "DEPENDENCY_ARRAY_ADDED",
    "DEPENDENCY_SCHEMA_ADDED",
    "MAX_ITEMS_ADDED",
    "MIN_ITEMS_ADDED",
    "MAX_CONTAINS_ADDED",
    "MIN_CONTAINS_ADDED",
    "UNIQUE_ITEMS_ADDED",
    "ADDITIONAL_ITEMS_REMOVED",
    "ADDITIONAL_PROPERTIES_REMOVED",
    "UNEVALUATED_PROPERTIES_REMOVED",
    "UNEVALUATED_ITEMS_REMOVED",
];
const VALUE_INCREASED: [&str; 7] = [
    "MIN_LENGTH_INCREASED",
    "MINIMUM_INCREASED",
    "EXCLUSIVE_MINIMUM_INCREASED",
    "MIN_PROPERTIES_INCREASED",
    "MULTIPLE_OF_EXPANDED",
    "MIN_ITEMS_INCREASED",
    "MIN_CONTAINS_INCREASED",
];
const VALUE_DECREASED: [&str; 6] = [
    "MAX_LENGTH_DECREASED",
    "MAXIMUM_DECREASED",
    "MAX_ITEMS_DECREASED",
    "MAX_CONTAINS_DECREASED",
    "EXCLUSIVE_MAXIMUM_DECREASED",
    "MAX_PROPERTIES_DECREASED",
];
const TYPE_NARROWED: [&str; 6] = [
    "ADDITIONAL_ITEMS_NARROWED",
    "ENUM_ARRAY_NARROWED",
    "SUM_TYPE_NARROWED",
    "ADDITIONAL_PROPERTIES_NARROWED",
    "UNEVALUATED_PROPERTIES_NARROWED",
    "UNEVALUATED_ITEMS_NARROWED",
];
const TYPE_EXTENDED: [&str; 4] = [
    "DEPENDENCY_ARRAY_EXTENDED",
    "PRODUCT_TYPE_EXTENDED",
    "SUM_TYPE_EXTENDED",
    "NOT_TYPE_EXTENDED",
];
const TYPE_CHANGED: [&str; 5] = [
    "TYPE_CHANGED",
    "TYPE_NARROWED",
    "COMBINED_TYPE_CHANGED",
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
    "ENUM_ARRAY_CHANGED",
];
const ADDED_TO_OPEN: [&str; 4] = [
    "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
];

/// Every difference from `original` (the writer) to `update` (the reader).
pub fn differences(original: &Model, update: &Model) -> Vec<Difference> {
    let mut c = Ctx {
        o: original,
        u: update,
        memo: HashMap::new(),
        open: HashSet::new(),
    };
    c.compare(Some(original.root), Some(update.root))
}

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
    /// Finished pairs and their differences (relative to the pair).
    memo: HashMap<(Id, Id), Vec<Difference>>,
    /// Pairs being compared: met again through a cycle, they count as equal.
    open: HashSet<(Id, Id)>,
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
                let key = (self.o.deref(o), self.u.deref(u));
                if let Some(d) = self.memo.get(&key) {
                    return d.clone();
                }
                if !self.open.insert(key) {
                    return Vec::new();
                }
                let d = self.compare_types(key.0, key.1);
                self.open.remove(&key);
                self.memo.insert(key, d.clone());
                return d;
            }
        }
        out.diffs
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
                let mut swapped = Ctx {
                    o: self.u,
                    u: self.o,
                    memo: HashMap::new(),
                    open: HashSet::new(),
                };
                let d = swapped.compare(Some(b), Some(a));
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
        // Compatible pairs, then a maximum matching of original to update subschemas.
        let mut edges: Vec<Vec<(usize, Vec<Difference>)>> = Vec::new();
        for (i, o) in os.iter().enumerate() {
            let mut row = Vec::new();
            for (j, u) in us.iter().enumerate() {
                let d = self.compare(Some(*o), Some(*u));
                if compatible(&d) {
                    row.push((j, d));
                }
            }
            let _ = i;
            edges.push(row);
        }
        let mut matched_to: Vec<Option<usize>> = vec![None; us.len()];
        let mut size = 0;
        for i in 0..os.len() {
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

    fn object(&mut self, out: &mut Out, o: Id, u: Id) {
        let (Kind::Object(on), Kind::Object(un)) = (&self.o.nodes[o].kind, &self.u.nodes[u].kind)
        else {
            return;
        };
        // Required: only properties both sides declare.
        for name in on.properties.keys() {
            let Some(up) = un.properties.get(name) else {
                continue;
            };
            let was = on.required.contains(name);
            let is = un.required.contains(name);
            let path = format!("/required{}", seg(name));
            if was && !is {
                out.add(&path, "REQUIRED_ATTRIBUTE_REMOVED");
            } else if !was && is {
                if has_default(self.u, *up) {
                    out.add(&path, "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED");
                } else {
                    out.add(&path, "REQUIRED_ATTRIBUTE_ADDED");
                }
            }
        }
        let mut names: Vec<&String> = on.properties.keys().chain(un.properties.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let path = format!("/properties{}", seg(name));
            match (on.properties.get(name), un.properties.get(name)) {
                (Some(op), None) => {
                    if open_object(self.u, un) {
                        out.add(&path, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL");
                    } else if let Some(s) = partial_object(self.u, un, name) {
                        let d = self.compare(Some(*op), Some(s));
                        out.rebased(&path, &d);
                        out.add(
                            &path,
                            if compatible(&d) {
                                "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                            } else {
                                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                            },
                        );
                    } else if matches!(self.o.nodes[self.o.deref(*op)].kind, Kind::False) {
                        out.add(
                            &path,
                            "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                        );
                    } else {
                        out.add(&path, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL");
                    }
                }
                (None, Some(up)) => {
                    let required = un.required.contains(name);
                    let default = has_default(self.u, *up);
                    if open_object(self.o, on) {
                        let kind = if matches!(self.u.nodes[self.u.deref(*up)].kind, Kind::Empty) {
                            "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                        } else if required && default {
                            "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
                        } else if required {
                            "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
                        } else {
                            "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
                        };
                        out.add(&path, kind);
                    } else {
                        if let Some(s) = partial_object(self.o, on, name) {
                            let d = self.compare(Some(s), Some(*up));
                            out.rebased(&path, &d);
                            out.add(
                                &path,
                                if compatible(&d) {
                                    "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                                } else {
                                    "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                                },
                            );
                        }
                        let kind = if required && default {
                            "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
                        } else if required {
                            "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
                        } else {
                            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
                        };
                        out.add(&path, kind);
                    }
                }
                (op, up) => {
                    let (op, up) = (op.copied(), up.copied());
                    self.under(out, &path, op, up);
                }
            }
        }
        self.dependencies(out, on, un);
        self.extra(
            out,
            "/additionalProperties",
            on.additional,
            un.additional,
            [
                "ADDITIONAL_PROPERTIES_ADDED",
                "ADDITIONAL_PROPERTIES_REMOVED",
                "ADDITIONAL_PROPERTIES_NARROWED",
                "ADDITIONAL_PROPERTIES_EXTENDED",
            ],
        );
        self.unevaluated(
            out,
            "/unevaluatedProperties",
            on.unevaluated,
            un.unevaluated,
            "UNEVALUATED_PROPERTIES",
        );
        changed_bound(
            out,
            "/maxProperties",
            on.max_properties,
            un.max_properties,
            [
                "MAX_PROPERTIES_ADDED",
                "MAX_PROPERTIES_REMOVED",
                "MAX_PROPERTIES_INCREASED",
                "MAX_PROPERTIES_DECREASED",
            ],
        );
        changed_bound(
            out,
            "/minProperties",
            on.min_properties,
            un.min_properties,
            [
                "MIN_PROPERTIES_ADDED",
                "MIN_PROPERTIES_REMOVED",
                "MIN_PROPERTIES_INCREASED",
                "MIN_PROPERTIES_DECREASED",
            ],
        );
    }

    fn dependencies(&mut self, out: &mut Out, on: &ObjectNode, un: &ObjectNode) {
        let mut keys: Vec<&String> = on
            .property_dependencies
            .keys()
            .chain(un.property_dependencies.keys())
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let path = format!("/dependencies{}", seg(k));
            match (
                on.property_dependencies.get(k),
                un.property_dependencies.get(k),
            ) {
                (_, None) => out.add(&path, "DEPENDENCY_ARRAY_REMOVED"),
                (None, Some(_)) => out.add(&path, "DEPENDENCY_ARRAY_ADDED"),
                (Some(a), Some(b)) => {
                    let b_has_a = a.iter().all(|x| b.contains(x));
                    let a_has_b = b.iter().all(|x| a.contains(x));
                    if !(b_has_a && a_has_b) {
                        let kind = if b_has_a {
                            "DEPENDENCY_ARRAY_EXTENDED"
                        } else if a_has_b {
                            "DEPENDENCY_ARRAY_NARROWED"
                        } else {
                            "DEPENDENCY_ARRAY_CHANGED"
                        };
                        out.add(&path, kind);
                    }
                }
            }
        }
        let mut keys: Vec<&String> = on
            .schema_dependencies
            .keys()
            .chain(un.schema_dependencies.keys())
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let path = format!("/dependencies{}", seg(k));
            match (on.schema_dependencies.get(k), un.schema_dependencies.get(k)) {
                (_, None) => out.add(&path, "DEPENDENCY_SCHEMA_REMOVED"),
                (None, Some(_)) => out.add(&path, "DEPENDENCY_SCHEMA_ADDED"),
                (Some(a), Some(b)) => {
                    let (a, b) = (*a, *b);
                    self.under(out, &path, Some(a), Some(b));
                }
            }
        }
    }

    /// additionalProperties / additionalItems; `names`: added, removed, narrowed, extended.
    fn extra(
        &mut self,
        out: &mut Out,
        path: &str,
        o: Option<Extra>,
        u: Option<Extra>,
        names: [&'static str; 4],
    ) {
        let permits = |e: Option<Extra>| e != Some(Extra::Forbidden);
        let schema = |e: Option<Extra>| match e {
            Some(Extra::Schema(s)) => Some(s),
            _ => None,
        };
        if permits(o) != permits(u) {
            out.add(path, if permits(u) { names[0] } else { names[1] });
        } else if schema(o).is_none() && schema(u).is_some() {
            out.add(path, names[2]);
        } else if schema(u).is_none() && schema(o).is_some() {
            out.add(path, names[3]);
        } else {
            self.under(out, path, schema(o), schema(u));
        }
    }

    /// unevaluatedProperties / unevaluatedItems (`prefix`_ADDED etc.).
    fn unevaluated(
        &mut self,
        out: &mut Out,
        path: &str,
        o: Option<Id>,
        u: Option<Id>,
        prefix: &str,
    ) {
        let name = |suffix: &str| -> &'static str {
            match (prefix, suffix) {
                ("UNEVALUATED_PROPERTIES", "ADDED") => "UNEVALUATED_PROPERTIES_ADDED",
                ("UNEVALUATED_PROPERTIES", "REMOVED") => "UNEVALUATED_PROPERTIES_REMOVED",
                ("UNEVALUATED_PROPERTIES", "NARROWED") => "UNEVALUATED_PROPERTIES_NARROWED",
                ("UNEVALUATED_PROPERTIES", _) => "UNEVALUATED_PROPERTIES_EXTENDED",
                (_, "ADDED") => "UNEVALUATED_ITEMS_ADDED",
                (_, "REMOVED") => "UNEVALUATED_ITEMS_REMOVED",
                (_, "NARROWED") => "UNEVALUATED_ITEMS_NARROWED",
                _ => "UNEVALUATED_ITEMS_EXTENDED",
            }
        };
        let is_false = |m: &Model, s: Id| matches!(m.nodes[m.deref(s)].kind, Kind::False);
        let is_empty = |m: &Model, s: Id| matches!(m.nodes[m.deref(s)].kind, Kind::Empty);
        let kind = match (o, u) {
            (None, None) => return,
            (None, Some(u)) if is_false(self.u, u) => name("REMOVED"),
            (None, Some(_)) => name("NARROWED"),
            (Some(o), None) if is_false(self.o, o) => name("ADDED"),
            (Some(_), None) => name("EXTENDED"),
            (Some(o), Some(u)) if is_false(self.o, o) && !is_false(self.u, u) => name("ADDED"),
            (Some(o), Some(u)) if !is_false(self.o, o) && is_false(self.u, u) => name("REMOVED"),
            (Some(o), Some(u)) if is_empty(self.o, o) && !is_empty(self.u, u) => name("NARROWED"),
            (Some(o), Some(u)) if !is_empty(self.o, o) && is_empty(self.u, u) => name("EXTENDED"),
            (o, u) => {
                self.under(out, path, o, u);
                return;
            }
        };
        out.add(path, kind);
    }

    fn array(&mut self, out: &mut Out, o: Id, u: Id) {
        let (Kind::Array(on), Kind::Array(un)) = (&self.o.nodes[o].kind, &self.u.nodes[u].kind)
        else {
            return;
        };
        self.under(out, "/items", on.all_items, un.all_items);
        let common = on.tuple.len().min(un.tuple.len());
        for i in 0..common {
            let (a, b) = (on.tuple[i], un.tuple[i]);
            self.under(out, &format!("/items/{i}"), Some(a), Some(b));
        }
        for (i, os) in on.tuple.iter().enumerate().skip(common) {
            let path = format!("/items/{i}");
            if open_array(self.u, un) {
                out.add(&path, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL");
            } else if let Some(s) = partial_array(self.u, un) {
                let d = self.compare(Some(*os), Some(s));
                out.rebased(&path, &d);
                out.add(
                    &path,
                    if compatible(&d) {
                        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    } else {
                        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    },
                );
            } else if matches!(self.o.nodes[self.o.deref(*os)].kind, Kind::False) {
                out.add(&path, "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL");
            } else {
                out.add(&path, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL");
            }
        }
        for (i, us) in un.tuple.iter().enumerate().skip(common) {
            let path = format!("/items/{i}");
            if open_array(self.o, on) {
                let kind = if matches!(self.u.nodes[self.u.deref(*us)].kind, Kind::Empty) {
                    "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                } else {
                    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
                };
                out.add(&path, kind);
            } else if let Some(s) = partial_array(self.o, on) {
                let d = self.compare(Some(s), Some(*us));
                out.rebased(&path, &d);
                out.add(
                    &path,
                    if compatible(&d) {
                        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    } else {
                        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    },
                );
            } else {
                out.add(&path, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL");
            }
        }
        // additionalItems: permitted on the original side only is a removal.
        self.extra(
            out,
            "/additionalItems",
            on.additional,
            un.additional,
            [
                "ADDITIONAL_ITEMS_ADDED",
                "ADDITIONAL_ITEMS_REMOVED",
                "ADDITIONAL_ITEMS_NARROWED",
                "ADDITIONAL_ITEMS_EXTENDED",
            ],
        );
        self.unevaluated(
            out,
            "/unevaluatedItems",
            on.unevaluated,
            un.unevaluated,
            "UNEVALUATED_ITEMS",
        );
        changed_bound(
            out,
            "/maxItems",
            on.max_items,
            un.max_items,
            [
                "MAX_ITEMS_ADDED",
                "MAX_ITEMS_REMOVED",
                "MAX_ITEMS_INCREASED",
                "MAX_ITEMS_DECREASED",
            ],
        );
        changed_bound(
            out,
            "/minItems",
            on.min_items,
            un.min_items,
            [
                "MIN_ITEMS_ADDED",
                "MIN_ITEMS_REMOVED",
                "MIN_ITEMS_INCREASED",
                "MIN_ITEMS_DECREASED",
            ],
        );
        if on.unique != un.unique {
            out.add(
                "/uniqueItems",
                if on.unique {
                    "UNIQUE_ITEMS_REMOVED"
                } else {
                    "UNIQUE_ITEMS_ADDED"
                },
            );
        }
        changed_bound(
            out,
            "/maxContains",
            on.max_contains,
            un.max_contains,
            [
                "MAX_CONTAINS_ADDED",
                "MAX_CONTAINS_REMOVED",
                "MAX_CONTAINS_INCREASED",
                "MAX_CONTAINS_DECREASED",
            ],
        );
        changed_bound(
            out,
            "/minContains",
            on.min_contains,
            un.min_contains,
            [
                "MIN_CONTAINS_ADDED",
                "MIN_CONTAINS_REMOVED",
                "MIN_CONTAINS_INCREASED",
                "MIN_CONTAINS_DECREASED",
            ],
        );
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

fn has_default(m: &Model, id: Id) -> bool {
    m.nodes[id].meta.default.is_some() || m.nodes[m.deref(id)].meta.default.is_some()
}

fn kind_is(m: &Model, id: Id, f: fn(&Kind) -> bool) -> bool {
    f(&m.nodes[m.deref(id)].kind)
}

/// Open: any other property is accepted as anything.
fn open_object(m: &Model, n: &ObjectNode) -> bool {
    matches!(n.additional, None | Some(Extra::Allowed))
        && n.pattern_properties.is_empty()
        && n.unevaluated
            .is_none_or(|u| kind_is(m, u, |k| matches!(k, Kind::Empty)))
}

/// Partially open: the schema another property `name` would be checked with.
fn partial_object(m: &Model, n: &ObjectNode, name: &str) -> Option<Id> {
    for (re, s) in &n.pattern_properties {
        if re.as_ref().is_some_and(|re| re.is_match(name)) {
            return Some(*s);
        }
    }
    if let Some(Extra::Schema(s)) = n.additional {
        return Some(s);
    }
    if matches!(n.additional, None | Some(Extra::Allowed)) {
        if let Some(u) = n.unevaluated {
            if !kind_is(m, u, |k| matches!(k, Kind::Empty | Kind::False)) {
                return Some(u);
            }
        }
    }
    None
}

fn open_array(m: &Model, n: &ArrayNode) -> bool {
    matches!(n.additional, None | Some(Extra::Allowed))
        && n.unevaluated
            .is_none_or(|u| kind_is(m, u, |k| matches!(k, Kind::Empty)))
}

fn partial_array(m: &Model, n: &ArrayNode) -> Option<Id> {
    if let Some(Extra::Schema(s)) = n.additional {
        return Some(s);
    }
    if matches!(n.additional, None | Some(Extra::Allowed)) {
        if let Some(u) = n.unevaluated {
            if !kind_is(m, u, |k| matches!(k, Kind::Empty | Kind::False)) {
                return Some(u);
            }
        }
    }
    None
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
        let (names, ok) = diff(&tree("string"), &tree("number"));
        assert!(
            !ok && names.contains(&"TYPE_CHANGED #/properties/v".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn messages_name_the_difference_with_role_placeholders() {
        let d = Difference {
            kind: "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            path: "/properties/b".into(),
        };
        assert_eq!(
            d.message(),
            "{errorType:\"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL\", description:\"The %s schema has an open content model and has a property or item at path '#/properties/b' which is missing in the %s schema\"}"
        );
    }
}
