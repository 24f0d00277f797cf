//! Helpers shared by the storage unit tests: batch builders, small
//! configs, and reading a whole log back through the public API.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{Log, LogConfig};
use crate::record::{BatchBuilder, BatchHeader, BatchIter, NewRecord, RecordIter, TopicPartition};

pub(crate) fn records(n: usize, ts: i64, value_len: usize) -> Vec<NewRecord> {
    (0..n)
        .map(|i| NewRecord::new(ts + i as i64, vec![b'v'; value_len]))
        .collect()
}

/// A non-idempotent batch of `n` records with timestamps `ts..ts+n`.
pub(crate) fn batch(n: usize, ts: i64) -> Bytes {
    Bytes::from(BatchBuilder::new(0, ts).build(&records(n, ts, 20)))
}

/// An idempotent producer's batch.
pub(crate) fn idem(pid: i64, epoch: i16, seq: i32, n: usize) -> Bytes {
    Bytes::from(
        BatchBuilder::new(0, 1000)
            .producer(pid, epoch, seq)
            .build(&records(n, 1000, 10)),
    )
}

/// 1 KiB segments, an index entry every 64 bytes.
pub(crate) fn small() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 64,
        ..LogConfig::default()
    }
}

/// The partition directory the helpers use under `root`.
pub(crate) fn pdir(root: &Path) -> PathBuf {
    root.join("t-0")
}

pub(crate) fn open(root: &Path, config: LogConfig) -> Log {
    Log::open(&pdir(root), TopicPartition::new("t", 0), config, 0).unwrap()
}

/// Every batch header in the log, read through the public API (CRC
/// checked).
pub(crate) fn read_all(log: &Log) -> Vec<BatchHeader> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let r = log
            .read(
                offset,
                300,
                true,
                crate::storage::Isolation::ReadUncommitted,
            )
            .unwrap();
        assert!(!r.records.is_empty(), "no progress at {offset}");
        for item in BatchIter::new(&r.records) {
            let (_, h) = item.unwrap();
            offset = h.next_offset();
            out.push(h);
        }
    }
    out
}

/// Files in `dir` with extension `ext`, sorted.
pub(crate) fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// The answer `offset_for_timestamp` must give, by reading every record.
pub(crate) fn brute_force_ts(log: &Log, ts: i64) -> Option<(i64, i64)> {
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let r = log
            .read(
                offset,
                1 << 20,
                true,
                crate::storage::Isolation::ReadUncommitted,
            )
            .unwrap();
        for item in BatchIter::new(&r.records) {
            let (pos, h) = item.unwrap();
            for rec in RecordIter::new(&r.records[pos..pos + h.total_len()]).unwrap() {
                let rec = rec.unwrap();
                if rec.timestamp >= ts {
                    return Some((rec.offset, rec.timestamp));
                }
            }
            offset = h.next_offset();
        }
    }
    None
}

pub(crate) fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
