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
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use tracing::{debug, info, warn};

use super::error::{io_err, Result};
use super::file_names::{
    offset_file_path, swap_file_name, FileKind, CLEANER_CHECKPOINT, CLEANER_SCRATCH_DIR,
};
use super::fs_util::{create_dir_durable, fsync_dir, write_atomically};
use super::log::Log;
use super::segment::{LogSegment, SegmentReader};
use super::txn_index::{self, AbortedBatches};
use crate::record::{
    decompression_limit, rebuild_batch, BatchHeader, DecodedBatch, Record, TopicPartition,
    ATTR_DELETE_HORIZON,
};

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
            let (written, removed) = write_cleaned(
                &self.tp,
                &path,
                group,
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

/// Calls `f(position, header, batch bytes)` for every batch of a segment.
fn for_each_batch(
    reader: &SegmentReader,
    mut f: impl FnMut(u64, &BatchHeader, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut pos = 0u64;
    while let Some(h) = reader.header_at(pos)? {
        let batch = reader.read_batch(pos, &h)?;
        f(pos, &h, &batch)?;
        pos += h.total_len() as u64;
    }
    Ok(())
}

/// Runs `f` over the records of a batch the cleaner may look into, or
/// returns `None` for a batch it copies whole: control and transactional
/// batches, and compressed batches that cannot be decoded within `limit`
/// (see the module docs; an uncompressed batch that cannot be read fails
/// the pass, as before, since its CRC was fine and the broker wrote it).
/// Both the offset map and the rewrite go through here, so they always
/// agree on which batches were looked into.
fn with_records<T>(
    tp: &TopicPartition,
    h: &BatchHeader,
    batch: &[u8],
    limit: usize,
    f: impl FnOnce(&[Record<'_>]) -> Result<T>,
) -> Result<Option<T>> {
    if h.is_control() || h.is_transactional() {
        return Ok(None);
    }
    let compressed = h.compression() != 0;
    let decoded = match DecodedBatch::new(batch, limit) {
        Ok(d) => d,
        Err(e) if compressed => {
            warn!(partition = %tp, base_offset = h.base_offset, error = %e,
                "cannot decompress batch; copying it uncleaned");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let records = match decoded.records().collect::<Result<Vec<_>, _>>() {
        Ok(r) => r,
        Err(e) if compressed => {
            warn!(partition = %tp, base_offset = h.base_offset, error = %e,
                "malformed records in compressed batch; copying it uncleaned");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    f(&records).map(Some)
}

/// What the rewrite of one pass keeps and drops.
struct CleanRules<'a> {
    /// Latest offset per key over the mapped range.
    map: &'a HashMap<Vec<u8>, i64>,
    /// Base offset of each producer's last batch.
    producer_last: &'a HashMap<i64, i64>,
    now_ms: i64,
    /// Horizon given to tombstones seen for the first time.
    delete_horizon: i64,
    /// Decompressed-size bound per batch.
    limit: usize,
    /// Batches of aborted transactions (dropped).
    aborted: &'a AbortedBatches,
}

/// Writes the cleaned batches of `group` to `path` (fsynced). Returns
/// (bytes written, records removed).
fn write_cleaned(
    tp: &TopicPartition,
    path: &Path,
    group: &[&Cleanable],
    rules: &CleanRules<'_>,
) -> Result<(u64, u64)> {
    let file = File::create(path).map_err(io_err("create", path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut removed = 0u64;
    for seg in group {
        for_each_batch(&seg.reader, |_, h, batch| {
            if rules.aborted.contains(h) {
                // As for a batch that loses every record (see `clean_batch`),
                // a producer's last batch stays as a bare header.
                removed += h.record_count.max(0) as u64;
                if rules.producer_last.get(&h.producer_id) == Some(&h.base_offset) {
                    let bare = rebuild_batch(h, &[], h.attributes, h.base_timestamp)?;
                    out.write_all(&bare).map_err(io_err("write", path))?;
                    written += bare.len() as u64;
                }
                return Ok(());
            }
            // `None`: the batch is copied byte for byte.
            let cleaned: Option<Vec<u8>> = with_records(tp, h, batch, rules.limit, |records| {
                let (rebuilt, dropped) = clean_batch(h, records, rules)?;
                removed += dropped;
                Ok(rebuilt)
            })?
            .flatten();
            let bytes: &[u8] = cleaned.as_deref().unwrap_or(batch);
            out.write_all(bytes).map_err(io_err("write", path))?;
            written += bytes.len() as u64;
            Ok(())
        })?;
    }
    let file = out
        .into_inner()
        .map_err(|e| io_err("write", path)(e.into_error()))?;
    file.sync_all().map_err(io_err("fsync", path))?;
    Ok((written, removed))
}

/// Thins one batch whose records are `records`. Returns the batch to write
/// instead of the original (`None`: the original, untouched; an empty
/// `Vec`: nothing) and how many records it lost.
fn clean_batch(
    h: &BatchHeader,
    records: &[Record<'_>],
    rules: &CleanRules<'_>,
) -> Result<(Option<Vec<u8>>, u64)> {
    let horizon_set = h.attributes & ATTR_DELETE_HORIZON != 0;
    let mut keep: Vec<Record<'_>> = Vec::with_capacity(records.len());
    let mut dropped = 0u64;
    let mut needs_horizon = false;
    for r in records {
        let superseded = r
            .key
            .and_then(|k| rules.map.get(k))
            .is_some_and(|&latest| latest > r.offset);
        let expired_tombstone =
            r.value.is_none() && r.key.is_some() && horizon_set && h.base_timestamp <= rules.now_ms;
        if superseded || expired_tombstone {
            dropped += 1;
            continue;
        }
        if r.value.is_none() && r.key.is_some() && !horizon_set {
            needs_horizon = true;
        }
        keep.push(r.clone());
    }
    let rebuilt = if dropped == 0 && !needs_horizon {
        None
    } else if keep.is_empty() {
        let producers_last =
            h.has_producer_id() && rules.producer_last.get(&h.producer_id) == Some(&h.base_offset);
        if producers_last {
            Some(rebuild_batch(h, &[], h.attributes, h.base_timestamp)?)
        } else {
            Some(Vec::new())
        }
    } else if needs_horizon {
        Some(rebuild_batch(
            h,
            &keep,
            h.attributes | ATTR_DELETE_HORIZON,
            rules.delete_horizon,
        )?)
    } else {
        Some(rebuild_batch(h, &keep, h.attributes, h.base_timestamp)?)
    };
    Ok((rebuilt, dropped))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;

    use bytes::Bytes;

    use super::*;
    use crate::record::{BatchBuilder, NewRecord};
    use crate::storage::test_util::*;
    use crate::storage::LogConfig;

    fn keyed(key: &str, value: Option<&str>, ts: i64) -> Bytes {
        Bytes::from(BatchBuilder::new(0, ts).build(&[NewRecord {
            timestamp: ts,
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            headers: Vec::new(),
        }]))
    }

    fn compacted() -> LogConfig {
        LogConfig {
            segment_bytes: 600,
            index_interval_bytes: 64,
            cleanup_policy: "compact".into(),
            ..LogConfig::default()
        }
    }

    /// (offset, key, value) of every record, read through `Log::read`.
    fn contents(log: &Log) -> Vec<(i64, String, Option<String>)> {
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

    fn latest(all: &[(i64, String, Option<String>)]) -> BTreeMap<String, Option<String>> {
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

    use crate::record::{validate_batches, Compression, BATCH_HEADER_LEN, CRC_START};

    const CODECS: [Compression; 4] = [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// One batch of `records` (key, value) compressed with `codec`.
    fn keyed_batch(codec: Compression, records: &[(String, Option<String>)], ts: i64) -> Bytes {
        let recs: Vec<NewRecord> = records
            .iter()
            .map(|(k, v)| NewRecord {
                timestamp: ts,
                key: Some(k.as_bytes().to_vec()),
                value: v.as_ref().map(|v| v.as_bytes().to_vec()),
                headers: Vec::new(),
            })
            .collect();
        Bytes::from(
            BatchBuilder::new(0, ts)
                .build_compressed(&recs, codec)
                .unwrap(),
        )
    }

    /// A one-record batch whose body is replaced by `body` under `codec`'s
    /// attribute bits, with a valid CRC: for bodies no codec would write.
    fn with_body(codec: Compression, body: &[u8]) -> Bytes {
        let mut b = keyed("k", Some("v"), 0)[..BATCH_HEADER_LEN].to_vec();
        b[22] |= codec.id();
        b.extend_from_slice(body);
        let len = (b.len() - 12) as i32;
        b[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = crc32c::crc32c(&b[CRC_START..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        Bytes::from(b)
    }

    /// Headers of every batch in the log, through `Log::read`.
    fn batch_headers(log: &Log) -> Vec<BatchHeader> {
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
            let hs = validate_batches(&r.records).unwrap(); // CRCs checked
            offset = hs.last().unwrap().next_offset();
            out.extend(hs);
        }
        out
    }

    #[test]
    fn compressed_batches_are_mapped_and_thinned_keeping_codec_and_offsets() {
        for codec in CODECS {
            let dir = tempfile::tempdir().unwrap();
            let cfg = LogConfig {
                segment_bytes: 2_000,
                ..compacted()
            };
            let log = open(dir.path(), cfg.clone());
            let mut expect = BTreeMap::new();
            // 60 batches of 5 records over 7 keys: each batch holds keys
            // that later batches overwrite.
            let mut n = 0;
            for b in 0..60 {
                let recs: Vec<(String, Option<String>)> = (0..5)
                    .map(|_| {
                        n += 1;
                        let k = format!("key-{}", n % 7);
                        let v = format!("value-{n}-{}", "p".repeat(40));
                        expect.insert(k.clone(), Some(v.clone()));
                        (k, Some(v))
                    })
                    .collect();
                log.append(keyed_batch(codec, &recs, 1000 + b), 0).unwrap();
            }
            // An uncompressed update shadows the compressed ones of its key;
            // a compressed tombstone is kept (its horizon is ahead).
            log.append(keyed("key-1", Some("plain"), 2000), 0).unwrap();
            expect.insert("key-1".into(), Some("plain".into()));
            log.append(keyed_batch(codec, &[("key-2".into(), None)], 2001), 0)
                .unwrap();
            expect.insert("key-2".into(), None);
            // Enough after it that everything above is in sealed segments.
            for i in 0..40 {
                log.append(keyed("filler", Some(&format!("{i:0>200}")), 3000), 0)
                    .unwrap();
            }
            expect.insert("filler".into(), Some(format!("{:0>200}", 39)));
            let before = contents(&log);
            let size_before = log.size_bytes();
            let stats = log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
            let after = contents(&log);
            assert_eq!(latest(&after), expect, "{}", codec.name());
            assert!(after.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(after.iter().all(|r| before.contains(r)), "offsets kept");
            assert!(stats.records_removed >= 290, "{} {stats:?}", codec.name());
            assert!(
                log.size_bytes() < size_before / 2,
                "{}: {} -> {}",
                codec.name(),
                size_before,
                log.size_bytes()
            );
            // One record per key is left, and every batch still compressed
            // is compressed with the producer's codec.
            let key_records = after.iter().filter(|r| r.1.starts_with("key-")).count();
            assert_eq!(key_records, 7, "{}: {after:?}", codec.name());
            let headers = batch_headers(&log);
            let compressed: Vec<_> = headers.iter().filter(|h| h.compression() != 0).collect();
            assert!(compressed.len() >= 3, "{headers:?}");
            assert!(compressed.iter().all(|h| h.compression() == codec.id()));
            // The tombstone's batch got its delete horizon and kept its codec.
            let tomb = headers
                .iter()
                .find(|h| h.attributes & ATTR_DELETE_HORIZON != 0)
                .unwrap();
            assert_eq!(tomb.compression(), codec.id());
            // Reopen: the same, and nothing left to do.
            drop(log);
            let log = open(dir.path(), cfg);
            assert_eq!(contents(&log), after);
            assert!(log.clean(10_000, CLEANER_TEST_MAP).unwrap().is_none());
        }
    }

    #[test]
    fn an_undecodable_compressed_batch_is_copied_whole() {
        let dir = tempfile::tempdir().unwrap();
        // Written while the topic was not compacted (no key check then).
        let log = open(
            dir.path(),
            LogConfig {
                cleanup_policy: "delete".into(),
                ..compacted()
            },
        );
        let garbage = with_body(Compression::Gzip, b"definitely not gzip");
        log.append(garbage.clone(), 0).unwrap();
        log.set_config(compacted());
        for i in 0..60 {
            log.append(keyed("k", Some(&format!("{i:0>30}")), 100), 0)
                .unwrap();
        }
        let stats = log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        assert!(stats.records_removed > 0);
        let r = log
            .read(0, 1 << 20, true, crate::storage::Isolation::ReadUncommitted)
            .unwrap();
        let h = validate_batches(&r.records).unwrap();
        assert_eq!(h[0].base_offset, 0);
        assert_eq!(&r.records[..h[0].total_len()], &garbage[..]);
    }

    #[test]
    fn compacted_topics_check_keys_inside_compressed_batches() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), compacted());
        for codec in CODECS {
            let keyless = BatchBuilder::new(0, 0)
                .build_compressed(
                    &[
                        NewRecord {
                            key: Some(b"a".to_vec()),
                            ..NewRecord::new(0, b"x".to_vec())
                        },
                        NewRecord::new(0, b"no key".to_vec()),
                    ],
                    codec,
                )
                .unwrap();
            assert!(
                matches!(
                    log.append(Bytes::from(keyless), 0),
                    Err(crate::storage::StorageError::InvalidRecord(_))
                ),
                "{}",
                codec.name()
            );
            log.append(keyed_batch(codec, &[("a".into(), Some("b".into()))], 0), 0)
                .unwrap();
            // A body its codec cannot read is refused too.
            assert!(matches!(
                log.append(with_body(codec, b"\x00garbage\xff"), 0),
                Err(crate::storage::StorageError::Record(
                    crate::record::RecordError::Decompression { .. }
                ))
            ));
        }
        // A bomb: 65 MiB of zeros in a few KiB of zstd, over the limit of a
        // topic whose max.message.bytes is 1 MiB (64 MiB).
        let bomb = Compression::Zstd.compress(&vec![0u8; 65 << 20]).unwrap();
        assert!(bomb.len() < 64 << 10);
        assert!(matches!(
            log.append(with_body(Compression::Zstd, &bomb), 0),
            Err(crate::storage::StorageError::Record(
                crate::record::RecordError::DecompressedTooLarge { .. }
            ))
        ));
        // A delete-policy topic does not look inside at all.
        let dir = tempfile::tempdir().unwrap();
        let plain = open(dir.path(), small());
        plain
            .append(with_body(Compression::Zstd, &bomb), 0)
            .unwrap();
    }

    #[test]
    fn a_producers_last_compressed_batch_survives_as_a_bare_header() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), compacted());
        for seq in 0..3 {
            let b = BatchBuilder::new(0, 100)
                .producer(9, 0, seq * 2)
                .build_compressed(
                    &[
                        NewRecord {
                            key: Some(b"a".to_vec()),
                            ..NewRecord::new(100, b"v".to_vec())
                        },
                        NewRecord {
                            key: Some(b"a".to_vec()),
                            ..NewRecord::new(100, b"w".to_vec())
                        },
                    ],
                    Compression::Lz4,
                )
                .unwrap();
            log.append(Bytes::from(b), 0).unwrap();
        }
        log.append(keyed("a", Some("final"), 200), 0).unwrap();
        for i in 0..60 {
            log.append(keyed("b", Some(&format!("{i}")), 300), 0)
                .unwrap();
        }
        log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        let headers = batch_headers(&log);
        let of_producer: Vec<_> = headers.iter().filter(|h| h.producer_id == 9).collect();
        assert_eq!(of_producer.len(), 1, "{of_producer:?}");
        let h = of_producer[0];
        assert_eq!((h.base_offset, h.last_offset(), h.record_count), (4, 5, 0));
        assert_eq!((h.base_sequence, h.compression()), (4, 0));
        assert_eq!(h.total_len(), BATCH_HEADER_LEN);
    }

    const CLEANER_TEST_MAP: usize = 1 << 20;
}
