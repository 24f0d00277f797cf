//! [`GroupCoordinator`]: the entry points handlers await for every group
//! API, routing each to the group store, the offset store or the protocol
//! code of the group's type (Kafka's `GroupCoordinatorService` and
//! `GroupCoordinatorShard` in one, for this single broker).
//!
//! # Shape
//!
//! All state (the group store, the offset store, the timer table) sits
//! behind one `std::sync::Mutex`. Every operation takes it once, runs to the
//! end without awaiting, and releases it: critical sections are bookkeeping
//! plus, for operations that must be remembered, one append of an
//! uncompressed batch to `__consumer_offsets` (a write into the page cache;
//! the fsync the flush policy may ask for happens after the lock is
//! released, see `offsets.rs`). Nothing holds the lock across `.await`.
//!
//! JoinGroup and SyncGroup may have to wait for other members. Such a
//! request parks a `oneshot::Sender` in its member
//! ([`Member`](super::member::Member)); whoever completes the phase (another
//! member's request, or a timer) answers it. The handler awaits the
//! receiver without holding anything.
//!
//! Time: every transition takes `now_ms` (read once per operation from the
//! injected [`Clock`]); deadlines (sessions, join and sync phases, offset
//! expiry) are entries of a timer table, fired by [`GroupCoordinator::tick`].
//! In the broker a task ([`GroupCoordinator::run_timers`]) sleeps until the
//! earliest deadline and is woken through a `Notify` when an earlier one is
//! scheduled; tests call `tick` with a `ManualClock` instead of sleeping.
//!
//! Removing a member removes its session timer; a group is removed (with all
//! its timers) when it is deleted, or when it is empty and its offsets have
//! expired, so groups and members that come and go leave nothing behind.
//!
//! # Routing
//!
//! - JoinGroup, SyncGroup, Heartbeat, LeaveGroup: classic groups only
//!   (`classic_join.rs`, `classic_rebalance.rs`, `classic_membership.rs`).
//! - OffsetCommit/Fetch/Delete, TxnOffsetCommit: the offset store, for a
//!   group of any type.
//! - DescribeGroups, ListGroups: the group store, for groups of any type.
//! - DeleteGroups and offset expiry: both stores (offsets first, then the
//!   group's own tombstones), as Kafka's shard does.
//! - Replay at load (`replay`): each decoded record type goes to its
//!   store; a new record type (KIP-848's consumer group records, decoded by
//!   their key version in `offsets.rs`) adds an arm there.
//! - Timers (`fire`, in `coordinator_timers.rs`): by key; a new group type's timers add keys.
//!
//! The public request and result types live where they are produced and
//! are re-exported here, so `group::coordinator::JoinGroupParams` etc. keep
//! their paths.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tracing::{error, info};

pub use super::classic_api::{
    HeartbeatParams, JoinGroupParams, JoinGroupResult, LeavingMember, SyncGroupParams,
    SyncGroupResult,
};
#[cfg(test)]
use super::classic_group::ClassicGroup;
use super::classic_join::join;
use super::classic_membership::{heartbeat, leave};
use super::classic_rebalance::sync;
use super::config::GroupConfig;
pub use super::consumer::heartbeat::{
    HeartbeatRequest as ConsumerHeartbeatRequest, HeartbeatResponse as ConsumerHeartbeatResponse,
};
use super::consumer::topics::TopicsImage;
pub use super::consumer_membership::ConsumerGroupDescription;
use super::consumer_membership::{
    consumer_heartbeat, describe_consumer_groups, validate_offset_fetch,
};
use super::coordinator_timers::fire;
use super::env::Env;
use super::error::GroupError;
use super::group_metadata_manager::GroupMetadataManager;
pub use super::group_metadata_manager::{GroupDescription, ListedGroup, CONSUMER_GROUP_TYPE};
use super::offset_metadata_manager::OffsetMetadataManager;
pub use super::offset_metadata_manager::{
    CommitOffset, CommitParams, FetchedTopic, TxnCommitParams,
};
use super::offsets::{CoordinatorRecord, OffsetsTopic, Replayed};
#[cfg(test)]
use super::state::GroupState;
use super::timer::{TimerAction, TimerKey, Timers};
use crate::clock::Clock;
use crate::storage::{LogManager, StorageError};

/// `(topic, partitions)` per topic.
pub type TopicPartitions = Vec<(String, Vec<i32>)>;

