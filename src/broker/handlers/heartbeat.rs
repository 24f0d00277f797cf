//! Heartbeat: keeps a member's session alive and tells it when to rejoin.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::broker::error_code::group_error_code_or_none;
use crate::broker::Broker;
use crate::group::coordinator::HeartbeatParams;

pub fn handle(broker: &Broker, req: HeartbeatRequest, version: i16) -> HeartbeatResponse {
    let r = broker.groups().heartbeat(HeartbeatParams {
        group_id: req.group_id.as_str().to_string(),
        generation_id: req.generation_id,
        member_id: req.member_id.as_str().to_string(),
        group_instance_id: if version >= 3 {
            req.group_instance_id.map(|s| s.as_str().to_string())
        } else {
            None
        },
    });
    HeartbeatResponse::default().with_error_code(group_error_code_or_none(r.err().as_ref()))
}
