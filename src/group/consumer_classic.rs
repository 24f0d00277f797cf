//! Classic-protocol members inside a KIP-848 consumer group (Kafka's
//! `classicGroupJoinToConsumerGroup`, `classicGroupSyncToConsumerGroup`,
//! `classicGroupHeartbeatToConsumerGroup`, `classicGroupLeaveToConsumerGroup`).
//!
//! Such a member speaks JoinGroup/SyncGroup/Heartbeat, but the broker
//! assigns: its JoinGroup is translated into a consumer group heartbeat
//! (subscription and owned partitions decoded from its
//! `ConsumerProtocolSubscription`), answered at once with its member epoch
//! as the generation and no leader; SyncGroup hands back its assigned
//! partitions as a `ConsumerProtocolAssignment`; Heartbeat answers
//! REBALANCE_IN_PROGRESS whenever it must rejoin to make progress
//! (a newer group epoch, partitions to revoke, released partitions to take).

use bytes::Bytes;
use tracing::info;
use uuid::Uuid;

use super::classic_api::{
    HeartbeatParams, JoinGroupParams, JoinGroupResult, LeavingMember, SyncGroupParams,
    SyncGroupResult,
};
use super::consumer::heartbeat::{self, Context, HeartbeatRequest};
use super::consumer::member::{ConsumerGroupMember, MemberState};
use super::consumer::records::ClassicMemberMetadata;
use super::consumer::ConsumerGroup;
use super::consumer_membership::{apply_outcome, count_epoch_bumps};
use super::consumer_migration::{by_id, by_name, convert_to_classic, may_downgrade_replacing};
use super::consumer_protocol::{
    decode_subscription, encode_assignment, subscription_version, CONSUMER_PROTOCOL_TYPE,
};
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::{Group, GroupMetadataManager};
use super::timer::{TimerAction, TimerKey};

/// JoinGroup of a classic member to non-empty consumer group `p.group_id`.
pub(crate) fn join(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    p: &JoinGroupParams,
) -> JoinGroupResult {
    let Some(Group::Consumer(mut group)) = groups.take(&p.group_id) else {
        return JoinGroupResult::error(&p.member_id, GroupError::UnknownMemberId);
    };
    let original = group.clone();
    let result = join_inner(groups, env, &mut group, &original, p);
    match result {
        // The group turned classic (and is in the store as such).
        Ok((r, true)) => r,
        Ok((r, false)) => {
            groups.put(Group::Consumer(group));
            r
        }
        Err(e) => {
            groups.put(Group::Consumer(original));
            JoinGroupResult::error(&p.member_id, e)
        }
    }
}

