//! Log compaction (Kafka's `LogCleaner`) for `cleanup.policy=compact` (and
//! `compact,delete`): keep the latest record per key in the sealed
//! segments, offsets unchanged.
//!
//! One pass over a partition ([`Log::clean`]):
//! 1. **Pick the range.** The cleanable segments are the sealed ones, up to
//!    the first whose newest record is younger than `min.compaction.lag.ms`
//!    (the active segment is never cleaned). Those below the cleaner
//!    checkpoint (`cleaner-offset`) are *clean*, the rest *dirty*. The pass
//!    runs only if dirty bytes / cleanable bytes reach
//!    `min.cleanable.dirty.ratio`, or a dirty segment is older than
//!    `max.compaction.lag.ms`.
//! 2. **Offset map.** The dirty segments are read in order and each key's
//!    last offset is remembered (`key bytes → offset`). The map is bounded
//!    by a byte budget (`LogManager`'s, Kafka's dedupe buffer); when full,
//!    the pass stops after the segment that filled it and the rest waits
//!    for the next pass.
//! 3. **Rewrite.** Every cleanable segment from the log start up to the end
//!    of the mapped range is rewritten, in groups of consecutive segments
//!    that together fit `segment.bytes`, into one new segment per group
//!    named after the group's first base offset. A record is dropped when
//!    the map holds a later offset for its key. A tombstone (null value)
//!    that is the latest for its key is kept with a delete horizon: the
//!    first pass that sees it stores `now + delete.retention.ms` in the
//!    batch's base timestamp and sets attribute bit 6 (KIP-534); a later
//!    pass drops it once the horizon has passed. A batch that loses no
//!    record and needs no horizon is copied byte for byte; one that loses
//!    some is re-encoded with the same base offset and offset range (gaps
//!    inside and between batches), producer fields and attributes, and a
//!    new CRC; one that loses all is dropped.
//!    *Compressed batches* are decompressed (output bounded by
//!    [`crate::record::decompression_limit`] of `max.message.bytes`), mapped
//!    and thinned like the others, and a thinned one is compressed again
//!    with its own codec (Kafka's cleaner does the same, at the codec's
//!    default level); an empty one is dropped or, as below, kept as a bare
//!    header. A compressed batch that cannot be decoded (corrupt, or over
//!    the limit, e.g. after `max.message.bytes` was lowered) is copied
//!    whole with its keys unmapped, logged as a warning: it then shadows
//!    nothing and loses nothing, so the latest value of every key stays.
//!    Control and transactional batches are copied whole too, except the
//!    batches of aborted transactions (`txn_index`), which are dropped and
//!    never mapped, so an aborted record never shadows a committed one;
//!    the markers stay.
//!    Records without a key (written before the topic became compacted)
//!    are kept.
//! 4. **Swap, atomically.** The group is written to
//!    `cleaner.tmp/<base>.log` and fsynced, its indexes built there; then,
//!    under the partition's maintenance lock (so retention cannot remove
//!    the same segments), it is renamed to `<base>.<end>.swap` and the
//!    directory fsynced: the commit point. After that the old segments'
//!    files are removed, the new indexes and `<base>.log` renamed into
//!    place, and the segment map updated under the partition lock. A crash
//!    before the commit leaves a scratch directory that the next open
//!    removes (the old segments are intact); a crash after it is completed
//!    by recovery (see `recovery`), which removes every segment based in
//!    `[base, end)` and installs the swap file.
//! 5. The cleaner checkpoint moves to the end of the mapped range.
//!
//! As in Kafka, the last batch of each idempotent producer is never removed
//! entirely: if all its records go, an empty batch (same offsets, producer
//! id, epoch and sequences, no records) stays, so the producer's state is
//! rebuilt on the next start and its retries are still recognised.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use tracing::{debug, info};

