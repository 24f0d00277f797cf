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

impl ShareCoordinator {
    /// The start offset of every initialized share-partition of the group,
    /// or None when there is no such share group.
    pub fn start_offsets(&self, group_id: &str) -> Option<BTreeMap<(Uuid, i32), i64>> {
        let st = self.lock();
        let known = st.groups.contains_key(group_id);
        let offsets: BTreeMap<(Uuid, i32), i64> = st
            .partitions
            .iter()
            .filter(|(k, _)| k.0 == group_id)
            .map(|(k, p)| ((k.1, k.2), p.start_offset()))
            .collect();
        (known || !offsets.is_empty()).then_some(offsets)
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
