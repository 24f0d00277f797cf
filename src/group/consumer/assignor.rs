//! The server-side assignors of consumer groups (KIP-848): `uniform`
//! (Kafka's default) and `range`, chosen by the member's `server_assignor`
//! or the first entry of `group.consumer.assignors`.
//!
//! Both are pure functions from the members' subscriptions (topic ids that
//! exist) and their current *target* assignments to a new target
//! assignment; nothing here knows about epochs or reconciliation.
//!
//! - `uniform`: balanced and sticky. Every member keeps the partitions of its
//!   current target it is still subscribed to (a partition claimed twice
//!   stays with the first member in id order); partitions nobody holds go to
//!   the least loaded member subscribed to their topic, rarest topics first;
//!   then single partitions move from the most to the least loaded member
//!   that may take them until no move narrows a gap of two or more. With
//!   identical subscriptions the counts end up differing by at most one, and
//!   only as many partitions move as the balance needs.
//! - `range`: per topic, its subscribers in order (static members by
//!   instance id first, then dynamic ones by member id) get consecutive
//!   ranges; the first `partitions % members` get one more.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::assignment::{self, Assignment};

/// The assignor names Kafka builds in, in its default order.
pub const BUILTIN_ASSIGNORS: [&str; 2] = ["uniform", "range"];

/// A server-side assignor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignor {
    /// Kafka's `UniformAssignor`.
    Uniform,
    /// Kafka's server-side `RangeAssignor`.
    Range,
}

impl Assignor {
    /// The assignor called `name`, if it is built in.
    pub fn from_name(name: &str) -> Option<Assignor> {
        match name {
            "uniform" => Some(Assignor::Uniform),
            "range" => Some(Assignor::Range),
            _ => None,
        }
    }

    /// Its name on the wire and in configs.
    #[cfg(test)]
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Uniform => "uniform",
            Assignor::Range => "range",
        }
    }

    /// The new target assignment of every member in `members`.
    /// `partitions` gives the partition count of every topic a member may
    /// be subscribed to; subscriptions to topics missing there are ignored.
    pub fn assign(
        self,
        members: &[MemberSpec<'_>],
        partitions: &BTreeMap<Uuid, i32>,
    ) -> BTreeMap<String, Assignment> {
        match self {
            Assignor::Uniform => uniform(members, partitions),
            Assignor::Range => range(members, partitions),
        }
    }
}

/// What an assignor knows of one member.
#[derive(Debug, Clone)]
pub struct MemberSpec<'a> {
    /// Member id.
    pub member_id: &'a str,
    /// Static instance id.
    pub instance_id: Option<&'a str>,
    /// Ids of the (existing) topics it subscribes to.
    pub subscribed: BTreeSet<Uuid>,
    /// Its current target assignment (the base for stickiness).
    pub current: &'a Assignment,
}

fn uniform(
    members: &[MemberSpec<'_>],
    partitions: &BTreeMap<Uuid, i32>,
) -> BTreeMap<String, Assignment> {
    let mut order: Vec<&MemberSpec<'_>> = members.iter().collect();
    order.sort_by(|a, b| a.member_id.cmp(b.member_id));
    let eligible =
        |m: &MemberSpec<'_>, t: &Uuid| m.subscribed.contains(t) && partitions.contains_key(t);

    // 1. Keep what is still valid, each partition once.
    let mut out: Vec<Assignment> = vec![Assignment::new(); order.len()];
    let mut taken: BTreeSet<(Uuid, i32)> = BTreeSet::new();
    for (i, m) in order.iter().enumerate() {
        for (t, p) in assignment::iter(m.current) {
            let in_range = partitions.get(&t).is_some_and(|n| p >= 0 && p < *n);
            if in_range && eligible(m, &t) && taken.insert((t, p)) {
                out[i].entry(t).or_default().insert(p);
            }
        }
    }
    let mut load: Vec<usize> = out.iter().map(assignment::count).collect();

    // 2. Hand out the rest, topics with the fewest subscribers first.
    let mut topics: Vec<(usize, Uuid)> = partitions
        .keys()
        .map(|t| (order.iter().filter(|m| eligible(m, t)).count(), *t))
        .filter(|(n, _)| *n > 0)
        .collect();
    topics.sort();
    for (_, t) in &topics {
        let n = partitions.get(t).copied().unwrap_or(0);
        for p in 0..n {
            if taken.contains(&(*t, p)) {
                continue;
            }
            let target = (0..order.len())
                .filter(|&i| eligible(order[i], t))
                .min_by_key(|&i| (load[i], i));
            if let Some(i) = target {
                out[i].entry(*t).or_default().insert(p);
                load[i] += 1;
                taken.insert((*t, p));
            }
        }
    }

    // 3. Balance: move one partition at a time from a member to one that
    // may take it and has at least two fewer. Each move lowers the sum of
    // squared loads, so this ends.
    loop {
        let mut moved = false;
        let mut donors: Vec<usize> = (0..order.len()).collect();
        donors.sort_by_key(|&i| (std::cmp::Reverse(load[i]), i));
        'donors: for &d in &donors {
            let owned: Vec<(Uuid, i32)> = assignment::iter(&out[d]).collect();
            for (t, p) in owned.into_iter().rev() {
                let receiver = (0..order.len())
                    .filter(|&r| r != d && eligible(order[r], &t) && load[r] + 1 < load[d])
                    .min_by_key(|&r| (load[r], r));
                if let Some(r) = receiver {
                    if let Some(set) = out[d].get_mut(&t) {
                        set.remove(&p);
                    }
                    out[r].entry(t).or_default().insert(p);
                    load[d] -= 1;
                    load[r] += 1;
                    moved = true;
                    break 'donors;
                }
            }
        }
        if !moved {
            break;
        }
    }

    order
        .iter()
        .zip(out)
        .map(|(m, a)| (m.member_id.to_string(), assignment::normalize(a)))
        .collect()
}

