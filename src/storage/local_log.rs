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

#[cfg(test)]
mod tests {
    use std::fs;

    use bytes::Bytes;

    use crate::record::{validate_batches, BatchBuilder, BatchIter};
    use crate::storage::test_util::*;
    use crate::storage::{Isolation, LogConfig, StorageError};

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
}
