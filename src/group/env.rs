//! [`Env`]: what one operation under the coordinator's lock needs besides
//! the groups and offsets: the time it runs at, the settings, the timer
//! table, and the appender to `__consumer_offsets` (which remembers the
//! partitions written, so the coordinator flushes them once the lock is
//! released).
//!
//! A leaf below every group type: the classic protocol, the group store and
//! the offset store all take `&mut Env`, and it knows none of them.

use std::collections::BTreeSet;

use super::config::GroupConfig;
use super::offsets::{CoordinatorRecord, OffsetsTopic};
use super::timer::{TimerAction, TimerKey, Timers};
use crate::storage::StorageError;

/// The context of one operation under the coordinator's lock.
pub(crate) struct Env<'a> {
    /// The time of the operation (read once from the clock).
    pub(crate) now: i64,
    pub(crate) config: &'a GroupConfig,
    pub(crate) topic: &'a OffsetsTopic,
    pub(crate) timers: &'a mut Timers,
    /// `__consumer_offsets` partitions appended to (flushed after unlock).
    pub(crate) written: BTreeSet<usize>,
    /// Whether this operation appended anything.
    pub(crate) appended: bool,
}

impl Env<'_> {
    /// Appends `records` (all of one group) outside any transaction.
    pub(crate) fn append(&mut self, records: &[CoordinatorRecord]) -> Result<(), StorageError> {
        let p = self.topic.append(records, None, self.now)?;
        self.written.insert(p);
        self.appended = true;
        Ok(())
    }

    /// Schedules (or reschedules) `key` to fire `after_ms` from now.
    pub(crate) fn schedule(&mut self, key: TimerKey, after_ms: i64, action: TimerAction) {
        self.timers
            .schedule(key, self.now.saturating_add(after_ms.max(0)), action);
    }

    /// Schedules `key` to fire `after_ms` from now unless it is scheduled.
    pub(crate) fn schedule_if_absent(&mut self, key: TimerKey, after_ms: i64, action: TimerAction) {
        self.timers
            .schedule_if_absent(key, self.now.saturating_add(after_ms.max(0)), action);
    }

    /// (Re)starts the session of `member` of `group`.
    pub(crate) fn schedule_heartbeat(&mut self, group: &str, member: &str, timeout_ms: i64) {
        self.schedule(
            TimerKey::heartbeat(group, member),
            timeout_ms,
            TimerAction::Heartbeat,
        );
    }

    /// Stops the session timer of `member` of `group`.
    pub(crate) fn cancel_heartbeat(&mut self, group: &str, member: &str) {
        self.timers.cancel(&TimerKey::heartbeat(group, member));
    }
}