use super::cleaner_rewrite::{for_each_batch, with_records, write_cleaned, CleanRules};
use super::error::{io_err, Result};
use super::file_names::{
    offset_file_path, swap_file_name, FileKind, CLEANER_CHECKPOINT, CLEANER_SCRATCH_DIR,
};
use super::fs_util::{create_dir_durable, fsync_dir, write_atomically};
use super::log::Log;
use super::segment::{LogSegment, SegmentReader};
use super::txn_index::{self, AbortedBatches};
use crate::record::decompression_limit;

/// What one cleaning pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanStats {
    /// Segments read and rewritten.
    pub segments: usize,
    /// Bytes before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Records dropped (superseded or expired tombstones).
    pub records_removed: u64,
    /// The new first dirty offset.
    pub cleaned_up_to: i64,
}

/// A cleanable segment as seen when the pass started.
struct Cleanable {
    base: i64,
    /// Base of the segment after it.
    end: i64,
    size: u64,
    largest_time: Option<i64>,
    reader: SegmentReader,
}

/// Estimated memory of one offset map entry beyond its key bytes.
const MAP_ENTRY_OVERHEAD: usize = 48;

impl Log {
    /// One cleaning pass (see the module docs); `None` if the log is not
    /// compacted or not dirty enough. `map_budget` bounds the offset map in
    /// bytes.
    pub fn clean(&self, now_ms: i64, map_budget: usize) -> Result<Option<CleanStats>> {
        let (segments, first_dirty, config, producer_last) = {
            let inner = self.lock();
            if !inner.config.compacts() {
                return Ok(None);
            }
            let cfg = inner.config.clone();
            let mut v: Vec<Cleanable> = Vec::new();
            let mut iter = inner.sealed.values().peekable();
            while let Some(seg) = iter.next() {
                let end = iter
                    .peek()
                    .map_or(inner.active.base_offset(), |n| n.base_offset());
                let largest_time = seg.largest_time_ms();
                if cfg.min_compaction_lag_ms > 0
                    && largest_time
                        .is_some_and(|t| now_ms.saturating_sub(t) < cfg.min_compaction_lag_ms)
                {
                    break;
                }
                v.push(Cleanable {
                    base: seg.base_offset(),
                    end,
                    size: seg.size(),
                    largest_time,
                    reader: seg.reader()?,
                });
            }
            (
                v,
                inner.first_dirty_offset.max(inner.log_start_offset),
                cfg,
                inner.producers.last_batch_offsets(),
            )
        };
        // Batches of aborted transactions are dropped and never mapped: an
        // aborted record must not shadow a committed one.
        let aborted = AbortedBatches::new(self.lock().txn.aborted_entries());
        let dirty: Vec<&Cleanable> = segments.iter().filter(|s| s.end > first_dirty).collect();
        if dirty.is_empty() {
            return Ok(None);
        }
        let total: u64 = segments.iter().map(|s| s.size).sum();
        let dirty_bytes: u64 = dirty.iter().map(|s| s.size).sum();
        let ratio_ppm = if total == 0 {
            1_000_000
        } else {
            (u128::from(dirty_bytes) * 1_000_000 / u128::from(total)) as u64
        };
        let overdue = config.max_compaction_lag_ms < i64::MAX
            && dirty.iter().any(|s| {
                s.largest_time
                    .is_some_and(|t| now_ms.saturating_sub(t) > config.max_compaction_lag_ms)
            });
        if ratio_ppm < u64::from(config.min_cleanable_dirty_ratio_ppm) && !overdue {
            return Ok(None);
        }

        // 2. The offset map over the dirty segments.
        let limit = decompression_limit(config.max_message_bytes);
        let mut map: HashMap<Vec<u8>, i64> = HashMap::new();
        let mut map_bytes = 0usize;
        let mut end = first_dirty;
        for seg in &dirty {
            for_each_batch(&seg.reader, |_, h, batch| {
                if aborted.contains(h) {
                    return Ok(());
                }
                with_records(&self.tp, h, batch, limit, |records| {
                    for r in records {
                        if let Some(k) = r.key {
                            if let Some(o) = map.get_mut(k) {
                                *o = r.offset;
                            } else {
                                map_bytes += k.len() + MAP_ENTRY_OVERHEAD;
                                map.insert(k.to_vec(), r.offset);
                            }
                        }
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
            end = seg.end;
            if map_bytes >= map_budget {
                debug!(partition = %self.tp, keys = map.len(), up_to = end,
                    "offset map full; cleaning a shorter range");
                break;
            }
        }

        // 3. Groups of segments to rewrite.
        let to_clean: Vec<&Cleanable> = segments.iter().filter(|s| s.base < end).collect();
        let mut groups: Vec<Vec<&Cleanable>> = Vec::new();
        for seg in to_clean {
            match groups.last_mut() {
                Some(g)
                    if g.iter().map(|s| s.size).sum::<u64>() + seg.size <= config.segment_bytes
                        && seg.end - g[0].base <= i64::from(i32::MAX) =>
                {
                    g.push(seg)
                }
                _ => groups.push(vec![seg]),
            }
        }

        let scratch = self.dir.join(CLEANER_SCRATCH_DIR);
        if scratch.exists() {
            fs::remove_dir_all(&scratch).map_err(io_err("remove", &scratch))?;
        }
        create_dir_durable(&scratch)?;
        let mut stats = CleanStats::default();
        let delete_horizon = now_ms.saturating_add(config.delete_retention_ms);
        for group in &groups {
            let base = group[0].base;
            let group_end = group.last().map_or(base, |s| s.end);
            self.faults.check("write cleaned segment", &scratch)?;
            let path = offset_file_path(&scratch, base, FileKind::Log);
            let readers: Vec<&SegmentReader> = group.iter().map(|c| &c.reader).collect();
            let (written, removed) = write_cleaned(
                &self.tp,
                &path,
                &readers,
                &CleanRules {
                    map: &map,
                    producer_last: &producer_last,
                    now_ms,
                    delete_horizon,
                    limit,
                    aborted: &aborted,
                },
            )?;
            // Build and fsync its indexes in the scratch directory.
            let (seg, _) = LogSegment::recover(&scratch, base, &config, false, now_ms)?;
            seg.sync_all()?;
            drop(seg);
            let before: u64 = group.iter().map(|s| s.size).sum();
            if !self.swap_in(&scratch, base, group_end, group)? {
                // Retention removed part of the group meanwhile: nothing
                // was committed; the rest of the pass would work on stale
                // segments too.
                fs::remove_dir_all(&scratch).map_err(io_err("remove", &scratch))?;
                return Ok(None);
            }
            stats.segments += group.len();
            stats.bytes_before += before;
            stats.bytes_after += written;
            stats.records_removed += removed;
        }
        fs::remove_dir_all(&scratch).map_err(io_err("remove", &scratch))?;
        {
            let mut inner = self.lock();
            inner.first_dirty_offset = inner.first_dirty_offset.max(end);
            inner.recompute_max_timestamp();
        }
        let ckpt = self.dir.join(CLEANER_CHECKPOINT);
        write_atomically(&ckpt, end.to_string().as_bytes())?;
        stats.cleaned_up_to = end;
        info!(partition = %self.tp, segments = stats.segments, bytes_before = stats.bytes_before,
            bytes_after = stats.bytes_after, records_removed = stats.records_removed,
            cleaned_up_to = end, "compacted");
        Ok(Some(stats))
    }

    /// Step 4 of the module docs for one group. `false` if the group is no
    /// longer intact in the segment map (nothing changed on disk then).
    fn swap_in(&self, scratch: &Path, base: i64, end: i64, group: &[&Cleanable]) -> Result<bool> {
        let _m = self.lock_maintenance();
        {
            let inner = self.lock();
            let intact = group.iter().all(|c| {
                inner
                    .sealed
                    .get(&c.base)
                    .is_some_and(|s| s.size() == c.size)
            });
            if !intact {
                return Ok(false);
            }
        }
        // The new segment's `.txnindex` holds the group's aborted
        // transactions (offsets do not change). Written before the commit
        // point: until then it is a superset of the first segment's own,
        // which `txn_index::load` trims back if the swap never happens.
        if group.len() > 1 {
            let bases: Vec<i64> = group.iter().map(|c| c.base).collect();
            txn_index::write_entries(&self.dir, base, &txn_index::merged(&self.dir, &bases)?)?;
        }
        let swap = self.dir.join(swap_file_name(base, end));
        let scratch_log = offset_file_path(scratch, base, FileKind::Log);
        fs::rename(&scratch_log, &swap).map_err(io_err("rename cleaned segment", &swap))?;
        fsync_dir(&self.dir)?; // the commit point
        let old: Vec<LogSegment> = {
            let mut inner = self.lock();
            let mut old = Vec::with_capacity(group.len());
            for c in group {
                if let Some(seg) = inner.sealed.remove(&c.base) {
                    inner.sealed_bytes -= seg.size();
                    old.push(seg);
                }
            }
            for c in group {
                for kind in [FileKind::Log, FileKind::Index, FileKind::TimeIndex] {
                    let p = offset_file_path(&self.dir, c.base, kind);
                    match fs::remove_file(&p) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err("remove", &p)(e)),
                    }
                }
                if c.base != base {
                    let p = offset_file_path(&self.dir, c.base, FileKind::TxnIndex);
                    match fs::remove_file(&p) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err("remove", &p)(e)),
                    }
                }
            }
            for kind in [FileKind::Index, FileKind::TimeIndex] {
                let from = offset_file_path(scratch, base, kind);
                let to = offset_file_path(&self.dir, base, kind);
                fs::rename(&from, &to).map_err(io_err("rename cleaned index", &to))?;
            }
            let target = offset_file_path(&self.dir, base, FileKind::Log);
            fs::rename(&swap, &target).map_err(io_err("rename swap into place", &target))?;
            let cfg = inner.config.clone();
            let seg = match LogSegment::open_sealed(&self.dir, base, end, &cfg) {
                Ok(seg) => seg,
                Err(_) => LogSegment::recover(&self.dir, base, &cfg, false, 0)?.0,
            };
            inner.sealed_bytes += seg.size();
            inner.sealed.insert(base, seg);
            old
        };
        // Readers of the old segments keep their descriptors (see `log`).
        drop(old);
        fsync_dir(&self.dir)?;
        Ok(true)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::fs;

    use bytes::Bytes;

    use super::*;
    use crate::record::{BatchBuilder, DecodedBatch, NewRecord};
    use crate::storage::test_util::*;
    use crate::storage::LogConfig;

    pub(crate) fn keyed(key: &str, value: Option<&str>, ts: i64) -> Bytes {
        Bytes::from(BatchBuilder::new(0, ts).build(&[NewRecord {
            timestamp: ts,
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            headers: Vec::new(),
        }]))
    }

    pub(crate) fn compacted() -> LogConfig {
        LogConfig {
            segment_bytes: 600,
            index_interval_bytes: 64,
            cleanup_policy: "compact".into(),
            ..LogConfig::default()
        }
    }

    /// (offset, key, value) of every record, read through `Log::read`.
    pub(crate) fn contents(log: &Log) -> Vec<(i64, String, Option<String>)> {
        let mut out = Vec::new();
        let mut offset = log.log_start_offset();
        while offset < log.high_watermark() {
            let r = log
                .read(
                    offset,
                    1 << 20,
                    true,
                    crate::storage::Isolation::ReadUncommitted,
                )
                .unwrap();
            if r.records.is_empty() {
                break;
            }
            for item in crate::record::BatchIter::new(&r.records) {
                let (pos, h) = item.unwrap();
                let decoded =
                    DecodedBatch::new(&r.records[pos..pos + h.total_len()], 1 << 30).unwrap();
                for rec in decoded.records() {
                    let rec = rec.unwrap();
                    out.push((
                        rec.offset,
                        String::from_utf8(rec.key.unwrap().to_vec()).unwrap(),
                        rec.value.map(|v| String::from_utf8(v.to_vec()).unwrap()),
                    ));
                }
                offset = h.next_offset();
            }
        }
        out
    }

    pub(crate) fn latest(
        all: &[(i64, String, Option<String>)],
    ) -> BTreeMap<String, Option<String>> {
        all.iter().map(|(_, k, v)| (k.clone(), v.clone())).collect()
    }

    #[test]
    fn keeps_the_latest_record_per_key_with_offsets_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), compacted());
        let mut expect = BTreeMap::new();
        for i in 0..200 {
            let k = format!("k{}", i % 7);
            let v = format!("v{i}");
            log.append(keyed(&k, Some(&v), 1000 + i), 0).unwrap();
            expect.insert(k, Some(v));
        }
        let before = contents(&log);
        let size_before = log.size_bytes();
        let stats = log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        assert!(stats.records_removed > 100, "{stats:?}");
        assert!(log.size_bytes() < size_before / 2);
        let after = contents(&log);
        // Same latest value per key; offsets ascending, a subset of before.
        assert_eq!(latest(&after), expect);
        assert_eq!(latest(&after), latest(&before));
        assert!(after.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(after.iter().all(|r| before.contains(r)));
        // Only the active segment's records can be duplicates of a key.
        assert_eq!(log.log_start_offset(), 0);
        assert_eq!(log.high_watermark(), 200);
        // Nothing left to do at once (checkpoint), and reopening agrees.
        assert!(log.clean(10_000, CLEANER_TEST_MAP).unwrap().is_none());
        drop(log);
        let log = open(dir.path(), compacted());
        assert_eq!(contents(&log), after);
        assert!(log.clean(10_000, CLEANER_TEST_MAP).unwrap().is_none());
        // Appends continue at the log end; reads land on gaps correctly.
        assert_eq!(
            log.append(keyed("k0", Some("new"), 5000), 0)
                .unwrap()
                .base_offset,
            200
        );
        for o in 0..200 {
            let r = log
                .read(o, 1 << 20, true, crate::storage::Isolation::ReadUncommitted)
                .unwrap();
            let h = crate::record::validate_batches(&r.records).unwrap();
            assert!(h[0].last_offset() >= o);
        }
    }

