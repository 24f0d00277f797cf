//! Loading a partition directory at startup (Kafka's `LogLoader`).
//!
//! Unclean shutdown is the normal case, so every open is a recovery, bounded
//! by the *recovery point* (Kafka's recovery-point-offset-checkpoint): the
//! `recovery-point` file of the partition says that every offset below it
//! was fsynced, data and index entries (see [`read_recovery_point`]). It is
//! written at clean shutdown (= the log end: nothing is rescanned on the
//! next start) and at most every 60 s while flushes advance it.
//! 0. a compaction swap that was committed (`<base>.<end>.swap` exists) but
//!    not finished is completed: every segment based in `[base, end)` is
//!    removed with its indexes and the swap file becomes `<base>.log` (its
//!    indexes are rebuilt in step 3); the cleaner's scratch directory
//!    (uncommitted cleaned segments) is removed;
//! 1. stray `*.tmp` files and index files without a `.log` are removed;
//! 2. every segment wholly below the recovery point is opened *sealed*,
//!    trusting its indexes after a sanity check (whole entries, last entry
//!    inside the log, below the next segment's base and at the start of
//!    the batch it names, a max timestamp present); a segment that fails
//!    the check is recovered as in step 3;
//! 3. the segment holding the recovery point keeps its index entries below
//!    it and is *recovered from there* (`LogSegment::recover_from`); every
//!    segment after it is *recovered* whole: batches are walked validating
//!    length, magic, contiguous offsets and CRC-32C; at the first torn or
//!    corrupt batch the `.log` is truncated there (a `warn` line says how
//!    many bytes were dropped) and the indexes are rebuilt from the valid
//!    batches. If a *sealed* segment had to be truncated, the segments
//!    after it are deleted: offsets must stay contiguous. Anything in the
//!    trusted part that does not match the log falls back to recovering
//!    that segment whole. Without a recovery point (a data dir from before
//!    it existed) the sealed segments are trusted after the sanity check
//!    and the last one is recovered whole, as before;
//! 4. the log end offset is the last valid batch's last offset + 1 (the
//!    base offset of an empty last segment);
//! 5. producer state is loaded from the newest valid snapshot at or below
//!    the log end offset and brought up to date by replaying the batch
//!    headers after it (see `producer_state`); the replay also reads the
//!    type of each transaction marker, ends transactions and regenerates
//!    the aborted-transaction entries of the replayed range, which replace
//!    those in the `.txnindex` files (see `txn_index::load`).
//!
//! Indexes are never checksummed, only rebuilt. A recovery point that
//! recovery had to lower (a truncation below it) is rewritten durably
//! before the log takes writes, so a stale higher value can never make a
//! later open trust what is appended there next.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::Path;

use tracing::warn;

use super::error::{io_err, Result};
use super::file_names::{
    offset_file_path, parse_offset_file, parse_swap_file, FileKind, CLEANER_SCRATCH_DIR,
    RECOVERY_POINT_CHECKPOINT, TMP_SUFFIX,
};
use super::fs_util::{fsync_dir, write_atomically};
use super::log_config::LogConfig;
use super::producer_state::ProducerStateManager;
use super::segment::LogSegment;
use super::txn;
use super::txn_index::{self, AbortedTxnEntry};
use crate::record::{validate_batch, BatchHeader, RecordError, BATCH_HEADER_LEN};

/// Recovery reads the log in chunks of this size (one `pread` per chunk
/// rather than two per batch).
const SCAN_CHUNK_BYTES: usize = 1 << 20;

/// Relative offsets are stored in 32 bits (Kafka: signed int).
const MAX_RELATIVE_OFFSET: i64 = i32::MAX as i64;

/// Sliding window over a file for sequential scanning.
struct ChunkReader<'a> {
    file: &'a File,
    path: &'a Path,
    file_len: u64,
    start: u64,
    buf: Vec<u8>,
}

