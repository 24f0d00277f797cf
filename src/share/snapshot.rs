//! A read-only view of every share group for the HTTP console, the JSON
//! API and `/metrics`: members with their subscriptions and assignments,
//! and each share-partition's start offset and record-state counts.

use std::collections::BTreeMap;

use super::group::ShareMember;
use super::partition::PartitionCounts;
use super::ShareCoordinator;

/// One member, topics by name.
#[derive(Debug, Clone)]
pub struct ShareMemberView {
    pub member: ShareMember,
    /// `(topic, partitions)`; topics no longer known are left out.
    pub assignment: Vec<(String, Vec<i32>)>,
}

/// One share-partition of a group.
#[derive(Debug, Clone)]
pub struct SharePartitionView {
    pub topic: String,
    pub partition: i32,
    pub counts: PartitionCounts,
}

/// One share group.
#[derive(Debug, Clone)]
pub struct ShareGroupView {
    pub group_id: String,
    pub state: &'static str,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub members: Vec<ShareMemberView>,
    /// Sorted by topic and partition.
    pub partitions: Vec<SharePartitionView>,
}

impl ShareCoordinator {
    /// Every share group (sorted by id), members whose session expired
    /// removed first, as ShareGroupDescribe would.
    pub fn snapshot(&self) -> Vec<ShareGroupView> {
        let names: BTreeMap<uuid::Uuid, String> = self
            .logs
            .topics()
            .iter()
            .map(|t| (t.id(), t.name().to_string()))
            .collect();
        let mut out = Vec::new();
        for (id, _) in self.list_groups() {
            let Some(g) = self.describe(&id) else {
                continue;
            };
            let now = self.clock.now_ms();
            let mut partitions: Vec<SharePartitionView> = {
                let st = self.lock();
                st.partitions
                    .iter()
                    .filter(|(k, _)| k.0 == id)
                    .filter_map(|(k, p)| {
                        Some(SharePartitionView {
                            topic: names.get(&k.1)?.clone(),
                            partition: k.2,
                            counts: p.counts(now),
                        })
                    })
                    .collect()
            };
            partitions.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
            let members = g
                .members
                .values()
                .map(|m| ShareMemberView {
                    assignment: m
                        .assignment
                        .iter()
                        .filter_map(|(t, ps)| {
                            Some((names.get(t)?.clone(), ps.iter().copied().collect()))
                        })
                        .collect(),
                    member: m.clone(),
                })
                .collect();
            out.push(ShareGroupView {
                state: g.state(),
                group_id: g.group_id,
                group_epoch: g.group_epoch,
                assignment_epoch: g.assignment_epoch,
                members,
                partitions,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::partition::{AckBatch, AcquireLimits, SharePartition};
    use super::PartitionCounts;

    const LIMITS: AcquireLimits = AcquireLimits {
        max_records: 500,
        batch_size: 500,
        record_limit: false,
        delivery_limit: 5,
        max_in_flight: 2000,
        lock_duration_ms: 1_000,
    };

    #[test]
    fn counts_follow_acquire_acknowledge_and_lock_expiry() {
        let mut p = SharePartition::new(0);
        assert_eq!(p.counts(0), PartitionCounts::default());
        p.acquire("a", 0, 9, LIMITS, 0);
        // Offsets 3 and 4 accepted (1), 5 rejected (3): 3..=5 leave the locks.
        p.acknowledge(
            "a",
            AckBatch {
                first: 3,
                last: 5,
                types: &[1, 1, 3],
            },
            5,
            1_000,
            10,
        )
        .expect("acknowledge");
        let c = p.counts(500);
        assert_eq!((c.start_offset, c.end_offset), (0, 10));
        assert_eq!(c.in_flight, 10);
        assert_eq!((c.acquired, c.available), (7, 0));
        assert_eq!((c.acknowledged, c.archived), (2, 1));
        // After the lock duration, the unacknowledged records count as available.
        let c = p.counts(1_000);
        assert_eq!((c.acquired, c.available), (0, 7));
    }
}
