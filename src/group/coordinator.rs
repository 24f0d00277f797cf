//! `GroupCoordinator`: the classic group protocol as Kafka's
//! `GroupMetadataManager` / `OffsetMetadataManager` run it, for every group
//! of this (single) broker.
//!
//! # Shape
//!
//! All state (groups, members, committed offsets, deadlines) sits behind
//! one `std::sync::Mutex`. Every operation takes it once, runs to the end
//! without awaiting, and releases it: critical sections are bookkeeping
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{oneshot, Notify};
use tracing::{debug, error, info, warn};

use super::classic_group::ClassicGroup;
use super::error::GroupError;
use super::member::{Member, Protocol};
use super::offsets::{
    CoordinatorRecord, GroupMetadataValue, OffsetAndMetadata, OffsetStore, Replayed,
};
use super::state::GroupState;
use super::timer::{TimerAction, TimerKey, Timers};
use super::GroupConfig;
use crate::clock::Clock;
use crate::storage::{LogManager, StorageError};

/// How long a new member's JoinGroup may stay parked before the member is
/// dropped (Kafka's `classicGroupNewMemberJoinTimeoutMs`): a client that
/// disconnected while parked would otherwise hold the rebalance until its
/// session... which never started.
const NEW_MEMBER_JOIN_TIMEOUT_MS: i64 = 5 * 60 * 1000;

/// The group type ListGroups (v5+) reports for classic groups.
pub const CLASSIC_GROUP_TYPE: &str = "classic";

// ---------------------------------------------------------------------------
// Requests and results (protocol-free; handlers translate)
// ---------------------------------------------------------------------------

/// A JoinGroup request.
#[derive(Debug, Clone)]
pub struct JoinGroupParams {
    /// Group id.
    pub group_id: String,
    /// Empty for a member that has none yet.
    pub member_id: String,
    /// `group.instance.id` (static membership).
    pub group_instance_id: Option<String>,
    /// Client id from the request header.
    pub client_id: String,
    /// Client address (`/127.0.0.1`).
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `max.poll.interval.ms` (v0: the session timeout).
    pub rebalance_timeout_ms: i32,
    /// "consumer", ...
    pub protocol_type: String,
    /// Supported protocols, most preferred first.
    pub protocols: Vec<Protocol>,
    /// JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED.
    pub require_known_member_id: bool,
    /// JoinGroup v9+: a rejoining static leader may skip the assignment.
    pub supports_skip_assignment: bool,
    /// Client-supplied reason (logged).
    pub reason: Option<String>,
}

/// One member as the leader's JoinGroup response lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Its metadata for the selected protocol.
    pub metadata: Bytes,
}

