//! The classic group protocol's requests and answers as the coordinator
//! takes and gives them (Kafka's JoinGroup, SyncGroup, Heartbeat and
//! LeaveGroup request/response data, without the wire format): handlers in
//! `broker/handlers/` build the `*Params`, the classic group code produces
//! the `*Result`s.
//!
//! A leaf module: `Member` (member.rs) parks senders of these answers and
//! `ClassicGroup` (classic_group.rs) builds them, so both import this file
//! and nothing here imports them.

use bytes::Bytes;

use super::error::GroupError;

/// One protocol a member supports: an assignor name ("range",
/// "cooperative-sticky", ...) and its metadata (for consumers, the
/// subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// Protocol name.
    pub name: String,
    /// Opaque protocol metadata.
    pub metadata: Bytes,
}

/// A JoinGroup request.
#[derive(Debug, Clone)]
pub struct JoinGroupParams {
    /// Group id.
    pub group_id: String,
    /// Empty for a member that has none yet.
    pub member_id: String,
    /// `group.instance.id` (static membership).
    pub group_instance_id: Option<String>,
    /// Client id from the request header.
    pub client_id: String,
    /// Client address (`/127.0.0.1`).
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `max.poll.interval.ms` (v0: the session timeout).
    pub rebalance_timeout_ms: i32,
    /// "consumer", ...
    pub protocol_type: String,
    /// Supported protocols, most preferred first.
    pub protocols: Vec<Protocol>,
    /// JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED.
    pub require_known_member_id: bool,
    /// JoinGroup v9+: a rejoining static leader may skip the assignment.
    pub supports_skip_assignment: bool,
    /// Client-supplied reason (logged).
    pub reason: Option<String>,
}

/// One member as the leader's JoinGroup response lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Its metadata for the selected protocol.
    pub metadata: Bytes,
}

/// A JoinGroup answer.
#[derive(Debug, Clone)]
pub struct JoinGroupResult {
    /// The error, if any.
    pub error: Option<GroupError>,
    /// Generation (-1 on error).
    pub generation_id: i32,
    /// Group protocol type.
    pub protocol_type: Option<String>,
    /// Selected protocol.
    pub protocol_name: Option<String>,
    /// Leader member id.
    pub leader: String,
    /// v9+: the (static) leader must not recompute the assignment.
    pub skip_assignment: bool,
    /// The member's id (for MEMBER_ID_REQUIRED: the id to rejoin with).
    pub member_id: String,
    /// Every member, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinGroupResult {
    /// An error answer.
    pub fn error(member_id: &str, error: GroupError) -> JoinGroupResult {
        JoinGroupResult {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub struct SyncGroupParams {
    /// Group id.
    pub group_id: String,
    /// Generation the member joined.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// v5+: must match the group's if set.
    pub protocol_type: Option<String>,
    /// v5+: must match the group's if set.
    pub protocol_name: Option<String>,
    /// The leader's assignment: member id → opaque assignment.
    pub assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup answer.
#[derive(Debug, Clone)]
pub struct SyncGroupResult {
    /// The error, if any.
    pub error: Option<GroupError>,
    /// Group protocol type.
    pub protocol_type: Option<String>,
    /// Selected protocol.
    pub protocol_name: Option<String>,
    /// This member's assignment.
    pub assignment: Bytes,
}

impl SyncGroupResult {
    /// An error answer.
    pub fn error(error: GroupError) -> SyncGroupResult {
        SyncGroupResult {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// A Heartbeat request.
#[derive(Debug, Clone)]
pub struct HeartbeatParams {
    /// Group id.
    pub group_id: String,
    /// Generation.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
}

/// One member of a LeaveGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeavingMember {
    /// Member id (empty: remove the static member `group_instance_id`).
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Client-supplied reason (logged).
    pub reason: Option<String>,
}
