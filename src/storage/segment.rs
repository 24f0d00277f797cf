//! `LogSegment`: one `.log` file of concatenated v2 batches plus its
//! `.index` and `.timeindex` (Kafka's `LogSegment`).
//!
//! The `.log` file is nothing but whole batches back to back, exactly the
//! bytes the producer sent with the base offset (and for LogAppendTime
//! topics the timestamps) rewritten; there is no per-segment header. A
//! segment is named by its base offset (see `file_names`): the offset of
//! its first batch, or the log end offset when it was created.
//!
//! Thread safety: a `LogSegment` is not thread-safe; it lives inside the
//! partition's mutex. What may be used outside that mutex is the
//! [`SegmentReader`] snapshot (an `Arc<File>` plus the size at the time it
//! was taken), valid because segment files are append-only while the
//! broker runs: bytes below a captured size never change.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::error::{io_err, Result, StorageError};
use super::file_cache::CachedFile;
use super::file_names::{offset_file_path, FileKind};
use super::fs_util::OpenMode;
use super::log_config::LogConfig;
use super::offset_index::{OffsetIndex, OffsetPosition};
use super::time_index::{TimeIndex, TimestampOffset};
use crate::record::{complete_batches_prefix, BatchHeader, RecordError, BATCH_HEADER_LEN};

/// A segment's largest position must fit the 32-bit positions of the offset
/// index, and its relative offsets the 32-bit (Kafka: signed) relative
/// offsets of both indexes: a segment rolls before crossing either.
const MAX_SEGMENT_POSITION: u64 = i32::MAX as u64;
const MAX_RELATIVE_OFFSET: i64 = i32::MAX as i64;

#[derive(Debug)]
pub(crate) struct LogSegment {
    base_offset: i64,
    log_path: Arc<PathBuf>,
    log: CachedFile,
    /// Bytes of whole batches in the file; the next append goes here.
    size: u64,
    /// Offset after the last batch (`base_offset` while empty).
    next_offset: i64,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    /// Largest batch max-timestamp in the segment and that batch's base
    /// offset (`None` while empty).
    max_timestamp: Option<TimestampOffset>,
    bytes_since_last_index_entry: u64,
    /// Start of the `segment.ms` roll timer: the first append into this
    /// segment, or the open time if it already held data at startup (the
    /// append time of old data is not recorded anywhere).
    roll_timer_start_ms: Option<i64>,
}

/// What makes a segment roll before an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RollReason {
    Size,
    Time,
    IndexFull,
    OffsetOverflow,
}

impl LogSegment {
    /// Creates an empty active segment (truncating leftovers of the same
    /// name, which can only be an empty segment from an interrupted roll).
    pub(crate) fn create(dir: &Path, base_offset: i64, config: &LogConfig) -> Result<Self> {
        let log_path = offset_file_path(dir, base_offset, FileKind::Log);
        let log = CachedFile::open(&log_path, OpenMode::Truncate)?;
        let offset_index = OffsetIndex::create(
            &offset_file_path(dir, base_offset, FileKind::Index),
            base_offset,
            config.segment_index_bytes,
            &[],
            true,
        )?;
        let time_index = TimeIndex::create(
            &offset_file_path(dir, base_offset, FileKind::TimeIndex),
            base_offset,
            config.segment_index_bytes,
            &[],
            true,
        )?;
        Ok(LogSegment {
            base_offset,
            log_path: Arc::new(log_path),
            log,
            size: 0,
            next_offset: base_offset,
            offset_index,
            time_index,
            max_timestamp: None,
            bytes_since_last_index_entry: 0,
            roll_timer_start_ms: None,
        })
    }

