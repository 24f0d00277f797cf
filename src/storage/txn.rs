//! The transactional operations of a `Log` (Kafka's `UnifiedLog` side of
//! transactions): writing COMMIT/ABORT markers ([`Log::write_txn_marker`]),
//! the last stable offset and ongoing transactions as the broker asks for
//! them, and `read_committed` fetches ([`Log::read`]). The transaction
//! coordinator (outside storage) decides *when* a transaction ends; this
//! module writes what that means into the log. The state itself (marker
//! format, LSO rule, aborted transactions and their `.txnindex` files) is
//! `txn_state`'s, reached through `LocalLog::txn`.
//!
//! * A transactional batch from a producer with no ongoing transaction here
//!   starts one at its base offset (`producer_state`).
//! * A `read_committed` read returns only whole batches below the LSO, plus
//!   the aborted transactions overlapping what it returns, which the client
//!   uses to drop aborted batches (the broker never filters).

use std::sync::atomic::Ordering;

use bytes::Bytes;
use tracing::debug;

use super::error::{Result, StorageError};
use super::log::{AppendInfo, Log, ReadResult};
use super::log_config::TimestampType;
use super::txn_state::{aborted_entry, marker_batch, Isolation, TxnState};
use crate::record::{header_copy, validate_batch, BatchIter};

impl Log {
    /// Appends a COMMIT (`commit`) or ABORT marker ending `producer_id`'s
    /// transaction on this partition (Kafka's format: see `marker_batch`),
    /// flushed per the log's flush policy like any append. The epoch may be
    /// above the producer's (a bump: its next batch must start at sequence
    /// 0); below it is `InvalidProducerEpoch`. A marker for a producer with
    /// no ongoing transaction here is still written, as in Kafka.
    pub fn write_txn_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo> {
        if producer_id < 0 || producer_epoch < 0 {
            return Err(StorageError::InvalidRecord(
                "transaction marker without a producer id and epoch",
            ));
        }
        if self.deleted.load(Ordering::Acquire) {
            return Err(StorageError::UnknownTopic(self.tp.topic.clone()));
        }
        let (info, next_offset, flush) = {
            let mut inner = self.lock();
            inner.producers.check_marker(producer_id, producer_epoch)?;
            let base = inner.next_offset;
            let log_append = inner.config.message_timestamp_type == TimestampType::LogAppendTime;
            let batch = marker_batch(
                base,
                producer_id,
                producer_epoch,
                commit,
                coordinator_epoch,
                now_ms,
                log_append,
            );
            let header = validate_batch(&batch)?;
            let head = header_copy(&batch)?;
            self.prepare_append(&mut inner, batch.len(), header.last_offset(), now_ms)?;
            let entry = inner
                .producers
                .txn_first_offset(producer_id)
                .filter(|_| !commit)
                .map(|f| aborted_entry(&inner.producers, producer_id, f, base));
            // The index entry goes first (module docs), at the end of the
            // active segment's entries.
            let segment = inner.active.base_offset();
            let pending = match entry {
                Some(e) => Some(inner.txn.write_abort(&self.dir, segment, e)?),
                None => None,
            };
            let flush = match self.commit_append(&mut inner, &head, &batch, &header, now_ms) {
                Ok(flush) => flush,
                Err(e) => {
                    if let Some(p) = &pending {
                        TxnState::undo_abort(&self.dir, p);
                    }
                    return Err(e);
                }
            };
            inner.producers.end_txn(producer_id, producer_epoch, now_ms);
            if let Some(p) = pending {
                if inner.txn.commit_abort(p) {
                    inner.dir_dirty = true;
                }
            }
            debug!(partition = %self.tp, producer_id, producer_epoch, commit, offset = base,
                "wrote transaction marker");
            let info = AppendInfo {
                base_offset: base,
                log_append_time_ms: if log_append { now_ms } else { -1 },
                log_start_offset: inner.log_start_offset,
                duplicate: false,
            };
            (info, inner.next_offset, flush)
        };
        if flush {
            self.flush_to(next_offset, Some(now_ms))?;
        }
        Ok(info)
    }

    /// First offset of the earliest ongoing transaction on this partition,
    /// else the high watermark.
    pub fn last_stable_offset(&self) -> i64 {
        self.lock().last_stable_offset()
    }

    /// `(producer_id, first_offset)` of each ongoing transaction, by first
    /// offset.
    pub fn ongoing_transactions(&self) -> Vec<(i64, i64)> {
        self.lock().producers.ongoing_transactions()
    }

