//! File and directory naming in the data dir (Kafka's `LogFileUtils`).
//!
//! ```text
//! <data>/
//!   .skiff/topics/<topic>.toml          topic metadata (see topic_store)
//!   <topic>-<partition>/                one directory per partition
//!     00000000000000000000.log          segment data: concatenated v2 batches
//!     00000000000000000000.index        sparse offset index (see offset_index)
//!     00000000000000000000.timeindex    time index (see time_index)
//!     00000000000000000000.txnindex     aborted transactions whose marker is
//!                                       in this segment (see txn_index);
//!                                       only exists once there is one
//!     00000000000000001234.snapshot     producer state as of offset 1234
//!     log-start-offset                  log start offset set by DeleteRecords
//!     cleaner-offset                    first offset the cleaner has not compacted
//!     recovery-point                    offsets below it were fsynced (see recovery)
//!     cleaner.tmp/                      segments being written by the cleaner
//!     <base:020>.<end:020>.swap         a cleaned segment replacing every
//!                                       segment based in [base, end): the
//!                                       commit point of a compaction swap
//!   <topic>-<partition>.<id>.deleted/   being deleted; removed on open
//!   <topic>-<partition>.<id>.stray/     found without metadata; left alone
//! ```
//!
//! Offsets in file names are zero-padded to 20 digits so that `ls` (and a
//! lexical sort) orders segments numerically.

use std::path::{Path, PathBuf};

/// Segment data file suffix.
pub(crate) const LOG_SUFFIX: &str = "log";
/// Offset index suffix.
pub(crate) const INDEX_SUFFIX: &str = "index";
/// Time index suffix.
pub(crate) const TIME_INDEX_SUFFIX: &str = "timeindex";
/// Aborted transaction index suffix.
pub(crate) const TXN_INDEX_SUFFIX: &str = "txnindex";
/// Producer state snapshot suffix.
pub(crate) const SNAPSHOT_SUFFIX: &str = "snapshot";
/// Suffix of a file being written before its atomic rename.
pub(crate) const TMP_SUFFIX: &str = "tmp";
/// Suffix of a partition directory scheduled for removal.
pub(crate) const DELETED_SUFFIX: &str = "deleted";
/// Suffix of a partition directory moved aside because no topic owns it.
pub(crate) const STRAY_SUFFIX: &str = "stray";
/// Per-partition checkpoint of a log start offset above the first segment's
/// base (DeleteRecords).
pub(crate) const LOG_START_CHECKPOINT: &str = "log-start-offset";
/// Per-partition checkpoint of the cleaner's first dirty offset.
pub(crate) const CLEANER_CHECKPOINT: &str = "cleaner-offset";
/// Per-partition checkpoint of the recovery point (Kafka's
/// `recovery-point-offset-checkpoint`, one file per partition here).
pub(crate) const RECOVERY_POINT_CHECKPOINT: &str = "recovery-point";
/// Scratch directory in which the cleaner writes cleaned segments.
pub(crate) const CLEANER_SCRATCH_DIR: &str = "cleaner.tmp";
/// Suffix of a cleaned segment that has been committed but not yet put in place.
pub(crate) const SWAP_SUFFIX: &str = "swap";

/// `<base:020>.<end:020>.swap`
pub(crate) fn swap_file_name(base: i64, end: i64) -> String {
    format!("{base:020}.{end:020}.{SWAP_SUFFIX}")
}

/// Parses `<base:020>.<end:020>.swap` into `(base, end)`.
pub(crate) fn parse_swap_file(name: &str) -> Option<(i64, i64)> {
    let stem = name.strip_suffix(&format!(".{SWAP_SUFFIX}"))?;
    let (a, b) = stem.split_once('.')?;
    let digits = |s: &str| s.len() == 20 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// What an offset-named file in a partition directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Log,
    Index,
    TimeIndex,
    TxnIndex,
    Snapshot,
}

