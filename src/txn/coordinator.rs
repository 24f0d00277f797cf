//! `TransactionCoordinator`: Kafka's transaction coordinator (transactions
//! "V1", the protocol every stock client speaks when the broker does not
//! advertise the `transaction.version` feature) for every transactional id
//! of this single broker.
//!
//! # Shape
//!
//! Every transactional id's [`TxnMetadata`] sits in one map behind a
//! `std::sync::Mutex`; each change is appended to `__transaction_state`
//! under the lock (a page-cache write) and flushed per the broker's flush
//! policy after it is released, before the client is answered.
//!
//! EndTxn (and an abort caused by a timeout or a fencing InitProducerId)
//! runs in three steps, as Kafka's coordinator does: PrepareCommit /
//! PrepareAbort is persisted, the COMMIT/ABORT markers are written to every
//! partition of the transaction without holding the lock (requests for the
//! id meanwhile get CONCURRENT_TRANSACTIONS), then CompleteCommit /
//! CompleteAbort is persisted. Kafka answers EndTxn after the first step
//! and sends markers in the background; Skiff answers after the markers
//! are written, so a client that sees its commit acknowledged can read
//! its data at once. A crash after the first step is finished on the next
//! start: replay finds the Prepare state and writes the markers again
//! (a second marker for an ended transaction is harmless).
//!
//! Time comes from the injected [`Clock`]: [`TransactionCoordinator::tick`]
//! aborts transactions older than their timeout, retries markers that
//! failed to be written, and forgets transactional ids idle for
//! `transactional.id.expiration.ms`; the broker's timer task
//! ([`TransactionCoordinator::run_timers`]) calls it at the next deadline.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tracing::{error, info, warn};

use super::error::TxnError;
use super::state::{TxnMetadata, TxnPartition, TxnState};
use super::txn_log;
use crate::clock::Clock;
use crate::coordinator_log::{CoordinatorLog, CoordinatorLogConfig, ReplayItem};
use crate::group::offsets::OFFSETS_TOPIC;
use crate::group::GroupCoordinator;
use crate::storage::{LogManager, StorageError};

/// The internal topic's name.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";

/// The coordinator epoch written into markers: one broker, never re-elected.
const COORDINATOR_EPOCH: i32 = 0;

