//! One classic group (Kafka's `ClassicGroup`): its state, generation,
//! selected protocol, leader, members (dynamic and static), the members a
//! join or sync phase is waiting for.
//!
//! This type only keeps the bookkeeping consistent, and answers the
//! questions the offset store asks of any group (may this member commit,
//! may offsets be deleted, from when do offsets age); the protocol (what a
//! request does in which state, timers, records) is in `classic_join.rs`,
//! `classic_rebalance.rs` and `classic_membership.rs`, and the committed
//! offsets are in the offset store (`offset_metadata_manager.rs`).
//!
//! Members are kept in join order, so "the first remaining member" (the
//! new leader when the leader leaves) is deterministic.

use std::collections::{BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use indexmap::IndexMap;
use tokio::sync::oneshot;

use super::classic_api::{JoinGroupResult, JoinedMember, SyncGroupResult};
use super::consumer_protocol::{subscribed_topics, CONSUMER_PROTOCOL_TYPE};
use super::error::GroupError;
use super::member::{Member, Protocol};
use super::offsets::{GroupMetadataValue, MemberMetadata, OffsetAndMetadata};
use super::state::GroupState;

/// A classic group.
#[derive(Debug)]
pub(crate) struct ClassicGroup {
    pub(crate) id: String,
    state: GroupState,
    previous_state: GroupState,
    /// When the group entered its current state.
    state_timestamp_ms: Option<i64>,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) generation_id: i32,
    leader_id: Option<String>,
    members: IndexMap<String, Member>,
    /// group.instance.id → member id.
    static_members: HashMap<String, String>,
    /// Member ids handed out with MEMBER_ID_REQUIRED, not yet joined.
    pending_join_members: HashSet<String>,
    /// Members of the current generation that have not sent SyncGroup.
    pending_sync_members: HashSet<String>,
    /// Topics the members subscribe to ("consumer" protocol only).
    subscribed_topics: Option<BTreeSet<String>>,
    /// A member joined during the initial rebalance delay.
    pub(crate) new_member_added: bool,
}

impl ClassicGroup {
    /// A new, empty group.
    pub(crate) fn new(id: &str, now_ms: i64) -> ClassicGroup {
        ClassicGroup {
            id: id.to_string(),
            state: GroupState::Empty,
            previous_state: GroupState::Empty,
            state_timestamp_ms: Some(now_ms),
            protocol_type: None,
            protocol_name: None,
            generation_id: 0,
            leader_id: None,
            members: IndexMap::new(),
            static_members: HashMap::new(),
            pending_join_members: HashSet::new(),
            pending_sync_members: HashSet::new(),
            subscribed_topics: None,
            new_member_added: false,
        }
    }

    /// Rebuilds a group from its metadata record: `Stable` with the
    /// recorded members and assignments, or `Empty` without members (Kafka's
    /// `GroupMetadataManager.replay`).
    pub(crate) fn from_record(id: &str, v: &GroupMetadataValue, now_ms: i64) -> ClassicGroup {
        let mut g = ClassicGroup::new(id, now_ms);
        g.protocol_type = (!v.protocol_type.is_empty()).then(|| v.protocol_type.clone());
        g.protocol_name = v.protocol.clone();
        g.generation_id = v.generation;
        g.leader_id = v.leader.clone();
        g.state_timestamp_ms =
            (v.current_state_timestamp_ms >= 0).then_some(v.current_state_timestamp_ms);
        if !v.members.is_empty() {
            g.state = GroupState::Stable;
        }
        for m in &v.members {
            let member = Member {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                rebalance_timeout_ms: m.rebalance_timeout_ms,
                session_timeout_ms: m.session_timeout_ms,
                protocol_type: v.protocol_type.clone(),
                protocols: vec![Protocol {
                    name: v.protocol.clone().unwrap_or_default(),
                    metadata: m.subscription.clone(),
                }],
                assignment: m.assignment.clone(),
                is_new: false,
                awaiting_join: None,
                awaiting_sync: None,
            };
            if let Some(i) = &member.group_instance_id {
                g.static_members.insert(i.clone(), member.member_id.clone());
            }
            g.members.insert(member.member_id.clone(), member);
        }
        if g.leader_id
            .as_ref()
            .is_some_and(|l| !g.members.contains_key(l))
        {
            g.leader_id = g.members.keys().next().cloned();
        }
        g.subscribed_topics = g.compute_subscribed_topics();
        g
    }

