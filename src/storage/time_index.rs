//! `TimeIndex`: the `.timeindex` file mapping timestamps to offsets, used by
//! ListOffsets-by-timestamp (Kafka's `TimeIndex`).
//!
//! ```text
//!  entry (12 bytes, big-endian), timestamps strictly increasing:
//!  +-------------------------------+---------------------------+
//!  | timestamp: i64                | relative offset: u32      |
//!  +-------------------------------+---------------------------+
//! ```
//!
//! An entry `(ts, off)` says: the largest timestamp among all batches up to
//! and including the batch starting at offset `off` is `ts`, and the
//! batch at `off` holds it. Entries are added alongside offset index
//! entries (every `index.interval.bytes`) when the segment's max timestamp
//! has grown since the last entry, and once more when the segment is
//! sealed, so a sealed segment's last entry is its max timestamp.
//!
//! `lookup(ts)` returns the offset of the last entry whose timestamp is
//! *strictly below* `ts` (every record at or before that batch is older
//! than `ts`), or the segment base: the caller scans forward from there.
//!
//! Like the offset index, never checksummed, rebuilt after a crash.

use std::path::Path;

use super::error::Result;
use super::index_file::{IndexEntry, IndexFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeEntry {
    pub(crate) timestamp: i64,
    pub(crate) relative_offset: u32,
}

impl IndexEntry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.relative_offset.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&b[..8]);
        TimeEntry {
            timestamp: i64::from_be_bytes(ts),
            relative_offset: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
}

/// A (timestamp, absolute offset) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimestampOffset {
    pub(crate) timestamp: i64,
    pub(crate) offset: i64,
}

#[derive(Debug)]
pub(crate) struct TimeIndex {
    base_offset: i64,
    file: IndexFile<TimeEntry>,
}

impl TimeIndex {
    pub(crate) fn create(
        path: &Path,
        base_offset: i64,
        max_bytes: u32,
        entries: &[TimestampOffset],
        active: bool,
    ) -> Result<Self> {
        let rel = entries
            .iter()
            .map(|e| TimeEntry {
                timestamp: e.timestamp,
                relative_offset: (e.offset - base_offset) as u32,
            })
            .collect();
        Ok(TimeIndex {
            base_offset,
            file: IndexFile::create(path, max_bytes, rel, active)?,
        })
    }

    /// Opens a sealed time index; the last entry must point below
    /// `next_offset`. Any error means "rebuild".
    pub(crate) fn open_sealed(
        path: &Path,
        base_offset: i64,
        max_bytes: u32,
        next_offset: i64,
    ) -> Result<Self> {
        let idx = TimeIndex {
            base_offset,
            file: IndexFile::open_sealed(path, max_bytes)?,
        };
        if let Some(last) = idx.file.last() {
            let offset = base_offset + i64::from(last.relative_offset);
            if offset >= next_offset {
                return Err(idx.file.corrupt(format!(
                    "last entry offset {offset} beyond next offset {next_offset}"
                )));
            }
        }
        Ok(idx)
    }

    /// Opens the time index of the segment holding the recovery point,
    /// keeping the entries for offsets below `below` while timestamps
    /// keep increasing (see `OffsetIndex::open_prefix`). An entry `(ts,
    /// off)` with `off` below the recovery point is true of the batches
    /// below it whenever it was written: `ts` is the timestamp of batch
    /// `off` and no earlier batch has a larger one.
    pub(crate) fn open_prefix(
        path: &Path,
        base_offset: i64,
        max_bytes: u32,
        below: i64,
        active: bool,
    ) -> Result<Self> {
        let file = IndexFile::open_prefix(path, max_bytes, active, |e: &TimeEntry, prev| {
            base_offset + i64::from(e.relative_offset) < below
                && prev.is_none_or(|p| {
                    e.timestamp > p.timestamp && e.relative_offset >= p.relative_offset
                })
        })?;
        Ok(TimeIndex { base_offset, file })
    }

