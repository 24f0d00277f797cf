//! The few filesystem primitives storage builds on: opening files (in one
//! place; `file_cache` caps how many stay open), fsyncing directories,
//! durable atomic replacement of small files, and free-space queries.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::error::{io_err, Result};
use super::file_names::TMP_SUFFIX;

/// How to open a storage file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenMode {
    /// Read-write; the file must exist (a missing index must be noticed,
    /// not silently created empty).
    Existing,
    /// Read-write, created if missing, truncated to zero.
    Truncate,
}

/// Opens a data, index or snapshot file. Every storage file is opened
/// here; segment and index files through `file_cache`, which limits how
/// many descriptors stay open.
pub(crate) fn open_file(path: &Path, mode: OpenMode) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    match mode {
        OpenMode::Existing => {
            o.write(true);
        }
        OpenMode::Truncate => {
            o.write(true).create(true).truncate(true);
        }
    }
    o.open(path).map_err(io_err("open", path))
}

/// fsyncs a directory so that entries created, renamed or removed in it
/// survive a crash (a file's own fsync does not cover its name).
pub(crate) fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync directory", dir))
}

/// Replaces `path` with `contents` so that after a crash either the old or
/// the new contents are there, never a mix: write `path.tmp`, fsync it,
/// rename over `path`, fsync the directory.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = path.with_extension(match path.extension() {
        Some(ext) => format!("{}.{TMP_SUFFIX}", ext.to_string_lossy()),
        None => TMP_SUFFIX.to_string(),
    });
    {
        let mut f = open_file(&tmp, OpenMode::Truncate)?;
        f.write_all(contents).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_err("rename into place", path))?;
    if let Some(dir) = path.parent() {
        fsync_dir(dir)?;
    }
    Ok(())
}

/// Creates `dir` (and parents) and makes its entry durable in the parent.
pub(crate) fn create_dir_durable(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    if let Some(parent) = dir.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// `(total, available)` bytes of the file system holding `path`
/// (`statvfs`: available is what an unprivileged writer may still use).
// The statvfs field types (c_ulong, fsblkcnt_t) are not u64 on every target.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn disk_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` points to writable
    // memory of the struct statvfs(3) fills; it is read only on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialized the struct.
    let st = unsafe { st.assume_init() };
    let frsize = st.f_frsize as u64;
    Some((
        (st.f_blocks as u64).saturating_mul(frsize),
        (st.f_bavail as u64).saturating_mul(frsize),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.toml");
        write_atomically(&p, b"one").unwrap();
        write_atomically(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn disk_space_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (total, avail) = disk_space(dir.path()).unwrap();
        assert!(total > 0 && avail <= total);
    }
}
