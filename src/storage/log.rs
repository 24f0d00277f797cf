//! `Log`: one partition's log (Kafka's `UnifiedLog` + `LocalLog`): an
//! ordered set of segments, the offsets that describe it, idempotent
//! producer state, and the append / read / flush paths.
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
//!   them, see `checkpoint_recovery_point`);
//! * `last_stable_offset`: the first offset of the earliest ongoing
//!   transaction, else the high watermark; `read_committed` reads stop
//!   there (see `txn`).
//!
//! Locking: the bookkeeping lives in a `std::sync::Mutex` (as in
//! mini-redis' `Db`): critical sections are short, never span an `.await`
//! (nothing here is async), and contain only `pwrite`s into the page cache.
//! The expensive parts run *outside* it: CRC validation before taking it,
//! `pread`s of fetched data after releasing it (through a `SegmentReader`
//! snapshot), and fsync in `flush_to`, which is serialized by its own
//! `flush_lock`: appenders that need a flush queue there, and whoever gets
//! it first fsyncs everything written so far and advances
//! `flushed_offset` past all of them (group commit). No fsync happens
//! under the partition lock: a rolled segment is flushed afterwards by
//! `run_periodic` or the next `flush_to`, as Kafka does asynchronously.
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
//! Retention (`retention.ms`, `retention.bytes`, policy `delete`) follows
//! Kafka's `UnifiedLog.deleteOldSegments`: a *prefix* of the log is
//! deleted, oldest segment first, while the predicate holds; the active
//! segment counts too (it is rolled first, so the log is never without
//! one), and `retention.bytes` deletes a segment only if the log stays at
//! or above the limit without it. Whatever the policy, segments entirely
//! below the log start offset (DeleteRecords) are deleted. The log start
//! offset is the greater of the first segment's base and the value
//! DeleteRecords set, which is checkpointed in `log-start-offset`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::error::{io_err, Result, StorageError};
use super::fault::FaultPlan;
use super::file_names::LOG_START_CHECKPOINT;
use super::fs_util::{fsync_dir, write_atomically};
use super::local_log::{self, LocalLog};
use super::log_config::{LogConfig, TimestampType};
use super::partition_files;
use super::producer_state::PRODUCER_ID_EXPIRATION_MS;
use super::recovery;
use super::segment::{LogSegment, SegmentReader};
use super::txn_index::AbortedTxn;
use super::txn_state::{self, Isolation};
use crate::record::{
    first_record_at_or_after, header_copy, log_append_time_header, set_base_offset,
    set_partition_leader_epoch, validate_batch, TopicPartition, ATTR_LOG_APPEND_TIME,
    BATCH_HEADER_LEN,
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
    /// Serializes fsyncs (see module docs: group commit).
    flush_lock: Mutex<()>,
    /// Every offset below this is on stable storage.
    flushed_offset: AtomicI64,
    /// `now_ms` of the last completed flush (for `flush.ms`).
    last_flush_ms: AtomicI64,
    /// The recovery point last written to the checkpoint file and when
    /// (see `run_periodic`); the lock also serializes those writes.
    recovery_checkpoint: Mutex<(i64, i64)>,
    /// Publishes the high watermark after every append.
    hw_tx: watch::Sender<i64>,
    /// Mirrors `LocalLog::log_start_offset` for lock-free reads.
    log_start_offset: AtomicI64,
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

/// How often the recovery point checkpoint is rewritten while the flushed
/// offset moves (Kafka's `log.flush.offset.checkpoint.interval.ms`).
const RECOVERY_POINT_INTERVAL_MS: i64 = 60_000;

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
            flush_lock: Mutex::new(()),
            flushed_offset: AtomicI64::new(loaded.flushed_offset),
            last_flush_ms: AtomicI64::new(now_ms),
            recovery_checkpoint: Mutex::new(loaded.recovery_checkpoint),
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
        let unflushed = inner.next_offset - self.flushed_offset.load(Ordering::Acquire);
        Ok(unflushed >= inner.config.flush_messages)
    }

    /// Seals the active segment and starts a new one at the log end offset.
    /// Called with the lock held; does no fsync (see module docs).
    pub(super) fn roll(&self, inner: &mut LocalLog) -> Result<()> {
        self.faults.check("create segment in", &self.dir)?;
        inner.roll(&self.dir, &self.tp)
    }

    /// Reads whole batches starting with the one containing `fetch_offset`,
    /// up to `max_bytes` (but at least one whole batch if `min_one_batch`,
    /// KIP-74). `OffsetOutOfRange` outside `[log_start, log_end]`; at the
    /// log end, empty records. The caller caps `max_bytes` (this maps, or
    /// for small reads allocates, up to `min(max_bytes, rest of the
    /// segment)`). A read never spans two segments: the next fetch
    /// continues in the next one.
    ///
    /// `ReadCommitted` returns only the batches entirely below the last
    /// stable offset (possibly none, which is not an error) and the aborted
    /// transactions overlapping them (see `txn`).
    pub fn read(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
        isolation: Isolation,
    ) -> Result<ReadResult> {
        self.read_isolated(fetch_offset, max_bytes, min_one_batch, isolation)
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
        self.flushed_offset.load(Ordering::Acquire)
    }

    /// `(offset, timestamp)` of the first record with timestamp `>= ts`, or
    /// `None` if every record is older. Segments are skipped by their max
    /// timestamp, the time and offset indexes give the starting position,
    /// then batch headers are scanned and the matching batch is searched
    /// record by record (batch-granular for compressed batches: see
    /// `record::first_record_at_or_after`).
    pub fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(i64, i64)>> {
        let candidates: Vec<(SegmentReader, u64)> = {
            let inner = self.lock();
            let mut v = Vec::new();
            for seg in inner.segments() {
                if seg.max_timestamp().is_some_and(|m| m.timestamp >= ts) {
                    v.push((seg.reader()?, seg.lookup_timestamp(ts)?));
                }
            }
            v
        };
        for (reader, mut pos) in candidates {
            while let Some(h) = reader.header_at(pos)? {
                if h.max_timestamp >= ts {
                    let batch = reader.read_batch(pos, &h)?;
                    if let Some(found) = first_record_at_or_after(&batch, ts)? {
                        return Ok(Some(found));
                    }
                }
                pos += h.total_len() as u64;
            }
        }
        Ok(None)
    }

    /// ListOffsets v0's answer (Kafka 3.9's `legacyFetchOffsetsBefore`):
    /// segment granularity, not record timestamps. The candidates are every
    /// segment's base offset (at least the log start) paired with its file's
    /// modification time, then the log end offset paired with `now_ms` if
    /// the active segment holds data. Latest (-1) starts from the last
    /// candidate, earliest (-2) from the first, any other timestamp from the
    /// last one modified at or before it; up to `max_num_offsets` offsets
    /// from there backwards are returned, largest first. Offsets past the
    /// high watermark are replaced by it, as for a consumer in Kafka.
    pub fn legacy_offsets_before(
        &self,
        timestamp: i64,
        max_num_offsets: i32,
        now_ms: i64,
    ) -> Vec<i64> {
        let candidates: Vec<(i64, i64)> = {
            let inner = self.lock();
            let start = self.log_start_offset();
            let mut v: Vec<(i64, i64)> = inner
                .segments()
                .map(|s| {
                    (
                        s.base_offset().max(start),
                        s.last_modified_ms().unwrap_or(now_ms),
                    )
                })
                .collect();
            if inner.active.size() > 0 {
                v.push((inner.next_offset, now_ms));
            }
            v
        };
        let from = match timestamp {
            -1 => candidates.len().checked_sub(1),
            -2 => (!candidates.is_empty()).then_some(0),
            t => candidates.iter().rposition(|&(_, modified)| modified <= t),
        };
        let Some(from) = from else {
            return Vec::new();
        };
        // A negative count (Kafka fails the partition on it) asks for nothing.
        let count = usize::try_from(max_num_offsets).unwrap_or(0).min(from + 1);
        let mut offsets: Vec<i64> = candidates[from + 1 - count..=from]
            .iter()
            .rev()
            .map(|&(offset, _)| offset)
            .collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        let hw = self.high_watermark();
        if offsets.iter().any(|&o| o > hw) {
            offsets.retain(|&o| o <= hw);
            offsets.insert(0, hw);
        }
        offsets
    }

    /// `(offset, timestamp)` of the record with the largest timestamp in the
    /// log (ListOffsets MAX_TIMESTAMP): like Kafka (KIP-734, KAFKA-16310), the
    /// first record of the batch holding the log's max timestamp whose own
    /// timestamp is that maximum. The bookkeeping only knows the batch, so the
    /// batch is read back to find the record; if it cannot be (deleted below
    /// the log start meanwhile), its base offset is the answer. `None` for an
    /// empty log.
    pub fn max_timestamp(&self) -> Option<(i64, i64)> {
        let (base, ts) = self.lock().max_timestamp?;
        let exact = self
            .read(base, 1, true, Isolation::ReadUncommitted)
            .ok()
            .and_then(|r| {
                let len = crate::record::BatchHeader::parse(&r.records)
                    .ok()?
                    .total_len();
                let batch = r.records.get(..len)?;
                first_record_at_or_after(batch, ts).ok().flatten()
            })
            .filter(|&(_, found)| found == ts)
            .map(|(offset, _)| offset);
        Some((exact.unwrap_or(base), ts))
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

    /// Makes every offset below `upto` durable (group commit: see module
    /// docs). `now_ms`, if known, is recorded as the last flush time.
    pub(super) fn flush_to(&self, upto: i64, now_ms: Option<i64>) -> Result<()> {
        let _serial = self
            .flush_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.flushed_offset.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        self.faults.check("fsync", &self.dir)?;
        let (files, end, dir_dirty, txn_files) = {
            let mut inner = self.lock();
            let flushed = self.flushed_offset.load(Ordering::Acquire);
            let first = inner
                .sealed
                .range(..=flushed)
                .next_back()
                .map_or(i64::MIN, |(b, _)| *b);
            let mut files = Vec::new();
            for seg in inner.sealed.range(first..).map(|(_, s)| s) {
                if seg.next_offset() > flushed {
                    files.push(seg.log_sync_handle()?);
                }
            }
            // Only the data: index entries are made durable before the
            // recovery point passes them (`checkpoint_recovery_point`), as
            // nothing else relies on them surviving a crash. One fsync per
            // segment instead of three is what flush.messages=1 costs.
            files.push(inner.active.log_sync_handle()?);
            let (dir_dirty, txn_files) = inner.take_unsynced();
            (files, inner.next_offset, dir_dirty, txn_files)
        };
        let synced = files
            .iter()
            .try_for_each(|(f, path)| f.sync_data().map_err(io_err("fsync", path)))
            .and_then(|()| txn_state::sync_txn_indexes(&txn_files))
            .and_then(|()| {
                if dir_dirty {
                    fsync_dir(&self.dir)
                } else {
                    Ok(())
                }
            });
        if let Err(e) = synced {
            self.lock().restore_unsynced(dir_dirty, txn_files);
            return Err(e);
        }
        self.flushed_offset.fetch_max(end, Ordering::AcqRel);
        if let Some(now_ms) = now_ms {
            self.last_flush_ms.fetch_max(now_ms, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Periodic maintenance (called by the broker about once a second):
    /// time-based roll (`segment.ms`), `flush.ms`, flushing segments rolled
    /// since the last flush, producer id expiry, and retention when
    /// `retention_due` (the caller keeps Kafka's
    /// `log.retention.check.interval.ms` schedule: records with an old
    /// explicit timestamp must stay readable until the next check, as
    /// against Kafka).
    pub fn run_periodic(&self, now_ms: i64, retention_due: bool) -> Result<()> {
        let (end, active_base, flush_ms) = {
            let mut inner = self.lock();
            if inner.active.time_to_roll(&inner.config, now_ms) {
                debug!(partition = %self.tp, "rolling segment (segment.ms)");
                self.roll(&mut inner)?;
            }
            let expired = inner
                .producers
                .remove_expired(now_ms, PRODUCER_ID_EXPIRATION_MS);
            if expired > 0 {
                debug!(partition = %self.tp, expired, "expired idle producer ids");
            }
            (
                inner.next_offset,
                inner.active.base_offset(),
                inner.config.flush_ms,
            )
        };
        let flushed = self.flushed_offset();
        let since = now_ms.saturating_sub(self.last_flush_ms.load(Ordering::Acquire));
        if end > flushed && since >= flush_ms {
            self.flush_to(end, Some(now_ms))?;
        } else if flushed < active_base {
            // Kafka flushes a rolled segment asynchronously; this is that.
            self.flush_to(active_base, Some(now_ms))?;
        }
        self.checkpoint_recovery_point(now_ms, false);
        if retention_due {
            self.apply_retention(now_ms)?;
        }
        Ok(())
    }

    /// Writes the recovery point checkpoint if the flushed offset moved
    /// past it: at most every [`RECOVERY_POINT_INTERVAL_MS`] (Kafka's
    /// `log.flush.offset.checkpoint.interval.ms`), and not durably, unless
    /// `durable` (shutdown), which writes it regardless of the interval.
    /// A checkpoint only shortens the next crash recovery; failing to
    /// write one is logged, not returned.
    pub(super) fn checkpoint_recovery_point(&self, now_ms: i64, durable: bool) {
        let mut last = self
            .recovery_checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let flushed = self.flushed_offset();
        let due = durable || now_ms.saturating_sub(last.1) >= RECOVERY_POINT_INTERVAL_MS;
        if flushed <= last.0 || !due || self.deleted.load(Ordering::Acquire) {
            return;
        }
        // Flushes sync only the data: the index entries of the segments
        // the recovery point is about to pass must be durable first (every
        // entry for an offset below `flushed` was written before `flushed`
        // was, so this fsync covers them).
        let indexes = {
            let inner = self.lock();
            let mut files = Vec::new();
            let segs = inner.sealed.values().chain(std::iter::once(&inner.active));
            for seg in segs.filter(|s| s.next_offset() > last.0) {
                match seg.index_sync_handles() {
                    Ok(h) => files.extend(h),
                    Err(e) => {
                        warn!(partition = %self.tp, error = %e, "could not write the recovery point");
                        return;
                    }
                }
            }
            files
        };
        for (f, path) in indexes {
            if let Err(e) = f.sync_data() {
                warn!(partition = %self.tp, error = %e, path = %path.display(),
                    "could not write the recovery point");
                return;
            }
        }
        match partition_files::write_recovery_point(&self.dir, flushed, durable) {
            // A shutdown write does not restart the interval.
            Ok(()) => *last = (flushed, if durable { last.1 } else { now_ms }),
            Err(e) => warn!(partition = %self.tp, error = %e, "could not write the recovery point"),
        }
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

    /// Retention (see module docs): deletes the oldest segments that are
    /// past `retention.ms`, beyond `retention.bytes` (policy `delete` only)
    /// or entirely below the log start offset. Returns how many segments
    /// were deleted. Never blocks appends or reads beyond moving the
    /// segments out of the map; the files are unlinked outside the
    /// partition lock.
    pub fn apply_retention(&self, now_ms: i64) -> Result<usize> {
        let _m = self.lock_maintenance();
        self.delete_old_segments(now_ms, true)
    }

    /// The work of [`Log::apply_retention`] (`retention` false: only the
    /// log start offset rule). The caller holds `maintenance`.
    fn delete_old_segments(&self, now_ms: i64, retention: bool) -> Result<usize> {
        let removed: Vec<LogSegment> = {
            let mut inner = self.lock();
            let cfg = &inner.config;
            let apply = retention && cfg.deletes();
            let mut size_left = i128::from(inner.sealed_bytes + inner.active.size())
                - i128::from(cfg.retention_bytes);
            let segs: Vec<&LogSegment> = inner.segments().collect();
            let mut count = 0usize;
            for (i, seg) in segs.iter().enumerate() {
                let next_base = segs.get(i + 1).map(|s| s.base_offset());
                if next_base.is_none() && seg.size() == 0 {
                    break; // never the empty active segment
                }
                let mut delete = next_base.is_some_and(|n| n <= inner.log_start_offset);
                if !delete && apply {
                    let size = i128::from(seg.size());
                    let by_size = cfg.retention_bytes >= 0 && size_left - size >= 0;
                    let by_time = cfg.retention_ms >= 0
                        && seg
                            .largest_time_ms()
                            .is_some_and(|t| now_ms.saturating_sub(t) > cfg.retention_ms);
                    delete = by_size || by_time;
                }
                if !delete {
                    break;
                }
                size_left -= i128::from(seg.size());
                count += 1;
            }
            if count == 0 {
                return Ok(0);
            }
            if count == segs.len() {
                // Deleting everything: roll first so an (empty) active
                // segment remains, as Kafka does.
                debug!(partition = %self.tp, "rolling segment (retention removes the active one)");
                self.roll(&mut inner)?;
            }
            let removed = inner.remove_oldest(count);
            self.log_start_offset
                .store(inner.log_start_offset, Ordering::Release);
            removed
        };
        let bases: Vec<i64> = removed.iter().map(LogSegment::base_offset).collect();
        info!(partition = %self.tp, segments = bases.len(),
            first = bases.first().copied(), log_start_offset = self.log_start_offset(),
            "deleted old segments");
        // In-flight reads hold their own descriptors (see module docs).
        drop(removed);
        partition_files::delete_segments(&self.dir, &bases)?;
        Ok(bases.len())
    }

    /// DeleteRecords: makes `offset` (-1: the high watermark) the log start
    /// offset if it is above the current one, durably (`log-start-offset`
    /// is written before the new start is visible), then deletes the
    /// segments entirely below it. Returns the log start offset afterwards
    /// (Kafka's low watermark). `OffsetOutOfRange` for an offset above the
    /// high watermark or below -1.
    pub fn delete_records(&self, offset: i64) -> Result<i64> {
        let _m = self.lock_maintenance();
        let (target, current) = {
            let inner = self.lock();
            let hw = inner.next_offset;
            let target = if offset == -1 { hw } else { offset };
            if target < 0 || target > hw {
                return Err(StorageError::OffsetOutOfRange {
                    requested: offset,
                    log_start: inner.log_start_offset,
                    log_end: hw,
                });
            }
            (target, inner.log_start_offset)
        };
        if target <= current {
            return Ok(current);
        }
        let path = self.dir.join(LOG_START_CHECKPOINT);
        self.faults.check("write", &path)?;
        write_atomically(&path, target.to_string().as_bytes())?;
        {
            let mut inner = self.lock();
            if target > inner.log_start_offset {
                inner.log_start_offset = target;
                inner.first_dirty_offset = inner.first_dirty_offset.max(target);
                self.log_start_offset.store(target, Ordering::Release);
            }
        }
        info!(partition = %self.tp, log_start_offset = target, "log start offset moved (DeleteRecords)");
        self.delete_old_segments(0, false)?;
        Ok(self.log_start_offset())
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
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::record::{validate_batch, validate_batches, BatchBuilder, BatchIter, NewRecord};
    use crate::storage::test_util::*;

    #[test]
    fn append_assigns_contiguous_offsets_and_reads_whole_batches() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        let mut expected = 0;
        for n in 1..=10 {
            let info = log.append(batch(n, 1000 + n as i64), 5).unwrap();
            assert_eq!(info.base_offset, expected);
            assert_eq!(info.log_append_time_ms, -1);
            assert!(!info.duplicate);
            expected += n as i64;
        }
        assert_eq!(log.high_watermark(), expected);
        assert_eq!(log.log_end_offset(), expected);
        // Every offset reads back the batch containing it first, CRC intact,
        // offsets rewritten on disk.
        for offset in 0..expected {
            let r = log
                .read(offset, 1 << 20, true, Isolation::ReadUncommitted)
                .unwrap();
            let hs = validate_batches(&r.records).unwrap();
            assert!(hs[0].base_offset <= offset && offset <= hs[0].last_offset());
            assert_eq!(hs.last().unwrap().next_offset(), expected);
            assert_eq!((r.high_watermark, r.log_start_offset), (expected, 0));
            assert!(hs.iter().all(|h| h.partition_leader_epoch == 0));
        }
        // At the log end: empty. Past it or before the start: out of range.
        assert!(log
            .read(expected, 100, true, Isolation::ReadUncommitted)
            .unwrap()
            .records
            .is_empty());
        assert!(matches!(
            log.read(expected + 1, 100, true, Isolation::ReadUncommitted),
            Err(StorageError::OffsetOutOfRange { requested, log_start: 0, log_end })
                if requested == expected + 1 && log_end == expected
        ));
        assert!(matches!(
            log.read(-1, 100, true, Isolation::ReadUncommitted),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        // max_bytes: whole batches only; KIP-74 for the first one.
        let all = log
            .read(0, 1 << 20, true, Isolation::ReadUncommitted)
            .unwrap()
            .records;
        let first_len = BatchIter::new(&all).next().unwrap().unwrap().1.total_len();
        assert_eq!(
            log.read(0, first_len, true, Isolation::ReadUncommitted)
                .unwrap()
                .records
                .len(),
            first_len
        );
        assert_eq!(
            log.read(0, first_len + 10, true, Isolation::ReadUncommitted)
                .unwrap()
                .records
                .len(),
            first_len
        );
        assert_eq!(
            log.read(0, 1, true, Isolation::ReadUncommitted)
                .unwrap()
                .records
                .len(),
            first_len
        );
        assert!(log
            .read(0, 1, false, Isolation::ReadUncommitted)
            .unwrap()
            .records
            .is_empty());
        assert!(log
            .read(0, 0, false, Isolation::ReadUncommitted)
            .unwrap()
            .records
            .is_empty());
    }

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
    fn rolls_by_size_and_reads_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), small());
        for i in 0..60 {
            log.append(batch(3, i * 10), i).unwrap();
        }
        assert!(log.segment_count() > 5, "{}", log.segment_count());
        let hs = read_all(&log);
        assert_eq!(hs.len(), 60);
        assert!(hs
            .windows(2)
            .all(|w| w[0].next_offset() == w[1].base_offset));
        let logs = files_with_ext(&pdir(dir.path()), "log");
        let on_disk: u64 = logs.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
        assert_eq!(log.size_bytes(), on_disk);
        assert!(logs.iter().all(|f| fs::metadata(f).unwrap().len() <= 1024));
        // Segment files are named by the base offset of their first batch.
        assert_eq!(logs.len(), log.segment_count());
        for p in &logs {
            let base: i64 = p.file_stem().unwrap().to_str().unwrap().parse().unwrap();
            assert!(hs.iter().any(|h| h.base_offset == base));
        }
        // A batch larger than segment.bytes still goes in (alone).
        let huge = Bytes::from(BatchBuilder::new(0, 0).build(&records(1, 0, 2000)));
        log.append(huge, 100).unwrap();
        log.append(batch(1, 0), 100).unwrap();
        assert_eq!(read_all(&log).len(), 62);
    }

    #[test]
    fn rolls_by_time_and_by_full_index() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                segment_ms: 100,
                ..LogConfig::default()
            },
        );
        log.append(batch(1, 0), 1_000).unwrap();
        log.append(batch(1, 0), 1_050).unwrap();
        assert_eq!(log.segment_count(), 1);
        log.append(batch(1, 0), 1_100).unwrap();
        assert_eq!(log.segment_count(), 2);
        // run_periodic rolls a non-empty segment whose time is up, never an
        // empty one.
        log.run_periodic(1_150, true).unwrap();
        assert_eq!(log.segment_count(), 2);
        log.run_periodic(1_200, true).unwrap();
        assert_eq!(log.segment_count(), 3);
        log.run_periodic(5_000, true).unwrap();
        assert_eq!(log.segment_count(), 3);
        assert_eq!(read_all(&log).len(), 3);

        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                index_interval_bytes: 0,
                segment_index_bytes: 16, // two offset index entries
                ..LogConfig::default()
            },
        );
        for _ in 0..10 {
            log.append(batch(1, 0), 0).unwrap();
        }
        assert!(log.segment_count() >= 3, "{}", log.segment_count());
        assert_eq!(read_all(&log).len(), 10);
    }

    #[test]
    fn reopen_keeps_everything_and_continues_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let before = {
            let log = open(dir.path(), small());
            for i in 0..40 {
                log.append(batch(2, i), i).unwrap();
            }
            read_all(&log)
            // Dropped without a flush: like SIGKILL (the page cache survives).
        };
        let log = open(dir.path(), small());
        assert_eq!(read_all(&log), before);
        assert_eq!(log.high_watermark(), 80);
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, 80);
        // Sealed segments' indexes were trusted, the active one's rebuilt:
        // every lookup still lands on the right batch.
        for o in 0..81 {
            let r = log.read(o, 100, true, Isolation::ReadUncommitted).unwrap();
            let (_, h) = BatchIter::new(&r.records).next().unwrap().unwrap();
            assert!(h.base_offset <= o && o <= h.last_offset());
        }
    }

    #[test]
    fn empty_partition_dir_is_a_fresh_log() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(pdir(dir.path())).unwrap();
        let log = open(dir.path(), small());
        assert_eq!(
            (
                log.log_start_offset(),
                log.high_watermark(),
                log.segment_count()
            ),
            (0, 0, 1)
        );
        assert_eq!(log.max_timestamp(), None);
        assert_eq!(log.offset_for_timestamp(0).unwrap(), None);
    }

    /// Writes `n` single-record batches into a fresh one-segment log and
    /// returns the segment file and the end position of each batch.
    fn one_segment_log(root: &Path, n: i64) -> (std::path::PathBuf, Vec<u64>) {
        let log = open(root, LogConfig::default());
        let mut ends = Vec::new();
        for i in 0..n {
            log.append(batch(1, i), 0).unwrap();
            ends.push(log.size_bytes());
        }
        assert_eq!(log.segment_count(), 1);
        (files_with_ext(&pdir(root), "log").remove(0), ends)
    }

    #[test]
    fn recovery_truncates_a_torn_tail_at_every_length() {
        let dir = tempfile::tempdir().unwrap();
        let (seg, ends) = one_segment_log(dir.path(), 4);
        let full = fs::read(&seg).unwrap();
        for cut in 0..=full.len() {
            fs::write(&seg, &full[..cut]).unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut as u64).count() as i64;
            let log = open(dir.path(), LogConfig::default());
            assert_eq!(log.high_watermark(), whole, "cut at {cut}");
            let valid_len = if whole == 0 {
                0
            } else {
                ends[whole as usize - 1]
            };
            assert_eq!(fs::metadata(&seg).unwrap().len(), valid_len, "cut at {cut}");
            assert_eq!(read_all(&log).len() as i64, whole);
            // Appends continue right after the valid prefix.
            assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, whole);
        }
    }

    #[test]
    fn recovery_truncates_at_a_flipped_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (seg, ends) = one_segment_log(dir.path(), 3);
        let full = fs::read(&seg).unwrap();
        for i in 0..full.len() {
            let mut damaged = full.clone();
            damaged[i] ^= 0x10;
            fs::write(&seg, &damaged).unwrap();
            let batch_idx = ends.iter().filter(|&&e| e <= i as u64).count();
            let batch_start = if batch_idx == 0 {
                0
            } else {
                ends[batch_idx - 1]
            };
            let log = open(dir.path(), LogConfig::default());
            // Every byte is checked: the CRC covers 21.., and the base
            // offset, length, leader epoch (always 0 here) and magic are
            // checked by the scan.
            assert_eq!(log.high_watermark(), batch_idx as i64, "flip at {i}");
            assert_eq!(fs::metadata(&seg).unwrap().len(), batch_start);
            assert_eq!(read_all(&log).len() as i64, log.high_watermark());
            drop(log);
            fs::write(&seg, &full).unwrap();
        }
    }

    #[test]
    fn missing_or_corrupt_indexes_are_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let before = {
            let log = open(dir.path(), small());
            for i in 0..50 {
                log.append(batch(2, i * 3), i).unwrap();
            }
            log.flush().unwrap();
            read_all(&log)
        };
        let p = pdir(dir.path());
        let indexes = files_with_ext(&p, "index");
        let time_indexes = files_with_ext(&p, "timeindex");
        assert!(indexes.len() >= 4);
        fs::remove_file(&indexes[0]).unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(&time_indexes[1])
            .and_then(|mut f| std::io::Write::write_all(&mut f, &[1, 2, 3]))
            .unwrap();
        fs::write(&indexes[2], [0xffu8; 16]).unwrap(); // points far beyond the log
        fs::write(&time_indexes[3], []).unwrap(); // a non-empty segment needs an entry
                                                  // Leftovers that recovery clears away.
        fs::write(p.join("00000000000099999999.index"), [0u8; 8]).unwrap();
        fs::write(p.join("00000000000000000000.log.tmp"), b"x").unwrap();
        let log = open(dir.path(), small());
        assert_eq!(read_all(&log), before);
        for f in files_with_ext(&p, "index") {
            assert_eq!(fs::metadata(&f).unwrap().len() % 8, 0);
        }
        assert!(fs::metadata(&indexes[0]).unwrap().len() > 0);
        assert_eq!(fs::metadata(&time_indexes[1]).unwrap().len() % 12, 0);
        assert!(fs::metadata(&time_indexes[3]).unwrap().len() > 0);
        assert!(!p.join("00000000000099999999.index").exists());
        assert!(!p.join("00000000000000000000.log.tmp").exists());
        for ts in [0, 1, 50, 149, 150] {
            assert_eq!(
                log.offset_for_timestamp(ts).unwrap(),
                brute_force_ts(&log, ts),
                "ts {ts}"
            );
        }
    }

    #[test]
    fn corrupt_sealed_segment_drops_the_segments_after_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), small());
            for i in 0..50 {
                log.append(batch(2, i), i).unwrap();
            }
        }
        let p = pdir(dir.path());
        let logs = files_with_ext(&p, "log");
        assert!(logs.len() >= 4);
        // Damage the last byte of the second segment and remove its index
        // so that recovery scans it.
        let victim = &logs[1];
        let mut data = fs::read(victim).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        fs::write(victim, &data).unwrap();
        fs::remove_file(victim.with_extension("index")).unwrap();
        let log = open(dir.path(), small());
        let hs = read_all(&log);
        let second_base: i64 = victim
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(log.high_watermark() > second_base);
        assert_eq!(hs.last().unwrap().next_offset(), log.high_watermark());
        assert_eq!(log.segment_count(), 2);
        assert_eq!(files_with_ext(&p, "log").len(), 2);
        // Writes continue at the truncation point, in the recovered segment.
        let next = log.high_watermark();
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, next);
        assert_eq!(read_all(&log).last().unwrap().base_offset, next);
    }

    #[test]
    fn offset_for_timestamp_matches_a_record_scan() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = LogConfig {
            segment_bytes: 700,
            index_interval_bytes: 100,
            ..LogConfig::default()
        };
        let log = open(dir.path(), cfg.clone());
        // Timestamps mostly increase, some go backwards inside and across
        // batches.
        let mut t = 1_000;
        for i in 0..40 {
            let recs: Vec<_> = (0..3)
                .map(|j| {
                    let ts = if (i + j) % 7 == 0 {
                        t - 50
                    } else {
                        t + j as i64 * 5
                    };
                    NewRecord::new(ts, b"x".to_vec())
                })
                .collect();
            log.append(Bytes::from(BatchBuilder::new(0, t).build(&recs)), 0)
                .unwrap();
            t += 20;
        }
        assert!(log.segment_count() > 3);
        let check = |log: &Log| {
            for ts in (900..t + 40).step_by(7) {
                assert_eq!(
                    log.offset_for_timestamp(ts).unwrap(),
                    brute_force_ts(log, ts),
                    "ts {ts}"
                );
            }
            let (off, max) = log.max_timestamp().unwrap();
            assert_eq!(max, t - 20 + 10);
            // The record itself, not just its batch.
            let r = log.read(off, 1, true, Isolation::ReadUncommitted).unwrap();
            let h = validate_batch(&r.records).unwrap();
            assert_eq!(h.max_timestamp, max);
            let rec = crate::record::RecordIter::new(&r.records)
                .unwrap()
                .map(|x| x.unwrap())
                .find(|x| x.offset == off)
                .unwrap();
            assert_eq!(rec.timestamp, max);
        };
        check(&log);
        drop(log);
        let log = open(dir.path(), cfg);
        check(&log);
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
    fn producer_state_survives_restart_with_and_without_snapshots() {
        for clean in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            {
                let log = open(dir.path(), small());
                // Enough to roll several times (a snapshot at each roll).
                let mut seq = 0;
                for _ in 0..30 {
                    log.append(idem(1, 0, seq, 2), 0).unwrap();
                    seq += 2;
                    log.append(batch(1, 0), 0).unwrap();
                }
                assert!(log.segment_count() > 2);
                assert!(!files_with_ext(&pdir(dir.path()), "snapshot").is_empty());
                if clean {
                    log.checkpoint().unwrap();
                }
            }
            let snaps = files_with_ext(&pdir(dir.path()), "snapshot");
            assert!(snaps.len() <= 2, "old snapshots are pruned: {snaps:?}");
            let log = open(dir.path(), small());
            // The last batch (seq 58..=59, offsets 87..=88) is a duplicate;
            // 60 is next.
            let dup = log.append(idem(1, 0, 58, 2), 0).unwrap();
            assert!(dup.duplicate, "clean={clean}");
            assert_eq!(dup.base_offset, 87);
            assert!(matches!(
                log.append(idem(1, 0, 61, 1), 0),
                Err(StorageError::OutOfOrderSequence { .. })
            ));
            assert!(!log.append(idem(1, 0, 60, 1), 0).unwrap().duplicate);
        }
    }

    #[test]
    fn producer_snapshot_beyond_the_log_end_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), LogConfig::default());
            log.append(idem(1, 0, 0, 1), 0).unwrap();
            log.append(idem(1, 0, 1, 1), 0).unwrap();
            log.checkpoint().unwrap(); // snapshot at offset 2
        }
        // Lose the second batch (torn tail): the snapshot at 2 is now ahead
        // of the log and must not be used.
        let seg = files_with_ext(&pdir(dir.path()), "log").remove(0);
        let len = fs::metadata(&seg).unwrap().len();
        fs::OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        let log = open(dir.path(), LogConfig::default());
        assert_eq!(log.high_watermark(), 1);
        assert!(files_with_ext(&pdir(dir.path()), "snapshot").is_empty());
        // seq 1 was lost, so it is not a duplicate: it is appended again.
        let info = log.append(idem(1, 0, 1, 1), 0).unwrap();
        assert!(!info.duplicate);
        assert_eq!(info.base_offset, 1);
    }

    #[test]
    fn flush_messages_one_fsyncs_before_returning_and_group_commits() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(open(
            dir.path(),
            LogConfig {
                flush_messages: 1,
                segment_bytes: 4096,
                ..LogConfig::default()
            },
        ));
        log.append(batch(2, 0), 0).unwrap();
        assert_eq!(log.flushed_offset(), 2);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| {
                            let info = log.append(batch(1, 0), 0).unwrap();
                            // Acknowledged ⇒ durable.
                            assert!(log.flushed_offset() > info.base_offset);
                            info.base_offset
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut offsets: Vec<i64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        offsets.sort_unstable();
        assert_eq!(offsets, (2..202).collect::<Vec<_>>());
        assert_eq!(read_all(&log).len(), 201);
    }

    #[test]
    fn flush_ms_and_rolled_segments_are_flushed_periodically() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                flush_ms: 1000,
                segment_bytes: 300,
                ..LogConfig::default()
            },
        );
        log.append(batch(1, 0), 0).unwrap();
        assert_eq!(log.flushed_offset(), 0);
        log.run_periodic(500, true).unwrap();
        assert_eq!(log.flushed_offset(), 0);
        log.run_periodic(1000, true).unwrap();
        assert_eq!(log.flushed_offset(), 1);
        for _ in 0..5 {
            log.append(batch(2, 0), 1100).unwrap();
        }
        assert!(log.segment_count() > 1);
        // Not flush.ms since the last flush yet, but rolled segments get
        // flushed.
        log.run_periodic(1200, true).unwrap();
        assert!(log.flushed_offset() > 1);
        log.flush().unwrap();
        assert_eq!(log.flushed_offset(), log.high_watermark());
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
    fn retention_ms_deletes_old_segments_and_moves_the_log_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                retention_ms: 1_000,
                ..small()
            },
        );
        // Timestamps 0..=590 in ~14 segments.
        for i in 0..60 {
            log.append(batch(2, i * 10), 0).unwrap();
        }
        let segs = log.segment_count();
        assert!(segs > 5);
        // Nothing is older than 1 s at now = 1_000.
        assert_eq!(log.apply_retention(1_000).unwrap(), 0);
        // At 1_300 the segments whose newest record is < 300 go.
        let n = log.apply_retention(1_300).unwrap();
        assert!(n > 0 && n < segs, "{n} of {segs}");
        let start = log.log_start_offset();
        assert!(start > 0);
        assert_eq!(read_all(&log).first().unwrap().base_offset, start);
        assert!(matches!(
            log.read(start - 1, 100, true, Isolation::ReadUncommitted),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        assert_eq!(
            files_with_ext(&pdir(dir.path()), "log").len(),
            log.segment_count()
        );
        // Much later everything goes, the active segment included: an empty
        // active segment at the log end remains and appends continue.
        log.apply_retention(100_000).unwrap();
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.log_start_offset(), 120);
        assert_eq!(log.size_bytes(), 0);
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, 120);
        drop(log);
        let log = open(dir.path(), small());
        assert_eq!(log.log_start_offset(), 120);
        assert_eq!(log.high_watermark(), 121);
    }

    #[test]
    fn retention_bytes_keeps_the_log_at_or_above_the_limit_and_minus_one_disables() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(
            dir.path(),
            LogConfig {
                retention_ms: -1,
                ..small()
            },
        );
        for _ in 0..60 {
            log.append(batch(2, 0), 0).unwrap();
        }
        let total = log.size_bytes();
        assert_eq!(
            log.apply_retention(i64::MAX).unwrap(),
            0,
            "-1 disables both"
        );
        log.set_config(LogConfig {
            retention_bytes: 3000,
            retention_ms: -1,
            ..small()
        });
        assert!(log.apply_retention(0).unwrap() > 0);
        let left = log.size_bytes();
        assert!((3000..total).contains(&left), "{left}");
        // Removing one more segment would go below the limit.
        let oldest = read_all(&log);
        assert!(left - 1024 < 3000, "{left}");
        assert_eq!(oldest.last().unwrap().next_offset(), 120);
        // compact-only topics ignore retention.
        log.set_config(LogConfig {
            retention_bytes: 0,
            cleanup_policy: "compact".into(),
            ..small()
        });
        assert_eq!(log.apply_retention(0).unwrap(), 0);
    }

    #[test]
    fn delete_records_moves_the_start_durably_and_deletes_covered_segments() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), small());
        for _ in 0..60 {
            log.append(batch(2, 0), 0).unwrap();
        }
        assert!(matches!(
            log.delete_records(121),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        assert!(matches!(
            log.delete_records(-2),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        let segs = log.segment_count();
        assert_eq!(log.delete_records(51).unwrap(), 51);
        assert_eq!(log.log_start_offset(), 51);
        assert!(log.segment_count() < segs);
        // Below the start: out of range; at it: the batch holding 51.
        assert!(matches!(
            log.read(50, 100, true, Isolation::ReadUncommitted),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        let r = log.read(51, 100, true, Isolation::ReadUncommitted).unwrap();
        let h = validate_batch(&r.records).unwrap();
        assert!(h.base_offset <= 51 && 51 <= h.last_offset());
        assert_eq!(r.log_start_offset, 51);
        // Going backwards is a no-op that reports the current start.
        assert_eq!(log.delete_records(10).unwrap(), 51);
        assert_eq!(log.append(batch(1, 0), 0).unwrap().log_start_offset, 51);
        drop(log);
        let log = open(dir.path(), small());
        assert_eq!(log.log_start_offset(), 51);
        // -1 = the high watermark: everything.
        assert_eq!(log.delete_records(-1).unwrap(), 121);
        assert!(log
            .read(121, 100, true, Isolation::ReadUncommitted)
            .unwrap()
            .records
            .is_empty());
        drop(log);
        let log = open(dir.path(), small());
        assert_eq!(log.log_start_offset(), 121);
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, 121);
    }

    #[test]
    fn a_reader_keeps_reading_a_segment_that_retention_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), small());
        for _ in 0..30 {
            log.append(batch(2, 0), 0).unwrap();
        }
        // A fetch that captured the first segment before it was deleted.
        let (reader, _) = {
            let inner = log.lock();
            (inner.segment_for(0).unwrap().reader().unwrap(), ())
        };
        log.delete_records(-1).unwrap();
        assert!(!files_with_ext(&pdir(dir.path()), "log")
            .iter()
            .any(|p| p.ends_with("00000000000000000000.log")));
        let (pos, h) = reader.find_batch(0, 0).unwrap().unwrap();
        let bytes = reader.read_batches(pos, &h, 1 << 20, true).unwrap();
        assert!(!validate_batches(&bytes).unwrap().is_empty());
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
        log.faults().set(crate::storage::Fault::NoSpace);
        for _ in 0..5 {
            match log.append(batch(2, 0), 0) {
                Err(StorageError::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(28)),
                other => panic!("{other:?}"),
            }
        }
        assert!(log.delete_records(4).is_err());
        assert_eq!(read_all(&log), before, "reads keep working");
        assert_eq!(log.high_watermark(), 40);
        log.faults().set(crate::storage::Fault::None);
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

    #[test]
    fn legacy_offsets_before_lists_segment_bases_like_kafka_3_9() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), small());
        while log.segment_count() < 4 {
            log.append(batch(5, 1000), 5).unwrap();
        }
        let leo = log.log_end_offset();
        let mut bases: Vec<i64> = files_with_ext(&pdir(dir.path()), "log")
            .iter()
            .map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap())
            .collect();
        bases.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(bases.len(), 4);
        assert_eq!(*bases.last().unwrap(), 0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        // Latest: the log end, then (if the active segment has data) every
        // segment base, newest first, up to the count.
        let mut all = vec![leo];
        all.extend(&bases);
        if log.lock().active.size() == 0 {
            // An empty active segment adds no log-end candidate; its base is the end.
            all.remove(0);
        }
        assert_eq!(log.legacy_offsets_before(-1, 100, now), all);
        assert_eq!(log.legacy_offsets_before(-1, 2, now), all[..2].to_vec());
        assert_eq!(log.legacy_offsets_before(-1, 0, now), Vec::<i64>::new());
        assert_eq!(log.legacy_offsets_before(-1, -5, now), Vec::<i64>::new());
        // Earliest: the log start only.
        assert_eq!(log.legacy_offsets_before(-2, 100, now), vec![0]);
        // Every file was modified before an hour from now, none at time 1.
        assert_eq!(log.legacy_offsets_before(now + 3_600_000, 100, now), all);
        assert_eq!(log.legacy_offsets_before(1, 100, now), Vec::<i64>::new());
        // After DeleteRecords the oldest candidate is the new log start.
        let start = bases[bases.len() - 2] + 1;
        log.delete_records(start).unwrap();
        let got = log.legacy_offsets_before(-1, 100, now);
        assert_eq!(*got.last().unwrap(), start, "{got:?}");
        assert_eq!(log.legacy_offsets_before(-2, 100, now), vec![start]);
    }
}
