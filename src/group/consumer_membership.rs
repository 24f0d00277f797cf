//! The coordinator's side of KIP-848 consumer groups: finds (or creates,
//! or converts from an empty classic group) the group a
//! ConsumerGroupHeartbeat names, runs the protocol of `consumer::heartbeat`
//! on it, appends the records it produced to `__consumer_offsets`, and sets
//! the timers it asked for. If the append fails the group is put back as it
//! was, so memory never runs ahead of the log.
//!
//! Also the timer handlers (session expiry, missed revocation deadline) and
//! ConsumerGroupDescribe's view.

use tracing::{info, warn};
use uuid::Uuid;

use super::consumer::heartbeat::{
    self, Context, HeartbeatRequest, HeartbeatResponse, Outcome, TimerOp,
};
use super::consumer::member::LEAVE_GROUP_MEMBER_EPOCH;
use super::consumer::records::ConsumerGroupRecord;
use super::consumer::topics::TopicsImage;
use super::consumer::{ConsumerGroup, ConsumerGroupError};
use super::consumer_migration::{downgrade, may_downgrade, may_upgrade, upgrade};
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::{wrap_records, Group, GroupMetadataManager};
use super::offsets::CoordinatorRecord;
use super::state::GroupState;
use super::timer::{TimerAction, TimerKey};

/// One member as ConsumerGroupDescribe reports it.
#[derive(Debug, Clone)]
pub struct ConsumerMemberDescription {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub member_epoch: i32,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    pub subscribed_topic_regex: Option<String>,
    /// `(topic id, topic name, partitions)`; topics no longer known are left out.
    pub assignment: Vec<(Uuid, String, Vec<i32>)>,
    pub target_assignment: Vec<(Uuid, String, Vec<i32>)>,
    /// Reconciliation state name (for the console).
    pub state: &'static str,
    /// It joined with JoinGroup (a classic-protocol member).
    pub classic: bool,
}

/// A consumer group as ConsumerGroupDescribe reports it.
#[derive(Debug, Clone)]
pub struct ConsumerGroupDescription {
    pub group_id: String,
    /// GROUP_ID_NOT_FOUND for unknown groups and groups of another type.
    pub error: Option<GroupError>,
    pub state: &'static str,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub assignor_name: String,
    pub members: Vec<ConsumerMemberDescription>,
}

/// ConsumerGroupHeartbeat.
pub(crate) fn consumer_heartbeat(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    topics: TopicsImage,
    req: &HeartbeatRequest,
) -> Result<HeartbeatResponse, GroupError> {
    groups.topics = topics;
    heartbeat::validate(req, &env.config.consumer)?;
    let id = req.group_id.as_str();
    let leaving = heartbeat::is_leave(req);
    let joining = !leaving && req.member_epoch == 0;
    let not_found = |msg: String| GroupError::Consumer(ConsumerGroupError::GroupIdNotFound(msg));

    // The group to work on, what to put back if the operation fails, and
    // records that must precede the group's own.
    let mut upgrade_sessions = Vec::new();
    let (mut group, original, mut records) = match groups.take(id) {
        None if joining => (ConsumerGroup::new(id), None, Vec::new()),
        None => return Err(not_found(format!("Consumer group {id} not found."))),
        Some(Group::Consumer(g)) => {
            let copy = g.clone();
            (g, Some(Group::Consumer(copy)), Vec::new())
        }
        // Kafka converts an empty classic group on the first consumer join
        // (whatever `group.consumer.migration.policy` says); its offsets stay.
        Some(Group::Classic(c)) if joining && c.is_in(GroupState::Empty) => {
            let tombstone = CoordinatorRecord::GroupMetadata {
                group: id.to_string(),
                value: None,
            };
            (
                ConsumerGroup::new(id),
                Some(Group::Classic(c)),
                vec![tombstone],
            )
        }
        // Online upgrade: the classic members stay, as classic-protocol
        // members of the consumer group.
        Some(Group::Classic(mut c)) if joining && may_upgrade(&c, env) => {
            match upgrade(&mut c, &groups.topics, env.now) {
                Ok((g, recs, sessions)) => {
                    upgrade_sessions = sessions;
                    let mut records = vec![CoordinatorRecord::GroupMetadata {
                        group: id.to_string(),
                        value: None,
                    }];
                    records.extend(wrap_records(id, recs));
                    (g, Some(Group::Classic(c)), records)
                }
                Err(e) => {
                    groups.put(Group::Classic(c));
                    return Err(e);
                }
            }
        }
        Some(other) => {
            groups.put(other);
            return Err(not_found(format!("Group {id} is not a consumer group.")));
        }
    };
    // The last consumer-protocol member leaving a group of classic members
    // turns it back into a classic group (online downgrade).
    if req.member_epoch == LEAVE_GROUP_MEMBER_EPOCH && records.is_empty() {
        let leaving = match &req.instance_id {
            Some(i) => group.static_member(i).map(|m| m.member_id.clone()),
            None => Some(req.member_id.clone()),
        };
        if let Some(leaving) = leaving.filter(|l| *l == req.member_id) {
            if may_downgrade(&group, &leaving, env) {
                return match downgrade(groups, env, &group, Some(&leaving)) {
                    Ok(()) => Ok(HeartbeatResponse {
                        member_id: req.member_id.clone(),
                        member_epoch: LEAVE_GROUP_MEMBER_EPOCH,
                        heartbeat_interval_ms: 0,
                        assignment: None,
                    }),
                    Err(e) => {
                        groups.put(Group::Consumer(group));
                        Err(e)
                    }
                };
            }
        }
    }
    let ctx = Context {
        config: &env.config.consumer,
        topics: &groups.topics,
        now_ms: env.now,
    };
    let result = if leaving {
        heartbeat::leave(&mut group, req, ctx)
    } else {
        heartbeat::heartbeat(&mut group, req, ctx, &|| Uuid::new_v4().to_string())
    };
    let (response, out) = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(g) = original {
                groups.put(g);
            }
            return Err(e.into());
        }
    };
    let Outcome {
        records: group_records,
        timers,
    } = out;
    let bumps = count_epoch_bumps(&group_records);
    records.extend(wrap_records(id, group_records));
    if !records.is_empty() {
        if let Err(e) = env.append(&records) {
            if let Some(g) = original {
                groups.put(g);
            }
            return Err(e.into());
        }
    }
    if let Some(Group::Classic(_)) = &original {
        env.timers.cancel_group(id);
    }
    groups.put(Group::Consumer(group));
    groups.consumer_rebalances += bumps;
    set_timers(env, id, upgrade_sessions);
    set_timers(env, id, timers);
    Ok(response)
}

