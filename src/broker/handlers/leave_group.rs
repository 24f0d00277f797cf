//! LeaveGroup: one member (v0–v2) or a batch (v3+, KIP-345), possibly by
//! `group.instance.id` alone.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::str_bytes;
use crate::broker::error_code::{group_error_code, group_error_code_or_none};
use crate::broker::Broker;
use crate::group::coordinator::LeavingMember;

pub fn handle(broker: &Broker, req: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
    let members: Vec<LeavingMember> = if version >= 3 {
        req.members
            .into_iter()
            .map(|m| LeavingMember {
                member_id: m.member_id.as_str().to_string(),
                group_instance_id: m.group_instance_id.map(|s| s.as_str().to_string()),
                reason: if version >= 5 {
                    m.reason.map(|s| s.as_str().to_string())
                } else {
                    None
                },
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: req.member_id.as_str().to_string(),
            group_instance_id: None,
            reason: None,
        }]
    };
    match broker
        .groups()
        .leave_group(req.group_id.as_str(), members.clone())
    {
        Err(e) => LeaveGroupResponse::default().with_error_code(group_error_code(&e).code()),
        Ok(outcomes) if version < 3 => {
            // One member: its outcome is the top-level error.
            let code = group_error_code_or_none(outcomes.first().and_then(Option::as_ref));
            LeaveGroupResponse::default().with_error_code(code)
        }
        Ok(outcomes) => LeaveGroupResponse::default().with_members(
            members
                .into_iter()
                .zip(outcomes)
                .map(|(m, e)| {
                    MemberResponse::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_group_instance_id(m.group_instance_id.map(str_bytes))
                        .with_error_code(group_error_code_or_none(e.as_ref()))
                })
                .collect(),
        ),
    }
}