impl<'a> ChunkReader<'a> {
    /// `len` bytes at `pos` (the caller checked `pos + len <= file_len`).
    fn get(&mut self, pos: u64, len: usize) -> Result<&[u8]> {
        let end = pos + len as u64;
        if pos < self.start || end > self.start + self.buf.len() as u64 {
            let want = len
                .max(SCAN_CHUNK_BYTES)
                .min((self.file_len - pos) as usize);
            self.buf.resize(want, 0);
            self.file
                .read_exact_at(&mut self.buf, pos)
                .map_err(io_err("read", self.path))?;
            self.start = pos;
        }
        let at = (pos - self.start) as usize;
        // Within the window by construction unless the file shrank under us.
        self.buf
            .get(at..at + len)
            .ok_or_else(|| io_err("read", self.path)(std::io::ErrorKind::UnexpectedEof.into()))
    }
}

/// Walks the batches of a segment file of `file_len` bytes whose base
/// offset is `base_offset`, calling `on_batch(position, header)` for each
/// valid one, and returns why it stopped early (`None` = the whole file is
/// valid). Only I/O errors (and errors from `on_batch`) are `Err`: damage
/// is an expected outcome, not a failure.
pub(crate) fn scan_segment(
    file: &File,
    path: &Path,
    file_len: u64,
    base_offset: i64,
    allow_gaps: bool,
    on_batch: impl FnMut(u64, &BatchHeader) -> Result<()>,
) -> Result<Option<RecordError>> {
    scan_segment_from(
        file,
        path,
        file_len,
        base_offset,
        (0, base_offset),
        allow_gaps,
        on_batch,
    )
}

/// [`scan_segment`] starting at byte `from.0`, a batch boundary where the
/// batch with base offset `from.1` starts (the recovery point: the bytes
/// before it are trusted, see `LogSegment::recover_from`).
pub(crate) fn scan_segment_from(
    file: &File,
    path: &Path,
    file_len: u64,
    base_offset: i64,
    from: (u64, i64),
    allow_gaps: bool,
    mut on_batch: impl FnMut(u64, &BatchHeader) -> Result<()>,
) -> Result<Option<RecordError>> {
    let (mut pos, mut expected) = from;
    let mut reader = ChunkReader {
        file,
        path,
        file_len,
        start: pos,
        buf: Vec::new(),
    };
    while pos < file_len {
        let remaining = file_len - pos;
        if remaining < BATCH_HEADER_LEN as u64 {
            return Ok(Some(RecordError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: remaining as usize,
            }));
        }
        let h = match BatchHeader::parse(reader.get(pos, BATCH_HEADER_LEN)?) {
            Ok(h) => h,
            Err(e) => return Ok(Some(e)),
        };
        let total = h.total_len();
        if h.batch_length < crate::record::MIN_BATCH_LENGTH {
            return Ok(Some(RecordError::InvalidLength {
                batch_length: h.batch_length,
                available: remaining as usize,
            }));
        }
        if total as u64 > remaining {
            return Ok(Some(RecordError::Truncated {
                needed: total,
                available: remaining as usize,
            }));
        }
        // Appends assign offsets contiguously, so in the active segment any
        // other base offset is damage to the 21 bytes the CRC does not
        // cover. Sealed segments may have been compacted, which leaves gaps
        // (never overlaps): there the base offset may only grow.
        let in_order = if allow_gaps {
            h.base_offset >= expected
        } else {
            h.base_offset == expected
        };
        if !in_order {
            return Ok(Some(RecordError::InvalidRecord(
                "batch offsets not contiguous",
            )));
        }
        // Appends (and the cleaner) always write leader epoch 0 (one
        // replica); anything else is damage to uncovered bytes too.
        if h.partition_leader_epoch != 0 {
            return Ok(Some(RecordError::InvalidRecord(
                "unexpected partition leader epoch",
            )));
        }
        if h.last_offset().saturating_sub(base_offset) > MAX_RELATIVE_OFFSET {
            return Ok(Some(RecordError::InvalidRecord(
                "batch offset outside the segment's range",
            )));
        }
        if let Err(e) = validate_batch(reader.get(pos, total)?) {
            return Ok(Some(e));
        }
        on_batch(pos, &h)?;
        expected = h.next_offset();
        pos += total as u64;
    }
    Ok(None)
}

