//! Object and array comparisons: properties and tuple items under open,
//! closed and partially open content models, required properties,
//! dependencies, additional and unevaluated properties/items, and bounds.

use super::{changed_bound, compatible, seg, Ctx, Out};
use crate::schema_registry::json_schema_model::{ArrayNode, Extra, Id, Kind, Model, ObjectNode};

impl Ctx<'_> {
    pub(super) fn object(&mut self, out: &mut Out, o: Id, u: Id) {
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
                        self.covered(
                            out,
                            &path,
                            *op,
                            s,
                            [
                                "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                            ],
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
                            self.covered(
                                out,
                                &path,
                                s,
                                *up,
                                [
                                    "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                                    "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                                ],
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
    /// A property or tuple item on one side only, read on the other side by
    /// the partially open content model's schema: covered when the two are
    /// compatible (the first kind), not covered otherwise (the second).
    fn covered(&mut self, out: &mut Out, path: &str, o: Id, u: Id, kinds: [&'static str; 2]) {
        let d = self.compare(Some(o), Some(u));
        out.rebased(path, &d);
        out.add(path, if compatible(&d) { kinds[0] } else { kinds[1] });
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

    pub(super) fn array(&mut self, out: &mut Out, o: Id, u: Id) {
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
                self.covered(
                    out,
                    &path,
                    *os,
                    s,
                    [
                        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    ],
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
                self.covered(
                    out,
                    &path,
                    s,
                    *us,
                    [
                        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    ],
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
