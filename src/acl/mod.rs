//! Access control lists and the authorizer that checks requests against them.
//!
//! Owns Kafka's ACL model (resource types, pattern types, operations,
//! permissions; [`types`]), the [`Authorizer`] that answers "may this
//! principal, from this host, do this operation on this resource" the way
//! Kafka's `StandardAuthorizer` does, and the durable ACL file in the data
//! dir ([`store`]). It knows nothing of the wire protocol: the CreateAcls,
//! DescribeAcls and DeleteAcls handlers and every other handler's check live
//! in `broker`.
//!
//! Authorization is on only when `authorizer.class.name` is set, as in Kafka:
//! a broker without an authorizer authorizes nothing (every request is
//! allowed, ACL requests answer SECURITY_DISABLED). The broker then holds no
//! `Authorizer` at all, so the check on the produce/fetch path is one branch.

mod authorizer;
mod store;
mod types;

pub use authorizer::{AclConfig, Authorizer, Requester};
pub use store::StoreError;
pub use types::{
    supported_operations, AclBinding, AclBindingFilter, AclOperation, PatternType, PermissionType,
    ResourceType, CLUSTER_NAME, WILDCARD,
};
