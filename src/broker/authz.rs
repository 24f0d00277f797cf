//! The handlers' view of authorization (Kafka's `AuthHelper`): may this
//! session do this operation on this resource. With no authorizer
//! configured every check is one branch that answers yes, so the
//! produce/fetch path pays nothing when ACLs are off.

use crate::acl::{supported_operations, AclOperation, Authorizer, Requester, ResourceType};

use super::{Broker, Session};

pub use crate::acl::CLUSTER_NAME;

/// The session as the authorizer sees it: principal and IP address
/// (the session's host is Kafka's "/<ip>" form).
fn requester(session: &Session) -> Requester<'_> {
    let host = &session.client_host;
    Requester {
        principal_type: &session.principal.principal_type,
        principal_name: &session.principal.name,
        host: host.strip_prefix('/').unwrap_or(host),
    }
}

impl Broker {
    /// The authorizer, when `authorizer.class.name` is set.
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.authorizer.as_ref()
    }

    /// The gate of the ACL APIs, as Kafka orders it: `op` on the cluster
    /// first (CLUSTER_AUTHORIZATION_FAILED), then SECURITY_DISABLED when no
    /// authorizer is configured.
    pub(crate) fn acl_authorizer(
        &self,
        session: &Session,
        op: AclOperation,
    ) -> Result<&Authorizer, (kafka_protocol::ResponseError, &'static str)> {
        if !self.authorize_cluster(session, op) {
            return Err((
                kafka_protocol::ResponseError::ClusterAuthorizationFailed,
                "Request is not authorized.",
            ));
        }
        self.authorizer().ok_or((
            kafka_protocol::ResponseError::SecurityDisabled,
            "No Authorizer is configured.",
        ))
    }

    /// Whether `session` may do `op` on `resource_type`:`name`.
    #[inline]
    pub(crate) fn authorize(
        &self,
        session: &Session,
        op: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        match &self.authorizer {
            None => true,
            Some(a) => a.authorize(&requester(session), op, resource_type, name),
        }
    }

    /// `op` on the cluster resource.
    #[inline]
    pub(crate) fn authorize_cluster(&self, session: &Session, op: AclOperation) -> bool {
        self.authorize(session, op, ResourceType::Cluster, CLUSTER_NAME)
    }

    /// Whether `session` may DESCRIBE every named topic (a heartbeat's
    /// subscription, as KafkaApis checks it); `None` names none.
    pub(crate) fn may_describe_topics(
        &self,
        session: &Session,
        topics: Option<&[kafka_protocol::messages::TopicName]>,
    ) -> bool {
        topics
            .unwrap_or_default()
            .iter()
            .all(|t| self.authorize(session, AclOperation::Describe, ResourceType::Topic, t))
    }

    /// READ on the group: what JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
    /// OffsetCommit, ShareFetch and ShareAcknowledge need.
    pub(crate) fn may_read_group(&self, session: &Session, group: &str) -> bool {
        self.authorize(session, AclOperation::Read, ResourceType::Group, group)
    }

    /// Whether `session` may do `op` on at least one resource of the type.
    pub(crate) fn authorize_by_resource_type(
        &self,
        session: &Session,
        op: AclOperation,
        resource_type: ResourceType,
    ) -> bool {
        match &self.authorizer {
            None => true,
            Some(a) => a.authorize_by_resource_type(&requester(session), op, resource_type),
        }
    }

    /// The "authorized operations" bit field of a resource (every supported
    /// operation without an authorizer, as Kafka).
    pub(crate) fn authorized_operations(
        &self,
        session: &Session,
        resource_type: ResourceType,
        name: &str,
    ) -> i32 {
        match &self.authorizer {
            None => supported_operations(resource_type)
                .iter()
                .fold(0, |bits, op| bits | (1 << op.code())),
            Some(a) => a.authorized_operations(&requester(session), resource_type, name),
        }
    }
}
