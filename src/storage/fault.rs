//! `FaultPlan`: the fault-injection seam of the write path.
//!
//! Every operation that changes partition data on disk (appending a batch,
//! creating a segment at roll time, fsync, writing checkpoints and topic
//! metadata) first asks the partition's `FaultPlan` whether it may proceed.
//! Normally the answer is a relaxed atomic load of "no fault". When a fault
//! is armed the operation fails with the same `StorageError::Io` a real
//! `ENOSPC` or `EIO` would produce, before touching the file, so tests can
//! check what clients see (KAFKA_STORAGE_ERROR), that reads keep working,
//! that nothing written before is lost and that writes resume once the
//! fault is cleared.
//!
//! Arming it:
//! * in unit tests, [`FaultPlan::set`] on the plan of a `LogManager`
//!   ([`LogManager::faults`](super::LogManager::faults)) or a `Log`;
//! * in the real binary, only when the broker runs with the testing key
//!   `skiff.testing.fault.injection=true`: the periodic task then reads the
//!   control file `<log.dirs>/.skiff/fault-injection` once per tick (one
//!   `stat` a second) and arms `enospc` or `eio` as it says, disarming when
//!   the file is removed. Without that key the file is never looked at.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use super::error::{Result, StorageError};

/// What the write path should fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Writes proceed.
    None,
    /// Writes fail as on a full disk (`ENOSPC`).
    NoSpace,
    /// Writes fail with an I/O error (`EIO`).
    Io,
}

/// Name of the control file, under `<data>/.skiff/`.
pub(crate) const CONTROL_FILE: &str = "fault-injection";

/// The armed fault, shared by a `LogManager` and all its logs.
#[derive(Debug, Default)]
pub struct FaultPlan {
    mode: AtomicU8,
    control_file: Mutex<Option<PathBuf>>,
}

impl FaultPlan {
    /// Arms (or with [`Fault::None`] disarms) a fault.
    pub fn set(&self, fault: Fault) {
        let m = match fault {
            Fault::None => 0,
            Fault::NoSpace => 1,
            Fault::Io => 2,
        };
        self.mode.store(m, Ordering::Release);
    }

    /// The armed fault.
    pub fn get(&self) -> Fault {
        match self.mode.load(Ordering::Acquire) {
            1 => Fault::NoSpace,
            2 => Fault::Io,
            _ => Fault::None,
        }
    }

    /// Fails `what` on `path` if a fault is armed.
    pub(crate) fn check(&self, what: &str, path: &Path) -> Result<()> {
        let errno = match self.get() {
            Fault::None => return Ok(()),
            Fault::NoSpace => 28, // ENOSPC
            Fault::Io => 5,       // EIO
        };
        Err(StorageError::io(
            &format!("{what} (injected fault)"),
            path,
            io::Error::from_raw_os_error(errno),
        ))
    }

    /// Makes [`FaultPlan::poll_control_file`] read `path`.
    pub(crate) fn watch_control_file(&self, path: PathBuf) {
        *self
            .control_file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(path);
    }

    /// Arms the fault the control file names (`enospc` or `eio`; anything
    /// else and a missing file disarm). A no-op unless a file is watched.
    pub(crate) fn poll_control_file(&self) {
        let path = self
            .control_file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let Some(path) = path else {
            return;
        };
        let fault = match std::fs::read_to_string(&path) {
            Ok(s) => match s.trim() {
                "enospc" => Fault::NoSpace,
                "eio" => Fault::Io,
                _ => Fault::None,
            },
            Err(_) => Fault::None,
        };
        if fault != self.get() {
            tracing::warn!(?fault, file = %path.display(), "fault injection changed");
            self.set(fault);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_fails_like_the_os_would() {
        let plan = FaultPlan::default();
        let p = Path::new("/x");
        assert!(plan.check("append", p).is_ok());
        plan.set(Fault::NoSpace);
        match plan.check("append", p) {
            Err(StorageError::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(28)),
            other => panic!("{other:?}"),
        }
        plan.set(Fault::None);
        assert!(plan.check("append", p).is_ok());
    }

    #[test]
    fn control_file_arms_and_disarms() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(CONTROL_FILE);
        let plan = FaultPlan::default();
        std::fs::write(&f, "eio").unwrap();
        plan.poll_control_file();
        assert_eq!(plan.get(), Fault::None, "not watched: ignored");
        plan.watch_control_file(f.clone());
        plan.poll_control_file();
        assert_eq!(plan.get(), Fault::Io);
        std::fs::write(&f, "enospc\n").unwrap();
        plan.poll_control_file();
        assert_eq!(plan.get(), Fault::NoSpace);
        std::fs::remove_file(&f).unwrap();
        plan.poll_control_file();
        assert_eq!(plan.get(), Fault::None);
    }
}