/// A JoinGroup answer.
#[derive(Debug, Clone)]
pub struct JoinGroupResult {
    /// The error, if any.
    pub error: Option<GroupError>,
    /// Generation (-1 on error).
    pub generation_id: i32,
    /// Group protocol type.
    pub protocol_type: Option<String>,
    /// Selected protocol.
    pub protocol_name: Option<String>,
    /// Leader member id.
    pub leader: String,
    /// v9+: the (static) leader must not recompute the assignment.
    pub skip_assignment: bool,
    /// The member's id (for MEMBER_ID_REQUIRED: the id to rejoin with).
    pub member_id: String,
    /// Every member, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinGroupResult {
    /// An error answer.
    pub fn error(member_id: &str, error: GroupError) -> JoinGroupResult {
        JoinGroupResult {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub struct SyncGroupParams {
    /// Group id.
    pub group_id: String,
    /// Generation the member joined.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// v5+: must match the group's if set.
    pub protocol_type: Option<String>,
    /// v5+: must match the group's if set.
    pub protocol_name: Option<String>,
    /// The leader's assignment: member id → opaque assignment.
    pub assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup answer.
#[derive(Debug, Clone)]
pub struct SyncGroupResult {
    /// The error, if any.
    pub error: Option<GroupError>,
    /// Group protocol type.
    pub protocol_type: Option<String>,
    /// Selected protocol.
    pub protocol_name: Option<String>,
    /// This member's assignment.
    pub assignment: Bytes,
}

impl SyncGroupResult {
    /// An error answer.
    pub fn error(error: GroupError) -> SyncGroupResult {
        SyncGroupResult {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// A Heartbeat request.
#[derive(Debug, Clone)]
pub struct HeartbeatParams {
    /// Group id.
    pub group_id: String,
    /// Generation.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
}

/// One member of a LeaveGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeavingMember {
    /// Member id (empty: remove the static member `group_instance_id`).
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Client-supplied reason (logged).
    pub reason: Option<String>,
}

/// An OffsetCommit request.
#[derive(Debug, Clone)]
pub struct CommitParams {
    /// Group id.
    pub group_id: String,
    /// Generation, or -1 for a commit outside group management.
    pub generation_id: i32,
    /// Member id (empty outside group management).
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// v2–v4 `retention_time_ms` (-1: the broker's retention).
    pub retention_time_ms: i64,
    /// v9+: an unknown group with a generation is GROUP_ID_NOT_FOUND
    /// (before: ILLEGAL_GENERATION).
    pub unknown_group_is_not_found: bool,
    /// The offsets.
    pub offsets: Vec<CommitOffset>,
}

/// A TxnOffsetCommit request: an offset commit made inside a producer's
/// transaction.
#[derive(Debug, Clone)]
pub struct TxnCommitParams {
    /// The producer whose transaction the offsets belong to.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i16,
    /// Group, member and offsets (retention and `unknown_group_is_not_found` unused).
    pub commit: CommitParams,
}

/// One offset to commit.
#[derive(Debug, Clone)]
pub struct CommitOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Next offset to consume.
    pub offset: i64,
    /// Leader epoch (-1 unknown).
    pub leader_epoch: i32,
    /// Client metadata (null = "").
    pub metadata: Option<String>,
    /// OffsetCommit v1's explicit commit time (its expiry counts from it);
    /// `None`: the time of the commit, as for every other version.
    pub commit_timestamp_ms: Option<i64>,
}

/// Committed offsets of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedTopic {
    /// Topic.
    pub topic: String,
    /// Its partitions.
    pub partitions: Vec<FetchedOffset>,
}

/// One committed offset (-1 when there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedOffset {
    /// Partition.
    pub partition: i32,
    /// Offset or -1.
    pub offset: i64,
    /// Leader epoch or -1.
    pub leader_epoch: i32,
    /// Metadata ("" when none).
    pub metadata: String,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// False: no such group (reported as Dead).
    pub found: bool,
    /// State.
    pub state: GroupState,
    /// Protocol type ("" if none).
    pub protocol_type: String,
    /// Selected protocol when Stable, else "".
    pub protocol_data: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// Metadata for the selected protocol (Stable groups only).
    pub metadata: Bytes,
    /// Assignment.
    pub assignment: Bytes,
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    /// Group id.
    pub group_id: String,
    /// Protocol type ("" for groups that only commit offsets).
    pub protocol_type: String,
    /// State.
    pub state: GroupState,
    /// Always [`CLASSIC_GROUP_TYPE`].
    pub group_type: &'static str,
}

/// An answer now, or one to await.
#[derive(Debug)]
pub enum Pending<T> {
    /// Answered at once.
    Ready(T),
    /// Parked: the answer arrives on this channel.
    Waiting(oneshot::Receiver<T>),
}

// ---------------------------------------------------------------------------
// The coordinator
// ---------------------------------------------------------------------------

/// The group coordinator. Shared as `Arc<GroupCoordinator>`.
#[derive(Debug)]
pub struct GroupCoordinator {
    config: GroupConfig,
    clock: Arc<dyn Clock>,
    store: OffsetStore,
    /// Groups and deadlines. A std mutex: no critical section awaits, and
    /// each is short (see the module docs).
    inner: Mutex<Inner>,
    /// Wakes the timer task when an earlier deadline was scheduled.
    wakeup: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    groups: HashMap<String, ClassicGroup>,
    timers: Timers,
    /// TxnOffsetCommit offsets waiting for their transaction's marker, by
    /// producer id (Kafka's `pendingTransactionalOffsetCommits`).
    txn_offsets: HashMap<i64, PendingTxnOffsets>,
}

/// Offsets one producer's open transaction committed: (group, topic,
/// partition) -> offset.
type PendingTxnOffsets = BTreeMap<(String, String, i32), OffsetAndMetadata>;

/// What one operation under the lock needs besides the groups.
struct Env<'a> {
    now: i64,
    config: &'a GroupConfig,
    store: &'a OffsetStore,
    timers: &'a mut Timers,
    /// `__consumer_offsets` partitions appended to (flushed after unlock).
    written: BTreeSet<usize>,
    /// Whether this operation appended anything.
    appended: bool,
}

impl Env<'_> {
    fn append(&mut self, records: &[CoordinatorRecord]) -> Result<(), StorageError> {
        let p = self.store.append(records, None, self.now)?;
        self.written.insert(p);
        self.appended = true;
        Ok(())
    }

    fn schedule(&mut self, key: TimerKey, after_ms: i64, action: TimerAction) {
        self.timers
            .schedule(key, self.now.saturating_add(after_ms.max(0)), action);
    }

    fn schedule_heartbeat(&mut self, group: &str, member: &str, timeout_ms: i64) {
        self.schedule(
            heartbeat_key(group, member),
            timeout_ms,
            TimerAction::Heartbeat,
        );
    }

    fn cancel_heartbeat(&mut self, group: &str, member: &str) {
        self.timers.cancel(&heartbeat_key(group, member));
    }
}

fn heartbeat_key(group: &str, member: &str) -> TimerKey {
    TimerKey::Heartbeat {
        group: group.to_string(),
        member: member.to_string(),
    }
}

fn join_key(group: &str) -> TimerKey {
    TimerKey::Join {
        group: group.to_string(),
    }
}

fn sync_key(group: &str) -> TimerKey {
    TimerKey::Sync {
        group: group.to_string(),
    }
}

impl GroupCoordinator {
    /// Opens (creating if needed) `__consumer_offsets` and replays it.
    pub fn open(
        config: GroupConfig,
        logs: &LogManager,
        clock: Arc<dyn Clock>,
    ) -> Result<GroupCoordinator, StorageError> {
        let now = clock.now_ms();
        let store = OffsetStore::open(logs, &config, now)?;
        let mut inner = Inner::default();
        {
            let Inner {
                groups,
                txn_offsets,
                ..
            } = &mut inner;
            store.replay(|item| match item {
                Replayed::Record(record) => apply_record(groups, record, now),
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
                } => {
                    txn_offsets
                        .entry(producer_id)
                        .or_default()
                        .insert((group, topic, partition), v);
                }
                // Kafka's coordinator only writes offset commits inside transactions.
                Replayed::TxnRecord { .. } => {}
                Replayed::Marker {
                    partition,
                    producer_id,
                    commit,
                } => complete_txn_offsets(
                    groups,
                    txn_offsets,
                    producer_id,
                    commit,
                    |g| store.partition_for(g) == partition,
                    now,
                ),
            })?;
        }
        for group in inner.groups.values() {
            for m in group.members() {
                inner.timers.schedule(
                    heartbeat_key(&group.id, &m.member_id),
                    now + i64::from(m.session_timeout_ms),
                    TimerAction::Heartbeat,
                );
            }
        }
        inner.timers.schedule(
            TimerKey::OffsetExpiry,
            now + config.offsets_retention_check_interval_ms,
            TimerAction::OffsetExpiry,
        );
        if !inner.groups.is_empty() {
            info!(groups = inner.groups.len(), "loaded consumer groups");
        }
        Ok(GroupCoordinator {
            config,
            clock,
            store,
            inner: Mutex::new(inner),
            wakeup: Notify::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GroupConfig {
        &self.config
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
        f: impl FnOnce(&mut HashMap<String, ClassicGroup>, &mut Env<'_>) -> R,
    ) -> (R, Result<(), StorageError>) {
        let (r, written, earlier) = {
            let mut guard = self.lock();
            let Inner { groups, timers, .. } = &mut *guard;
            let mut env = Env {
                now,
                config: &self.config,
                store: &self.store,
                timers,
                written: BTreeSet::new(),
                appended: false,
            };
            let r = f(groups, &mut env);
            let written = std::mem::take(&mut env.written);
            (r, written, timers.take_earlier())
        };
        if earlier {
            self.wakeup.notify_one();
        }
        let mut flushed = Ok(());
        for p in written {
            if let Err(e) = self.store.flush_if_due(p) {
                error!(error = %e, cause = ?std::error::Error::source(&e), "cannot flush __consumer_offsets");
                flushed = Err(e);
            }
        }
        (r, flushed)
    }

    fn run<R>(
        &self,
        f: impl FnOnce(&mut HashMap<String, ClassicGroup>, &mut Env<'_>) -> R,
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
        let (now, _) = self.run(|groups, env| join(groups, env, p, tx));
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
        let (now, _) = self.run(|groups, env| sync(groups, env, p, tx));
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
        self.run(|groups, env| {
            let group = groups
                .get_mut(&p.group_id)
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
        })
        .0
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
        self.run(|groups, env| {
            let Some(group) = groups.get_mut(group_id) else {
                return Ok(vec![Some(GroupError::UnknownMemberId); members.len()]);
            };
            if group.is_in(GroupState::Dead) {
                return Err(GroupError::CoordinatorNotAvailable);
            }
            let mut out = Vec::with_capacity(members.len());
            for m in &members {
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
        })
        .0
    }

    // -- Offsets --------------------------------------------------------------

    /// OffsetCommit: one outcome per offset of `p.offsets`, in order. The
    /// commit is in `__consumer_offsets` (and fsynced if the flush policy
    /// says so) before this returns.
    pub fn commit_offsets(&self, p: CommitParams) -> Vec<Result<(), GroupError>> {
        let n = p.offsets.len();
        let (mut results, flushed) = self.run(|groups, env| commit(groups, env, &p));
        if let Err(e) = flushed {
            let e = GroupError::from(e);
            for r in results.iter_mut().filter(|r| r.is_ok()) {
                *r = Err(e.clone());
            }
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
        let inner = self.lock();
        let group = inner.groups.get(group_id);
        let fetched = |o: Option<&OffsetAndMetadata>, partition: i32| match o {
            Some(o) => FetchedOffset {
                partition,
                offset: o.offset,
                leader_epoch: o.leader_epoch.unwrap_or(-1),
                metadata: o.metadata.clone(),
            },
            None => FetchedOffset {
                partition,
                offset: -1,
                leader_epoch: -1,
                metadata: String::new(),
            },
        };
        match topics {
            Some(list) => list
                .into_iter()
                .map(|(topic, partitions)| FetchedTopic {
                    partitions: partitions
                        .into_iter()
                        .map(|p| fetched(group.and_then(|g| g.offset(&topic, p)), p))
                        .collect(),
                    topic,
                })
                .collect(),
            None => group
                .map(|g| {
                    g.offsets
                        .iter()
                        .map(|(topic, parts)| FetchedTopic {
                            topic: topic.clone(),
                            partitions: parts.iter().map(|(p, o)| fetched(Some(o), *p)).collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The partitions of `group_id` with a transactional offset commit
    /// still waiting for its transaction (OffsetFetch `require_stable`
    /// answers UNSTABLE_OFFSET_COMMIT for them).
    pub fn pending_txn_partitions(&self, group_id: &str) -> BTreeSet<(String, i32)> {
        let inner = self.lock();
        inner
            .txn_offsets
            .values()
            .flat_map(|m| m.keys())
            .filter(|(g, _, _)| g == group_id)
            .map(|(_, t, p)| (t.clone(), *p))
            .collect()
    }

    /// The `__consumer_offsets` partition holding `group_id` (what
    /// AddOffsetsToTxn adds to a transaction).
    pub fn offsets_partition_for(&self, group_id: &str) -> usize {
        self.store.partition_for(group_id)
    }

    /// TxnOffsetCommit: validates like an offset commit, then writes the
    /// offsets to `__consumer_offsets` inside the producer's transaction.
    /// They become visible to OffsetFetch when [`Self::complete_txn`]
    /// commits them, and vanish if it aborts.
    pub fn txn_commit_offsets(&self, p: TxnCommitParams) -> Vec<Result<(), GroupError>> {
        let now = self.clock.now_ms();
        let n = p.commit.offsets.len();
        let (results, written) = {
            let mut inner = self.lock();
            let all = |e: GroupError| vec![Err(e); n];
            let c = &p.commit;
            if let Some(group) = inner.groups.get(&c.group_id) {
                if let Err(e) = validate_offset_commit(group, c, true) {
                    return all(e);
                }
            } else if c.generation_id >= 0 {
                return all(GroupError::IllegalGeneration);
            }
            let (results, records) = offset_records(c, &self.config, now, None);
            if records.is_empty() {
                return results;
            }
            let written = match self.store.append(
                &records,
                Some((p.producer_id, p.producer_epoch)),
                now,
            ) {
                Ok(partition) => partition,
                Err(e) => {
                    error!(group = %c.group_id, error = %e, "cannot store transactional offsets");
                    let e = GroupError::from(e);
                    return results.into_iter().map(|r| r.and(Err(e.clone()))).collect();
                }
            };
            let pending = inner.txn_offsets.entry(p.producer_id).or_default();
            for r in records {
                if let CoordinatorRecord::OffsetCommit {
                    group,
                    topic,
                    partition,
                    value: Some(v),
                } = r
                {
                    pending.insert((group, topic, partition), v);
                }
            }
            (results, written)
        };
        if let Err(e) = self.store.flush_if_due(written) {
            let e = GroupError::from(e);
            return results.into_iter().map(|r| r.and(Err(e.clone()))).collect();
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
            .store
            .partition_log(partition)
            .ok_or_else(|| StorageError::UnknownTopic(super::offsets::OFFSETS_TOPIC.into()))?;
        {
            // The marker and the in-memory switch happen under the lock so a
            // concurrent OffsetFetch never sees one without the other.
            let mut inner = self.lock();
            log.write_txn_marker(producer_id, producer_epoch, commit, coordinator_epoch, now)?;
            let Inner {
                groups,
                txn_offsets,
                ..
            } = &mut *inner;
            let store = &self.store;
            complete_txn_offsets(
                groups,
                txn_offsets,
                producer_id,
                commit,
                |g| store.partition_for(g) == partition,
                now,
            );
        }
        self.store.flush_if_due(partition)
    }

    /// OffsetDelete: per topic, per partition outcome; or a group-level error.
    #[allow(clippy::type_complexity)]
    pub fn delete_offsets(
        &self,
        group_id: &str,
        topics: Vec<(String, Vec<i32>)>,
    ) -> Result<Vec<(String, Vec<(i32, Option<GroupError>)>)>, GroupError> {
        let (r, flushed) = self.run(|groups, env| {
            let group = groups
                .get_mut(group_id)
                .ok_or_else(|| GroupError::GroupIdNotFound(group_id.to_string()))?;
            match group.state() {
                GroupState::Dead => return Err(GroupError::GroupIdNotFound(group_id.to_string())),
                GroupState::Stable
                | GroupState::PreparingRebalance
                | GroupState::CompletingRebalance
                    if !group.uses_consumer_protocol() =>
                {
                    return Err(GroupError::NonEmptyGroup)
                }
                _ => {}
            }
            let mut records = Vec::new();
            let mut out = Vec::with_capacity(topics.len());
            for (topic, partitions) in &topics {
                let subscribed = group.is_subscribed_to_topic(topic);
                let mut parts = Vec::with_capacity(partitions.len());
                for &p in partitions {
                    if subscribed {
                        parts.push((p, Some(GroupError::GroupSubscribedToTopic)));
                        continue;
                    }
                    parts.push((p, None));
                    if group.offset(topic, p).is_some() {
                        records.push(CoordinatorRecord::OffsetCommit {
                            group: group_id.to_string(),
                            topic: topic.clone(),
                            partition: p,
                            value: None,
                        });
                    }
                }
                out.push((topic.clone(), parts));
            }
            if !records.is_empty() {
                env.append(&records)?;
                for r in records {
                    if let CoordinatorRecord::OffsetCommit {
                        topic, partition, ..
                    } = r
                    {
                        group.set_offset(&topic, partition, None);
                    }
                }
            }
            Ok(out)
        });
        flushed?;
        r
    }

    // -- Inspection and administration ----------------------------------------

    /// DescribeGroups.
    pub fn describe_groups(&self, ids: &[String]) -> Vec<GroupDescription> {
        let inner = self.lock();
        ids.iter()
            .map(|id| match inner.groups.get(id) {
                None => GroupDescription {
                    group_id: id.clone(),
                    found: false,
                    state: GroupState::Dead,
                    protocol_type: String::new(),
                    protocol_data: String::new(),
                    members: Vec::new(),
                },
                Some(g) => {
                    let stable = g.is_in(GroupState::Stable);
                    let protocol = g.protocol_name.clone().unwrap_or_default();
                    GroupDescription {
                        group_id: id.clone(),
                        found: true,
                        state: g.state(),
                        protocol_type: g.protocol_type.clone().unwrap_or_default(),
                        protocol_data: if stable {
                            protocol.clone()
                        } else {
                            String::new()
                        },
                        members: g
                            .members()
                            .map(|m| MemberDescription {
                                member_id: m.member_id.clone(),
                                group_instance_id: m.group_instance_id.clone(),
                                client_id: m.client_id.clone(),
                                client_host: m.client_host.clone(),
                                metadata: if stable {
                                    m.metadata(&protocol)
                                } else {
                                    Bytes::new()
                                },
                                assignment: m.assignment.clone(),
                            })
                            .collect(),
                    }
                }
            })
            .collect()
    }

    /// ListGroups, filtered by state names and group types (both
    /// case-insensitive; an empty filter matches everything).
    pub fn list_groups(&self, states: &[String], types: &[String]) -> Vec<ListedGroup> {
        let states: Vec<String> = states
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        let types: Vec<String> = types
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        if !types.is_empty() && !types.iter().any(|t| t == CLASSIC_GROUP_TYPE) {
            return Vec::new();
        }
        let inner = self.lock();
        let mut out: Vec<ListedGroup> = inner
            .groups
            .values()
            .filter(|g| {
                states.is_empty() || states.contains(&g.state().as_str().to_ascii_lowercase())
            })
            .map(|g| ListedGroup {
                group_id: g.id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state(),
                group_type: CLASSIC_GROUP_TYPE,
            })
            .collect();
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }

    /// DeleteGroups: removes empty groups and their offsets.
    pub fn delete_groups(&self, ids: &[String]) -> Vec<Result<(), GroupError>> {
        let (mut results, flushed) = self.run(|groups, env| {
            ids.iter()
                .map(|id| {
                    let group = groups
                        .get(id)
                        .ok_or_else(|| GroupError::GroupIdNotFound(id.clone()))?;
                    match group.state() {
                        GroupState::Dead => return Err(GroupError::GroupIdNotFound(id.clone())),
                        GroupState::Stable
                        | GroupState::PreparingRebalance
                        | GroupState::CompletingRebalance => return Err(GroupError::NonEmptyGroup),
                        GroupState::Empty => {}
                    }
                    let mut records = offset_tombstones(group);
                    records.push(CoordinatorRecord::GroupMetadata {
                        group: id.clone(),
                        value: None,
                    });
                    env.append(&records)?;
                    remove_group(groups, env, id);
                    info!(group = %id, "deleted group");
                    Ok(())
                })
                .collect::<Vec<_>>()
        });
        if let Err(e) = flushed {
            let e = GroupError::from(e);
            for r in results.iter_mut().filter(|r| r.is_ok()) {
                *r = Err(e.clone());
            }
        }
        results
    }

    /// Removes every group's committed offsets of a deleted topic (Kafka's
    /// `onPartitionsDeleted`), so a topic re-created under the same name is
    /// not consumed from stale positions. Returns how many were removed.
    pub fn delete_topic_offsets(&self, topic: &str) -> Result<usize, GroupError> {
        let (r, flushed) = self.run(|groups, env| {
            let mut removed = 0;
            let mut ids: Vec<String> = groups.keys().cloned().collect();
            ids.sort();
            for id in ids {
                let Some(group) = groups.get_mut(&id) else {
                    continue;
                };
                let Some(parts) = group.offsets.get(topic) else {
                    continue;
                };
                let records: Vec<CoordinatorRecord> = parts
                    .keys()
                    .map(|p| CoordinatorRecord::OffsetCommit {
                        group: id.clone(),
                        topic: topic.to_string(),
                        partition: *p,
                        value: None,
                    })
                    .collect();
                env.append(&records)?;
                removed += records.len();
                group.offsets.remove(topic);
            }
            Ok::<_, GroupError>(removed)
        });
        flushed?;
        r
    }

    // -- Time -------------------------------------------------------------------

    /// Fires every deadline due at `now_ms` (sessions, join and sync phases,
    /// offset expiry), in deadline order.
    pub fn tick(&self, now_ms: i64) {
        // A failed flush is logged by `run_at`; nobody awaits a timer.
        let ((), _flushed) = self.run_at(now_ms, |groups, env| {
            while let Some((key, action)) = env.timers.pop_due(now_ms) {
                fire(groups, env, key, action);
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
    pub fn timer_count(&self) -> usize {
        self.lock().timers.len()
    }

    /// The state of a group, if it exists.
    pub fn group_state(&self, group_id: &str) -> Option<GroupState> {
        self.lock().groups.get(group_id).map(ClassicGroup::state)
    }

    /// The generation of a group, if it exists.
    pub fn generation(&self, group_id: &str) -> Option<i32> {
        self.lock().groups.get(group_id).map(|g| g.generation_id)
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

// ---------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------

/// Applies one `__consumer_offsets` record (at load: the last record per
/// key wins, as after compaction).
fn apply_record(groups: &mut HashMap<String, ClassicGroup>, record: CoordinatorRecord, now: i64) {
    match record {
        CoordinatorRecord::GroupMetadata {
            group,
            value: Some(v),
        } => {
            let offsets = groups.remove(&group).map(|g| g.offsets).unwrap_or_default();
            let mut g = ClassicGroup::from_record(&group, &v, now);
            g.offsets = offsets;
            groups.insert(group, g);
        }
        CoordinatorRecord::GroupMetadata { group, value: None } => {
            // Offsets are tombstoned before the group; any left over keep a
            // "simple" group alive, as Kafka keeps them in its offset store.
            if let Some(old) = groups.remove(&group) {
                if old.has_offsets() {
                    let mut g = ClassicGroup::new(&group, now);
                    g.offsets = old.offsets;
                    groups.insert(group, g);
                }
            }
        }
        CoordinatorRecord::OffsetCommit {
            group,
            topic,
            partition,
            value: Some(v),
        } => {
            groups
                .entry(group.clone())
                .or_insert_with(|| ClassicGroup::new(&group, now))
                .set_offset(&topic, partition, Some(v));
        }
        CoordinatorRecord::OffsetCommit {
            group,
            topic,
            partition,
            value: None,
        } => {
            if let Some(g) = groups.get_mut(&group) {
                g.set_offset(&topic, partition, None);
            }
        }
    }
}

/// A transaction's marker reached a `__consumer_offsets` partition: its
/// pending offsets for the groups on that partition (`on_partition`) take
/// effect on COMMIT and are dropped on ABORT.
fn complete_txn_offsets(
    groups: &mut HashMap<String, ClassicGroup>,
    txn_offsets: &mut HashMap<i64, PendingTxnOffsets>,
    producer_id: i64,
    commit: bool,
    on_partition: impl Fn(&str) -> bool,
    now: i64,
) {
    let Some(pending) = txn_offsets.get_mut(&producer_id) else {
        return;
    };
    let done: Vec<_> = pending
        .keys()
        .filter(|(g, _, _)| on_partition(g))
        .cloned()
        .collect();
    for key in done {
        let Some(v) = pending.remove(&key) else {
            continue;
        };
        if commit {
            let (group, topic, partition) = key;
            groups
                .entry(group.clone())
                .or_insert_with(|| ClassicGroup::new(&group, now))
                .set_offset(&topic, partition, Some(v));
        }
    }
    if pending.is_empty() {
        txn_offsets.remove(&producer_id);
    }
}

// ---------------------------------------------------------------------------
// The protocol (Kafka's GroupMetadataManager, classic groups)
// ---------------------------------------------------------------------------

fn generate_member_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// `Some`: answer now. `None`: `tx` was parked (or already answered).
fn join(
    groups: &mut HashMap<String, ClassicGroup>,
    env: &mut Env<'_>,
    p: JoinGroupParams,
    tx: oneshot::Sender<JoinGroupResult>,
) -> Option<JoinGroupResult> {
    let unknown = p.member_id.is_empty();
    let is_new_group = !groups.contains_key(&p.group_id);
    if is_new_group && !unknown {
        // A member id for a group that does not exist: it was removed.
        return Some(JoinGroupResult::error(
            &p.member_id,
            GroupError::UnknownMemberId,
        ));
    }
    let group = groups
        .entry(p.group_id.clone())
        .or_insert_with(|| ClassicGroup::new(&p.group_id, env.now));
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

fn maybe_prepare_rebalance_or_complete_join(
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

fn prepare_rebalance(group: &mut ClassicGroup, env: &mut Env<'_>, reason: &str) {
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
            join_key(&group.id),
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
        env.schedule(join_key(&group.id), timeout, TimerAction::CompleteJoin);
    }
}

fn maybe_complete_join_phase(group: &mut ClassicGroup, env: &mut Env<'_>) {
    if group.is_in(GroupState::PreparingRebalance)
        && group.previous_state() != GroupState::Empty
        && group.has_all_members_joined()
    {
        complete_join(group, env);
    }
}

fn try_complete_initial_rebalance_else_schedule(
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
            join_key(&group.id),
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
fn complete_join(group: &mut ClassicGroup, env: &mut Env<'_>) {
    env.timers.cancel(&join_key(&group.id));
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
        env.schedule(join_key(&group.id), timeout, TimerAction::CompleteJoin);
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
        sync_key(&group.id),
        timeout,
        TimerAction::PendingSync {
            generation: group.generation_id,
        },
    );
}

fn reschedule_heartbeat(group: &ClassicGroup, env: &mut Env<'_>, member_id: &str) {
    if let Some(m) = group.member(member_id) {
        env.schedule_heartbeat(&group.id, member_id, i64::from(m.session_timeout_ms));
    }
}

fn remove_sync_expiration(group: &mut ClassicGroup, env: &mut Env<'_>) {
    group.clear_pending_sync_members();
    env.timers.cancel(&sync_key(&group.id));
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

fn expire_heartbeat(group: &mut ClassicGroup, env: &mut Env<'_>, member_id: &str) {
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

fn expire_pending_sync(group: &mut ClassicGroup, env: &mut Env<'_>, generation: i32) {
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
        env.timers.cancel(&sync_key(&group.id));
    }
}

/// `Some`: answer now. `None`: `tx` was parked (or already answered).
fn sync(
    groups: &mut HashMap<String, ClassicGroup>,
    env: &mut Env<'_>,
    p: SyncGroupParams,
    tx: oneshot::Sender<SyncGroupResult>,
) -> Option<SyncGroupResult> {
    let Some(group) = groups.get_mut(&p.group_id) else {
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

/// Kafka's `ClassicGroup.validateOffsetCommit`. A transactional commit
/// (TxnOffsetCommit) needs no member id outside an empty group, and a
/// rebalance does not refuse it: the transaction decides.
fn validate_offset_commit(
    group: &ClassicGroup,
    p: &CommitParams,
    transactional: bool,
) -> Result<(), GroupError> {
    if group.is_in(GroupState::Dead) {
        return Err(GroupError::CoordinatorNotAvailable);
    }
    if p.generation_id < 0 && group.is_in(GroupState::Empty) {
        // Outside group management (admin client, assign()-based consumers).
        return Ok(());
    }
    if p.generation_id >= 0 || !p.member_id.is_empty() || p.group_instance_id.is_some() {
        group.validate_member(&p.member_id, p.group_instance_id.as_deref())?;
        if p.generation_id != group.generation_id {
            return Err(GroupError::IllegalGeneration);
        }
    } else if !transactional && !group.is_in(GroupState::Empty) {
        return Err(GroupError::UnknownMemberId);
    }
    if !transactional && group.is_in(GroupState::CompletingRebalance) {
        return Err(GroupError::RebalanceInProgress);
    }
    Ok(())
}

/// The records of a commit's offsets and one outcome per offset (metadata
/// over `offset.metadata.max.bytes` is refused, the rest recorded).
fn offset_records(
    p: &CommitParams,
    config: &GroupConfig,
    now: i64,
    expire: Option<i64>,
) -> (Vec<Result<(), GroupError>>, Vec<CoordinatorRecord>) {
    let mut results = Vec::with_capacity(p.offsets.len());
    let mut records = Vec::new();
    for o in &p.offsets {
        let metadata = o.metadata.clone().unwrap_or_default();
        if metadata.len() > config.offset_metadata_max_bytes {
            results.push(Err(GroupError::OffsetMetadataTooLarge));
            continue;
        }
        results.push(Ok(()));
        records.push(CoordinatorRecord::OffsetCommit {
            group: p.group_id.clone(),
            topic: o.topic.clone(),
            partition: o.partition,
            value: Some(OffsetAndMetadata {
                offset: o.offset,
                leader_epoch: (o.leader_epoch >= 0).then_some(o.leader_epoch),
                metadata,
                commit_timestamp_ms: o.commit_timestamp_ms.unwrap_or(now),
                expire_timestamp_ms: expire,
            }),
        });
    }
    (results, records)
}

fn commit(
    groups: &mut HashMap<String, ClassicGroup>,
    env: &mut Env<'_>,
    p: &CommitParams,
) -> Vec<Result<(), GroupError>> {
    let all = |e: GroupError| vec![Err(e); p.offsets.len()];
    match groups.get(&p.group_id) {
        None if p.generation_id >= 0 => {
            return all(if p.unknown_group_is_not_found {
                GroupError::GroupIdNotFound(p.group_id.clone())
            } else {
                GroupError::IllegalGeneration
            })
        }
        None => {}
        Some(group) => {
            if let Err(e) = validate_offset_commit(group, p, false) {
                return all(e);
            }
            // A commit keeps a member's session alive, as a heartbeat does.
            if matches!(
                group.state(),
                GroupState::Stable | GroupState::PreparingRebalance
            ) {
                reschedule_heartbeat(group, env, &p.member_id);
            }
        }
    }
    let expire = (p.retention_time_ms >= 0).then(|| env.now.saturating_add(p.retention_time_ms));
    let (results, records) = offset_records(p, env.config, env.now, expire);
    if records.is_empty() {
        return results;
    }
    if let Err(e) = env.append(&records) {
        error!(group = %p.group_id, error = %e, "cannot store committed offsets");
        let e = GroupError::from(e);
        return results.into_iter().map(|r| r.and(Err(e.clone()))).collect();
    }
    let now = env.now;
    let group = groups
        .entry(p.group_id.clone())
        .or_insert_with(|| ClassicGroup::new(&p.group_id, now));
    for r in records {
        if let CoordinatorRecord::OffsetCommit {
            topic,
            partition,
            value,
            ..
        } = r
        {
            group.set_offset(&topic, partition, value);
        }
    }
    results
}

fn offset_tombstones(group: &ClassicGroup) -> Vec<CoordinatorRecord> {
    group
        .offsets
        .iter()
        .flat_map(|(topic, parts)| {
            parts.keys().map(|p| CoordinatorRecord::OffsetCommit {
                group: group.id.clone(),
                topic: topic.clone(),
                partition: *p,
                value: None,
            })
        })
        .collect()
}

fn remove_group(groups: &mut HashMap<String, ClassicGroup>, env: &mut Env<'_>, id: &str) {
    groups.remove(id);
    env.timers.cancel_group(id);
}

/// Tombstones for the group's expired offsets, and whether every offset
/// expired (Kafka's `cleanupExpiredOffsets` with the classic group's
/// `offsetExpirationCondition`).
fn expired_offsets(
    group: &ClassicGroup,
    now: i64,
    retention_ms: i64,
) -> (Vec<CoordinatorRecord>, bool) {
    if !group.has_offsets() {
        return (Vec::new(), true);
    }
    // The time an offset's age is measured from; None: offsets never expire
    // in this state (active consumers whose subscriptions are unknown).
    let base = |o: &OffsetAndMetadata| -> Option<i64> {
        if group.protocol_type.is_none() {
            Some(o.commit_timestamp_ms)
        } else if group.is_in(GroupState::Empty) {
            Some(group.state_timestamp_ms().unwrap_or(o.commit_timestamp_ms))
        } else if group.uses_consumer_protocol()
            && group.has_subscribed_topics()
            && group.is_in(GroupState::Stable)
        {
            Some(o.commit_timestamp_ms)
        } else {
            None
        }
    };
    let mut records = Vec::new();
    let mut all = true;
    for (topic, parts) in &group.offsets {
        if group.is_subscribed_to_topic(topic) {
            all = false;
            continue;
        }
        for (p, o) in parts {
            let expired = match (o.expire_timestamp_ms, base(o)) {
                (Some(at), _) => now >= at,
                (None, Some(from)) => now.saturating_sub(from) >= retention_ms,
                (None, None) => false,
            };
            if expired {
                records.push(CoordinatorRecord::OffsetCommit {
                    group: group.id.clone(),
                    topic: topic.clone(),
                    partition: *p,
                    value: None,
                });
            } else {
                all = false;
            }
        }
    }
    (records, all)
}

/// Expires old offsets of every group and removes groups left empty with
/// no offsets (Kafka's `cleanupGroupMetadata`).
fn expire_offsets(groups: &mut HashMap<String, ClassicGroup>, env: &mut Env<'_>) {
    let retention = env.config.offsets_retention_ms;
    let mut ids: Vec<String> = groups.keys().cloned().collect();
    ids.sort();
    for id in ids {
        let Some(group) = groups.get_mut(&id) else {
            continue;
        };
        let (mut records, all_expired) = expired_offsets(group, env.now, retention);
        let delete = all_expired && group.is_in(GroupState::Empty);
        let expired = records.len();
        if delete {
            records.push(CoordinatorRecord::GroupMetadata {
                group: id.clone(),
                value: None,
            });
        }
        if records.is_empty() {
            continue;
        }
        if let Err(e) = env.append(&records) {
            warn!(group = %id, error = %e, "cannot expire offsets");
            continue;
        }
        for r in &records {
            if let CoordinatorRecord::OffsetCommit {
                topic, partition, ..
            } = r
            {
                group.set_offset(topic, *partition, None);
            }
        }
        if expired > 0 {
            info!(group = %id, offsets = expired, "expired committed offsets");
        }
        if delete {
            debug!(group = %id, "removed empty group");
            remove_group(groups, env, &id);
        }
    }
}

fn fire(
    groups: &mut HashMap<String, ClassicGroup>,
    env: &mut Env<'_>,
    key: TimerKey,
    action: TimerAction,
) {
    match (key, action) {
        (TimerKey::OffsetExpiry, _) => {
            expire_offsets(groups, env);
            let interval = env.config.offsets_retention_check_interval_ms.max(1);
            env.schedule(TimerKey::OffsetExpiry, interval, TimerAction::OffsetExpiry);
        }
        (TimerKey::Heartbeat { group, member }, _) => {
            if let Some(g) = groups.get_mut(&group) {
                expire_heartbeat(g, env, &member);
            }
        }
        (TimerKey::Join { group }, action) => {
            let Some(g) = groups.get_mut(&group) else {
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
            if let Some(g) = groups.get_mut(&group) {
                expire_pending_sync(g, env, generation);
            }
        }
        (TimerKey::Sync { .. }, _) => {}
    }
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
