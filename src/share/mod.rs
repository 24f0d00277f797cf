//! Share groups (KIP-932, "queues for Kafka", production-ready in Kafka
//! 4.2): the share coordinator that owns every share group, its
//! share-partitions and the share sessions of ShareFetch/ShareAcknowledge,
//! and persists state to the internal compacted topic `__share_group_state`
//! (created on first write, replayed on start).
//!
//! Share groups live apart from the classic/consumer group coordinator
//! (`crate::group`): a group id used by a share group is answered here.
//! Lock expiry and member session expiry are evaluated lazily, on every
//! call, against the injected clock, so no timer task is needed.

pub mod config;
pub mod group;
mod offsets;
pub mod partition;
mod session;
pub mod snapshot;
pub mod store;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use tracing::{info, warn};
use uuid::Uuid;

use crate::clock::Clock;
use crate::coordinator_log::{CoordinatorLog, CoordinatorLogConfig, ReplayItem};
use crate::record::BatchIter;
use crate::storage::{Isolation, LogManager, StorageError};

pub use config::{AutoOffsetReset, GroupConfigError, ShareConfig};
pub use group::{Heartbeat, HeartbeatError, HeartbeatOutcome, ShareGroup, TopicInfo};
pub use offsets::OffsetsError;
pub use partition::{AckBatch, AckError, AcquireLimits, AcquiredRange, LogBatch, SharePartition};
pub use session::SessionError;
use session::ShareSessions;
use store::StoreKey;

/// The internal topic holding share-partition and share-group state.
pub const SHARE_STATE_TOPIC: &str = "__share_group_state";

type PartitionKey = (String, Uuid, i32);

#[derive(Debug, Default)]
struct State {
    groups: HashMap<String, ShareGroup>,
    partitions: HashMap<PartitionKey, SharePartition>,
    sessions: ShareSessions,
    group_configs: HashMap<String, BTreeMap<String, String>>,
}

/// What one ShareFetch asks of a share-partition.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// Records still wanted by the request (soft unless `record_limit`).
    pub max_records: usize,
    /// ShareFetch `batch_size` (v1+): the records per acquired range.
    pub batch_size: usize,
    /// ShareAcquireMode RECORD_LIMIT (v2): `max_records` is exact.
    pub record_limit: bool,
    /// About how many bytes to read from the log.
    pub max_bytes: usize,
}

/// What one share-partition fetch returned.
#[derive(Debug, Default)]
pub struct Acquired {
    /// Whole record batches covering the acquired offsets.
    pub records: Bytes,
    pub ranges: Vec<AcquiredRange>,
}

/// The share coordinator.
#[derive(Debug)]
pub struct ShareCoordinator {
    config: ShareConfig,
    logs: Arc<LogManager>,
    clock: Arc<dyn Clock>,
    log: Mutex<Option<CoordinatorLog>>,
    state: Mutex<State>,
    /// Woken when records become available again (release, a member left).
    released: tokio::sync::Notify,
}

