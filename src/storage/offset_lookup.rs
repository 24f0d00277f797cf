//! ListOffsets' questions to a partition's log (Kafka's
//! `UnifiedLog.fetchOffsetByTimestamp` and, for v0,
//! `legacyFetchOffsetsBefore`): the first offset at or after a timestamp,
//! the record with the largest timestamp, and v0's segment-granular
//! offsets before a time. Read-only: segments are looked up under the
//! partition lock and read outside it.

use super::error::Result;
use super::log::Log;
use super::segment::SegmentReader;
use crate::record::first_record_at_or_after;

impl Log {
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
            .read_uncommitted(base, 1, true)
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
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::record::{validate_batch, BatchBuilder, NewRecord};
    use crate::storage::test_util::*;
    use crate::storage::{Isolation, Log, LogConfig};

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