/// Appends an operation's records and sets its timers.
pub(crate) fn apply_outcome(env: &mut Env<'_>, id: &str, out: Outcome) -> Result<(), GroupError> {
    if !out.records.is_empty() {
        env.append(&wrap_records(id, out.records))?;
    }
    set_timers(env, id, out.timers);
    Ok(())
}

/// Fences `member` of `group` unless that turns the group into a classic
/// group, which it then does; true if it did.
fn downgraded_instead(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group: &str,
    member: &str,
) -> bool {
    let Some(g) = groups.consumer(group) else {
        return false;
    };
    if !may_downgrade(g, member, env) {
        return false;
    }
    let g = g.clone();
    if let Err(e) = downgrade(groups, env, &g, Some(member)) {
        warn!(group = %group, error = %e, "cannot downgrade consumer group");
        return false;
    }
    true
}

/// The session timer of `member` of consumer group `group` fired.
pub(crate) fn consumer_session_expired(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group: &str,
    member: &str,
) {
    if downgraded_instead(groups, env, group, member) {
        return;
    }
    run_timer(groups, env, group, |g, ctx| {
        heartbeat::session_expired(g, member, ctx)
    });
}

/// The join or sync deadline of classic-protocol member `member` of
/// consumer group `group` fired (Kafka's `consumerGroupFenceMemberOperation`
/// from the timers of `scheduleConsumerGroupJoinTimeoutIfAbsent` and
/// `scheduleConsumerGroupSyncTimeout`): it is fenced, or the group turns
/// classic if it was the last consumer-protocol member.
pub(crate) fn consumer_classic_deadline_expired(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group: &str,
    member: &str,
    reason: &str,
) {
    let present = groups
        .consumer(group)
        .is_some_and(|g| g.member(member).is_some());
    if !present {
        return;
    }
    info!(group = %group, member = %member, "member fenced from the consumer group because {reason}");
    if downgraded_instead(groups, env, group, member) {
        return;
    }
    run_timer(groups, env, group, |g, ctx| {
        heartbeat::fence(g, &[member.to_string()], ctx)
    });
}

/// The revocation deadline of `member` at `member_epoch` fired.
pub(crate) fn consumer_revocation_expired(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group: &str,
    member: &str,
    member_epoch: i32,
) {
    let due = groups
        .consumer(group)
        .and_then(|g| g.member(member))
        .is_some_and(|m| m.member_epoch == member_epoch);
    if due && downgraded_instead(groups, env, group, member) {
        return;
    }
    run_timer(groups, env, group, |g, ctx| {
        heartbeat::rebalance_expired(g, member, member_epoch, ctx)
    });
}