impl ShareCoordinator {
    /// Replays `__share_group_state` if it exists.
    pub fn open(
        config: ShareConfig,
        logs: Arc<LogManager>,
        clock: Arc<dyn Clock>,
    ) -> Result<ShareCoordinator, StorageError> {
        let mut state = State {
            sessions: ShareSessions::with_limit(config.max_share_sessions),
            ..State::default()
        };
        let mut log = None;
        if logs.topic(SHARE_STATE_TOPIC).is_some() {
            let opened = CoordinatorLog::open(&logs, &log_config(&config), clock.now_ms())?;
            let stats = opened.replay(|item| {
                if let ReplayItem::Record { key, value, .. } = item {
                    apply_record(&mut state, key, value);
                }
            })?;
            info!(
                records = stats.records,
                groups = state.groups.len(),
                partitions = state.partitions.len(),
                "loaded share groups from {SHARE_STATE_TOPIC}"
            );
            log = Some(opened);
        }
        let now = clock.now_ms();
        for g in state.groups.values_mut() {
            // Members restored from disk get a fresh session.
            for m in g.members.values_mut() {
                m.deadline_ms = now.saturating_add(config.session_timeout_ms);
            }
        }
        let coordinator = ShareCoordinator {
            config,
            logs,
            clock,
            log: Mutex::new(log),
            state: Mutex::new(state),
            released: tokio::sync::Notify::new(),
        };
        {
            let mut st = coordinator.lock();
            let ids: Vec<String> = st.groups.keys().cloned().collect();
            for id in ids {
                if let Some(g) = st.groups.get_mut(&id) {
                    // Assignments are not stored: recompute at the stored epoch.
                    let epoch = g.group_epoch;
                    g.topics_seen.clear();
                    let topics = |n: &str| coordinator.topic_info(n);
                    recompute(g, &topics);
                    debug_assert_eq!(g.group_epoch, epoch);
                }
            }
        }
        Ok(coordinator)
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn topic_info(&self, name: &str) -> Option<TopicInfo> {
        self.logs.topic(name).map(|t| TopicInfo {
            id: t.id(),
            partitions: t.partition_count(),
        })
    }

    /// Whether `group_id` is a share group here.
    pub fn has_group(&self, group_id: &str) -> bool {
        self.lock().groups.contains_key(group_id)
    }

    /// Every share group: (group id, state).
    pub fn list_groups(&self) -> Vec<(String, &'static str)> {
        let st = self.lock();
        let mut v: Vec<_> = st
            .groups
            .values()
            .map(|g| (g.group_id.clone(), g.state()))
            .collect();
        v.sort();
        v
    }

    /// DeleteGroups of a share group: an empty one is removed with its
    /// share-partition state and configs (tombstones); `Err(true)` while it
    /// has members, `Err(false)` when there is no such share group.
    pub fn delete_group(&self, group_id: &str) -> Result<(), bool> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        self.expire_members(&mut st, group_id, now);
        match st.groups.get(group_id) {
            None => return Err(false),
            Some(g) if !g.members.is_empty() => return Err(true),
            Some(_) => {}
        }
        st.groups.remove(group_id);
        self.persist(&StoreKey::Group(group_id.to_string()), None);
        self.remove_partitions(&mut st, |k| k.0 == group_id);
        if st.group_configs.remove(group_id).is_some() {
            self.persist(&StoreKey::Config(group_id.to_string()), None);
        }
        info!(group = group_id, "deleted share group");
        Ok(())
    }