    /// Opens a sealed (non-last) segment whose successor starts at
    /// `next_offset`, trusting its indexes after a sanity check. Any error
    /// means the caller should [`LogSegment::recover`] it instead.
    pub(crate) fn open_sealed(
        dir: &Path,
        base_offset: i64,
        next_offset: i64,
        config: &LogConfig,
    ) -> Result<Self> {
        let log_path = offset_file_path(dir, base_offset, FileKind::Log);
        let log = CachedFile::open(&log_path, OpenMode::Existing)?;
        let size = log
            .get()?
            .metadata()
            .map_err(io_err("stat", &log_path))?
            .len();
        let offset_index = OffsetIndex::open_sealed(
            &offset_file_path(dir, base_offset, FileKind::Index),
            base_offset,
            config.segment_index_bytes,
            size,
            next_offset,
        )?;
        let time_index = TimeIndex::open_sealed(
            &offset_file_path(dir, base_offset, FileKind::TimeIndex),
            base_offset,
            config.segment_index_bytes,
            next_offset,
        )?;
        // One `pread`: the last entry must point at the start of the batch
        // it names. Catches an index that was overwritten or belongs to
        // another log, not only one that runs past the end.
        if let Some(e) = offset_index.last_entry() {
            let reader = SegmentReader {
                base_offset,
                file: log.get()?,
                path: Arc::new(log_path.clone()),
                size,
            };
            let found = reader.header_at(e.position).ok().flatten();
            if found.is_none_or(|h| h.base_offset != e.offset) {
                return Err(StorageError::CorruptIndex {
                    path: offset_index.path().to_path_buf(),
                    reason: format!(
                        "last entry (offset {}, position {}) is not a batch start",
                        e.offset, e.position
                    ),
                });
            }
        }
        if size > 0 && time_index.last_entry().is_none() {
            // Sealing always writes a final time index entry for a
            // non-empty segment; without it the max timestamp is unknown.
            return Err(StorageError::CorruptIndex {
                path: time_index.path().to_path_buf(),
                reason: "empty time index for a non-empty segment".to_string(),
            });
        }
        Ok(LogSegment {
            base_offset,
            log_path: Arc::new(log_path),
            log,
            size,
            next_offset,
            max_timestamp: time_index.last_entry(),
            offset_index,
            time_index,
            bytes_since_last_index_entry: 0,
            roll_timer_start_ms: None,
        })
    }

    /// Rebuilds a segment from its `.log`: keeps the longest prefix of
    /// valid batches (length, magic, CRC, contiguous offsets), truncates the
    /// file after it, and writes fresh indexes. Returns the segment and the
    /// number of bytes dropped. `active` keeps the indexes in memory.
    pub(crate) fn recover(
        dir: &Path,
        base_offset: i64,
        config: &LogConfig,
        active: bool,
        now_ms: i64,
    ) -> Result<(Self, Option<(u64, RecordError)>)> {
        let log_path = offset_file_path(dir, base_offset, FileKind::Log);
        let log = CachedFile::open(&log_path, OpenMode::Existing)?;
        let file_len = log
            .get()?
            .metadata()
            .map_err(io_err("stat", &log_path))?
            .len();
        let mut seg = LogSegment {
            base_offset,
            log_path: Arc::new(log_path),
            log,
            size: 0,
            next_offset: base_offset,
            offset_index: OffsetIndex::create(
                &offset_file_path(dir, base_offset, FileKind::Index),
                base_offset,
                config.segment_index_bytes,
                &[],
                true,
            )?,
            time_index: TimeIndex::create(
                &offset_file_path(dir, base_offset, FileKind::TimeIndex),
                base_offset,
                config.segment_index_bytes,
                &[],
                true,
            )?,
            max_timestamp: None,
            bytes_since_last_index_entry: 0,
            roll_timer_start_ms: None,
        };
        let (log, path) = (seg.log.get()?, Arc::clone(&seg.log_path));
        let stop = super::batch_scan::scan_segment(
            &log,
            &path,
            file_len,
            base_offset,
            !active,
            |pos, h| seg.track_appended(pos, h, config.index_interval_bytes),
        )?;
        seg.finish_recovery(&log, file_len, stop, active, now_ms)
    }

