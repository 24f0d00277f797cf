//! A classic group's members coming and going outside a rebalance:
//! Heartbeat (Kafka's `classicGroupHeartbeat`), LeaveGroup
//! (`classicGroupLeave`, batched and by instance id), and the session
//! timer firing (`onHeartbeatExpiration`). Removing a member may start or
//! end a rebalance ([`classic_rebalance`](super::classic_rebalance)).

use tracing::info;

use super::classic_api::{HeartbeatParams, JoinGroupResult, LeavingMember};
use super::classic_group::ClassicGroup;
use super::classic_rebalance::{
    complete_join, maybe_complete_join_phase, maybe_prepare_rebalance_or_complete_join,
    reschedule_heartbeat,
};
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::GroupMetadataManager;
use super::state::GroupState;

/// Heartbeat: keeps the member's session alive, and tells it whether a
/// rebalance is under way.
pub(super) fn heartbeat(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    p: &HeartbeatParams,
) -> Result<(), GroupError> {
    if groups.consumer(&p.group_id).is_some() {
        return super::consumer_classic::heartbeat(groups, env, p);
    }
    let group = groups
        .classic_mut(&p.group_id)
        .ok_or(GroupError::UnknownMemberId)?;
    if group.is_in(GroupState::Dead) {
        return Err(GroupError::CoordinatorNotAvailable);
    }
    group.validate_member(&p.member_id, p.group_instance_id.as_deref())?;
    if p.generation_id != group.generation_id {
        return Err(GroupError::IllegalGeneration);
    }
    match group.state() {
        GroupState::Empty => Err(GroupError::UnknownMemberId),
        GroupState::PreparingRebalance => {
            reschedule_heartbeat(group, env, &p.member_id);
            Err(GroupError::RebalanceInProgress)
        }
        GroupState::CompletingRebalance | GroupState::Stable => {
            reschedule_heartbeat(group, env, &p.member_id);
            Ok(())
        }
        GroupState::Dead => Err(GroupError::CoordinatorNotAvailable),
    }
}

/// LeaveGroup: a per-member outcome (`None` = left), or a group-level
/// error.
pub(super) fn leave(
    groups: &mut GroupMetadataManager,
    env: &mut Env<'_>,
    group_id: &str,
    members: &[LeavingMember],
) -> Result<Vec<Option<GroupError>>, GroupError> {
    if groups.consumer(group_id).is_some() {
        return Ok(super::consumer_classic::leave(
            groups, env, group_id, members,
        ));
    }
    let Some(group) = groups.classic_mut(group_id) else {
        return Ok(vec![Some(GroupError::UnknownMemberId); members.len()]);
    };
    if group.is_in(GroupState::Dead) {
        return Err(GroupError::CoordinatorNotAvailable);
    }
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        let outcome = if m.member_id.is_empty() {
            match m
                .group_instance_id
                .as_deref()
                .and_then(|i| group.static_member_id(i))
                .map(str::to_string)
            {
                Some(id) => {
                    remove_current_member(group, env, &id, m.reason.as_deref());
                    None
                }
                None => Some(GroupError::UnknownMemberId),
            }
        } else if group.is_pending_member(&m.member_id) {
            group.remove(&m.member_id);
            env.cancel_heartbeat(&group.id, &m.member_id);
            None
        } else {
            match group.validate_member(&m.member_id, m.group_instance_id.as_deref()) {
                Ok(()) => {
                    remove_current_member(group, env, &m.member_id, m.reason.as_deref());
                    None
                }
                Err(e) => Some(e),
            }
        };
        out.push(outcome);
    }
    if out.iter().any(Option::is_none) {
        match group.state() {
            GroupState::Stable | GroupState::CompletingRebalance => {
                maybe_prepare_rebalance_or_complete_join(group, env, "members left");
            }
            GroupState::PreparingRebalance => maybe_complete_join_phase(group, env),
            GroupState::Empty | GroupState::Dead => {}
        }
    }
    Ok(out)
}

pub(super) fn expire_heartbeat(group: &mut ClassicGroup, env: &mut Env<'_>, member_id: &str) {
    if group.is_in(GroupState::Dead) {
        return;
    }
    if group.is_pending_member(member_id) {
        info!(group = %group.id, member = %member_id, "pending member expired");
        group.remove(member_id);
        if group.is_in(GroupState::PreparingRebalance) && group.has_all_members_joined() {
            complete_join(group, env);
        }
        return;
    }
    let Some(member) = group.member(member_id) else {
        return;
    };
    if !member.has_satisfied_heartbeat() {
        info!(group = %group.id, member = %member_id, "session expired; removing member");
        remove_member_and_update_group(group, env, member_id);
    }
}

fn remove_member_and_update_group(group: &mut ClassicGroup, env: &mut Env<'_>, member_id: &str) {
    // A new member may time out while parked: answer it so it can retry.
    group.complete_join(
        member_id,
        JoinGroupResult::error("", GroupError::UnknownMemberId),
    );
    group.remove(member_id);
    env.cancel_heartbeat(&group.id, member_id);
    match group.state() {
        GroupState::Stable | GroupState::CompletingRebalance => {
            maybe_prepare_rebalance_or_complete_join(group, env, "member removed");
        }
        GroupState::PreparingRebalance if group.has_all_members_joined() => {
            complete_join(group, env)
        }
        _ => {}
    }
}

fn remove_current_member(
    group: &mut ClassicGroup,
    env: &mut Env<'_>,
    member_id: &str,
    reason: Option<&str>,
) {
    env.cancel_heartbeat(&group.id, member_id);
    info!(group = %group.id, member = %member_id, reason = reason.unwrap_or("not provided"), "member left");
    group.complete_join(
        member_id,
        JoinGroupResult::error("", GroupError::UnknownMemberId),
    );
    group.remove(member_id);
}
