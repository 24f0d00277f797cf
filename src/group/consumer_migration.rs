//! Online migration between the two group types (KIP-848, Kafka's
//! `GroupMetadataManager.validateOnlineUpgrade` / `convertToConsumerGroup`
//! and `validateOnlineDowngrade*` / `convertToClassicGroup`), as
//! `group.consumer.migration.policy` allows:
//!
//! - upgrade: a consumer-protocol member joining a non-empty classic group
//!   of protocol type "consumer" turns it into a consumer group; the
//!   classic members become classic-protocol members of it, at the classic
//!   generation, holding what their last SyncGroup gave them;
//! - downgrade: when the last consumer-protocol member leaves (or is
//!   fenced) and classic members remain, the group becomes a classic group
//!   again with those members, and rebalances.
//!
//! Each conversion is records in `__consumer_offsets` (the old group's
//! tombstones, then the new group's records), so a restart replays to the
//! converted group.

use std::collections::BTreeSet;

use bytes::Bytes;
use tracing::info;
use uuid::Uuid;

use super::classic_api::{JoinGroupResult, Protocol, SyncGroupResult};
use super::classic_group::ClassicGroup;
use super::classic_rebalance::prepare_rebalance;
use super::consumer::assignment::{self, Assignment};
use super::consumer::group::{current_assignment_of, metadata_of};
use super::consumer::heartbeat::{self, TimerOp};
use super::consumer::member::{ConsumerGroupMember, MemberState};
use super::consumer::records::{ClassicMemberMetadata, ConsumerGroupRecord};
use super::consumer::topics::TopicsImage;
use super::consumer::{ConsumerGroup, ConsumerGroupError};
use super::consumer_protocol::{
    decode_assignment, decode_subscription, encode_assignment, subscription_version,
    CONSUMER_PROTOCOL_TYPE,
};
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::{wrap_records, Group, GroupMetadataManager};
use super::offsets::{CoordinatorRecord, GroupMetadataValue, MemberMetadata};

/// Kafka's `validateOnlineUpgrade`: may this non-empty classic group become
/// a consumer group?
pub(crate) fn may_upgrade(c: &ClassicGroup, env: &Env<'_>) -> bool {
    let consumer = &env.config.consumer;
    if !consumer.migration_policy.upgrade_enabled() {
        info!(group = %c.id, "cannot upgrade classic group to consumer group: the online upgrade is disabled");
        false
    } else if !c.uses_consumer_protocol() {
        info!(group = %c.id, "cannot upgrade classic group to consumer group: it does not use the consumer embedded protocol");
        false
    } else if c.num_members() > consumer.max_size {
        info!(group = %c.id, "cannot upgrade classic group to consumer group: it has more members than group.consumer.max.size");
        false
    } else {
        true
    }
}

/// Kafka's `convertToConsumerGroup`: the consumer group a classic group
/// becomes, the records that make it so (after the classic group's
/// tombstone, which the caller writes), and the members' sessions. Parked
/// JoinGroup/SyncGroup requests are answered REBALANCE_IN_PROGRESS, so
/// their members rejoin the new group.
pub(crate) fn upgrade(
    c: &mut ClassicGroup,
    topics: &TopicsImage,
    now_ms: i64,
) -> Result<(ConsumerGroup, Vec<ConsumerGroupRecord>, Vec<TimerOp>), GroupError> {
    let malformed = || {
        GroupError::Consumer(ConsumerGroupError::GroupIdNotFound(format!(
            "Cannot upgrade the classic group {} to consumer group because the embedded consumer protocol is malformed.",
            c.id
        )))
    };
    let generation = c.generation_id;
    let mut members = Vec::new();
    for m in c.members() {
        let metadata = match &c.protocol_name {
            Some(p) => m.metadata(p),
            None => m
                .protocols
                .first()
                .map(|p| p.metadata.clone())
                .unwrap_or_default(),
        };
        let sub = decode_subscription(&metadata).ok_or_else(malformed)?;
        let assigned = decode_assignment(&m.assignment).ok_or_else(malformed)?;
        let mut cm = ConsumerGroupMember::new(&m.member_id);
        cm.instance_id = m.group_instance_id.clone();
        cm.rack_id = sub.rack_id.clone();
        cm.client_id = m.client_id.clone();
        cm.client_host = m.client_host.clone();
        cm.subscribed_topic_names = sub.topics.iter().cloned().collect();
        cm.rebalance_timeout_ms = m.rebalance_timeout_ms;
        cm.member_epoch = generation;
        cm.previous_member_epoch = generation;
        cm.state = MemberState::Stable;
        cm.assigned = by_id(&assigned, topics);
        cm.classic = Some(ClassicMemberMetadata {
            session_timeout_ms: m.session_timeout_ms,
            supported_protocols: m
                .protocols
                .iter()
                .map(|p| (p.name.clone(), p.metadata.clone()))
                .collect(),
        });
        members.push(cm);
    }

    let mut records = Vec::new();
    for m in &members {
        records.push(ConsumerGroupRecord::MemberMetadata(
            m.member_id.clone(),
            Some(metadata_of(m)),
        ));
    }
    records.push(ConsumerGroupRecord::GroupEpoch(Some((generation, 0))));
    for m in &members {
        records.push(ConsumerGroupRecord::TargetAssignment(
            m.member_id.clone(),
            Some(m.assigned.clone()),
        ));
    }
    records.push(ConsumerGroupRecord::TargetAssignmentEpoch(Some(generation)));
    for m in &members {
        records.push(ConsumerGroupRecord::CurrentAssignment(
            m.member_id.clone(),
            Some(current_assignment_of(m)),
        ));
    }
    let mut group = ConsumerGroup::new(&c.id);
    for r in &records {
        group.apply(r);
    }
    for id in c.member_ids() {
        c.complete_join(
            &id,
            JoinGroupResult::error(&id, GroupError::RebalanceInProgress),
        );
        c.complete_sync(&id, SyncGroupResult::error(GroupError::RebalanceInProgress));
    }
    let timers = members
        .iter()
        .map(|m| TimerOp::Session {
            member_id: m.member_id.clone(),
            deadline_ms: now_ms + i64::from(m.classic.as_ref().map_or(0, |c| c.session_timeout_ms)),
        })
        .collect();
    info!(group = %c.id, members = members.len(), generation, "upgraded classic group to consumer group");
    Ok((group, records, timers))
}

