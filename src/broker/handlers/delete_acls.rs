//! DeleteAcls: remove every ACL each filter matches, reporting per filter
//! what it matched. Needs ALTER on the cluster; SECURITY_DISABLED without an
//! authorizer.

use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::{DeleteAclsRequest, DeleteAclsResponse};
use kafka_protocol::ResponseError;
use tracing::error;

use super::str_bytes;
use crate::acl::{AclBindingFilter, AclOperation};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DeleteAclsRequest,
    _version: i16,
    session: &Session,
) -> DeleteAclsResponse {
    let failed = |code: ResponseError, message: String| {
        DeleteAclsFilterResult::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    let all = |code: ResponseError, message: &str| {
        DeleteAclsResponse::default()
            .with_filter_results(vec![failed(code, message.into()); req.filters.len()])
    };
    let authorizer = match broker.acl_authorizer(session, AclOperation::Alter) {
        Ok(a) => a,
        Err((code, message)) => return all(code, message),
    };
    let parsed: Vec<Result<AclBindingFilter, String>> = req
        .filters
        .iter()
        .map(|f| {
            AclBindingFilter::from_wire(
                f.resource_type_filter,
                f.resource_name_filter.as_deref(),
                f.pattern_type_filter,
                f.principal_filter.as_deref(),
                f.host_filter.as_deref(),
                f.operation,
                f.permission_type,
            )
            .map_err(|e| e.0)
        })
        .collect();
    let valid: Vec<AclBindingFilter> = parsed.iter().filter_map(|r| r.clone().ok()).collect();
    let mut outcomes = match authorizer.delete(&valid) {
        Ok(o) => o.into_iter(),
        Err(e) => {
            error!(error = %e, "cannot store ACLs");
            return all(ResponseError::UnknownServerError, &e.to_string());
        }
    };
    let results = parsed
        .into_iter()
        .map(|r| match r {
            Err(message) => failed(ResponseError::InvalidRequest, message),
            Ok(_) => DeleteAclsFilterResult::default().with_matching_acls(
                outcomes
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|acl| {
                        DeleteAclsMatchingAcl::default()
                            .with_resource_type(acl.resource_type.code())
                            .with_resource_name(str_bytes(acl.resource_name))
                            .with_pattern_type(acl.pattern_type.code())
                            .with_principal(str_bytes(acl.principal))
                            .with_host(str_bytes(acl.host))
                            .with_operation(acl.operation.code())
                            .with_permission_type(acl.permission.code())
                    })
                    .collect(),
            ),
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(results)
}
