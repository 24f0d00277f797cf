//! The group store (Kafka's `GroupMetadataManager`, minus the classic
//! protocol, which is in the `classic_*` files): every group of this broker
//! by id, [`Group`] being one of the group types; creating groups, rebuilding
//! them from `__consumer_offsets` records at load, removing them (with their
//! timers) when deleted or expired, and the DescribeGroups / ListGroups views.
//!
//! # Group types
//!
//! A group id is one group of one type. Today [`Group`] has the one variant
//! `Classic(ClassicGroup)`; KIP-848 consumer groups add a `Consumer` variant
//! and an arm in each `match` of this file: the questions every group type
//! answers (its type name, whether it is empty, may a member commit offsets,
//! may offsets be deleted, from when do offsets age, how DescribeGroups and
//! ListGroups show it) are [`Group`]'s methods, asked by the offset store and
//! the coordinator. Protocol code of one type reaches its own groups through
//! an accessor of that type ([`GroupMetadataManager::classic_mut`],
//! [`GroupMetadataManager::get_or_create_classic`]); a group of another type
//! under the same id is `None` there.
//!
//! This file knows nothing of committed offsets (the offset store does):
//! where a decision needs both (a group tombstone at replay, expiry), the
//! coordinator asks both.

use std::collections::HashMap;

use bytes::Bytes;

use super::classic_group::ClassicGroup;
use super::consumer::topics::TopicsImage;
pub use super::consumer::CONSUMER_GROUP_TYPE;
use super::consumer::{self, records::ConsumerGroupRecord, ConsumerGroup, ConsumerGroupState};
use super::env::Env;
use super::error::GroupError;
use super::offsets::{CoordinatorRecord, GroupMetadataValue, OffsetAndMetadata};
use super::state::GroupState;
use super::timer::{TimerAction, TimerKey, Timers};

/// The protocol type ListGroups reports for consumer groups.
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// The group type ListGroups (v5+) reports for classic groups.
pub const CLASSIC_GROUP_TYPE: &str = "classic";

#[derive(Debug, Clone)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// False: no such group (reported as Dead).
    pub found: bool,
    /// State.
    pub state: GroupState,
    /// Protocol type ("" if none).
    pub protocol_type: String,
    /// Selected protocol when Stable, else "".
    pub protocol_data: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// Metadata for the selected protocol (Stable groups only).
    pub metadata: Bytes,
    /// Assignment.
    pub assignment: Bytes,
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    /// Group id.
    pub group_id: String,
    /// Protocol type ("" for groups that only commit offsets).
    pub protocol_type: String,
    /// State name ("Stable", "Reconciling", ...).
    pub state: &'static str,
    /// [`CLASSIC_GROUP_TYPE`] or [`CONSUMER_GROUP_TYPE`].
    pub group_type: &'static str,
}

/// A group of one of the types this coordinator serves.
#[derive(Debug)]
pub(crate) enum Group {
    /// JoinGroup/SyncGroup/Heartbeat (Kafka's `ClassicGroup`).
    Classic(ClassicGroup),
    /// ConsumerGroupHeartbeat (KIP-848, Kafka's `ConsumerGroup`).
    Consumer(ConsumerGroup),
}

impl Group {
    /// The group id.
    pub(crate) fn id(&self) -> &str {
        match self {
            Group::Classic(g) => &g.id,
            Group::Consumer(g) => g.group_id(),
        }
    }

