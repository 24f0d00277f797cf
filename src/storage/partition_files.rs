//! The small files of a partition directory beside its segments (Kafka's
//! `CheckpointFile`s and `ProducerStateManager`'s snapshot files): the
//! recovery point, the one-number checkpoints (`log-start-offset`,
//! `cleaner-offset`), producer state snapshots, and removing a segment's
//! files. Written by the log while it runs, read by the loader
//! (`recovery`) when it opens one; no file here knows what a segment holds.

use std::fs;
use std::path::Path;

use super::error::{io_err, Result};
use super::file_names::{
    offset_file_path, parse_offset_file, FileKind, RECOVERY_POINT_CHECKPOINT, TMP_SUFFIX,
};
use super::fs_util::{fsync_dir, write_atomically};

/// Reads a checkpoint file holding one decimal offset; `None` if missing
/// or unreadable (checkpoints only ever move offsets forward, so losing
/// one is safe).
pub(crate) fn read_checkpoint(path: &Path) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
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