impl FileKind {
    fn suffix(self) -> &'static str {
        match self {
            FileKind::Log => LOG_SUFFIX,
            FileKind::Index => INDEX_SUFFIX,
            FileKind::TimeIndex => TIME_INDEX_SUFFIX,
            FileKind::TxnIndex => TXN_INDEX_SUFFIX,
            FileKind::Snapshot => SNAPSHOT_SUFFIX,
        }
    }
}

/// `00000000000000001234.<suffix>`
pub(crate) fn offset_file_name(offset: i64, kind: FileKind) -> String {
    format!("{offset:020}.{}", kind.suffix())
}

/// Path of an offset-named file in `dir`.
pub(crate) fn offset_file_path(dir: &Path, offset: i64, kind: FileKind) -> PathBuf {
    dir.join(offset_file_name(offset, kind))
}

/// Parses `00000000000000001234.<suffix>`; `None` for anything else.
pub(crate) fn parse_offset_file(name: &str) -> Option<(i64, FileKind)> {
    let (stem, suffix) = name.split_once('.')?;
    let kind = match suffix {
        LOG_SUFFIX => FileKind::Log,
        INDEX_SUFFIX => FileKind::Index,
        TIME_INDEX_SUFFIX => FileKind::TimeIndex,
        TXN_INDEX_SUFFIX => FileKind::TxnIndex,
        SNAPSHOT_SUFFIX => FileKind::Snapshot,
        _ => return None,
    };
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let offset: i64 = stem.parse().ok()?;
    Some((offset, kind))
}

/// `<topic>-<partition>`.
pub(crate) fn partition_dir_name(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// Splits `<topic>-<partition>` at the last `-` (topic names may contain
/// `-`, partition numbers may not). `None` for names that are not partition
/// directories, including the `.deleted`/`.stray` ones, which never end in
/// digits.
pub(crate) fn parse_partition_dir(name: &str) -> Option<(&str, i32)> {
    let (topic, partition) = name.rsplit_once('-')?;
    if topic.is_empty() || partition.is_empty() || !partition.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let partition: i32 = partition.parse().ok()?;
    Some((topic, partition))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_names_roundtrip_and_sort() {
        assert_eq!(
            offset_file_name(1234, FileKind::Log),
            "00000000000000001234.log"
        );
        for kind in [
            FileKind::Log,
            FileKind::Index,
            FileKind::TimeIndex,
            FileKind::TxnIndex,
            FileKind::Snapshot,
        ] {
            let n = offset_file_name(i64::MAX, kind);
            assert_eq!(parse_offset_file(&n), Some((i64::MAX, kind)));
        }
        assert_eq!(parse_offset_file("0000000000000000001.log"), None);
        assert_eq!(parse_offset_file("00000000000000000001.log.tmp"), None);
        assert_eq!(parse_offset_file("0000000000000000000x.log"), None);
        assert_eq!(parse_offset_file("99999999999999999999.log"), None);
        let mut names = [
            offset_file_name(100, FileKind::Log),
            offset_file_name(9, FileKind::Log),
        ];
        names.sort();
        assert_eq!(names[0], offset_file_name(9, FileKind::Log));
    }

    #[test]
    fn swap_names_roundtrip() {
        let n = swap_file_name(5, 1234);
        assert_eq!(n, "00000000000000000005.00000000000000001234.swap");
        assert_eq!(parse_swap_file(&n), Some((5, 1234)));
        assert_eq!(parse_offset_file(&n), None);
        assert_eq!(parse_swap_file("00000000000000000005.log"), None);
    }

    #[test]
    fn partition_dirs() {
        assert_eq!(parse_partition_dir("my-topic-12"), Some(("my-topic", 12)));
        assert_eq!(
            parse_partition_dir(&partition_dir_name(".a-b", 0)),
            Some((".a-b", 0))
        );
        assert_eq!(parse_partition_dir("topic"), None);
        assert_eq!(parse_partition_dir("-3"), None);
        assert_eq!(parse_partition_dir("t-0.abc.deleted"), None);
        assert_eq!(parse_partition_dir("t-99999999999"), None);
    }
}