/// The segments of a loaded partition.
#[derive(Debug)]
pub(crate) struct LoadedSegments {
    pub(crate) sealed: BTreeMap<i64, LogSegment>,
    pub(crate) active: LogSegment,
    /// Bytes dropped from torn/corrupt tails, and whole segments deleted.
    pub(crate) truncated_bytes: u64,
    pub(crate) deleted_segments: usize,
    /// The recovery point checkpoint found (see [`read_recovery_point`]),
    /// which the loading above relied on; `None` if there was none.
    pub(crate) recovery_point: Option<i64>,
}

/// Steps 1-4 of the module docs for the partition directory `dir`.
pub(crate) fn load_segments(
    dir: &Path,
    name: &str,
    config: &LogConfig,
    now_ms: i64,
) -> Result<LoadedSegments> {
    complete_swaps(dir, name)?;
    let mut logs = Vec::new();
    let mut indexes = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if file_name.ends_with(&format!(".{TMP_SUFFIX}")) {
            let p = entry.path();
            fs::remove_file(&p).map_err(io_err("remove", &p))?;
            continue;
        }
        match parse_offset_file(file_name) {
            Some((base, FileKind::Log)) => logs.push(base),
            Some((base, kind @ (FileKind::Index | FileKind::TimeIndex | FileKind::TxnIndex))) => {
                indexes.push((base, kind))
            }
            _ => {}
        }
    }
    logs.sort_unstable();
    for (base, kind) in indexes {
        if logs.binary_search(&base).is_err() {
            let p = offset_file_path(dir, base, kind);
            fs::remove_file(&p).map_err(io_err("remove orphan index", &p))?;
        }
    }
    let Some(&last) = logs.last() else {
        return Ok(LoadedSegments {
            sealed: BTreeMap::new(),
            active: LogSegment::create(dir, 0, config)?,
            truncated_bytes: 0,
            deleted_segments: 0,
            recovery_point: None,
        });
    };
    let recovery_point = read_recovery_point(dir);
    let mut sealed = BTreeMap::new();
    let mut truncated_bytes = 0;
    for (i, pair) in logs.windows(2).enumerate() {
        let (base, next_base) = (pair[0], pair[1]);
        let attempt = match recovery_point {
            // Written after the last flush the checkpoint knows of: scanned
            // like the active segment.
            Some(rp) if rp < base => None,
            // Holds the recovery point: trusted below it, scanned after.
            Some(rp) if rp < next_base => Some(LogSegment::recover_from(
                dir, base, rp, config, false, now_ms,
            )),
            // Wholly below it (or no checkpoint: the rule before recovery
            // points existed): indexes trusted after a sanity check.
            _ => Some(LogSegment::open_sealed(dir, base, next_base, config).map(|s| (s, None))),
        };
        let (mut seg, dropped) = match attempt {
            Some(Ok(found)) => found,
            Some(Err(e)) => {
                warn!(partition = name, segment = base, error = %e,
                    "rebuilding the indexes of a sealed segment");
                LogSegment::recover(dir, base, config, false, now_ms)?
            }
            None => LogSegment::recover(dir, base, config, false, now_ms)?,
        };
        if dropped.is_none() && seg.next_offset() <= next_base {
            sealed.insert(base, seg);
            continue;
        }
        match &dropped {
            Some((bytes, why)) => {
                truncated_bytes += bytes;
                warn!(partition = name, segment = base, bytes, error = %why,
                    "truncated a corrupt sealed segment; dropping the segments after it");
            }
            None => {
                warn!(
                    partition = name,
                    segment = base,
                    "sealed segment overlaps its successor; dropping the segments after it"
                )
            }
        }
        seg.unseal(now_ms)?;
        let later = &logs[i + 1..];
        truncated_bytes += delete_segments(dir, later)?;
        return Ok(LoadedSegments {
            sealed,
            active: seg,
            truncated_bytes,
            deleted_segments: later.len(),
            recovery_point,
        });
    }
    let attempt = match recovery_point {
        Some(rp) if last <= rp => Some(LogSegment::recover_from(
            dir, last, rp, config, true, now_ms,
        )),
        _ => None,
    };
    let (active, dropped) = match attempt {
        Some(Ok(found)) => found,
        Some(Err(e)) => {
            warn!(partition = name, segment = last, error = %e,
                "the active segment does not match its recovery point; recovering all of it");
            LogSegment::recover(dir, last, config, true, now_ms)?
        }
        None => LogSegment::recover(dir, last, config, true, now_ms)?,
    };
    if let Some((bytes, why)) = dropped {
        warn!(partition = name, segment = last, bytes, error = %why,
            "truncated the torn or corrupt tail of the active segment");
        truncated_bytes += bytes;
    }
    Ok(LoadedSegments {
        sealed,
        active,
        truncated_bytes,
        deleted_segments: 0,
        recovery_point,
    })
}

