//! `IndexFile<E>`: the machinery shared by the offset and time indexes
//! (Kafka's `AbstractIndex`): a file of fixed-size big-endian entries, sorted
//! by their key, searched by binary search.
//!
//! Memory does not grow with the data stored: only the *active* segment's
//! index keeps its entries in memory (bounded by `segment.index.bytes`), and
//! writes each new entry through to its file. Once the segment is rolled the
//! index is *sealed*: the vector is dropped and lookups binary-search the
//! immutable file with positional reads (`pread`), about log2(entries)
//! 8-12 byte reads that the page cache serves. This avoids `mmap` and the
//! `unsafe` (and SIGBUS-on-truncate risk) it brings, at the cost of a few
//! syscalls per lookup on old segments.
//!
//! Files are not pre-allocated: their length is always a whole number of
//! entries. No checksum: an index that fails its sanity check is rebuilt
//! from the log (see `recovery`).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{io_err, Result, StorageError};
use super::file_cache::CachedFile;
use super::fs_util::OpenMode;

/// A fixed-size index entry.
pub(crate) trait IndexEntry: Copy + std::fmt::Debug {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Encodes into exactly `SIZE` bytes.
    fn encode(&self, out: &mut [u8]);
    /// Decodes from exactly `SIZE` bytes.
    fn decode(b: &[u8]) -> Self;
}

#[derive(Debug)]
pub(crate) struct IndexFile<E> {
    path: PathBuf,
    file: CachedFile,
    /// Number of entries in the file.
    entries: u64,
    /// `segment.index.bytes / SIZE`: the index is full at this many entries.
    max_entries: u64,
    /// All entries while the segment is active; `None` once sealed.
    mem: Option<Vec<E>>,
    last: Option<E>,
}

impl<E: IndexEntry> IndexFile<E> {
    /// Creates (or truncates) the file and writes `entries` to it, in
    /// active (in-memory) mode if `active`.
    pub(crate) fn create(
        path: &Path,
        max_bytes: u32,
        entries: Vec<E>,
        active: bool,
    ) -> Result<Self> {
        let file = CachedFile::open(path, OpenMode::Truncate)?;
        let mut buf = vec![0u8; entries.len() * E::SIZE];
        for (e, chunk) in entries.iter().zip(buf.chunks_exact_mut(E::SIZE)) {
            e.encode(chunk);
        }
        file.get()?
            .write_all_at(&buf, 0)
            .map_err(io_err("write index", path))?;
        Ok(IndexFile {
            path: path.to_path_buf(),
            file,
            entries: entries.len() as u64,
            max_entries: u64::from(max_bytes) / E::SIZE as u64,
            last: entries.last().copied(),
            mem: active.then_some(entries),
        })
    }

    /// Opens an existing index in sealed mode. Fails with `CorruptIndex` if
    /// its length is not a whole number of entries; the caller checks the
    /// last entry against the log and rebuilds on any failure.
    pub(crate) fn open_sealed(path: &Path, max_bytes: u32) -> Result<Self> {
        let file = CachedFile::open(path, OpenMode::Existing)?;
        let len = file
            .get()?
            .metadata()
            .map_err(io_err("stat index", path))?
            .len();
        if len % E::SIZE as u64 != 0 {
            return Err(StorageError::CorruptIndex {
                path: path.to_path_buf(),
                reason: format!("length {len} is not a multiple of {}", E::SIZE),
            });
        }
        let mut idx = IndexFile {
            path: path.to_path_buf(),
            file,
            entries: len / E::SIZE as u64,
            max_entries: u64::from(max_bytes) / E::SIZE as u64,
            mem: None,
            last: None,
        };
        if idx.entries > 0 {
            idx.last = Some(idx.entry(idx.entries - 1)?);
        }
        Ok(idx)
    }

