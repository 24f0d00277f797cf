//! The offset store (Kafka's `OffsetMetadataManager`): committed offsets of
//! every group by group id, whatever the group's type; OffsetCommit,
//! OffsetFetch, OffsetDelete, TxnOffsetCommit and its pending offsets until
//! the transaction's marker, the removal of a deleted topic's offsets, and
//! which offsets have expired.
//!
//! It asks the group store's [`Group`] what depends on the group's type:
//! whether a member may commit ([`Group::validate_offset_commit`], the
//! hook where KIP-848 consumer groups check member epochs and answer
//! STALE_MEMBER_EPOCH / FENCED_MEMBER_EPOCH), whether offsets may be deleted,
//! whether a topic is subscribed to, and from when offsets age. Committing
//! offsets for an unknown group creates an empty ("simple") classic group,
//! as Kafka does.
//!
//! Invariant: a group id has offsets here only while the group store holds
//! a group of that id (removing a group removes its offsets first).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tracing::error;

use super::config::GroupConfig;
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::{Group, GroupMetadataManager};
use super::offsets::{CoordinatorRecord, OffsetAndMetadata, OffsetsTopic};

/// An OffsetCommit request.
#[derive(Debug, Clone)]
pub struct CommitParams {
    /// Group id.
    pub group_id: String,
    /// Generation, or -1 for a commit outside group management.
    pub generation_id: i32,
    /// Member id (empty outside group management).
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// v2–v4 `retention_time_ms` (-1: the broker's retention).
    pub retention_time_ms: i64,
    /// v9+: an unknown group with a generation is GROUP_ID_NOT_FOUND
    /// (before: ILLEGAL_GENERATION).
    pub unknown_group_is_not_found: bool,
    /// The offsets.
    pub offsets: Vec<CommitOffset>,
}

/// A TxnOffsetCommit request: an offset commit made inside a producer's
/// transaction.
#[derive(Debug, Clone)]
pub struct TxnCommitParams {
    /// The producer whose transaction the offsets belong to.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i16,
    /// Group, member and offsets (retention and `unknown_group_is_not_found` unused).
    pub commit: CommitParams,
}

/// One offset to commit.
#[derive(Debug, Clone)]
pub struct CommitOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Next offset to consume.
    pub offset: i64,
    /// Leader epoch (-1 unknown).
    pub leader_epoch: i32,
    /// Client metadata (null = "").
    pub metadata: Option<String>,
    /// OffsetCommit v1's explicit commit time (its expiry counts from it);
    /// `None`: the time of the commit, as for every other version.
    pub commit_timestamp_ms: Option<i64>,
}

/// Committed offsets of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedTopic {
    /// Topic.
    pub topic: String,
    /// Its partitions.
    pub partitions: Vec<FetchedOffset>,
}

/// One committed offset (-1 when there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedOffset {
    /// Partition.
    pub partition: i32,
    /// Offset or -1.
    pub offset: i64,
    /// Leader epoch or -1.
    pub leader_epoch: i32,
    /// Metadata ("" when none).
    pub metadata: String,
}

/// One group's committed offsets: topic → partition → offset.
pub(crate) type GroupOffsets = BTreeMap<String, BTreeMap<i32, OffsetAndMetadata>>;

/// Offsets one producer's open transaction committed: (group, topic,
/// partition) -> offset.
type PendingTxnOffsets = BTreeMap<(String, String, i32), OffsetAndMetadata>;

/// Committed offsets of every group.
#[derive(Debug, Default)]
pub(crate) struct OffsetMetadataManager {
    offsets: HashMap<String, GroupOffsets>,
    /// TxnOffsetCommit offsets waiting for their transaction's marker, by
    /// producer id (Kafka's `pendingTransactionalOffsetCommits`).
    pending_txn: HashMap<i64, PendingTxnOffsets>,
}

impl OffsetMetadataManager {
    /// The committed offset of `group` for `topic`-`partition`.
    pub(crate) fn offset(
        &self,
        group: &str,
        topic: &str,
        partition: i32,
    ) -> Option<&OffsetAndMetadata> {
        self.offsets.get(group)?.get(topic)?.get(&partition)
    }

    /// Whether `group` has committed offsets.
    pub(crate) fn has_offsets(&self, group: &str) -> bool {
        self.offsets
            .get(group)
            .is_some_and(|t| t.values().any(|p| !p.is_empty()))
    }