/// Kafka's `validateOnlineDowngradeWithFencedMember`: does removing
/// `leaving` from `g` turn it into a classic group?
pub(crate) fn may_downgrade(g: &ConsumerGroup, leaving: &str, env: &Env<'_>) -> bool {
    if g.member(leaving).is_none() || !g.all_classic_except(&[leaving.to_string()]) {
        return false;
    }
    if g.members().len() <= 1 {
        return false;
    }
    if !env.config.consumer.migration_policy.downgrade_enabled() {
        info!(
            group = g.group_id(),
            "cannot downgrade consumer group to classic group: the online downgrade is disabled"
        );
        return false;
    }
    if g.members().len() - 1 > env.config.max_size {
        info!(group = g.group_id(), "cannot downgrade consumer group to classic group: it has more members than group.max.size");
        return false;
    }
    true
}

/// Kafka's `validateOnlineDowngradeWithReplacedMember`: does a classic
/// static member replacing `replaced` turn `g` into a classic group (it was
/// the last consumer-protocol member)?
pub(crate) fn may_downgrade_replacing(g: &ConsumerGroup, replaced: &str, env: &Env<'_>) -> bool {
    if !g.all_classic_except(&[replaced.to_string()]) {
        return false;
    }
    if !env.config.consumer.migration_policy.downgrade_enabled() {
        info!(
            group = g.group_id(),
            "cannot downgrade consumer group to classic group: the online downgrade is disabled"
        );
        return false;
    }
    if g.members().len() > env.config.max_size {
        info!(group = g.group_id(), "cannot downgrade consumer group to classic group: it has more members than group.max.size");
        return false;
    }
    true
}

/// Kafka's `convertToClassicGroup` for a member leaving or fenced:
/// replaces consumer group `g` (with `leaving` gone) by a classic group of
/// its other members, each holding its target assignment, and starts a
/// rebalance so they rejoin.
pub(crate) fn downgrade(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    g: &ConsumerGroup,
    leaving: Option<&str>,
) -> Result<(), GroupError> {
    convert_to_classic(groups, env, g, g, leaving, true)
}

