//! `Log`: one partition's log (Kafka's `UnifiedLog`): the `LocalLog` of
//! segments under the partition lock, the high watermark channel, the
//! flush state, and the append, uncommitted read and flush paths.
//!
//! Named offsets:
//! * `log_start_offset`: first offset still in the log (base of the oldest
//!   segment);
//! * `next_offset`: the log end offset, the offset the next batch gets;
//! * `high_watermark`: last offset visible to consumers + 1; with a single
//!   replica it equals `next_offset`, published on a `watch` channel after
//!   every append so long-poll fetches can wait on it;
//! * `flushed_offset`: every offset below it has been fsynced (the data;
//!   index entries are fsynced before the persisted recovery point passes
//!   them, see `log_flush`);
//! * `last_stable_offset`: the first offset of the earliest ongoing
//!   transaction, else the high watermark; `read_committed` reads stop
//!   there (see `txn`).
//!
//! Locking: the bookkeeping (`LocalLog`) lives in a `std::sync::Mutex`
//! (as in mini-redis' `Db`): critical sections are short, never span an
//! `.await` (nothing here is async), and contain only `pwrite`s into the
//! page cache. The expensive parts run *outside* it: CRC validation before
//! taking it, `pread`s of fetched data after releasing it (through a
//! `SegmentReader` snapshot), and fsync in `flush_to`, serialized by its
//! own lock (`log_flush`: group commit).
//!
//! Removing segments (retention, DeleteRecords, compaction swaps) is
//! serialized by a third lock, `maintenance`, taken before the partition
//! lock. A segment leaves the segment map under the partition lock and its
//! files are unlinked afterwards: a fetch that already holds a
//! [`SegmentReader`] keeps an open descriptor, and POSIX keeps an unlinked
//! file's data readable until its last descriptor is closed. That is what
//! Kafka's `file.delete.delay.ms` (rename to `.deleted`, delete a minute
//! later) protects against on platforms without that guarantee; here the
//! last reader dropping its handle is the delay.
//!
//! The rest of `Log`'s methods live with their concept: `txn` (markers,
//! `read`, LSO), `retention` (retention, DeleteRecords, `run_periodic`),
//! `offset_lookup` (ListOffsets), `cleaner` (compaction). This file calls
//! none of them; they build on the append, read and flush paths here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::watch;
use tracing::debug;

use super::error::{Result, StorageError};
use super::fault::FaultPlan;
use super::local_log::{self, LocalLog};
use super::log_config::{LogConfig, TimestampType};
use super::log_flush::FlushState;
use super::partition_files;
use super::recovery;
use super::segment::{LogSegment, SegmentReader};
use super::txn_index::AbortedTxn;
use crate::record::{
    header_copy, log_append_time_header, set_base_offset, set_partition_leader_epoch,
    validate_batch, TopicPartition, ATTR_LOG_APPEND_TIME, BATCH_HEADER_LEN,
};

/// Result of [`Log::append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset assigned to the batch's first record (for a duplicate, the
    /// offset it was given the first time).
    pub base_offset: i64,
    /// The LogAppendTime stamped on the batch, or -1 for CreateTime topics
    /// (and for duplicates).
    pub log_append_time_ms: i64,
    /// The log start offset after the append.
    pub log_start_offset: i64,
    /// The batch was a retry of one already appended (idempotent producer)
    /// and was not written again.
    pub duplicate: bool,
}

/// Result of [`Log::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadResult {
    /// Whole batches, exactly as stored; possibly empty.
    pub records: Bytes,
    /// High watermark when the read started.
    pub high_watermark: i64,
    /// Log start offset when the read started.
    pub log_start_offset: i64,
    /// Last stable offset when the read started (at most the high
    /// watermark).
    pub last_stable_offset: i64,
    /// ReadCommitted only: aborted transactions overlapping the returned
    /// range (Kafka's FetchResponse aborted_transactions), for the client
    /// to drop their batches; empty for ReadUncommitted.
    pub aborted: Vec<AbortedTxn>,
}

