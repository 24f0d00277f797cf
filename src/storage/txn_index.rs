//! Aborted transactions of one partition (Kafka's `TransactionIndex` /
//! `AbortedTxn`): the `.txnindex` file next to each segment's `.log`, and
//! the in-memory list built from those files that `read_committed` fetches
//! and the cleaner consult.
//!
//! An entry is written when an ABORT marker ends an ongoing transaction,
//! into the `.txnindex` of the segment the marker goes to (the active one),
//! so a segment's file holds exactly the aborted transactions whose marker
//! (`last_offset`) lies in it. Segments without one have no file. Kafka's
//! 34-byte entry, big-endian:
//!
//! ```text
//!  version i16 = 0 | producer_id i64 | first_offset i64 | last_offset i64
//!  | last_stable_offset i64
//! ```
//!
//! `first_offset` is the transaction's first offset on this partition,
//! `last_offset` the marker's offset, `last_stable_offset` the LSO right
//! after the marker (first offset of the earliest other ongoing
//! transaction, else the marker's offset + 1). The latter lets a lookup
//! stop early: a later entry cannot start below an earlier entry's LSO.
//!
//! Memory: unlike Kafka, which reads a segment's index lazily on fetch,
//! every entry is loaded on open and kept (34 bytes each, one per aborted
//! transaction still in the log); entries leave with their segment. Reads
//! never touch the files, so, unlike the other segment files, they are not
//! kept open (`file_cache`): a write opens the file, writes and closes it.
//!
//! Crash safety: an entry is written (at its place computed from memory,
//! so a failed write is overwritten by the next) *before* its marker is
//! appended, and the file is fsynced with the segment by the log's flush.
//! On open (`load`), each file is cut at the first entry that is torn,
//! unknown, out of order or outside its segment, entries at or past the
//! offset from which producer state is replayed are dropped, and the replay
//! regenerates them (see `recovery::rebuild_producer_state`). A compaction
//! swap merges the replaced segments' files into the new segment's (see
//! `cleaner` and `recovery::complete_swaps`).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tracing::warn;

use super::error::{io_err, Result};
use super::file_names::{offset_file_path, FileKind};
use super::fs_util::{open_file, write_atomically, OpenMode};
use crate::record::BatchHeader;

/// Bytes per entry.
pub(crate) const ENTRY_LEN: usize = 34;
/// The only entry version (Kafka's `AbortedTxn.CURRENT_VERSION`).
const ENTRY_VERSION: i16 = 0;

/// An aborted transaction as Kafka's FetchResponse reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    /// The producer whose transaction was aborted.
    pub producer_id: i64,
    /// The transaction's first offset on this partition.
    pub first_offset: i64,
}

/// One `.txnindex` entry (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AbortedTxnEntry {
    pub(crate) producer_id: i64,
    pub(crate) first_offset: i64,
    pub(crate) last_offset: i64,
    pub(crate) last_stable_offset: i64,
}

impl AbortedTxnEntry {
    pub(crate) fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut b = [0u8; ENTRY_LEN];
        b[0..2].copy_from_slice(&ENTRY_VERSION.to_be_bytes());
        b[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        b[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        b[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        b[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        b
    }

    /// `None` for an unknown version or offsets that cannot be right.
    pub(crate) fn decode(b: &[u8; ENTRY_LEN]) -> Option<Self> {
        let i64_at = |at: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[at..at + 8]);
            i64::from_be_bytes(a)
        };
        if i16::from_be_bytes([b[0], b[1]]) != ENTRY_VERSION {
            return None;
        }
        let e = AbortedTxnEntry {
            producer_id: i64_at(2),
            first_offset: i64_at(10),
            last_offset: i64_at(18),
            last_stable_offset: i64_at(26),
        };
        let sane = e.producer_id >= 0
            && e.first_offset >= 0
            && e.first_offset < e.last_offset
            && e.last_stable_offset >= 0;
        sane.then_some(e)
    }
}

/// Every aborted transaction whose marker is still in the log, by marker
/// offset (the order they were written in).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct AbortedTxns {
    entries: Vec<AbortedTxnEntry>,
}

impl AbortedTxns {
    pub(crate) fn entries(&self) -> &[AbortedTxnEntry] {
        &self.entries
    }