    /// A copy of the group, for ShareGroupDescribe.
    pub fn describe(&self, group_id: &str) -> Option<ShareGroup> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        self.expire_members(&mut st, group_id, now);
        st.groups.get(group_id).cloned()
    }

    /// The heartbeat interval members of `group_id` are told.
    pub fn heartbeat_interval_ms(&self, group_id: &str) -> i32 {
        let st = self.lock();
        config::group_int(
            st.group_configs.get(group_id),
            config::SHARE_HEARTBEAT_INTERVAL_MS,
            self.config.heartbeat_interval_ms,
        ) as i32
    }

    /// ShareGroupHeartbeat.
    pub fn heartbeat(
        &self,
        group_id: &str,
        hb: Heartbeat,
    ) -> Result<HeartbeatOutcome, HeartbeatError> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        self.expire_members(&mut st, group_id, now);
        let session_timeout = config::group_int(
            st.group_configs.get(group_id),
            config::SHARE_SESSION_TIMEOUT_MS,
            self.config.session_timeout_ms,
        );
        let leaving = (hb.member_epoch == -1).then(|| hb.member_id.clone());
        let group = st
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| ShareGroup::new(group_id));
        let epoch_before = group.group_epoch;
        let topics = |n: &str| self.topic_info(n);
        let outcome = group.heartbeat(hb, now, session_timeout, self.config.max_size, &topics);
        let epoch_after = group.group_epoch;
        if outcome.is_err() && group.members.is_empty() && group.group_epoch == 0 {
            st.groups.remove(group_id);
        }
        if let Some(member) = leaving.filter(|_| outcome.is_ok()) {
            // The share session outlives the membership, as in Kafka (a
            // ShareFetch is not checked against the group): it ends with its
            // connection or an epoch -1 request.
            self.release_member_records(&mut st, group_id, &member);
        }
        if epoch_after != epoch_before {
            record_rebalances(epoch_before, epoch_after);
            self.persist_group(&st, group_id);
            self.initialize_assigned(&mut st, group_id);
        }
        outcome
    }

    /// Gives every newly assigned partition its start offset now, as
    /// Kafka initializes share-partition state on assignment: with
    /// `share.auto.offset.reset=latest` records produced between the
    /// assignment and the first fetch are still delivered.
    fn initialize_assigned(&self, st: &mut State, group_id: &str) {
        let Some(g) = st.groups.get(group_id) else {
            return;
        };
        let assigned: std::collections::BTreeSet<(Uuid, i32)> = g
            .members
            .values()
            .flat_map(|m| {
                m.assignment
                    .iter()
                    .flat_map(|(t, ps)| ps.iter().map(move |p| (*t, *p)))
            })
            .collect();
        let now = self.clock.now_ms();
        for (topic_id, partition) in assigned {
            let key = (group_id.to_string(), topic_id, partition);
            if st.partitions.contains_key(&key) {
                continue;
            }
            let Some(log) = self
                .logs
                .topic_by_id(topic_id)
                .and_then(|t| t.partition(partition))
            else {
                continue;
            };
            let start = initial_start(st, group_id, &log, now);
            st.partitions
                .insert(key.clone(), SharePartition::new(start));
            self.persist_partition(st, &key);
        }
    }

    /// Removes members of `group_id` whose session expired, releasing their records.
    fn expire_members(&self, st: &mut State, group_id: &str, now: i64) {
        let topics = |n: &str| self.topic_info(n);
        let (expired, bumped) = match st.groups.get_mut(group_id) {
            Some(g) => {
                let before = g.group_epoch;
                (g.expire_members(now, &topics), (before, g.group_epoch))
            }
            None => return,
        };
        record_rebalances(bumped.0, bumped.1);
        if expired.is_empty() {
            return;
        }
        for m in &expired {
            info!(
                group = group_id,
                member = m.as_str(),
                "share group member session expired"
            );
            self.release_member_records(st, group_id, m);
            st.sessions.remove(group_id, m);
        }
        self.persist_group(st, group_id);
    }

    fn release_member_records(&self, st: &mut State, group_id: &str, member: &str) {
        let limit = self.config.delivery_count_limit;
        let mut changed = Vec::new();
        for (key, p) in st.partitions.iter_mut() {
            if key.0 == group_id && p.release_member(member, limit) > 0 {
                changed.push(key.clone());
            }
        }
        for key in changed {
            self.persist_partition(st, &key);
        }
        self.released.notify_waiters();
    }

    /// Opens, continues or closes the share session of a ShareFetch or
    /// ShareAcknowledge (`is_fetch`) sent on `connection` and returns the
    /// partitions the session now fetches.
    #[allow(clippy::too_many_arguments)]
    pub fn update_session(
        &self,
        connection: u64,
        group_id: &str,
        member_id: &str,
        epoch: i32,
        is_fetch: bool,
        added: &[(Uuid, i32)],
        forgotten: &[(Uuid, i32)],
    ) -> Result<Vec<(Uuid, i32)>, SessionError> {
        let mut st = self.lock();
        st.sessions.update(
            connection, group_id, member_id, epoch, is_fetch, added, forgotten,
        )
    }

    /// A client connection closed: as Kafka, the share sessions it opened
    /// end and their members' acquired records are released at once
    /// (available to other members without waiting for the lock to expire).
    pub fn close_connection(&self, connection: u64) {
        let mut st = self.lock();
        let ended = st.sessions.remove_connection(connection);
        for (group_id, member_id) in &ended {
            self.release_member_records(&mut st, group_id, member_id);
        }
    }

    /// Ends a share session (epoch -1): the member's records in its
    /// partitions are released.
    pub fn close_session(&self, group_id: &str, member_id: &str) {
        let mut st = self.lock();
        st.sessions.remove(group_id, member_id);
        self.release_member_records(&mut st, group_id, member_id);
    }

    /// Applies one acknowledgement batch.
    pub fn acknowledge(
        &self,
        group_id: &str,
        member_id: &str,
        topic_id: Uuid,
        partition: i32,
        batch: AckBatch<'_>,
    ) -> Result<(), AckError> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        let lock_ms = self.lock_duration(&st, group_id);
        let key = (group_id.to_string(), topic_id, partition);
        let limit = self.config.delivery_count_limit;
        let Some(p) = st.partitions.get_mut(&key) else {
            return Err(AckError::InvalidRecordState(batch.first));
        };
        p.expire_locks(now, limit);
        let released = p.acknowledge(member_id, batch, limit, lock_ms, now)?;
        self.persist_partition(&st, &key);
        if released {
            self.released.notify_waiters();
        }
        Ok(())
    }

    /// The acquisition lock duration of `group_id`'s records.
    pub fn lock_duration_ms(&self, group_id: &str) -> i64 {
        let st = self.lock();
        self.lock_duration(&st, group_id)
    }

    fn lock_duration(&self, st: &State, group_id: &str) -> i64 {
        config::group_int(
            st.group_configs.get(group_id),
            config::SHARE_RECORD_LOCK_DURATION_MS,
            self.config.record_lock_duration_ms,
        )
    }

    /// Reads from the log and acquires for `member_id` what it read, within
    /// `limits`; answers the whole batches that hold the acquired offsets.
    pub fn acquire(
        &self,
        group_id: &str,
        member_id: &str,
        topic_id: Uuid,
        partition: i32,
        limits: FetchLimits,
    ) -> Result<Acquired, StorageError> {
        let FetchLimits {
            max_records,
            max_bytes,
            ..
        } = limits;
        let Some(topic) = self.logs.topic_by_id(topic_id) else {
            return Err(StorageError::UnknownTopic(topic_id.to_string()));
        };
        let Some(log) = topic.partition(partition) else {
            return Err(StorageError::UnknownTopic(topic_id.to_string()));
        };
        let now = self.clock.now_ms();
        let mut st = self.lock();
        let lock_ms = self.lock_duration(&st, group_id);
        let committed = config::group_str(
            st.group_configs.get(group_id),
            config::SHARE_ISOLATION_LEVEL,
        ) == Some(config::READ_COMMITTED);
        let key = (group_id.to_string(), topic_id, partition);
        let fresh = !st.partitions.contains_key(&key);
        if fresh {
            // Normally set on assignment; a fetch of an unassigned partition gets one here.
            let start = initial_start(&st, group_id, &log, now);
            st.partitions
                .insert(key.clone(), SharePartition::new(start));
        }
        let Some(p) = st.partitions.get_mut(&key) else {
            return Ok(Acquired::default());
        };
        let limit = self.config.delivery_count_limit;
        p.on_log_start(log.log_start_offset());
        p.expire_locks(now, limit);
        let from = p.next_fetch_offset();
        // read_committed: nothing at or past the last stable offset.
        let hw = if committed {
            log.last_stable_offset()
        } else {
            log.high_watermark()
        };
        if from >= hw || max_records == 0 {
            if fresh {
                self.persist_partition(&st, &key);
            }
            return Ok(Acquired::default());
        }
        let isolation = if committed {
            Isolation::ReadCommitted
        } else {
            Isolation::ReadUncommitted
        };
        let read = log.read(from, max_bytes.max(1), true, isolation)?;
        let mut aborted = AbortedFilter::new(&read.aborted);
        // (base, last, position, length, never delivered: a transaction
        // marker, or under read_committed a batch of an aborted transaction)
        let mut batches: Vec<(i64, i64, usize, usize, bool)> = Vec::new();
        for item in BatchIter::headers_only(&read.records) {
            let Ok((pos, h)) = item else { break };
            let skip = aborted.skips(&h);
            batches.push((h.base_offset, h.last_offset(), pos, h.total_len(), skip));
        }
        // Transaction markers (and aborted batches under read_committed)
        // are archived at once: no consumer ever sees or acknowledges them.
        let log_batches: Vec<LogBatch> = batches
            .iter()
            .map(|&(base, last, _, _, skip)| LogBatch {
                first: base,
                last: last.min(hw - 1),
                deliverable: !skip,
            })
            .collect();
        let acquire_limits = AcquireLimits {
            max_records,
            batch_size: limits.batch_size,
            record_limit: limits.record_limit,
            max_in_flight: self.config.partition_max_record_locks,
            lock_duration_ms: lock_ms,
            delivery_limit: limit,
        };
        let ranges = p.acquire_batches(member_id, &log_batches, acquire_limits, now);
        self.persist_partition(&st, &key);
        drop(st);
        let (Some(first), Some(last)) = (
            ranges.first().map(|r| r.first),
            ranges.last().map(|r| r.last),
        ) else {
            return Ok(Acquired::default());
        };
        let mut out = BytesMut::new();
        for (base, batch_last, pos, len, skip) in batches {
            if !skip && batch_last >= first && base <= last {
                if let Some(bytes) = read.records.get(pos..pos + len) {
                    out.extend_from_slice(bytes);
                }
            }
        }
        Ok(Acquired {
            records: out.freeze(),
            ranges,
        })
    }

    /// Notified when records may have become available again, for a
    /// waiting ShareFetch (it re-checks, so a spurious wake is harmless).
    pub fn release_notify(&self) -> &tokio::sync::Notify {
        &self.released
    }

    /// IncrementalAlterConfigs on a GROUP resource: `ops` are (key, op, value).
    pub fn alter_group_config(
        &self,
        group_id: &str,
        ops: &[(String, i8, Option<String>)],
        validate_only: bool,
    ) -> Result<(), GroupConfigError> {
        let mut st = self.lock();
        let current = st.group_configs.get(group_id).cloned().unwrap_or_default();
        let new = config::apply_group_ops(&self.config, current, ops)?;
        if validate_only {
            return Ok(());
        }
        self.persist(
            &StoreKey::Config(group_id.to_string()),
            Some(store::encode_config(&new)),
        );
        st.group_configs.insert(group_id.to_string(), new);
        Ok(())
    }

    /// The group-level overrides of `group_id` (DescribeConfigs).
    pub fn group_config(&self, group_id: &str) -> BTreeMap<String, String> {
        self.lock()
            .group_configs
            .get(group_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Drops the share-partitions `which` selects, with a tombstone for each
    /// in `__share_group_state`.
    fn remove_partitions(&self, st: &mut State, which: impl Fn(&PartitionKey) -> bool) {
        let keys: Vec<PartitionKey> = st.partitions.keys().filter(|k| which(k)).cloned().collect();
        for key in keys {
            st.partitions.remove(&key);
            let store_key = StoreKey::Partition {
                group: key.0,
                topic_id: key.1,
                partition: key.2,
            };
            self.persist(&store_key, None);
        }
    }

    fn persist_partition(&self, st: &State, key: &PartitionKey) {
        let Some(p) = st.partitions.get(key) else {
            return;
        };
        let value = store::encode_partition(p.start_offset(), &p.snapshot());
        self.persist(
            &StoreKey::Partition {
                group: key.0.clone(),
                topic_id: key.1,
                partition: key.2,
            },
            Some(value),
        );
    }

    fn persist_group(&self, st: &State, group_id: &str) {
        let Some(g) = st.groups.get(group_id) else {
            return;
        };
        let members: Vec<_> = g.members.values().collect();
        self.persist(
            &StoreKey::Group(group_id.to_string()),
            Some(store::encode_group(g.group_epoch, &members)),
        );
    }

    /// Appends one record; a failed write is logged (the state stays in
    /// memory and the next change writes it again).
    fn persist(&self, key: &StoreKey, value: Option<Vec<u8>>) {
        let now = self.clock.now_ms();
        let mut guard = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            match CoordinatorLog::open(&self.logs, &log_config(&self.config), now) {
                Ok(l) => *guard = Some(l),
                Err(e) => {
                    warn!(error = %e, "cannot create {SHARE_STATE_TOPIC}");
                    return;
                }
            }
        }
        let Some(log) = guard.as_ref() else { return };
        let partition = log.partition_for(key.group());
        let result = log
            .append(partition, &[(key.encode(), value)], None, now)
            .and_then(|()| log.flush_if_due(partition));
        if let Err(e) = result {
            warn!(error = %e, "cannot write share state to {SHARE_STATE_TOPIC}");
        }
    }
}