    /// Opens an existing index that is trusted only in part (its segment
    /// holds the recovery point, see `recovery`): keeps the longest prefix
    /// of whole entries for which `keep(entry, previous kept entry)` holds
    /// and cuts the file after it, so appends continue right behind the
    /// trusted entries. A torn final entry is cut too. `active` keeps the
    /// entries in memory.
    pub(crate) fn open_prefix(
        path: &Path,
        max_bytes: u32,
        active: bool,
        keep: impl Fn(&E, Option<&E>) -> bool,
    ) -> Result<Self> {
        let file = CachedFile::open(path, OpenMode::Existing)?;
        let f = file.get()?;
        let len = f.metadata().map_err(io_err("stat index", path))?.len();
        let max_entries = u64::from(max_bytes) / E::SIZE as u64;
        // A live index never grows past `segment.index.bytes` (plus the one
        // forced entry at seal time); anything longer is not ours to trust
        // and must not make us allocate an arbitrary amount.
        let whole = len / E::SIZE as u64;
        if whole > max_entries + 1 {
            return Err(StorageError::CorruptIndex {
                path: path.to_path_buf(),
                reason: format!("{whole} entries, more than the {max_entries} allowed"),
            });
        }
        let mut buf = vec![0u8; (whole * E::SIZE as u64) as usize];
        f.read_exact_at(&mut buf, 0)
            .map_err(io_err("read index", path))?;
        let mut entries: Vec<E> = Vec::with_capacity(buf.len() / E::SIZE);
        for chunk in buf.chunks_exact(E::SIZE) {
            let e = E::decode(chunk);
            if !keep(&e, entries.last()) {
                break;
            }
            entries.push(e);
        }
        let kept = entries.len() as u64 * E::SIZE as u64;
        if kept != len {
            f.set_len(kept).map_err(io_err("truncate index", path))?;
        }
        Ok(IndexFile {
            path: path.to_path_buf(),
            file,
            entries: entries.len() as u64,
            max_entries,
            last: entries.last().copied(),
            mem: active.then_some(entries),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn is_full(&self) -> bool {
        self.entries >= self.max_entries
    }

    pub(crate) fn last(&self) -> Option<E> {
        self.last
    }

    /// Handle for fsync outside the partition lock.
    pub(crate) fn file(&self) -> Result<Arc<File>> {
        self.file.get()
    }

    /// Entry `i` (`i < len()`), from memory or by `pread`.
    pub(crate) fn entry(&self, i: u64) -> Result<E> {
        if let Some(mem) = &self.mem {
            return usize::try_from(i)
                .ok()
                .and_then(|i| mem.get(i))
                .copied()
                .ok_or_else(|| self.corrupt(format!("entry {i} out of range")));
        }
        let mut buf = [0u8; 16];
        let buf = &mut buf[..E::SIZE];
        self.file
            .get()?
            .read_exact_at(buf, i * E::SIZE as u64)
            .map_err(io_err("read index", &self.path))?;
        Ok(E::decode(buf))
    }

    /// Appends one entry (the caller keeps keys increasing and checks
    /// `is_full` first). Written through to the file immediately; fsynced
    /// with the log.
    pub(crate) fn append(&mut self, e: E) -> Result<()> {
        let mut buf = [0u8; 16];
        let buf = &mut buf[..E::SIZE];
        e.encode(buf);
        self.file
            .get()?
            .write_all_at(buf, self.entries * E::SIZE as u64)
            .map_err(io_err("append index", &self.path))?;
        if let Some(mem) = &mut self.mem {
            mem.push(e);
        }
        self.entries += 1;
        self.last = Some(e);
        Ok(())
    }

    /// The last entry for which `pred` holds, where `pred` is true on a
    /// prefix of the (sorted) entries and false after it.
    pub(crate) fn search_last(&self, pred: impl Fn(&E) -> bool) -> Result<Option<E>> {
        if let Some(mem) = &self.mem {
            let n = mem.partition_point(|e| pred(e));
            return Ok(n.checked_sub(1).and_then(|i| mem.get(i)).copied());
        }
        // Invariant: entries [0, lo) satisfy pred, entries [hi, len) do not.
        let (mut lo, mut hi) = (0u64, self.entries);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self.entry(mid)?) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        match lo.checked_sub(1) {
            Some(i) => self.entry(i).map(Some),
            None => Ok(None),
        }
    }

    /// All entries (reads the whole file when sealed).
    pub(crate) fn all(&self) -> Result<Vec<E>> {
        if let Some(mem) = &self.mem {
            return Ok(mem.clone());
        }
        let len = usize::try_from(self.entries * E::SIZE as u64)
            .map_err(|_| self.corrupt("index too large".to_string()))?;
        let mut buf = vec![0u8; len];
        self.file
            .get()?
            .read_exact_at(&mut buf, 0)
            .map_err(io_err("read index", &self.path))?;
        Ok(buf.chunks_exact(E::SIZE).map(E::decode).collect())
    }

    /// Drops the in-memory copy: the segment is no longer active.
    pub(crate) fn seal(&mut self) {
        self.mem = None;
    }

    /// Loads the entries back into memory: the segment is active again.
    pub(crate) fn unseal(&mut self) -> Result<()> {
        if self.mem.is_none() {
            self.mem = Some(self.all()?);
        }
        Ok(())
    }

    pub(crate) fn corrupt(&self, reason: String) -> StorageError {
        StorageError::CorruptIndex {
            path: self.path.clone(),
            reason,
        }
    }
}
