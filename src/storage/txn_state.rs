//! The transaction state of one partition's log, behind a narrow interface
//! for the rest of storage: the COMMIT/ABORT marker format (Kafka's
//! `EndTransactionMarker`), the last stable offset (LSO), the aborted
//! transactions whose markers are in the log (Kafka's `TransactionIndex`
//! in memory, see `txn_index` for the files) and which `.txnindex` files
//! still need an fsync, and replaying a marker when a log is loaded.
//! Ongoing transactions themselves are producer state
//! (`producer_state`); `txn` writes markers and serves `read_committed`.
//!
//! * LSO = first offset of the earliest ongoing transaction, else the log
//!   end (the high watermark: one replica), never below the log start.
//! * An ABORT of an ongoing transaction records `{producer, first offset,
//!   marker offset, LSO}` in the active segment's `.txnindex`, written
//!   before the marker itself ([`TxnState::write_abort`], then
//!   [`TxnState::commit_abort`] once the marker is in), so the marker is
//!   never in the log without its entry while the broker runs.
//! * On open, the replay of batch headers after the producer snapshot reads
//!   each marker's type from its (always uncompressed) body
//!   ([`replay_marker`]), so ongoing transactions, epochs and the aborted
//!   entries of the replayed range are rebuilt exactly as they were
//!   written.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::{io_err, Result};
use super::producer_state::ProducerStateManager;
use super::segment::SegmentReader;
use super::txn_index::{self, AbortedTxn, AbortedTxnEntry, AbortedTxns};
use crate::record::{
    BatchBuilder, BatchHeader, NewRecord, RecordIter, ATTR_CONTROL, ATTR_LOG_APPEND_TIME,
    ATTR_TRANSACTIONAL, NO_SEQUENCE,
};

/// Which records a read may return (Kafka's `IsolationLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Everything up to the high watermark.
    ReadUncommitted,
    /// Only batches below the last stable offset, with the aborted
    /// transactions among them listed.
    ReadCommitted,
}

/// Control record type of an ABORT marker (Kafka's `ControlRecordType`).
const CONTROL_ABORT: i16 = 0;
/// Control record type of a COMMIT marker.
const CONTROL_COMMIT: i16 = 1;

/// The COMMIT/ABORT control batch Kafka's `EndTransactionMarker` writes:
/// one record, key = version 0 + type, value = version 0 + coordinator
/// epoch.
pub(super) fn marker_batch(
    base_offset: i64,
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
    now_ms: i64,
    log_append_time: bool,
) -> Vec<u8> {
    let kind = if commit {
        CONTROL_COMMIT
    } else {
        CONTROL_ABORT
    };
    let mut key = 0i16.to_be_bytes().to_vec();
    key.extend_from_slice(&kind.to_be_bytes());
    let mut value = 0i16.to_be_bytes().to_vec();
    value.extend_from_slice(&coordinator_epoch.to_be_bytes());
    let mut b =
        BatchBuilder::new(base_offset, now_ms).producer(producer_id, producer_epoch, NO_SEQUENCE);
    b.attributes = ATTR_TRANSACTIONAL | ATTR_CONTROL;
    if log_append_time {
        b.attributes |= ATTR_LOG_APPEND_TIME;
    }
    b.build(&[NewRecord {
        timestamp: now_ms,
        key: Some(key),
        value: Some(value),
        headers: Vec::new(),
    }])
}

/// `Some(true)` for a COMMIT marker, `Some(false)` for ABORT, `None` for
/// any other (unknown, damaged) control batch, which Kafka ignores too.
pub(crate) fn marker_is_commit(batch: &[u8]) -> Option<bool> {
    let first = RecordIter::new(batch).ok()?.next()?.ok()?;
    let key = first.key?;
    match i16::from_be_bytes([*key.get(2)?, *key.get(3)?]) {
        CONTROL_COMMIT => Some(true),
        CONTROL_ABORT => Some(false),
        _ => None,
    }
}

