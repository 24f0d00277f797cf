//! One consumer group's state (Kafka's `ConsumerGroup`): its members, the
//! group epoch, the target assignment and its epoch, who holds which
//! partition, and the resolved subscription patterns.
//!
//! The state only changes through [`ConsumerGroup::apply`] of a
//! [`ConsumerGroupRecord`], live and on replay alike, so what a restart
//! rebuilds from `__consumer_offsets` is exactly what ran before it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::assignment::{self, Assignment};
use super::member::{ConsumerGroupMember, LEAVE_GROUP_MEMBER_EPOCH};
use super::records::{ConsumerGroupRecord, CurrentAssignment, MemberMetadata, ResolvedRegex};

/// The group type ListGroups (v5+) reports for consumer groups.
pub const CONSUMER_GROUP_TYPE: &str = "consumer";

/// A consumer group's state (Kafka's `ConsumerGroupState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerGroupState {
    /// No members.
    Empty,
    /// The group epoch is ahead of the target assignment.
    Assigning,
    /// Some member has not reached the target assignment.
    Reconciling,
    /// Every member holds its target.
    Stable,
    // No `Dead`: a deleted group leaves the map at once, so none is ever seen
    // in that state (DescribeGroups answers Dead for unknown ids on its own).
}

impl ConsumerGroupState {
    /// The name ListGroups, DescribeGroups and ConsumerGroupDescribe give.
    pub fn name(self) -> &'static str {
        match self {
            ConsumerGroupState::Empty => "Empty",
            ConsumerGroupState::Assigning => "Assigning",
            ConsumerGroupState::Reconciling => "Reconciling",
            ConsumerGroupState::Stable => "Stable",
        }
    }
}

/// One consumer group.
#[derive(Debug, Clone)]
pub struct ConsumerGroup {
    group_id: String,
    group_epoch: i32,
    assignment_epoch: i32,
    metadata_hash: i64,
    members: BTreeMap<String, ConsumerGroupMember>,
    /// instance id -> member id.
    static_members: BTreeMap<String, String>,
    target: BTreeMap<String, Assignment>,
    /// partition -> (holder, its epoch), for assigned and pending-revocation
    /// partitions alike.
    holders: HashMap<(Uuid, i32), (String, i32)>,
    regexes: BTreeMap<String, ResolvedRegex>,
    /// The topic-list fingerprint the regexes were last resolved against
    /// (not persisted: after a restart they are resolved once more).
    pub(crate) regex_fingerprint: Option<i64>,
}

impl ConsumerGroup {
    /// A new group at epoch 0.
    pub fn new(group_id: &str) -> ConsumerGroup {
        ConsumerGroup {
            group_id: group_id.to_string(),
            group_epoch: 0,
            assignment_epoch: 0,
            metadata_hash: 0,
            members: BTreeMap::new(),
            static_members: BTreeMap::new(),
            target: BTreeMap::new(),
            holders: HashMap::new(),
            regexes: BTreeMap::new(),
            regex_fingerprint: None,
        }
    }

    /// Group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The group epoch (bumped on every membership or subscription change).
    pub fn group_epoch(&self) -> i32 {
        self.group_epoch
    }

    /// The epoch of the target assignment.
    pub fn assignment_epoch(&self) -> i32 {
        self.assignment_epoch
    }

    /// The stored hash of the subscribed topics' metadata.
    pub fn metadata_hash(&self) -> i64 {
        self.metadata_hash
    }

    /// The state, derived as Kafka derives it.
    pub fn state(&self) -> ConsumerGroupState {
        if self.members.is_empty() {
            ConsumerGroupState::Empty
        } else if self.group_epoch > self.assignment_epoch {
            ConsumerGroupState::Assigning
        } else if self
            .members
            .values()
            .any(|m| !m.is_reconciled_to(self.assignment_epoch))
        {
            ConsumerGroupState::Reconciling
        } else {
            ConsumerGroupState::Stable
        }
    }

    /// Members by id.
    pub fn members(&self) -> &BTreeMap<String, ConsumerGroupMember> {
        &self.members
    }

    /// The member `id`.
    pub fn member(&self, id: &str) -> Option<&ConsumerGroupMember> {
        self.members.get(id)
    }