/// Tells, batch by batch in log order, which batches a read_committed
/// share group never delivers: control batches, and the transactional
/// batches of a producer from the first offset of one of its aborted
/// transactions up to that transaction's marker (as a read_committed
/// consumer drops them using the fetch's aborted-transaction list).
struct AbortedFilter {
    /// Aborted transactions not reached yet, by first offset descending
    /// (popped from the back).
    pending: Vec<crate::storage::AbortedTxn>,
    /// Producers inside an aborted transaction at the current batch.
    open: std::collections::HashSet<i64>,
}

impl AbortedFilter {
    fn new(aborted: &[crate::storage::AbortedTxn]) -> AbortedFilter {
        let mut pending = aborted.to_vec();
        pending.sort_by_key(|a| std::cmp::Reverse(a.first_offset));
        AbortedFilter {
            pending,
            open: std::collections::HashSet::new(),
        }
    }

    fn skips(&mut self, h: &crate::record::BatchHeader) -> bool {
        while self
            .pending
            .last()
            .is_some_and(|a| a.first_offset <= h.last_offset())
        {
            if let Some(a) = self.pending.pop() {
                self.open.insert(a.producer_id);
            }
        }
        if h.is_control() {
            // The marker ends that producer's transaction.
            self.open.remove(&h.producer_id);
            return true;
        }
        h.is_transactional() && self.open.contains(&h.producer_id)
    }
}