/// Settings (Kafka's broker keys of the same names).
#[derive(Debug, Clone)]
pub struct TxnConfig {
    /// `transaction.max.timeout.ms`.
    pub max_timeout_ms: i32,
    /// `transaction.state.log.num.partitions`.
    pub partitions: i32,
    /// `transaction.state.log.segment.bytes`.
    pub segment_bytes: i64,
    /// `log.flush.interval.messages`.
    pub flush_interval_messages: i64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`: the
    /// longest the timer task sleeps (it also wakes at the next deadline).
    pub check_interval_ms: i64,
    /// `transactional.id.expiration.ms`.
    pub id_expiration_ms: i64,
}

impl TxnConfig {
    /// The settings of a broker configuration.
    pub fn from_broker(c: &crate::config::BrokerConfig) -> TxnConfig {
        TxnConfig {
            max_timeout_ms: c.transaction_max_timeout_ms,
            partitions: c.transaction_state_log_num_partitions,
            segment_bytes: c.transaction_state_log_segment_bytes,
            flush_interval_messages: c.log_flush_interval_messages,
            check_interval_ms: c.transaction_abort_timed_out_transaction_cleanup_interval_ms,
            id_expiration_ms: c.transactional_id_expiration_ms,
        }
    }
}

/// A transaction as DescribeTransactions reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnDescription {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub state: TxnState,
    pub timeout_ms: i32,
    pub start_ms: i64,
    pub partitions: BTreeSet<TxnPartition>,
}

/// What the coordinator needs from the broker to allocate producer ids.
pub type ProducerIdSource = Arc<dyn Fn() -> Result<i64, TxnError> + Send + Sync>;

/// The transaction coordinator. Shared as `Arc<TransactionCoordinator>`.
pub struct TransactionCoordinator {
    config: TxnConfig,
    clock: Arc<dyn Clock>,
    /// `__transaction_state`, once it exists.
    log: OnceLock<CoordinatorLog>,
    log_config: CoordinatorLogConfig,
    /// Serializes the topic's creation.
    log_creation: Mutex<()>,
    logs: Arc<LogManager>,
    groups: Arc<GroupCoordinator>,
    next_producer_id: ProducerIdSource,
    txns: Mutex<HashMap<String, TxnMetadata>>,
    /// Held shared by every verified transactional append (Produce,
    /// TxnOffsetCommit) from its verification to the end of its append, and
    /// exclusively while markers are written: a transaction cannot end
    /// between a batch's verification and its append, which would leave the
    /// batch after the markers, in a transaction no coordinator knows of
    /// (Kafka's "hanging transaction", KIP-890). Appends hold it only for a
    /// page-cache write (fsyncs happen after), so markers wait little.
    completion_gate: RwLock<()>,
    /// Wakes the timer task when a transaction starts (a new deadline).
    wakeup: Notify,
}

impl std::fmt::Debug for TransactionCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionCoordinator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Steps of a transaction completion that happen outside the lock.
struct Completion {
    transactional_id: String,
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
    partitions: BTreeSet<TxnPartition>,
}

impl TransactionCoordinator {
    /// Replays `__transaction_state` if it exists (it is created on first
    /// use) and finishes the transactions a crash left in
    /// PrepareCommit/PrepareAbort.
    pub fn open(
        config: TxnConfig,
        logs: Arc<LogManager>,
        groups: Arc<GroupCoordinator>,
        clock: Arc<dyn Clock>,
        next_producer_id: ProducerIdSource,
    ) -> Result<TransactionCoordinator, StorageError> {
        let log_config = CoordinatorLogConfig {
            topic: TRANSACTION_STATE_TOPIC,
            partitions: config.partitions,
            segment_bytes: config.segment_bytes,
            flush_interval_messages: config.flush_interval_messages,
        };
        // As in Kafka, the topic is created on first use, not at start.
        let log = OnceLock::new();
        let mut txns = HashMap::new();
        if logs.topic(TRANSACTION_STATE_TOPIC).is_some() {
            let opened = CoordinatorLog::open(&logs, &log_config, clock.now_ms())?;
            opened.replay(|item| replay(&mut txns, item))?;
            let _ = log.set(opened);
        }
        let coordinator = TransactionCoordinator {
            config,
            clock,
            log,
            log_config,
            log_creation: Mutex::new(()),
            logs,
            groups,
            next_producer_id,
            txns: Mutex::new(txns),
            completion_gate: RwLock::new(()),
            wakeup: Notify::new(),
        };
        let (open, unfinished) = {
            let txns = coordinator.lock();
            let open = txns.values().filter(|m| m.state.is_in_flight()).count();
            (open, coordinator.unfinished_completions(&txns))
        };
        if open > 0 {
            info!(
                in_flight = open,
                "loaded transactions from {TRANSACTION_STATE_TOPIC}"
            );
        }
        for c in unfinished {
            info!(transactional_id = %c.transactional_id, commit = c.commit,
                "finishing a transaction interrupted by a restart");
            if let Err(e) = coordinator.finish(c) {
                warn!(error = %e, "could not finish the transaction; will retry");
            }
        }
        Ok(coordinator)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, TxnMetadata>> {
        self.txns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `m`'s state (or a tombstone) under the lock; returns the
    /// partition to flush once unlocked.
    fn persist(&self, id: &str, m: Option<&TxnMetadata>) -> Result<usize, TxnError> {
        let log = self.log()?;
        let partition = log.partition_for(id);
        let record = (txn_log::encode_key(id), m.map(txn_log::encode_value));
        log.append(partition, &[record], None, self.clock.now_ms())?;
        Ok(partition)
    }

    fn flush(&self, partition: usize) -> Result<(), TxnError> {
        match self.log.get() {
            Some(log) => log.flush_if_due(partition).map_err(TxnError::from),
            None => Ok(()),
        }
    }

    /// `__transaction_state`, created on the first write.
    fn log(&self) -> Result<&CoordinatorLog, TxnError> {
        if let Some(log) = self.log.get() {
            return Ok(log);
        }
        let _creating = self
            .log_creation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(log) = self.log.get() {
            return Ok(log);
        }
        let log = CoordinatorLog::open(&self.logs, &self.log_config, self.clock.now_ms())?;
        Ok(self.log.get_or_init(|| log))
    }

    // -- InitProducerId ---------------------------------------------------------

    /// InitProducerId with a transactional id: the producer id and the
    /// bumped epoch that fences every older producer of this id (Kafka's
    /// `handleInitProducerId`). `expected` is the (id, epoch) a v3+ client
    /// sends when it re-initialises after an abortable error.
    pub fn init_producer_id(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
    ) -> Result<(i64, i16), TxnError> {
        if transactional_id.is_empty() {
            return Err(TxnError::InvalidRequest("empty transactional id"));
        }
        if timeout_ms <= 0 || timeout_ms > self.config.max_timeout_ms {
            return Err(TxnError::InvalidTransactionTimeout {
                timeout_ms,
                max_ms: self.config.max_timeout_ms,
            });
        }
        let now = self.clock.now_ms();
        let (result, flush, fence) = {
            let mut txns = self.lock();
            if !txns.contains_key(transactional_id) {
                let pid = (self.next_producer_id)()?;
                txns.insert(
                    transactional_id.to_string(),
                    TxnMetadata::new(transactional_id, pid, timeout_ms, now),
                );
            }
            let Some(current) = txns.get(transactional_id) else {
                return Err(TxnError::InvalidProducerIdMapping);
            };
            if let Some((pid, _)) = expected {
                let valid = current.producer_epoch == -1
                    || pid == current.producer_id
                    || (pid == current.previous_producer_id && expected_epoch_exhausted(expected));
                if !valid {
                    return Err(TxnError::ProducerFenced {
                        epoch: expected.map_or(-1, |e| e.1),
                        current: current.producer_epoch,
                    });
                }
            }
            match current.state {
                TxnState::PrepareAbort | TxnState::PrepareCommit => {
                    return Err(TxnError::ConcurrentTransactions)
                }
                TxnState::Ongoing => {
                    // Fence the producer of the open transaction: abort it
                    // with a bumped epoch, and let the new producer retry
                    // (its retry bumps the epoch once more).
                    let mut next = current.clone();
                    if !next.epoch_exhausted() {
                        next.producer_epoch += 1;
                    }
                    next.last_producer_epoch = -1;
                    next.transition(TxnState::PrepareEpochFence, now);
                    next.transition(TxnState::PrepareAbort, now);
                    let partition = self.persist(transactional_id, Some(&next))?;
                    let c = completion(&next, false);
                    txns.insert(transactional_id.to_string(), next);
                    (Err(TxnError::ConcurrentTransactions), partition, Some(c))
                }
                TxnState::Empty | TxnState::CompleteAbort | TxnState::CompleteCommit => {
                    let mut next = current.clone();
                    if current.epoch_exhausted()
                        && expected.is_none_or(|(_, e)| e == current.producer_epoch)
                    {
                        next.previous_producer_id = current.producer_id;
                        next.producer_id = (self.next_producer_id)()?;
                        next.producer_epoch = 0;
                        next.last_producer_epoch = -1;
                    } else {
                        let expected_epoch = expected.map(|e| e.1);
                        match expected_epoch {
                            None => {
                                next.last_producer_epoch = current.producer_epoch;
                                next.producer_epoch = current.producer_epoch + 1;
                            }
                            Some(e)
                                if current.producer_epoch == -1 || e == current.producer_epoch =>
                            {
                                next.last_producer_epoch = current.producer_epoch;
                                next.producer_epoch = current.producer_epoch + 1;
                            }
                            // A retry whose answer was lost: same answer again.
                            Some(e) if e == current.last_producer_epoch => {}
                            Some(e) => {
                                return Err(TxnError::ProducerFenced {
                                    epoch: e,
                                    current: current.producer_epoch,
                                })
                            }
                        }
                    }
                    next.timeout_ms = timeout_ms;
                    next.transition(TxnState::Empty, now);
                    let partition = self.persist(transactional_id, Some(&next))?;
                    let answer = (next.producer_id, next.producer_epoch);
                    txns.insert(transactional_id.to_string(), next);
                    (Ok(answer), partition, None)
                }
                TxnState::Dead | TxnState::PrepareEpochFence => {
                    return Err(TxnError::ConcurrentTransactions)
                }
            }
        };
        self.flush(flush)?;
        if let Some(c) = fence {
            info!(
                transactional_id,
                "fencing the previous producer: aborting its transaction"
            );
            if let Err(e) = self.finish(c) {
                warn!(transactional_id, error = %e, "could not abort the fenced transaction yet");
            }
        }
        if let Ok((pid, epoch)) = result {
            info!(
                transactional_id,
                producer_id = pid,
                producer_epoch = epoch,
                "initialized transactional producer"
            );
        }
        result
    }

    // -- AddPartitionsToTxn / AddOffsetsToTxn ------------------------------------

    /// Adds partitions to the producer's transaction, opening it if needed
    /// (Kafka's `handleAddPartitionsToTransaction`).
    pub fn add_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[TxnPartition],
    ) -> Result<(), TxnError> {
        if transactional_id.is_empty() {
            return Err(TxnError::InvalidRequest("empty transactional id"));
        }
        let now = self.clock.now_ms();
        let flush = {
            let mut txns = self.lock();
            let current = check_producer(&txns, transactional_id, producer_id, producer_epoch)?;
            match current.state {
                TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                    return Err(TxnError::ConcurrentTransactions)
                }
                TxnState::Dead => return Err(TxnError::InvalidProducerIdMapping),
                TxnState::Ongoing if partitions.iter().all(|p| current.partitions.contains(p)) => {
                    return Ok(());
                }
                _ => {}
            }
            let starts = current.state != TxnState::Ongoing;
            let mut next = current.clone();
            next.transition(TxnState::Ongoing, now);
            next.partitions.extend(partitions.iter().cloned());
            let partition = self.persist(transactional_id, Some(&next))?;
            txns.insert(transactional_id.to_string(), next);
            if starts {
                self.wakeup.notify_one();
            }
            partition
        };
        self.flush(flush)
    }

    /// Checks that `partition` is part of the producer's open transaction
    /// (Kafka's `handleVerifyPartitionsInTransaction`, run before a
    /// transactional Produce or TxnOffsetCommit is appended).
    pub fn verify_partition(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partition: &TxnPartition,
    ) -> Result<(), TxnError> {
        if transactional_id.is_empty() {
            return Err(TxnError::InvalidRequest("empty transactional id"));
        }
        let txns = self.lock();
        let current = check_producer(&txns, transactional_id, producer_id, producer_epoch)?;
        match current.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                Err(TxnError::ConcurrentTransactions)
            }
            _ if current.partitions.contains(partition) => Ok(()),
            _ => Err(TxnError::TransactionAbortable),
        }
    }

    /// Runs `append` if `partition` is part of the producer's open
    /// transaction ([`Self::verify_partition`]), under the completion gate
    /// (see the field's docs).
    pub fn append_verified<R>(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partition: &TxnPartition,
        append: impl FnOnce() -> R,
    ) -> Result<R, TxnError> {
        let _gate = self
            .completion_gate
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        self.verify_partition(transactional_id, producer_id, producer_epoch, partition)?;
        Ok(append())
    }

    // -- EndTxn -------------------------------------------------------------------

    /// EndTxn: commits or aborts the producer's transaction (Kafka's
    /// `handleEndTransaction`, transactions V1). Returns the producer id
    /// and epoch after the transaction (unchanged in V1).
    pub fn end_txn(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> Result<(i64, i16), TxnError> {
        if transactional_id.is_empty() {
            return Err(TxnError::InvalidRequest("empty transactional id"));
        }
        let now = self.clock.now_ms();
        let (c, flush) = {
            let mut txns = self.lock();
            let current = check_producer(&txns, transactional_id, producer_id, producer_epoch)?;
            let ids = (current.producer_id, current.producer_epoch);
            match (current.state, commit) {
                (TxnState::Ongoing, _) => {}
                (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => {
                    // A retry of an EndTxn that already completed.
                    return Ok(ids);
                }
                (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                    return Err(TxnError::ConcurrentTransactions)
                }
                (TxnState::Empty, _) => {
                    return Err(TxnError::InvalidTxnState("no transaction is in progress"))
                }
                (TxnState::PrepareEpochFence, _) => return Err(TxnError::ConcurrentTransactions),
                _ => {
                    return Err(TxnError::InvalidTxnState(
                        "the transaction is ending the other way",
                    ))
                }
            }
            let mut next = current.clone();
            next.transition(
                if commit {
                    TxnState::PrepareCommit
                } else {
                    TxnState::PrepareAbort
                },
                now,
            );
            let partition = self.persist(transactional_id, Some(&next))?;
            let c = completion(&next, commit);
            txns.insert(transactional_id.to_string(), next);
            (c, partition)
        };
        self.flush(flush)?;
        let ids = (c.producer_id, c.producer_epoch);
        // The decision is durable: from here the transaction completes even
        // if writing a marker fails now (the timer retries it).
        if let Err(e) = self.finish(c) {
            warn!(transactional_id, error = %e, "transaction markers not all written yet; will retry");
        }
        Ok(ids)
    }

    /// Writes the markers of a prepared transaction, then persists its
    /// Complete state. Idempotent: run again after a failure or a crash.
    fn finish(&self, c: Completion) -> Result<(), TxnError> {
        let _gate = self
            .completion_gate
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let prepared = if c.commit {
            TxnState::PrepareCommit
        } else {
            TxnState::PrepareAbort
        };
        // Completions only happen under the gate, so this check cannot go
        // stale: a retry (timer, restart) that lost the race to EndTxn must
        // not write markers again, since the producer may already have
        // started its next transaction on those partitions.
        let still_prepared = self.lock().get(&c.transactional_id).is_some_and(|m| {
            m.state == prepared
                && m.producer_id == c.producer_id
                && m.producer_epoch == c.producer_epoch
        });
        if !still_prepared {
            return Ok(());
        }
        let now = self.clock.now_ms();
        for (topic, p) in &c.partitions {
            let written = if topic == OFFSETS_TOPIC {
                self.groups.complete_txn(
                    usize::try_from(*p).unwrap_or(usize::MAX),
                    c.producer_id,
                    c.producer_epoch,
                    c.commit,
                    COORDINATOR_EPOCH,
                )
            } else {
                match self.logs.topic(topic).and_then(|t| t.partition(*p)) {
                    // Markers for deleted partitions are dropped, as Kafka does.
                    None => Ok(()),
                    Some(log) => log
                        .write_txn_marker(
                            c.producer_id,
                            c.producer_epoch,
                            c.commit,
                            COORDINATOR_EPOCH,
                            now,
                        )
                        .map(|_| ()),
                }
            };
            if let Err(e) = written {
                error!(transactional_id = %c.transactional_id, topic, partition = p,
                    error = %e, "cannot write transaction marker");
                return Err(e.into());
            }
        }
        let flush = {
            let mut txns = self.lock();
            let Some(current) = txns.get(&c.transactional_id) else {
                return Ok(());
            };
            if current.state != prepared || current.producer_id != c.producer_id {
                return Ok(());
            }
            let mut next = current.clone();
            next.transition(
                if c.commit {
                    TxnState::CompleteCommit
                } else {
                    TxnState::CompleteAbort
                },
                now,
            );
            let partition = self.persist(&c.transactional_id, Some(&next))?;
            txns.insert(c.transactional_id.clone(), next);
            partition
        };
        info!(transactional_id = %c.transactional_id, producer_id = c.producer_id,
            commit = c.commit, partitions = c.partitions.len(), "transaction completed");
        self.flush(flush)
    }

    /// The transactions in PrepareCommit/PrepareAbort (their markers are
    /// still to be written).
    fn unfinished_completions(&self, txns: &HashMap<String, TxnMetadata>) -> Vec<Completion> {
        txns.values()
            .filter_map(|m| match m.state {
                TxnState::PrepareCommit => Some(completion(m, true)),
                TxnState::PrepareAbort => Some(completion(m, false)),
                _ => None,
            })
            .collect()
    }

    // -- Timers -----------------------------------------------------------------

    /// Aborts every transaction open longer than its timeout (fencing its
    /// producer with a bumped epoch, as Kafka does), retries unfinished
    /// completions, and forgets idle transactional ids. Returns how many
    /// transactions it aborted.
    pub fn tick(&self, now: i64) -> usize {
        let (timed_out, retries, expired_flush) = {
            let mut txns = self.lock();
            let retries = self.unfinished_completions(&txns);
            let mut timed_out = Vec::new();
            let mut flush = BTreeSet::new();
            let ids: Vec<String> = txns
                .values()
                .filter(|m| m.timed_out(now))
                .map(|m| m.transactional_id.clone())
                .collect();
            for id in ids {
                let Some(current) = txns.get(&id) else {
                    continue;
                };
                let mut next = current.clone();
                if !next.epoch_exhausted() {
                    next.producer_epoch += 1;
                }
                next.last_producer_epoch = -1;
                next.transition(TxnState::PrepareEpochFence, now);
                next.transition(TxnState::PrepareAbort, now);
                match self.persist(&id, Some(&next)) {
                    Ok(p) => {
                        flush.insert(p);
                        info!(transactional_id = %id, producer_id = next.producer_id,
                            timeout_ms = next.timeout_ms, "aborting a transaction that timed out");
                        timed_out.push(completion(&next, false));
                        txns.insert(id, next);
                    }
                    Err(e) => {
                        warn!(transactional_id = %id, error = %e, "cannot abort timed-out transaction yet")
                    }
                }
            }
            let expired: Vec<String> = txns
                .values()
                .filter(|m| {
                    matches!(
                        m.state,
                        TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
                    ) && m
                        .last_update_ms
                        .saturating_add(self.config.id_expiration_ms)
                        < now
                })
                .map(|m| m.transactional_id.clone())
                .collect();
            for id in expired {
                match self.persist(&id, None) {
                    Ok(p) => {
                        flush.insert(p);
                        info!(transactional_id = %id, "transactional id expired");
                        txns.remove(&id);
                    }
                    Err(e) => {
                        warn!(transactional_id = %id, error = %e, "cannot expire transactional id")
                    }
                }
            }
            (timed_out, retries, flush)
        };
        for p in expired_flush {
            if let Err(e) = self.flush(p) {
                warn!(error = %e, "cannot flush {TRANSACTION_STATE_TOPIC}");
            }
        }
        let aborted = timed_out.len();
        for c in retries.into_iter().chain(timed_out) {
            if let Err(e) = self.finish(c) {
                warn!(error = %e, "transaction markers not all written yet; will retry");
            }
        }
        aborted
    }

    /// The next moment `tick` has something to do, if any sooner than the
    /// check interval.
    fn next_deadline(&self, now: i64) -> i64 {
        let txns = self.lock();
        let mut next = now.saturating_add(self.config.check_interval_ms);
        for m in txns.values() {
            if m.state == TxnState::Ongoing {
                next = next.min(m.start_ms.saturating_add(i64::from(m.timeout_ms)) + 1);
            }
        }
        next
    }

    /// The timer loop: runs `tick` at every deadline (see the module docs).
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let now = self.clock.now_ms();
            let wait = (self.next_deadline(now) - now).max(1);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {
                    self.tick(self.clock.now_ms());
                }
                _ = self.wakeup.notified() => {}
            }
        }
    }

    /// Spawns [`Self::run_timers`] on the current runtime.
    pub fn spawn_timer_task(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(Arc::clone(self).run_timers())
    }

    // -- Admin --------------------------------------------------------------------

    /// DescribeTransactions of one id.
    pub fn describe(&self, transactional_id: &str) -> Result<TxnDescription, TxnError> {
        if transactional_id.is_empty() {
            return Err(TxnError::InvalidRequest("empty transactional id"));
        }
        let txns = self.lock();
        match txns.get(transactional_id) {
            Some(m) if m.state != TxnState::Dead => Ok(describe(m)),
            _ => Err(TxnError::TransactionalIdNotFound),
        }
    }

    /// ListTransactions: every id, filtered by state names, producer ids and
    /// a minimum running time (each filter ignored when empty / negative).
    pub fn list(
        &self,
        states: &[String],
        producer_ids: &[i64],
        min_duration_ms: i64,
    ) -> Vec<TxnDescription> {
        let now = self.clock.now_ms();
        let txns = self.lock();
        let mut out: Vec<TxnDescription> = txns
            .values()
            .filter(|m| m.state != TxnState::Dead)
            .filter(|m| states.is_empty() || states.iter().any(|s| s == m.state.name()))
            .filter(|m| producer_ids.is_empty() || producer_ids.contains(&m.producer_id))
            .filter(|m| {
                min_duration_ms < 0 || (m.start_ms >= 0 && now - m.start_ms >= min_duration_ms)
            })
            .map(describe)
            .collect();
        out.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        out
    }

    /// The state of `transactional_id` (tests and the console).
    #[cfg(test)]
    pub fn state_of(&self, transactional_id: &str) -> Option<TxnState> {
        self.lock().get(transactional_id).map(|m| m.state)
    }
}

/// Applies one replayed `__transaction_state` record: the last per
/// transactional id wins, a tombstone removes it.
fn replay(txns: &mut HashMap<String, TxnMetadata>, item: ReplayItem<'_>) {
    let ReplayItem::Record { key, value, .. } = item else {
        return;
    };
    let id = match txn_log::decode_key(key) {
        Ok(Some(id)) => id,
        Ok(None) => return,
        Err(e) => {
            warn!(error = %e, "skipping record in {TRANSACTION_STATE_TOPIC}");
            return;
        }
    };
    match value {
        None => {
            txns.remove(&id);
        }
        Some(v) => match txn_log::decode_value(&id, v) {
            Ok(m) => {
                txns.insert(id, m);
            }
            Err(e) => warn!(error = %e, "skipping record in {TRANSACTION_STATE_TOPIC}"),
        },
    }
}

fn describe(m: &TxnMetadata) -> TxnDescription {
    TxnDescription {
        transactional_id: m.transactional_id.clone(),
        producer_id: m.producer_id,
        producer_epoch: m.producer_epoch,
        state: m.state,
        timeout_ms: m.timeout_ms,
        start_ms: m.start_ms,
        partitions: m.partitions.clone(),
    }
}

fn completion(m: &TxnMetadata, commit: bool) -> Completion {
    Completion {
        transactional_id: m.transactional_id.clone(),
        producer_id: m.producer_id,
        producer_epoch: m.producer_epoch,
        commit,
        partitions: m.partitions.clone(),
    }
}

/// Kafka's check at the top of AddPartitions/EndTxn/verification: the id
/// must exist, belong to `producer_id`, and `producer_epoch` must be the
/// current one (an older epoch is a fenced zombie).
fn check_producer<'a>(
    txns: &'a HashMap<String, TxnMetadata>,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
) -> Result<&'a TxnMetadata, TxnError> {
    let current = txns
        .get(transactional_id)
        .ok_or(TxnError::InvalidProducerIdMapping)?;
    if current.producer_id != producer_id {
        return Err(TxnError::InvalidProducerIdMapping);
    }
    if current.producer_epoch != producer_epoch {
        return Err(TxnError::ProducerFenced {
            epoch: producer_epoch,
            current: current.producer_epoch,
        });
    }
    Ok(current)
}

fn expected_epoch_exhausted(expected: Option<(i64, i16)>) -> bool {
    expected.is_some_and(|(_, e)| e >= i16::MAX - 1)
}