/// Step 0 of the module docs.
fn complete_swaps(dir: &Path, name: &str) -> Result<()> {
    let scratch = dir.join(CLEANER_SCRATCH_DIR);
    if scratch.exists() {
        fs::remove_dir_all(&scratch).map_err(io_err("remove", &scratch))?;
    }
    let mut swaps = Vec::new();
    let mut logs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if let Some(range) = parse_swap_file(&file_name) {
            swaps.push((range, entry.path()));
        } else if let Some((base, FileKind::Log)) = parse_offset_file(&file_name) {
            logs.push(base);
        }
    }
    if swaps.is_empty() {
        return Ok(());
    }
    for ((base, end), path) in swaps {
        let replaced: Vec<i64> = logs
            .iter()
            .copied()
            .filter(|b| (base..end).contains(b))
            .collect();
        warn!(
            partition = name,
            segment = base,
            end,
            replaced = replaced.len(),
            "completing an interrupted compaction swap"
        );
        // The new segment's aborted transactions are those of the segments
        // it replaces (offsets do not change): merge their files into
        // `<base>.txnindex` before removing them, so that a crash in
        // between leaves them all in place for the next attempt.
        let mut sources = replaced.clone();
        if !sources.contains(&base) {
            sources.push(base); // its `.log` went already; its index may hold the merge
        }
        let aborted = txn_index::merged(dir, &sources)?;
        txn_index::write_entries(dir, base, &aborted)?;
        let others: Vec<i64> = replaced.iter().copied().filter(|&b| b != base).collect();
        delete_segments(dir, &others)?;
        // Its indexes, if any survived, describe the old file: rebuild.
        for kind in [FileKind::Index, FileKind::TimeIndex] {
            let p = offset_file_path(dir, base, kind);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("remove", &p)(e)),
            }
        }
        let target = offset_file_path(dir, base, FileKind::Log);
        fs::rename(&path, &target).map_err(io_err("rename swap into place", &path))?;
    }
    fsync_dir(dir)
}

/// Deletes the segments with the given base offsets; returns the bytes of
/// log data removed.
pub(crate) fn delete_segments(dir: &Path, bases: &[i64]) -> Result<u64> {
    let mut bytes = 0;
    for &base in bases {
        bytes += fs::metadata(offset_file_path(dir, base, FileKind::Log))
            .map(|m| m.len())
            .unwrap_or(0);
        for kind in [
            FileKind::Log,
            FileKind::Index,
            FileKind::TimeIndex,
            FileKind::TxnIndex,
        ] {
            let p = offset_file_path(dir, base, kind);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("remove", &p)(e)),
            }
        }
    }
    fsync_dir(dir)?;
    Ok(bytes)
}