/// An answer now, or one to await.
#[derive(Debug)]
pub enum Pending<T> {
    /// Answered at once.
    Ready(T),
    /// Parked: the answer arrives on this channel.
    Waiting(oneshot::Receiver<T>),
}

/// Where the coordinator reads the cluster's topics when no request brought
/// them (the broker's topics minus the internal ones).
#[derive(Clone)]
pub struct TopicsSource(pub Arc<dyn Fn() -> TopicsImage + Send + Sync>);

impl std::fmt::Debug for TopicsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TopicsSource")
    }
}

/// The group coordinator. Shared as `Arc<GroupCoordinator>`.
#[derive(Debug)]
pub struct GroupCoordinator {
    config: GroupConfig,
    clock: Arc<dyn Clock>,
    topic: OffsetsTopic,
    /// Read before timers fire: a fencing timer recomputes assignments,
    /// which must see the topics even when no heartbeat, JoinGroup or
    /// SyncGroup brought them since the start (Kafka's coordinator has its
    /// metadata image from the moment it loads).
    topics_source: std::sync::OnceLock<TopicsSource>,
    /// Groups, offsets and deadlines. A std mutex: no critical section
    /// awaits, and each is short (see the module docs).
    inner: Mutex<Inner>,
    /// Wakes the timer task when an earlier deadline was scheduled.
    wakeup: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    groups: GroupMetadataManager,
    offsets: OffsetMetadataManager,
    timers: Timers,
}

impl GroupCoordinator {
    /// Opens (creating if needed) `__consumer_offsets` and replays it.
    pub fn open(
        config: GroupConfig,
        logs: &LogManager,
        clock: Arc<dyn Clock>,
    ) -> Result<GroupCoordinator, StorageError> {
        let now = clock.now_ms();
        let topic = OffsetsTopic::open(logs, &config, now)?;
        let mut inner = Inner::default();
        {
            let Inner {
                groups, offsets, ..
            } = &mut inner;
            topic.replay(|item| replay(groups, offsets, &topic, item, now))?;
        }
        inner.groups.schedule_loaded_sessions(
            &mut inner.timers,
            now,
            config.consumer.session_timeout_ms,
        );
        inner.timers.schedule(
            TimerKey::OffsetExpiry,
            now + config.offsets_retention_check_interval_ms,
            TimerAction::OffsetExpiry,
        );
        if inner.groups.len() > 0 {
            info!(groups = inner.groups.len(), "loaded consumer groups");
        }
        Ok(GroupCoordinator {
            config,
            clock,
            topic,
            topics_source: std::sync::OnceLock::new(),
            inner: Mutex::new(inner),
            wakeup: Notify::new(),
        })
    }