fn range(
    members: &[MemberSpec<'_>],
    partitions: &BTreeMap<Uuid, i32>,
) -> BTreeMap<String, Assignment> {
    let mut order: Vec<&MemberSpec<'_>> = members.iter().collect();
    // Static members first, by instance id; then dynamic ones by member id.
    order.sort_by(|a, b| match (a.instance_id, b.instance_id) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.member_id.cmp(b.member_id),
    });
    let mut out: BTreeMap<String, Assignment> = order
        .iter()
        .map(|m| (m.member_id.to_string(), Assignment::new()))
        .collect();
    for (t, n) in partitions {
        let subs: Vec<&&MemberSpec<'_>> =
            order.iter().filter(|m| m.subscribed.contains(t)).collect();
        if subs.is_empty() || *n <= 0 {
            continue;
        }
        let count = subs.len() as i32;
        let (quota, extra) = (n / count, n % count);
        let mut start = 0;
        for (i, m) in subs.iter().enumerate() {
            let len = quota + i32::from((i as i32) < extra);
            if len > 0 {
                if let Some(a) = out.get_mut(m.member_id) {
                    a.insert(*t, (start..start + len).collect());
                }
            }
            start += len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn spec<'a>(id: &'a str, subs: &[Uuid], current: &'a Assignment) -> MemberSpec<'a> {
        MemberSpec {
            member_id: id,
            instance_id: None,
            subscribed: subs.iter().copied().collect(),
            current,
        }
    }

    /// Every partition of `partitions` assigned exactly once.
    fn assert_disjoint_cover(out: &BTreeMap<String, Assignment>, partitions: &BTreeMap<Uuid, i32>) {
        let mut seen = BTreeSet::new();
        for a in out.values() {
            for tp in assignment::iter(a) {
                assert!(seen.insert(tp), "{tp:?} assigned twice");
            }
        }
        let all: BTreeSet<(Uuid, i32)> = partitions
            .iter()
            .flat_map(|(t, n)| (0..*n).map(move |p| (*t, p)))
            .collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn uniform_balances_a_homogeneous_group() {
        let t = topic(1);
        let parts = BTreeMap::from([(t, 7)]);
        let empty = Assignment::new();
        let members = [
            spec("a", &[t], &empty),
            spec("b", &[t], &empty),
            spec("c", &[t], &empty),
        ];
        let out = Assignor::Uniform.assign(&members, &parts);
        assert_disjoint_cover(&out, &parts);
        let mut counts: Vec<usize> = out.values().map(assignment::count).collect();
        counts.sort();
        assert_eq!(counts, vec![2, 2, 3]);
    }

    #[test]
    fn uniform_is_sticky_when_a_member_joins() {
        let t = topic(1);
        let parts = BTreeMap::from([(t, 6)]);
        let empty = Assignment::new();
        let first =
            Assignor::Uniform.assign(&[spec("a", &[t], &empty), spec("b", &[t], &empty)], &parts);
        let (a0, b0) = (first["a"].clone(), first["b"].clone());
        let out = Assignor::Uniform.assign(
            &[
                spec("a", &[t], &a0),
                spec("b", &[t], &b0),
                spec("c", &[t], &empty),
            ],
            &parts,
        );
        assert_disjoint_cover(&out, &parts);
        for m in ["a", "b", "c"] {
            assert_eq!(assignment::count(&out[m]), 2, "{m}: {:?}", out[m]);
        }
        // a and b only gave up partitions; nothing moved between them.
        assert!(assignment::is_subset(&out["a"], &a0));
        assert!(assignment::is_subset(&out["b"], &b0));
    }

    #[test]
    fn uniform_gives_a_leaver_partitions_to_the_rest() {
        let t = topic(1);
        let parts = BTreeMap::from([(t, 4)]);
        let a0 = assignment::from_pairs([(t, vec![0, 1])]);
        let b0 = assignment::from_pairs([(t, vec![2, 3])]);
        let out = Assignor::Uniform.assign(&[spec("a", &[t], &a0)], &parts);
        assert_eq!(out["a"], assignment::from_pairs([(t, vec![0, 1, 2, 3])]));
        let _ = b0;
    }

    #[test]
    fn uniform_heterogeneous_respects_subscriptions() {
        let (t1, t2) = (topic(1), topic(2));
        let parts = BTreeMap::from([(t1, 3), (t2, 3)]);
        let empty = Assignment::new();
        let members = [
            spec("a", &[t1], &empty),
            spec("b", &[t1, t2], &empty),
            spec("c", &[t2], &empty),
        ];
        let out = Assignor::Uniform.assign(&members, &parts);
        assert_disjoint_cover(&out, &parts);
        assert!(!out["a"].contains_key(&t2));
        assert!(!out["c"].contains_key(&t1));
        for m in ["a", "b", "c"] {
            assert_eq!(assignment::count(&out[m]), 2, "{m}: {:?}", out[m]);
        }
    }

    #[test]
    fn uniform_drops_partitions_of_unsubscribed_or_shrunk_topics() {
        let (t1, t2) = (topic(1), topic(2));
        let parts = BTreeMap::from([(t1, 2)]);
        let current = assignment::from_pairs([(t1, vec![0, 1, 5]), (t2, vec![0])]);
        let out = Assignor::Uniform.assign(&[spec("a", &[t1, t2], &current)], &parts);
        assert_eq!(out["a"], assignment::from_pairs([(t1, vec![0, 1])]));
    }

    #[test]
    fn uniform_with_more_members_than_partitions_leaves_some_empty() {
        let t = topic(1);
        let parts = BTreeMap::from([(t, 2)]);
        let empty = Assignment::new();
        let members = [
            spec("a", &[t], &empty),
            spec("b", &[t], &empty),
            spec("c", &[t], &empty),
        ];
        let out = Assignor::Uniform.assign(&members, &parts);
        assert_disjoint_cover(&out, &parts);
        assert_eq!(out.values().filter(|a| a.is_empty()).count(), 1);
    }

    #[test]
    fn range_splits_each_topic_in_ranges() {
        let (t1, t2) = (topic(1), topic(2));
        let parts = BTreeMap::from([(t1, 5), (t2, 2)]);
        let empty = Assignment::new();
        let members = [spec("b", &[t1, t2], &empty), spec("a", &[t1, t2], &empty)];
        let out = Assignor::Range.assign(&members, &parts);
        assert_disjoint_cover(&out, &parts);
        assert_eq!(
            out["a"],
            assignment::from_pairs([(t1, vec![0, 1, 2]), (t2, vec![0])])
        );
        assert_eq!(
            out["b"],
            assignment::from_pairs([(t1, vec![3, 4]), (t2, vec![1])])
        );
    }

    #[test]
    fn range_orders_static_members_first() {
        let t = topic(1);
        let parts = BTreeMap::from([(t, 2)]);
        let empty = Assignment::new();
        let mut s = spec("z", &[t], &empty);
        s.instance_id = Some("i1");
        let out = Assignor::Range.assign(&[spec("a", &[t], &empty), s], &parts);
        assert_eq!(out["z"], assignment::from_pairs([(t, vec![0])]));
        assert_eq!(out["a"], assignment::from_pairs([(t, vec![1])]));
    }

    #[test]
    fn names_round_trip() {
        for n in BUILTIN_ASSIGNORS {
            assert_eq!(Assignor::from_name(n).map(Assignor::name), Some(n));
        }
        assert_eq!(Assignor::from_name("sticky"), None);
    }
}