    /// Adds an entry; its marker is after every other one.
    pub(crate) fn push(&mut self, e: AbortedTxnEntry) {
        debug_assert!(self
            .entries
            .last()
            .is_none_or(|l| l.last_offset < e.last_offset));
        self.entries.push(e);
    }

    /// Number of entries with a marker at or after `offset` (for the active
    /// segment based there: the entries in its file).
    pub(crate) fn count_from(&self, offset: i64) -> usize {
        let i = self.entries.partition_point(|e| e.last_offset < offset);
        self.entries.len() - i
    }

    /// Forgets entries whose marker is below `offset` (their segments were
    /// deleted).
    pub(crate) fn remove_below(&mut self, offset: i64) {
        let i = self.entries.partition_point(|e| e.last_offset < offset);
        self.entries.drain(..i);
    }

    /// The aborted transactions a fetch starting at `fetch_offset` whose
    /// last returned batch ends before `upper` must report (Kafka's
    /// `collectAbortedTxns`): those ending at or after the fetch offset
    /// and starting before `upper`.
    pub(crate) fn collect(&self, fetch_offset: i64, upper: i64) -> Vec<AbortedTxn> {
        let i = self
            .entries
            .partition_point(|e| e.last_offset < fetch_offset);
        let mut out = Vec::new();
        for e in &self.entries[i..] {
            if e.first_offset < upper {
                out.push(AbortedTxn {
                    producer_id: e.producer_id,
                    first_offset: e.first_offset,
                });
            }
            // Every later entry starts at or after this one's LSO.
            if e.last_stable_offset >= upper {
                break;
            }
        }
        out
    }
}

/// Which data batches belong to an aborted transaction (for the cleaner,
/// which drops them): those of the producer between the transaction's first
/// offset and its ABORT marker. A producer's transactions never overlap.
#[derive(Debug, Default)]
pub(crate) struct AbortedBatches {
    /// Per producer, `(first_offset, marker offset)` by first offset.
    by_producer: HashMap<i64, Vec<(i64, i64)>>,
}

impl AbortedBatches {
    pub(crate) fn new(entries: &[AbortedTxnEntry]) -> Self {
        let mut by_producer: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for e in entries {
            by_producer
                .entry(e.producer_id)
                .or_default()
                .push((e.first_offset, e.last_offset));
        }
        for v in by_producer.values_mut() {
            v.sort_unstable();
        }
        AbortedBatches { by_producer }
    }

    /// `h` is a transactional data batch of an aborted transaction.
    pub(crate) fn contains(&self, h: &BatchHeader) -> bool {
        if !h.is_transactional() || h.is_control() || !h.has_producer_id() {
            return false;
        }
        let Some(v) = self.by_producer.get(&h.producer_id) else {
            return false;
        };
        let i = v.partition_point(|&(first, _)| first <= h.base_offset);
        i > 0 && h.base_offset < v[i - 1].1
    }
}

fn path(dir: &Path, base: i64) -> PathBuf {
    offset_file_path(dir, base, FileKind::TxnIndex)
}

/// The entries of the `.txnindex` of segment `base`, up to the first that
/// does not decode (a torn tail, garbage); empty if there is no file.
fn read_file(dir: &Path, base: i64) -> Result<(Vec<AbortedTxnEntry>, u64)> {
    let p = path(dir, base);
    let bytes = match fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(io_err("read", &p)(e)),
    };
    let mut out = Vec::with_capacity(bytes.len() / ENTRY_LEN);
    for chunk in bytes.chunks_exact(ENTRY_LEN) {
        let Some(e) = <&[u8; ENTRY_LEN]>::try_from(chunk)
            .ok()
            .and_then(AbortedTxnEntry::decode)
        else {
            break;
        };
        out.push(e);
    }
    Ok((out, bytes.len() as u64))
}

/// Replaces the `.txnindex` of segment `base` with `entries` durably;
/// removes it when there are none.
pub(crate) fn write_entries(dir: &Path, base: i64, entries: &[AbortedTxnEntry]) -> Result<()> {
    let p = path(dir, base);
    if entries.is_empty() {
        return match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &p)(e)),
        };
    }
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.encode()).collect();
    write_atomically(&p, &bytes)
}

