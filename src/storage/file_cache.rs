//! A process-wide cap on the descriptors storage keeps open.
//!
//! Every segment `.log`, `.index` and `.timeindex` file is a [`CachedFile`]:
//! a path plus, while it is in use, an open descriptor held by the cache.
//! Descriptors are opened lazily on first use and closed least recently
//! used first once more than the capacity are open, so 10,000 partitions
//! (30,000 files) run under a 20,000-descriptor limit with room left for
//! client connections. [`CachedFile::get`] hands out an `Arc<File>`: a user
//! (a fetch's `SegmentReader`, an fsync in progress) keeps its descriptor
//! valid even if the cache closes its own reference meanwhile, so eviction
//! never breaks an operation in flight; the real `close` happens when the
//! last `Arc` drops.
//!
//! Reopening is by path, read-write, never creating: a file that vanished
//! is an I/O error, as it would be for any read. Segment files only change
//! names through the cleaner, which builds new `CachedFile`s for the new
//! names (see `cleaner`).
//!
//! Capacity: [`set_capacity`], set by the broker from
//! `skiff.max.open.segment.files`; by default half the process's
//! `RLIMIT_NOFILE` soft limit (after raising it to the hard limit).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::error::Result;
use super::fs_util::{open_file, OpenMode};

/// Never fewer than this many descriptors are cached.
const MIN_CAPACITY: usize = 16;

#[derive(Debug, Default)]
struct State {
    /// id → (descriptor, last use tick).
    open: HashMap<u64, (Arc<File>, u64)>,
    /// last use tick → id, oldest first.
    lru: BTreeMap<u64, u64>,
    tick: u64,
}

#[derive(Debug)]
struct Cache {
    capacity: AtomicUsize,
    state: Mutex<State>,
    next_id: AtomicU64,
    opens: AtomicU64,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Cache {
        capacity: AtomicUsize::new(default_capacity()),
        state: Mutex::new(State::default()),
        next_id: AtomicU64::new(1),
        opens: AtomicU64::new(0),
    })
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns half of it.
fn default_capacity() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the plain struct passed.
    let soft = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur
    };
    usize::try_from(soft / 2)
        .unwrap_or(usize::MAX)
        .max(MIN_CAPACITY)
}

/// Sets how many storage descriptors may stay open (at least 16).
pub fn set_capacity(n: usize) {
    let c = cache();
    c.capacity.store(n.max(MIN_CAPACITY), Ordering::Release);
    let evicted = evict(
        &mut c.state.lock().unwrap_or_else(PoisonError::into_inner),
        c,
    );
    drop(evicted);
}

/// The current capacity.
#[cfg(test)]
pub fn capacity() -> usize {
    cache().capacity.load(Ordering::Acquire)
}

/// Descriptors the cache holds now, and how many times files were opened.
#[cfg(test)]
pub fn stats() -> (usize, u64) {
    let c = cache();
    let n = c
        .state
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .open
        .len();
    (n, c.opens.load(Ordering::Relaxed))
}

/// Drops the least recently used entries beyond capacity; the caller drops
/// the returned descriptors after releasing the lock.
fn evict(st: &mut State, c: &Cache) -> Vec<Arc<File>> {
    let cap = c.capacity.load(Ordering::Acquire);
    let mut out = Vec::new();
    while st.open.len() > cap {
        let Some((_, id)) = st.lru.pop_first() else {
            break;
        };
        if let Some((f, _)) = st.open.remove(&id) {
            out.push(f);
        }
    }
    out
}

/// A storage file whose descriptor the cache opens and closes (see module
/// docs).
#[derive(Debug)]
pub(crate) struct CachedFile {
    id: u64,
    path: PathBuf,
}

impl CachedFile {
    /// Opens (and with `Truncate` creates) `path` now, so open errors
    /// surface here, and caches the descriptor.
    pub(crate) fn open(path: &Path, mode: OpenMode) -> Result<CachedFile> {
        let f = open_file(path, mode)?;
        let c = cache();
        c.opens.fetch_add(1, Ordering::Relaxed);
        let cf = CachedFile {
            id: c.next_id.fetch_add(1, Ordering::Relaxed),
            path: path.to_path_buf(),
        };
        cf.insert(Arc::new(f));
        Ok(cf)
    }

    fn insert(&self, f: Arc<File>) {
        let c = cache();
        let evicted = {
            let mut st = c.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.tick += 1;
            let tick = st.tick;
            if let Some((_, old)) = st.open.insert(self.id, (f, tick)) {
                st.lru.remove(&old);
            }
            st.lru.insert(tick, self.id);
            evict(&mut st, c)
        };
        drop(evicted);
    }

    /// The descriptor, reopening the file if the cache closed it.
    pub(crate) fn get(&self) -> Result<Arc<File>> {
        let c = cache();
        {
            let mut st = c.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.tick += 1;
            let tick = st.tick;
            if let Some((f, last)) = st.open.get_mut(&self.id) {
                let f = Arc::clone(f);
                let old = std::mem::replace(last, tick);
                st.lru.remove(&old);
                st.lru.insert(tick, self.id);
                return Ok(f);
            }
        }
        // Opened outside the lock: a slow open must not stall every lookup.
        let f = Arc::new(open_file(&self.path, OpenMode::Existing)?);
        c.opens.fetch_add(1, Ordering::Relaxed);
        self.insert(Arc::clone(&f));
        Ok(f)
    }
}

impl Drop for CachedFile {
    fn drop(&mut self) {
        let c = cache();
        let f = {
            let mut st = c.state.lock().unwrap_or_else(PoisonError::into_inner);
            let e = st.open.remove(&self.id);
            if let Some((_, tick)) = &e {
                st.lru.remove(tick);
            }
            e
        };
        drop(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reopens_evicted_files_and_keeps_handed_out_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<CachedFile> = (0..40)
            .map(|i| {
                let p = dir.path().join(format!("f{i}"));
                std::fs::File::create(&p)
                    .unwrap()
                    .write_all(format!("{i}").as_bytes())
                    .unwrap();
                CachedFile::open(&p, OpenMode::Existing).unwrap()
            })
            .collect();
        // Whatever the capacity (other tests share the cache), every file
        // reads back, and a handed-out descriptor outlives eviction.
        let held = files[0].get().unwrap();
        for (i, f) in files.iter().enumerate() {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut &*f.get().unwrap(), &mut s).unwrap();
            assert_eq!(s, i.to_string());
        }
        let mut buf = [0u8; 1];
        std::os::unix::fs::FileExt::read_exact_at(&*held, &mut buf, 0).unwrap();
        assert_eq!(&buf, b"0");
        let (open, _) = stats();
        assert!(open <= capacity().max(40) + 1000);
        drop(files);
    }
}