    /// Opens the segment holding the recovery point `recovery_point`
    /// (`base_offset <= recovery_point`, below its successor's base).
    /// Everything below the recovery point was fsynced with its index
    /// entries, so those entries are kept (filtered: see
    /// `OffsetIndex::open_prefix`) and the batch headers from the last one
    /// up to the recovery point are only walked; the bytes from the
    /// recovery point on are validated and indexed as
    /// [`LogSegment::recover`] does, truncating a torn or corrupt tail.
    /// Any error means the trusted part does not match the log (or I/O
    /// failed): the caller falls back to [`LogSegment::recover`].
    pub(crate) fn recover_from(
        dir: &Path,
        base_offset: i64,
        recovery_point: i64,
        config: &LogConfig,
        active: bool,
        now_ms: i64,
    ) -> Result<(Self, Option<(u64, RecordError)>)> {
        let log_path = offset_file_path(dir, base_offset, FileKind::Log);
        let log = CachedFile::open(&log_path, OpenMode::Existing)?;
        let file = log.get()?;
        let file_len = file.metadata().map_err(io_err("stat", &log_path))?.len();
        let offset_index = OffsetIndex::open_prefix(
            &offset_file_path(dir, base_offset, FileKind::Index),
            base_offset,
            config.segment_index_bytes,
            recovery_point,
            file_len,
            active,
        )?;
        let time_index = TimeIndex::open_prefix(
            &offset_file_path(dir, base_offset, FileKind::TimeIndex),
            base_offset,
            config.segment_index_bytes,
            recovery_point,
            active,
        )?;
        let log_path = Arc::new(log_path);
        let mismatch = |reason: String| StorageError::CorruptIndex {
            path: offset_index.path().to_path_buf(),
            reason,
        };
        // Walk the (trusted, fsynced) headers from the last index entry
        // below the recovery point to the batch that starts there. Every
        // step is checked against what the index claims, so an index that
        // does not describe this log is noticed, not trusted.
        let start = offset_index.lookup(recovery_point)?;
        let reader = SegmentReader {
            base_offset,
            file: Arc::clone(&file),
            path: Arc::clone(&log_path),
            size: file_len,
        };
        let mut max_timestamp = time_index.last_entry();
        let (mut pos, mut next_offset) = (start.position, start.offset);
        // Until the end of the file, or the first batch past the recovery point.
        while let Some(h) = reader.header_at(pos)? {
            let first = pos == start.position;
            let ok = if first && start.position > 0 {
                h.base_offset == start.offset
            } else if active {
                h.base_offset == next_offset
            } else {
                h.base_offset >= next_offset
            };
            if !ok {
                return Err(mismatch(format!(
                    "batch at position {pos} has base offset {}, expected {next_offset}",
                    h.base_offset
                )));
            }
            if h.base_offset >= recovery_point {
                break; // the first batch past the recovery point
            }
            if h.last_offset() >= recovery_point {
                return Err(mismatch(format!(
                    "recovery point {recovery_point} inside the batch at position {pos}"
                )));
            }
            if max_timestamp.is_none_or(|m| h.max_timestamp > m.timestamp) {
                max_timestamp = Some(TimestampOffset {
                    timestamp: h.max_timestamp,
                    offset: h.base_offset,
                });
            }
            next_offset = h.next_offset();
            pos += h.total_len() as u64;
        }
        if next_offset < recovery_point && pos == file_len && active {
            // The log ends before the recovery point: the checkpoint
            // claims data that is not there.
            return Err(mismatch(format!(
                "log ends at offset {next_offset}, before the recovery point {recovery_point}"
            )));
        }
        let last_entry_position = offset_index.last_entry().map_or(0, |e| e.position);
        let mut seg = LogSegment {
            base_offset,
            log_path,
            log,
            size: pos,
            next_offset,
            offset_index,
            time_index,
            max_timestamp,
            // As if appended live: bytes since the last entry's batch start.
            bytes_since_last_index_entry: pos - last_entry_position.min(pos),
            roll_timer_start_ms: None,
        };
        let path = Arc::clone(&seg.log_path);
        let stop = super::batch_scan::scan_segment_from(
            &file,
            &path,
            file_len,
            base_offset,
            (pos, next_offset),
            !active,
            |at, h| seg.track_appended(at, h, config.index_interval_bytes),
        )?;
        seg.finish_recovery(&file, file_len, stop, active, now_ms)
    }

