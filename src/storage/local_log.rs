//! `LocalLog`: the segments of one partition and the offsets that describe
//! them (Kafka's `LocalLog`): the sealed segments by base offset and the
//! active one, the log start and end offsets, the max timestamp, producer
//! state and the transaction state (`txn_state`). It is the bookkeeping
//! that lives under the partition lock of a `Log` (see `log` for the
//! locking); its methods write to the page cache at most (append, roll) and
//! never fsync. It is built by the loader (`recovery::load_log`) and handed
//! to the `Log`; nothing here opens or recovers a directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tracing::warn;

use super::error::{Result, StorageError};
use super::log_config::LogConfig;
use super::partition_files;
use super::producer_state::ProducerStateManager;
use super::segment::{LogSegment, SegmentReader};
use super::txn_state::{self, TxnState};
use crate::record::{BatchHeader, TopicPartition, BATCH_HEADER_LEN};

#[derive(Debug)]
pub(super) struct LocalLog {
    pub(super) config: LogConfig,
    /// Every segment but the active one, by base offset.
    pub(super) sealed: BTreeMap<i64, LogSegment>,
    /// The segment appends go to; its base is above every sealed one.
    pub(super) active: LogSegment,
    /// Log end offset.
    pub(super) next_offset: i64,
    pub(super) log_start_offset: i64,
    /// Bytes in sealed segments (the active one's size is added on demand).
    pub(super) sealed_bytes: u64,
    /// Largest timestamp in the log and the base offset of its batch.
    pub(super) max_timestamp: Option<(i64, i64)>,
    pub(super) producers: ProducerStateManager,
    /// A segment file was created since the last flush: the partition
    /// directory needs an fsync for its entry to be durable.
    pub(super) dir_dirty: bool,
    /// Offsets below this have been compacted (Kafka's cleaner checkpoint).
    pub(super) first_dirty_offset: i64,
    /// Aborted transactions and their unsynced index files.
    pub(super) txn: TxnState,
}

/// Where a read starts: taken under the lock, read outside it.
pub(super) struct ReadStart {
    pub(super) reader: SegmentReader,
    /// Position of the index entry at or below the fetch offset.
    pub(super) position: u64,
}

/// Locks a partition's `LocalLog`. A poisoned lock only means another
/// thread panicked mid-operation; the state it protects is still the last
/// consistent one written (every mutation is committed after its I/O
/// succeeds), so carry on.
pub(super) fn lock(local: &Mutex<LocalLog>) -> MutexGuard<'_, LocalLog> {
    local.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The largest timestamp among `segments` and the base offset of its batch.
pub(super) fn max_timestamp_of<'a>(
    segments: impl Iterator<Item = &'a LogSegment>,
) -> Option<(i64, i64)> {
    segments
        .filter_map(|s| s.max_timestamp())
        .fold(None::<(i64, i64)>, |acc, m| match acc {
            Some((_, ts)) if ts >= m.timestamp => acc,
            _ => Some((m.offset, m.timestamp)),
        })
}

impl LocalLog {
    /// The segment that holds `offset` (the one with the greatest base
    /// offset `<= offset`).
    pub(super) fn segment_for(&self, offset: i64) -> Option<&LogSegment> {
        if offset >= self.active.base_offset() {
            return Some(&self.active);
        }
        self.sealed.range(..=offset).next_back().map(|(_, s)| s)
    }

    /// The first segment after the one based at `base`.
    pub(super) fn segment_after(&self, base: i64) -> Option<&LogSegment> {
        if base >= self.active.base_offset() {
            return None;
        }
        self.sealed
            .range(base + 1..)
            .next()
            .map(|(_, s)| s)
            .or(Some(&self.active))
    }

    /// Every segment, oldest first, the active one last.
    pub(super) fn segments(&self) -> impl Iterator<Item = &LogSegment> {
        self.sealed.values().chain(std::iter::once(&self.active))
    }

    /// Base offset of the oldest segment.
    pub(super) fn first_segment_base(&self) -> i64 {
        self.sealed
            .keys()
            .next()
            .copied()
            .unwrap_or(self.active.base_offset())
    }

    /// Bytes of all segment files.
    pub(super) fn size_bytes(&self) -> u64 {
        self.sealed_bytes + self.active.size()
    }

    /// Recomputes the log's max timestamp after segments were removed or
    /// replaced.
    pub(super) fn recompute_max_timestamp(&mut self) {
        self.max_timestamp = max_timestamp_of(self.segments());
    }