/// The entry an ABORT of `pid`'s transaction starting at `first_offset`,
/// with its marker at `marker_offset`, leaves in the index: the LSO right
/// after it is the earliest *other* ongoing transaction's first offset
/// (Kafka's `ProducerStateManager.lastStableOffset(completedTxn)`).
pub(super) fn aborted_entry(
    state: &ProducerStateManager,
    pid: i64,
    first_offset: i64,
    marker_offset: i64,
) -> AbortedTxnEntry {
    AbortedTxnEntry {
        producer_id: pid,
        first_offset,
        last_offset: marker_offset,
        last_stable_offset: state
            .first_unstable_offset(Some(pid))
            .unwrap_or(marker_offset + 1),
    }
}

/// Replays the control batch `h` at `pos` on open (see the module docs),
/// adding the entry of an aborted transaction to `aborted`.
pub(crate) fn replay_marker(
    state: &mut ProducerStateManager,
    reader: &SegmentReader,
    pos: u64,
    h: &BatchHeader,
    aborted: &mut Vec<AbortedTxnEntry>,
) -> Result<()> {
    if !h.has_producer_id() {
        return Ok(());
    }
    let batch = reader.read_batch(pos, h)?;
    let Some(commit) = marker_is_commit(&batch) else {
        return Ok(());
    };
    let first = state.txn_first_offset(h.producer_id);
    let entry = first
        .filter(|_| !commit)
        .map(|f| aborted_entry(state, h.producer_id, f, h.base_offset));
    state.end_txn(h.producer_id, h.producer_epoch, h.max_timestamp);
    aborted.extend(entry);
    Ok(())
}

/// See `Log::last_stable_offset`. Never below the log start offset (as in
/// Kafka): retention or DeleteRecords may have removed the start of a
/// transaction that is still open.
pub(super) fn last_stable_offset(
    producers: &ProducerStateManager,
    log_start_offset: i64,
    log_end_offset: i64,
) -> i64 {
    producers
        .first_unstable_offset(None)
        .map_or(log_end_offset, |f| {
            f.max(log_start_offset).min(log_end_offset)
        })
}

/// The aborted transactions of a log and the `.txnindex` files written
/// since its last flush. Lives in the partition's `LocalLog`, under its
/// lock.
#[derive(Debug)]
pub(super) struct TxnState {
    /// Aborted transactions whose markers are in the log.
    aborted: AbortedTxns,
    /// `.txnindex` files written since the last flush (fsynced by it).
    unsynced: Vec<PathBuf>,
}

/// An aborted transaction's entry written to its `.txnindex` file but not
/// yet part of the state: see [`TxnState::write_abort`].
#[derive(Debug)]
pub(super) struct PendingAbort {
    entry: AbortedTxnEntry,
    segment: i64,
    /// Entries of the segment before this one.
    index: usize,
    path: PathBuf,
    /// The file was created (its directory entry needs an fsync).
    created: bool,
}

impl TxnState {
    /// The state loaded from the `.txnindex` files (`txn_index::load`),
    /// with the files not known to be durable.
    pub(super) fn new(aborted: AbortedTxns, unsynced: Vec<PathBuf>) -> Self {
        TxnState { aborted, unsynced }
    }

    /// Every aborted transaction, by marker offset.
    pub(super) fn aborted_entries(&self) -> &[AbortedTxnEntry] {
        self.aborted.entries()
    }

    /// The aborted transactions a `read_committed` fetch from
    /// `fetch_offset` below `upper` (the LSO) must be told of.
    pub(super) fn aborted_between(&self, fetch_offset: i64, upper: i64) -> Vec<AbortedTxn> {
        self.aborted.collect(fetch_offset, upper)
    }

    /// Forgets the transactions whose markers are below `offset` (their
    /// segments were deleted, `.txnindex` files with them).
    pub(super) fn remove_below(&mut self, offset: i64) {
        self.aborted.remove_below(offset);
    }

    /// Writes `entry` (the ABORT of a transaction whose marker goes into
    /// the segment based at `segment`, the active one) at the end of that
    /// segment's `.txnindex` in `dir`. The caller then appends the marker
    /// and calls [`TxnState::commit_abort`], or [`TxnState::undo_abort`] if
    /// that failed.
    pub(super) fn write_abort(
        &self,
        dir: &Path,
        segment: i64,
        entry: AbortedTxnEntry,
    ) -> Result<PendingAbort> {
        let index = self.aborted.count_from(segment);
        let (path, created) = txn_index::append(dir, segment, index, &entry)?;
        Ok(PendingAbort {
            entry,
            segment,
            index,
            path,
            created,
        })
    }

