//! The consumer group protocol (Kafka's `GroupMetadataManager`
//! `consumerGroupHeartbeat` and friends) over one [`ConsumerGroup`]:
//!
//! 1. the member is created or updated; a changed subscription (names,
//!    pattern, or the metadata of the subscribed topics) bumps the group
//!    epoch;
//! 2. if the group epoch is ahead of the target assignment, the assignor
//!    computes a new target;
//! 3. the member takes one reconciliation step towards its target
//!    ([`reconcile`]).
//!
//! Each decision is a record, applied to the group at once and returned so
//! the caller appends it to `__consumer_offsets`; timers (sessions and
//! revocation deadlines) are returned as [`TimerOp`]s.

use std::collections::{BTreeMap, BTreeSet};

use tracing::{debug, info};
use uuid::Uuid;

use super::assignment::{self, Assignment};
use super::assignor::{Assignor, MemberSpec};
use super::group::{current_assignment_of, metadata_of, ConsumerGroup};
use super::member::{
    reconcile, ConsumerGroupMember, MemberState, LEAVE_GROUP_MEMBER_EPOCH,
    LEAVE_GROUP_STATIC_MEMBER_EPOCH,
};
use super::records::{ClassicMemberMetadata, ConsumerGroupRecord};
use super::subscribe::{member_of, update_regexes};
use super::topics::{compile_regex, TopicsImage};
use super::{ConsumerGroupConfig, ConsumerGroupError};

type Result<T> = std::result::Result<T, ConsumerGroupError>;

/// From this ConsumerGroupHeartbeat version on, clients generate their
/// member id (KIP-1082).
pub const CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION: i16 = 1;

/// A ConsumerGroupHeartbeat request (protocol-free).
#[derive(Debug, Clone, Default)]
pub struct HeartbeatRequest {
    pub group_id: String,
    pub member_id: String,
    pub member_epoch: i32,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    /// -1: unchanged.
    pub rebalance_timeout_ms: i32,
    /// `None`: unchanged.
    pub subscribed_topic_names: Option<Vec<String>>,
    /// `None`: unchanged.
    pub subscribed_topic_regex: Option<String>,
    /// `None`: unchanged.
    pub server_assignor: Option<String>,
    /// What the member owns; `None`: unchanged since the last heartbeat.
    pub topic_partitions: Option<Vec<(Uuid, Vec<i32>)>>,
    /// From the request header.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// The request's version.
    pub api_version: i16,
    /// A classic member's JoinGroup, translated (online migration): the
    /// member is created or updated without an epoch check and keeps this
    /// metadata; its session is its own `session.timeout.ms`.
    pub classic: Option<ClassicMemberMetadata>,
    /// A classic JoinGroup without a member id (Kafka's `UNKNOWN_MEMBER_ID`):
    /// only such a join creates a static member or replaces one.
    pub classic_unknown_member: bool,
    /// The topics the requester may DESCRIBE when an authorizer is
    /// configured (`None`: every topic). Regexes this heartbeat resolves
    /// match only these, as Kafka filters them by the member's principal.
    pub describable_topics: Option<BTreeSet<String>>,
}

/// A ConsumerGroupHeartbeat answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatResponse {
    pub member_id: String,
    pub member_epoch: i32,
    pub heartbeat_interval_ms: i32,
    /// Sent when the member joins, sends a full request, or its assignment
    /// changed.
    pub assignment: Option<Assignment>,
}

/// A deadline the caller keeps for a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerOp {
    /// (Re)arm the session: fence the member at `deadline_ms`.
    Session { member_id: String, deadline_ms: i64 },
    /// Fence the member at `deadline_ms` if it is still at `member_epoch`
    /// (it did not revoke in time).
    Rebalance {
        member_id: String,
        member_epoch: i32,
        deadline_ms: i64,
    },
    /// Drop the revocation deadline.
    CancelRebalance { member_id: String },
    /// Drop every deadline of the member.
    CancelAll { member_id: String },
}

/// What an operation did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Records already applied to the group, to append in order.
    pub records: Vec<ConsumerGroupRecord>,
    /// Deadlines to set or drop.
    pub timers: Vec<TimerOp>,
}

