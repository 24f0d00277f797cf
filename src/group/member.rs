//! A member of a classic group (Kafka's `ClassicGroupMember`): its
//! identity, timeouts, the protocols it supports (in preference order, each
//! with opaque metadata the broker never interprets except for OffsetDelete's
//! subscription check), its assignment, and the parked JoinGroup / SyncGroup
//! request it may be waiting on.
//!
//! Session deadlines are not stored here: they live in the coordinator's
//! timer table under `(group, member)`, so removing a member removes its
//! timer with it.

use bytes::Bytes;
use tokio::sync::oneshot;

pub use super::classic_api::Protocol;
use super::classic_api::{JoinGroupResult, SyncGroupResult};

/// A member id: `<client.id or group.instance.id>-<uuid>`.
pub type MemberId = String;

/// A group member.
#[derive(Debug)]
pub struct Member {
    /// The id the coordinator gave it.
    pub member_id: MemberId,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// The client's `client.id`.
    pub client_id: String,
    /// The client's address, as Kafka writes it (`/127.0.0.1`).
    pub client_host: String,
    /// Longest a rebalance may wait for this member to rejoin.
    pub rebalance_timeout_ms: i32,
    /// Silence after which the member is evicted.
    pub session_timeout_ms: i32,
    /// "consumer", "connect", ...
    pub protocol_type: String,
    /// Supported protocols, most preferred first.
    pub protocols: Vec<Protocol>,
    /// The leader's assignment for this member (empty until synced).
    pub assignment: Bytes,
    /// Joined but not yet through a completed join phase: may be evicted
    /// while its JoinGroup is parked (Kafka's `isNew`).
    pub is_new: bool,
    /// The parked JoinGroup, answered when the join phase completes.
    pub(crate) awaiting_join: Option<oneshot::Sender<JoinGroupResult>>,
    /// The parked SyncGroup, answered when the leader's assignment arrives.
    pub(crate) awaiting_sync: Option<oneshot::Sender<SyncGroupResult>>,
}

impl Member {
    /// Whether a JoinGroup of this member is parked.
    pub fn is_awaiting_join(&self) -> bool {
        self.awaiting_join.is_some()
    }

    /// Whether a SyncGroup of this member is parked.
    pub fn is_awaiting_sync(&self) -> bool {
        self.awaiting_sync.is_some()
    }

    /// Whether a heartbeat deadline passing is no reason to evict: members
    /// parked in a rebalance are alive by definition, except new members,
    /// which time out even while parked (their JoinGroup may be abandoned).
    pub fn has_satisfied_heartbeat(&self) -> bool {
        !self.is_new && (self.is_awaiting_join() || self.is_awaiting_sync())
    }

    /// The metadata this member sent for `protocol` (empty if none).
    pub fn metadata(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|p| p.name == protocol)
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }

    /// Whether `protocols` equals what this member sent last (names,
    /// order and metadata).
    pub fn matches(&self, protocols: &[Protocol]) -> bool {
        self.protocols == protocols
    }

    /// The first of this member's protocols (in its preference order) that
    /// is in `candidates`.
    pub fn vote<'a>(&'a self, candidates: &[&str]) -> Option<&'a str> {
        self.protocols
            .iter()
            .map(|p| p.name.as_str())
            .find(|name| candidates.contains(name))
    }

    /// Whether this member has the protocol `name`.
    pub fn supports(&self, name: &str) -> bool {
        self.protocols.iter().any(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(protocols: &[&str]) -> Member {
        Member {
            member_id: "m".into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
            rebalance_timeout_ms: 1000,
            session_timeout_ms: 1000,
            protocol_type: "consumer".into(),
            protocols: protocols
                .iter()
                .map(|n| Protocol {
                    name: n.to_string(),
                    metadata: Bytes::from(n.to_string()),
                })
                .collect(),
            assignment: Bytes::new(),
            is_new: false,
            awaiting_join: None,
            awaiting_sync: None,
        }
    }

    #[test]
    fn votes_follow_member_preference() {
        let m = member(&["cooperative-sticky", "range"]);
        assert_eq!(
            m.vote(&["range", "cooperative-sticky"]),
            Some("cooperative-sticky")
        );
        assert_eq!(m.vote(&["range"]), Some("range"));
        assert_eq!(m.vote(&["roundrobin"]), None);
        assert_eq!(m.metadata("range"), Bytes::from_static(b"range"));
        assert!(m.metadata("roundrobin").is_empty());
    }

    #[test]
    fn new_members_never_satisfy_heartbeats() {
        let mut m = member(&["range"]);
        assert!(!m.has_satisfied_heartbeat());
        let (tx, _rx) = oneshot::channel();
        m.awaiting_join = Some(tx);
        assert!(m.has_satisfied_heartbeat());
        m.is_new = true;
        assert!(!m.has_satisfied_heartbeat());
    }
}