/// One partition. Shared as `Arc<Log>`; every method takes `&self`.
#[derive(Debug)]
pub struct Log {
    pub(super) tp: TopicPartition,
    pub(super) dir: PathBuf,
    pub(super) inner: Mutex<LocalLog>,
    /// Serializes segment removal: retention, DeleteRecords, compaction
    /// swaps (see module docs). Taken before `inner`.
    pub(super) maintenance: Mutex<()>,
    /// The write path's fault-injection seam.
    pub(super) faults: Arc<FaultPlan>,
    /// What is on stable storage (see `log_flush`).
    pub(super) flush: FlushState,
    /// Publishes the high watermark after every append.
    hw_tx: watch::Sender<i64>,
    /// Mirrors `LocalLog::log_start_offset` for lock-free reads.
    pub(super) log_start_offset: AtomicI64,
    /// Set when the topic is deleted: later appends fail.
    pub(super) deleted: AtomicBool,
}

/// At most this many threads fsync at once in [`flush_logs`].
const MAX_FLUSH_THREADS: usize = 8;

/// Makes every `(log, upto)` durable below `upto` (the offsets
/// [`Log::append_unflushed`] returned), the fsyncs of different logs
/// running concurrently so that the file system can share one journal
/// commit among them: with `flush.messages=1`, a Produce request to 32
/// partitions costs about one commit instead of 32 in a row. One result per
/// entry, in order; a failed flush fails only its own entry.
pub fn flush_logs(pending: &[(Arc<Log>, i64)], now_ms: i64) -> Vec<Result<()>> {
    let flush = |i: usize| -> Result<()> {
        let (log, upto) = &pending[i];
        log.flush_to(*upto, Some(now_ms))
    };
    if pending.len() <= 1 {
        return (0..pending.len()).map(flush).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<()>>>> =
        pending.iter().map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::AcqRel);
        let Some(slot) = results.get(i) else {
            break;
        };
        let r = flush(i);
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
    };
    std::thread::scope(|s| {
        for _ in 1..pending.len().min(MAX_FLUSH_THREADS) {
            // If no thread can be started, the calling thread does it all.
            if std::thread::Builder::new()
                .name("skiff-flush".into())
                .spawn_scoped(s, work)
                .is_err()
            {
                break;
            }
        }
        work();
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                // Every slot below `len` is filled before the scope ends.
                .unwrap_or(Ok(()))
        })
        .collect()
}

impl Log {
    /// Opens (recovering if needed) the partition directory `dir`,
    /// creating it if missing. Logs one `info` line with the outcome.
    pub fn open(dir: &Path, tp: TopicPartition, config: LogConfig, now_ms: i64) -> Result<Log> {
        Log::open_with_faults(dir, tp, config, now_ms, Arc::default())
    }

    /// [`Log::open`] sharing a fault-injection plan (see `fault`).
    pub fn open_with_faults(
        dir: &Path,
        tp: TopicPartition,
        config: LogConfig,
        now_ms: i64,
        faults: Arc<FaultPlan>,
    ) -> Result<Log> {
        let loaded = recovery::load_log(dir, &tp, config, now_ms)?;
        let (hw_tx, _) = watch::channel(loaded.local.next_offset);
        Ok(Log {
            tp,
            dir: dir.to_path_buf(),
            maintenance: Mutex::new(()),
            faults,
            flush: FlushState::new(loaded.flushed_offset, now_ms, loaded.recovery_checkpoint),
            hw_tx,
            log_start_offset: AtomicI64::new(loaded.local.log_start_offset),
            deleted: AtomicBool::new(false),
            inner: Mutex::new(loaded.local),
        })
    }

