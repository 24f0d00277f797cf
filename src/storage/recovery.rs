//! Loading a partition directory at startup (Kafka's `LogLoader`):
//! [`load_log`] recovers the directory, builds its `LocalLog` (segments,
//! offsets, producer and transaction state) and the flushed offset, and
//! hands them to `Log::open`; nothing calls back into this module after
//! that (segments validate themselves through `batch_scan`).
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
use std::fs;
use std::path::Path;

use tracing::{info, warn};

use super::error::{io_err, Result};
use super::file_names::{
    offset_file_path, parse_offset_file, parse_swap_file, FileKind, CLEANER_CHECKPOINT,
    CLEANER_SCRATCH_DIR, LOG_START_CHECKPOINT, TMP_SUFFIX,
};
use super::fs_util::{create_dir_durable, fsync_dir};
use super::local_log::{max_timestamp_of, LocalLog};
use super::log_config::LogConfig;
use super::partition_files::{
    delete_segments, list_snapshots, read_checkpoint, read_recovery_point, write_recovery_point,
};
use super::producer_state::ProducerStateManager;
use super::segment::LogSegment;
use super::txn_index::{self, AbortedTxnEntry};
use super::txn_state::{self, TxnState};
use crate::record::TopicPartition;

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
                    txn_state::replay_marker(&mut state, &reader, pos, &h, &mut aborted)?;
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

/// A partition loaded from its directory, ready to be wrapped in a `Log`.
#[derive(Debug)]
pub(super) struct LoadedLog {
    pub(super) local: LocalLog,
    /// Every offset below this is on stable storage.
    pub(super) flushed_offset: i64,
    /// The recovery point on disk and when it was written: `now_ms`, or
    /// `i64::MIN` for a new partition (its first checkpoint is due at the
    /// first flush, not a whole interval later).
    pub(super) recovery_checkpoint: (i64, i64),
}

/// Loads (recovering if needed, see the module docs) the partition
/// directory `dir` of `tp`, creating it if missing, and builds its
/// `LocalLog`. Logs one `info` line with the outcome.
pub(super) fn load_log(
    dir: &Path,
    tp: &TopicPartition,
    config: LogConfig,
    now_ms: i64,
) -> Result<LoadedLog> {
    if !dir.exists() {
        create_dir_durable(dir)?;
    }
    let name = tp.to_string();
    let loaded = load_segments(dir, &name, &config, now_ms)?;
    let active = loaded.active;
    let sealed = loaded.sealed;
    let next_offset = active.next_offset();
    let first_base = sealed
        .keys()
        .next()
        .copied()
        .unwrap_or(active.base_offset());
    // DeleteRecords may have moved the start into the first segment.
    let log_start_offset = read_checkpoint(&dir.join(LOG_START_CHECKPOINT))
        .map_or(first_base, |c| c.clamp(first_base, next_offset));
    let first_dirty_offset = read_checkpoint(&dir.join(CLEANER_CHECKPOINT))
        .map_or(log_start_offset, |c| c.clamp(log_start_offset, next_offset));
    let rebuilt =
        rebuild_producer_state(dir, &name, &sealed, &active, log_start_offset, next_offset)?;
    let producers = rebuilt.state;
    let segment_ranges: Vec<(i64, i64)> = sealed
        .values()
        .chain(std::iter::once(&active))
        .map(|s| (s.base_offset(), s.next_offset()))
        .collect();
    let aborted = txn_index::load(
        dir,
        &name,
        &segment_ranges,
        rebuilt.replayed_from,
        &rebuilt.aborted,
    )?;
    // Offsets below the recovery point were fsynced before the crash or
    // clean shutdown; the rest is as durable as the flush policy made
    // it, and the next flush covers it. Without a checkpoint (a data dir
    // from before recovery points) the active segment is made durable
    // once instead, so that `flushed_offset` can start at the log end.
    // A new, empty partition has nothing to flush or recover.
    let empty = sealed.is_empty() && active.size() == 0;
    let flushed_offset = match loaded.recovery_point {
        Some(rp) => rp.min(next_offset),
        None if empty => next_offset,
        None => {
            for (file, path) in active.sync_handles()? {
                file.sync_data().map_err(io_err("fsync", &path))?;
            }
            next_offset
        }
    };
    // Rewritten durably when it moved down (a truncation below it: a
    // stale higher value would make the next open trust whatever is
    // appended there next) or was missing.
    if loaded.recovery_point != Some(flushed_offset) && !empty {
        write_recovery_point(dir, flushed_offset, true)?;
    }
    let max_timestamp = max_timestamp_of(sealed.values().chain(std::iter::once(&active)));
    info!(
        partition = %name,
        log_start_offset,
        log_end_offset = next_offset,
        segments = sealed.len() + 1,
        producers = producers.len(),
        truncated_bytes = loaded.truncated_bytes,
        deleted_segments = loaded.deleted_segments,
        "loaded partition"
    );
    let unsynced = txn_index::unsynced_files(dir, &segment_ranges, &aborted, flushed_offset);
    let recovery_checkpoint = (
        flushed_offset,
        if loaded.recovery_point.is_some() || !empty {
            now_ms
        } else {
            i64::MIN
        },
    );
    Ok(LoadedLog {
        local: LocalLog {
            config,
            sealed_bytes: sealed.values().map(LogSegment::size).sum(),
            sealed,
            active,
            next_offset,
            log_start_offset,
            max_timestamp,
            producers,
            dir_dirty: false,
            first_dirty_offset,
            txn: TxnState::new(aborted, unsynced),
        },
        flushed_offset,
        recovery_checkpoint,
    })
}
