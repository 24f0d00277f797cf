//! JoinGroup for classic groups (Kafka's `GroupMetadataManager.classicGroupJoin`
//! and the helpers it calls): a new member (dynamic, with or without the
//! MEMBER_ID_REQUIRED round trip, or static), an existing member rejoining,
//! and a static member coming back under a new member id. Each path ends in
//! the rebalance of [`classic_rebalance`](super::classic_rebalance) or
//! answers at once.
//!
//! What JoinGroup does in each state is the table in
//! [`state`](super::state).

use bytes::Bytes;
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::classic_api::{JoinGroupParams, JoinGroupResult};
use super::classic_group::ClassicGroup;
use super::classic_rebalance::{
    maybe_complete_join_phase, maybe_prepare_rebalance_or_complete_join, prepare_rebalance,
};
use super::consumer_classic;
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::{Group, GroupMetadataManager};
use super::member::Member;
use super::offsets::{CoordinatorRecord, GroupMetadataValue};
use super::state::GroupState;

/// How long a new member's JoinGroup may stay parked before the member is
/// dropped (Kafka's `classicGroupNewMemberJoinTimeoutMs`): a client that
/// disconnected while parked would otherwise hold the rebalance until its
/// session... which never started.
const NEW_MEMBER_JOIN_TIMEOUT_MS: i64 = 5 * 60 * 1000;

fn generate_member_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// `Some`: answer now. `None`: `tx` was parked (or already answered).
pub(super) fn join(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    // A consumer group with members takes classic members in (online
    // migration); an empty one is dropped for a new classic group, as Kafka
    // does (its offsets stay).
    if let Some(Group::Consumer(g)) = groups.get(&p.group_id) {
        if !g.members().is_empty() {
            return Some(consumer_classic::join(groups, env, &p));
        }
        let tombstones = groups
            .get(&p.group_id)
            .map(Group::tombstone_records)
            .unwrap_or_default();
        if let Err(e) = env.append(&tombstones) {
            return Some(JoinGroupResult::error(&p.member_id, e.into()));
        }
        info!(group = %p.group_id, "converted empty consumer group to classic group");
        groups.remove(env.timers, &p.group_id);
        groups.ensure_group(&p.group_id, env.now);
    }
    let unknown = p.member_id.is_empty();
    let is_new_group = !groups.contains(&p.group_id);
    if is_new_group && !unknown {
        // A member id for a group that does not exist: it was removed.
        return Some(JoinGroupResult::error(
            &p.member_id,
            GroupError::UnknownMemberId,
        ));
    }
    let Some(group) = groups.get_or_create_classic(&p.group_id, env.now) else {
        // The id is taken by a group of another type.
        return Some(JoinGroupResult::error(
            &p.member_id,
            GroupError::InconsistentGroupProtocol,
        ));
    };
    let out = if !accept_joining_member(group, &p.member_id, env.config.max_size) {
        group.remove(&p.member_id);
        env.cancel_heartbeat(&group.id, &p.member_id);
        Some(JoinGroupResult::error("", GroupError::GroupMaxSizeReached))
    } else if unknown {
        join_new_member(group, env, p, tx)
    } else {
        join_existing_member(group, env, p, tx)
    };
    if is_new_group && !env.appended {
        // Kafka commits a new group to the log right away.
        let record = CoordinatorRecord::GroupMetadata {
            group: group.id.clone(),
            value: Some(GroupMetadataValue {
                protocol_type: group.protocol_type.clone().unwrap_or_default(),
                generation: 0,
                protocol: None,
                leader: None,
                current_state_timestamp_ms: group.state_timestamp_ms().unwrap_or(-1),
                members: Vec::new(),
            }),
        };
        if let Err(e) = env.append(&[record]) {
            warn!(group = %group.id, error = %e, "cannot record new group");
        }
    }
    out
}

fn accept_joining_member(group: &ClassicGroup, member_id: &str, max_size: usize) -> bool {
    match group.state() {
        GroupState::Empty | GroupState::Dead => true,
        GroupState::PreparingRebalance => {
            group
                .member(member_id)
                .is_some_and(Member::is_awaiting_join)
                || group.num_awaiting_join() < max_size
        }
        GroupState::CompletingRebalance | GroupState::Stable => {
            group.has_member(member_id) || group.num_members() < max_size
        }
    }
}

