//! DescribeAcls: the ACLs a filter matches, grouped by resource pattern.
//! Needs DESCRIBE on the cluster; SECURITY_DISABLED without an authorizer.

use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{DescribeAclsRequest, DescribeAclsResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::{AclBindingFilter, AclOperation};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DescribeAclsRequest,
    _version: i16,
    session: &Session,
) -> DescribeAclsResponse {
    let fail = |code: ResponseError, message: String| {
        DescribeAclsResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    let authorizer = match broker.acl_authorizer(session, AclOperation::Describe) {
        Ok(a) => a,
        Err((code, message)) => return fail(code, message.into()),
    };
    let filter = match AclBindingFilter::from_wire(
        req.resource_type_filter,
        req.resource_name_filter.as_deref(),
        req.pattern_type_filter,
        req.principal_filter.as_deref(),
        req.host_filter.as_deref(),
        req.operation,
        req.permission_type,
    ) {
        Ok(f) => f,
        Err(e) => return fail(ResponseError::InvalidRequest, e.0),
    };
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for acl in authorizer.acls(&filter) {
        let description = AclDescription::default()
            .with_principal(str_bytes(acl.principal))
            .with_host(str_bytes(acl.host))
            .with_operation(acl.operation.code())
            .with_permission_type(acl.permission.code());
        let same = |r: &&mut DescribeAclsResource| {
            r.resource_type == acl.resource_type.code()
                && r.pattern_type == acl.pattern_type.code()
                && r.resource_name.as_str() == acl.resource_name
        };
        match resources.iter_mut().find(same) {
            Some(r) => r.acls.push(description),
            None => resources.push(
                DescribeAclsResource::default()
                    .with_resource_type(acl.resource_type.code())
                    .with_resource_name(str_bytes(acl.resource_name))
                    .with_pattern_type(acl.pattern_type.code())
                    .with_acls(vec![description]),
            ),
        }
    }
    DescribeAclsResponse::default().with_resources(resources)
}
