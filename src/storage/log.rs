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
//! * `flushed_offset`: every offset below it has been fsynced (Kafka's
//!   recovery point).
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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::error::{io_err, Result, StorageError};
use super::fs_util::{create_dir_durable, fsync_dir};
use super::log_config::{LogConfig, TimestampType};
use super::producer_state::{ProducerStateManager, PRODUCER_ID_EXPIRATION_MS};
use super::recovery;
use super::segment::{LogSegment, SegmentReader};
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
}

/// One partition. Shared as `Arc<Log>`; every method takes `&self`.
#[derive(Debug)]
pub struct Log {
    tp: TopicPartition,
    dir: PathBuf,
    inner: Mutex<LogInner>,
    /// Serializes fsyncs (see module docs: group commit).
    flush_lock: Mutex<()>,
    /// Every offset below this is on stable storage.
    flushed_offset: AtomicI64,
    /// `now_ms` of the last completed flush (for `flush.ms`).
    last_flush_ms: AtomicI64,
    /// Publishes the high watermark after every append.
    hw_tx: watch::Sender<i64>,
    /// Mirrors `LogInner::log_start_offset` for lock-free reads.
    log_start_offset: AtomicI64,
    /// Set when the topic is deleted: later appends fail.
    deleted: AtomicBool,
}

#[derive(Debug)]
struct LogInner {
    config: LogConfig,
    /// Every segment but the active one, by base offset.
    sealed: BTreeMap<i64, LogSegment>,
    /// The segment appends go to; its base is above every sealed one.
    active: LogSegment,
    /// Log end offset.
    next_offset: i64,
    log_start_offset: i64,
    /// Bytes in sealed segments (the active one's size is added on demand).
    sealed_bytes: u64,
    /// Largest timestamp in the log and the base offset of its batch.
    max_timestamp: Option<(i64, i64)>,
    producers: ProducerStateManager,
    /// A segment file was created since the last flush: the partition
    /// directory needs an fsync for its entry to be durable.
    dir_dirty: bool,
}

impl LogInner {
    /// The segment that holds `offset` (the one with the greatest base
    /// offset `<= offset`).
    fn segment_for(&self, offset: i64) -> Option<&LogSegment> {
        if offset >= self.active.base_offset() {
            return Some(&self.active);
        }
        self.sealed.range(..=offset).next_back().map(|(_, s)| s)
    }

    /// The first segment after the one based at `base`.
    fn segment_after(&self, base: i64) -> Option<&LogSegment> {
        if base >= self.active.base_offset() {
            return None;
        }
        self.sealed
            .range(base + 1..)
            .next()
            .map(|(_, s)| s)
            .or(Some(&self.active))
    }

    fn segments(&self) -> impl Iterator<Item = &LogSegment> {
        self.sealed.values().chain(std::iter::once(&self.active))
    }
}