fn join_new_member(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    if group.is_in(GroupState::Dead) {
        return Some(JoinGroupResult::error(
            "",
            GroupError::CoordinatorNotAvailable,
        ));
    }
    if !group.supports_protocols(&p.protocol_type, &p.protocols) {
        return Some(JoinGroupResult::error(
            "",
            GroupError::InconsistentGroupProtocol,
        ));
    }
    let new_id = generate_member_id(p.group_instance_id.as_deref().unwrap_or(&p.client_id));
    if let Some(instance) = p.group_instance_id.clone() {
        match group.static_member_id(&instance).map(str::to_string) {
            Some(old_id) => {
                info!(group = %group.id, instance = %instance, old = %old_id, new = %new_id, state = %group.state(),
                    "static member rejoined with a new member id");
                update_static_member_then_rebalance_or_complete_join(
                    group, env, p, &old_id, &new_id, tx,
                )
            }
            None => add_member_then_rebalance_or_complete_join(group, env, p, new_id, tx),
        }
    } else if p.require_known_member_id {
        group.add_pending_member(&new_id);
        env.schedule_heartbeat(&group.id, &new_id, i64::from(p.session_timeout_ms));
        debug!(group = %group.id, member = %new_id, "member id required");
        Some(JoinGroupResult::error(
            &new_id,
            GroupError::MemberIdRequired,
        ))
    } else {
        add_member_then_rebalance_or_complete_join(group, env, p, new_id, tx)
    }
}

fn join_existing_member(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    let member_id = p.member_id.clone();
    if group.is_in(GroupState::Dead) {
        return Some(JoinGroupResult::error(
            &member_id,
            GroupError::CoordinatorNotAvailable,
        ));
    }
    if !group.supports_protocols(&p.protocol_type, &p.protocols) {
        return Some(JoinGroupResult::error(
            &member_id,
            GroupError::InconsistentGroupProtocol,
        ));
    }
    if group.is_pending_member(&member_id) {
        if p.group_instance_id.is_some() {
            return Some(JoinGroupResult::error(
                &member_id,
                GroupError::InvalidRequest("a pending member cannot be a static member"),
            ));
        }
        return add_member_then_rebalance_or_complete_join(group, env, p, member_id, tx);
    }
    if let Err(e) = group.validate_member(&member_id, p.group_instance_id.as_deref()) {
        return Some(JoinGroupResult::error(&member_id, e));
    }
    let is_leader = group.is_leader(&member_id);
    let matches = group
        .member(&member_id)
        .is_some_and(|m| m.matches(&p.protocols));
    match group.state() {
        GroupState::PreparingRebalance => {
            update_member_then_rebalance_or_complete_join(group, env, p, tx)
        }
        GroupState::CompletingRebalance if matches => {
            // It missed the JoinGroup answer: send the current generation again.
            let members = if is_leader {
                group.joined_members()
            } else {
                Vec::new()
            };
            Some(group.join_result(&member_id, members))
        }
        GroupState::CompletingRebalance => {
            update_member_then_rebalance_or_complete_join(group, env, p, tx)
        }
        GroupState::Stable if is_leader || !matches => {
            // The leader rejoining is how a client asks for a rebalance
            // (e.g. after a metadata change); a follower with new metadata too.
            update_member_then_rebalance_or_complete_join(group, env, p, tx)
        }
        GroupState::Stable => Some(group.join_result(&member_id, Vec::new())),
        GroupState::Empty | GroupState::Dead => Some(JoinGroupResult::error(
            &member_id,
            GroupError::UnknownMemberId,
        )),
    }
}

fn update_member_then_rebalance_or_complete_join(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    // A JoinGroup already parked for this member (a retry on another
    // connection) is dropped: its handler sees the channel close.
    let _replaced = group.update_member(
        &p.member_id,
        p.protocols,
        p.rebalance_timeout_ms,
        p.session_timeout_ms,
        Some(tx),
    );
    maybe_prepare_rebalance_or_complete_join(group, env, "member rejoined");
    None
}