/// The answer, and whether the group became a classic group.
fn join_inner(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group: &mut ConsumerGroup,
    original: &ConsumerGroup,
    p: &JoinGroupParams,
) -> Result<(JoinGroupResult, bool), GroupError> {
    let unknown = p.member_id.is_empty();
    let member_id = if unknown {
        Uuid::new_v4().to_string()
    } else {
        p.member_id.clone()
    };
    if group.member(&member_id).is_none() && group.members().len() >= env.config.consumer.max_size {
        return Err(GroupError::GroupMaxSizeReached);
    }
    if !supports_classic_protocols(group, &p.protocol_type, p) {
        return Err(GroupError::InconsistentGroupProtocol);
    }
    if unknown && p.require_known_member_id && p.group_instance_id.is_none() {
        info!(group = %p.group_id, member = %member_id, "dynamic member with unknown member id joins the consumer group: asking it to rejoin with an id");
        return Ok((
            JoinGroupResult::error(&member_id, GroupError::MemberIdRequired),
            false,
        ));
    }
    let first = p
        .protocols
        .first()
        .ok_or(GroupError::InconsistentGroupProtocol)?;
    let sub = decode_subscription(&first.metadata).ok_or(GroupError::InconsistentGroupProtocol)?;
    let owned = by_id(&sub.owned_partitions, &groups.topics);
    let req = HeartbeatRequest {
        group_id: p.group_id.clone(),
        member_id: member_id.clone(),
        member_epoch: 0,
        instance_id: p.group_instance_id.clone(),
        rack_id: sub.rack_id.clone(),
        rebalance_timeout_ms: p.rebalance_timeout_ms,
        subscribed_topic_names: Some(sub.topics.clone()),
        subscribed_topic_regex: None,
        describable_topics: None,
        server_assignor: None,
        topic_partitions: Some(
            owned
                .into_iter()
                .map(|(t, ps)| (t, ps.into_iter().collect()))
                .collect(),
        ),
        client_id: p.client_id.clone(),
        client_host: p.client_host.clone(),
        classic_unknown_member: unknown,
        api_version: heartbeat::CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION,
        classic: Some(ClassicMemberMetadata {
            session_timeout_ms: p.session_timeout_ms,
            supported_protocols: p
                .protocols
                .iter()
                .map(|x| (x.name.clone(), x.metadata.clone()))
                .collect(),
        }),
    };
    let ctx = Context {
        config: &env.config.consumer,
        topics: &groups.topics,
        now_ms: env.now,
    };
    // The static member this join replaces (or rejoins as): if it was the
    // last consumer-protocol member, the group turns classic (Kafka's
    // `validateOnlineDowngradeWithReplacedMember`).
    let replaced = p
        .group_instance_id
        .as_deref()
        .and_then(|i| group.static_member(i))
        .map(|m| {
            (
                m.member_id.clone(),
                m.subscribed_topic_names.clone(),
                m.subscribed_topic_regex.is_some(),
            )
        });
    let downgrade = replaced
        .as_ref()
        .is_some_and(|(r, _, _)| may_downgrade_replacing(group, r, env));
    let (response, out) = heartbeat::heartbeat(group, &req, ctx, &|| Uuid::new_v4().to_string())?;
    let result = JoinGroupResult {
        error: None,
        generation_id: response.member_epoch,
        protocol_type: Some(CONSUMER_PROTOCOL_TYPE.to_string()),
        protocol_name: Some(first.name.clone()),
        leader: String::new(),
        skip_assignment: false,
        member_id: response.member_id.clone(),
        members: Vec::new(),
    };
    if let (true, Some((_, names, had_regex))) = (downgrade, replaced) {
        // The records of this join are not written: the group's
        // tombstones and the classic group's record replace them. A
        // changed subscription rebalances the classic group.
        let changed = had_regex || names != sub.topics.iter().cloned().collect();
        convert_to_classic(groups, env, group, original, None, changed)?;
        info!(group = %p.group_id, member = %response.member_id, rebalance = changed, "classic static member replaced the last consumer-protocol member: the group is classic again");
        return Ok((result, true));
    }
    let bumps = count_epoch_bumps(&out.records);
    apply_outcome(env, &p.group_id, out)?;
    groups.consumer_rebalances += bumps;
    // Kafka's join and sync deadlines of a classic member: the rejoin it
    // was asked for happened; SyncGroup must follow within the rebalance
    // timeout.
    env.timers
        .cancel(&TimerKey::classic_join(&p.group_id, &response.member_id));
    env.schedule(
        TimerKey::classic_sync(&p.group_id, &response.member_id),
        i64::from(p.rebalance_timeout_ms),
        TimerAction::FenceClassic,
    );
    info!(group = %p.group_id, member = %response.member_id, epoch = response.member_epoch, "classic member joined the consumer group");
    Ok((result, false))
}

/// Asks classic member `member` of consumer group `group` to rejoin within
/// its rebalance timeout (Kafka's `scheduleConsumerGroupJoinTimeoutIfAbsent`:
/// repeated REBALANCE_IN_PROGRESS answers do not move the deadline).
fn rejoin_deadline(env: &mut Env<'_>, group: &str, m: &ConsumerGroupMember) {
    env.schedule_if_absent(
        TimerKey::classic_join(group, &m.member_id),
        i64::from(m.rebalance_timeout_ms),
        TimerAction::FenceClassic,
    );
}

/// Kafka's `ConsumerGroup.supportsClassicProtocols`: type "consumer", and
/// one protocol every classic member supports.
fn supports_classic_protocols(g: &ConsumerGroup, protocol_type: &str, p: &JoinGroupParams) -> bool {
    if protocol_type != CONSUMER_PROTOCOL_TYPE || p.protocols.is_empty() {
        return false;
    }
    p.protocols.iter().any(|x| {
        g.members()
            .values()
            .filter_map(|m| m.classic.as_ref())
            .all(|c| c.supported_protocols.iter().any(|(n, _)| *n == x.name))
    })
}

/// Kafka's `validateConsumerGroupMember` plus the classic-protocol check.
fn classic_member<'a>(
    g: &'a ConsumerGroup,
    member_id: &str,
    instance_id: Option<&str>,
) -> Result<&'a ConsumerGroupMember, GroupError> {
    let m = match instance_id {
        None => g.member(member_id).ok_or(GroupError::UnknownMemberId)?,
        Some(i) => {
            let m = g.static_member(i).ok_or(GroupError::UnknownMemberId)?;
            if m.member_id != member_id {
                return Err(GroupError::FencedInstanceId);
            }
            m
        }
    };
    if !m.uses_classic_protocol() {
        return Err(GroupError::UnknownMemberId);
    }
    Ok(m)
}

fn protocol_name(m: &ConsumerGroupMember) -> Option<&(String, Bytes)> {
    m.classic.as_ref()?.supported_protocols.first()
}

/// SyncGroup of a classic member of consumer group `p.group_id`.
pub(crate) fn sync(
    groups: &GroupMetadataManager,
    env: &mut Env<'_>,
    p: &SyncGroupParams,
) -> SyncGroupResult {
    match sync_inner(groups, env, p) {
        Ok(r) => r,
        Err(e) => SyncGroupResult::error(e),
    }
}