    /// Sets (or with `None` removes) a committed offset.
    fn set_offset(
        &mut self,
        group: &str,
        topic: &str,
        partition: i32,
        value: Option<OffsetAndMetadata>,
    ) {
        match value {
            Some(v) => {
                self.offsets
                    .entry(group.to_string())
                    .or_default()
                    .entry(topic.to_string())
                    .or_default()
                    .insert(partition, v);
            }
            None => {
                let Some(topics) = self.offsets.get_mut(group) else {
                    return;
                };
                if let Some(parts) = topics.get_mut(topic) {
                    parts.remove(&partition);
                    if parts.is_empty() {
                        topics.remove(topic);
                    }
                }
                if topics.is_empty() {
                    self.offsets.remove(group);
                }
            }
        }
    }

    /// Applies the offset records (commits and tombstones) among `records`,
    /// once they are in `__consumer_offsets`.
    fn apply(&mut self, records: &[CoordinatorRecord]) {
        for r in records {
            if let CoordinatorRecord::OffsetCommit {
                group,
                topic,
                partition,
                value,
            } = r
            {
                self.set_offset(group, topic, *partition, value.clone());
            }
        }
    }

    /// Replays an `OffsetCommit` record written outside a transaction.
    pub(crate) fn replay_offset_commit(
        &mut self,
        groups: &mut GroupMetadataManager,
        group: &str,
        topic: &str,
        partition: i32,
        value: Option<OffsetAndMetadata>,
        now: i64,
    ) {
        if value.is_some() {
            groups.ensure_group(group, now);
        }
        self.set_offset(group, topic, partition, value);
    }

    /// Replays an `OffsetCommit` record written inside `producer_id`'s
    /// transaction: pending until the transaction's marker.
    pub(crate) fn replay_txn_offset_commit(
        &mut self,
        producer_id: i64,
        group: String,
        topic: String,
        partition: i32,
        value: OffsetAndMetadata,
    ) {
        self.pending_txn
            .entry(producer_id)
            .or_default()
            .insert((group, topic, partition), value);
    }

    /// OffsetCommit: one outcome per offset of `p.offsets`, in order.
    pub(crate) fn commit(
        &mut self,
        groups: &mut GroupMetadataManager,
        env: &mut Env<'_>,
        p: &CommitParams,
    ) -> Vec<Result<(), GroupError>> {
        let all = |e: GroupError| vec![Err(e); p.offsets.len()];
        match groups.get(&p.group_id) {
            None if p.generation_id >= 0 => {
                return all(if p.unknown_group_is_not_found {
                    GroupError::GroupIdNotFound(p.group_id.clone())
                } else {
                    GroupError::IllegalGeneration
                })
            }
            None => {}
            Some(group) => {
                if let Err(e) = validate_commit(group, p, false) {
                    return all(e);
                }
                group.on_offset_commit(env, &p.member_id);
            }
        }
        let expire =
            (p.retention_time_ms >= 0).then(|| env.now.saturating_add(p.retention_time_ms));
        let (results, records) = offset_records(p, env.config, env.now, expire);
        if records.is_empty() {
            return results;
        }
        if let Err(e) = env.append(&records) {
            error!(group = %p.group_id, error = %e, "cannot store committed offsets");
            let e = GroupError::from(e);
            return results.into_iter().map(|r| r.and(Err(e.clone()))).collect();
        }
        groups.ensure_group(&p.group_id, env.now);
        self.apply(&records);
        results
    }

    /// TxnOffsetCommit: validates like an offset commit, then writes the
    /// offsets to `__consumer_offsets` inside the producer's transaction,
    /// pending until [`Self::complete_txn`]. Returns the outcomes and the
    /// partition written (to flush once unlocked), if any.
    pub(crate) fn txn_commit(
        &mut self,
        groups: &GroupMetadataManager,
        topic: &OffsetsTopic,
        config: &GroupConfig,
        now: i64,
        p: &TxnCommitParams,
    ) -> (Vec<Result<(), GroupError>>, Option<usize>) {
        let c = &p.commit;
        let all = |e: GroupError| (vec![Err(e); c.offsets.len()], None);
        if let Some(group) = groups.get(&c.group_id) {
            if let Err(e) = validate_commit(group, c, true) {
                return all(e);
            }
        } else if c.generation_id >= 0 {
            return all(GroupError::IllegalGeneration);
        }
        let (results, records) = offset_records(c, config, now, None);
        if records.is_empty() {
            return (results, None);
        }
        let written = match topic.append(&records, Some((p.producer_id, p.producer_epoch)), now) {
            Ok(partition) => partition,
            Err(e) => {
                error!(group = %c.group_id, error = %e, "cannot store transactional offsets");
                let e = GroupError::from(e);
                let results = results.into_iter().map(|r| r.and(Err(e.clone()))).collect();
                return (results, None);
            }
        };
        for r in records {
            if let CoordinatorRecord::OffsetCommit {
                group,
                topic,
                partition,
                value: Some(v),
            } = r
            {
                self.replay_txn_offset_commit(p.producer_id, group, topic, partition, v);
            }
        }
        (results, Some(written))
    }