    /// Every producer this partition remembers (DescribeProducers).
    pub fn producers(&self) -> Vec<super::producer_state::ProducerSummary> {
        self.lock().producers.summaries()
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
    /// transactions overlapping them (see the module docs).
    ///
    /// The LSO and the candidate aborted transactions are
    /// taken before the batches are read: a stale LSO only hides batches
    /// that were not stable yet, and every transaction aborted below it
    /// already has its entry.
    pub fn read(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
        isolation: Isolation,
    ) -> Result<ReadResult> {
        if isolation == Isolation::ReadUncommitted {
            // One lock acquisition on the plain fetch path: the LSO is read
            // there too.
            return self.read_uncommitted(fetch_offset, max_bytes, min_one_batch);
        }
        let (lso, candidates, log_start, log_end) = {
            let inner = self.lock();
            let end = inner.next_offset;
            let lso = inner.last_stable_offset();
            let candidates = if fetch_offset < lso {
                inner.txn.aborted_between(fetch_offset, lso)
            } else {
                Vec::new()
            };
            if fetch_offset >= lso {
                inner.check_fetch_offset(fetch_offset)?;
            }
            (lso, candidates, inner.log_start_offset, end)
        };
        if fetch_offset >= lso {
            return Ok(ReadResult {
                records: Bytes::new(),
                high_watermark: log_end,
                log_start_offset: log_start,
                last_stable_offset: lso,
                aborted: Vec::new(),
            });
        }
        let mut r = self.read_uncommitted(fetch_offset, max_bytes, min_one_batch)?;
        // Whole batches below the LSO only. The LSO is always a batch
        // boundary, so this cuts between batches, never inside one.
        let mut keep = 0usize;
        let mut upper = None;
        for item in BatchIter::headers_only(&r.records) {
            let (pos, h) = item?;
            if h.last_offset() >= lso {
                break;
            }
            keep = pos + h.total_len();
            upper = Some(h.next_offset());
        }
        r.records.truncate(keep);
        r.last_stable_offset = lso;
        r.aborted = match upper {
            Some(u) => candidates
                .into_iter()
                .filter(|a| a.first_offset < u)
                .collect(),
            None => Vec::new(),
        };
        Ok(r)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::record::{
        BatchBuilder, BatchHeader, NewRecord, RecordIter, ATTR_CONTROL, ATTR_TRANSACTIONAL,
    };
    use crate::storage::test_util::*;
    use crate::storage::txn_index::AbortedTxnEntry;
    use crate::storage::txn_state::marker_is_commit;
    use crate::storage::{AbortedTxn, LogConfig, StorageError};

    pub(crate) const RC: Isolation = Isolation::ReadCommitted;
    pub(crate) const RU: Isolation = Isolation::ReadUncommitted;

    /// A transactional batch of `n` keyed records `key=value`.
    pub(crate) fn txn(pid: i64, epoch: i16, seq: i32, n: usize, key: &str, value: &str) -> Bytes {
        let mut b = BatchBuilder::new(0, 1000).producer(pid, epoch, seq);
        b.attributes = ATTR_TRANSACTIONAL;
        let recs: Vec<NewRecord> = (0..n)
            .map(|_| NewRecord {
                timestamp: 1000,
                key: Some(key.as_bytes().to_vec()),
                value: Some(value.as_bytes().to_vec()),
                headers: Vec::new(),
            })
            .collect();
        Bytes::from(b.build(&recs))
    }

    pub(crate) fn plain(key: &str, value: &str) -> Bytes {
        Bytes::from(BatchBuilder::new(0, 1000).build(&[NewRecord {
            timestamp: 1000,
            key: Some(key.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: Vec::new(),
        }]))
    }

    pub(crate) fn entries(log: &Log) -> Vec<AbortedTxnEntry> {
        log.lock().txn.aborted_entries().to_vec()
    }

    pub(crate) fn pids(v: &[AbortedTxn]) -> Vec<(i64, i64)> {
        v.iter().map(|a| (a.producer_id, a.first_offset)).collect()
    }

    pub(crate) fn headers(records: &[u8]) -> Vec<BatchHeader> {
        BatchIter::new(records).map(|i| i.unwrap().1).collect()
    }

    /// What a read_committed client ends up with (librdkafka's filtering):
    /// reads the whole log with `ReadCommitted`, drops the batches of the
    /// aborted transactions reported and every control batch. Returns
    /// `(offset, key, value)` of the records kept.
    pub(crate) fn committed_view(log: &Log) -> Vec<(i64, String, String)> {
        let mut out = Vec::new();
        let mut offset = log.log_start_offset();
        let mut aborted: Vec<AbortedTxn> = Vec::new();
        let mut in_aborted: HashSet<i64> = HashSet::new();
        loop {
            let r = log.read(offset, 1 << 20, true, RC).unwrap();
            if r.records.is_empty() {
                break;
            }
            aborted.extend(r.aborted);
            for item in BatchIter::new(&r.records) {
                let (pos, h) = item.unwrap();
                let bytes = &r.records[pos..pos + h.total_len()];
                for a in aborted.iter().filter(|a| a.first_offset <= h.base_offset) {
                    in_aborted.insert(a.producer_id);
                }
                aborted.retain(|a| a.first_offset > h.base_offset);
                offset = h.next_offset();
                if h.is_control() {
                    if marker_is_commit(bytes) == Some(false) {
                        in_aborted.remove(&h.producer_id);
                    }
                    continue;
                }
                if h.is_transactional() && in_aborted.contains(&h.producer_id) {
                    continue;
                }
                for rec in RecordIter::new(bytes).unwrap() {
                    let rec = rec.unwrap();
                    out.push((
                        rec.offset,
                        String::from_utf8(rec.key.unwrap_or_default().to_vec()).unwrap(),
                        String::from_utf8(rec.value.unwrap_or_default().to_vec()).unwrap(),
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn markers_end_transactions_and_move_the_lso() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        let mut rx = log.subscribe();
        log.append(plain("k", "a"), 0).unwrap(); // 0
        assert_eq!(log.last_stable_offset(), 1);
        log.append(txn(1, 0, 0, 2, "k", "t1"), 0).unwrap(); // 1..=2
        log.append(txn(2, 0, 0, 1, "k", "t2"), 0).unwrap(); // 3
        log.append(txn(1, 0, 2, 1, "k", "t1"), 0).unwrap(); // 4
        assert_eq!(log.last_stable_offset(), 1);
        assert_eq!(log.ongoing_transactions(), vec![(1, 1), (2, 3)]);
        rx.borrow_and_update();
        let m = log.write_txn_marker(1, 0, true, 5, 0).unwrap(); // 5
        assert_eq!(m.base_offset, 5);
        assert!(!m.duplicate);
        assert!(
            rx.has_changed().unwrap(),
            "a marker publishes the high watermark"
        );
        assert_eq!(*rx.borrow_and_update(), 6);
        assert_eq!(log.last_stable_offset(), 3);
        assert_eq!(log.ongoing_transactions(), vec![(2, 3)]);
        assert!(entries(&log).is_empty(), "a commit records nothing");
        log.write_txn_marker(2, 0, false, 5, 0).unwrap(); // 6
        assert_eq!(log.last_stable_offset(), 7);
        assert!(log.ongoing_transactions().is_empty());
        assert_eq!(
            entries(&log),
            vec![AbortedTxnEntry {
                producer_id: 2,
                first_offset: 3,
                last_offset: 6,
                last_stable_offset: 7
            }]
        );
        // A marker for a producer without a transaction here is written
        // anyway and records nothing.
        assert_eq!(
            log.write_txn_marker(9, 0, false, 5, 0).unwrap().base_offset,
            7
        );
        assert_eq!(entries(&log).len(), 1);
        // The markers are in the log, in Kafka's format.
        let all = log.read(0, 1 << 20, true, RU).unwrap();
        assert!(all.aborted.is_empty());
        assert_eq!(all.last_stable_offset, 8);
        let hs = headers(&all.records);
        let markers: Vec<_> = hs.iter().filter(|h| h.is_control()).collect();
        assert_eq!(markers.len(), 3);
        assert!(markers
            .iter()
            .all(|h| h.is_transactional() && h.base_sequence == -1));
        // A client still cannot send a control batch.
        let mut b = BatchBuilder::new(0, 0).producer(1, 0, 3);
        b.attributes = ATTR_TRANSACTIONAL | ATTR_CONTROL;
        assert!(matches!(
            log.append(Bytes::from(b.build(&[NewRecord::new(0, vec![0u8; 4])])), 0),
            Err(StorageError::InvalidRecord(_))
        ));
    }

    #[test]
    fn non_transactional_batch_inside_a_transaction_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        log.append(txn(1, 0, 0, 1, "k", "v"), 0).unwrap();
        assert!(matches!(
            log.append(idem(1, 0, 1, 1), 0),
            Err(StorageError::InvalidTxnState(_))
        ));
        assert_eq!(log.log_end_offset(), 1);
        // Retries of the transactional batch are still deduplicated.
        assert!(log.append(txn(1, 0, 0, 1, "k", "v"), 0).unwrap().duplicate);
        log.write_txn_marker(1, 0, true, 0, 0).unwrap();
        // After the transaction, the same epoch continues its sequence.
        log.append(idem(1, 0, 1, 1), 0).unwrap();
    }

    #[test]
    fn read_committed_stops_at_the_lso_and_lists_aborted_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        log.append(plain("k", "p0"), 0).unwrap(); // 0
        log.append(txn(1, 0, 0, 2, "k", "c1"), 0).unwrap(); // 1..=2
        log.append(txn(2, 0, 0, 1, "k", "a2"), 0).unwrap(); // 3
        log.append(txn(1, 0, 2, 1, "k", "c1"), 0).unwrap(); // 4

        // Only the plain batch is stable.
        let r = log.read(0, 1 << 20, true, RC).unwrap();
        assert_eq!(headers(&r.records).len(), 1);
        assert_eq!((r.last_stable_offset, r.high_watermark), (1, 5));
        assert!(r.aborted.is_empty());
        // Past the LSO: empty, not an error; past the log end: an error.
        let r = log.read(3, 1 << 20, true, RC).unwrap();
        assert!(r.records.is_empty() && r.aborted.is_empty());
        assert_eq!(r.last_stable_offset, 1);
        assert!(matches!(
            log.read(6, 100, true, RC),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        // ReadUncommitted is unchanged but reports the LSO.
        let r = log.read(0, 1 << 20, true, RU).unwrap();
        assert_eq!(headers(&r.records).len(), 4);
        assert_eq!(r.last_stable_offset, 1);

        log.write_txn_marker(1, 0, true, 0, 0).unwrap(); // 5: LSO -> 3
        let r = log.read(0, 1 << 20, true, RC).unwrap();
        let hs = headers(&r.records);
        assert_eq!(
            hs.last().unwrap().next_offset(),
            3,
            "batch 4 is past producer 2's start"
        );
        log.write_txn_marker(2, 0, false, 0, 0).unwrap(); // 6: LSO -> 7

        log.append(txn(3, 0, 0, 1, "k", "a3"), 0).unwrap(); // 7
        log.append(txn(1, 0, 3, 1, "k", "a1"), 0).unwrap(); // 8
        log.append(plain("k", "p9"), 0).unwrap(); // 9
        log.write_txn_marker(3, 0, false, 0, 0).unwrap(); // 10
        log.append(txn(2, 0, 1, 1, "k", "c2"), 0).unwrap(); // 11
        log.write_txn_marker(1, 0, false, 0, 0).unwrap(); // 12
        log.write_txn_marker(2, 0, true, 0, 0).unwrap(); // 13
        assert_eq!(log.last_stable_offset(), 14);
        let expect = [(2i64, 3i64, 6i64), (3, 7, 10), (1, 8, 12)];
        let got: Vec<_> = entries(&log)
            .iter()
            .map(|e| (e.producer_id, e.first_offset, e.last_offset))
            .collect();
        assert_eq!(got, expect);
        assert_eq!(
            entries(&log)[1].last_stable_offset,
            8,
            "producer 1 was still open"
        );

        // Every fetch offset and size: whole batches below the LSO, and
        // exactly Kafka's aborted list for the range returned.
        let sizes = [1usize, 80, 200, 1 << 20];
        for fetch in 0..14 {
            for &max in &sizes {
                let r = log.read(fetch, max, true, RC).unwrap();
                let hs = headers(&r.records);
                assert!(!hs.is_empty(), "min_one_batch at {fetch}");
                assert!(hs[0].last_offset() >= fetch);
                let upper = hs.last().unwrap().next_offset();
                let want: Vec<(i64, i64)> = expect
                    .iter()
                    .filter(|(_, first, last)| *last >= fetch && *first < upper)
                    .map(|(p, f, _)| (*p, *f))
                    .collect();
                assert_eq!(pids(&r.aborted), want, "fetch {fetch} max {max}");
            }
        }
        // A client filtering with those lists sees the committed records only.
        let values: Vec<String> = committed_view(&log)
            .into_iter()
            .map(|(_, _, v)| v)
            .collect();
        assert_eq!(values, ["p0", "c1", "c1", "c1", "p9", "c2"]);
    }

    #[test]
    fn marker_with_a_higher_epoch_bumps_the_producer() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        log.append(txn(1, 3, 0, 1, "k", "v"), 0).unwrap();
        log.append(txn(1, 3, 1, 1, "k", "v"), 0).unwrap();
        // The coordinator aborts on a timeout with a bumped epoch.
        log.write_txn_marker(1, 4, false, 0, 0).unwrap();
        assert_eq!(log.last_stable_offset(), 3);
        // The old epoch is fenced, for data and for markers.
        assert!(matches!(
            log.append(txn(1, 3, 2, 1, "k", "v"), 0),
            Err(StorageError::InvalidProducerEpoch {
                current_epoch: 4,
                ..
            })
        ));
        assert!(matches!(
            log.write_txn_marker(1, 3, true, 0, 0),
            Err(StorageError::InvalidProducerEpoch { epoch: 3, .. })
        ));
        // The new epoch starts at sequence 0.
        assert!(matches!(
            log.append(txn(1, 4, 2, 1, "k", "v"), 0),
            Err(StorageError::OutOfOrderSequence { .. })
        ));
        log.append(txn(1, 4, 0, 1, "k", "v"), 0).unwrap();
        assert_eq!(log.ongoing_transactions(), vec![(1, 3)]);
        // The same holds after a restart (replay of the marker).
        drop(log);
        let log = open(dir.path(), LogConfig::default());
        assert_eq!(log.ongoing_transactions(), vec![(1, 3)]);
        assert!(matches!(
            log.write_txn_marker(1, 3, true, 0, 0),
            Err(StorageError::InvalidProducerEpoch { .. })
        ));
        assert!(log.append(txn(1, 4, 0, 1, "k", "v"), 0).unwrap().duplicate);
        log.write_txn_marker(1, 4, true, 0, 0).unwrap();
        assert_eq!(log.last_stable_offset(), log.high_watermark());
    }

    /// Random interleavings of transactional producers, plain appends,
    /// commits, aborts, rolls and restarts (clean or crash) against a model
    /// of what a read_committed client sees and of the LSO.
    #[test]
    fn random_transactions_match_a_model() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for round in 0..6 {
            let dir = tempfile::tempdir().unwrap();
            // Odd rounds compact too; keys are unique, so the cleaner may
            // only remove the batches of aborted transactions.
            let compact = round % 2 == 1;
            let cfg = LogConfig {
                segment_bytes: 400 + 200 * round,
                index_interval_bytes: 64,
                cleanup_policy: if compact { "compact" } else { "delete" }.into(),
                min_cleanable_dirty_ratio_ppm: 0,
                ..LogConfig::default()
            };
            let mut log = open(dir.path(), cfg.clone());
            // Model: (offset, value, producer or -1) of every data record,
            // and per producer its open transaction's first offset.
            let mut records: Vec<(i64, String, i64)> = Vec::new();
            let mut aborted_values: HashSet<String> = HashSet::new();
            let mut open_txn: [Option<i64>; 4] = [None; 4];
            let mut seq = [0i32; 4];
            for step in 0..300 {
                let pid = next(4) as i64;
                let p = pid as usize;
                let op = next(10);
                match op {
                    0..=3 => {
                        let v = format!("{round}-{step}");
                        let at = log.append(txn(pid, 0, seq[p], 1, &v, &v), 0).unwrap();
                        seq[p] += 1;
                        open_txn[p].get_or_insert(at.base_offset);
                        records.push((at.base_offset, v, pid));
                    }
                    4..=5 => {
                        let v = format!("{round}-{step}-plain");
                        let at = log.append(plain(&v, &v), 0).unwrap();
                        records.push((at.base_offset, v, -1));
                    }
                    6..=8 => {
                        let commit = next(2) == 0;
                        log.write_txn_marker(pid, 0, commit, 0, 0).unwrap();
                        if let Some(first) = open_txn[p].take() {
                            if !commit {
                                for (o, v, q) in &records {
                                    if *q == pid && *o >= first {
                                        aborted_values.insert(v.clone());
                                    }
                                }
                            }
                        }
                    }
                    _ if compact && next(2) == 0 => {
                        log.clean(0, 1 << 20).unwrap();
                    }
                    _ => {
                        if next(2) == 0 {
                            log.checkpoint().unwrap();
                        }
                        drop(log);
                        log = open(dir.path(), cfg.clone());
                    }
                }
                let lso = open_txn
                    .iter()
                    .flatten()
                    .min()
                    .copied()
                    .unwrap_or(log.high_watermark());
                assert_eq!(log.last_stable_offset(), lso, "round {round} step {step}");
                if step % 25 == 24 {
                    let want: Vec<String> = records
                        .iter()
                        .filter(|(o, v, _)| *o < lso && !aborted_values.contains(v))
                        .map(|(_, v, _)| v.clone())
                        .collect();
                    let got: Vec<String> = committed_view(&log)
                        .into_iter()
                        .map(|(_, _, v)| v)
                        .collect();
                    assert_eq!(got, want, "round {round} step {step}");
                }
            }
        }
    }

    #[test]
    fn the_lso_never_falls_below_the_log_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), LogConfig::default());
        log.append(txn(1, 0, 0, 1, "k", "v"), 0).unwrap(); // 0
        for _ in 0..4 {
            log.append(batch(1, 0), 0).unwrap(); // 1..=4
        }
        assert_eq!(log.last_stable_offset(), 0);
        log.delete_records(3).unwrap();
        assert_eq!(log.last_stable_offset(), 3);
        let r = log.read(3, 1 << 20, true, RC).unwrap();
        assert!(r.records.is_empty());
        assert_eq!(r.last_stable_offset, 3);
        log.write_txn_marker(1, 0, false, 0, 0).unwrap();
        let r = log.read(3, 1 << 20, true, RC).unwrap();
        assert_eq!(headers(&r.records).len(), 3);
        assert_eq!(pids(&r.aborted), vec![(1, 0)]);
    }

    #[test]
    fn the_cleaner_drops_aborted_batches_and_they_never_shadow_committed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = LogConfig {
            segment_bytes: 600,
            index_interval_bytes: 64,
            cleanup_policy: "compact".into(),
            ..LogConfig::default()
        };
        let log = open(dir.path(), cfg.clone());
        log.append(plain("a", "a-committed"), 0).unwrap();
        log.append(plain("b", "b-old"), 0).unwrap();
        log.append(txn(1, 0, 0, 1, "a", "a-aborted"), 0).unwrap();
        log.append(txn(2, 0, 0, 1, "b", "b-txn"), 0).unwrap();
        log.write_txn_marker(1, 0, false, 0, 0).unwrap();
        log.write_txn_marker(2, 0, true, 0, 0).unwrap();
        // Producer 1 aborts again later, after the key was rewritten.
        log.append(txn(1, 0, 1, 1, "a", "a-aborted-2"), 0).unwrap();
        log.write_txn_marker(1, 0, false, 0, 0).unwrap();
        // An open transaction in a segment that gets cleaned.
        log.append(txn(3, 0, 0, 1, "c", "c-open"), 0).unwrap();
        for i in 0..30 {
            log.append(plain(&format!("f{}", i % 3), "filler"), 0)
                .unwrap();
        }
        let latest = |view: Vec<(i64, String, String)>| {
            view.into_iter()
                .map(|(_, k, v)| (k, v))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let before = latest(committed_view(&log));
        assert_eq!(before["a"], "a-committed");
        assert_eq!(before["b"], "b-txn");
        let stats = log.clean(10_000, 1 << 20).unwrap().unwrap();
        assert!(stats.records_removed > 0);
        let mut values = Vec::new();
        let mut markers = 0;
        let mut offset = 0;
        while offset < log.high_watermark() {
            let all = log.read(offset, 1 << 20, true, RU).unwrap().records;
            for item in BatchIter::new(&all) {
                let (pos, h) = item.unwrap();
                offset = h.next_offset();
                let b = &all[pos..pos + h.total_len()];
                if h.is_control() {
                    markers += 1;
                    continue;
                }
                for r in RecordIter::new(b).unwrap() {
                    values.push(String::from_utf8(r.unwrap().value.unwrap().to_vec()).unwrap());
                }
            }
        }
        assert!(
            !values.iter().any(|v| v.starts_with("a-aborted")),
            "{values:?}"
        );
        assert!(values.contains(&"a-committed".to_string()));
        assert!(
            values.contains(&"c-open".to_string()),
            "an open transaction is kept"
        );
        assert_eq!(markers, 3, "markers stay");
        assert_eq!(latest(committed_view(&log)), before);
        assert_eq!(log.ongoing_transactions(), vec![(3, 8)]);
        // The swapped-in segment carries the group's aborted transactions.
        let e = entries(&log);
        drop(log);
        let log = open(dir.path(), cfg);
        assert_eq!(entries(&log), e);
        assert_eq!(latest(committed_view(&log)), before);
    }
}
