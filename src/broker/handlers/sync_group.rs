//! SyncGroup: followers are parked until the leader's assignment arrives;
//! the leader's request stores it (in `__consumer_offsets`) and answers all.

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::broker::error_code::group_error_code_or_none;
use crate::broker::Broker;
use crate::group::coordinator::SyncGroupParams;

pub async fn handle(broker: &Broker, req: SyncGroupRequest, version: i16) -> SyncGroupResponse {
    // From v5 the protocol type and name are mandatory; Kafka refuses a
    // request without them before looking at the group.
    if version >= 5 && (req.protocol_type.is_none() || req.protocol_name.is_none()) {
        return SyncGroupResponse::default()
            .with_error_code(ResponseError::InconsistentGroupProtocol.code());
    }
    let params = SyncGroupParams {
        group_id: req.group_id.as_str().to_string(),
        generation_id: req.generation_id,
        member_id: req.member_id.as_str().to_string(),
        group_instance_id: if version >= 3 {
            req.group_instance_id.map(|s| s.as_str().to_string())
        } else {
            None
        },
        protocol_type: if version >= 5 {
            req.protocol_type.map(|s| s.as_str().to_string())
        } else {
            None
        },
        protocol_name: if version >= 5 {
            req.protocol_name.map(|s| s.as_str().to_string())
        } else {
            None
        },
        assignments: req
            .assignments
            .into_iter()
            .map(|a| (a.member_id.as_str().to_string(), a.assignment))
            .collect(),
    };
    broker
        .groups()
        .refresh_topics(broker.consumer_group_topics());
    let r = broker.groups().sync_group(params).await;
    SyncGroupResponse::default()
        .with_error_code(group_error_code_or_none(r.error.as_ref()))
        .with_protocol_type(r.protocol_type.map(str_bytes))
        .with_protocol_name(r.protocol_name.map(str_bytes))
        .with_assignment(r.assignment)
}