/// The first start offset of a new share-partition of the group, by its
/// `share.auto.offset.reset` (default `latest`).
fn initial_start(st: &State, group_id: &str, log: &crate::storage::Log, now_ms: i64) -> i64 {
    let reset = config::group_str(
        st.group_configs.get(group_id),
        config::SHARE_AUTO_OFFSET_RESET,
    )
    .and_then(AutoOffsetReset::parse)
    .unwrap_or(AutoOffsetReset::Latest);
    match reset {
        AutoOffsetReset::Earliest => log.log_start_offset(),
        AutoOffsetReset::Latest => log.high_watermark(),
        AutoOffsetReset::ByDuration(ms) => {
            match log.offset_for_timestamp(now_ms.saturating_sub(ms)) {
                Ok(Some((offset, _))) => offset,
                // Every record is older (or the lookup failed): start at the end.
                _ => log.high_watermark(),
            }
        }
    }
}

/// Counts a share group's epoch bumps in `/metrics`, as Kafka's
/// share-group rebalance sensor records each one.
fn record_rebalances(epoch_before: i32, epoch_after: i32) {
    let bumps = u64::try_from(i64::from(epoch_after) - i64::from(epoch_before)).unwrap_or(0);
    if bumps > 0 {
        crate::metrics::global().record_share_rebalances(bumps);
    }
}