    pub(crate) fn path(&self) -> &Path {
        self.file.path()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.file.is_full()
    }

    pub(crate) fn file(&self) -> Result<std::sync::Arc<std::fs::File>> {
        self.file.file()
    }

    /// The last entry: for a sealed segment, its max timestamp.
    pub(crate) fn last_entry(&self) -> Option<TimestampOffset> {
        self.file.last().map(|e| self.abs(e))
    }

    fn abs(&self, e: TimeEntry) -> TimestampOffset {
        TimestampOffset {
            timestamp: e.timestamp,
            offset: self.base_offset + i64::from(e.relative_offset),
        }
    }

    /// Appends `(timestamp, offset)` if `timestamp` is above the last
    /// entry's (keeping timestamps strictly increasing) and the index is not
    /// full (unless `force`, used once when sealing). Returns whether an
    /// entry was written.
    pub(crate) fn maybe_append(
        &mut self,
        timestamp: i64,
        offset: i64,
        force: bool,
    ) -> Result<bool> {
        if self.file.last().is_some_and(|l| l.timestamp >= timestamp) {
            return Ok(false);
        }
        if self.file.is_full() && !force {
            return Ok(false);
        }
        let Ok(relative_offset) = u32::try_from(offset - self.base_offset) else {
            return Err(self
                .file
                .corrupt(format!("offset {offset} does not fit 32 bits")));
        };
        self.file.append(TimeEntry {
            timestamp,
            relative_offset,
        })?;
        Ok(true)
    }

    /// Offset to start scanning from for the first record with timestamp
    /// `>= ts`: the last entry with timestamp `< ts`, else the segment base.
    pub(crate) fn lookup(&self, ts: i64) -> Result<i64> {
        Ok(self
            .file
            .search_last(|e| e.timestamp < ts)?
            .map_or(self.base_offset, |e| self.abs(e).offset))
    }

    #[cfg(test)]
    pub(crate) fn entries(&self) -> Result<Vec<TimestampOffset>> {
        Ok(self.file.all()?.into_iter().map(|e| self.abs(e)).collect())
    }

    pub(crate) fn seal(&mut self) {
        self.file.seal();
    }

    pub(crate) fn unseal(&mut self) -> Result<()> {
        self.file.unseal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_last_strictly_below() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.timeindex");
        let mut idx = TimeIndex::create(&p, 50, 1200, &[], true).unwrap();
        assert_eq!(idx.lookup(1).unwrap(), 50);
        assert!(idx.maybe_append(100, 55, false).unwrap());
        assert!(!idx.maybe_append(100, 57, false).unwrap());
        assert!(!idx.maybe_append(90, 58, false).unwrap());
        assert!(idx.maybe_append(200, 60, false).unwrap());
        let check = |idx: &TimeIndex| {
            assert_eq!(idx.lookup(100).unwrap(), 50);
            assert_eq!(idx.lookup(101).unwrap(), 55);
            assert_eq!(idx.lookup(200).unwrap(), 55);
            assert_eq!(idx.lookup(201).unwrap(), 60);
            assert_eq!(
                idx.last_entry(),
                Some(TimestampOffset {
                    timestamp: 200,
                    offset: 60
                })
            );
        };
        check(&idx);
        idx.seal();
        check(&idx);
        let re = TimeIndex::open_sealed(&p, 50, 1200, 61).unwrap();
        check(&re);
        assert_eq!(re.entries().unwrap().len(), 2);
        assert!(TimeIndex::open_sealed(&p, 50, 1200, 60).is_err());
    }

    #[test]
    fn full_index_only_takes_forced_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.timeindex");
        let mut idx = TimeIndex::create(&p, 0, 12, &[], true).unwrap();
        assert!(idx.maybe_append(1, 0, false).unwrap());
        assert!(idx.is_full());
        assert!(!idx.maybe_append(2, 1, false).unwrap());
        assert!(idx.maybe_append(2, 1, true).unwrap());
    }
}
