//! The one place storage and group errors become Kafka error codes.

use kafka_protocol::ResponseError;
use tracing::error;

use crate::group::consumer::ConsumerGroupError;
use crate::group::GroupError;
use crate::record::RecordError;
use crate::storage::StorageError;
use crate::txn::TxnError;

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
        // A batch that inflates past the decompression bound will never be
        // accepted: a non-retriable answer, not CORRUPT_MESSAGE (which
        // clients retry until they time out).
        StorageError::Record(RecordError::InvalidRecord(_))
        | StorageError::Record(RecordError::DecompressedTooLarge { .. })
        | StorageError::InvalidRecord(_) => ResponseError::InvalidRecord,
        StorageError::Record(_) => ResponseError::CorruptMessage,
        StorageError::UnknownTopic(_) => ResponseError::UnknownTopicOrPartition,
        StorageError::TopicAlreadyExists(_) => ResponseError::TopicAlreadyExists,
        StorageError::InvalidPartitions { .. } => ResponseError::InvalidPartitions,
        StorageError::RecordTooLarge { .. } => ResponseError::MessageTooLarge,
        StorageError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange,
        StorageError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
        StorageError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
        StorageError::InvalidTxnState(_) => ResponseError::InvalidTxnState,
        StorageError::InvalidConfig { .. } => ResponseError::InvalidConfig,
    }
}

/// The Kafka error code a group coordinator error is reported as. A failed
/// write to `__consumer_offsets` becomes COORDINATOR_NOT_AVAILABLE, which
/// clients retry (Kafka maps its own append failures the same way).
pub fn group_error_code(e: &GroupError) -> ResponseError {
    match e {
        GroupError::CoordinatorNotAvailable => ResponseError::CoordinatorNotAvailable,
        GroupError::InvalidGroupId => ResponseError::InvalidGroupId,
        GroupError::InvalidSessionTimeout { .. } => ResponseError::InvalidSessionTimeout,
        GroupError::UnknownMemberId => ResponseError::UnknownMemberId,
        GroupError::MemberIdRequired => ResponseError::MemberIdRequired,
        GroupError::IllegalGeneration => ResponseError::IllegalGeneration,
        GroupError::RebalanceInProgress => ResponseError::RebalanceInProgress,
        GroupError::FencedInstanceId => ResponseError::FencedInstanceId,
        GroupError::InconsistentGroupProtocol => ResponseError::InconsistentGroupProtocol,
        GroupError::GroupIdNotFound(_) => ResponseError::GroupIdNotFound,
        GroupError::NonEmptyGroup => ResponseError::NonEmptyGroup,
        GroupError::GroupMaxSizeReached => ResponseError::GroupMaxSizeReached,
        GroupError::OffsetMetadataTooLarge => ResponseError::OffsetMetadataTooLarge,
        GroupError::GroupSubscribedToTopic => ResponseError::GroupSubscribedToTopic,
        GroupError::InvalidRequest(_) => ResponseError::InvalidRequest,
        GroupError::UnstableOffsetCommit => ResponseError::UnstableOffsetCommit,
        GroupError::Consumer(c) => consumer_group_error_code(c),
        GroupError::Storage(inner) => {
            error!(error = %e, cause = %inner, "group coordinator storage failure");
            ResponseError::CoordinatorNotAvailable
        }
    }
}

/// The Kafka error code of a consumer group (KIP-848) refusal.
pub fn consumer_group_error_code(e: &ConsumerGroupError) -> ResponseError {
    match e {
        ConsumerGroupError::InvalidRequest(_) => ResponseError::InvalidRequest,
        ConsumerGroupError::UnsupportedAssignor(_) => ResponseError::UnsupportedAssignor,
        ConsumerGroupError::InvalidRegularExpression(_) => ResponseError::InvalidRegularExpression,
        ConsumerGroupError::GroupIdNotFound(_) => ResponseError::GroupIdNotFound,
        ConsumerGroupError::UnknownMemberId(_) => ResponseError::UnknownMemberId,
        ConsumerGroupError::FencedMemberEpoch(_) => ResponseError::FencedMemberEpoch,
        ConsumerGroupError::StaleMemberEpoch(_) => ResponseError::StaleMemberEpoch,
        ConsumerGroupError::UnreleasedInstanceId(_) => ResponseError::UnreleasedInstanceId,
        ConsumerGroupError::FencedInstanceId(_) => ResponseError::FencedInstanceId,
        ConsumerGroupError::GroupMaxSizeReached(_) => ResponseError::GroupMaxSizeReached,
        ConsumerGroupError::NonEmptyGroup => ResponseError::NonEmptyGroup,
        ConsumerGroupError::IllegalGeneration(_) => ResponseError::IllegalGeneration,
        ConsumerGroupError::UnsupportedVersion(_) => ResponseError::UnsupportedVersion,
    }
}

/// The wire code of an optional group error (0 for none).
pub fn group_error_code_or_none(e: Option<&GroupError>) -> i16 {
    e.map_or(0, |e| group_error_code(e).code())
}

/// The Kafka error code a transaction coordinator error is reported as.
/// `fenced_is_known`: the request version knows PRODUCER_FENCED (KIP-588);
/// older clients get INVALID_PRODUCER_EPOCH instead, as Kafka answers them.
pub fn txn_error_code(e: &TxnError, fenced_is_known: bool) -> ResponseError {
    match e {
        TxnError::InvalidRequest(_) => ResponseError::InvalidRequest,
        TxnError::InvalidTransactionTimeout { .. } => ResponseError::InvalidTransactionTimeout,
        TxnError::ConcurrentTransactions => ResponseError::ConcurrentTransactions,
        TxnError::ProducerFenced { .. } if fenced_is_known => ResponseError::ProducerFenced,
        TxnError::ProducerFenced { .. } => ResponseError::InvalidProducerEpoch,
        TxnError::InvalidProducerIdMapping => ResponseError::InvalidProducerIdMapping,
        TxnError::InvalidTxnState(_) => ResponseError::InvalidTxnState,
        TxnError::TransactionAbortable => ResponseError::TransactionAbortable,
        TxnError::TransactionalIdNotFound => ResponseError::TransactionalIdNotFound,
        TxnError::ProducerIdAllocation => {
            error!(error = %e, "transaction coordinator failure");
            ResponseError::CoordinatorNotAvailable
        }
        TxnError::Storage(inner) => {
            error!(error = %e, cause = %inner, "transaction coordinator storage failure");
            ResponseError::CoordinatorNotAvailable
        }
    }
}