    /// The type name ListGroups reports (Kafka's `Group.type()`).
    pub(crate) fn group_type(&self) -> &'static str {
        match self {
            Group::Classic(_) => CLASSIC_GROUP_TYPE,
            Group::Consumer(_) => CONSUMER_GROUP_TYPE,
        }
    }

    /// Whether the group has no members (Kafka's `isEmpty`), so that it may
    /// be removed once its offsets are gone.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Group::Classic(g) => g.is_in(GroupState::Empty),
            Group::Consumer(g) => g.state() == ConsumerGroupState::Empty,
        }
    }

    /// Kafka's `Group.validateOffsetCommit`. `generation_or_epoch` is the
    /// request's generation id (classic) or member epoch (consumer groups);
    /// `v9_or_later`: the OffsetCommit version consumer-protocol members
    /// must use.
    pub(crate) fn validate_offset_commit(
        &self,
        member_id: &str,
        instance: Option<&str>,
        generation_or_epoch: i32,
        transactional: bool,
        v9_or_later: bool,
    ) -> Result<(), GroupError> {
        match self {
            Group::Classic(g) => {
                g.validate_offset_commit(member_id, instance, generation_or_epoch, transactional)
            }
            Group::Consumer(g) => Ok(consumer::heartbeat::validate_offset_commit(
                g,
                member_id,
                instance,
                generation_or_epoch,
                transactional,
                if v9_or_later { 9 } else { 8 },
            )?),
        }
    }

    /// What an accepted offset commit by `member_id` does to the group: a
    /// classic member's commit keeps its session alive, as a heartbeat does.
    pub(crate) fn on_offset_commit(&self, env: &mut Env<'_>, member_id: &str) {
        match self {
            Group::Classic(g) => {
                if matches!(
                    g.state(),
                    GroupState::Stable | GroupState::PreparingRebalance
                ) {
                    if let Some(m) = g.member(member_id) {
                        env.schedule_heartbeat(&g.id, member_id, i64::from(m.session_timeout_ms));
                    }
                }
            }
            // Consumer-protocol sessions live on heartbeats alone.
            Group::Consumer(_) => {}
        }
    }

    /// Kafka's `Group.validateOffsetDelete`.
    pub(crate) fn validate_offset_delete(&self) -> Result<(), GroupError> {
        match self {
            Group::Classic(g) => g.validate_offset_delete(),
            Group::Consumer(_) => Ok(()),
        }
    }

    /// Kafka's `Group.validateDeleteGroup`.
    pub(crate) fn validate_delete_group(&self) -> Result<(), GroupError> {
        match self {
            Group::Classic(g) => g.validate_delete_group(),
            Group::Consumer(g) => {
                if g.state() == ConsumerGroupState::Empty {
                    Ok(())
                } else {
                    Err(GroupError::NonEmptyGroup)
                }
            }
        }
    }

    /// Whether the group actively consumes `topic` (its offsets are then
    /// neither deleted by OffsetDelete nor expired).
    pub(crate) fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        match self {
            Group::Classic(g) => g.is_subscribed_to_topic(topic),
            Group::Consumer(g) => g.is_subscribed_to(topic),
        }
    }

    /// Kafka's `Group.offsetExpirationCondition`: the time `o`'s age counts
    /// from, `None` while offsets do not expire.
    pub(crate) fn offset_expiration_base(&self, o: &OffsetAndMetadata) -> Option<i64> {
        match self {
            Group::Classic(g) => g.offset_expiration_base(o),
            // Kafka's ConsumerGroup: from the commit, unless subscribed.
            Group::Consumer(_) => Some(o.commit_timestamp_ms),
        }
    }

    /// The records that delete the group itself from `__consumer_offsets`
    /// (Kafka's `createGroupTombstoneRecords`; its offsets are the offset
    /// store's).
    pub(crate) fn tombstone_records(&self) -> Vec<CoordinatorRecord> {
        match self {
            Group::Classic(g) => vec![CoordinatorRecord::GroupMetadata {
                group: g.id.clone(),
                value: None,
            }],
            Group::Consumer(g) => {
                // Built on a copy: the group is dropped after the append.
                let mut copy = g.clone();
                consumer::heartbeat::delete(&mut copy)
                    .map(|out| wrap_records(g.group_id(), out.records))
                    .unwrap_or_default()
            }
        }
    }

    /// The group as DescribeGroups reports it.
    fn describe(&self) -> GroupDescription {
        match self {
            Group::Classic(g) => describe_classic(g),
            // Kafka's DescribeGroups describes classic groups only.
            Group::Consumer(g) => GroupDescription {
                group_id: g.group_id().to_string(),
                found: false,
                state: GroupState::Dead,
                protocol_type: String::new(),
                protocol_data: String::new(),
                members: Vec::new(),
            },
        }
    }

    /// The group as ListGroups reports it.
    fn listed(&self) -> ListedGroup {
        match self {
            Group::Classic(g) => ListedGroup {
                group_id: g.id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state().as_str(),
                group_type: CLASSIC_GROUP_TYPE,
            },
            Group::Consumer(g) => ListedGroup {
                group_id: g.group_id().to_string(),
                protocol_type: CONSUMER_PROTOCOL_TYPE.to_string(),
                state: g.state().name(),
                group_type: CONSUMER_GROUP_TYPE,
            },
        }
    }
}