impl Outcome {
    pub(super) fn emit(&mut self, group: &mut ConsumerGroup, rec: ConsumerGroupRecord) {
        group.apply(&rec);
        self.records.push(rec);
    }
}

/// What the operations need besides the group.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub config: &'a ConsumerGroupConfig,
    pub topics: &'a TopicsImage,
    pub now_ms: i64,
}

/// The checks Kafka makes before looking at any group
/// (`throwIfConsumerGroupHeartbeatRequestIsInvalid`).
pub fn validate(req: &HeartbeatRequest, config: &ConsumerGroupConfig) -> Result<()> {
    let invalid = |m: &str| Err(ConsumerGroupError::InvalidRequest(m.to_string()));
    if (req.api_version >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION
        || req.member_epoch > 0
        || req.member_epoch == LEAVE_GROUP_MEMBER_EPOCH)
        && req.member_id.is_empty()
    {
        return invalid("MemberId can't be empty.");
    }
    if req.group_id.is_empty() {
        return invalid("GroupId can't be empty.");
    }
    if req.instance_id.as_deref() == Some("") {
        return invalid("InstanceId can't be empty.");
    }
    if req.rack_id.as_deref() == Some("") {
        return invalid("RackId can't be empty.");
    }
    if req.member_epoch == 0 {
        if req.rebalance_timeout_ms == -1 {
            return invalid("RebalanceTimeoutMs must be provided in first request.");
        }
        if req
            .topic_partitions
            .as_ref()
            .is_none_or(|tp| !tp.is_empty())
        {
            return invalid("TopicPartitions must be empty when (re-)joining.");
        }
        if req.subscribed_topic_names.is_none() && req.subscribed_topic_regex.is_none() {
            return invalid(
                "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
            );
        }
    } else if req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        if req.instance_id.is_none() {
            return invalid("InstanceId can't be null.");
        }
    } else if req.member_epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        return invalid("MemberEpoch is invalid.");
    }
    if let Some(a) = &req.server_assignor {
        if !config.assignors.iter().any(|x| x == a) {
            return Err(ConsumerGroupError::UnsupportedAssignor(format!(
                "ServerAssignor {a} is not supported. Supported assignors: {}.",
                config.assignors.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether the request leaves the group (epoch -1 or -2).
pub fn is_leave(req: &HeartbeatRequest) -> bool {
    req.member_epoch == LEAVE_GROUP_MEMBER_EPOCH
        || req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH
}

/// A regular heartbeat (epoch >= 0) to `group`, which the caller created
/// if the member joins (epoch 0) and the group did not exist. `new_member_id`
/// makes an id for a v0 member that sent none.
pub fn heartbeat(
    group: &mut ConsumerGroup,
    req: &HeartbeatRequest,
    ctx: Context<'_>,
    new_member_id: &dyn Fn() -> String,
) -> Result<(HeartbeatResponse, Outcome)> {
    let mut out = Outcome::default();
    let classic_join = req.classic.is_some();
    let joining = req.member_epoch == 0 || classic_join;
    let member_id = if req.member_id.is_empty() {
        new_member_id()
    } else {
        req.member_id.clone()
    };
    if group.members().len() >= ctx.config.max_size && group.member(&member_id).is_none() {
        return Err(ConsumerGroupError::GroupMaxSizeReached(format!(
            "The consumer group has reached its maximum capacity of {} members.",
            ctx.config.max_size
        )));
    }
    let owned: Option<Assignment> = req
        .topic_partitions
        .as_ref()
        .map(|tp| assignment::from_pairs(tp.iter().map(|(t, ps)| (*t, ps.iter().copied()))));
    // A new pattern must compile before anything changes.
    if let Some(re) = req
        .subscribed_topic_regex
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        if !group.regexes().contains_key(re) {
            compile_regex(re)
                .map_err(|e| ConsumerGroupError::InvalidRegularExpression(e.to_string()))?;
        }
    }

    let (member, replaced) = member_of(group, req, &member_id, owned.as_ref())?;

    if let Some(old) = &replaced {
        // The new incarnation takes the old one's place, target included.
        let target = group.target_of(&old.member_id);
        remove_member(&mut out, group, &old.member_id);
        out.emit(
            group,
            ConsumerGroupRecord::MemberMetadata(
                member.member_id.clone(),
                Some(metadata_of(&member)),
            ),
        );
        out.emit(
            group,
            ConsumerGroupRecord::TargetAssignment(member.member_id.clone(), Some(target)),
        );
        out.emit(
            group,
            ConsumerGroupRecord::CurrentAssignment(
                member.member_id.clone(),
                Some(current_assignment_of(&member)),
            ),
        );
        out.timers.push(TimerOp::CancelAll {
            member_id: old.member_id.clone(),
        });
    }

    // 1. The member's new metadata.
    let mut updated = member.clone();
    if let Some(i) = &req.instance_id {
        updated.instance_id = Some(i.clone());
    }
    if let Some(r) = &req.rack_id {
        updated.rack_id = Some(r.clone());
    }
    if req.rebalance_timeout_ms != -1 {
        updated.rebalance_timeout_ms = req.rebalance_timeout_ms;
    }
    if let Some(a) = &req.server_assignor {
        updated.server_assignor = Some(a.clone());
    }
    if let Some(names) = &req.subscribed_topic_names {
        updated.subscribed_topic_names = names.iter().cloned().collect();
    }
    if let Some(re) = &req.subscribed_topic_regex {
        updated.subscribed_topic_regex = (!re.is_empty()).then(|| re.clone());
    }
    updated.client_id = req.client_id.clone();
    updated.client_host = req.client_host.clone();
    if classic_join {
        updated.classic = req.classic.clone();
        updated.server_assignor = None;
        // Classic members subscribe by names only.
        updated.subscribed_topic_regex = None;
    } else {
        // A consumer-protocol member that replaced a classic one.
        updated.classic = None;
    }

    let mut bump = group.group_epoch() == 0;
    let is_new = group.member(&updated.member_id).is_none();
    if is_new || !updated.same_metadata(&member) {
        out.emit(
            group,
            ConsumerGroupRecord::MemberMetadata(
                updated.member_id.clone(),
                Some(metadata_of(&updated)),
            ),
        );
        if updated.subscribed_topic_names != member.subscribed_topic_names {
            debug!(group = group.group_id(), member = %updated.member_id, "subscribed topics changed");
            bump = true;
        }
    }
    if is_new {
        // A member appears in the group with its assignment state at once
        // (epoch 0, nothing held), as replay will see it.
        out.emit(
            group,
            ConsumerGroupRecord::CurrentAssignment(
                updated.member_id.clone(),
                Some(current_assignment_of(&updated)),
            ),
        );
    }
    bump |= update_regexes(&mut out, group, (&member, &updated), req, ctx);

    // The subscribed topics' metadata (new partitions, topics created or
    // deleted) is checked on every heartbeat.
    let names = group.subscribed_topic_names();
    let hash = ctx.topics.metadata_hash(names.iter().map(String::as_str));
    if hash != group.metadata_hash() {
        bump = true;
    }
    if bump {
        let epoch = group.group_epoch() + 1;
        info!(group = group.group_id(), epoch, "bumped group epoch");
        out.emit(group, ConsumerGroupRecord::GroupEpoch(Some((epoch, hash))));
    }

    // 2. A new target assignment.
    if group.group_epoch() > group.assignment_epoch() {
        update_target_assignment(&mut out, group, ctx);
    }

    // 3. One reconciliation step.
    let current = group
        .member(&updated.member_id)
        .cloned()
        .unwrap_or_else(|| updated.clone());
    let epoch = group.assignment_epoch();
    let mut fin = current.clone();
    if !current.is_reconciled_to(epoch) {
        let target = group.target_of(&current.member_id);
        let next = reconcile(&current, epoch, &target, &|t, p| group.partition_epoch(t, p), owned.as_ref())
            .map_err(|_| {
                ConsumerGroupError::FencedMemberEpoch(
                    "The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin."
                        .to_string(),
                )
            })?;
        if !next.same_assignment(&current) {
            debug!(
                group = group.group_id(),
                member = %next.member_id,
                epoch = next.member_epoch,
                state = next.state.name(),
                "member assignment state changed"
            );
            out.emit(
                group,
                ConsumerGroupRecord::CurrentAssignment(
                    next.member_id.clone(),
                    Some(current_assignment_of(&next)),
                ),
            );
            // Classic-protocol members have join and sync deadlines
            // instead (set by the coordinator's JoinGroup/SyncGroup side).
            if next.uses_classic_protocol() {
                // Nothing here.
            } else if next.state == MemberState::UnrevokedPartitions {
                out.timers.push(TimerOp::Rebalance {
                    member_id: next.member_id.clone(),
                    member_epoch: next.member_epoch,
                    deadline_ms: ctx.now_ms + i64::from(next.rebalance_timeout_ms.max(0)),
                });
            } else {
                out.timers.push(TimerOp::CancelRebalance {
                    member_id: next.member_id.clone(),
                });
            }
        }
        fin = next;
    }
    out.timers.push(TimerOp::Session {
        member_id: fin.member_id.clone(),
        deadline_ms: ctx.now_ms + i64::from(session_timeout_ms(&fin, ctx.config)),
    });

    let full = req.rebalance_timeout_ms != -1
        && (req.subscribed_topic_names.is_some() || req.subscribed_topic_regex.is_some())
        && req.topic_partitions.is_some();
    let assignment =
        (joining || full || fin.assigned != member.assigned).then(|| fin.assigned.clone());
    Ok((
        HeartbeatResponse {
            member_id: fin.member_id.clone(),
            member_epoch: fin.member_epoch,
            heartbeat_interval_ms: ctx.config.heartbeat_interval_ms,
            assignment,
        },
        out,
    ))
}

/// The session timeout of `m`: its own for a classic-protocol member, the
/// group's otherwise.
pub fn session_timeout_ms(m: &ConsumerGroupMember, config: &ConsumerGroupConfig) -> i32 {
    m.classic
        .as_ref()
        .map_or(config.session_timeout_ms, |c| c.session_timeout_ms)
}

/// A heartbeat with epoch -1 (leave) or -2 (a static member leaving for a
/// while: it keeps its assignment until its session expires).
pub fn leave(
    group: &mut ConsumerGroup,
    req: &HeartbeatRequest,
    ctx: Context<'_>,
) -> Result<(HeartbeatResponse, Outcome)> {
    let response = |epoch: i32| HeartbeatResponse {
        member_id: req.member_id.clone(),
        member_epoch: epoch,
        heartbeat_interval_ms: 0,
        assignment: None,
    };
    let member = match &req.instance_id {
        None => group
            .member(&req.member_id)
            .cloned()
            .ok_or_else(|| unknown_member(&req.member_id, group.group_id()))?,
        Some(instance) => {
            let m = group.static_member(instance).cloned().ok_or_else(|| {
                ConsumerGroupError::UnknownMemberId(format!("Instance id {instance} is unknown."))
            })?;
            if m.member_id != req.member_id {
                return Err(ConsumerGroupError::FencedInstanceId(format!(
                    "Static member {} with instance id {instance} was fenced by member {}.",
                    req.member_id, m.member_id
                )));
            }
            if req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                info!(group = group.group_id(), member = %m.member_id, instance = %instance, "static member temporarily left the consumer group");
                let mut left = m.clone();
                left.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                left.pending_revocation = Assignment::new();
                let mut out = Outcome::default();
                out.emit(
                    group,
                    ConsumerGroupRecord::CurrentAssignment(
                        left.member_id.clone(),
                        Some(current_assignment_of(&left)),
                    ),
                );
                out.timers.push(TimerOp::CancelRebalance {
                    member_id: left.member_id.clone(),
                });
                return Ok((response(LEAVE_GROUP_STATIC_MEMBER_EPOCH), out));
            }
            m
        }
    };
    info!(group = group.group_id(), member = %member.member_id, "member left the consumer group");
    let out = fence(group, std::slice::from_ref(&member.member_id), ctx);
    Ok((response(req.member_epoch), out))
}

/// Removes members (session expired, revocation deadline missed, left) and
/// bumps the group epoch so the others get their partitions.
pub fn fence(group: &mut ConsumerGroup, member_ids: &[String], ctx: Context<'_>) -> Outcome {
    let mut out = Outcome::default();
    let present: Vec<&String> = member_ids
        .iter()
        .filter(|id| group.member(id).is_some())
        .collect();
    if present.is_empty() {
        return out;
    }
    let regexes_before = group.subscribed_regexes();
    for id in present {
        remove_member(&mut out, group, id);
        out.timers.push(TimerOp::CancelAll {
            member_id: id.clone(),
        });
    }
    let regexes_after = group.subscribed_regexes();
    for gone in regexes_before.difference(&regexes_after) {
        if group.regexes().contains_key(gone) {
            out.emit(
                group,
                ConsumerGroupRecord::RegularExpression(gone.clone(), None),
            );
        }
    }
    let names = group.subscribed_topic_names();
    let hash = ctx.topics.metadata_hash(names.iter().map(String::as_str));
    let epoch = group.group_epoch() + 1;
    out.emit(group, ConsumerGroupRecord::GroupEpoch(Some((epoch, hash))));
    out
}

/// The session timer of `member_id` fired.
pub fn session_expired(group: &mut ConsumerGroup, member_id: &str, ctx: Context<'_>) -> Outcome {
    if group.member(member_id).is_some() {
        info!(group = group.group_id(), member = %member_id, "member fenced: its session expired");
    }
    fence(group, &[member_id.to_string()], ctx)
}

/// The revocation deadline of `member_id` at `member_epoch` fired.
pub fn rebalance_expired(
    group: &mut ConsumerGroup,
    member_id: &str,
    member_epoch: i32,
    ctx: Context<'_>,
) -> Outcome {
    match group.member(member_id) {
        Some(m) if m.member_epoch == member_epoch => {
            info!(group = group.group_id(), member = %member_id, epoch = member_epoch, "member fenced: it did not revoke its partitions in time");
            fence(group, &[member_id.to_string()], ctx)
        }
        _ => Outcome::default(),
    }
}

/// The records that delete an empty group (`NonEmptyGroup` otherwise). The
/// last one is the group epoch tombstone, which the caller applies by
/// dropping the group.
pub fn delete(group: &mut ConsumerGroup) -> Result<Outcome> {
    if !group.members().is_empty() {
        return Err(ConsumerGroupError::NonEmptyGroup);
    }
    let mut out = Outcome::default();
    let targets: Vec<String> = group.target().keys().cloned().collect();
    for id in targets {
        out.emit(group, ConsumerGroupRecord::TargetAssignment(id, None));
    }
    out.emit(group, ConsumerGroupRecord::TargetAssignmentEpoch(None));
    let regexes: Vec<String> = group.regexes().keys().cloned().collect();
    for r in regexes {
        out.emit(group, ConsumerGroupRecord::RegularExpression(r, None));
    }
    out.emit(group, ConsumerGroupRecord::GroupEpoch(None));
    Ok(out)
}

/// The records that delete `group` with all its members (Kafka's
/// `createGroupTombstoneRecords`, used when it becomes a classic group); the
/// group itself is left as it was.
pub fn tombstones(group: &ConsumerGroup) -> Vec<ConsumerGroupRecord> {
    let mut copy = group.clone();
    let mut out = Outcome::default();
    let ids: Vec<String> = copy.members().keys().cloned().collect();
    for id in ids {
        remove_member(&mut out, &mut copy, &id);
    }
    let mut records = out.records;
    if let Ok(rest) = delete(&mut copy) {
        records.extend(rest.records);
    }
    records
}

/// OffsetCommit's member check (Kafka's `ConsumerGroup.validateOffsetCommit`).
pub fn validate_offset_commit(
    group: &ConsumerGroup,
    member_id: &str,
    instance_id: Option<&str>,
    member_epoch: i32,
    transactional: bool,
    api_version: i16,
) -> Result<()> {
    if member_epoch < 0 && group.members().is_empty() {
        return Ok(());
    }
    if transactional && member_epoch == -1 && member_id.is_empty() && instance_id.is_none() {
        return Ok(());
    }
    let m = group
        .member(member_id)
        .ok_or_else(|| unknown_member(member_id, group.group_id()))?;
    if !transactional && !m.uses_classic_protocol() && api_version < 9 {
        return Err(ConsumerGroupError::UnsupportedVersion(
            "OffsetCommit version 9 or above must be used by members using the modern group protocol"
                .to_string(),
        ));
    }
    check_stale(m, member_epoch)
}

/// OffsetFetch's member check (Kafka's `ConsumerGroup.validateOffsetFetch`):
/// `member_id` is `None` for requests below v9 and admin clients.
pub fn validate_offset_fetch(
    group: &ConsumerGroup,
    member_id: Option<&str>,
    member_epoch: i32,
) -> Result<()> {
    let Some(id) = member_id else {
        if member_epoch < 0 {
            return Ok(());
        }
        return Err(unknown_member("", group.group_id()));
    };
    if member_epoch < 0 && id.is_empty() {
        return Ok(());
    }
    let m = group
        .member(id)
        .ok_or_else(|| unknown_member(id, group.group_id()))?;
    check_stale(m, member_epoch)
}

fn check_stale(m: &ConsumerGroupMember, epoch: i32) -> Result<()> {
    if epoch != m.member_epoch && m.uses_classic_protocol() {
        return Err(ConsumerGroupError::IllegalGeneration(format!(
            "The received generation id {epoch} does not match the expected member epoch {}.",
            m.member_epoch
        )));
    }
    if epoch != m.member_epoch {
        return Err(ConsumerGroupError::StaleMemberEpoch(format!(
            "The received member epoch {epoch} does not match the expected member epoch {}.",
            m.member_epoch
        )));
    }
    Ok(())
}

pub(super) fn unknown_member(member_id: &str, group_id: &str) -> ConsumerGroupError {
    ConsumerGroupError::UnknownMemberId(format!(
        "Member {member_id} is not a member of group {group_id}."
    ))
}

pub(super) fn remove_member(out: &mut Outcome, group: &mut ConsumerGroup, id: &str) {
    out.emit(
        group,
        ConsumerGroupRecord::CurrentAssignment(id.to_string(), None),
    );
    out.emit(
        group,
        ConsumerGroupRecord::TargetAssignment(id.to_string(), None),
    );
    out.emit(
        group,
        ConsumerGroupRecord::MemberMetadata(id.to_string(), None),
    );
}

/// Kafka's `TargetAssignmentBuilder`: runs the group's assignor over every
/// member, writes the members whose target changed, then the new epoch.
fn update_target_assignment(out: &mut Outcome, group: &mut ConsumerGroup, ctx: Context<'_>) {
    let epoch = group.group_epoch();
    let name = group
        .preferred_assignor(ctx.config.default_assignor())
        .to_string();
    let assignor = Assignor::from_name(&name).unwrap_or(Assignor::Uniform);
    let mut partitions: BTreeMap<Uuid, i32> = BTreeMap::new();
    let targets: Vec<(String, Option<String>, BTreeSet<Uuid>, Assignment)> = group
        .members()
        .values()
        .map(|m| {
            let ids: BTreeSet<Uuid> = group
                .member_topic_names(m)
                .iter()
                .filter_map(|n| ctx.topics.topic(n))
                .map(|info| {
                    partitions.insert(info.id, info.partitions);
                    info.id
                })
                .collect();
            (
                m.member_id.clone(),
                m.instance_id.clone(),
                ids,
                group.target_of(&m.member_id),
            )
        })
        .collect();
    let specs: Vec<MemberSpec<'_>> = targets
        .iter()
        .map(|(id, inst, subs, current)| MemberSpec {
            member_id: id,
            instance_id: inst.as_deref(),
            subscribed: subs.clone(),
            current,
        })
        .collect();
    let new = assignor.assign(&specs, &partitions);
    info!(group = group.group_id(), epoch, assignor = %name, members = specs.len(), "computed a new target assignment");
    let changed: Vec<(String, Assignment)> = new
        .into_iter()
        .filter(|(id, a)| group.target().get(id) != Some(a))
        .collect();
    for (id, a) in changed {
        out.emit(group, ConsumerGroupRecord::TargetAssignment(id, Some(a)));
    }
    out.emit(
        group,
        ConsumerGroupRecord::TargetAssignmentEpoch(Some(epoch)),
    );
}
