//! FindCoordinator: this broker coordinates every group and every
//! transactional id (v4+: a batch of keys); share groups do not exist here.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::broker::Broker;
use crate::config::HostPort;

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

/// Whether this broker coordinates keys of `key_type` (Kafka's
/// `getCoordinator`).
fn coordinator_for(key_type: i8) -> Result<(), ResponseError> {
    match key_type {
        GROUP | TRANSACTION => Ok(()),
        // Share groups (2, v6+) and unknown types.
        _ => Err(ResponseError::InvalidRequest),
    }
}

pub fn handle(
    broker: &Broker,
    req: FindCoordinatorRequest,
    version: i16,
    advertised: &HostPort,
) -> FindCoordinatorResponse {
    let host = str_bytes(advertised.host.clone());
    let port = i32::from(advertised.port);
    let node = BrokerId(broker.node_id());
    if version >= 4 {
        let coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| match coordinator_for(req.key_type) {
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
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let key_type = if version >= 1 { req.key_type } else { GROUP };
    let response = match coordinator_for(key_type) {
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
        let message = match coordinator_for(key_type) {
            Ok(()) => "NONE".to_string(),
            Err(e) => e.to_string(),
        };
        response.with_error_message(Some(str_bytes(message)))
    } else {
        response
    }
}
