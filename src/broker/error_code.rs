//! The one place storage errors become Kafka error codes.

use kafka_protocol::ResponseError;
use tracing::error;

use crate::record::RecordError;
use crate::storage::StorageError;

/// The Kafka error code a storage error is reported as. Disk failures are
/// logged here, once, since the client only sees KAFKA_STORAGE_ERROR.
pub fn storage_error_code(e: &StorageError) -> ResponseError {
    match e {
        StorageError::Io { .. }
        | StorageError::CorruptIndex { .. }
        | StorageError::CorruptMetadata { .. } => {
            error!(error = %e, cause = ?std::error::Error::source(e), "storage failure");
            ResponseError::KafkaStorageError
        }
        StorageError::Record(RecordError::UnsupportedMagic(_)) => {
            ResponseError::UnsupportedForMessageFormat
        }
        StorageError::Record(RecordError::InvalidRecord(_)) | StorageError::InvalidRecord(_) => {
            ResponseError::InvalidRecord
        }
        StorageError::Record(_) => ResponseError::CorruptMessage,
        StorageError::UnknownTopic(_) => ResponseError::UnknownTopicOrPartition,
        StorageError::TopicAlreadyExists(_) => ResponseError::TopicAlreadyExists,
        StorageError::InvalidPartitions { .. } => ResponseError::InvalidPartitions,
        StorageError::RecordTooLarge { .. } => ResponseError::MessageTooLarge,
        StorageError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange,
        StorageError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
        StorageError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
        StorageError::InvalidConfig { .. } => ResponseError::InvalidConfig,
    }
}