    /// A poisoned lock means a panic (an assertion on the transition table)
    /// in another operation; the state is still structurally valid, so go on.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` under the lock at `now`, then (unlocked) wakes the timer
    /// task if needed and flushes what was appended.
    fn run_at<R>(
        &self,
        now: i64,
        f: impl FnOnce(&mut GroupMetadataManager, &mut OffsetMetadataManager, &mut Env<'_>) -> R,
    ) -> (R, Result<(), StorageError>) {
        let (r, written, earlier) = {
            let mut guard = self.lock();
            let Inner {
                groups,
                offsets,
                timers,
            } = &mut *guard;
            let mut env = Env {
                now,
                config: &self.config,
                topic: &self.topic,
                timers,
                written: BTreeSet::new(),
                appended: false,
            };
            let r = f(groups, offsets, &mut env);
            let written = std::mem::take(&mut env.written);
            (r, written, timers.take_earlier())
        };
        if earlier {
            self.wakeup.notify_one();
        }
        let mut flushed = Ok(());
        for p in written {
            if let Err(e) = self.topic.flush_if_due(p) {
                error!(error = %e, cause = ?std::error::Error::source(&e), "cannot flush __consumer_offsets");
                flushed = Err(e);
            }
        }
        (r, flushed)
    }

    fn run<R>(
        &self,
        f: impl FnOnce(&mut GroupMetadataManager, &mut OffsetMetadataManager, &mut Env<'_>) -> R,
    ) -> (R, Result<(), StorageError>) {
        self.run_at(self.clock.now_ms(), f)
    }

    // -- JoinGroup ------------------------------------------------------------

    /// JoinGroup: answers at once or parks the request.
    pub fn begin_join(&self, p: JoinGroupParams) -> Pending<JoinGroupResult> {
        if p.group_id.is_empty() {
            return Pending::Ready(JoinGroupResult::error(
                &p.member_id,
                GroupError::InvalidGroupId,
            ));
        }
        let (min, max) = (
            self.config.min_session_timeout_ms,
            self.config.max_session_timeout_ms,
        );
        if p.session_timeout_ms < min || p.session_timeout_ms > max {
            return Pending::Ready(JoinGroupResult::error(
                &p.member_id,
                GroupError::InvalidSessionTimeout {
                    timeout_ms: p.session_timeout_ms,
                    min_ms: min,
                    max_ms: max,
                },
            ));
        }
        let member_id = p.member_id.clone();
        let (tx, rx) = oneshot::channel();
        let (now, _) = self.run(|groups, _, env| join(groups, env, p, tx));
        match now {
            Some(r) => Pending::Ready(r),
            None => pending(rx, || {
                JoinGroupResult::error(&member_id, GroupError::RebalanceInProgress)
            }),
        }
    }

    /// JoinGroup, awaiting the end of the join phase if needed.
    pub async fn join_group(&self, p: JoinGroupParams) -> JoinGroupResult {
        let member_id = p.member_id.clone();
        match self.begin_join(p) {
            Pending::Ready(r) => r,
            // The member was removed or rejoined on another connection.
            Pending::Waiting(rx) => rx.await.unwrap_or_else(|_| {
                JoinGroupResult::error(&member_id, GroupError::RebalanceInProgress)
            }),
        }
    }

    // -- SyncGroup ------------------------------------------------------------

    /// SyncGroup: answers at once or parks the request until the leader's
    /// assignment arrives.
    pub fn begin_sync(&self, p: SyncGroupParams) -> Pending<SyncGroupResult> {
        if p.group_id.is_empty() {
            return Pending::Ready(SyncGroupResult::error(GroupError::InvalidGroupId));
        }
        let (tx, rx) = oneshot::channel();
        let (now, _) = self.run(|groups, _, env| sync(groups, env, p, tx));
        match now {
            Some(r) => Pending::Ready(r),
            None => pending(rx, || SyncGroupResult::error(GroupError::UnknownMemberId)),
        }
    }

    /// SyncGroup, awaiting the leader's assignment if needed.
    pub async fn sync_group(&self, p: SyncGroupParams) -> SyncGroupResult {
        match self.begin_sync(p) {
            Pending::Ready(r) => r,
            Pending::Waiting(rx) => rx
                .await
                .unwrap_or_else(|_| SyncGroupResult::error(GroupError::UnknownMemberId)),
        }
    }

    // -- Heartbeat, LeaveGroup -----------------------------------------------

    /// Heartbeat.
    pub fn heartbeat(&self, p: HeartbeatParams) -> Result<(), GroupError> {
        if p.group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        self.run(|groups, _, env| heartbeat(groups, env, &p)).0
    }

    /// LeaveGroup: a per-member outcome (`None` = left), or a group-level
    /// error.
    pub fn leave_group(
        &self,
        group_id: &str,
        members: Vec<LeavingMember>,
    ) -> Result<Vec<Option<GroupError>>, GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        // Leaving members of a consumer group are fenced against the
        // topics as they are (no handler brings them to LeaveGroup).
        let topics = self.topics_source.get().map(|source| (source.0)());
        self.run(|groups, _, env| {
            if let Some(t) = topics {
                groups.topics = t;
            }
            leave(groups, env, group_id, &members)
        })
        .0
    }

    // -- KIP-848 consumer groups ------------------------------------------------

    /// ConsumerGroupHeartbeat (join, heartbeat, leave), against the topics
    /// of `topics`. The records it produced are in `__consumer_offsets`
    /// (and fsynced if the flush policy says so) before this returns.
    pub fn consumer_group_heartbeat(
        &self,
        req: ConsumerHeartbeatRequest,
        topics: TopicsImage,
    ) -> Result<ConsumerHeartbeatResponse, GroupError> {
        let (r, flushed) = self.run(|groups, _, env| consumer_heartbeat(groups, env, topics, &req));
        flushed?;
        r
    }

    /// Gives the coordinator the current topics (JoinGroup and SyncGroup
    /// handlers call it: classic members of consumer groups are assigned
    /// against them).
    pub fn refresh_topics(&self, topics: TopicsImage) {
        self.lock().groups.topics = topics;
    }

    /// Sets where the topics come from when timers fire (once; the broker
    /// does it right after [`GroupCoordinator::open`], before the timer
    /// task starts) and reads them at once.
    pub fn set_topics_source(&self, source: TopicsSource) {
        let topics = (source.0)();
        if self.topics_source.set(source).is_ok() {
            self.refresh_topics(topics);
        }
    }

    /// ConsumerGroupDescribe.
    pub fn consumer_group_describe(
        &self,
        ids: &[String],
        topics: &TopicsImage,
    ) -> Vec<ConsumerGroupDescription> {
        let default = self.config.consumer.default_assignor();
        describe_consumer_groups(&self.lock().groups, topics, default, ids)
    }

    /// For the console: the partitions each member of consumer group `id`
    /// still has to revoke (member id -> `(topic, partitions)`), topics by
    /// name in `topics`; empty for other groups.
    pub fn consumer_pending_revocation(
        &self,
        id: &str,
        topics: &TopicsImage,
    ) -> Vec<(String, TopicPartitions)> {
        let st = self.lock();
        let Some(g) = st.groups.consumer(id) else {
            return Vec::new();
        };
        g.members()
            .values()
            .map(|m| {
                let named = m
                    .pending_revocation
                    .iter()
                    .filter(|(_, ps)| !ps.is_empty())
                    .filter_map(|(t, ps)| {
                        Some((topics.name(t)?.to_string(), ps.iter().copied().collect()))
                    })
                    .collect();
                (m.member_id.clone(), named)
            })
            .collect()
    }

    /// Rebalances (group epoch bumps) of consumer-protocol groups since start.
    pub fn consumer_group_rebalances(&self) -> u64 {
        self.lock().groups.consumer_rebalances
    }

    /// OffsetFetch v9+'s member check: for a consumer group, the member
    /// must exist (UNKNOWN_MEMBER_ID) at `member_epoch` (STALE_MEMBER_EPOCH).
    pub fn validate_offset_fetch(
        &self,
        group_id: &str,
        member_id: Option<&str>,
        member_epoch: i32,
    ) -> Result<(), GroupError> {
        validate_offset_fetch(&self.lock().groups, group_id, member_id, member_epoch)
    }

    // -- Offsets --------------------------------------------------------------

    /// OffsetCommit: one outcome per offset of `p.offsets`, in order. The
    /// commit is in `__consumer_offsets` (and fsynced if the flush policy
    /// says so) before this returns.
    pub fn commit_offsets(&self, p: CommitParams) -> Vec<Result<(), GroupError>> {
        let n = p.offsets.len();
        let (mut results, flushed) =
            self.run(|groups, offsets, env| offsets.commit(groups, env, &p));
        if let Err(e) = flushed {
            fail_all(&mut results, e);
        }
        debug_assert_eq!(results.len(), n);
        results
    }

    /// OffsetFetch of one group: the requested partitions (-1 for those
    /// without a committed offset), or with `topics = None` every committed
    /// offset of the group. `require_stable` needs no waiting: without
    /// transactions no commit is ever pending.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<Vec<(String, Vec<i32>)>>,
    ) -> Vec<FetchedTopic> {
        self.lock().offsets.fetch(group_id, topics)
    }

