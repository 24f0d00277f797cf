//! `OffsetIndex`: the sparse `.index` file mapping offsets to byte
//! positions in the segment's `.log` (Kafka's `OffsetIndex`).
//!
//! ```text
//!  entry (8 bytes, big-endian), sorted by offset:
//!  +---------------------------+---------------------------+
//!  | relative offset: u32      | position: u32             |
//!  | (batch base offset - segment base offset)             |
//!  +---------------------------+---------------------------+
//! ```
//!
//! An entry is added for a batch when more than `index.interval.bytes` have
//! been appended since the previous entry, pointing at the *start* of that
//! batch (Kafka stores the batch's last offset; the base offset gives the
//! same lookups and a tighter bound). `lookup(target)` returns the entry
//! with the greatest offset `<= target`, or (base offset, position 0): the
//! caller scans batch headers forward from there. Relative offsets and
//! positions fit 32 bits because segments roll before either overflows.
//!
//! No attempt is made to checksum this file: it is rebuilt from the log
//! after a crash or whenever it fails the sanity check.

use std::path::Path;

use super::error::Result;
use super::index_file::{IndexEntry, IndexFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetEntry {
    pub(crate) relative_offset: u32,
    pub(crate) position: u32,
}

impl IndexEntry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.relative_offset.to_be_bytes());
        out[4..8].copy_from_slice(&self.position.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        OffsetEntry {
            relative_offset: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            position: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// An (absolute offset, file position) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetPosition {
    pub(crate) offset: i64,
    pub(crate) position: u64,
}

#[derive(Debug)]
pub(crate) struct OffsetIndex {
    base_offset: i64,
    file: IndexFile<OffsetEntry>,
}

impl OffsetIndex {
    /// Writes a fresh index holding `entries` (absolute offset, position).
    pub(crate) fn create(
        path: &Path,
        base_offset: i64,
        max_bytes: u32,
        entries: &[OffsetPosition],
        active: bool,
    ) -> Result<Self> {
        let rel = entries
            .iter()
            .map(|e| OffsetEntry {
                relative_offset: (e.offset - base_offset) as u32,
                position: e.position as u32,
            })
            .collect();
        Ok(OffsetIndex {
            base_offset,
            file: IndexFile::create(path, max_bytes, rel, active)?,
        })
    }

    /// Opens a sealed index and checks it against its segment: the last
    /// entry must point inside the log and below `next_offset`. Any error
    /// means "rebuild".
    pub(crate) fn open_sealed(
        path: &Path,
        base_offset: i64,
        max_bytes: u32,
        log_size: u64,
        next_offset: i64,
    ) -> Result<Self> {
        let idx = OffsetIndex {
            base_offset,
            file: IndexFile::open_sealed(path, max_bytes)?,
        };
        if let Some(last) = idx.file.last() {
            let offset = base_offset + i64::from(last.relative_offset);
            if u64::from(last.position) >= log_size || offset >= next_offset {
                return Err(idx.file.corrupt(format!(
                    "last entry (offset {offset}, position {}) beyond the log (size {log_size}, next offset {next_offset})",
                    last.position
                )));
            }
        }
        Ok(idx)
    }

    /// Opens the index of the segment holding the recovery point, keeping
    /// the entries below `below` (the recovery point: they were fsynced
    /// with the log) as long as offsets and positions keep increasing and
    /// stay inside the `log_size` bytes of the log; everything after is cut
    /// and rebuilt by the caller's scan. Entries past the recovery point
    /// may be torn or stale after a crash, hence the filter.
    pub(crate) fn open_prefix(
        path: &Path,
        base_offset: i64,
        max_bytes: u32,
        below: i64,
        log_size: u64,
        active: bool,
    ) -> Result<Self> {
        let file = IndexFile::open_prefix(path, max_bytes, active, |e: &OffsetEntry, prev| {
            base_offset + i64::from(e.relative_offset) < below
                && u64::from(e.position) < log_size
                && prev.is_none_or(|p| {
                    e.relative_offset > p.relative_offset && e.position > p.position
                })
        })?;
        Ok(OffsetIndex { base_offset, file })
    }

    pub(crate) fn path(&self) -> &Path {
        self.file.path()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.file.is_full()
    }

    /// The last entry, if any.
    pub(crate) fn last_entry(&self) -> Option<OffsetPosition> {
        self.file.last().map(|e| OffsetPosition {
            offset: self.base_offset + i64::from(e.relative_offset),
            position: u64::from(e.position),
        })
    }

    pub(crate) fn file(&self) -> Result<std::sync::Arc<std::fs::File>> {
        self.file.file()
    }

    /// Appends an entry; `offset` must be above the last entry's.
    pub(crate) fn append(&mut self, offset: i64, position: u64) -> Result<()> {
        let rel = offset - self.base_offset;
        if let Some(last) = self.file.last() {
            if rel <= i64::from(last.relative_offset) {
                return Err(self
                    .file
                    .corrupt(format!("non-increasing append of offset {offset}")));
            }
        }
        let (Ok(relative_offset), Ok(position)) = (u32::try_from(rel), u32::try_from(position))
        else {
            return Err(self
                .file
                .corrupt(format!("entry ({offset}, {position}) does not fit 32 bits")));
        };
        self.file.append(OffsetEntry {
            relative_offset,
            position,
        })
    }

    /// Greatest entry with offset `<= target`, or the segment start.
    pub(crate) fn lookup(&self, target: i64) -> Result<OffsetPosition> {
        let base = self.base_offset;
        let found = self
            .file
            .search_last(|e| base + i64::from(e.relative_offset) <= target)?;
        Ok(found.map_or(
            OffsetPosition {
                offset: base,
                position: 0,
            },
            |e| OffsetPosition {
                offset: base + i64::from(e.relative_offset),
                position: u64::from(e.position),
            },
        ))
    }

    #[cfg(test)]
    pub(crate) fn entries(&self) -> Result<Vec<OffsetPosition>> {
        Ok(self
            .file
            .all()?
            .into_iter()
            .map(|e| OffsetPosition {
                offset: self.base_offset + i64::from(e.relative_offset),
                position: u64::from(e.position),
            })
            .collect())
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

    fn op(offset: i64, position: u64) -> OffsetPosition {
        OffsetPosition { offset, position }
    }

    #[test]
    fn lookup_greatest_le_target_active_and_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.index");
        let mut idx = OffsetIndex::create(&p, 100, 1024, &[], true).unwrap();
        assert_eq!(idx.lookup(150).unwrap(), op(100, 0));
        for (o, pos) in [(110, 1000), (120, 2000), (135, 3000)] {
            idx.append(o, pos).unwrap();
        }
        assert!(idx.append(135, 4000).is_err());
        let check = |idx: &OffsetIndex| {
            assert_eq!(idx.lookup(99).unwrap(), op(100, 0));
            assert_eq!(idx.lookup(109).unwrap(), op(100, 0));
            assert_eq!(idx.lookup(110).unwrap(), op(110, 1000));
            assert_eq!(idx.lookup(134).unwrap(), op(120, 2000));
            assert_eq!(idx.lookup(i64::MAX).unwrap(), op(135, 3000));
        };
        check(&idx);
        idx.seal();
        check(&idx);
        let reopened = OffsetIndex::open_sealed(&p, 100, 1024, 3001, 136).unwrap();
        check(&reopened);
        assert_eq!(reopened.entries().unwrap().len(), 3);
        // Sanity checks against the log.
        assert!(OffsetIndex::open_sealed(&p, 100, 1024, 3000, 136).is_err());
        assert!(OffsetIndex::open_sealed(&p, 100, 1024, 3001, 135).is_err());
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &[1, 2, 3]))
            .unwrap();
        assert!(OffsetIndex::open_sealed(&p, 100, 1024, 3001, 136).is_err());
    }

    #[test]
    fn full_at_max_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.index");
        let mut idx = OffsetIndex::create(&p, 0, 20, &[], true).unwrap();
        assert!(!idx.is_full());
        idx.append(1, 10).unwrap();
        idx.append(2, 20).unwrap();
        assert!(idx.is_full());
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 16);
    }

    #[test]
    fn many_entries_binary_search_via_pread() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.index");
        let entries: Vec<_> = (0..1000)
            .map(|i| op(10 + i * 3, (i * 100) as u64))
            .collect();
        let idx = OffsetIndex::create(&p, 10, 1 << 20, &entries, false).unwrap();
        for t in 0..3100 {
            let want = entries
                .iter()
                .rev()
                .find(|e| e.offset <= t)
                .copied()
                .unwrap_or(op(10, 0));
            assert_eq!(idx.lookup(t).unwrap(), want, "target {t}");
        }
    }
}