fn add_member_then_rebalance_or_complete_join(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    member_id: String,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    let member = Member {
        member_id: member_id.clone(),
        group_instance_id: p.group_instance_id,
        client_id: p.client_id,
        client_host: p.client_host,
        rebalance_timeout_ms: p.rebalance_timeout_ms,
        session_timeout_ms: p.session_timeout_ms,
        protocol_type: p.protocol_type,
        protocols: p.protocols,
        assignment: Bytes::new(),
        is_new: true,
        awaiting_join: None,
        awaiting_sync: None,
    };
    if group.is_in(GroupState::PreparingRebalance) && group.previous_state() == GroupState::Empty {
        group.new_member_added = true;
    }
    group.add(member, Some(tx));
    // A new member cannot heartbeat while parked: bound how long it may be.
    env.schedule_heartbeat(&group.id, &member_id, NEW_MEMBER_JOIN_TIMEOUT_MS);
    debug!(group = %group.id, member = %member_id, reason = ?p.reason, "member joined");
    maybe_prepare_rebalance_or_complete_join(group, env, "new member joined");
    None
}

fn update_static_member_then_rebalance_or_complete_join(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    old_id: &str,
    new_id: &str,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    let instance = p.group_instance_id.clone().unwrap_or_default();
    let current_leader = group.leader().unwrap_or_default().to_string();
    let Some(member) = group.replace_static_member(&instance, old_id, new_id) else {
        return Some(JoinGroupResult::error("", GroupError::UnknownMemberId));
    };
    let (old_protocols, old_rebalance, old_session) = (
        member.protocols.clone(),
        member.rebalance_timeout_ms,
        member.session_timeout_ms,
    );
    let session = member.session_timeout_ms;
    env.cancel_heartbeat(&group.id, old_id);
    env.schedule_heartbeat(&group.id, new_id, i64::from(session));
    group.update_member(
        new_id,
        p.protocols,
        p.rebalance_timeout_ms,
        p.session_timeout_ms,
        Some(tx),
    );

    match group.state() {
        GroupState::Stable => {
            let selected = group.select_protocol();
            if selected.is_some() && group.protocol_name == selected {
                // Same protocol: no rebalance. Record the new member id and
                // hand back the current generation (and, via SyncGroup, the
                // old assignment).
                let record = CoordinatorRecord::GroupMetadata {
                    group: group.id.clone(),
                    value: Some(group.metadata_value(None)),
                };
                match env.append(&[record]) {
                    Ok(()) => {
                        let result = if p.supports_skip_assignment {
                            let is_leader = group.is_leader(new_id);
                            let members = if is_leader {
                                group.joined_members()
                            } else {
                                Vec::new()
                            };
                            JoinGroupResult {
                                skip_assignment: is_leader,
                                ..group.join_result(new_id, members)
                            }
                        } else {
                            // Older clients must not think they lead: they
                            // would compute a new assignment.
                            JoinGroupResult {
                                leader: current_leader,
                                ..group.join_result(new_id, Vec::new())
                            }
                        };
                        group.complete_join(new_id, result);
                        info!(group = %group.id, instance = %instance, "static member replaced without a rebalance");
                    }
                    Err(e) => {
                        warn!(group = %group.id, error = %e, "cannot record static member; reverting");
                        let tx = group.update_member(
                            new_id,
                            old_protocols,
                            old_rebalance,
                            old_session,
                            None,
                        );
                        group.replace_static_member(&instance, new_id, old_id);
                        env.cancel_heartbeat(&group.id, new_id);
                        env.schedule_heartbeat(&group.id, old_id, i64::from(old_session));
                        if let Some(tx) = tx {
                            let _ = tx.send(JoinGroupResult {
                                leader: current_leader,
                                generation_id: group.generation_id,
                                protocol_type: group.protocol_type.clone(),
                                protocol_name: group.protocol_name.clone(),
                                ..JoinGroupResult::error("", GroupError::CoordinatorNotAvailable)
                            });
                        }
                    }
                }
            } else {
                maybe_prepare_rebalance_or_complete_join(
                    group,
                    env,
                    "static member changed protocols",
                );
            }
        }
        GroupState::CompletingRebalance => {
            // The leader may already have assigned to the old id: redo it.
            prepare_rebalance(
                group,
                env,
                "static member rejoined during CompletingRebalance",
            );
        }
        GroupState::PreparingRebalance => maybe_complete_join_phase(group, env),
        GroupState::Empty | GroupState::Dead => {
            error!(group = %group.id, state = %group.state(), "static member found in a group without members");
        }
    }
    None
}
