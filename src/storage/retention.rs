//! Time- and size-driven deletion of a partition's oldest data (Kafka's
//! `UnifiedLog.deleteOldSegments` and `deleteRecordsOnLocalLog`), and the
//! periodic tick that runs it: `retention.ms`, `retention.bytes`,
//! DeleteRecords, and [`Log::run_periodic`] (time-based roll, `flush.ms`,
//! producer id expiry, recovery point checkpoint, retention when due).
//!
//! Retention (policy `delete`) deletes a *prefix* of the log, oldest
//! segment first, while the predicate holds; the active segment counts too
//! (it is rolled first, so the log is never without one), and
//! `retention.bytes` deletes a segment only if the log stays at or above
//! the limit without it. Whatever the policy, segments entirely below the
//! log start offset (DeleteRecords) are deleted. The log start offset is
//! the greater of the first segment's base and the value DeleteRecords
//! set, which is checkpointed in `log-start-offset`. Removal is serialized
//! by the log's `maintenance` lock; files are unlinked outside the
//! partition lock (see `log` on readers of deleted segments).

use std::sync::atomic::Ordering;

use tracing::{debug, info};

use super::error::{Result, StorageError};
use super::file_names::LOG_START_CHECKPOINT;
use super::fs_util::write_atomically;
use super::log::Log;
use super::partition_files;
use super::producer_state::PRODUCER_ID_EXPIRATION_MS;
use super::segment::LogSegment;

impl Log {
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
        let since = now_ms.saturating_sub(self.flush.last_flush_ms());
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
}

#[cfg(test)]
mod tests {
    use crate::record::{validate_batch, validate_batches};
    use crate::storage::test_util::*;
    use crate::storage::{Isolation, LogConfig, StorageError};

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
}