    /// The partitions of `group_id` with a transactional offset commit
    /// still waiting for its transaction (OffsetFetch `require_stable`
    /// answers UNSTABLE_OFFSET_COMMIT for them).
    pub fn pending_txn_partitions(&self, group_id: &str) -> BTreeSet<(String, i32)> {
        self.lock().offsets.pending_txn_partitions(group_id)
    }

    /// The `__consumer_offsets` partition holding `group_id` (what
    /// AddOffsetsToTxn adds to a transaction).
    pub fn offsets_partition_for(&self, group_id: &str) -> usize {
        self.topic.partition_for(group_id)
    }

    /// TxnOffsetCommit: validates like an offset commit, then writes the
    /// offsets to `__consumer_offsets` inside the producer's transaction.
    /// They become visible to OffsetFetch when [`Self::complete_txn`]
    /// commits them, and vanish if it aborts.
    pub fn txn_commit_offsets(&self, p: TxnCommitParams) -> Vec<Result<(), GroupError>> {
        let now = self.clock.now_ms();
        let (mut results, written) = {
            let mut inner = self.lock();
            let Inner {
                groups, offsets, ..
            } = &mut *inner;
            offsets.txn_commit(groups, &self.topic, &self.config, now, &p)
        };
        if let Some(partition) = written {
            if let Err(e) = self.topic.flush_if_due(partition) {
                fail_all(&mut results, e);
            }
        }
        results
    }