impl Log {
    /// Opens (recovering if needed) the partition directory `dir`,
    /// creating it if missing. Logs one `info` line with the outcome.
    pub fn open(dir: &Path, tp: TopicPartition, config: LogConfig, now_ms: i64) -> Result<Log> {
        if !dir.exists() {
            create_dir_durable(dir)?;
        }
        let name = tp.to_string();
        let loaded = recovery::load_segments(dir, &name, &config, now_ms)?;
        let active = loaded.active;
        let sealed = loaded.sealed;
        let next_offset = active.next_offset();
        let log_start_offset = sealed
            .keys()
            .next()
            .copied()
            .unwrap_or(active.base_offset());
        let producers = recovery::rebuild_producer_state(
            dir,
            &name,
            &sealed,
            &active,
            log_start_offset,
            next_offset,
        )?;
        // The active segment may hold data a killed process wrote into the
        // page cache but nobody fsynced: make it durable once, so that
        // `flushed_offset` can start at the log end.
        for (file, path) in active.sync_handles() {
            file.sync_data().map_err(io_err("fsync", &path))?;
        }
        let max_timestamp = sealed
            .values()
            .chain(std::iter::once(&active))
            .filter_map(|s| s.max_timestamp())
            .fold(None::<(i64, i64)>, |acc, m| match acc {
                Some((_, ts)) if ts >= m.timestamp => acc,
                _ => Some((m.offset, m.timestamp)),
            });
        info!(
            partition = %name,
            log_start_offset,
            log_end_offset = next_offset,
            segments = sealed.len() + 1,
            producers = producers.len(),
            truncated_bytes = loaded.truncated_bytes,
            deleted_segments = loaded.deleted_segments,
            "loaded partition"
        );
        let (hw_tx, _) = watch::channel(next_offset);
        Ok(Log {
            tp,
            dir: dir.to_path_buf(),
            flush_lock: Mutex::new(()),
            flushed_offset: AtomicI64::new(next_offset),
            last_flush_ms: AtomicI64::new(now_ms),
            hw_tx,
            log_start_offset: AtomicI64::new(log_start_offset),
            deleted: AtomicBool::new(false),
            inner: Mutex::new(LogInner {
                config,
                sealed_bytes: sealed.values().map(LogSegment::size).sum(),
                sealed,
                active,
                next_offset,
                log_start_offset,
                max_timestamp,
                producers,
                dir_dirty: false,
            }),
        })
    }