    /// The metadata record for the current state, with `assignments`
    /// overriding the members' stored ones (the leader's SyncGroup).
    pub(crate) fn metadata_value(
        &self,
        assignments: Option<&HashMap<String, Bytes>>,
    ) -> GroupMetadataValue {
        let protocol = self.protocol_name.clone();
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation_id,
            protocol: protocol.clone(),
            leader: self.leader_id.clone(),
            current_state_timestamp_ms: self.state_timestamp_ms.unwrap_or(-1),
            members: self
                .members
                .values()
                .map(|m| MemberMetadata {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: protocol
                        .as_deref()
                        .map(|p| m.metadata(p))
                        .unwrap_or_default(),
                    assignment: assignments
                        .and_then(|a| a.get(&m.member_id).cloned())
                        .unwrap_or_else(|| m.assignment.clone()),
                })
                .collect(),
        }
    }

    pub(crate) fn state(&self) -> GroupState {
        self.state
    }

    pub(crate) fn previous_state(&self) -> GroupState {
        self.previous_state
    }

    pub(crate) fn state_timestamp_ms(&self) -> Option<i64> {
        self.state_timestamp_ms
    }

    /// Moves to `next`, checking the transition table.
    ///
    /// # Panics
    /// On a transition the table forbids: that is a coordinator bug.
    pub(crate) fn transition_to(&mut self, next: GroupState, now_ms: i64) {
        assert!(
            self.state.can_transition_to(next),
            "group {} cannot move from {} to {next}",
            self.id,
            self.state
        );
        self.previous_state = self.state;
        self.state = next;
        self.state_timestamp_ms = Some(now_ms);
    }

    pub(crate) fn is_in(&self, state: GroupState) -> bool {
        self.state == state
    }

    /// Kafka's `canRebalance`: the group may move to PreparingRebalance.
    pub(crate) fn can_rebalance(&self) -> bool {
        self.state.can_transition_to(GroupState::PreparingRebalance)
    }

    pub(crate) fn has_member(&self, id: &str) -> bool {
        self.members.contains_key(id)
    }

    pub(crate) fn member(&self, id: &str) -> Option<&Member> {
        self.members.get(id)
    }

    pub(crate) fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.get_mut(id)
    }

    pub(crate) fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    pub(crate) fn member_ids(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }

    pub(crate) fn num_members(&self) -> usize {
        self.members.len()
    }

    pub(crate) fn leader(&self) -> Option<&str> {
        self.leader_id.as_deref()
    }

    pub(crate) fn is_leader(&self, id: &str) -> bool {
        self.leader_id.as_deref() == Some(id)
    }

    /// Adds a member (its JoinGroup parked on `join`).
    pub(crate) fn add(
        &mut self,
        mut member: Member,
        join: Option<oneshot::Sender<JoinGroupResult>>,
    ) {
        if let Some(i) = &member.group_instance_id {
            self.static_members
                .insert(i.clone(), member.member_id.clone());
        }
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        member.awaiting_join = join;
        self.pending_join_members.remove(&member.member_id);
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member (or pending member). Its parked requests, if any,
    /// are dropped: their handlers see the channel close.
    pub(crate) fn remove(&mut self, id: &str) -> Option<Member> {
        let removed = self.members.shift_remove(id);
        if let Some(i) = removed.as_ref().and_then(|m| m.group_instance_id.as_ref()) {
            if self.static_members.get(i).map(String::as_str) == Some(id) {
                self.static_members.remove(i);
            }
        }
        if self.is_leader(id) {
            self.leader_id = self.members.keys().next().cloned();
        }
        self.pending_join_members.remove(id);
        self.pending_sync_members.remove(id);
        removed
    }

    /// Kafka's `maybeElectNewJoinedLeader`: keeps the leader if it rejoined,
    /// else elects the first member that did. False if nobody rejoined (or
    /// there is no leader).
    pub(crate) fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader_id.clone() else {
            return false;
        };
        if self
            .members
            .get(&leader)
            .is_some_and(Member::is_awaiting_join)
        {
            return true;
        }
        match self.members.values().find(|m| m.is_awaiting_join()) {
            Some(m) => {
                self.leader_id = Some(m.member_id.clone());
                true
            }
            None => false,
        }
    }

    /// Gives the static member `instance` the id `new_id` instead of
    /// `old_id`, keeping everything else (assignment included). Parked
    /// requests of the old id are answered FENCED_INSTANCE_ID.
    pub(crate) fn replace_static_member(
        &mut self,
        instance: &str,
        old_id: &str,
        new_id: &str,
    ) -> Option<&mut Member> {
        let mut old = self.members.shift_remove(old_id)?;
        if let Some(tx) = old.awaiting_join.take() {
            let _ = tx.send(JoinGroupResult::error(old_id, GroupError::FencedInstanceId));
        }
        if let Some(tx) = old.awaiting_sync.take() {
            let _ = tx.send(SyncGroupResult::error(GroupError::FencedInstanceId));
        }
        old.member_id = new_id.to_string();
        old.is_new = false;
        if self.is_leader(old_id) {
            self.leader_id = Some(new_id.to_string());
        }
        self.static_members
            .insert(instance.to_string(), new_id.to_string());
        self.pending_sync_members.remove(old_id);
        self.members.insert(new_id.to_string(), old);
        self.members.get_mut(new_id)
    }

    pub(crate) fn is_pending_member(&self, id: &str) -> bool {
        self.pending_join_members.contains(id)
    }

    pub(crate) fn add_pending_member(&mut self, id: &str) {
        self.pending_join_members.insert(id.to_string());
    }

    pub(crate) fn add_pending_sync_member(&mut self, id: &str) {
        self.pending_sync_members.insert(id.to_string());
    }

    pub(crate) fn remove_pending_sync_member(&mut self, id: &str) {
        self.pending_sync_members.remove(id);
    }

    pub(crate) fn has_received_sync_from_all_members(&self) -> bool {
        self.pending_sync_members.is_empty()
    }

    pub(crate) fn pending_sync_members(&self) -> Vec<String> {
        self.pending_sync_members.iter().cloned().collect()
    }

    pub(crate) fn clear_pending_sync_members(&mut self) {
        self.pending_sync_members.clear();
    }

    pub(crate) fn static_member_id(&self, instance: &str) -> Option<&str> {
        self.static_members.get(instance).map(String::as_str)
    }

    /// Members that have not rejoined in this join phase.
    pub(crate) fn not_yet_rejoined(&self) -> Vec<(String, bool)> {
        self.members
            .values()
            .filter(|m| !m.is_awaiting_join())
            .map(|m| (m.member_id.clone(), m.group_instance_id.is_some()))
            .collect()
    }

    pub(crate) fn num_awaiting_join(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.is_awaiting_join())
            .count()
    }

    pub(crate) fn has_all_members_joined(&self) -> bool {
        self.members.len() == self.num_awaiting_join() && self.pending_join_members.is_empty()
    }

    /// The longest rebalance timeout of any member.
    pub(crate) fn rebalance_timeout_ms(&self) -> i64 {
        self.members
            .values()
            .map(|m| i64::from(m.rebalance_timeout_ms))
            .max()
            .unwrap_or(0)
    }

    /// Kafka's `validateMember`: the instance id (if any) must map to this
    /// member id, and the member must exist.
    pub(crate) fn validate_member(
        &self,
        member_id: &str,
        instance: Option<&str>,
    ) -> Result<(), GroupError> {
        if let Some(i) = instance {
            match self.static_member_id(i) {
                None => return Err(GroupError::UnknownMemberId),
                Some(existing) if existing != member_id => {
                    return Err(GroupError::FencedInstanceId)
                }
                Some(_) => {}
            }
        }
        if !self.has_member(member_id) {
            return Err(GroupError::UnknownMemberId);
        }
        Ok(())
    }

    /// How many members support `protocol`.
    fn support_count(&self, protocol: &str) -> usize {
        self.members
            .values()
            .filter(|m| m.supports(protocol))
            .count()
    }

    /// Whether a member of `protocol_type` supporting `protocols` may join:
    /// an empty group takes any non-empty type and list; otherwise the type
    /// must match and one protocol must be supported by every member.
    pub(crate) fn supports_protocols(&self, protocol_type: &str, protocols: &[Protocol]) -> bool {
        if self.is_in(GroupState::Empty) {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|p| self.support_count(&p.name) == self.members.len())
    }

    /// Kafka's `selectProtocol`: among the protocols every member supports,
    /// each member votes for its most preferred one; most votes wins (ties go
    /// to the protocol voted for first, in member join order).
    pub(crate) fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|p| p.name.as_str())
            .filter(|name| self.support_count(name) == self.members.len())
            .collect();
        let mut votes: Vec<(&str, usize)> = Vec::new();
        for m in self.members.values() {
            if let Some(v) = m.vote(&candidates) {
                match votes.iter_mut().find(|(name, _)| *name == v) {
                    Some((_, n)) => *n += 1,
                    None => votes.push((v, 1)),
                }
            }
        }
        let mut best: Option<(&str, usize)> = None;
        for (name, n) in votes {
            if best.is_none_or(|(_, b)| n > b) {
                best = Some((name, n));
            }
        }
        best.map(|(name, _)| name.to_string())
    }

    pub(crate) fn uses_consumer_protocol(&self) -> bool {
        self.protocol_type.as_deref() == Some(CONSUMER_PROTOCOL_TYPE)
    }

    /// The union of the members' subscribed topics, if the group uses the
    /// consumer protocol and every subscription parses.
    pub(crate) fn compute_subscribed_topics(&self) -> Option<BTreeSet<String>> {
        if !self.uses_consumer_protocol() {
            return None;
        }
        if self.members.is_empty() {
            return Some(BTreeSet::new());
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut all = BTreeSet::new();
        for m in self.members.values() {
            all.extend(subscribed_topics(&m.metadata(protocol))?);
        }
        Some(all)
    }

    /// Whether the group actively consumes `topic` (when unknown: whether it
    /// uses the consumer protocol at all, as Kafka assumes).
    pub(crate) fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        match &self.subscribed_topics {
            Some(t) => t.contains(topic),
            None => self.uses_consumer_protocol(),
        }
    }

    pub(crate) fn has_subscribed_topics(&self) -> bool {
        self.subscribed_topics.is_some()
    }

    /// Replaces a member's protocols and timeouts and its parked JoinGroup.
    /// Returns the JoinGroup it replaced, if one was parked.
    pub(crate) fn update_member(
        &mut self,
        id: &str,
        protocols: Vec<Protocol>,
        rebalance_timeout_ms: i32,
        session_timeout_ms: i32,
        join: Option<oneshot::Sender<JoinGroupResult>>,
    ) -> Option<oneshot::Sender<JoinGroupResult>> {
        let m = self.members.get_mut(id)?;
        m.protocols = protocols;
        m.rebalance_timeout_ms = rebalance_timeout_ms;
        m.session_timeout_ms = session_timeout_ms;
        std::mem::replace(&mut m.awaiting_join, join)
    }

    /// Answers a member's parked JoinGroup. False if none was parked.
    pub(crate) fn complete_join(&mut self, id: &str, result: JoinGroupResult) -> bool {
        match self
            .members
            .get_mut(id)
            .and_then(|m| m.awaiting_join.take())
        {
            Some(tx) => {
                let _ = tx.send(result);
                true
            }
            None => false,
        }
    }

    /// Answers a member's parked SyncGroup. False if none was parked.
    pub(crate) fn complete_sync(&mut self, id: &str, result: SyncGroupResult) -> bool {
        match self
            .members
            .get_mut(id)
            .and_then(|m| m.awaiting_sync.take())
        {
            Some(tx) => {
                let _ = tx.send(result);
                true
            }
            None => false,
        }
    }

    /// Starts the next generation: `CompletingRebalance` with the selected
    /// protocol, or `Empty` without members.
    pub(crate) fn init_next_generation(&mut self, now_ms: i64) {
        self.generation_id += 1;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.subscribed_topics = self.compute_subscribed_topics();
            self.transition_to(GroupState::Empty, now_ms);
        } else {
            self.protocol_name = self.select_protocol();
            self.subscribed_topics = self.compute_subscribed_topics();
            self.transition_to(GroupState::CompletingRebalance, now_ms);
        }
        self.pending_sync_members.clear();
    }

    /// The member list the leader's JoinGroup response carries.
    pub(crate) fn joined_members(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(protocol),
            })
            .collect()
    }

    /// A JoinGroup answer for `member_id` describing the current generation.
    pub(crate) fn join_result(
        &self,
        member_id: &str,
        members: Vec<JoinedMember>,
    ) -> JoinGroupResult {
        JoinGroupResult {
            error: None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone().unwrap_or_default(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members,
        }
    }

    /// Kafka's `ClassicGroup.validateOffsetCommit`: whether `member_id`
    /// (static `instance`) of `generation_id` may commit offsets. A
    /// transactional commit (TxnOffsetCommit) needs no member id outside an
    /// empty group, and a rebalance does not refuse it: the transaction
    /// decides.
    pub(crate) fn validate_offset_commit(
        &self,
        member_id: &str,
        instance: Option<&str>,
        generation_id: i32,
        transactional: bool,
    ) -> Result<(), GroupError> {
        if self.is_in(GroupState::Dead) {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if generation_id < 0 && self.is_in(GroupState::Empty) {
            // Outside group management (admin client, assign()-based consumers).
            return Ok(());
        }
        if generation_id >= 0 || !member_id.is_empty() || instance.is_some() {
            self.validate_member(member_id, instance)?;
            if generation_id != self.generation_id {
                return Err(GroupError::IllegalGeneration);
            }
        } else if !transactional && !self.is_in(GroupState::Empty) {
            return Err(GroupError::UnknownMemberId);
        }
        if !transactional && self.is_in(GroupState::CompletingRebalance) {
            return Err(GroupError::RebalanceInProgress);
        }
        Ok(())
    }

    /// Kafka's `ClassicGroup.validateOffsetDelete`: offsets may be deleted
    /// while the group is empty, or while it is active with the consumer
    /// protocol (then only those of topics it does not subscribe to).
    pub(crate) fn validate_offset_delete(&self) -> Result<(), GroupError> {
        match self.state() {
            GroupState::Dead => Err(GroupError::GroupIdNotFound(self.id.clone())),
            GroupState::Stable
            | GroupState::PreparingRebalance
            | GroupState::CompletingRebalance
                if !self.uses_consumer_protocol() =>
            {
                Err(GroupError::NonEmptyGroup)
            }
            _ => Ok(()),
        }
    }

    /// Kafka's `ClassicGroup.validateDeleteGroup`: only an empty group may
    /// be deleted.
    pub(crate) fn validate_delete_group(&self) -> Result<(), GroupError> {
        match self.state() {
            GroupState::Dead => Err(GroupError::GroupIdNotFound(self.id.clone())),
            GroupState::Stable
            | GroupState::PreparingRebalance
            | GroupState::CompletingRebalance => Err(GroupError::NonEmptyGroup),
            GroupState::Empty => Ok(()),
        }
    }

    /// Kafka's `ClassicGroup.offsetExpirationCondition`: the time an
    /// offset's age is measured from, or `None` when offsets never expire in
    /// this state (active consumers whose subscriptions are unknown).
    pub(crate) fn offset_expiration_base(&self, o: &OffsetAndMetadata) -> Option<i64> {
        if self.protocol_type.is_none() {
            Some(o.commit_timestamp_ms)
        } else if self.is_in(GroupState::Empty) {
            Some(self.state_timestamp_ms().unwrap_or(o.commit_timestamp_ms))
        } else if self.uses_consumer_protocol()
            && self.has_subscribed_topics()
            && self.is_in(GroupState::Stable)
        {
            Some(o.commit_timestamp_ms)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, protocols: &[&str]) -> Member {
        Member {
            member_id: id.into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
            rebalance_timeout_ms: 1000,
            session_timeout_ms: 1000,
            protocol_type: "consumer".into(),
            protocols: protocols
                .iter()
                .map(|n| Protocol {
                    name: n.to_string(),
                    metadata: Bytes::new(),
                })
                .collect(),
            assignment: Bytes::new(),
            is_new: false,
            awaiting_join: None,
            awaiting_sync: None,
        }
    }

    #[test]
    fn protocol_selection_takes_the_most_voted_common_protocol() {
        let mut g = ClassicGroup::new("g", 0);
        g.add(member("a", &["roundrobin", "range"]), None);
        g.add(member("b", &["range", "roundrobin"]), None);
        g.add(member("c", &["range", "sticky"]), None);
        // Only "range" is supported by all three.
        assert_eq!(g.select_protocol().as_deref(), Some("range"));
        g.remove("c");
        // a votes roundrobin, b votes range: a tie goes to the first vote.
        assert_eq!(g.select_protocol().as_deref(), Some("roundrobin"));
        g.add(member("d", &["range", "roundrobin"]), None);
        assert_eq!(g.select_protocol().as_deref(), Some("range"));
    }

    #[test]
    fn leader_moves_to_the_first_remaining_member() {
        let mut g = ClassicGroup::new("g", 0);
        g.add(member("a", &["range"]), None);
        g.add(member("b", &["range"]), None);
        g.add(member("c", &["range"]), None);
        assert!(g.is_leader("a"));
        g.remove("a");
        assert!(g.is_leader("b"));
        g.remove("b");
        g.remove("c");
        assert_eq!(g.leader(), None);
    }

    #[test]
    fn non_empty_group_requires_a_common_protocol_and_type() {
        let mut g = ClassicGroup::new("g", 0);
        let p = |n: &str| Protocol {
            name: n.into(),
            metadata: Bytes::new(),
        };
        assert!(g.supports_protocols("consumer", &[p("range")]));
        assert!(!g.supports_protocols("", &[p("range")]));
        assert!(!g.supports_protocols("consumer", &[]));
        g.add(member("a", &["range"]), None);
        g.transition_to(GroupState::PreparingRebalance, 1);
        assert!(g.supports_protocols("consumer", &[p("roundrobin"), p("range")]));
        assert!(!g.supports_protocols("consumer", &[p("roundrobin")]));
        assert!(!g.supports_protocols("connect", &[p("range")]));
    }

    #[test]
    #[should_panic(expected = "cannot move from Empty to Stable")]
    fn invalid_transitions_panic() {
        ClassicGroup::new("g", 0).transition_to(GroupState::Stable, 1);
    }
}