    /// Ends `producer_id`'s transaction on `__consumer_offsets` partition
    /// `partition`: writes the marker there, then makes its pending offsets
    /// committed (or drops them). Called by the transaction coordinator.
    pub fn complete_txn(
        &self,
        partition: usize,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
    ) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        let log = self
            .topic
            .partition_log(partition)
            .ok_or_else(|| StorageError::UnknownTopic(super::offsets::OFFSETS_TOPIC.into()))?;
        {
            // The marker and the in-memory switch happen under the lock so a
            // concurrent OffsetFetch never sees one without the other.
            let mut inner = self.lock();
            log.write_txn_marker(producer_id, producer_epoch, commit, coordinator_epoch, now)?;
            let Inner {
                groups, offsets, ..
            } = &mut *inner;
            let topic = &self.topic;
            offsets.complete_txn(
                groups,
                producer_id,
                commit,
                |g| topic.partition_for(g) == partition,
                now,
            );
        }
        self.topic.flush_if_due(partition)
    }

    /// OffsetDelete: per topic, per partition outcome; or a group-level error.
    #[allow(clippy::type_complexity)]
    pub fn delete_offsets(
        &self,
        group_id: &str,
        topics: Vec<(String, Vec<i32>)>,
    ) -> Result<Vec<(String, Vec<(i32, Option<GroupError>)>)>, GroupError> {
        let (r, flushed) =
            self.run(|groups, offsets, env| offsets.delete_offsets(groups, env, group_id, &topics));
        flushed?;
        r
    }

    // -- Inspection and administration ----------------------------------------

    /// DescribeGroups.
    pub fn describe_groups(&self, ids: &[String]) -> Vec<GroupDescription> {
        self.lock().groups.describe_groups(ids)
    }

    /// ListGroups, filtered by state names and group types (both
    /// case-insensitive; an empty filter matches everything).
    pub fn list_groups(&self, states: &[String], types: &[String]) -> Vec<ListedGroup> {
        self.lock().groups.list_groups(states, types)
    }

    /// DeleteGroups: removes empty groups and their offsets.
    pub fn delete_groups(&self, ids: &[String]) -> Vec<Result<(), GroupError>> {
        let (mut results, flushed) = self.run(|groups, offsets, env| {
            ids.iter()
                .map(|id| delete_group(groups, offsets, env, id))
                .collect::<Vec<_>>()
        });
        if let Err(e) = flushed {
            fail_all(&mut results, e);
        }
        results
    }

    /// Removes every group's committed offsets of a deleted topic (Kafka's
    /// `onPartitionsDeleted`), so a topic re-created under the same name is
    /// not consumed from stale positions. Returns how many were removed.
    pub fn delete_topic_offsets(&self, topic: &str) -> Result<usize, GroupError> {
        let (r, flushed) = self.run(|_, offsets, env| offsets.delete_topic_offsets(env, topic));
        flushed?;
        r
    }

    // -- Time -------------------------------------------------------------------

    /// Fires every deadline due at `now_ms` (sessions, join and sync phases,
    /// offset expiry), in deadline order.
    pub fn tick(&self, now_ms: i64) {
        // The topics, read outside the lock and only when something is due.
        let topics = match (self.topics_source.get(), self.next_deadline()) {
            (Some(source), Some(at)) if at <= now_ms => Some((source.0)()),
            _ => None,
        };
        // A failed flush is logged by `run_at`; nobody awaits a timer.
        let ((), _flushed) = self.run_at(now_ms, |groups, offsets, env| {
            if let Some(t) = topics {
                groups.topics = t;
            }
            while let Some((key, action)) = env.timers.pop_due(now_ms) {
                fire(groups, offsets, env, key, action);
            }
        });
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<i64> {
        self.lock().timers.next_deadline()
    }

    /// Drives [`GroupCoordinator::tick`] forever: sleeps until the earliest
    /// deadline, or until an operation schedules an earlier one.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            // `notify_one` stores a permit when nobody waits, so a deadline
            // scheduled between `tick` and the wait below is not missed.
            let now = self.clock.now_ms();
            // A bug (a failed transition assertion) must not stop every
            // session and rebalance timer of the broker for good.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.tick(now))).is_err() {
                error!("group coordinator timer tick panicked; timers keep running");
            }
            match self.next_deadline() {
                Some(at) => {
                    let wait = u64::try_from(at.saturating_sub(self.clock.now_ms())).unwrap_or(0);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                        _ = self.wakeup.notified() => {}
                    }
                }
                None => self.wakeup.notified().await,
            }
        }
    }

    /// Spawns [`GroupCoordinator::run_timers`] on the current runtime.
    pub fn spawn_timer_task(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(Arc::clone(self).run_timers())
    }

    // -- Introspection (tests, metrics) ---------------------------------------

    /// Number of groups held in memory.
    pub fn group_count(&self) -> usize {
        self.lock().groups.len()
    }

    /// Number of scheduled deadlines.
    #[cfg(test)]
    pub fn timer_count(&self) -> usize {
        self.lock().timers.len()
    }

    /// The state of a group, if it exists.
    /// Whether a group of any type (classic or consumer) has this id.
    pub fn has_group(&self, group_id: &str) -> bool {
        self.lock().groups.contains(group_id)
    }

    #[cfg(test)]
    pub fn group_state(&self, group_id: &str) -> Option<GroupState> {
        self.lock()
            .groups
            .classic(group_id)
            .map(ClassicGroup::state)
    }

    /// The generation of a group, if it exists.
    #[cfg(test)]
    pub fn generation(&self, group_id: &str) -> Option<i32> {
        self.lock()
            .groups
            .classic(group_id)
            .map(|g| g.generation_id)
    }
}