    /// The partition lock (see `local_log::lock` on poisoning).
    pub(super) fn lock(&self) -> MutexGuard<'_, LocalLog> {
        local_log::lock(&self.inner)
    }

    pub(super) fn lock_maintenance(&self) -> MutexGuard<'_, ()> {
        self.maintenance
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// This partition.
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    /// The partition directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The config this log runs with.
    pub fn config(&self) -> LogConfig {
        self.lock().config.clone()
    }

    /// Replaces the config (AlterConfigs): the next append, roll, retention
    /// check and cleaning pass use it. Settings that shape files
    /// (`segment.index.bytes`) apply to segments created from now on.
    pub fn set_config(&self, config: LogConfig) {
        self.lock().config = config;
    }

    /// The fault-injection plan this log consults.
    pub fn faults(&self) -> &Arc<FaultPlan> {
        &self.faults
    }

    /// Appends exactly one v2 batch (a Produce request's records for this
    /// partition). See the crate docs of `storage` for the full contract:
    /// validation (CRC, no control batches, record count), size limit,
    /// idempotent producer checks, offset assignment in place, roll,
    /// indexing, high watermark publication, and `flush.messages`.
    pub fn append(&self, batch: Bytes, now_ms: i64) -> Result<AppendInfo> {
        let (info, flush) = self.append_unflushed(batch, now_ms)?;
        if let Some(upto) = flush {
            self.flush_to(upto, Some(now_ms))?;
        }
        Ok(info)
    }

    /// [`Log::append`] without its `flush.messages` flush: returns the
    /// offset below which the log must be made durable (with
    /// [`flush_logs`]) *before the append is acknowledged*, if the flush
    /// policy asks for it. Lets a request that appends to many partitions
    /// flush them together (group commit across partitions).
    pub fn append_unflushed(&self, batch: Bytes, now_ms: i64) -> Result<(AppendInfo, Option<i64>)> {
        let mut header = validate_batch(&batch)?;
        if header.is_control() {
            return Err(StorageError::InvalidRecord(
                "control batches cannot be produced by clients",
            ));
        }
        if header.is_transactional() && !header.has_producer_id() {
            // Nothing could end such a transaction (markers are per producer).
            return Err(StorageError::InvalidRecord(
                "transactional batch without a producer id",
            ));
        }
        if header.record_count <= 0
            || i64::from(header.record_count) != i64::from(header.last_offset_delta) + 1
        {
            return Err(StorageError::InvalidRecord(
                "record count does not match the batch's offset range",
            ));
        }
        if self.deleted.load(Ordering::Acquire) {
            return Err(StorageError::UnknownTopic(self.tp.topic.clone()));
        }
        // A compressed batch for a compacted topic is decompressed for the
        // key check (bounded: see `record::decompression_limit`) before the
        // partition lock is taken, so that a large one does not stall
        // other appends and reads; a batch over `max.message.bytes` is left
        // to the size check below.
        if header.compression() != 0 {
            let (compacts, max) = {
                let inner = self.lock();
                (inner.config.compacts(), inner.config.max_message_bytes)
            };
            if compacts && batch.len() <= usize::try_from(max).unwrap_or(0) {
                check_keys(&batch, crate::record::decompression_limit(max))?;
            }
        }
        let (info, next_offset, flush) = {
            let mut inner = self.lock();
            // Kafka's LogValidator: a compacted topic needs a key per record
            // (compressed batches were checked above, outside the lock).
            if inner.config.compacts() && header.compression() == 0 {
                check_keys(&batch, usize::MAX)?;
            }
            let max = inner.config.max_message_bytes;
            if batch.len() > usize::try_from(max).unwrap_or(0) {
                return Err(StorageError::RecordTooLarge {
                    size: batch.len(),
                    max,
                });
            }
            if header.has_producer_id() {
                if let Some(dup) = inner.producers.check(&header)? {
                    debug!(partition = %self.tp, producer_id = header.producer_id,
                        first_seq = dup.first_seq, "duplicate batch, not appended");
                    let dup = AppendInfo {
                        base_offset: dup.first_offset,
                        log_append_time_ms: -1,
                        log_start_offset: inner.log_start_offset,
                        duplicate: true,
                    };
                    return Ok((dup, None));
                }
            }
            let base = inner.next_offset;
            let log_append = inner.config.message_timestamp_type == TimestampType::LogAppendTime;
            let mut head = if log_append {
                header.attributes |= ATTR_LOG_APPEND_TIME;
                header.base_timestamp = now_ms;
                header.max_timestamp = now_ms;
                log_append_time_header(&batch, now_ms)?
            } else {
                header_copy(&batch)?
            };
            set_base_offset(&mut head, base)?;
            set_partition_leader_epoch(&mut head, 0)?;
            header.base_offset = base;
            header.partition_leader_epoch = 0;

            self.prepare_append(&mut inner, batch.len(), header.last_offset(), now_ms)?;
            let flush = self.commit_append(&mut inner, &head, &batch, &header, now_ms)?;
            let info = AppendInfo {
                base_offset: base,
                log_append_time_ms: if log_append { now_ms } else { -1 },
                log_start_offset: inner.log_start_offset,
                duplicate: false,
            };
            (info, inner.next_offset, flush)
        };
        Ok((info, flush.then_some(next_offset)))
    }

    /// Before writing a batch of `batch_len` bytes ending at `last_offset`:
    /// the fault seam and the roll check, so that afterwards the active
    /// segment is the one the batch goes to (a transaction marker's index
    /// entry is written there first, see `txn`).
    pub(super) fn prepare_append(
        &self,
        inner: &mut LocalLog,
        batch_len: usize,
        last_offset: i64,
        now_ms: i64,
    ) -> Result<()> {
        self.faults.check("append to", &self.dir)?;
        if let Some(reason) =
            inner
                .active
                .should_roll(batch_len, last_offset, &inner.config, now_ms)
        {
            debug!(partition = %self.tp, ?reason, new_base = inner.next_offset, "rolling segment");
            self.roll(inner)?;
        }
        Ok(())
    }

    /// Writes `batch` (its header replaced by `head`, described by `header`
    /// with its assigned offsets) into the active segment and updates the
    /// bookkeeping: producer state, log end, max timestamp, high watermark.
    /// Returns whether `flush.messages` asks for a flush.
    pub(super) fn commit_append(
        &self,
        inner: &mut LocalLog,
        head: &[u8; BATCH_HEADER_LEN],
        batch: &[u8],
        header: &crate::record::BatchHeader,
        now_ms: i64,
    ) -> Result<bool> {
        inner.append_batch(head, batch, header, now_ms)?;
        self.hw_tx.send_replace(inner.next_offset);
        let unflushed = inner.next_offset - self.flush.flushed_offset();
        Ok(unflushed >= inner.config.flush_messages)
    }

    /// Seals the active segment and starts a new one at the log end offset.
    /// Called with the lock held; does no fsync (see module docs).
    pub(super) fn roll(&self, inner: &mut LocalLog) -> Result<()> {
        self.faults.check("create segment in", &self.dir)?;
        inner.roll(&self.dir, &self.tp)
    }

    /// [`Log::read`] without isolation: every batch up to the high
    /// watermark, with the last stable offset read under the same lock;
    /// `aborted` is left empty for the caller (`txn`) to fill in.
    pub(super) fn read_uncommitted(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<ReadResult> {
        let (mut reader, mut pos, high_watermark, log_start_offset, last_stable_offset) = {
            let inner = self.lock();
            let (log_start, log_end) = (inner.log_start_offset, inner.next_offset);
            let lso = inner.last_stable_offset();
            inner.check_fetch_offset(fetch_offset)?;
            let empty = ReadResult {
                records: Bytes::new(),
                high_watermark: log_end,
                log_start_offset: log_start,
                last_stable_offset: lso,
                aborted: Vec::new(),
            };
            if fetch_offset == log_end {
                return Ok(empty);
            }
            let Some(start) = inner.start_read(fetch_offset)? else {
                return Ok(empty);
            };
            (start.reader, start.position, log_end, log_start, lso)
        };
        loop {
            if let Some((at, h)) = reader.find_batch(pos, fetch_offset)? {
                return Ok(ReadResult {
                    records: reader.read_batches(at, &h, max_bytes, min_one_batch)?,
                    high_watermark,
                    log_start_offset,
                    last_stable_offset,
                    aborted: Vec::new(),
                });
            }
            // The offset lies in a gap after the end of this segment's data:
            // continue at the start of the next segment.
            let next: Option<SegmentReader> = self
                .lock()
                .segment_after(reader.base_offset)
                .map(LogSegment::reader)
                .transpose()?;
            match next {
                Some(r) => {
                    reader = r;
                    pos = 0;
                }
                None => {
                    return Ok(ReadResult {
                        records: Bytes::new(),
                        high_watermark,
                        log_start_offset,
                        last_stable_offset,
                        aborted: Vec::new(),
                    })
                }
            }
        }
    }

    /// Receives the high watermark after every append (for long polls).
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.hw_tx.subscribe()
    }

    /// Last offset visible to consumers + 1; equals the log end offset
    /// (single replica).
    pub fn high_watermark(&self) -> i64 {
        *self.hw_tx.borrow()
    }

    /// The next offset to be assigned.
    pub fn log_end_offset(&self) -> i64 {
        self.lock().next_offset
    }

    /// First offset in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset.load(Ordering::Acquire)
    }

    /// Every offset below this is fsynced.
    pub fn flushed_offset(&self) -> i64 {
        self.flush.flushed_offset()
    }

    /// Bytes of all segment files.
    pub fn size_bytes(&self) -> u64 {
        self.lock().size_bytes()
    }

    /// Number of segments (at least 1).
    pub fn segment_count(&self) -> usize {
        self.lock().sealed.len() + 1
    }

    /// fsyncs everything appended so far.
    pub fn flush(&self) -> Result<()> {
        let end = self.lock().next_offset;
        self.flush_to(end, None)
    }

    /// Makes every offset below `upto` durable (see `log_flush`).
    pub(super) fn flush_to(&self, upto: i64, now_ms: Option<i64>) -> Result<()> {
        self.flush
            .flush_to(&self.inner, &self.dir, &self.faults, upto, now_ms)
    }

    /// Writes the recovery point checkpoint if due (see `log_flush`).
    pub(super) fn checkpoint_recovery_point(&self, now_ms: i64, durable: bool) {
        self.flush.checkpoint_recovery_point(
            &self.inner,
            &self.dir,
            &self.tp,
            &self.deleted,
            now_ms,
            durable,
        );
    }

    /// Flushes and writes a durable producer snapshot at the log end, so
    /// the next open replays nothing (graceful shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.flush()?;
        let (offset, snapshot) = {
            let inner = self.lock();
            (inner.next_offset, inner.producers.encode_snapshot())
        };
        // Written outside the lock: this one is fsynced. An append racing
        // with shutdown is simply replayed from the log on the next open.
        partition_files::write_snapshot(&self.dir, offset, &snapshot, true)?;
        // Everything is flushed: the next open trusts all of it (indexes
        // included) after a sanity check instead of rescanning.
        self.checkpoint_recovery_point(0, true);
        Ok(())
    }

    /// Appends fail with `UnknownTopic` from now on.
    pub(crate) fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
    }
}