/// Kafka's `convertToClassicGroup`: replaces consumer group `g` (with
/// `leaving` gone) by a classic group of its other members, each holding
/// its target assignment; `logged` is the group as `__consumer_offsets`
/// has it (tombstoned here). With `rebalance` the classic group starts a
/// rebalance so its members rejoin; without, it is stable at the group
/// epoch (a static member replaced with the same subscription).
pub(crate) fn convert_to_classic(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    g: &ConsumerGroup,
    logged: &ConsumerGroup,
    leaving: Option<&str>,
    rebalance: bool,
) -> Result<(), GroupError> {
    let id = g.group_id().to_string();
    let remaining: Vec<&ConsumerGroupMember> = g
        .members()
        .values()
        .filter(|m| Some(m.member_id.as_str()) != leaving)
        .collect();
    let protocols: Vec<Vec<Protocol>> = remaining
        .iter()
        .map(|m| {
            m.classic
                .as_ref()
                .map(|c| {
                    c.supported_protocols
                        .iter()
                        .map(|(name, metadata)| Protocol {
                            name: name.clone(),
                            metadata: metadata.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let protocol = select_protocol(&protocols).ok_or_else(|| {
        GroupError::Consumer(ConsumerGroupError::GroupIdNotFound(format!(
            "Cannot downgrade the consumer group {id}: its members share no protocol."
        )))
    })?;
    let members: Vec<MemberMetadata> = remaining
        .iter()
        .zip(&protocols)
        .map(|(m, ps)| {
            let subscription = ps
                .iter()
                .find(|p| p.name == protocol)
                .map(|p| p.metadata.clone())
                .unwrap_or_default();
            let target = by_name(&g.target_of(&m.member_id), &groups.topics);
            MemberMetadata {
                member_id: m.member_id.clone(),
                group_instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                rebalance_timeout_ms: m.rebalance_timeout_ms,
                session_timeout_ms: heartbeat::session_timeout_ms(m, &env.config.consumer),
                assignment: Bytes::from(encode_assignment(
                    subscription_version(&subscription),
                    &target,
                )),
                subscription,
            }
        })
        .collect();
    let value = GroupMetadataValue {
        protocol_type: CONSUMER_PROTOCOL_TYPE.to_string(),
        generation: g.group_epoch(),
        protocol: Some(protocol),
        leader: remaining.first().map(|m| m.member_id.clone()),
        current_state_timestamp_ms: env.now,
        members,
    };
    let mut records = wrap_records(&id, heartbeat::tombstones(logged));
    records.push(CoordinatorRecord::GroupMetadata {
        group: id.clone(),
        value: Some(value.clone()),
    });
    env.append(&records)?;

    let mut classic = ClassicGroup::from_record(&id, &value, env.now);
    for (m, ps) in remaining.iter().zip(protocols) {
        if let Some(cm) = classic.member_mut(&m.member_id) {
            cm.protocols = ps;
        }
    }
    env.timers.cancel_group(&id);
    for m in classic.members() {
        env.schedule_heartbeat(&id, &m.member_id, i64::from(m.session_timeout_ms));
    }
    info!(group = %id, members = classic.num_members(), "downgraded consumer group to classic group");
    if rebalance {
        prepare_rebalance(
            &mut classic,
            env,
            "downgrade of the group from consumer to classic",
        );
    }
    groups.put(Group::Classic(classic));
    Ok(())
}

/// Kafka's `selectProtocol` over members' protocol lists: among the
/// protocols all support, each member votes for its most preferred; most
/// votes wins (ties: the first voted for).
fn select_protocol(members: &[Vec<Protocol>]) -> Option<String> {
    let first = members.first()?;
    let candidates: Vec<&str> = first
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| members.iter().all(|ps| ps.iter().any(|p| p.name == *n)))
        .collect();
    let mut votes: Vec<(&str, usize)> = Vec::new();
    for ps in members {
        if let Some(v) = ps
            .iter()
            .map(|p| p.name.as_str())
            .find(|n| candidates.contains(n))
        {
            match votes.iter_mut().find(|(n, _)| *n == v) {
                Some((_, c)) => *c += 1,
                None => votes.push((v, 1)),
            }
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (n, c) in votes {
        if best.is_none_or(|(_, b)| c > b) {
            best = Some((n, c));
        }
    }
    best.map(|(n, _)| n.to_string())
}

/// Partitions by topic name as partitions by topic id (unknown topics are
/// left out, as Kafka's `toTopicPartitionMap` does).
pub(crate) fn by_id(parts: &[(String, Vec<i32>)], topics: &TopicsImage) -> Assignment {
    assignment::normalize(
        parts
            .iter()
            .filter_map(|(name, ps)| {
                topics
                    .topic(name)
                    .map(|t| (t.id, ps.iter().copied().collect::<BTreeSet<i32>>()))
            })
            .collect(),
    )
}

/// Partitions by topic id as partitions by topic name, sorted (topics no
/// longer known are left out).
pub(crate) fn by_name(a: &Assignment, topics: &TopicsImage) -> Vec<(String, Vec<i32>)> {
    let mut out: Vec<(String, Vec<i32>)> = a
        .iter()
        .filter_map(|(t, ps): (&Uuid, _)| {
            topics
                .name(t)
                .map(|n| (n.to_string(), ps.iter().copied().collect()))
        })
        .collect();
    out.sort();
    out
}
