//! The handlers' view of authorization (Kafka's `AuthHelper`): may this
//! session do this operation on this resource. With no authorizer
//! configured every check is one branch that answers yes, so the
//! produce/fetch path pays nothing when ACLs are off.
//!
//! It also writes the audit log, as Kafka's `kafka.authorizer.logger` does:
//! one INFO line per denied operation and a DEBUG line per allowed one, on
//! the tracing target `skiff::authorizer` (principal, operation, host,
//! resource and the request's name; never a credential). Checks that only
//! filter what a listing shows (Kafka's `logIfDenied = false`) go through
//! [`Broker::authorize_quiet`] and log a denial at TRACE only.

use std::cell::RefCell;
use std::future::Future;

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

/// The tracing target of the audit log (Kafka's `kafka.authorizer.logger`).
pub const AUDIT_TARGET: &str = "skiff::authorizer";

/// What the audit log knows of the request being handled.
struct AuditScope {
    api: &'static str,
    /// Denials already logged for this request: a handler may check one
    /// resource more than once (once per partition), Kafka logs it once.
    denied: Vec<(AclOperation, ResourceType, String)>,
}

tokio::task_local! {
    static AUDIT: RefCell<AuditScope>;
}

/// Runs the handling of one request (`api` is its name) with its audit scope.
pub(crate) async fn audited<F: Future>(api: &'static str, handling: F) -> F::Output {
    let scope = RefCell::new(AuditScope {
        api,
        denied: Vec::new(),
    });
    AUDIT.scope(scope, handling).await
}

/// Writes the audit line of one decision; `log_denied` is false for checks
/// that only filter a listing.
fn audit(
    who: &Requester<'_>,
    op: AclOperation,
    resource_type: ResourceType,
    name: &str,
    allowed: bool,
    log_denied: bool,
) {
    use tracing::Level;
    let level = match (allowed, log_denied) {
        (true, _) => Level::DEBUG,
        (false, true) => Level::INFO,
        (false, false) => Level::TRACE,
    };
    let enabled = match level {
        Level::DEBUG => tracing::enabled!(target: AUDIT_TARGET, Level::DEBUG),
        Level::INFO => tracing::enabled!(target: AUDIT_TARGET, Level::INFO),
        _ => tracing::enabled!(target: AUDIT_TARGET, Level::TRACE),
    };
    if !enabled {
        return;
    }
    let api = AUDIT
        .try_with(|scope| {
            let mut scope = scope.borrow_mut();
            if level == Level::INFO {
                let key = (op, resource_type, name.to_string());
                if scope.denied.contains(&key) {
                    return None;
                }
                scope.denied.push(key);
            }
            Some(scope.api)
        })
        // Outside a request (e.g. the HTTP console): no name, always logged.
        .unwrap_or(Some("-"));
    let Some(api) = api else { return };
    let principal = format_args!("{}:{}", who.principal_type, who.principal_name);
    let resource_type = pascal_case(resource_type.label());
    let verdict = if allowed { "Allowed" } else { "Denied" };
    // One macro call per level: tracing fixes the level at the call site.
    macro_rules! line {
        ($lvl:ident) => {
            tracing::$lvl!(target: AUDIT_TARGET, %principal, %op, host = who.host,
                resource = %format_args!("{resource_type}:LITERAL:{name}"), request = api,
                "Principal = {principal} is {verdict} operation = {op} from host = {} on resource = {resource_type}:LITERAL:{name} for request = {api}",
                who.host)
        };
    }
    match level {
        Level::DEBUG => line!(debug),
        Level::INFO => line!(info),
        _ => line!(trace),
    }
}

/// Kafka's `SecurityUtils.resourceTypeName`: `TRANSACTIONAL_ID` → `TransactionalId`.
fn pascal_case(label: &str) -> String {
    label
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars.map(|c| c.to_ascii_lowercase()))
        })
        .collect()
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
        self.authorize_logged(session, op, resource_type, name, true)
    }

    /// [`Broker::authorize`] for a check that only filters what a listing
    /// shows (Kafka's `logIfDenied = false`): a denial is no audit event.
    pub(crate) fn authorize_quiet(
        &self,
        session: &Session,
        op: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        self.authorize_logged(session, op, resource_type, name, false)
    }

    /// The one authorization path: `log_denied` says whether a denial is an
    /// audit event (INFO) or only a listing filter (TRACE).
    fn authorize_logged(
        &self,
        session: &Session,
        op: AclOperation,
        resource_type: ResourceType,
        name: &str,
        log_denied: bool,
    ) -> bool {
        match &self.authorizer {
            None => true,
            Some(a) => {
                let who = requester(session);
                let allowed = a.authorize(&who, op, resource_type, name);
                audit(&who, op, resource_type, name, allowed, log_denied);
                allowed
            }
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

#[cfg(test)]
mod tests {
    use super::pascal_case;

    #[test]
    fn resource_types_are_named_as_kafka_logs_them() {
        assert_eq!(pascal_case("TOPIC"), "Topic");
        assert_eq!(pascal_case("TRANSACTIONAL_ID"), "TransactionalId");
        assert_eq!(pascal_case("DELEGATION_TOKEN"), "DelegationToken");
    }
}