/// `Ready` if the operation already answered through the channel (e.g. the
/// leader's SyncGroup, or the join that completed the phase), else `Waiting`.
/// A closed channel means the member was removed or replaced meanwhile.
fn pending<T>(mut rx: oneshot::Receiver<T>, closed: impl FnOnce() -> T) -> Pending<T> {
    match rx.try_recv() {
        Ok(r) => Pending::Ready(r),
        Err(oneshot::error::TryRecvError::Empty) => Pending::Waiting(rx),
        Err(oneshot::error::TryRecvError::Closed) => Pending::Ready(closed()),
    }
}

/// A failed flush fails every outcome that had succeeded: the client must
/// not believe unflushed state is durable.
fn fail_all(results: &mut [Result<(), GroupError>], e: StorageError) {
    let e = GroupError::from(e);
    for r in results.iter_mut().filter(|r| r.is_ok()) {
        *r = Err(e.clone());
    }
}

/// Applies one replayed `__consumer_offsets` item (Kafka's
/// `GroupCoordinatorShard.replay`): each record type goes to the store that
/// owns it; the last record per key wins, as after compaction.
fn replay(
    groups: &mut GroupMetadataManager,
    offsets: &mut OffsetMetadataManager,
    topic: &OffsetsTopic,
    item: Replayed,
    now: i64,
) {
    match item {
        Replayed::Record(CoordinatorRecord::GroupMetadata { group, value }) => {
            let has_offsets = offsets.has_offsets(&group);
            groups.replay_classic_metadata(&group, value.as_ref(), has_offsets, now);
        }
        Replayed::Record(CoordinatorRecord::ConsumerGroup { group, record }) => {
            let has_offsets = offsets.has_offsets(&group);
            groups.replay_consumer(&group, &record, has_offsets, now);
        }
        Replayed::Record(CoordinatorRecord::OffsetCommit {
            group,
            topic,
            partition,
            value,
        }) => offsets.replay_offset_commit(groups, &group, &topic, partition, value, now),
        Replayed::TxnRecord {
            producer_id,
            record:
                CoordinatorRecord::OffsetCommit {
                    group,
                    topic,
                    partition,
                    value: Some(v),
                },
            ..
        } => offsets.replay_txn_offset_commit(producer_id, group, topic, partition, v),
        // Kafka's coordinator only writes offset commits inside transactions.
        Replayed::TxnRecord { .. } => {}
        Replayed::Marker {
            partition,
            producer_id,
            commit,
        } => offsets.complete_txn(
            groups,
            producer_id,
            commit,
            |g| topic.partition_for(g) == partition,
            now,
        ),
    }
}

/// DeleteGroups of one group: its offsets' and its own tombstones in one
/// batch, then both stores forget it.
fn delete_group(
    groups: &mut GroupMetadataManager,
    offsets: &mut OffsetMetadataManager,
    env: &mut Env<'_>,
    id: &str,
) -> Result<(), GroupError> {
    let group = groups
        .get(id)
        .ok_or_else(|| GroupError::GroupIdNotFound(id.to_string()))?;
    group.validate_delete_group()?;
    let mut records = offsets.tombstones(id);
    records.extend(group.tombstone_records());
    env.append(&records)?;
    offsets.remove_group(id);
    groups.remove(env.timers, id);
    info!(group = %id, "deleted group");
    Ok(())
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
