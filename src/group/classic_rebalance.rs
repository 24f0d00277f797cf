//! The classic group's rebalance (Kafka's `prepareRebalance`,
//! `completeClassicGroupJoin`, `classicGroupSync` and the assignment
//! propagation): moving to `PreparingRebalance`, ending the join phase
//! (by everyone rejoining, the rebalance timeout, or the initial delay),
//! starting the next generation, SyncGroup, and handing out the leader's
//! assignment. Every state change goes through
//! [`ClassicGroup::transition_to`], which checks the table of valid
//! previous states in [`state`](super::state).

use std::collections::HashMap;

use bytes::Bytes;
use tokio::sync::oneshot;
use tracing::{error, info, warn};

use super::classic_api::{SyncGroupParams, SyncGroupResult};
use super::classic_group::ClassicGroup;
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::GroupMetadataManager;
use super::offsets::CoordinatorRecord;
use super::state::GroupState;
use super::timer::{TimerAction, TimerKey};

pub(super) fn maybe_prepare_rebalance_or_complete_join(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    reason: &str,
) {
    if group.can_rebalance() {
        prepare_rebalance(group, env, reason);
    } else {
        maybe_complete_join_phase(group, env);
    }
}

pub(super) fn prepare_rebalance(group: &mut ClassicGroup, env: &mut Env<'_>, reason: &str) {
    if group.is_in(GroupState::CompletingRebalance) {
        reset_and_propagate_assignment_with_error(group, env, GroupError::RebalanceInProgress);
    }
    remove_sync_expiration(group, env);
    let initial = group.is_in(GroupState::Empty);
    if initial {
        // A new group: give more members time to arrive
        // (group.initial.rebalance.delay.ms, 0 by default here).
        let delay = i64::from(env.config.initial_rebalance_delay_ms);
        let remaining = (group.rebalance_timeout_ms() - delay).max(0);
        env.schedule(
            TimerKey::join(&group.id),
            delay,
            TimerAction::InitialJoin {
                delay_ms: delay,
                remaining_ms: remaining,
            },
        );
    }
    info!(group = %group.id, from = %group.state(), generation = group.generation_id, reason, "preparing to rebalance");
    group.transition_to(GroupState::PreparingRebalance, env.now);
    if !initial {
        maybe_complete_join_else_schedule(group, env);
    }
}

fn maybe_complete_join_else_schedule(group: &mut ClassicGroup, env: &mut Env<'_>) {
    if group.has_all_members_joined() {
        complete_join(group, env);
    } else {
        let timeout = group.rebalance_timeout_ms().max(1);
        env.schedule(
            TimerKey::join(&group.id),
            timeout,
            TimerAction::CompleteJoin,
        );
    }
}

pub(super) fn maybe_complete_join_phase(group: &mut ClassicGroup, env: &mut Env<'_>) {
    if group.is_in(GroupState::PreparingRebalance)
        && group.previous_state() != GroupState::Empty
        && group.has_all_members_joined()
    {
        complete_join(group, env);
    }
}

pub(super) fn try_complete_initial_rebalance_else_schedule(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    delay_ms: i64,
    remaining_ms: i64,
) {
    if group.new_member_added && remaining_ms != 0 {
        group.new_member_added = false;
        let new_delay = i64::from(env.config.initial_rebalance_delay_ms).min(remaining_ms);
        let new_remaining = (remaining_ms - delay_ms).max(0);
        env.schedule(
            TimerKey::join(&group.id),
            new_delay,
            TimerAction::InitialJoin {
                delay_ms: new_delay,
                remaining_ms: new_remaining,
            },
        );
    } else {
        complete_join(group, env);
    }
}