    /// The end of a recovery scan: cuts the file at the last valid batch if
    /// the scan stopped early (fsynced, so the cut survives a crash), starts
    /// the roll timer and seals a non-active segment. Returns the segment
    /// and, if bytes were dropped, how many and why.
    fn finish_recovery<E>(
        mut self,
        file: &File,
        file_len: u64,
        stop: Option<E>,
        active: bool,
        now_ms: i64,
    ) -> Result<(LogSegment, Option<(u64, E)>)> {
        let dropped = match stop {
            None => None,
            Some(err) => {
                let dropped = file_len - self.size;
                file.set_len(self.size)
                    .map_err(io_err("truncate", &self.log_path))?;
                file.sync_all().map_err(io_err("fsync", &self.log_path))?;
                Some((dropped, err))
            }
        };
        if self.size > 0 {
            self.roll_timer_start_ms = Some(now_ms);
        }
        if !active {
            self.seal()?;
        }
        Ok((self, dropped))
    }

    /// Makes a sealed segment the active one again (after the segments
    /// following it were dropped by recovery): reloads its indexes into
    /// memory and restarts the roll timer.
    pub(crate) fn unseal(&mut self, now_ms: i64) -> Result<()> {
        self.offset_index.unseal()?;
        self.time_index.unseal()?;
        if self.size > 0 {
            self.roll_timer_start_ms = Some(now_ms);
        }
        // The bytes since the last index entry are unknown after a reload;
        // counting from zero only delays the next entry.
        self.bytes_since_last_index_entry = 0;
        Ok(())
    }

    pub(crate) fn base_offset(&self) -> i64 {
        self.base_offset
    }

    pub(crate) fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn max_timestamp(&self) -> Option<TimestampOffset> {
        self.max_timestamp
    }

