//! ConsumerGroupHeartbeat (v0–v1, KIP-848): a consumer-protocol member
//! joins (epoch 0), heartbeats, or leaves (-1; a static member -2) and gets
//! its epoch and, when it changed, its assignment. v1 adds
//! `subscribed_topic_regex` and requires a client-generated member id.

use kafka_protocol::messages::consumer_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse};

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::error_code::group_error_code;
use crate::broker::{Broker, Session};
use crate::group::coordinator::ConsumerHeartbeatRequest;
use crate::group::GroupError;

/// The message Kafka sends with an error (consumer group refusals carry
/// Kafka's text; the rest none).
pub fn error_message(e: &GroupError) -> Option<kafka_protocol::protocol::StrBytes> {
    match e {
        GroupError::Consumer(c) => Some(str_bytes(c.to_string())),
        _ => None,
    }
}

pub fn handle(
    broker: &Broker,
    req: ConsumerGroupHeartbeatRequest,
    version: i16,
    client_id: &str,
    session: &Session,
) -> ConsumerGroupHeartbeatResponse {
    let topics = broker.consumer_group_topics();
    // Kafka resolves a regex only to topics the member's principal may
    // DESCRIBE; the others are silently left out (no audit event).
    let describable_topics = broker.authorizer().is_some().then(|| {
        topics
            .names()
            .filter(|t| {
                broker.authorize_quiet(session, AclOperation::Describe, ResourceType::Topic, t)
            })
            .map(str::to_string)
            .collect()
    });
    let params = ConsumerHeartbeatRequest {
        group_id: req.group_id.as_str().to_string(),
        member_id: req.member_id.as_str().to_string(),
        member_epoch: req.member_epoch,
        instance_id: req.instance_id.map(|s| s.as_str().to_string()),
        rack_id: req.rack_id.map(|s| s.as_str().to_string()),
        rebalance_timeout_ms: req.rebalance_timeout_ms,
        subscribed_topic_names: req
            .subscribed_topic_names
            .map(|ts| ts.into_iter().map(|t| t.as_str().to_string()).collect()),
        subscribed_topic_regex: if version >= 1 {
            req.subscribed_topic_regex.map(|s| s.as_str().to_string())
        } else {
            None
        },
        server_assignor: req.server_assignor.map(|s| s.as_str().to_string()),
        topic_partitions: req.topic_partitions.map(|tps| {
            tps.into_iter()
                .map(|tp| (tp.topic_id, tp.partitions))
                .collect()
        }),
        client_id: client_id.to_string(),
        client_host: session.client_host.to_string(),
        api_version: version,
        classic: None,
        classic_unknown_member: false,
        describable_topics,
    };
    match broker.groups().consumer_group_heartbeat(params, topics) {
        Ok(r) => ConsumerGroupHeartbeatResponse::default()
            .with_member_id(Some(str_bytes(r.member_id)))
            .with_member_epoch(r.member_epoch)
            .with_heartbeat_interval_ms(r.heartbeat_interval_ms)
            .with_assignment(r.assignment.map(|a| {
                Assignment::default().with_topic_partitions(
                    a.into_iter()
                        .map(|(t, ps)| {
                            TopicPartitions::default()
                                .with_topic_id(t)
                                .with_partitions(ps.into_iter().collect())
                        })
                        .collect(),
                )
            })),
        Err(e) => ConsumerGroupHeartbeatResponse::default()
            .with_error_code(group_error_code(&e).code())
            .with_error_message(error_message(&e)),
    }
}
