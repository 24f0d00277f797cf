//! `ConsumerGroupError`: why a consumer group operation was refused, one
//! variant per Kafka error (mapped to wire codes in
//! `broker/error_code.rs`). The text is the error message Kafka sends
//! along, as clients log it.

/// A refused consumer group operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsumerGroupError {
    /// A request the protocol forbids.
    #[error("{0}")]
    InvalidRequest(String),
    /// `server_assignor` names no configured assignor.
    #[error("{0}")]
    UnsupportedAssignor(String),
    /// `subscribed_topic_regex` does not compile.
    #[error("{0}")]
    InvalidRegularExpression(String),
    /// No consumer group of that id (or a group of another type).
    #[error("{0}")]
    GroupIdNotFound(String),
    /// The member is not (or no longer) in the group.
    #[error("{0}")]
    UnknownMemberId(String),
    /// The member's epoch is not one the coordinator accepts.
    #[error("{0}")]
    FencedMemberEpoch(String),
    /// OffsetCommit/OffsetFetch with another epoch than the member's.
    #[error("{0}")]
    StaleMemberEpoch(String),
    /// Another member holds the instance id and has not left.
    #[error("{0}")]
    UnreleasedInstanceId(String),
    /// A newer member took over the instance id.
    #[error("{0}")]
    FencedInstanceId(String),
    /// `group.consumer.max.size` reached.
    #[error("{0}")]
    GroupMaxSizeReached(String),
    /// The group still has members.
    #[error("the group is not empty")]
    NonEmptyGroup,
    /// A classic-protocol member's generation is not its member epoch.
    #[error("{0}")]
    IllegalGeneration(String),
    /// OffsetCommit below v9 from a member of the consumer protocol.
    #[error("{0}")]
    UnsupportedVersion(String),
}
