//! The Kafka v2 `RecordBatch` format (magic 2), as it travels on the wire and
//! sits on disk: the one format shared by Produce, Fetch and the log segments.
//!
//! This module owns the *bytes* of a batch, not the request protocol: it
//! parses and validates the 61-byte batch header (length, magic, CRC-32C),
//! rewrites the parts of the header the broker is allowed to change (base
//! offset, partition leader epoch, LogAppendTime timestamps), walks buffers
//! of concatenated batches, and looks at individual records where the broker
//! must: ListOffsets-by-timestamp (uncompressed batches only), the key check
//! of compacted topics and the log cleaner (compressed batches too, through
//! [`Compression`], with a bounded output). Produce and Fetch never decode,
//! decompress or re-encode records.
//!
//! Dependencies: `bytes`-free slices in, `crc32c` for checksums, the codec
//! crates (`flate2`, `snap`, `lz4`, `zstd`) in `compression`. Nothing here
//! knows about requests, sockets or files.

mod batch;
mod compression;
mod legacy;
mod records;

use std::fmt;

pub use batch::{
    complete_batches_prefix, header_copy, log_append_time_header, set_base_offset,
    set_max_timestamp_log_append, set_partition_leader_epoch, validate_batch, validate_batches,
    BatchHeader, BatchIter, ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_DELETE_HORIZON,
    ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER_LEN, CRC_START, LOG_OVERHEAD, MAGIC_V2,
    MIN_BATCH_LENGTH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, NO_TIMESTAMP,
};
pub use compression::{decompression_limit, Compression, ZSTD_WINDOW_LOG_MAX};
pub use legacy::{
    down_convert, encode_message_set, fetch_magic, first_magic, read_message_set, up_convert,
    DownConverted, LegacyMessage, OwnedMessage, PlainMessage, MAGIC_V0, MAGIC_V1,
};
pub use records::{
    first_record_at_or_after, rebuild_batch, BatchBuilder, DecodedBatch, NewRecord, Record,
    RecordIter,
};

/// A (topic, partition) pair; `Display`s as `topic-partition`, which is also
/// the name of the partition's directory on disk.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name (already validated by the caller).
    pub topic: String,
    /// Partition index, `0..partition_count`.
    pub partition: i32,
}

impl TopicPartition {
    /// Builds a `TopicPartition`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Why a batch (or a record inside one) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The buffer ends before the header or the batch it announces.
    #[error("record batch truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the header or length field calls for.
        needed: usize,
        /// Bytes actually present.
        available: usize,
    },
    /// `batch_length` is below the v2 minimum or disagrees with the buffer.
    #[error("invalid record batch length {batch_length} (buffer holds {available} bytes)")]
    InvalidLength {
        /// The `batch_length` field.
        batch_length: i32,
        /// Bytes present in the buffer.
        available: usize,
    },
    /// Magic 0 or 1 (legacy message sets) or garbage: only v2 is supported.
    #[error("unsupported record batch magic {0} (only magic 2 is supported)")]
    UnsupportedMagic(i8),
    /// The CRC-32C over bytes `21..end` does not match the header.
    #[error("record batch CRC mismatch: header says {expected:#010x}, computed {computed:#010x}")]
    CorruptCrc {
        /// CRC stored in the batch header.
        expected: u32,
        /// CRC-32C computed over the batch.
        computed: u32,
    },
    /// A header field or record is structurally invalid.
    #[error("invalid record: {0}")]
    InvalidRecord(&'static str),
    /// Attribute bits 0-2 hold 5, 6 or 7: no such codec.
    #[error("unknown compression codec id {0}")]
    UnknownCompression(u8),
    /// A compressed batch body that its codec cannot decode (corrupt or
    /// truncated stream).
    #[error("cannot decompress {codec} record batch: {reason}")]
    Decompression {
        /// Codec name (`gzip`, `snappy`, `lz4`, `zstd`).
        codec: &'static str,
        /// What the codec reported.
        reason: String,
    },
    /// The records of a compressed batch decompress to more than the
    /// broker allows (see [`decompression_limit`]): refused rather than
    /// allocated.
    #[error("record batch decompresses to more than {limit} bytes")]
    DecompressedTooLarge {
        /// The limit that was hit, in bytes.
        limit: usize,
    },
    /// A legacy (magic 0/1) message whose CRC-32 does not match its bytes.
    #[error("message CRC mismatch: message says {expected:#010x}, computed {computed:#010x}")]
    LegacyCrc {
        /// CRC stored in the message.
        expected: u32,
        /// CRC-32 (IEEE) computed over magic..end.
        computed: u32,
    },
    /// A legacy message whose sizes or fields do not add up (Kafka's
    /// CorruptRecordException: answered CORRUPT_MESSAGE).
    #[error("corrupt message: {0}")]
    CorruptMessage(&'static str),
    /// A batch whose codec the requested (legacy) format cannot carry:
    /// zstd below magic 2 (UNSUPPORTED_COMPRESSION_TYPE).
    #[error("{codec} batches cannot be converted to magic {magic}")]
    UnsupportedCompression {
        /// Codec name.
        codec: &'static str,
        /// The magic asked for.
        magic: i8,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_partition_display() {
        assert_eq!(TopicPartition::new("a-b.c", 7).to_string(), "a-b.c-7");
    }
}