fn run_timer(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    id: &str,
    op: impl FnOnce(&mut ConsumerGroup, Context<'_>) -> Outcome,
) {
    let Some(g) = groups.consumer(id) else {
        return;
    };
    let mut work = g.clone();
    let ctx = Context {
        config: &env.config.consumer,
        topics: &groups.topics,
        now_ms: env.now,
    };
    let out = op(&mut work, ctx);
    if out.records.is_empty() {
        set_timers(env, id, out.timers);
        return;
    }
    let bumps = count_epoch_bumps(&out.records);
    let records = wrap_records(id, out.records);
    if let Err(e) = env.append(&records) {
        // The member stays; try again a session later.
        warn!(group = %id, error = %e, "cannot fence consumer group member");
        return;
    }
    if let Some(g) = groups.consumer_mut(id) {
        *g = work;
    }
    groups.consumer_rebalances += bumps;
    set_timers(env, id, out.timers);
}

pub(crate) fn count_epoch_bumps(records: &[ConsumerGroupRecord]) -> u64 {
    records
        .iter()
        .filter(|r| matches!(r, ConsumerGroupRecord::GroupEpoch(Some(_))))
        .count() as u64
}

pub(crate) fn set_timers(env: &mut Env<'_>, group: &str, ops: Vec<TimerOp>) {
    for op in ops {
        match op {
            TimerOp::Session {
                member_id,
                deadline_ms,
            } => env.schedule_heartbeat(group, &member_id, deadline_ms - env.now),
            TimerOp::Rebalance {
                member_id,
                member_epoch,
                deadline_ms,
            } => env.schedule(
                TimerKey::revocation(group, &member_id),
                deadline_ms - env.now,
                TimerAction::Revocation { member_epoch },
            ),
            TimerOp::CancelRebalance { member_id } => {
                env.timers.cancel(&TimerKey::revocation(group, &member_id));
            }
            TimerOp::CancelAll { member_id } => {
                env.timers.cancel(&TimerKey::revocation(group, &member_id));
                env.timers
                    .cancel(&TimerKey::classic_join(group, &member_id));
                env.timers
                    .cancel(&TimerKey::classic_sync(group, &member_id));
                env.cancel_heartbeat(group, &member_id);
            }
        }
    }
}

/// ConsumerGroupDescribe of `ids`.
pub(crate) fn describe_consumer_groups(
    groups: &GroupMetadataManager,
    topics: &TopicsImage,
    default_assignor: &str,
    ids: &[String],
) -> Vec<ConsumerGroupDescription> {
    ids.iter()
        .map(|id| match groups.get(id) {
            Some(Group::Consumer(g)) => describe(g, topics, default_assignor),
            other => {
                let msg = if other.is_some() {
                    format!("Group {id} is not a consumer group.")
                } else {
                    format!("Group {id} not found.")
                };
                ConsumerGroupDescription {
                    group_id: id.clone(),
                    error: Some(GroupError::Consumer(ConsumerGroupError::GroupIdNotFound(
                        msg,
                    ))),
                    state: "Dead",
                    group_epoch: -1,
                    assignment_epoch: -1,
                    assignor_name: String::new(),
                    members: Vec::new(),
                }
            }
        })
        .collect()
}

fn describe(
    g: &ConsumerGroup,
    topics: &TopicsImage,
    default_assignor: &str,
) -> ConsumerGroupDescription {
    let named = |a: &super::consumer::assignment::Assignment| {
        a.iter()
            .filter_map(|(t, ps)| {
                topics
                    .name(t)
                    .map(|n| (*t, n.to_string(), ps.iter().copied().collect()))
            })
            .collect::<Vec<_>>()
    };
    ConsumerGroupDescription {
        group_id: g.group_id().to_string(),
        error: None,
        state: g.state().name(),
        group_epoch: g.group_epoch(),
        assignment_epoch: g.assignment_epoch(),
        assignor_name: g.preferred_assignor(default_assignor).to_string(),
        members: g
            .members()
            .values()
            .map(|m| ConsumerMemberDescription {
                member_id: m.member_id.clone(),
                instance_id: m.instance_id.clone(),
                rack_id: m.rack_id.clone(),
                member_epoch: m.member_epoch,
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                subscribed_topic_names: m.subscribed_topic_names.iter().cloned().collect(),
                subscribed_topic_regex: m.subscribed_topic_regex.clone(),
                assignment: named(&m.assigned),
                target_assignment: named(&g.target_of(&m.member_id)),
                state: m.state.name(),
                classic: m.uses_classic_protocol(),
            })
            .collect(),
    }
}

/// OffsetFetch's member check for consumer groups (classic groups and
/// unknown ids pass: their checks are elsewhere or none).
pub(crate) fn validate_offset_fetch(
    groups: &GroupMetadataManager,
    group_id: &str,
    member_id: Option<&str>,
    member_epoch: i32,
) -> Result<(), GroupError> {
    match groups.consumer(group_id) {
        Some(g) => Ok(heartbeat::validate_offset_fetch(
            g,
            member_id,
            member_epoch,
        )?),
        None => Ok(()),
    }
}
