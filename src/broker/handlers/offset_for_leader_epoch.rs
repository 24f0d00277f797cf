//! OffsetForLeaderEpoch: every partition has had one leader epoch, 0, since
//! Skiff is a single broker, so epoch 0 ends at the log end offset.
//! v0–v1 (removed in Kafka 4.0 by KIP-896) have no current leader epoch;
//! v0's answer carries only the end offset (the codec leaves the epoch out).

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kafka_protocol::ResponseError;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: OffsetForLeaderEpochRequest,
    _version: i16,
    session: &Session,
) -> OffsetForLeaderEpochResponse {
    // As Kafka: CLUSTER_ACTION (a follower) covers every topic, otherwise DESCRIBE on each.
    let cluster_action = broker.authorize_cluster(session, AclOperation::ClusterAction);
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = broker.logs().topic(&t.topic);
            let denied = !cluster_action
                && !broker.authorize(
                    session,
                    AclOperation::Describe,
                    ResourceType::Topic,
                    &t.topic,
                );
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = EpochEndOffset::default()
                        .with_partition(p.partition)
                        .with_leader_epoch(-1)
                        .with_end_offset(-1);
                    if denied {
                        return base
                            .with_error_code(ResponseError::TopicAuthorizationFailed.code());
                    }
                    let Some(log) = topic.as_ref().and_then(|t| t.partition(p.partition)) else {
                        return base.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    if p.current_leader_epoch > 0 {
                        return base.with_error_code(ResponseError::UnknownLeaderEpoch.code());
                    }
                    if p.leader_epoch < 0 {
                        // Epochs before the first one have no end offset.
                        return base;
                    }
                    // The largest epoch <= requested is 0, which ends at the log end.
                    base.with_leader_epoch(0)
                        .with_end_offset(log.high_watermark())
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic)
                .with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}
