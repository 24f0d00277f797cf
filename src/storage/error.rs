//! `StorageError`: everything the storage layer can fail with. The broker
//! maps these to Kafka error codes in one place (`broker/error_code.rs`);
//! storage itself knows no codes. I/O errors keep their cause and say what
//! was being done to which path.

use std::io;
use std::path::{Path, PathBuf};

use crate::record::RecordError;

/// Result alias for the storage layer.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An operating-system I/O error; `context` names the operation and path.
    #[error("I/O error: {context}")]
    Io {
        /// What was being done, e.g. "fsync /data/t-0/000…0.log".
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A batch failed format validation (length, magic, CRC).
    #[error("invalid record batch")]
    Record(#[from] RecordError),
    /// No such topic.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// `create_topic` on an existing name.
    #[error("topic {0:?} already exists")]
    TopicAlreadyExists(String),
    /// A partition count that is not allowed (`<= 0` on create, or not
    /// larger than the current count on `create_partitions`).
    #[error("invalid partition count {requested} for topic {topic:?} (current {current})")]
    InvalidPartitions {
        /// Topic name.
        topic: String,
        /// Current partition count (0 when creating).
        current: i32,
        /// Requested count.
        requested: i32,
    },
    /// The batch is larger than `max.message.bytes`.
    #[error("record batch of {size} bytes exceeds max.message.bytes {max}")]
    RecordTooLarge {
        /// Batch size in bytes.
        size: usize,
        /// The configured limit.
        max: i32,
    },
    /// A fetch offset outside `[log_start, log_end]`.
    #[error("offset {requested} out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        /// Requested offset.
        requested: i64,
        /// First offset in the log.
        log_start: i64,
        /// Log end offset (next offset to be assigned).
        log_end: i64,
    },
    /// An idempotent producer's sequence number is not the next expected one.
    #[error(
        "out of order sequence for producer {producer_id} epoch {epoch}: \
         got {first_seq}, last appended {last_seq}"
    )]
    OutOfOrderSequence {
        /// Producer id.
        producer_id: i64,
        /// Epoch of the rejected batch.
        epoch: i16,
        /// First sequence of the rejected batch.
        first_seq: i32,
        /// Last sequence appended for this producer (-1 if none).
        last_seq: i32,
    },
    /// An idempotent producer's epoch is older than the one already seen.
    #[error("producer {producer_id} epoch {epoch} is older than current epoch {current_epoch}")]
    InvalidProducerEpoch {
        /// Producer id.
        producer_id: i64,
        /// Epoch of the rejected batch.
        epoch: i16,
        /// Epoch already recorded for this producer.
        current_epoch: i16,
    },
    /// A producer did something its transaction state does not allow
    /// (a non-transactional batch while it has an ongoing transaction).
    #[error("invalid transaction state: {0}")]
    InvalidTxnState(&'static str),
    /// A topic config key is unknown or its value does not parse / is out
    /// of range.
    #[error("invalid config {key}={value:?}: {reason}")]
    InvalidConfig {
        /// Config key.
        key: String,
        /// Offending value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An index file is unusable. Indexes are rebuilt on open, so this is
    /// only seen if a file changes under a running broker.
    #[error("corrupt index {path}: {reason}")]
    CorruptIndex {
        /// Index file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A topic metadata file that cannot be parsed.
    #[error("corrupt topic metadata {path}: {reason}")]
    CorruptMetadata {
        /// Metadata file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A batch that is well-formed but not acceptable (e.g. a control batch
    /// from a client, or a record count that disagrees with the offsets).
    #[error("invalid record: {0}")]
    InvalidRecord(&'static str),
}

impl StorageError {
    /// Wraps an `io::Error` with a description of the operation and path.
    pub(crate) fn io(what: &str, path: &Path, source: io::Error) -> StorageError {
        StorageError::Io {
            context: format!("{what} {}", path.display()),
            source,
        }
    }
}

/// `.map_err(io_err("fsync", &path))` shorthand.
pub(crate) fn io_err<'a>(
    what: &'a str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StorageError + 'a {
    move |e| StorageError::io(what, path, e)
}