    /// Cuts the entry of `pending` off its file again (best effort, see
    /// `txn_index::truncate`).
    pub(super) fn undo_abort(dir: &Path, pending: &PendingAbort) {
        txn_index::truncate(dir, pending.segment, pending.index);
    }

    /// Makes `pending` part of the state once its marker is in the log.
    /// Returns whether its file was created (the partition directory then
    /// needs an fsync).
    pub(super) fn commit_abort(&mut self, pending: PendingAbort) -> bool {
        self.aborted.push(pending.entry);
        if !self.unsynced.contains(&pending.path) {
            self.unsynced.push(pending.path);
        }
        pending.created
    }

    /// The `.txnindex` files the next flush must fsync; give them back
    /// with [`TxnState::restore_unsynced`] if it fails.
    pub(super) fn take_unsynced(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.unsynced)
    }

    pub(super) fn restore_unsynced(&mut self, paths: Vec<PathBuf>) {
        self.unsynced.extend(paths);
    }
}

/// fsyncs `.txnindex` files written since the last flush (taken with
/// [`TxnState::take_unsynced`]); one that is gone meanwhile belonged to a
/// deleted segment.
pub(super) fn sync_txn_indexes(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        match File::open(p) {
            Ok(f) => f.sync_data().map_err(io_err("fsync", p))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("open", p)(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::record::{validate_batch, BATCH_HEADER_LEN};
    use crate::storage::test_util::*;
    use crate::storage::txn::tests::{committed_view, entries, txn, RU};
    use crate::storage::{Log, LogConfig};

    #[test]
    fn marker_batch_is_kafkas_format() {
        let b = marker_batch(7, 42, 3, true, 9, 1234, false);
        let h = validate_batch(&b).unwrap();
        assert!(h.is_control() && h.is_transactional());
        assert_eq!((h.producer_id, h.producer_epoch), (42, 3));
        assert_eq!((h.base_sequence, h.record_count, h.base_offset), (-1, 1, 7));
        assert_eq!(h.total_len(), b.len());
        assert!(b.len() > BATCH_HEADER_LEN);
        let r = RecordIter::new(&b).unwrap().next().unwrap().unwrap();
        assert_eq!(r.key.unwrap(), &[0, 0, 0, 1]);
        assert_eq!(r.value.unwrap(), &[0, 0, 0, 0, 0, 9]);
        assert_eq!(marker_is_commit(&b), Some(true));
        let a = marker_batch(0, 42, 3, false, 9, 1234, true);
        assert_eq!(marker_is_commit(&a), Some(false));
        assert!(validate_batch(&a).unwrap().timestamp_type_is_log_append());
    }

    /// A log with aborted transactions spread over several segments, the
    /// last one in the active segment and one transaction left open.
    /// Also returns the values a read_committed client must see, in order.
    fn txn_log(root: &std::path::Path) -> (Log, Vec<String>) {
        let log = open(root, small());
        let mut seq = [0i32; 4];
        // Values in offset order; `None` once known aborted.
        let mut values: Vec<Option<String>> = Vec::new();
        let mut pending: [Vec<usize>; 4] = Default::default();
        let end = |pid: i64,
                   commit: bool,
                   values: &mut Vec<Option<String>>,
                   pending: &mut [Vec<usize>; 4]| {
            log.write_txn_marker(pid, 0, commit, 0, 0).unwrap();
            for i in pending[pid as usize].drain(..) {
                if !commit {
                    values[i] = None;
                }
            }
        };
        for i in 0..40i64 {
            let pid = 1 + i % 3;
            let s = &mut seq[pid as usize];
            let v = format!("{pid}-{i}");
            log.append(txn(pid, 0, *s, 2, "k", &v), 0).unwrap();
            *s += 2;
            for _ in 0..2 {
                pending[pid as usize].push(values.len());
                values.push(Some(v.clone()));
            }
            log.append(batch(1, 0), 0).unwrap();
            values.push(Some("v".repeat(20)));
            if i % 4 == 3 {
                end(pid, i % 8 == 3, &mut values, &mut pending);
            }
        }
        // One left open (beyond the LSO, never seen), then every other
        // transaction ended, aborting the last one: the last write is an
        // abort, so the active segment has an entry.
        log.append(txn(4, 0, 0, 1, "k", "open"), 0).unwrap();
        for pid in 1..=3 {
            end(pid, pid != 3, &mut values, &mut pending);
        }
        assert!(log.segment_count() > 3);
        (log, values.into_iter().flatten().collect())
    }

    #[test]
    fn txn_index_survives_reopen_and_is_rebuilt_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let pd = pdir(dir.path());
        let (want, ongoing, lso, view) = {
            let (log, visible) = txn_log(dir.path());
            let seen: Vec<String> = committed_view(&log)
                .into_iter()
                .map(|(_, _, v)| v)
                .collect();
            assert_eq!(seen, visible);
            let e = entries(&log);
            assert!(e.len() >= 5, "{e:?}");
            let first_base = log.lock().sealed.keys().next().copied().unwrap();
            assert!(
                files_with_ext(&pd, "txnindex").len() > 1,
                "entries in several segments"
            );
            assert!(e
                .iter()
                .any(|x| x.last_offset >= log.lock().active.base_offset()));
            assert_eq!(first_base, 0);
            (
                e,
                log.ongoing_transactions(),
                log.last_stable_offset(),
                committed_view(&log),
            )
        };
        assert_eq!(ongoing.len(), 1);
        let check = |log: &Log, what: &str| {
            assert_eq!(entries(log), want, "{what}");
            assert_eq!(log.ongoing_transactions(), ongoing, "{what}");
            assert_eq!(log.last_stable_offset(), lso, "{what}");
            assert_eq!(committed_view(log), view, "{what}");
        };
        // SIGKILL-style: dropped without a checkpoint.
        check(&open(dir.path(), small()), "reopen after a crash");
        // Clean shutdown: everything from the snapshot at the log end.
        {
            let log = open(dir.path(), small());
            log.checkpoint().unwrap();
        }
        check(&open(dir.path(), small()), "reopen after a checkpoint");
        // A torn tail on every file: cut, nothing lost.
        let idx = files_with_ext(&pd, "txnindex");
        for f in &idx {
            let mut b = fs::read(f).unwrap();
            b.extend_from_slice(&[7u8; 20]);
            fs::write(f, b).unwrap();
        }
        check(&open(dir.path(), small()), "torn tails");
        for f in &idx {
            assert_eq!(fs::metadata(f).unwrap().len() % 34, 0, "{f:?} repaired");
        }
        // No snapshots and no index files: a full replay regenerates them.
        for f in files_with_ext(&pd, "snapshot").iter().chain(&idx) {
            fs::remove_file(f).unwrap();
        }
        check(&open(dir.path(), small()), "full replay");
        assert_eq!(files_with_ext(&pd, "txnindex"), idx);
    }

    #[test]
    fn an_abort_lost_with_the_log_tail_is_dropped_from_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let pd = pdir(dir.path());
        let (active_log, before, marker_len) = {
            let log = open(dir.path(), LogConfig::default());
            log.append(txn(1, 0, 0, 1, "k", "a"), 0).unwrap(); // 0
            log.write_txn_marker(1, 0, false, 0, 0).unwrap(); // 1
            log.append(txn(2, 0, 0, 1, "k", "b"), 0).unwrap(); // 2
            log.write_txn_marker(2, 0, false, 0, 0).unwrap(); // 3
            let marker = log.read(3, 1 << 20, true, RU).unwrap().records.len();
            log.checkpoint().unwrap(); // a snapshot *past* the lost marker
            (files_with_ext(&pd, "log")[0].clone(), entries(&log), marker)
        };
        assert_eq!(before.len(), 2);
        // The last marker is torn (never fully written).
        let len = fs::metadata(&active_log).unwrap().len();
        let f = fs::OpenOptions::new()
            .write(true)
            .open(&active_log)
            .unwrap();
        f.set_len(len - marker_len as u64 + 10).unwrap();
        drop(f);
        let log = open(dir.path(), LogConfig::default());
        assert_eq!(log.log_end_offset(), 3);
        assert_eq!(entries(&log), before[..1].to_vec());
        assert_eq!(log.ongoing_transactions(), vec![(2, 2)]);
        assert_eq!(log.last_stable_offset(), 2);
        assert_eq!(
            fs::metadata(files_with_ext(&pd, "txnindex")[0].clone())
                .unwrap()
                .len(),
            34
        );
        // The coordinator writes the marker again.
        log.write_txn_marker(2, 0, false, 0, 0).unwrap();
        assert_eq!(entries(&log), before);
    }

    #[test]
    fn a_missing_active_txn_index_is_regenerated() {
        let dir = tempfile::tempdir().unwrap();
        let want = {
            let (log, _) = txn_log(dir.path());
            entries(&log)
        };
        let pd = pdir(dir.path());
        let last = files_with_ext(&pd, "txnindex").pop().unwrap();
        fs::remove_file(&last).unwrap();
        let log = open(dir.path(), small());
        assert_eq!(entries(&log), want);
        assert!(last.exists());
    }

    #[test]
    fn an_interrupted_compaction_swap_keeps_the_aborted_transactions() {
        use crate::storage::file_names::{offset_file_path, swap_file_name, FileKind};
        for partial in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let pd = pdir(dir.path());
            let (want, bases) = {
                let (log, _) = txn_log(dir.path());
                log.checkpoint().unwrap();
                let inner = log.lock();
                let mut bases: Vec<i64> = inner.sealed.keys().copied().collect();
                bases.push(inner.active.base_offset());
                (inner.txn.aborted_entries().to_vec(), bases)
            };
            // A swap replacing two sealed segments that both hold aborts
            // with their concatenation (what a pass removing nothing
            // writes).
            let holds =
                |from: i64, to: i64| want.iter().any(|e| (from..to).contains(&e.last_offset));
            let i = (0..bases.len() - 2)
                .find(|&i| holds(bases[i], bases[i + 1]) && holds(bases[i + 1], bases[i + 2]))
                .unwrap();
            let (b0, b1, b2) = (bases[i], bases[i + 1], bases[i + 2]);
            let logs: Vec<u8> = [b0, b1]
                .iter()
                .flat_map(|&b| fs::read(offset_file_path(&pd, b, FileKind::Log)).unwrap())
                .collect();
            fs::write(pd.join(swap_file_name(b0, b2)), logs).unwrap();
            let in_group = want
                .iter()
                .filter(|e| (b0..b2).contains(&e.last_offset))
                .count();
            if partial {
                // The cleaner wrote the merged index, committed, and removed
                // the second segment before the crash.
                let merged = txn_index::merged(&pd, &[b0, b1]).unwrap();
                txn_index::write_entries(&pd, b0, &merged).unwrap();
                for kind in [
                    FileKind::Log,
                    FileKind::Index,
                    FileKind::TimeIndex,
                    FileKind::TxnIndex,
                ] {
                    let _ = fs::remove_file(offset_file_path(&pd, b1, kind));
                }
            }
            let log = open(dir.path(), small());
            assert_eq!(entries(&log), want, "partial={partial}");
            assert!(!offset_file_path(&pd, b1, FileKind::TxnIndex).exists());
            assert_eq!(
                fs::metadata(offset_file_path(&pd, b0, FileKind::TxnIndex))
                    .unwrap()
                    .len(),
                (in_group * 34) as u64
            );
        }
    }

    #[test]
    fn segment_deletion_takes_its_txn_index_along() {
        let dir = tempfile::tempdir().unwrap();
        let pd = pdir(dir.path());
        let (log, _) = txn_log(dir.path());
        let before = entries(&log);
        let idx = files_with_ext(&pd, "txnindex");
        let second_base = log.lock().sealed.keys().nth(2).copied().unwrap();
        log.delete_records(second_base).unwrap();
        let after = entries(&log);
        assert!(after.len() < before.len());
        assert!(after.iter().all(|e| e.last_offset >= second_base));
        let now = files_with_ext(&pd, "txnindex");
        assert!(now.len() < idx.len());
        // Every remaining file belongs to a remaining segment.
        let logs: Vec<_> = files_with_ext(&pd, "log")
            .iter()
            .map(|p| p.with_extension(""))
            .collect();
        assert!(now.iter().all(|p| logs.contains(&p.with_extension(""))));
        drop(log);
        assert_eq!(entries(&open(dir.path(), small())), after);
    }
}
