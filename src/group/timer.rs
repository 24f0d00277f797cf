//! The coordinator's deadlines (Kafka's `CoordinatorTimer`): one entry per
//! key, rescheduling replaces it, cancelling removes it. Deadlines are
//! absolute `now_ms` values; nothing here reads a clock or sleeps. The
//! coordinator's `tick(now_ms)` pops what is due; the timer task only sleeps
//! until [`Timers::next_deadline`].

use std::collections::{BTreeSet, HashMap};

/// What a deadline is for. Keys name their group (and member), so removing
/// a group or member can remove its timers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TimerKey {
    /// A member's (or pending member's) session.
    Heartbeat { group: String, member: String },
    /// The end of a join phase.
    Join { group: String },
    /// Members that must send SyncGroup before this.
    Sync { group: String },
    /// A consumer group member's deadline to revoke partitions.
    Revocation { group: String, member: String },
    /// A classic-protocol member of a consumer group told to rejoin
    /// (REBALANCE_IN_PROGRESS) must send JoinGroup before this (Kafka's
    /// `consumerGroupJoinKey`).
    ClassicJoin { group: String, member: String },
    /// A classic-protocol member of a consumer group that joined must send
    /// SyncGroup before this (Kafka's `consumerGroupSyncKey`).
    ClassicSync { group: String, member: String },
    /// Periodic expiry of old committed offsets.
    OffsetExpiry,
}

impl TimerKey {
    /// The session of `member` of `group`.
    pub(crate) fn heartbeat(group: &str, member: &str) -> TimerKey {
        TimerKey::Heartbeat {
            group: group.to_string(),
            member: member.to_string(),
        }
    }

    /// The end of `group`'s join phase.
    pub(crate) fn join(group: &str) -> TimerKey {
        TimerKey::Join {
            group: group.to_string(),
        }
    }

    /// The revocation deadline of `member` of consumer group `group`.
    pub(crate) fn revocation(group: &str, member: &str) -> TimerKey {
        TimerKey::Revocation {
            group: group.to_string(),
            member: member.to_string(),
        }
    }

    /// The rejoin deadline of classic member `member` of consumer group `group`.
    pub(crate) fn classic_join(group: &str, member: &str) -> TimerKey {
        TimerKey::ClassicJoin {
            group: group.to_string(),
            member: member.to_string(),
        }
    }

    /// The SyncGroup deadline of classic member `member` of consumer group `group`.
    pub(crate) fn classic_sync(group: &str, member: &str) -> TimerKey {
        TimerKey::ClassicSync {
            group: group.to_string(),
            member: member.to_string(),
        }
    }

    /// `group`'s deadline for SyncGroups.
    pub(crate) fn sync(group: &str) -> TimerKey {
        TimerKey::Sync {
            group: group.to_string(),
        }
    }
}

/// What to do when a deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerAction {
    /// Evict the member unless it is parked in a rebalance.
    Heartbeat,
    /// The initial rebalance of a new group: extend it while members keep
    /// arriving (by `delay_ms`, at most `remaining_ms` in total), then
    /// complete the join phase.
    InitialJoin { delay_ms: i64, remaining_ms: i64 },
    /// Complete the join phase with whoever rejoined.
    CompleteJoin,
    /// Evict members of `generation` that never sent SyncGroup.
    PendingSync { generation: i32 },
    /// Fence a consumer group member still at `member_epoch`.
    Revocation { member_epoch: i32 },
    /// Fence a classic-protocol member of a consumer group: it did not
    /// rejoin or sync within its rebalance timeout.
    FenceClassic,
    /// Expire committed offsets.
    OffsetExpiry,
}

/// Scheduled deadlines.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    queue: BTreeSet<(i64, TimerKey)>,
    entries: HashMap<TimerKey, (i64, TimerAction)>,
    /// Set when a deadline earlier than every other was scheduled; the
    /// coordinator then wakes the timer task.
    earlier: bool,
}

impl Timers {
    /// Schedules (or reschedules) `key` at `at_ms`.
    pub(crate) fn schedule(&mut self, key: TimerKey, at_ms: i64, action: TimerAction) {
        if self.next_deadline().is_none_or(|next| at_ms < next) {
            self.earlier = true;
        }
        if let Some((old, _)) = self.entries.insert(key.clone(), (at_ms, action)) {
            self.queue.remove(&(old, key.clone()));
        }
        self.queue.insert((at_ms, key));
    }