    /// The member holding instance id `instance`.
    pub fn static_member(&self, instance: &str) -> Option<&ConsumerGroupMember> {
        self.static_members
            .get(instance)
            .and_then(|id| self.members.get(id))
    }

    /// The target assignment of member `id` (empty if none).
    pub fn target_of(&self, id: &str) -> Assignment {
        self.target.get(id).cloned().unwrap_or_default()
    }

    /// The whole target assignment.
    pub fn target(&self) -> &BTreeMap<String, Assignment> {
        &self.target
    }

    /// The epoch of the member holding a partition; `-1` when free.
    pub fn partition_epoch(&self, topic: &Uuid, partition: i32) -> i32 {
        self.holders
            .get(&(*topic, partition))
            .map_or(-1, |(_, e)| *e)
    }

    /// Resolved patterns.
    pub fn regexes(&self) -> &BTreeMap<String, ResolvedRegex> {
        &self.regexes
    }

    /// Patterns some member subscribes to.
    pub fn subscribed_regexes(&self) -> BTreeSet<String> {
        self.members
            .values()
            .filter_map(|m| m.subscribed_topic_regex.clone())
            .collect()
    }

    /// The topic names the group subscribes to, by name or through a
    /// resolved pattern.
    pub fn subscribed_topic_names(&self) -> BTreeSet<String> {
        self.members
            .values()
            .flat_map(|m| self.member_topic_names(m))
            .collect()
    }

    /// The topic names `m` subscribes to, by name or through its pattern.
    pub fn member_topic_names(&self, m: &ConsumerGroupMember) -> BTreeSet<String> {
        let mut names = m.subscribed_topic_names.clone();
        if let Some(r) = m
            .subscribed_topic_regex
            .as_ref()
            .and_then(|r| self.regexes.get(r))
        {
            names.extend(r.topics.iter().cloned());
        }
        names
    }

    /// Whether every member but `except` speaks the classic protocol
    /// (Kafka's `allMembersUseClassicProtocolExcept`).
    pub fn all_classic_except(&self, except: &[String]) -> bool {
        self.members
            .values()
            .filter(|m| !except.contains(&m.member_id))
            .all(ConsumerGroupMember::uses_classic_protocol)
    }

    /// Whether `member` is still waiting for a partition of its target
    /// that another member holds (Kafka's `waitingOnUnreleasedPartition`).
    pub fn waiting_on_unreleased_partition(&self, member: &ConsumerGroupMember) -> bool {
        let target = self.target_of(&member.member_id);
        let waiting = assignment::iter(&target).any(|(t, p)| {
            let held = member.assigned.get(&t).is_some_and(|ps| ps.contains(&p));
            !held && self.partition_epoch(&t, p) != -1
        });
        waiting
    }

    /// Whether some member subscribes to `topic` (OffsetDelete's check).
    pub fn is_subscribed_to(&self, topic: &str) -> bool {
        self.subscribed_topic_names().contains(topic)
    }