    /// A poisoned lock only means another thread panicked mid-operation;
    /// the state it protects is still the last consistent one written
    /// (every mutation is committed after its I/O succeeds), so carry on.
    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// Appends exactly one v2 batch (a Produce request's records for this
    /// partition). See the crate docs of `storage` for the full contract:
    /// validation (CRC, no control batches, record count), size limit,
    /// idempotent producer checks, offset assignment in place, roll,
    /// indexing, high watermark publication, and `flush.messages`.
    pub fn append(&self, batch: Bytes, now_ms: i64) -> Result<AppendInfo> {
        let mut header = validate_batch(&batch)?;
        if header.is_control() {
            return Err(StorageError::InvalidRecord(
                "control batches cannot be produced by clients",
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
        let (info, next_offset, flush) = {
            let mut inner = self.lock();
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
                    return Ok(AppendInfo {
                        base_offset: dup.first_offset,
                        log_append_time_ms: -1,
                        log_start_offset: inner.log_start_offset,
                        duplicate: true,
                    });
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

            if let Some(reason) =
                inner
                    .active
                    .should_roll(batch.len(), header.last_offset(), &inner.config, now_ms)
            {
                debug!(partition = %self.tp, ?reason, new_base = base, "rolling segment");
                self.roll(&mut inner)?;
            }
            let interval = inner.config.index_interval_bytes;
            inner
                .active
                .append(&head, &batch[BATCH_HEADER_LEN..], &header, interval, now_ms)?;
            inner.producers.update(&header);
            inner.next_offset = header.next_offset();
            if inner
                .max_timestamp
                .is_none_or(|(_, ts)| header.max_timestamp > ts)
            {
                inner.max_timestamp = Some((header.base_offset, header.max_timestamp));
            }
            self.hw_tx.send_replace(inner.next_offset);
            let unflushed = inner.next_offset - self.flushed_offset.load(Ordering::Acquire);
            let info = AppendInfo {
                base_offset: base,
                log_append_time_ms: if log_append { now_ms } else { -1 },
                log_start_offset: inner.log_start_offset,
                duplicate: false,
            };
            (
                info,
                inner.next_offset,
                unflushed >= inner.config.flush_messages,
            )
        };
        if flush {
            self.flush_to(next_offset, Some(now_ms))?;
        }
        Ok(info)
    }

    /// Seals the active segment and starts a new one at the log end offset.
    /// Called with the lock held; does no fsync (see module docs).
    fn roll(&self, inner: &mut LogInner) -> Result<()> {
        let new_base = inner.next_offset;
        let new_seg = LogSegment::create(&self.dir, new_base, &inner.config)?;
        inner.active.seal()?;
        let old = std::mem::replace(&mut inner.active, new_seg);
        inner.sealed_bytes += old.size();
        inner.sealed.insert(old.base_offset(), old);
        inner.dir_dirty = true;
        // The snapshot only shortens replay on the next open; failing to
        // write it costs time then, not correctness now.
        if let Err(e) = recovery::write_snapshot(&self.dir, new_base, &inner.producers, false) {
            warn!(partition = %self.tp, error = %e, "could not write producer snapshot");
        }
        Ok(())
    }

    /// Reads whole batches starting with the one containing `fetch_offset`,
    /// up to `max_bytes` (but at least one whole batch if `min_one_batch`,
    /// KIP-74). `OffsetOutOfRange` outside `[log_start, log_end]`; at the
    /// log end, empty records. The caller caps `max_bytes` (this allocates
    /// up to `min(max_bytes, rest of the segment)`). A read never spans two
    /// segments: the next fetch continues in the next one.
    pub fn read(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<ReadResult> {
        let (mut reader, mut pos, high_watermark, log_start_offset) = {
            let inner = self.lock();
            let (log_start, log_end) = (inner.log_start_offset, inner.next_offset);
            if fetch_offset < log_start || fetch_offset > log_end {
                return Err(StorageError::OffsetOutOfRange {
                    requested: fetch_offset,
                    log_start,
                    log_end,
                });
            }
            let empty = ReadResult {
                records: Bytes::new(),
                high_watermark: log_end,
                log_start_offset: log_start,
            };
            if fetch_offset == log_end {
                return Ok(empty);
            }
            let Some(seg) = inner.segment_for(fetch_offset) else {
                return Ok(empty);
            };
            (
                seg.reader(),
                seg.lookup(fetch_offset)?.position,
                log_end,
                log_start,
            )
        };
        loop {
            if let Some((at, h)) = reader.find_batch(pos, fetch_offset)? {
                return Ok(ReadResult {
                    records: reader.read_batches(at, &h, max_bytes, min_one_batch)?,
                    high_watermark,
                    log_start_offset,
                });
            }
            // The offset lies in a gap after the end of this segment's data:
            // continue at the start of the next segment.
            let next: Option<SegmentReader> = self
                .lock()
                .segment_after(reader.base_offset)
                .map(LogSegment::reader);
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
                    v.push((seg.reader(), seg.lookup_timestamp(ts)?));
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

    /// `(offset, timestamp)` of the batch holding the largest timestamp in
    /// the log: batch-granular, the offset is that batch's *base* offset
    /// (so a consumer seeking there does not skip the record). `None` for
    /// an empty log.
    pub fn max_timestamp(&self) -> Option<(i64, i64)> {
        self.lock().max_timestamp
    }

    /// Bytes of all segment files.
    pub fn size_bytes(&self) -> u64 {
        let inner = self.lock();
        inner.sealed_bytes + inner.active.size()
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
    fn flush_to(&self, upto: i64, now_ms: Option<i64>) -> Result<()> {
        let _serial = self
            .flush_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.flushed_offset.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        let (files, end, dir_dirty) = {
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
                    files.extend(seg.sync_handles());
                }
            }
            files.extend(inner.active.sync_handles());
            (
                files,
                inner.next_offset,
                std::mem::take(&mut inner.dir_dirty),
            )
        };
        let synced = files
            .iter()
            .try_for_each(|(f, path)| f.sync_data().map_err(io_err("fsync", path)))
            .and_then(|()| {
                if dir_dirty {
                    fsync_dir(&self.dir)
                } else {
                    Ok(())
                }
            });
        if let Err(e) = synced {
            if dir_dirty {
                self.lock().dir_dirty = true;
            }
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
    /// since the last flush, and producer id expiry.
    pub fn run_periodic(&self, now_ms: i64) -> Result<()> {
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
        Ok(())
    }

    /// Flushes and writes a durable producer snapshot at the log end, so
    /// the next open replays nothing (graceful shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.flush()?;
        let inner = self.lock();
        recovery::write_snapshot(&self.dir, inner.next_offset, &inner.producers, true)
    }

    /// Appends fail with `UnknownTopic` from now on.
    pub(crate) fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
    }
}
