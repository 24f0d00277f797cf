//! CreateAcls: add ACL bindings. Needs ALTER on the cluster; without an
//! authorizer every creation answers SECURITY_DISABLED, as Kafka.

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::{CreateAclsRequest, CreateAclsResponse};
use kafka_protocol::ResponseError;
use tracing::error;

use super::str_bytes;
use crate::acl::{AclBinding, AclOperation};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: CreateAclsRequest,
    _version: i16,
    session: &Session,
) -> CreateAclsResponse {
    let all = |code: ResponseError, message: &str| {
        let result = AclCreationResult::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)));
        CreateAclsResponse::default().with_results(vec![result; req.creations.len()])
    };
    let authorizer = match broker.acl_authorizer(session, AclOperation::Alter) {
        Ok(a) => a,
        Err((code, message)) => return all(code, message),
    };
    let parsed: Vec<Result<AclBinding, String>> = req
        .creations
        .iter()
        .map(|c| {
            AclBinding::from_wire(
                c.resource_type,
                &c.resource_name,
                c.resource_pattern_type,
                &c.principal,
                &c.host,
                c.operation,
                c.permission_type,
            )
            .map_err(|e| e.0)
        })
        .collect();
    let valid: Vec<AclBinding> = parsed.iter().filter_map(|r| r.clone().ok()).collect();
    let stored = if valid.is_empty() {
        Ok(())
    } else {
        authorizer.create(&valid).map_err(|e| {
            error!(error = %e, "cannot store ACLs");
            e.to_string()
        })
    };
    let results = parsed
        .into_iter()
        .map(|r| match (r, &stored) {
            (Err(message), _) => AclCreationResult::default()
                .with_error_code(ResponseError::InvalidRequest.code())
                .with_error_message(Some(str_bytes(message))),
            (Ok(_), Err(message)) => AclCreationResult::default()
                .with_error_code(ResponseError::UnknownServerError.code())
                .with_error_message(Some(str_bytes(message.clone()))),
            (Ok(_), Ok(())) => AclCreationResult::default(),
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}