/// The recovery point checkpoint of the partition directory `dir`:
/// every offset below it was fsynced (log and indexes) before the file was
/// written. `None` if missing or not intact: the file is written without
/// fsync between flushes (see [`write_recovery_point`]), so after a crash
/// it may be empty or torn, and then the loader falls back to the rule
/// that needs no checkpoint. The check value makes a torn number that
/// still parses (a prefix of the digits) impossible to mistake for one.
pub(crate) fn read_recovery_point(dir: &Path) -> Option<i64> {
    let text = fs::read_to_string(dir.join(RECOVERY_POINT_CHECKPOINT)).ok()?;
    let (offset, check) = text.strip_suffix('\n')?.split_once(' ')?;
    if check != format!("{:08x}", crc32c::crc32c(offset.as_bytes())) {
        return None;
    }
    offset.parse().ok().filter(|o: &i64| *o >= 0)
}

/// Writes the recovery point checkpoint (see [`read_recovery_point`]).
/// `durable` fsyncs the file and the directory (clean shutdown, and after
/// open lowered the recovery point: a stale *higher* value must never
/// survive a crash). Otherwise it is only renamed into place: losing the
/// update leaves the older, lower value, which is always safe.
pub(crate) fn write_recovery_point(dir: &Path, offset: i64, durable: bool) -> Result<()> {
    let path = dir.join(RECOVERY_POINT_CHECKPOINT);
    let text = format!(
        "{offset} {:08x}\n",
        crc32c::crc32c(offset.to_string().as_bytes())
    );
    if durable {
        return write_atomically(&path, text.as_bytes());
    }
    let tmp = dir.join(format!("{RECOVERY_POINT_CHECKPOINT}.{TMP_SUFFIX}"));
    fs::write(&tmp, text).map_err(io_err("write", &tmp))?;
    fs::rename(&tmp, &path).map_err(io_err("rename into place", &path))
}