/// Kafka's LogValidator rule for compacted topics: every record of `batch`
/// has a key (INVALID_RECORD "Compacted topic cannot accept message without
/// key"). Compressed batches are decompressed to at most `limit` bytes; a
/// batch its codec cannot read fails with the codec's error.
fn check_keys(batch: &[u8], limit: usize) -> Result<()> {
    let decoded = crate::record::DecodedBatch::new(batch, limit)?;
    let keyless = decoded
        .records()
        .any(|r| r.map_or(true, |r| r.key.is_none()));
    if keyless {
        return Err(StorageError::InvalidRecord(
            "Compacted topic cannot accept message without key",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::record::{validate_batch, validate_batches, BatchBuilder, BatchIter};
    use crate::storage::test_util::*;
    use crate::storage::Isolation;

    #[test]
    fn append_rejects_invalid_batches() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                max_message_bytes: 200,
                ..LogConfig::default()
            },
        );
        let mut bad_crc = batch(1, 0).to_vec();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        assert!(matches!(
            log.append(Bytes::from(bad_crc), 0),
            Err(StorageError::Record(
                crate::record::RecordError::CorruptCrc { .. }
            ))
        ));
        let mut control = BatchBuilder::new(0, 0);
        control.attributes = crate::record::ATTR_CONTROL;
        let control = control.build(&records(1, 0, 1));
        assert!(matches!(
            log.append(Bytes::from(control), 0),
            Err(StorageError::InvalidRecord(_))
        ));
        let empty = BatchBuilder::new(0, 0).build(&[]);
        assert!(matches!(
            log.append(Bytes::from(empty), 0),
            Err(StorageError::InvalidRecord(_))
        ));
        let big = Bytes::from(BatchBuilder::new(0, 0).build(&records(1, 0, 300)));
        assert!(matches!(
            log.append(big, 0),
            Err(StorageError::RecordTooLarge { max: 200, .. })
        ));
        let mut legacy = batch(1, 0).to_vec();
        legacy[16] = 1;
        assert!(matches!(
            log.append(Bytes::from(legacy), 0),
            Err(StorageError::Record(
                crate::record::RecordError::UnsupportedMagic(1)
            ))
        ));
        assert_eq!(log.high_watermark(), 0);
        assert_eq!(log.size_bytes(), 0);
    }

    #[test]
    fn log_append_time_stamps_batches() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                message_timestamp_type: TimestampType::LogAppendTime,
                ..LogConfig::default()
            },
        );
        let info = log.append(batch(3, 5), 777_000).unwrap();
        assert_eq!(info.log_append_time_ms, 777_000);
        let r = log
            .read(0, 1 << 20, true, Isolation::ReadUncommitted)
            .unwrap();
        let h = validate_batch(&r.records).unwrap();
        assert!(h.timestamp_type_is_log_append());
        assert_eq!((h.base_timestamp, h.max_timestamp), (777_000, 777_000));
        assert_eq!(
            log.offset_for_timestamp(700_000).unwrap(),
            Some((0, 777_000))
        );
        assert_eq!(log.max_timestamp(), Some((0, 777_000)));
    }

    #[test]
    fn idempotent_producer_dedup_and_sequence_checks() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        assert_eq!(log.append(idem(7, 0, 0, 2), 0).unwrap().base_offset, 0);
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, 2);
        assert_eq!(log.append(idem(7, 0, 2, 3), 0).unwrap().base_offset, 3);
        // A retry of the first batch: its original offset, nothing appended.
        let dup = log.append(idem(7, 0, 0, 2), 0).unwrap();
        assert!(dup.duplicate);
        assert_eq!(dup.base_offset, 0);
        assert_eq!(log.high_watermark(), 6);
        assert!(matches!(
            log.append(idem(7, 0, 9, 1), 0),
            Err(StorageError::OutOfOrderSequence {
                producer_id: 7,
                first_seq: 9,
                last_seq: 4,
                ..
            })
        ));
        assert!(matches!(
            log.append(idem(7, 1, 5, 1), 0),
            Err(StorageError::OutOfOrderSequence { .. })
        ));
        assert_eq!(log.append(idem(7, 1, 0, 1), 0).unwrap().base_offset, 6);
        assert!(matches!(
            log.append(idem(7, 0, 5, 1), 0),
            Err(StorageError::InvalidProducerEpoch {
                epoch: 0,
                current_epoch: 1,
                ..
            })
        ));
        // Another producer may start at any sequence.
        assert_eq!(log.append(idem(8, 3, 100, 1), 0).unwrap().base_offset, 7);
        assert_eq!(log.high_watermark(), 8);
    }

    #[test]
    fn subscribers_see_the_high_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        let mut rx = log.subscribe();
        assert_eq!(*rx.borrow_and_update(), 0);
        assert!(!rx.has_changed().unwrap());
        log.append(batch(3, 0), 0).unwrap();
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 3);
    }

    #[test]
    fn injected_disk_full_fails_writes_keeps_reads_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                flush_messages: 1,
                ..small()
            },
        );
        for _ in 0..20 {
            log.append(batch(2, 0), 0).unwrap();
        }
        let before = read_all(&log);
        log.faults().set(crate::storage::fault::Fault::NoSpace);
        for _ in 0..5 {
            match log.append(batch(2, 0), 0) {
                Err(StorageError::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(28)),
                other => panic!("{other:?}"),
            }
        }
        assert!(log.delete_records(4).is_err());
        assert_eq!(read_all(&log), before, "reads keep working");
        assert_eq!(log.high_watermark(), 40);
        log.faults().set(crate::storage::fault::Fault::None);
        assert_eq!(log.append(batch(2, 0), 0).unwrap().base_offset, 40);
        drop(log);
        let log = open(dir.path(), small());
        let after = read_all(&log);
        assert_eq!(&after[..before.len()], &before[..]);
        assert_eq!(log.high_watermark(), 42);
    }

    /// A tiny deterministic PRNG (xorshift64*) so the op sequence below is
    /// reproducible without a dev-dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random sequences of append / read / reopen / torn tail / periodic
    /// roll against a model (the batches as they should be stored), in the
    /// spirit of redpanda's opfuzz.
    #[test]
    fn random_operation_sequences_match_a_model() {
        for seed in 1..=8u64 {
            let dir = tempfile::tempdir().unwrap();
            let cfg = LogConfig {
                segment_bytes: 600,
                index_interval_bytes: 80,
                segment_ms: 1_000,
                ..LogConfig::default()
            };
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut log = open(dir.path(), cfg.clone());
            let mut model: Vec<Vec<u8>> = Vec::new(); // stored batches, in order
            let mut now = 0i64;
            for step in 0..300 {
                now += rng.below(50) as i64;
                match rng.below(10) {
                    0..=4 => {
                        let n = 1 + rng.below(4) as usize;
                        let recs = records(n, now, rng.below(120) as usize);
                        let b = BatchBuilder::new(0, now).build(&recs);
                        let info = log.append(Bytes::from(b), now).unwrap();
                        let next: i64 = model
                            .iter()
                            .map(|b| validate_batch(b).unwrap().record_count as i64)
                            .sum();
                        assert_eq!(info.base_offset, next, "seed {seed} step {step}");
                        let r = log
                            .read(info.base_offset, 1 << 20, true, Isolation::ReadUncommitted)
                            .unwrap();
                        model.push(r.records.to_vec());
                    }
                    5 | 6 => {
                        if model.is_empty() {
                            continue;
                        }
                        let k = rng.below(model.len() as u64) as usize;
                        let h = validate_batch(&model[k]).unwrap();
                        let offset = h.base_offset + rng.below(h.record_count as u64) as i64;
                        let r = log
                            .read(
                                offset,
                                1 + rng.below(2_000) as usize,
                                true,
                                Isolation::ReadUncommitted,
                            )
                            .unwrap();
                        let got = validate_batches(&r.records).unwrap();
                        for (i, gh) in got.iter().enumerate() {
                            let pos = BatchIter::new(&r.records).nth(i).unwrap().unwrap().0;
                            assert_eq!(&r.records[pos..pos + gh.total_len()], &model[k + i][..]);
                        }
                        assert!(!got.is_empty());
                    }
                    7 => {
                        drop(log);
                        log = open(dir.path(), cfg.clone());
                    }
                    8 => {
                        // Tear the tail of the last segment (a crash mid-write)
                        // and reopen: only whole batches at the end may be lost.
                        let last = files_with_ext(&pdir(dir.path()), "log").pop().unwrap();
                        drop(log);
                        let len = fs::metadata(&last).unwrap().len();
                        let cut = rng.below(len.min(200) + 1);
                        fs::OpenOptions::new()
                            .write(true)
                            .open(&last)
                            .unwrap()
                            .set_len(len - cut)
                            .unwrap();
                        log = open(dir.path(), cfg.clone());
                        let hw = log.high_watermark();
                        model.retain(|b| validate_batch(b).unwrap().last_offset() < hw);
                        let next: i64 = model
                            .iter()
                            .map(|b| validate_batch(b).unwrap().record_count as i64)
                            .sum();
                        assert_eq!(next, hw, "seed {seed} step {step}");
                    }
                    _ => log.run_periodic(now, true).unwrap(),
                }
            }
            let all = read_all(&log);
            assert_eq!(all.len(), model.len(), "seed {seed}");
            for (h, m) in all.iter().zip(&model) {
                assert_eq!(*h, validate_batch(m).unwrap());
            }
        }
    }
}
