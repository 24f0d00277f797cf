//! Broker-wide metadata kept in the data dir, outside any partition:
//! the cluster id (`meta.properties`, as Kafka names it) and the producer id
//! allocator's high-water mark.
//!
//! Producer ids must never repeat across restarts: partitions remember the
//! sequence numbers of every producer id they have seen, so a reused id would
//! make a new producer's first batch look out of order. Ids are handed out
//! from blocks; the end of the current block is made durable before any id in
//! it is used, so after a crash the next block starts past everything given out.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Ids reserved per durable write.
const PRODUCER_ID_BLOCK: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> MetaError {
    let context = context.into();
    move |source| MetaError::Io { context, source }
}

/// Writes `contents` to `path` atomically and durably (tmp, fsync, rename, fsync dir).
pub(crate) fn write_durably(path: &Path, contents: &[u8]) -> Result<(), MetaError> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(io(format!("create {}", tmp.display())))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .map_err(io(format!("write {}", tmp.display())))?;
    fs::rename(&tmp, path).map_err(io(format!("rename to {}", path.display())))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("sync {}", dir.display())))?;
    }
    Ok(())
}

/// The cluster id: read from `<data>/meta.properties`, or generated and saved on first start.
pub fn load_or_create_cluster_id(data_dir: &Path) -> Result<String, MetaError> {
    fs::create_dir_all(data_dir).map_err(io(format!("create {}", data_dir.display())))?;
    let path = data_dir.join("meta.properties");
    match fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .find_map(|l| l.strip_prefix("cluster.id="))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| MetaError::Corrupt {
                path: path.clone(),
                reason: "no cluster.id line".into(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = base64_uuid(uuid::Uuid::new_v4());
            write_durably(&path, format!("version=1\ncluster.id={id}\n").as_bytes())?;
            Ok(id)
        }
        Err(e) => Err(io(format!("read {}", path.display()))(e)),
    }
}

/// Kafka prints cluster ids as URL-safe base64 of a UUID without padding.
fn base64_uuid(id: uuid::Uuid) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = id.as_bytes();
    let mut out = String::with_capacity(22);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

/// Hands out producer ids that are unique across restarts.
#[derive(Debug)]
pub struct ProducerIdAllocator {
    path: PathBuf,
    state: Mutex<(i64, i64)>, // (next id, end of the durable block)
}

impl ProducerIdAllocator {
    pub fn open(data_dir: &Path) -> Result<ProducerIdAllocator, MetaError> {
        let path = data_dir.join("producer-ids");
        let next = match fs::read_to_string(&path) {
            Ok(text) => text.trim().parse::<i64>().map_err(|e| MetaError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(format!("read {}", path.display()))(e)),
        };
        Ok(ProducerIdAllocator {
            path,
            state: Mutex::new((next, next)),
        })
    }

    /// The next unused producer id.
    pub fn next_id(&self) -> Result<i64, MetaError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.0 >= state.1 {
            let end = state.0 + PRODUCER_ID_BLOCK;
            write_durably(&self.path, format!("{end}\n").as_bytes())?;
            state.1 = end;
        }
        let id = state.0;
        state.0 += 1;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_id_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_cluster_id(dir.path()).unwrap();
        let b = load_or_create_cluster_id(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 22);
    }

    #[test]
    fn producer_ids_never_repeat_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = ProducerIdAllocator::open(dir.path()).unwrap();
        let first: Vec<i64> = (0..3).map(|_| a.next_id().unwrap()).collect();
        assert_eq!(first, vec![0, 1, 2]);
        drop(a); // as after a crash: the rest of the block is skipped
        let b = ProducerIdAllocator::open(dir.path()).unwrap();
        assert_eq!(b.next_id().unwrap(), PRODUCER_ID_BLOCK);
    }
}
