//! Share-group start offsets as the admin APIs see them
//! (DescribeShareGroupOffsets, AlterShareGroupOffsets,
//! DeleteShareGroupOffsets, KIP-932): the start offset of each
//! share-partition, reset to a chosen offset or deleted (the partition is
//! then initialized again by `share.auto.offset.reset` on its next
//! assignment or fetch). Changes are written to `__share_group_state` like
//! every other share-partition change, so they survive a restart.

use std::collections::{BTreeMap, BTreeSet};

use tracing::info;
use uuid::Uuid;

use super::{ShareCoordinator, ShareGroup, SharePartition};

/// Why an alter or delete of start offsets was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetsError {
    #[error("Group {0} not found.")]
    GroupNotFound(String),
    /// Offsets change only while no consumer holds records (Kafka's rule).
    #[error("The group {0} is not empty.")]
    GroupNotEmpty(String),
}

/// One share-partition as DescribeShareGroupOffsets reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartOffset {
    /// The share-partition start offset (SPSO).
    pub start: i64,
    /// Kafka's `DeliveryCompleteCount` (KIP-1226): the records at or past
    /// the SPSO whose delivery is complete (acknowledged or archived).
    pub delivery_complete: i64,
}

impl StartOffset {
    /// The share-partition lag as Kafka 4.2 computes it: the partition's
    /// latest offset (high watermark) less the SPSO less the records
    /// already complete; what is still to be delivered.
    pub fn lag(&self, high_watermark: i64) -> i64 {
        high_watermark - self.start - self.delivery_complete
    }
}

impl ShareCoordinator {
    /// The start offset and delivery-complete count of every initialized
    /// share-partition of the group (empty when there is no such group).
    pub fn start_offsets(&self, group_id: &str) -> BTreeMap<(Uuid, i32), StartOffset> {
        let now = self.clock.now_ms();
        let st = self.lock();
        st.partitions
            .iter()
            .filter(|(k, _)| k.0 == group_id)
            .map(|(k, p)| {
                let c = p.counts(now);
                let start = StartOffset {
                    start: p.start_offset(),
                    delivery_complete: i64::try_from(c.acknowledged + c.archived)
                        .unwrap_or(i64::MAX),
                };
                ((k.1, k.2), start)
            })
            .collect()
    }

    /// Sets the start offset of each (topic id, partition), dropping what
    /// was in flight there. A group that does not exist yet is created
    /// empty, so offsets can be set before its first consumer joins.
    pub fn alter_start_offsets(
        &self,
        group_id: &str,
        offsets: &[(Uuid, i32, i64)],
    ) -> Result<(), OffsetsError> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        self.expire_members(&mut st, group_id, now);
        match st.groups.get(group_id) {
            Some(g) if !g.members.is_empty() => {
                return Err(OffsetsError::GroupNotEmpty(group_id.to_string()))
            }
            Some(_) => {}
            None => {
                st.groups
                    .insert(group_id.to_string(), ShareGroup::new(group_id));
                self.persist_group(&st, group_id);
            }
        }
        for &(topic_id, partition, start) in offsets {
            let key = (group_id.to_string(), topic_id, partition);
            st.partitions
                .insert(key.clone(), SharePartition::new(start));
            self.persist_partition(&st, &key);
        }
        info!(
            group = group_id,
            partitions = offsets.len(),
            "altered share group start offsets"
        );
        Ok(())
    }

    /// Deletes the share-partition state of every partition of `topics`.
    pub fn delete_start_offsets(
        &self,
        group_id: &str,
        topics: &[Uuid],
    ) -> Result<(), OffsetsError> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        self.expire_members(&mut st, group_id, now);
        match st.groups.get(group_id) {
            None => return Err(OffsetsError::GroupNotFound(group_id.to_string())),
            Some(g) if !g.members.is_empty() => {
                return Err(OffsetsError::GroupNotEmpty(group_id.to_string()))
            }
            Some(_) => {}
        }
        let topics: BTreeSet<Uuid> = topics.iter().copied().collect();
        self.remove_partitions(&mut st, |k| k.0 == group_id && topics.contains(&k.1));
        info!(
            group = group_id,
            topics = topics.len(),
            "deleted share group start offsets"
        );
        Ok(())
    }
}