/// Consumer group records as `__consumer_offsets` records.
pub(crate) fn wrap_records(
    group: &str,
    records: Vec<ConsumerGroupRecord>,
) -> Vec<CoordinatorRecord> {
    records
        .into_iter()
        .map(|record| CoordinatorRecord::ConsumerGroup {
            group: group.to_string(),
            record,
        })
        .collect()
}

fn describe_classic(g: &ClassicGroup) -> GroupDescription {
    let stable = g.is_in(GroupState::Stable);
    let protocol = g.protocol_name.clone().unwrap_or_default();
    GroupDescription {
        group_id: g.id.clone(),
        found: true,
        state: g.state(),
        protocol_type: g.protocol_type.clone().unwrap_or_default(),
        protocol_data: if stable {
            protocol.clone()
        } else {
            String::new()
        },
        members: g
            .members()
            .map(|m| MemberDescription {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: m.assignment.clone(),
            })
            .collect(),
    }
}

/// Every group of this broker, by id.
#[derive(Debug, Default)]
pub(crate) struct GroupMetadataManager {
    groups: HashMap<String, Group>,
    /// The topics as the last consumer group operation saw them (Kafka's
    /// metadata image): timers that fence consumer group members use it.
    pub(crate) topics: TopicsImage,
    /// Group epoch bumps of consumer groups since start (each starts a
    /// rebalance: Kafka's `consumer-group-rebalance` sensor).
    pub(crate) consumer_rebalances: u64,
}

