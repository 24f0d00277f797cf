//! `GroupError`: why a group operation was refused. Each variant is named
//! after the Kafka error the broker answers with (the mapping to wire codes
//! lives in `broker/error_code.rs`, nowhere else).

use std::sync::Arc;

use crate::storage::StorageError;

/// A group coordinator failure. `Clone`, because one failure (a failed
/// append, a rebalance) is often delivered to several parked requests.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupError {
    /// The group is being removed or its state could not be written.
    #[error("the group coordinator is not available")]
    CoordinatorNotAvailable,
    /// An empty group id where one is required.
    #[error("the group id is empty")]
    InvalidGroupId,
    /// The session timeout is outside
    /// `group.min.session.timeout.ms..=group.max.session.timeout.ms`.
    #[error("session timeout {timeout_ms} ms is outside {min_ms}..={max_ms} ms")]
    InvalidSessionTimeout {
        /// Requested timeout.
        timeout_ms: i32,
        /// `group.min.session.timeout.ms`.
        min_ms: i32,
        /// `group.max.session.timeout.ms`.
        max_ms: i32,
    },
    /// The member id is not (or no longer) in the group.
    #[error("unknown member id")]
    UnknownMemberId,
    /// JoinGroup v4+ with an empty member id: rejoin with the id given.
    #[error("a member id is required: rejoin with the one assigned")]
    MemberIdRequired,
    /// The generation is not the group's current one.
    #[error("illegal generation")]
    IllegalGeneration,
    /// The group is rebalancing: rejoin.
    #[error("the group is rebalancing")]
    RebalanceInProgress,
    /// Another member now holds this `group.instance.id`.
    #[error("the static member was fenced by a newer instance")]
    FencedInstanceId,
    /// No protocol in common with the group, or a different protocol type.
    #[error("inconsistent group protocol")]
    InconsistentGroupProtocol,
    /// No such group.
    #[error("group {0} not found")]
    GroupIdNotFound(String),
    /// The group still has members.
    #[error("the group is not empty")]
    NonEmptyGroup,
    /// `group.max.size` reached.
    #[error("the group is full (group.max.size)")]
    GroupMaxSizeReached,
    /// A commit's metadata string exceeds `offset.metadata.max.bytes`.
    #[error("offset metadata is too large")]
    OffsetMetadataTooLarge,
    /// OffsetDelete on a topic the group's members subscribe to.
    #[error("the group is subscribed to the topic")]
    GroupSubscribedToTopic,
    /// A request the protocol forbids (e.g. a static member id on a pending
    /// member).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// OffsetFetch with `require_stable`: a transaction holding an offset
    /// commit for this partition has not ended yet; retry.
    #[error("a transactional offset commit for this partition is pending")]
    UnstableOffsetCommit,
    /// A consumer group (KIP-848) refusal, with Kafka's message.
    #[error(transparent)]
    Consumer(#[from] super::consumer::ConsumerGroupError),
    /// Appending to `__consumer_offsets` failed.
    #[error("cannot write to __consumer_offsets")]
    Storage(#[source] Arc<StorageError>),
}

impl From<StorageError> for GroupError {
    fn from(e: StorageError) -> Self {
        GroupError::Storage(Arc::new(e))
    }
}