    /// A transaction's marker reached a `__consumer_offsets` partition: its
    /// pending offsets for the groups on that partition (`on_partition`)
    /// take effect on COMMIT and are dropped on ABORT.
    pub(crate) fn complete_txn(
        &mut self,
        groups: &mut GroupMetadataManager,
        producer_id: i64,
        commit: bool,
        on_partition: impl Fn(&str) -> bool,
        now: i64,
    ) {
        let Some(pending) = self.pending_txn.get_mut(&producer_id) else {
            return;
        };
        let done: Vec<_> = pending
            .keys()
            .filter(|(g, _, _)| on_partition(g))
            .cloned()
            .collect();
        let mut committed = Vec::new();
        for key in done {
            if let Some(v) = pending.remove(&key) {
                committed.push((key, v));
            }
        }
        if pending.is_empty() {
            self.pending_txn.remove(&producer_id);
        }
        if commit {
            for ((group, topic, partition), v) in committed {
                groups.ensure_group(&group, now);
                self.set_offset(&group, &topic, partition, Some(v));
            }
        }
    }

    /// The partitions of `group_id` with a transactional offset commit
    /// still waiting for its transaction.
    pub(crate) fn pending_txn_partitions(&self, group_id: &str) -> BTreeSet<(String, i32)> {
        self.pending_txn
            .values()
            .flat_map(|m| m.keys())
            .filter(|(g, _, _)| g == group_id)
            .map(|(_, t, p)| (t.clone(), *p))
            .collect()
    }