/// Snapshot offsets present in `dir`, ascending.
pub(crate) fn list_snapshots(dir: &Path) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        if let Some((offset, FileKind::Snapshot)) =
            entry.file_name().to_str().and_then(parse_offset_file)
        {
            out.push(offset);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Writes `<offset>.snapshot` (bytes from
/// `ProducerStateManager::encode_snapshot`). `durable` adds fsyncs (clean shutdown); at
/// roll time the CRC is relied on instead (see `producer_state`). Keeps the
/// newest two snapshots and removes older ones.
pub(crate) fn write_snapshot(dir: &Path, offset: i64, bytes: &[u8], durable: bool) -> Result<()> {
    let path = offset_file_path(dir, offset, FileKind::Snapshot);
    if durable {
        write_atomically(&path, bytes)?;
    } else {
        let tmp = path.with_extension(format!("snapshot.{TMP_SUFFIX}"));
        fs::write(&tmp, bytes).map_err(io_err("write", &tmp))?;
        fs::rename(&tmp, &path).map_err(io_err("rename into place", &path))?;
    }
    let snaps = list_snapshots(dir)?;
    for &old in snaps.iter().rev().skip(2) {
        let p = offset_file_path(dir, old, FileKind::Snapshot);
        fs::remove_file(&p).map_err(io_err("remove old snapshot", &p))?;
    }
    Ok(())
}

/// Producer state rebuilt on open.
#[derive(Debug)]
pub(crate) struct RebuiltProducerState {
    pub(crate) state: ProducerStateManager,
    /// The batches from this offset on were replayed.
    pub(crate) replayed_from: i64,
    /// Aborted transactions whose marker was replayed, by marker offset.
    pub(crate) aborted: Vec<AbortedTxnEntry>,
}

/// Step 5: producer state as of `log_end`. Snapshots above `log_end`
/// (left behind by a truncation) and unreadable ones are deleted.
pub(crate) fn rebuild_producer_state(
    dir: &Path,
    name: &str,
    sealed: &BTreeMap<i64, LogSegment>,
    active: &LogSegment,
    log_start: i64,
    log_end: i64,
) -> Result<RebuiltProducerState> {
    let mut state = None;
    let mut from = log_start;
    for offset in list_snapshots(dir)?.into_iter().rev() {
        let path = offset_file_path(dir, offset, FileKind::Snapshot);
        if state.is_none() && offset <= log_end && offset >= log_start {
            let bytes = fs::read(&path).map_err(io_err("read", &path))?;
            match ProducerStateManager::decode_snapshot(&bytes) {
                Ok(s) => {
                    state = Some(s);
                    from = offset;
                    continue;
                }
                Err(why) => warn!(
                    partition = name,
                    snapshot = offset,
                    why,
                    "ignoring unreadable producer snapshot"
                ),
            }
        } else if state.is_some() && offset <= log_end {
            continue; // an older, still valid snapshot: keep it
        }
        fs::remove_file(&path).map_err(io_err("remove snapshot", &path))?;
    }
    let mut state = state.unwrap_or_default();
    let mut aborted = Vec::new();
    let segments = sealed.values().chain(std::iter::once(active));
    for seg in segments.filter(|s| s.next_offset() > from) {
        let reader = seg.reader()?;
        let mut pos = if seg.base_offset() < from {
            seg.lookup(from)?.position
        } else {
            0
        };
        while let Some(h) = reader.header_at(pos)? {
            if h.base_offset >= from {
                if h.is_control() {
                    txn::replay_marker(&mut state, &reader, pos, &h, &mut aborted)?;
                } else {
                    state.update(&h);
                }
            }
            pos += h.total_len() as u64;
        }
    }
    Ok(RebuiltProducerState {
        state,
        replayed_from: from,
        aborted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BatchBuilder, NewRecord};
    use std::io::Write;

    fn write_batches(path: &Path, n: i64) -> Vec<u64> {
        let mut f = fs::File::create(path).unwrap();
        let mut ends = Vec::new();
        let mut total = 0u64;
        for i in 0..n {
            let b = BatchBuilder::new(i * 2, 100 + i).build(&[
                NewRecord::new(100 + i, vec![b'a'; 30]),
                NewRecord::new(101 + i, vec![b'b'; 30]),
            ]);
            f.write_all(&b).unwrap();
            total += b.len() as u64;
            ends.push(total);
        }
        ends
    }

    #[test]
    fn scan_stops_at_every_torn_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let ends = write_batches(&p, 4);
        let full = fs::read(&p).unwrap();
        for cut in 0..=full.len() {
            fs::write(&p, &full[..cut]).unwrap();
            let f = File::open(&p).unwrap();
            let mut n = 0;
            let stop = scan_segment(&f, &p, cut as u64, 0, false, |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut as u64).count();
            assert_eq!(n, whole, "cut {cut}");
            assert_eq!(
                stop.is_none(),
                ends.contains(&(cut as u64)) || cut == 0,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn scan_rejects_non_contiguous_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let a = BatchBuilder::new(5, 0).build(&[NewRecord::new(0, b"x".to_vec())]);
        let b = BatchBuilder::new(5, 0).build(&[NewRecord::new(0, b"y".to_vec())]);
        fs::write(&p, [a.clone(), b].concat()).unwrap();
        let f = File::open(&p).unwrap();
        let len = f.metadata().unwrap().len();
        let mut n = 0;
        let stop = scan_segment(&f, &p, len, 5, false, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 1);
        assert!(matches!(stop, Some(RecordError::InvalidRecord(_))));
        // A batch below the segment base is rejected too, gaps or not.
        let stop = scan_segment(&f, &p, len, 6, false, |_, _| Ok(())).unwrap();
        assert!(stop.is_some());
        let stop = scan_segment(&f, &p, len, 6, true, |_, _| Ok(())).unwrap();
        assert!(stop.is_some());
        // Gaps (a compacted segment) are fine where allowed, overlaps never.
        let c = BatchBuilder::new(9, 0).build(&[NewRecord::new(0, b"z".to_vec())]);
        fs::write(&p, [a, c].concat()).unwrap();
        let f = File::open(&p).unwrap();
        let len = f.metadata().unwrap().len();
        assert!(scan_segment(&f, &p, len, 5, true, |_, _| Ok(()))
            .unwrap()
            .is_none());
        assert!(scan_segment(&f, &p, len, 5, false, |_, _| Ok(()))
            .unwrap()
            .is_some());
    }
}