/// Writes `e` as entry number `n` of segment `base`'s file (creating it),
/// cutting anything after it (left by an earlier failed write). Returns the
/// path and whether the file was created (its directory entry then needs
/// an fsync).
pub(crate) fn append(
    dir: &Path,
    base: i64,
    n: usize,
    e: &AbortedTxnEntry,
) -> Result<(PathBuf, bool)> {
    let p = path(dir, base);
    let created = !p.exists();
    let f = open_file(
        &p,
        if created {
            OpenMode::Truncate
        } else {
            OpenMode::Existing
        },
    )?;
    let at = (n * ENTRY_LEN) as u64;
    f.write_all_at(&e.encode(), at)
        .and_then(|()| f.set_len(at + ENTRY_LEN as u64))
        .map_err(io_err("append to", &p))?;
    Ok((p, created))
}

/// Best effort: cuts segment `base`'s file back to `n` entries after the
/// marker an entry was written for could not be appended. If this fails
/// too, the entry points past the log end: the next entry overwrites it,
/// and recovery drops it (it is beyond the replay start).
pub(crate) fn truncate(dir: &Path, base: i64, n: usize) {
    let p = path(dir, base);
    let cut = open_file(&p, OpenMode::Existing).and_then(|f| {
        f.set_len((n * ENTRY_LEN) as u64)
            .map_err(io_err("truncate", &p))
    });
    if let Err(e) = cut {
        warn!(path = %p.display(), error = %e, "could not undo a transaction index entry");
    }
}

/// Loads every segment's entries on open. `segments` are `(base, next
/// offset)` in order; entries with a marker at or after `replay_from` are
/// replaced by `replayed` (regenerated by the producer state replay, by
/// marker offset). Files are rewritten where they differ from the result.
pub(crate) fn load(
    dir: &Path,
    name: &str,
    segments: &[(i64, i64)],
    replay_from: i64,
    replayed: &[AbortedTxnEntry],
) -> Result<AbortedTxns> {
    let mut all = AbortedTxns::default();
    for &(base, next) in segments {
        let (on_disk, file_len) = read_file(dir, base)?;
        let mut kept: Vec<AbortedTxnEntry> = Vec::with_capacity(on_disk.len());
        let mut prev = all.entries.last().map_or(i64::MIN, |e| e.last_offset);
        for e in &on_disk {
            let fits = e.last_offset >= base
                && e.last_offset < next
                && e.last_offset < replay_from
                && e.last_offset > prev;
            if !fits {
                break;
            }
            prev = e.last_offset;
            kept.push(*e);
        }
        kept.extend(
            replayed
                .iter()
                .filter(|e| e.last_offset >= base && e.last_offset < next && e.last_offset > prev),
        );
        let unchanged = kept.len() == on_disk.len()
            && kept == on_disk
            && file_len == (kept.len() * ENTRY_LEN) as u64;
        if !unchanged {
            warn!(
                partition = name,
                segment = base,
                entries_on_disk = on_disk.len(),
                entries = kept.len(),
                "rewriting the transaction index"
            );
            write_entries(dir, base, &kept)?;
        }
        all.entries.extend(kept);
    }
    Ok(all)
}

/// The `.txnindex` files that may hold entries not yet fsynced when the
/// log opens with everything from `flushed` on still to be flushed: those
/// of the segments reaching past it that have entries (written before a
/// crash into the page cache, which survives the process).
pub(crate) fn unsynced_files(
    dir: &Path,
    segments: &[(i64, i64)],
    all: &AbortedTxns,
    flushed: i64,
) -> Vec<PathBuf> {
    segments
        .iter()
        .filter(|&&(base, next)| {
            next > flushed
                && all
                    .entries
                    .iter()
                    .any(|e| (base..next).contains(&e.last_offset))
        })
        .map(|&(base, _)| path(dir, base))
        .collect()
}