    /// The assignor most members asked for, `default` if none did (ties:
    /// the name first in order, for a deterministic answer).
    pub fn preferred_assignor<'a>(&'a self, default: &'a str) -> &'a str {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(a) = m.server_assignor.as_deref() {
                *counts.entry(a).or_default() += 1;
            }
        }
        counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(default, |(n, _)| n)
    }

    /// Applies one record of this group. A group epoch tombstone is the
    /// caller's (it removes the whole group).
    pub fn apply(&mut self, rec: &ConsumerGroupRecord) {
        match rec {
            ConsumerGroupRecord::GroupEpoch(Some((epoch, hash))) => {
                self.group_epoch = *epoch;
                self.metadata_hash = *hash;
            }
            ConsumerGroupRecord::GroupEpoch(None) | ConsumerGroupRecord::PartitionMetadata => {}
            ConsumerGroupRecord::MemberMetadata(id, Some(meta)) => {
                let mut m = self
                    .members
                    .remove(id)
                    .unwrap_or_else(|| ConsumerGroupMember::new(id));
                set_metadata(&mut m, meta);
                self.put_member(m);
            }
            ConsumerGroupRecord::MemberMetadata(id, None) => {
                if let Some(m) = self.members.remove(id) {
                    self.release(id);
                    if let Some(inst) = &m.instance_id {
                        if self.static_members.get(inst) == Some(id) {
                            self.static_members.remove(inst);
                        }
                    }
                }
            }
            ConsumerGroupRecord::TargetAssignmentEpoch(epoch) => {
                self.assignment_epoch = epoch.unwrap_or(-1);
            }
            ConsumerGroupRecord::TargetAssignment(id, Some(a)) => {
                self.target.insert(id.clone(), a.clone());
            }
            ConsumerGroupRecord::TargetAssignment(id, None) => {
                self.target.remove(id);
            }
            ConsumerGroupRecord::CurrentAssignment(id, value) => {
                let mut m = match self.members.remove(id) {
                    Some(m) => m,
                    // A tombstone for a member already gone: nothing to do.
                    None if value.is_none() => return,
                    None => ConsumerGroupMember::new(id),
                };
                match value {
                    Some(c) => {
                        m.member_epoch = c.member_epoch;
                        m.previous_member_epoch = c.previous_member_epoch;
                        m.state = c.state;
                        m.assigned = c.assigned.clone();
                        m.pending_revocation = c.pending_revocation.clone();
                    }
                    None => {
                        m.member_epoch = LEAVE_GROUP_MEMBER_EPOCH;
                        m.previous_member_epoch = LEAVE_GROUP_MEMBER_EPOCH;
                        m.assigned = Assignment::new();
                        m.pending_revocation = Assignment::new();
                    }
                }
                self.put_member(m);
            }
            ConsumerGroupRecord::RegularExpression(regex, Some(r)) => {
                self.regexes.insert(regex.clone(), r.clone());
            }
            ConsumerGroupRecord::RegularExpression(regex, None) => {
                self.regexes.remove(regex);
            }
        }
    }

    fn put_member(&mut self, m: ConsumerGroupMember) {
        self.release(&m.member_id);
        for (t, p) in assignment::iter(&m.assigned).chain(assignment::iter(&m.pending_revocation)) {
            self.holders
                .insert((t, p), (m.member_id.clone(), m.member_epoch));
        }
        if let Some(inst) = &m.instance_id {
            self.static_members
                .insert(inst.clone(), m.member_id.clone());
        }
        self.members.insert(m.member_id.clone(), m);
    }

    /// Forgets the partitions `id` holds.
    fn release(&mut self, id: &str) {
        self.holders.retain(|_, (holder, _)| holder != id);
    }
}

/// A member's metadata record.
pub fn metadata_of(m: &ConsumerGroupMember) -> MemberMetadata {
    MemberMetadata {
        instance_id: m.instance_id.clone(),
        rack_id: m.rack_id.clone(),
        client_id: m.client_id.clone(),
        client_host: m.client_host.clone(),
        subscribed_topic_names: m.subscribed_topic_names.clone(),
        subscribed_topic_regex: m.subscribed_topic_regex.clone(),
        rebalance_timeout_ms: m.rebalance_timeout_ms,
        server_assignor: m.server_assignor.clone(),
        classic: m.classic.clone(),
    }
}

/// A member's current assignment record.
pub fn current_assignment_of(m: &ConsumerGroupMember) -> CurrentAssignment {
    CurrentAssignment {
        member_epoch: m.member_epoch,
        previous_member_epoch: m.previous_member_epoch,
        state: m.state,
        assigned: m.assigned.clone(),
        pending_revocation: m.pending_revocation.clone(),
    }
}

fn set_metadata(m: &mut ConsumerGroupMember, meta: &MemberMetadata) {
    m.instance_id = meta.instance_id.clone();
    m.rack_id = meta.rack_id.clone();
    m.client_id = meta.client_id.clone();
    m.client_host = meta.client_host.clone();
    m.subscribed_topic_names = meta.subscribed_topic_names.clone();
    m.subscribed_topic_regex = meta.subscribed_topic_regex.clone();
    m.rebalance_timeout_ms = meta.rebalance_timeout_ms;
    m.server_assignor = meta.server_assignor.clone();
    m.classic = meta.classic.clone();
}