fn log_config(config: &ShareConfig) -> CoordinatorLogConfig {
    CoordinatorLogConfig {
        topic: SHARE_STATE_TOPIC,
        partitions: 1,
        segment_bytes: 100 * 1024 * 1024,
        flush_interval_messages: config.flush_interval_messages,
    }
}

fn recompute(g: &mut ShareGroup, topics: &dyn Fn(&str) -> Option<TopicInfo>) {
    let seen: BTreeMap<String, TopicInfo> = g
        .subscribed_topics()
        .into_iter()
        .filter_map(|t| topics(&t).map(|i| (t, i)))
        .collect();
    let subs = g
        .members
        .iter()
        .map(|(id, m)| (id.clone(), m.subscribed_topics.clone()))
        .collect();
    let assignment = group::simple_assign(&subs, &seen);
    for (id, m) in g.members.iter_mut() {
        m.assignment = assignment.get(id).cloned().unwrap_or_default();
    }
    g.topics_seen = seen;
    g.assignment_epoch = g.group_epoch;
}

fn apply_record(st: &mut State, key: &[u8], value: Option<&[u8]>) {
    let Some(k) = StoreKey::decode(key) else {
        warn!("skipping an unreadable key in {SHARE_STATE_TOPIC}");
        return;
    };
    match (k, value) {
        (
            StoreKey::Partition {
                group,
                topic_id,
                partition,
            },
            Some(v),
        ) => match store::decode_partition(v) {
            Some((start, ranges)) => {
                st.partitions.insert(
                    (group, topic_id, partition),
                    SharePartition::restore(start, &ranges),
                );
            }
            None => warn!("skipping an unreadable share-partition record"),
        },
        (
            StoreKey::Partition {
                group,
                topic_id,
                partition,
            },
            None,
        ) => {
            st.partitions.remove(&(group, topic_id, partition));
        }
        (StoreKey::Group(id), Some(v)) => match store::decode_group(v) {
            Some(rec) => {
                let mut g = ShareGroup::new(&id);
                g.group_epoch = rec.group_epoch;
                for m in rec.members {
                    g.members.insert(m.member_id.clone(), m);
                }
                st.groups.insert(id, g);
            }
            None => warn!("skipping an unreadable share-group record"),
        },
        (StoreKey::Group(id), None) => {
            st.groups.remove(&id);
        }
        (StoreKey::Config(id), Some(v)) => {
            st.group_configs.insert(id, store::decode_config(v));
        }
        (StoreKey::Config(id), None) => {
            st.group_configs.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests;