/// The entries of the segments `bases` together, by marker offset (for a
/// compaction swap: the new segment's file).
pub(crate) fn merged(dir: &Path, bases: &[i64]) -> Result<Vec<AbortedTxnEntry>> {
    let mut v = Vec::new();
    for &b in bases {
        v.extend(read_file(dir, b)?.0);
    }
    v.sort_unstable_by_key(|e| e.last_offset);
    v.dedup_by_key(|e| e.last_offset);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pid: i64, first: i64, last: i64, lso: i64) -> AbortedTxnEntry {
        AbortedTxnEntry {
            producer_id: pid,
            first_offset: first,
            last_offset: last,
            last_stable_offset: lso,
        }
    }

    #[test]
    fn entry_roundtrip_and_layout() {
        let x = e(7, 10, 20, 21);
        let b = x.encode();
        assert_eq!(&b[0..2], &[0, 0]);
        assert_eq!(&b[2..10], &7i64.to_be_bytes());
        assert_eq!(&b[26..34], &21i64.to_be_bytes());
        assert_eq!(AbortedTxnEntry::decode(&b), Some(x));
        let mut bad = b;
        bad[1] = 1;
        assert_eq!(AbortedTxnEntry::decode(&bad), None);
        assert_eq!(AbortedTxnEntry::decode(&[0u8; ENTRY_LEN]), None);
        // An LSO of 0: another transaction was open from the first offset.
        let zero = e(7, 10, 20, 0);
        assert_eq!(AbortedTxnEntry::decode(&zero.encode()), Some(zero));
    }

    #[test]
    fn collect_matches_kafka() {
        let mut a = AbortedTxns::default();
        a.push(e(1, 0, 5, 3)); // producer 2's txn from 3 still open
        a.push(e(2, 3, 9, 10));
        a.push(e(1, 12, 15, 16));
        let ids = |v: Vec<AbortedTxn>| v.iter().map(|t| t.producer_id).collect::<Vec<_>>();
        assert_eq!(ids(a.collect(0, 3)), vec![1]);
        assert_eq!(ids(a.collect(0, 4)), vec![1, 2]);
        assert_eq!(ids(a.collect(6, 100)), vec![2, 1]);
        assert_eq!(ids(a.collect(10, 12)), Vec::<i64>::new());
        assert_eq!(ids(a.collect(16, 100)), Vec::<i64>::new());
        assert_eq!(a.count_from(6), 2);
        a.remove_below(6);
        assert_eq!(a.entries().len(), 2);
    }

    #[test]
    fn load_cuts_torn_and_out_of_range_entries_and_adds_replayed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Segment 0..10: two good entries, then a torn one.
        let mut bytes = [e(1, 0, 4, 5).encode(), e(2, 1, 8, 9).encode()].concat();
        bytes.extend_from_slice(&e(3, 2, 9, 10).encode()[..20]);
        fs::write(path(d, 0), &bytes).unwrap();
        // Segment 10..20: one entry past the replay start (regenerated).
        fs::write(path(d, 10), e(4, 10, 15, 16).encode()).unwrap();
        let replayed = [e(4, 10, 15, 16), e(5, 11, 17, 18)];
        let a = load(d, "t-0", &[(0, 10), (10, 20)], 12, &replayed).unwrap();
        let lasts: Vec<i64> = a.entries().iter().map(|e| e.last_offset).collect();
        assert_eq!(lasts, vec![4, 8, 15, 17]);
        assert_eq!(fs::read(path(d, 0)).unwrap().len(), 2 * ENTRY_LEN);
        assert_eq!(fs::read(path(d, 10)).unwrap().len(), 2 * ENTRY_LEN);
        // A second load changes nothing.
        let again = load(d, "t-0", &[(0, 10), (10, 20)], 20, &[]).unwrap();
        assert_eq!(again, a);
        // An entry beyond the (now shorter) log is dropped, the file removed.
        let cut = load(d, "t-0", &[(0, 10), (10, 12)], 12, &[]).unwrap();
        assert_eq!(cut.entries().len(), 2);
        assert!(!path(d, 10).exists());
    }

    #[test]
    fn append_overwrites_a_failed_tail() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (_, created) = append(d, 0, 0, &e(1, 0, 3, 4)).unwrap();
        assert!(created);
        let (_, created) = append(d, 0, 1, &e(1, 5, 6, 7)).unwrap();
        assert!(!created);
        // Entry 1 was never committed: the next one takes its place.
        append(d, 0, 1, &e(2, 5, 9, 10)).unwrap();
        assert_eq!(
            read_file(d, 0).unwrap().0,
            vec![e(1, 0, 3, 4), e(2, 5, 9, 10)]
        );
        truncate(d, 0, 1);
        assert_eq!(read_file(d, 0).unwrap().0.len(), 1);
        assert_eq!(merged(d, &[0, 10]).unwrap().len(), 1);
    }
}
