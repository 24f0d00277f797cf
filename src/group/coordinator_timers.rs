//! What each due deadline of the coordinator does (Kafka's timer callbacks
//! in `GroupMetadataManager` and the shard's periodic offset expiry): the
//! dispatch of [`super::coordinator::GroupCoordinator::tick`], by key.

use tracing::{debug, info, warn};

use super::classic_membership::expire_heartbeat;
use super::classic_rebalance::{
    complete_join, expire_pending_sync, try_complete_initial_rebalance_else_schedule,
};
use super::consumer_membership::{
    consumer_classic_deadline_expired, consumer_revocation_expired, consumer_session_expired,
};
use super::env::Env;
use super::group_metadata_manager::GroupMetadataManager;
use super::offset_metadata_manager::OffsetMetadataManager;
use super::state::GroupState;
use super::timer::{TimerAction, TimerKey};

/// Expires old offsets of every group and removes groups left empty with
/// no offsets (Kafka's `cleanupGroupMetadata`).
fn cleanup_group_metadata(
    groups: &mut GroupMetadataManager,
    offsets: &mut OffsetMetadataManager,
    env: &mut Env<'_>,
) {
    let retention = env.config.offsets_retention_ms;
    for id in groups.sorted_ids() {
        let Some(group) = groups.get(&id) else {
            continue;
        };
        let (mut records, all_expired) = offsets.expired_offsets(group, env.now, retention);
        let delete = all_expired && group.is_empty();
        let expired = records.len();
        if delete {
            records.extend(group.tombstone_records());
        }
        if records.is_empty() {
            continue;
        }
        if let Err(e) = env.append(&records) {
            warn!(group = %id, error = %e, "cannot expire offsets");
            continue;
        }
        offsets.expire(&records);
        if expired > 0 {
            info!(group = %id, offsets = expired, "expired committed offsets");
        }
        if delete {
            debug!(group = %id, "removed empty group");
            groups.remove(env.timers, &id);
        }
    }
}

/// Fires one due timer.
pub(super) fn fire(
    groups: &mut GroupMetadataManager,
    offsets: &mut OffsetMetadataManager,
    env: &mut Env<'_>,
    key: TimerKey,
    action: TimerAction,
) {
    match (key, action) {
        (TimerKey::OffsetExpiry, _) => {
            cleanup_group_metadata(groups, offsets, env);
            let interval = env.config.offsets_retention_check_interval_ms.max(1);
            env.schedule(TimerKey::OffsetExpiry, interval, TimerAction::OffsetExpiry);
        }
        (TimerKey::Heartbeat { group, member }, _) => {
            if let Some(g) = groups.classic_mut(&group) {
                expire_heartbeat(g, env, &member);
            } else if groups.consumer(&group).is_some() {
                consumer_session_expired(groups, env, &group, &member);
            }
        }
        (TimerKey::Revocation { group, member }, TimerAction::Revocation { member_epoch }) => {
            consumer_revocation_expired(groups, env, &group, &member, member_epoch);
        }
        (TimerKey::Revocation { .. }, _) => {}
        (TimerKey::ClassicJoin { group, member }, _) => consumer_classic_deadline_expired(
            groups,
            env,
            &group,
            &member,
            "the classic member failed to join within the rebalance timeout",
        ),
        (TimerKey::ClassicSync { group, member }, _) => consumer_classic_deadline_expired(
            groups,
            env,
            &group,
            &member,
            "the member failed to sync within the rebalance timeout",
        ),
        (TimerKey::Join { group }, action) => {
            let Some(g) = groups.classic_mut(&group) else {
                return;
            };
            if !g.is_in(GroupState::PreparingRebalance) {
                return;
            }
            match action {
                TimerAction::InitialJoin {
                    delay_ms,
                    remaining_ms,
                } => try_complete_initial_rebalance_else_schedule(g, env, delay_ms, remaining_ms),
                _ => complete_join(g, env),
            }
        }
        (TimerKey::Sync { group }, TimerAction::PendingSync { generation }) => {
            if let Some(g) = groups.classic_mut(&group) {
                expire_pending_sync(g, env, generation);
            }
        }
        (TimerKey::Sync { .. }, _) => {}
    }
}
