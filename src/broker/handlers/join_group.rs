//! JoinGroup: the request may be parked until the join phase completes
//! (every known member rejoined, or the rebalance timeout passed); the
//! coordinator answers through a channel this handler awaits.

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};

use super::str_bytes;
use crate::broker::error_code::group_error_code_or_none;
use crate::broker::Broker;
use crate::group::coordinator::JoinGroupParams;
use crate::group::member::Protocol;

pub async fn handle(
    broker: &Broker,
    req: JoinGroupRequest,
    version: i16,
    client_id: &str,
    client_host: &str,
) -> JoinGroupResponse {
    let params = JoinGroupParams {
        group_id: req.group_id.as_str().to_string(),
        member_id: req.member_id.as_str().to_string(),
        group_instance_id: if version >= 5 {
            req.group_instance_id.map(|s| s.as_str().to_string())
        } else {
            None
        },
        client_id: client_id.to_string(),
        client_host: client_host.to_string(),
        session_timeout_ms: req.session_timeout_ms,
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalance_timeout_ms: if version >= 1 {
            req.rebalance_timeout_ms
        } else {
            req.session_timeout_ms
        },
        protocol_type: req.protocol_type.as_str().to_string(),
        protocols: req
            .protocols
            .into_iter()
            .map(|p| Protocol {
                name: p.name.as_str().to_string(),
                metadata: p.metadata,
            })
            .collect(),
        require_known_member_id: version >= 4,
        supports_skip_assignment: version >= 9,
        reason: if version >= 8 {
            req.reason.map(|s| s.as_str().to_string())
        } else {
            None
        },
    };
    // Classic members of a consumer group are assigned against these.
    broker
        .groups()
        .refresh_topics(broker.consumer_group_topics());
    let r = broker.groups().join_group(params).await;
    let members = r
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(str_bytes(m.member_id))
                .with_group_instance_id(if version >= 5 {
                    m.group_instance_id.map(str_bytes)
                } else {
                    None
                })
                .with_metadata(m.metadata)
        })
        .collect();
    // The protocol name is nullable from v7; older versions get "".
    let protocol_name = match r.protocol_name {
        Some(p) => Some(str_bytes(p)),
        None if version < 7 => Some(str_bytes("")),
        None => None,
    };
    JoinGroupResponse::default()
        .with_error_code(group_error_code_or_none(r.error.as_ref()))
        .with_generation_id(r.generation_id)
        .with_protocol_type(r.protocol_type.map(str_bytes))
        .with_protocol_name(protocol_name)
        .with_leader(str_bytes(r.leader))
        .with_skip_assignment(version >= 9 && r.skip_assignment)
        .with_member_id(str_bytes(r.member_id))
        .with_members(members)
}
