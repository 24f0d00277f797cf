//! Durability of one partition's log (Kafka's `UnifiedLog.flush` and the
//! recovery point checkpoint): [`FlushState`] knows which offsets are on
//! stable storage and makes more of them so.
//!
//! `flush_to` is serialized by its own lock, not the partition lock:
//! appenders that need a flush queue there, and whoever gets it first
//! fsyncs everything written so far and advances `flushed_offset` past all
//! of them (group commit). No fsync happens under the partition lock: a
//! rolled segment is flushed afterwards by `run_periodic` or the next
//! `flush_to`, as Kafka does asynchronously. A flush syncs only the `.log`
//! data (and new `.txnindex` files and directory entries); the offset and
//! time index entries are fsynced by `checkpoint_recovery_point` just
//! before the persisted recovery point passes them, since only the loader
//! relies on them surviving a crash.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};

use tracing::warn;

use super::error::{io_err, Result};
use super::fault::FaultPlan;
use super::fs_util::fsync_dir;
use super::local_log::{self, LocalLog};
use super::partition_files;
use super::txn_state;
use crate::record::TopicPartition;

/// How often the recovery point checkpoint is rewritten while the flushed
/// offset moves (Kafka's `log.flush.offset.checkpoint.interval.ms`).
const RECOVERY_POINT_INTERVAL_MS: i64 = 60_000;

/// The flush bookkeeping of one `Log`, beside (not under) its partition
/// lock.
#[derive(Debug)]
pub(super) struct FlushState {
    /// Serializes fsyncs (see module docs: group commit).
    serial: Mutex<()>,
    /// Every offset below this is on stable storage.
    flushed_offset: AtomicI64,
    /// `now_ms` of the last completed flush (for `flush.ms`).
    last_flush_ms: AtomicI64,
    /// The recovery point last written to the checkpoint file and when
    /// (see `run_periodic`); the lock also serializes those writes.
    recovery_checkpoint: Mutex<(i64, i64)>,
}

impl FlushState {
    /// The state of a log just loaded (see `recovery::LoadedLog`).
    pub(super) fn new(flushed_offset: i64, now_ms: i64, recovery_checkpoint: (i64, i64)) -> Self {
        FlushState {
            serial: Mutex::new(()),
            flushed_offset: AtomicI64::new(flushed_offset),
            last_flush_ms: AtomicI64::new(now_ms),
            recovery_checkpoint: Mutex::new(recovery_checkpoint),
        }
    }

    /// Every offset below this is fsynced.
    pub(super) fn flushed_offset(&self) -> i64 {
        self.flushed_offset.load(Ordering::Acquire)
    }

    /// `now_ms` of the last completed flush.
    pub(super) fn last_flush_ms(&self) -> i64 {
        self.last_flush_ms.load(Ordering::Acquire)
    }

    /// Makes every offset below `upto` of the log `local` in `dir` durable
    /// (group commit: see module docs). `now_ms`, if known, is recorded as
    /// the last flush time.
    pub(super) fn flush_to(
        &self,
        local: &Mutex<LocalLog>,
        dir: &Path,
        faults: &FaultPlan,
        upto: i64,
        now_ms: Option<i64>,
    ) -> Result<()> {
        let _serial = self.serial.lock().unwrap_or_else(PoisonError::into_inner);
        if self.flushed_offset.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        faults.check("fsync", dir)?;
        let (files, end, dir_dirty, txn_files) = {
            let mut inner = local_log::lock(local);
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
            .and_then(|()| if dir_dirty { fsync_dir(dir) } else { Ok(()) });
        if let Err(e) = synced {
            local_log::lock(local).restore_unsynced(dir_dirty, txn_files);
            return Err(e);
        }
        self.flushed_offset.fetch_max(end, Ordering::AcqRel);
        if let Some(now_ms) = now_ms {
            self.last_flush_ms.fetch_max(now_ms, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Writes the recovery point checkpoint if the flushed offset moved
    /// past it: at most every [`RECOVERY_POINT_INTERVAL_MS`] (Kafka's
    /// `log.flush.offset.checkpoint.interval.ms`), and not durably, unless
    /// `durable` (shutdown), which writes it regardless of the interval.
    /// A checkpoint only shortens the next crash recovery; failing to
    /// write one is logged, not returned.
    pub(super) fn checkpoint_recovery_point(
        &self,
        local: &Mutex<LocalLog>,
        dir: &Path,
        tp: &TopicPartition,
        deleted: &AtomicBool,
        now_ms: i64,
        durable: bool,
    ) {
        let mut last = self
            .recovery_checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let flushed = self.flushed_offset();
        let due = durable || now_ms.saturating_sub(last.1) >= RECOVERY_POINT_INTERVAL_MS;
        if flushed <= last.0 || !due || deleted.load(Ordering::Acquire) {
            return;
        }
        // Flushes sync only the data: the index entries of the segments
        // the recovery point is about to pass must be durable first (every
        // entry for an offset below `flushed` was written before `flushed`
        // was, so this fsync covers them).
        let indexes = {
            let inner = local_log::lock(local);
            let mut files = Vec::new();
            let segs = inner.sealed.values().chain(std::iter::once(&inner.active));
            for seg in segs.filter(|s| s.next_offset() > last.0) {
                match seg.index_sync_handles() {
                    Ok(h) => files.extend(h),
                    Err(e) => {
                        warn!(partition = %tp, error = %e, "could not write the recovery point");
                        return;
                    }
                }
            }
            files
        };
        for (f, path) in indexes {
            if let Err(e) = f.sync_data() {
                warn!(partition = %tp, error = %e, path = %path.display(),
                    "could not write the recovery point");
                return;
            }
        }
        match partition_files::write_recovery_point(dir, flushed, durable) {
            // A shutdown write does not restart the interval.
            Ok(()) => *last = (flushed, if durable { last.1 } else { now_ms }),
            Err(e) => warn!(partition = %tp, error = %e, "could not write the recovery point"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::storage::test_util::*;
    use crate::storage::LogConfig;

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
}