    /// The time retention measures this segment's age from (Kafka's
    /// `LogSegment.largestTimestamp`): its largest record timestamp, or the
    /// file's modification time when no record carries one. `None` for an
    /// empty segment.
    pub(crate) fn largest_time_ms(&self) -> Option<i64> {
        if self.size == 0 {
            return None;
        }
        match self.max_timestamp {
            Some(m) if m.timestamp >= 0 => Some(m.timestamp),
            _ => std::fs::metadata(self.log_path.as_path())
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64),
        }
    }

    /// The log file's modification time in ms (Kafka's `LogSegment.lastModified`),
    /// `None` if the file system cannot tell.
    pub(crate) fn last_modified_ms(&self) -> Option<i64> {
        std::fs::metadata(self.log_path.as_path())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
    }

    /// Why this segment must roll before taking a batch of `batch_len`
    /// bytes ending at `last_offset`, if it must. An empty segment never
    /// rolls: a batch larger than `segment.bytes` gets a segment of its own.
    pub(crate) fn should_roll(
        &self,
        batch_len: usize,
        last_offset: i64,
        config: &LogConfig,
        now_ms: i64,
    ) -> Option<RollReason> {
        if self.size == 0 {
            return None;
        }
        let new_size = self.size.saturating_add(batch_len as u64);
        if new_size > config.segment_bytes || new_size > MAX_SEGMENT_POSITION {
            Some(RollReason::Size)
        } else if self.time_to_roll(config, now_ms) {
            Some(RollReason::Time)
        } else if self.offset_index.is_full() || self.time_index.is_full() {
            Some(RollReason::IndexFull)
        } else if last_offset.saturating_sub(self.base_offset) > MAX_RELATIVE_OFFSET {
            Some(RollReason::OffsetOverflow)
        } else {
            None
        }
    }

    /// `segment.ms` has elapsed since the roll timer started.
    pub(crate) fn time_to_roll(&self, config: &LogConfig, now_ms: i64) -> bool {
        self.size > 0
            && self
                .roll_timer_start_ms
                .is_some_and(|t| now_ms.saturating_sub(t) >= config.segment_ms)
    }

    /// Appends one batch: `head` (the rewritten 61-byte header) then `body`
    /// (the untouched rest of the producer's bytes), so the batch is never
    /// copied. `h` describes the batch as written (assigned offsets).
    pub(crate) fn append(
        &mut self,
        head: &[u8; BATCH_HEADER_LEN],
        body: &[u8],
        h: &BatchHeader,
        index_interval_bytes: u32,
        now_ms: i64,
    ) -> Result<()> {
        let pos = self.size;
        let log = self.log.get()?;
        let write = log
            .write_all_at(head, pos)
            .and_then(|()| log.write_all_at(body, pos + BATCH_HEADER_LEN as u64));
        if let Err(e) = write {
            // Best effort: drop the partial batch so the file ends on a batch
            // boundary again. If this fails too, recovery trims it on open,
            // and the next append overwrites it anyway (writes go to `size`).
            let _ = log.set_len(pos);
            return Err(StorageError::io("append to", &self.log_path, e));
        }
        self.track_appended(pos, h, index_interval_bytes)?;
        self.roll_timer_start_ms.get_or_insert(now_ms);
        Ok(())
    }

    /// Bookkeeping after a batch landed at `pos`: index entries, max
    /// timestamp, size and next offset. Shared by append and recovery, so a
    /// rebuilt index is identical to the one written live.
    fn track_appended(
        &mut self,
        pos: u64,
        h: &BatchHeader,
        index_interval_bytes: u32,
    ) -> Result<()> {
        if self.bytes_since_last_index_entry > u64::from(index_interval_bytes)
            && !self.offset_index.is_full()
        {
            self.offset_index.append(h.base_offset, pos)?;
            if let Some(m) = self.max_timestamp {
                self.time_index.maybe_append(m.timestamp, m.offset, false)?;
            }
            self.bytes_since_last_index_entry = 0;
        }
        let len = h.total_len() as u64;
        self.bytes_since_last_index_entry += len;
        if self
            .max_timestamp
            .is_none_or(|m| h.max_timestamp > m.timestamp)
        {
            self.max_timestamp = Some(TimestampOffset {
                timestamp: h.max_timestamp,
                offset: h.base_offset,
            });
        }
        self.size = pos + len;
        self.next_offset = h.next_offset();
        Ok(())
    }

    /// The segment stops being active: record its max timestamp as the
    /// last time index entry and drop the in-memory index copies.
    pub(crate) fn seal(&mut self) -> Result<()> {
        if let Some(m) = self.max_timestamp {
            self.time_index.maybe_append(m.timestamp, m.offset, true)?;
        }
        self.offset_index.seal();
        self.time_index.seal();
        Ok(())
    }

    /// Position to start scanning from for `offset` (index lookup).
    pub(crate) fn lookup(&self, offset: i64) -> Result<OffsetPosition> {
        self.offset_index.lookup(offset)
    }

    /// Position to start scanning from for the first record with
    /// timestamp `>= ts`.
    pub(crate) fn lookup_timestamp(&self, ts: i64) -> Result<u64> {
        let offset = self.time_index.lookup(ts)?;
        Ok(self.offset_index.lookup(offset)?.position)
    }

    /// A reader over the bytes written so far, usable without the lock.
    pub(crate) fn reader(&self) -> Result<SegmentReader> {
        Ok(SegmentReader {
            base_offset: self.base_offset,
            file: self.log.get()?,
            path: Arc::clone(&self.log_path),
            size: self.size,
        })
    }

    /// Files to fsync to make this segment durable, for use outside the
    /// lock.
    pub(crate) fn sync_handles(&self) -> Result<[(Arc<File>, PathBuf); 3]> {
        Ok([
            (self.log.get()?, self.log_path.to_path_buf()),
            (
                self.offset_index.file()?,
                self.offset_index.path().to_path_buf(),
            ),
            (
                self.time_index.file()?,
                self.time_index.path().to_path_buf(),
            ),
        ])
    }

    /// The `.log` file, to fsync outside the lock.
    pub(crate) fn log_sync_handle(&self) -> Result<(Arc<File>, PathBuf)> {
        Ok((self.log.get()?, self.log_path.to_path_buf()))
    }

    /// Both index files, to fsync outside the lock.
    pub(crate) fn index_sync_handles(&self) -> Result<[(Arc<File>, PathBuf); 2]> {
        Ok([
            (
                self.offset_index.file()?,
                self.offset_index.path().to_path_buf(),
            ),
            (
                self.time_index.file()?,
                self.time_index.path().to_path_buf(),
            ),
        ])
    }

    /// fsyncs the log and both indexes.
    pub(crate) fn sync_all(&self) -> Result<()> {
        for (f, path) in self.sync_handles()? {
            f.sync_all().map_err(io_err("fsync", &path))?;
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn index_entries(&self) -> Result<(Vec<OffsetPosition>, Vec<TimestampOffset>)> {
        Ok((self.offset_index.entries()?, self.time_index.entries()?))
    }

    #[cfg(test)]
    pub(crate) fn sync(&self) -> Result<()> {
        for (f, path) in self.sync_handles()? {
            f.sync_data().map_err(io_err("fsync", &path))?;
        }
        Ok(())
    }
}

/// Reads at least this long are served from a file mapping rather than a
/// heap copy (`SegmentReader::read_shared`); below it a `pread` is cheaper
/// than setting up and tearing down a mapping.
const MAP_MIN_BYTES: usize = 64 * 1024;

/// A read-only mapping of part of a segment file, owning the memory of the
/// `Bytes` a fetch returns; unmapped when the last clone is dropped.
struct MappedRange(memmap2::Mmap);

impl AsRef<[u8]> for MappedRange {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Read access to a prefix of a segment file without holding the partition
/// lock (see the module docs for why that is safe).
#[derive(Debug, Clone)]
pub(crate) struct SegmentReader {
    pub(crate) base_offset: i64,
    file: Arc<File>,
    path: Arc<PathBuf>,
    /// Only bytes below this are read: whole batches, all below the high
    /// watermark at the time the reader was made.
    pub(crate) size: u64,
}

impl SegmentReader {
    fn read_exact(&self, pos: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, pos)
            .map_err(io_err("read", &self.path))?;
        Ok(buf)
    }

    /// The batch header at `pos`, or `None` at the end. Data below `size`
    /// was validated on the way in, so a bad header here is reported as a
    /// record error rather than skipped.
    pub(crate) fn header_at(&self, pos: u64) -> Result<Option<BatchHeader>> {
        if pos >= self.size {
            return Ok(None);
        }
        let avail = (self.size - pos).min(BATCH_HEADER_LEN as u64) as usize;
        let buf = self.read_exact(pos, avail)?;
        let h = BatchHeader::parse(&buf)?;
        if h.total_len() < BATCH_HEADER_LEN || pos + h.total_len() as u64 > self.size {
            return Err(RecordError::InvalidLength {
                batch_length: h.batch_length,
                available: (self.size - pos) as usize,
            }
            .into());
        }
        Ok(Some(h))
    }

    /// From `pos` (a batch boundary), the first batch that is not entirely
    /// before `offset`, i.e. whose last offset is `>= offset`.
    pub(crate) fn find_batch(
        &self,
        mut pos: u64,
        offset: i64,
    ) -> Result<Option<(u64, BatchHeader)>> {
        while let Some(h) = self.header_at(pos)? {
            if h.last_offset() >= offset {
                return Ok(Some((pos, h)));
            }
            pos += h.total_len() as u64;
        }
        Ok(None)
    }

    /// Whole batches starting with `first` at `pos`, at most `max_bytes` of
    /// them, except that if `min_one_batch` the first batch is returned
    /// whole even when larger (KIP-74). Never a partial batch.
    pub(crate) fn read_batches(
        &self,
        pos: u64,
        first: &BatchHeader,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<Bytes> {
        let first_len = first.total_len();
        if first_len > max_bytes {
            return if min_one_batch {
                self.read_shared(pos, first_len)
            } else {
                Ok(Bytes::new())
            };
        }
        let avail = self.size.saturating_sub(pos);
        let want = (max_bytes as u64).min(avail) as usize;
        let data = self.read_shared(pos, want)?;
        let (whole, _) = complete_batches_prefix(&data)?;
        Ok(data.slice(..whole))
    }

    /// `len` bytes at `pos` (below `size`) as `Bytes`. Large reads map the
    /// range instead of copying it (see [`MappedRange`]): a fetch of 32
    /// partitions × 1 MiB then holds no heap buffers at all, the response
    /// writer sends straight from the page cache, and each range is unmapped
    /// as soon as it has been sent.
    fn read_shared(&self, pos: u64, len: usize) -> Result<Bytes> {
        if len < MAP_MIN_BYTES || pos + len as u64 > self.size {
            return Ok(Bytes::from(self.read_exact(pos, len)?));
        }
        // SAFETY: `memmap2` maps `[pos, pos + len)` of the file read-only.
        // Mapped file memory is only sound while the file is not truncated
        // below the mapped range (SIGBUS) or rewritten in it (data changing
        // under a `&[u8]`). Both hold for bytes below a reader's `size`
        // (checked above) for as long as the process runs: segment files are
        // append-only; the only truncations are recovery's at open, before
        // any reader exists, and a failed append's, which cuts at the
        // segment's size, at or above every reader's `size`; a segment that
        // leaves the log (retention, DeleteRecords, compaction, topic
        // deletion) is unlinked or renamed over, never truncated, and an
        // unlinked file's pages stay valid for existing mappings. `LogSegment::create`
        // truncates only a new segment's name, which no reader maps (an
        // empty active segment has `size` 0).
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(pos)
                .len(len)
                .map(&*self.file)
        };
        match map {
            Ok(map) => Ok(Bytes::from_owner(MappedRange(map))),
            // Out of mappings (`vm.max_map_count`, thousands of fetches in
            // flight) or address space: a copy still serves the fetch.
            Err(_) => Ok(Bytes::from(self.read_exact(pos, len)?)),
        }
    }

    /// The whole batch at `pos`.
    pub(crate) fn read_batch(&self, pos: u64, h: &BatchHeader) -> Result<Vec<u8>> {
        self.read_exact(pos, h.total_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{header_copy, validate_batch, BatchBuilder, NewRecord};

    fn batch(base: i64, n: usize, ts: i64, value_len: usize) -> Vec<u8> {
        let recs: Vec<_> = (0..n)
            .map(|i| NewRecord::new(ts + i as i64, vec![b'x'; value_len]))
            .collect();
        BatchBuilder::new(base, ts).build(&recs)
    }

    fn append(seg: &mut LogSegment, b: &[u8], interval: u32) -> BatchHeader {
        let h = validate_batch(b).unwrap();
        let head = header_copy(b).unwrap();
        seg.append(&head, &b[BATCH_HEADER_LEN..], &h, interval, 0)
            .unwrap();
        h
    }

    fn cfg() -> LogConfig {
        LogConfig {
            index_interval_bytes: 100,
            ..LogConfig::default()
        }
    }

    #[test]
    fn append_read_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = LogSegment::create(dir.path(), 10, &cfg()).unwrap();
        let mut positions = Vec::new();
        let mut off = 10;
        for i in 0..20 {
            positions.push(seg.size());
            let b = batch(off, 3, 1000 + i * 10, 20);
            let h = append(&mut seg, &b, 100);
            off = h.next_offset();
        }
        assert_eq!(seg.next_offset(), 70);
        let (oi, ti) = seg.index_entries().unwrap();
        assert!(!oi.is_empty() && !ti.is_empty());
        // Every index entry points at the start of the batch with that base.
        for e in &oi {
            let k = ((e.offset - 10) / 3) as usize;
            assert_eq!(positions[k], e.position);
        }
        let r = seg.reader().unwrap();
        for target in 10..70 {
            let start = seg.lookup(target).unwrap();
            let (pos, h) = r.find_batch(start.position, target).unwrap().unwrap();
            assert!(h.base_offset <= target && target <= h.last_offset());
            assert_eq!(pos, positions[((h.base_offset - 10) / 3) as usize]);
        }
        assert!(r.find_batch(0, 70).unwrap().is_none());
        // max_bytes cuts on batch boundaries; min_one_batch returns a whole big batch.
        let (pos, h) = r.find_batch(0, 10).unwrap().unwrap();
        let one = h.total_len();
        let got = r.read_batches(pos, &h, one * 2 + 5, true).unwrap();
        assert_eq!(got.len(), one * 2);
        let got = r.read_batches(pos, &h, 10, true).unwrap();
        assert_eq!(got.len(), one);
        assert!(r.read_batches(pos, &h, 10, false).unwrap().is_empty());
        // Batch i spans timestamps 1000+10i ..= 1000+10i+2, so the first
        // timestamp >= 1105 is in batch 11: the time index must point at or
        // before it, and never past it.
        let pos = seg.lookup_timestamp(1105).unwrap();
        let (_, h) = r.find_batch(pos, 0).unwrap().unwrap();
        assert!(h.base_offset <= 10 + 11 * 3);
        assert!(
            seg.lookup_timestamp(1105).unwrap() > 0,
            "the time index skipped ahead"
        );
        seg.seal().unwrap();
        assert_eq!(seg.max_timestamp().unwrap().timestamp, 1000 + 19 * 10 + 2);
    }

    #[test]
    fn large_reads_are_mapped_and_survive_unlink() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = LogSegment::create(dir.path(), 0, &cfg()).unwrap();
        let mut off = 0;
        while seg.size() < 3 * MAP_MIN_BYTES as u64 {
            let b = batch(off, 10, 1000, 500);
            off = append(&mut seg, &b, 4096).next_offset();
        }
        let r = seg.reader().unwrap();
        let (pos, h) = r.find_batch(0, 0).unwrap().unwrap();
        let want = std::fs::read(offset_file_path(dir.path(), 0, FileKind::Log)).unwrap();
        let got = r.read_batches(pos, &h, 2 * MAP_MIN_BYTES, true).unwrap();
        assert!(got.len() > MAP_MIN_BYTES && got.len() <= 2 * MAP_MIN_BYTES);
        assert_eq!(&got[..], &want[..got.len()]);
        crate::record::validate_batches(&got).unwrap();
        // A mapping taken before the segment is deleted stays readable,
        // and so do new reads through the reader's descriptor.
        std::fs::remove_file(offset_file_path(dir.path(), 0, FileKind::Log)).unwrap();
        drop(seg);
        assert_eq!(&got[..], &want[..got.len()]);
        let again = r.read_batches(pos, &h, usize::MAX, true).unwrap();
        assert_eq!(&again[..], &want[..]);
    }

    #[test]
    fn sealed_reopen_matches_and_roll_rules() {
        let dir = tempfile::tempdir().unwrap();
        let c = LogConfig {
            segment_bytes: 1000,
            index_interval_bytes: 50,
            segment_ms: 100,
            ..LogConfig::default()
        };
        let mut seg = LogSegment::create(dir.path(), 0, &c).unwrap();
        assert_eq!(
            seg.should_roll(10_000, 0, &c, 1_000_000),
            None,
            "empty never rolls"
        );
        let b = batch(0, 2, 5, 10);
        let h = validate_batch(&b).unwrap();
        seg.append(&header_copy(&b).unwrap(), &b[61..], &h, 50, 1_000)
            .unwrap();
        assert_eq!(seg.should_roll(100, 2, &c, 1_050), None);
        assert_eq!(seg.should_roll(1000, 2, &c, 1_050), Some(RollReason::Size));
        assert_eq!(seg.should_roll(100, 2, &c, 1_100), Some(RollReason::Time));
        assert_eq!(
            seg.should_roll(100, i32::MAX as i64 + 1, &c, 1_050),
            Some(RollReason::OffsetOverflow)
        );
        for _ in 0..5 {
            let b = batch(seg.next_offset(), 2, 7, 10);
            append(&mut seg, &b, 50);
        }
        seg.seal().unwrap();
        seg.sync().unwrap();
        let before = seg.index_entries().unwrap();
        let re = LogSegment::open_sealed(dir.path(), 0, seg.next_offset(), &c).unwrap();
        assert_eq!(re.index_entries().unwrap(), before);
        assert_eq!(re.size(), seg.size());
        assert_eq!(re.max_timestamp(), seg.max_timestamp());
        // A recovered segment rebuilds exactly the same indexes.
        let (rec, dropped) = LogSegment::recover(dir.path(), 0, &c, false, 0).unwrap();
        assert!(dropped.is_none());
        assert_eq!(rec.index_entries().unwrap(), before);
        // Wrong successor offset → sanity check fails.
        assert!(LogSegment::open_sealed(dir.path(), 0, 1, &c).is_err());
    }
}