fn sync_inner(
    groups: &GroupMetadataManager,
    env: &mut Env<'_>,
    p: &SyncGroupParams,
) -> Result<SyncGroupResult, GroupError> {
    let g = groups
        .consumer(&p.group_id)
        .ok_or(GroupError::UnknownMemberId)?;
    if g.members().is_empty() {
        return Err(GroupError::UnknownMemberId);
    }
    let m = classic_member(g, &p.member_id, p.group_instance_id.as_deref())?;
    if p.generation_id != m.member_epoch {
        return Err(GroupError::IllegalGeneration);
    }
    let (name, metadata) = protocol_name(m).ok_or(GroupError::UnknownMemberId)?;
    if p.protocol_type
        .as_deref()
        .is_some_and(|t| t != CONSUMER_PROTOCOL_TYPE)
        || p.protocol_name.as_deref().is_some_and(|n| n != name)
    {
        return Err(GroupError::InconsistentGroupProtocol);
    }
    if g.group_epoch() > m.member_epoch && m.state != MemberState::UnrevokedPartitions {
        rejoin_deadline(env, &p.group_id, m);
        return Err(GroupError::RebalanceInProgress);
    }
    env.timers
        .cancel(&TimerKey::classic_sync(&p.group_id, &m.member_id));
    env.schedule_heartbeat(
        &p.group_id,
        &m.member_id,
        i64::from(heartbeat::session_timeout_ms(m, &env.config.consumer)),
    );
    let assignment = encode_assignment(
        subscription_version(metadata),
        &by_name(&m.assigned, &groups.topics),
    );
    Ok(SyncGroupResult {
        error: None,
        protocol_type: Some(CONSUMER_PROTOCOL_TYPE.to_string()),
        protocol_name: Some(name.clone()),
        assignment: Bytes::from(assignment),
    })
}

/// Heartbeat of a classic member of consumer group `p.group_id`.
pub(crate) fn heartbeat(
    groups: &GroupMetadataManager,
    env: &mut Env<'_>,
    p: &HeartbeatParams,
) -> Result<(), GroupError> {
    let g = groups
        .consumer(&p.group_id)
        .ok_or(GroupError::UnknownMemberId)?;
    let m = classic_member(g, &p.member_id, p.group_instance_id.as_deref())?;
    if p.generation_id != m.member_epoch {
        return Err(GroupError::IllegalGeneration);
    }
    env.schedule_heartbeat(
        &p.group_id,
        &m.member_id,
        i64::from(heartbeat::session_timeout_ms(m, &env.config.consumer)),
    );
    // Rejoin when that makes progress: a newer group epoch, partitions to
    // revoke, or partitions it waited for that are free now.
    if m.member_epoch < g.group_epoch()
        || m.state == MemberState::UnrevokedPartitions
        || (m.state == MemberState::UnreleasedPartitions && !g.waiting_on_unreleased_partition(m))
    {
        rejoin_deadline(env, &p.group_id, m);
        return Err(GroupError::RebalanceInProgress);
    }
    Ok(())
}

/// LeaveGroup of classic members of consumer group `group_id`: a
/// per-member outcome (`None` = left).
pub(crate) fn leave(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group_id: &str,
    members: &[LeavingMember],
) -> Vec<Option<GroupError>> {
    let Some(g) = groups.consumer(group_id) else {
        return vec![Some(GroupError::UnknownMemberId); members.len()];
    };
    let mut work = g.clone();
    let mut outcomes = Vec::with_capacity(members.len());
    let mut leaving = Vec::new();
    for l in members {
        let found = match l.group_instance_id.as_deref() {
            None => work.member(&l.member_id).ok_or(GroupError::UnknownMemberId),
            Some(i) => match work.static_member(i) {
                None => Err(GroupError::UnknownMemberId),
                Some(m) if !l.member_id.is_empty() && m.member_id != l.member_id => {
                    Err(GroupError::FencedInstanceId)
                }
                Some(m) => Ok(m),
            },
        }
        .and_then(|m| {
            if m.uses_classic_protocol() {
                Ok(m.member_id.clone())
            } else {
                Err(GroupError::UnknownMemberId)
            }
        });
        match found {
            Ok(id) => {
                info!(group = %group_id, member = %id, reason = l.reason.as_deref().unwrap_or("not provided"), "classic member left the consumer group");
                leaving.push(id);
                outcomes.push(None);
            }
            Err(e) => outcomes.push(Some(e)),
        }
    }
    if leaving.is_empty() {
        return outcomes;
    }
    let ctx = Context {
        config: &env.config.consumer,
        topics: &groups.topics,
        now_ms: env.now,
    };
    let out = heartbeat::fence(&mut work, &leaving, ctx);
    let bumps = count_epoch_bumps(&out.records);
    if let Err(e) = apply_outcome(env, group_id, out) {
        return outcomes
            .into_iter()
            .map(|o| o.or_else(|| Some(e.clone())))
            .collect();
    }
    groups.consumer_rebalances += bumps;
    if let Some(g) = groups.consumer_mut(group_id) {
        *g = work;
    }
    outcomes
}