    /// OffsetFetch of one group: the requested partitions (-1 for those
    /// without a committed offset), or with `topics = None` every committed
    /// offset of the group.
    pub(crate) fn fetch(
        &self,
        group_id: &str,
        topics: Option<Vec<(String, Vec<i32>)>>,
    ) -> Vec<FetchedTopic> {
        let fetched = |o: Option<&OffsetAndMetadata>, partition: i32| match o {
            Some(o) => FetchedOffset {
                partition,
                offset: o.offset,
                leader_epoch: o.leader_epoch.unwrap_or(-1),
                metadata: o.metadata.clone(),
            },
            None => FetchedOffset {
                partition,
                offset: -1,
                leader_epoch: -1,
                metadata: String::new(),
            },
        };
        match topics {
            Some(list) => list
                .into_iter()
                .map(|(topic, partitions)| FetchedTopic {
                    partitions: partitions
                        .into_iter()
                        .map(|p| fetched(self.offset(group_id, &topic, p), p))
                        .collect(),
                    topic,
                })
                .collect(),
            None => self
                .offsets
                .get(group_id)
                .map(|topics| {
                    topics
                        .iter()
                        .map(|(topic, parts)| FetchedTopic {
                            topic: topic.clone(),
                            partitions: parts.iter().map(|(p, o)| fetched(Some(o), *p)).collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// OffsetDelete: per topic, per partition outcome; or a group-level error.
    #[allow(clippy::type_complexity)]
    pub(crate) fn delete_offsets(
        &mut self,
        groups: &GroupMetadataManager,
        env: &mut Env<'_>,
        group_id: &str,
        topics: &[(String, Vec<i32>)],
    ) -> Result<Vec<(String, Vec<(i32, Option<GroupError>)>)>, GroupError> {
        let group = groups
            .get(group_id)
            .ok_or_else(|| GroupError::GroupIdNotFound(group_id.to_string()))?;
        group.validate_offset_delete()?;
        let mut records = Vec::new();
        let mut out = Vec::with_capacity(topics.len());
        for (topic, partitions) in topics {
            let subscribed = group.is_subscribed_to_topic(topic);
            let mut parts = Vec::with_capacity(partitions.len());
            for &p in partitions {
                if subscribed {
                    parts.push((p, Some(GroupError::GroupSubscribedToTopic)));
                    continue;
                }
                parts.push((p, None));
                if self.offset(group_id, topic, p).is_some() {
                    records.push(tombstone(group_id, topic, p));
                }
            }
            out.push((topic.clone(), parts));
        }
        if !records.is_empty() {
            env.append(&records)?;
            self.apply(&records);
        }
        Ok(out)
    }

    /// Removes every group's committed offsets of a deleted topic (Kafka's
    /// `onPartitionsDeleted`). Returns how many were removed.
    pub(crate) fn delete_topic_offsets(
        &mut self,
        env: &mut Env<'_>,
        topic: &str,
    ) -> Result<usize, GroupError> {
        let mut ids: Vec<String> = self
            .offsets
            .iter()
            .filter(|(_, topics)| topics.contains_key(topic))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        let mut removed = 0;
        for id in ids {
            let records: Vec<CoordinatorRecord> = self
                .offsets
                .get(&id)
                .and_then(|topics| topics.get(topic))
                .map(|parts| parts.keys().map(|p| tombstone(&id, topic, *p)).collect())
                .unwrap_or_default();
            env.append(&records)?;
            removed += records.len();
            self.apply(&records);
        }
        Ok(removed)
    }

    /// Tombstones for every committed offset of `group_id` (Kafka's
    /// `deleteAllOffsets`, for DeleteGroups); [`Self::remove_group`] drops
    /// them from memory once they are written.
    pub(crate) fn tombstones(&self, group_id: &str) -> Vec<CoordinatorRecord> {
        self.offsets
            .get(group_id)
            .map(|topics| {
                topics
                    .iter()
                    .flat_map(|(topic, parts)| parts.keys().map(|p| tombstone(group_id, topic, *p)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forgets every committed offset of `group_id`.
    pub(crate) fn remove_group(&mut self, group_id: &str) {
        self.offsets.remove(group_id);
    }

    /// Tombstones for `group`'s expired offsets, and whether every offset
    /// expired (Kafka's `cleanupExpiredOffsets`, with the group's
    /// `offsetExpirationCondition`). Offsets of subscribed topics never
    /// expire. Apply the tombstones with [`Self::expire`] once written.
    pub(crate) fn expired_offsets(
        &self,
        group: &Group,
        now: i64,
        retention_ms: i64,
    ) -> (Vec<CoordinatorRecord>, bool) {
        let Some(topics) = self.offsets.get(group.id()) else {
            return (Vec::new(), true);
        };
        let mut records = Vec::new();
        let mut all = true;
        for (topic, parts) in topics {
            if group.is_subscribed_to_topic(topic) {
                all = false;
                continue;
            }
            for (p, o) in parts {
                let expired = match (o.expire_timestamp_ms, group.offset_expiration_base(o)) {
                    (Some(at), _) => now >= at,
                    (None, Some(from)) => now.saturating_sub(from) >= retention_ms,
                    (None, None) => false,
                };
                if expired {
                    records.push(tombstone(group.id(), topic, *p));
                } else {
                    all = false;
                }
            }
        }
        (records, all)
    }

    /// Applies written tombstones of [`Self::expired_offsets`].
    pub(crate) fn expire(&mut self, records: &[CoordinatorRecord]) {
        self.apply(records);
    }
}

/// The record deleting `group`'s offset of `topic`-`partition`.
fn tombstone(group: &str, topic: &str, partition: i32) -> CoordinatorRecord {
    CoordinatorRecord::OffsetCommit {
        group: group.to_string(),
        topic: topic.to_string(),
        partition,
        value: None,
    }
}

/// [`Group::validate_offset_commit`] for a commit request.
fn validate_commit(group: &Group, p: &CommitParams, transactional: bool) -> Result<(), GroupError> {
    group.validate_offset_commit(
        &p.member_id,
        p.group_instance_id.as_deref(),
        p.generation_id,
        transactional,
        p.unknown_group_is_not_found,
    )
}

/// The records of a commit's offsets and one outcome per offset (metadata
/// over `offset.metadata.max.bytes` is refused, the rest recorded).
fn offset_records(
    p: &CommitParams,
    config: &GroupConfig,
    now: i64,
    expire: Option<i64>,
) -> (Vec<Result<(), GroupError>>, Vec<CoordinatorRecord>) {
    let mut results = Vec::with_capacity(p.offsets.len());
    let mut records = Vec::new();
    for o in &p.offsets {
        let metadata = o.metadata.clone().unwrap_or_default();
        if metadata.len() > config.offset_metadata_max_bytes {
            results.push(Err(GroupError::OffsetMetadataTooLarge));
            continue;
        }
        results.push(Ok(()));
        records.push(CoordinatorRecord::OffsetCommit {
            group: p.group_id.clone(),
            topic: o.topic.clone(),
            partition: o.partition,
            value: Some(OffsetAndMetadata {
                offset: o.offset,
                leader_epoch: (o.leader_epoch >= 0).then_some(o.leader_epoch),
                metadata,
                commit_timestamp_ms: o.commit_timestamp_ms.unwrap_or(now),
                expire_timestamp_ms: expire,
            }),
        });
    }
    (results, records)
}