/// Ends the join phase: drops dynamic members that did not rejoin, starts
/// the next generation and answers every parked JoinGroup (the leader's
/// with the member list).
pub(super) fn complete_join(group: &mut ClassicGroup, env: &mut Env<'_>) {
    env.timers.cancel(&TimerKey::join(&group.id));
    for (id, is_static) in group.not_yet_rejoined() {
        if !is_static {
            info!(group = %group.id, member = %id, "removing member that did not rejoin");
            group.remove(&id);
            env.cancel_heartbeat(&group.id, &id);
        }
    }
    if group.is_in(GroupState::Dead) {
        return;
    }
    if !group.maybe_elect_new_joined_leader() && group.num_members() > 0 {
        // Only static members that have not rejoined: wait for their
        // sessions to expire.
        warn!(group = %group.id, "no member rejoined; extending the join phase");
        let timeout = group.rebalance_timeout_ms().max(1);
        env.schedule(
            TimerKey::join(&group.id),
            timeout,
            TimerAction::CompleteJoin,
        );
        return;
    }
    group.init_next_generation(env.now);
    if group.is_in(GroupState::Empty) {
        info!(group = %group.id, generation = group.generation_id, "group is now empty");
        let record = CoordinatorRecord::GroupMetadata {
            group: group.id.clone(),
            value: Some(group.metadata_value(None)),
        };
        if let Err(e) = env.append(&[record]) {
            warn!(group = %group.id, error = %e, "cannot record empty group");
        }
        return;
    }
    info!(group = %group.id, generation = group.generation_id, members = group.num_members(),
        protocol = ?group.protocol_name, "join phase complete");
    crate::metrics::global().record_classic_rebalance();
    let members = group.joined_members();
    for id in group.member_ids() {
        let list = if group.is_leader(&id) {
            members.clone()
        } else {
            Vec::new()
        };
        let result = group.join_result(&id, list);
        group.complete_join(&id, result);
        reschedule_heartbeat(group, env, &id);
        if let Some(m) = group.member_mut(&id) {
            m.is_new = false;
        }
        group.add_pending_sync_member(&id);
    }
    let timeout = group.rebalance_timeout_ms().max(1);
    env.schedule(
        TimerKey::sync(&group.id),
        timeout,
        TimerAction::PendingSync {
            generation: group.generation_id,
        },
    );
}

pub(super) fn reschedule_heartbeat(group: &ClassicGroup, env: &mut Env<'_>, member_id: &str) {
    if let Some(m) = group.member(member_id) {
        env.schedule_heartbeat(&group.id, member_id, i64::from(m.session_timeout_ms));
    }
}

fn remove_sync_expiration(group: &mut ClassicGroup, env: &mut Env<'_>) {
    group.clear_pending_sync_members();
    env.timers.cancel(&TimerKey::sync(&group.id));
}

fn reset_and_propagate_assignment_with_error(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    error: GroupError,
) {
    assert!(
        group.is_in(GroupState::CompletingRebalance),
        "group {} is {}",
        group.id,
        group.state()
    );
    for id in group.member_ids() {
        if let Some(m) = group.member_mut(&id) {
            m.assignment = Bytes::new();
        }
    }
    propagate_assignment(group, env, Some(error));
}

fn propagate_assignment(group: &mut ClassicGroup, env: &mut Env<'_>, error: Option<GroupError>) {
    let (protocol_type, protocol_name) = if error.is_none() {
        (group.protocol_type.clone(), group.protocol_name.clone())
    } else {
        (None, None)
    };
    for id in group.member_ids() {
        let assignment = group
            .member(&id)
            .map(|m| m.assignment.clone())
            .unwrap_or_default();
        let result = SyncGroupResult {
            error: error.clone(),
            protocol_type: protocol_type.clone(),
            protocol_name: protocol_name.clone(),
            assignment,
        };
        if group.complete_sync(&id, result) {
            reschedule_heartbeat(group, env, &id);
        }
    }
}

pub(super) fn expire_pending_sync(group: &mut ClassicGroup, env: &mut Env<'_>, generation: i32) {
    if generation != group.generation_id {
        return;
    }
    if matches!(
        group.state(),
        GroupState::CompletingRebalance | GroupState::Stable
    ) && !group.has_received_sync_from_all_members()
    {
        let pending = group.pending_sync_members();
        for id in &pending {
            group.remove(id);
            env.cancel_heartbeat(&group.id, id);
        }
        info!(group = %group.id, members = ?pending, "removed members that never sent SyncGroup");
        prepare_rebalance(group, env, "pending sync expired");
    }
}