    #[test]
    fn tombstones_get_a_horizon_then_go_and_dirty_ratio_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = LogConfig {
            delete_retention_ms: 1_000,
            ..compacted()
        };
        let log = open(dir.path(), cfg.clone());
        for i in 0..40 {
            log.append(keyed(&format!("k{}", i % 4), Some("value"), 100 + i), 0)
                .unwrap();
        }
        for k in 0..4 {
            log.append(keyed(&format!("k{k}"), None, 200), 0).unwrap();
        }
        for i in 0..40 {
            log.append(keyed("other", Some(&format!("o{i}")), 300 + i), 0)
                .unwrap();
        }
        log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        let after = contents(&log);
        // Tombstones are kept (horizon 11_000), the values they delete are gone.
        let tombstones: Vec<_> = after.iter().filter(|r| r.2.is_none()).collect();
        assert_eq!(tombstones.len(), 4, "{after:?}");
        assert!(!after.iter().any(|r| r.1.starts_with('k') && r.2.is_some()));
        // Not dirty enough now: nothing happens even past the horizon.
        assert!(log.clean(20_000, CLEANER_TEST_MAP).unwrap().is_none());
        // New dirty data makes the next pass run; past the horizon the
        // tombstones go.
        for i in 0..60 {
            log.append(keyed("other", Some(&format!("p{i}")), 400 + i), 0)
                .unwrap();
        }
        log.clean(20_000, CLEANER_TEST_MAP).unwrap().unwrap();
        let after = contents(&log);
        assert!(after.iter().all(|r| r.2.is_some()), "{after:?}");
        // min.cleanable.dirty.ratio = 1 means: only when all is dirty.
        let strict = LogConfig {
            min_cleanable_dirty_ratio_ppm: 1_000_000,
            ..cfg
        };
        log.set_config(strict);
        for i in 0..60 {
            log.append(keyed("other", Some(&format!("q{i}")), 500 + i), 0)
                .unwrap();
        }
        assert!(log.clean(30_000, CLEANER_TEST_MAP).unwrap().is_none());
    }

    #[test]
    fn delete_policy_logs_are_not_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), small());
        for _ in 0..50 {
            log.append(batch(2, 0), 0).unwrap();
        }
        assert!(log.clean(0, CLEANER_TEST_MAP).unwrap().is_none());
    }

    #[test]
    fn compacted_topics_refuse_records_without_key() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), compacted());
        assert!(matches!(
            log.append(batch(1, 0), 0),
            Err(crate::storage::StorageError::InvalidRecord(_))
        ));
        log.append(keyed("a", Some("b"), 0), 0).unwrap();
    }

    #[test]
    fn an_interrupted_swap_is_completed_or_discarded_on_open() {
        for committed in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let p = pdir(dir.path());
            let log = open(dir.path(), compacted());
            for i in 0..100 {
                log.append(keyed(&format!("k{}", i % 3), Some(&format!("v{i}")), i), 0)
                    .unwrap();
            }
            let expect = latest(&contents(&log));
            let hw = log.high_watermark();
            // Simulate a pass that stopped before or after its commit point:
            // clean a copy, then put its output back as the scratch dir or
            // as a swap file next to the untouched old segments.
            let copy = tempfile::tempdir().unwrap();
            let cp = pdir(copy.path());
            fs::create_dir_all(&cp).unwrap();
            for f in fs::read_dir(&p).unwrap() {
                let f = f.unwrap().path();
                if f.is_file() {
                    fs::copy(&f, cp.join(f.file_name().unwrap())).unwrap();
                }
            }
            drop(log);
            let clog = open(copy.path(), compacted());
            clog.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
            let first_end = clog.lock().sealed.keys().nth(1).copied().unwrap();
            drop(clog);
            let cleaned = fs::read(offset_file_path(&cp, 0, FileKind::Log)).unwrap();
            if committed {
                // Only the first group's swap exists: [0, first_end).
                fs::write(p.join(swap_file_name(0, first_end)), &cleaned).unwrap();
            } else {
                fs::create_dir_all(p.join(CLEANER_SCRATCH_DIR)).unwrap();
                fs::write(
                    offset_file_path(&p.join(CLEANER_SCRATCH_DIR), 0, FileKind::Log),
                    &cleaned,
                )
                .unwrap();
            }
            let log = open(dir.path(), compacted());
            assert!(!p.join(CLEANER_SCRATCH_DIR).exists());
            assert!(files_with_ext(&p, "swap").is_empty());
            assert_eq!(log.high_watermark(), hw);
            assert_eq!(latest(&contents(&log)), expect, "committed={committed}");
            let all = contents(&log);
            assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    /// Appends, reads, cleaning passes, DeleteRecords and retention all at
    /// once: reads never fail or see a record out of order, and the latest
    /// value of every key is what was last appended.
    #[test]
    fn cleaning_concurrently_with_appends_reads_and_retention() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let cfg = LogConfig {
            cleanup_policy: "compact,delete".into(),
            retention_ms: -1,
            min_cleanable_dirty_ratio_ppm: 100_000,
            ..compacted()
        };
        let log = Arc::new(open(dir.path(), cfg));
        let stop = Arc::new(AtomicBool::new(false));
        let cleaner = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut passes = 0;
                let mut t = 10_000;
                while !stop.load(Ordering::SeqCst) {
                    t += 100;
                    if log.clean(t, CLEANER_TEST_MAP).unwrap().is_some() {
                        passes += 1;
                    }
                    log.apply_retention(t).unwrap();
                }
                passes
            })
        };
        let reader = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let start = log.log_start_offset();
                    let hw = log.high_watermark();
                    let mut o = start;
                    while o < hw {
                        let r = match log.read(
                            o,
                            700,
                            true,
                            crate::storage::Isolation::ReadUncommitted,
                        ) {
                            Ok(r) => r,
                            // DeleteRecords moved the start past us: fine.
                            Err(crate::storage::StorageError::OffsetOutOfRange { .. }) => break,
                            Err(e) => panic!("read at {o}: {e}"),
                        };
                        if r.records.is_empty() {
                            break;
                        }
                        let hs = crate::record::validate_batches(&r.records).unwrap();
                        assert!(hs.windows(2).all(|w| w[0].last_offset() < w[1].base_offset));
                        assert!(hs.last().unwrap().last_offset() >= o);
                        o = hs.last().unwrap().next_offset();
                        reads += 1;
                    }
                }
                reads
            })
        };
        let mut expect = BTreeMap::new();
        for i in 0..3000 {
            let k = format!("k{}", i % 37);
            let v = format!("v{i}");
            log.append(keyed(&k, Some(&v), 1000 + i), 0).unwrap();
            expect.insert(k, Some(v));
            if i == 1500 {
                log.delete_records(200).unwrap();
            }
        }
        stop.store(true, Ordering::SeqCst);
        let passes = cleaner.join().unwrap();
        let reads = reader.join().unwrap();
        assert!(passes > 0 && reads > 0, "passes {passes} reads {reads}");
        log.clean(1_000_000, CLEANER_TEST_MAP).unwrap();
        assert_eq!(latest(&contents(&log)), expect);
        let log = Arc::try_unwrap(log).unwrap();
        drop(log);
        let log = open(dir.path(), compacted());
        assert_eq!(latest(&contents(&log)), expect);
        assert_eq!(log.log_start_offset(), 200);
    }

    #[test]
    fn a_producers_last_batch_survives_as_an_empty_batch() {
        let dir = tempfile::tempdir().unwrap();
        let idem_keyed = |seq: i32, key: &str| {
            Bytes::from(
                BatchBuilder::new(0, 100)
                    .producer(9, 0, seq)
                    .build(&[NewRecord {
                        timestamp: 100,
                        key: Some(key.as_bytes().to_vec()),
                        value: Some(b"v".to_vec()),
                        headers: Vec::new(),
                    }]),
            )
        };
        let log = open(dir.path(), compacted());
        for seq in 0..5 {
            log.append(idem_keyed(seq, "a"), 0).unwrap();
        }
        // Then enough of another key (no producer id) to seal segments;
        // "a" is superseded by a later non-idempotent write.
        log.append(keyed("a", Some("final"), 200), 0).unwrap();
        for i in 0..60 {
            log.append(keyed("b", Some(&format!("{i}")), 300), 0)
                .unwrap();
        }
        log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        let all = contents(&log);
        assert_eq!(all.iter().filter(|r| r.1 == "a").count(), 1);
        drop(log);
        // No snapshots: the state must come from the log itself.
        for snap in files_with_ext(&pdir(dir.path()), "snapshot") {
            fs::remove_file(snap).unwrap();
        }
        // Only the empty batch (offsets 4..=4, seq 4) remains of producer 9,
        // and it still identifies a retry after a restart.
        let log = open(dir.path(), compacted());
        let dup = log.append(idem_keyed(4, "a"), 0).unwrap();
        assert!(dup.duplicate);
        assert_eq!(dup.base_offset, 4);
        assert!(!log.append(idem_keyed(5, "a"), 0).unwrap().duplicate);
    }

    pub(crate) const CLEANER_TEST_MAP: usize = 1 << 20;
}