    /// See `Log::last_stable_offset`.
    pub(super) fn last_stable_offset(&self) -> i64 {
        txn_state::last_stable_offset(&self.producers, self.log_start_offset, self.next_offset)
    }

    /// `OffsetOutOfRange` unless `offset` is within `[log start, log end]`.
    pub(super) fn check_fetch_offset(&self, offset: i64) -> Result<()> {
        if offset < self.log_start_offset || offset > self.next_offset {
            return Err(StorageError::OffsetOutOfRange {
                requested: offset,
                log_start: self.log_start_offset,
                log_end: self.next_offset,
            });
        }
        Ok(())
    }

    /// Where a read of `fetch_offset` (checked against the log's range by
    /// the caller, below the log end) starts; `None` if no segment holds it.
    pub(super) fn start_read(&self, fetch_offset: i64) -> Result<Option<ReadStart>> {
        let Some(seg) = self.segment_for(fetch_offset) else {
            return Ok(None);
        };
        Ok(Some(ReadStart {
            reader: seg.reader()?,
            position: seg.lookup(fetch_offset)?.position,
        }))
    }

    /// Writes `batch` (its header replaced by `head`, described by `header`
    /// with its assigned offsets) into the active segment and updates the
    /// bookkeeping: producer state, log end, max timestamp.
    pub(super) fn append_batch(
        &mut self,
        head: &[u8; BATCH_HEADER_LEN],
        batch: &[u8],
        header: &BatchHeader,
        now_ms: i64,
    ) -> Result<()> {
        let interval = self.config.index_interval_bytes;
        self.active
            .append(head, &batch[BATCH_HEADER_LEN..], header, interval, now_ms)?;
        self.producers.update(header);
        self.next_offset = header.next_offset();
        if self
            .max_timestamp
            .is_none_or(|(_, ts)| header.max_timestamp > ts)
        {
            self.max_timestamp = Some((header.base_offset, header.max_timestamp));
        }
        Ok(())
    }

    /// Seals the active segment and starts a new one in `dir` at the log
    /// end offset, with a producer snapshot there. No fsync (see `log`).
    pub(super) fn roll(&mut self, dir: &Path, tp: &TopicPartition) -> Result<()> {
        let new_base = self.next_offset;
        let new_seg = LogSegment::create(dir, new_base, &self.config)?;
        self.active.seal()?;
        let old = std::mem::replace(&mut self.active, new_seg);
        self.sealed_bytes += old.size();
        self.sealed.insert(old.base_offset(), old);
        self.dir_dirty = true;
        // The snapshot only shortens replay on the next open; failing to
        // write it costs time then, not correctness now.
        let snapshot = self.producers.encode_snapshot();
        if let Err(e) = partition_files::write_snapshot(dir, new_base, &snapshot, false) {
            warn!(partition = %tp, error = %e, "could not write producer snapshot");
        }
        Ok(())
    }

    /// Removes the `count` oldest sealed segments from the map (their files
    /// stay until the caller deletes them: see `log`) and moves the log
    /// start offset up to the first remaining segment. Returns them.
    pub(super) fn remove_oldest(&mut self, count: usize) -> Vec<LogSegment> {
        let bases: Vec<i64> = self.sealed.keys().take(count).copied().collect();
        let mut removed = Vec::with_capacity(bases.len());
        for b in bases {
            if let Some(seg) = self.sealed.remove(&b) {
                self.sealed_bytes -= seg.size();
                removed.push(seg);
            }
        }
        let first = self.first_segment_base();
        if first > self.log_start_offset {
            self.log_start_offset = first;
        }
        self.first_dirty_offset = self.first_dirty_offset.max(self.log_start_offset);
        self.recompute_max_timestamp();
        // Their `.txnindex` files go with them.
        self.txn.remove_below(first);
        removed
    }

    /// Paths of the `.txnindex` files the next flush must fsync and
    /// whether the directory needs one, taken from the state (see
    /// [`LocalLog::restore_unsynced`]).
    pub(super) fn take_unsynced(&mut self) -> (bool, Vec<PathBuf>) {
        (
            std::mem::take(&mut self.dir_dirty),
            self.txn.take_unsynced(),
        )
    }

    /// Gives back what [`LocalLog::take_unsynced`] took after a failed
    /// flush.
    pub(super) fn restore_unsynced(&mut self, dir_dirty: bool, txn_files: Vec<PathBuf>) {
        if dir_dirty {
            self.dir_dirty = true;
        }
        self.txn.restore_unsynced(txn_files);
    }
}
