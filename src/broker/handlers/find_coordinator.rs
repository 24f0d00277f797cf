//! FindCoordinator: this broker coordinates every group and every
//! transactional id (v4+: a batch of keys); share groups do not exist here.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

/// Whether this broker coordinates `key` of `key_type` for `session`
/// (Kafka's `getCoordinator`: DESCRIBE on the group or transactional id).
fn coordinator_for(
    broker: &Broker,
    session: &Session,
    key_type: i8,
    key: &str,
) -> Result<(), ResponseError> {
    let (resource, denied) = match key_type {
        GROUP => (ResourceType::Group, ResponseError::GroupAuthorizationFailed),
        TRANSACTION => (
            ResourceType::TransactionalId,
            ResponseError::TransactionalIdAuthorizationFailed,
        ),
        // Share groups (2, v6+) and unknown types.
        _ => return Err(ResponseError::InvalidRequest),
    };
    if broker.authorize(session, AclOperation::Describe, resource, key) {
        Ok(())
    } else {
        Err(denied)
    }
}

pub fn handle(
    broker: &Broker,
    req: FindCoordinatorRequest,
    version: i16,
    session: &Session,
) -> FindCoordinatorResponse {
    let host = str_bytes(broker.advertised().host.clone());
    let port = i32::from(broker.advertised().port);
    let node = BrokerId(broker.node_id());
    if version >= 4 {
        let coordinators = req
            .coordinator_keys
            .into_iter()
            .map(
                |key| match coordinator_for(broker, session, req.key_type, &key) {
                    Ok(()) => Coordinator::default()
                        .with_key(key)
                        .with_node_id(node)
                        .with_host(host.clone())
                        .with_port(port),
                    Err(e) => Coordinator::default()
                        .with_key(key)
                        .with_node_id(BrokerId(-1))
                        .with_host(StrBytes::default())
                        .with_port(-1)
                        .with_error_code(e.code()),
                },
            )
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let key_type = if version >= 1 { req.key_type } else { GROUP };
    let found = coordinator_for(broker, session, key_type, &req.key);
    let response = match found {
        Ok(()) => FindCoordinatorResponse::default()
            .with_node_id(node)
            .with_host(host)
            .with_port(port),
        Err(e) => FindCoordinatorResponse::default()
            .with_error_code(e.code())
            .with_node_id(BrokerId(-1))
            .with_host(StrBytes::default())
            .with_port(-1),
    };
    if version >= 1 {
        // Kafka sends `Errors.message()`, which is "NONE" on success.
        let message = match found {
            Ok(()) => "NONE".to_string(),
            Err(e) => e.to_string(),
        };
        response.with_error_message(Some(str_bytes(message)))
    } else {
        response
    }
}