    /// Schedules `key` at `at_ms` unless it is scheduled already (Kafka's
    /// `scheduleIfAbsent`: a deadline that keeps being asked for does not
    /// move).
    pub(crate) fn schedule_if_absent(&mut self, key: TimerKey, at_ms: i64, action: TimerAction) {
        if !self.entries.contains_key(&key) {
            self.schedule(key, at_ms, action);
        }
    }

    /// Cancels `key` if scheduled.
    pub(crate) fn cancel(&mut self, key: &TimerKey) {
        if let Some((at, _)) = self.entries.remove(key) {
            self.queue.remove(&(at, key.clone()));
        }
    }

    /// Cancels every timer of `group` (its members' sessions included).
    pub(crate) fn cancel_group(&mut self, group: &str) {
        let keys: Vec<TimerKey> = self
            .entries
            .keys()
            .filter(|k| match k {
                TimerKey::Heartbeat { group: g, .. }
                | TimerKey::Revocation { group: g, .. }
                | TimerKey::ClassicJoin { group: g, .. }
                | TimerKey::ClassicSync { group: g, .. }
                | TimerKey::Join { group: g }
                | TimerKey::Sync { group: g } => g == group,
                TimerKey::OffsetExpiry => false,
            })
            .cloned()
            .collect();
        for k in keys {
            self.cancel(&k);
        }
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<i64> {
        self.queue.first().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest timer if it is due at `now_ms`.
    pub(crate) fn pop_due(&mut self, now_ms: i64) -> Option<(TimerKey, TimerAction)> {
        let (at, _) = self.queue.first()?;
        if *at > now_ms {
            return None;
        }
        let (_, key) = self.queue.pop_first()?;
        let (_, action) = self.entries.remove(&key)?;
        Some((key, action))
    }

    /// The deadline of `key`, if scheduled.
    #[cfg(test)]
    pub(crate) fn deadline(&self, key: &TimerKey) -> Option<i64> {
        self.entries.get(key).map(|(at, _)| *at)
    }

    /// Number of scheduled timers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns and clears the "an earlier deadline was scheduled" flag.
    pub(crate) fn take_earlier(&mut self) -> bool {
        std::mem::take(&mut self.earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(m: &str) -> TimerKey {
        TimerKey::Heartbeat {
            group: "g".into(),
            member: m.into(),
        }
    }

    #[test]
    fn reschedule_replaces_and_pop_is_in_deadline_order() {
        let mut t = Timers::default();
        t.schedule(hb("a"), 100, TimerAction::Heartbeat);
        assert!(t.take_earlier());
        t.schedule(hb("b"), 50, TimerAction::Heartbeat);
        assert!(t.take_earlier());
        t.schedule(hb("a"), 200, TimerAction::Heartbeat);
        assert!(!t.take_earlier());
        assert_eq!(t.len(), 2);
        assert_eq!(t.next_deadline(), Some(50));
        assert_eq!(t.pop_due(49), None);
        assert_eq!(t.pop_due(300).map(|(k, _)| k), Some(hb("b")));
        assert_eq!(t.pop_due(199), None);
        assert_eq!(t.pop_due(200).map(|(k, _)| k), Some(hb("a")));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn cancel_group_leaves_other_groups() {
        let mut t = Timers::default();
        t.schedule(hb("a"), 1, TimerAction::Heartbeat);
        t.schedule(
            TimerKey::Join { group: "g".into() },
            2,
            TimerAction::CompleteJoin,
        );
        t.schedule(
            TimerKey::Join { group: "h".into() },
            3,
            TimerAction::CompleteJoin,
        );
        t.schedule(TimerKey::OffsetExpiry, 4, TimerAction::OffsetExpiry);
        t.cancel_group("g");
        assert_eq!(t.len(), 2);
        assert_eq!(t.next_deadline(), Some(3));
        t.cancel(&TimerKey::OffsetExpiry);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn schedule_if_absent_keeps_the_first_deadline() {
        let mut t = Timers::default();
        let k = TimerKey::classic_join("g", "m");
        t.schedule_if_absent(k.clone(), 100, TimerAction::FenceClassic);
        t.schedule_if_absent(k.clone(), 500, TimerAction::FenceClassic);
        assert_eq!(t.deadline(&k), Some(100));
        t.cancel_group("g");
        assert_eq!(t.len(), 0);
    }
}