impl GroupMetadataManager {
    /// The group `id`, of any type.
    pub(crate) fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Whether a group `id` exists (of any type).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.groups.contains_key(id)
    }

    /// Number of groups.
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// Every group id, sorted (operations over all groups run in this
    /// order, so what they append is deterministic).
    pub(crate) fn sorted_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.groups.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The classic group `id`; `None` if there is none, or it is of another
    /// type.
    #[cfg(test)]
    pub(crate) fn classic(&self, id: &str) -> Option<&ClassicGroup> {
        match self.groups.get(id)? {
            Group::Classic(g) => Some(g),
            Group::Consumer(_) => None,
        }
    }

    /// The classic group `id`, mutably; `None` as for [`Self::classic`].
    pub(crate) fn classic_mut(&mut self, id: &str) -> Option<&mut ClassicGroup> {
        match self.groups.get_mut(id)? {
            Group::Classic(g) => Some(g),
            Group::Consumer(_) => None,
        }
    }

    /// Kafka's `getOrMaybeCreateClassicGroup`: the classic group `id`,
    /// created `Empty` at `now` if there is no group of that id. `None`: the
    /// id belongs to a group of another type.
    pub(crate) fn get_or_create_classic(
        &mut self,
        id: &str,
        now: i64,
    ) -> Option<&mut ClassicGroup> {
        let group = self
            .groups
            .entry(id.to_string())
            .or_insert_with(|| Group::Classic(ClassicGroup::new(id, now)));
        match group {
            Group::Classic(g) => Some(g),
            Group::Consumer(_) => None,
        }
    }

    /// Makes sure a group `id` exists: offsets committed outside group
    /// management (generation -1) belong to an `Empty` classic group, as in
    /// Kafka ("simple" groups).
    pub(crate) fn ensure_group(&mut self, id: &str, now: i64) {
        self.get_or_create_classic(id, now);
    }

    /// Removes group `id` and every timer of it.
    pub(crate) fn remove(&mut self, timers: &mut Timers, id: &str) {
        self.groups.remove(id);
        timers.cancel_group(id);
    }

    /// Replays a `GroupMetadata` record of a classic group (the last record
    /// per key wins, as after compaction): a value rebuilds the group
    /// (Kafka's `GroupMetadataManager.replay`); a tombstone removes it,
    /// unless offsets of it remain (`has_offsets`): those keep a "simple"
    /// group alive, as Kafka keeps them in its offset store.
    pub(crate) fn replay_classic_metadata(
        &mut self,
        id: &str,
        value: Option<&GroupMetadataValue>,
        has_offsets: bool,
        now: i64,
    ) {
        match value {
            Some(v) => {
                self.groups.insert(
                    id.to_string(),
                    Group::Classic(ClassicGroup::from_record(id, v, now)),
                );
            }
            None => {
                if self.groups.remove(id).is_some() && has_offsets {
                    self.groups
                        .insert(id.to_string(), Group::Classic(ClassicGroup::new(id, now)));
                }
            }
        }
    }

    /// After a load: starts the session of every member of every loaded
    /// group, as if each had just heartbeated.
    pub(crate) fn schedule_loaded_sessions(
        &self,
        timers: &mut Timers,
        now: i64,
        consumer_session_ms: i32,
    ) {
        for group in self.groups.values() {
            match group {
                Group::Classic(g) => {
                    for m in g.members() {
                        timers.schedule(
                            TimerKey::heartbeat(&g.id, &m.member_id),
                            now + i64::from(m.session_timeout_ms),
                            TimerAction::Heartbeat,
                        );
                    }
                }
                Group::Consumer(g) => {
                    for (id, m) in g.members() {
                        // A classic-protocol member has its own session timeout.
                        let session = m
                            .classic
                            .as_ref()
                            .map_or(consumer_session_ms, |c| c.session_timeout_ms);
                        timers.schedule(
                            TimerKey::heartbeat(g.group_id(), id),
                            now + i64::from(session),
                            TimerAction::Heartbeat,
                        );
                        // A member that owed a revocation owes it again
                        // (Kafka reschedules the rebalance timeout on load).
                        if m.state == consumer::member::MemberState::UnrevokedPartitions {
                            timers.schedule(
                                TimerKey::revocation(g.group_id(), id),
                                now + i64::from(m.rebalance_timeout_ms.max(0)),
                                TimerAction::Revocation {
                                    member_epoch: m.member_epoch,
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// DescribeGroups.
    pub(crate) fn describe_groups(&self, ids: &[String]) -> Vec<GroupDescription> {
        ids.iter()
            .map(|id| match self.groups.get(id) {
                None => GroupDescription {
                    group_id: id.clone(),
                    found: false,
                    state: GroupState::Dead,
                    protocol_type: String::new(),
                    protocol_data: String::new(),
                    members: Vec::new(),
                },
                Some(g) => g.describe(),
            })
            .collect()
    }

    /// ListGroups, filtered by state names and group types (both
    /// case-insensitive; an empty filter matches everything).
    pub(crate) fn list_groups(&self, states: &[String], types: &[String]) -> Vec<ListedGroup> {
        let states: Vec<String> = states
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        let types: Vec<String> = types
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        let mut out: Vec<ListedGroup> = self
            .groups
            .values()
            .filter(|g| types.is_empty() || types.iter().any(|t| t == g.group_type()))
            .map(Group::listed)
            .filter(|g| states.is_empty() || states.contains(&g.state.to_ascii_lowercase()))
            .collect();
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }
}

impl GroupMetadataManager {
    /// The consumer group `id`; `None` if there is none, or it is of
    /// another type.
    pub(crate) fn consumer(&self, id: &str) -> Option<&ConsumerGroup> {
        match self.groups.get(id)? {
            Group::Consumer(g) => Some(g),
            Group::Classic(_) => None,
        }
    }

    /// The consumer group `id`, mutably.
    pub(crate) fn consumer_mut(&mut self, id: &str) -> Option<&mut ConsumerGroup> {
        match self.groups.get_mut(id)? {
            Group::Consumer(g) => Some(g),
            Group::Classic(_) => None,
        }
    }

    /// Takes group `id` out (to run an operation that may be undone).
    pub(crate) fn take(&mut self, id: &str) -> Option<Group> {
        self.groups.remove(id)
    }

    /// Puts a group (back) in.
    pub(crate) fn put(&mut self, group: Group) {
        self.groups.insert(group.id().to_string(), group);
    }

    /// Replays a consumer group record: creates the group on its first
    /// record, drops it on its epoch tombstone (unless offsets of it remain:
    /// those keep an empty classic "simple" group, as for classic groups).
    pub(crate) fn replay_consumer(
        &mut self,
        id: &str,
        record: &ConsumerGroupRecord,
        has_offsets: bool,
        now: i64,
    ) {
        if matches!(record, ConsumerGroupRecord::GroupEpoch(None)) {
            if matches!(self.groups.get(id), Some(Group::Consumer(_))) {
                self.groups.remove(id);
                if has_offsets {
                    self.groups
                        .insert(id.to_string(), Group::Classic(ClassicGroup::new(id, now)));
                }
            }
            return;
        }
        // A classic group of the same id was converted (its tombstone may
        // have been compacted away): the consumer group replaces it.
        if !matches!(self.groups.get(id), Some(Group::Consumer(_))) {
            self.groups
                .insert(id.to_string(), Group::Consumer(ConsumerGroup::new(id)));
        }
        if let Some(Group::Consumer(g)) = self.groups.get_mut(id) {
            g.apply(record);
        }
    }
}
