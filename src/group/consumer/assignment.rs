//! Partition sets keyed by topic id: what a member owns, what it should own
//! (its target), what it must give back. Ordered maps so records, answers
//! and tests see one deterministic order.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

/// Partitions per topic id. Topics never map to an empty set (see [`normalize`]).
pub type Assignment = BTreeMap<Uuid, BTreeSet<i32>>;

/// Removes topics with no partitions, so two equal assignments compare equal.
pub fn normalize(mut a: Assignment) -> Assignment {
    a.retain(|_, p| !p.is_empty());
    a
}

/// Builds an assignment from `(topic id, partitions)` pairs (a request's or a
/// record's list); duplicates merge.
pub fn from_pairs<I, P>(pairs: I) -> Assignment
where
    I: IntoIterator<Item = (Uuid, P)>,
    P: IntoIterator<Item = i32>,
{
    let mut out = Assignment::new();
    for (topic, partitions) in pairs {
        out.entry(topic).or_default().extend(partitions);
    }
    normalize(out)
}

/// Number of partitions in `a`.
pub fn count(a: &Assignment) -> usize {
    a.values().map(BTreeSet::len).sum()
}

/// Whether `a` holds partition `p` of `topic`.
pub fn contains(a: &Assignment, topic: &Uuid, p: i32) -> bool {
    a.get(topic).is_some_and(|s| s.contains(&p))
}

/// Whether every partition of `sub` is in `sup`.
pub fn is_subset(sub: &Assignment, sup: &Assignment) -> bool {
    sub.iter()
        .all(|(t, ps)| ps.iter().all(|p| contains(sup, t, *p)))
}

/// Whether `a` and `b` share a partition.
pub fn intersects(a: &Assignment, b: &Assignment) -> bool {
    a.iter()
        .any(|(t, ps)| ps.iter().any(|p| contains(b, t, *p)))
}

/// `(topic, partition)` pairs of `a`, in order.
pub fn iter(a: &Assignment) -> impl Iterator<Item = (Uuid, i32)> + '_ {
    a.iter()
        .flat_map(|(t, ps)| ps.iter().map(move |p| (*t, *p)))
}
