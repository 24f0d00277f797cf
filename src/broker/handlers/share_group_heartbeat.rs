//! ShareGroupHeartbeat (KIP-932): a share consumer joins (epoch 0),
//! heartbeats, and leaves (epoch -1); the answer carries its member epoch
//! and, when it changed, its assignment from the share coordinator.

use kafka_protocol::messages::share_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::broker::Broker;
use crate::share::{Heartbeat, HeartbeatError};

pub fn handle(
    broker: &Broker,
    req: ShareGroupHeartbeatRequest,
    _version: i16,
    client_id: &str,
    client_host: &str,
) -> ShareGroupHeartbeatResponse {
    let shares = broker.shares();
    if !shares.enabled() {
        return ShareGroupHeartbeatResponse::default()
            .with_error_code(ResponseError::UnsupportedVersion.code());
    }
    let group_id = req.group_id.as_str().to_string();
    let fail = |code: ResponseError, message: String| {
        ShareGroupHeartbeatResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    if group_id.is_empty() {
        return fail(
            ResponseError::InvalidRequest,
            "GroupId can't be empty.".into(),
        );
    }
    if broker.groups().has_group(&group_id) {
        // A classic or consumer group owns the id.
        return fail(
            ResponseError::GroupIdNotFound,
            format!("Group {group_id} is not a share group."),
        );
    }
    let hb = Heartbeat {
        member_id: req.member_id.as_str().to_string(),
        member_epoch: req.member_epoch,
        rack_id: req.rack_id.map(|r| r.as_str().to_string()),
        subscribed_topics: req
            .subscribed_topic_names
            .map(|v| v.into_iter().map(|t| t.as_str().to_string()).collect()),
        client_id: client_id.to_string(),
        client_host: client_host.to_string(),
    };
    let member_id = hb.member_id.clone();
    match shares.heartbeat(&group_id, hb) {
        Ok(outcome) => {
            let assignment = outcome.assignment.map(|a| {
                Assignment::default().with_topic_partitions(
                    a.into_iter()
                        .map(|(topic_id, parts)| {
                            TopicPartitions::default()
                                .with_topic_id(topic_id)
                                .with_partitions(parts.into_iter().collect())
                        })
                        .collect(),
                )
            });
            ShareGroupHeartbeatResponse::default()
                .with_member_id(Some(str_bytes(member_id)))
                .with_member_epoch(outcome.member_epoch)
                .with_heartbeat_interval_ms(shares.heartbeat_interval_ms(&group_id))
                .with_assignment(assignment)
        }
        Err(e) => {
            let code = match e {
                HeartbeatError::UnknownMember(_) => ResponseError::UnknownMemberId,
                HeartbeatError::FencedMemberEpoch { .. } => ResponseError::FencedMemberEpoch,
                HeartbeatError::InvalidRequest(_) => ResponseError::InvalidRequest,
                HeartbeatError::GroupMaxSizeReached => ResponseError::GroupMaxSizeReached,
            };
            fail(code, e.to_string())
        }
    }
}