fn remove_pending_sync_member(group: &mut ClassicGroup, env: &mut Env<'_>, member_id: &str) {
    group.remove_pending_sync_member(member_id);
    let cancel = match group.state() {
        GroupState::Dead | GroupState::Empty | GroupState::PreparingRebalance => true,
        GroupState::CompletingRebalance | GroupState::Stable => {
            group.has_received_sync_from_all_members()
        }
    };
    if cancel {
        env.timers.cancel(&TimerKey::sync(&group.id));
    }
}

/// `Some`: answer now. `None`: `tx` was parked (or already answered).
pub(super) fn sync(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    p: SyncGroupParams,
    tx: oneshot::Sender<SyncGroupResult>,
) -> Option<SyncGroupResult> {
    if groups.consumer(&p.group_id).is_some() {
        return Some(super::consumer_classic::sync(groups, env, &p));
    }
    let Some(group) = groups.classic_mut(&p.group_id) else {
        return Some(SyncGroupResult::error(GroupError::UnknownMemberId));
    };
    if group.is_in(GroupState::Empty) {
        return Some(SyncGroupResult::error(GroupError::UnknownMemberId));
    }
    if group.is_in(GroupState::Dead) {
        return Some(SyncGroupResult::error(GroupError::CoordinatorNotAvailable));
    }
    if let Err(e) = group.validate_member(&p.member_id, p.group_instance_id.as_deref()) {
        return Some(SyncGroupResult::error(e));
    }
    if p.generation_id != group.generation_id {
        return Some(SyncGroupResult::error(GroupError::IllegalGeneration));
    }
    let inconsistent = |ours: &Option<String>, theirs: &Option<String>| matches!((ours, theirs), (Some(a), Some(b)) if a != b);
    if inconsistent(&group.protocol_type, &p.protocol_type)
        || inconsistent(&group.protocol_name, &p.protocol_name)
    {
        return Some(SyncGroupResult::error(
            GroupError::InconsistentGroupProtocol,
        ));
    }
    match group.state() {
        GroupState::PreparingRebalance => {
            Some(SyncGroupResult::error(GroupError::RebalanceInProgress))
        }
        GroupState::CompletingRebalance => {
            if let Some(m) = group.member_mut(&p.member_id) {
                m.awaiting_sync = Some(tx);
            }
            remove_pending_sync_member(group, env, &p.member_id);
            if group.is_leader(&p.member_id) {
                let mut assignment: HashMap<String, Bytes> = p.assignments.into_iter().collect();
                for id in group.member_ids() {
                    assignment.entry(id).or_default();
                }
                let record = CoordinatorRecord::GroupMetadata {
                    group: group.id.clone(),
                    value: Some(group.metadata_value(Some(&assignment))),
                };
                match env.append(&[record]) {
                    Ok(()) => {
                        for id in group.member_ids() {
                            if let Some(m) = group.member_mut(&id) {
                                m.assignment = assignment.remove(&id).unwrap_or_default();
                            }
                        }
                        propagate_assignment(group, env, None);
                        group.transition_to(GroupState::Stable, env.now);
                        info!(group = %group.id, generation = group.generation_id, "group is stable");
                    }
                    Err(e) => {
                        error!(group = %group.id, error = %e, "cannot record the group's assignment");
                        reset_and_propagate_assignment_with_error(
                            group,
                            env,
                            GroupError::CoordinatorNotAvailable,
                        );
                        maybe_prepare_rebalance_or_complete_join(
                            group,
                            env,
                            "cannot store the assignment",
                        );
                    }
                }
            }
            None
        }
        GroupState::Stable => {
            remove_pending_sync_member(group, env, &p.member_id);
            let assignment = group
                .member(&p.member_id)
                .map(|m| m.assignment.clone())
                .unwrap_or_default();
            Some(SyncGroupResult {
                error: None,
                protocol_type: group.protocol_type.clone(),
                protocol_name: group.protocol_name.clone(),
                assignment,
            })
        }
        GroupState::Empty | GroupState::Dead => {
            Some(SyncGroupResult::error(GroupError::UnknownMemberId))
        }
    }
}
