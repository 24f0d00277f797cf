//! DescribeProducers: the producers each partition remembers (id, epoch,
//! last sequence and timestamp, start of an open transaction) — what
//! `kafka-transactions.sh find-hanging` and admin clients read to spot
//! transactions that hold back the last stable offset.

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};
use kafka_protocol::ResponseError;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DescribeProducersRequest,
    _version: i16,
    session: &Session,
) -> DescribeProducersResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = broker.logs().topic(t.name.as_str());
            let denied =
                !broker.authorize(session, AclOperation::Read, ResourceType::Topic, &t.name);
            let partitions = t
                .partition_indexes
                .iter()
                .map(|&p| {
                    let r = PartitionResponse::default().with_partition_index(p);
                    if denied {
                        return r.with_error_code(ResponseError::TopicAuthorizationFailed.code());
                    }
                    let Some(log) = topic.as_ref().and_then(|t| t.partition(p)) else {
                        return r.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    r.with_active_producers(
                        log.producers()
                            .into_iter()
                            .map(|s| {
                                ProducerState::default()
                                    .with_producer_id(ProducerId(s.producer_id))
                                    .with_producer_epoch(i32::from(s.producer_epoch))
                                    .with_last_sequence(s.last_sequence)
                                    .with_last_timestamp(s.last_timestamp)
                                    // Not tracked per producer; Kafka's "unknown".
                                    .with_coordinator_epoch(-1)
                                    .with_current_txn_start_offset(s.current_txn_start_offset)
                            })
                            .collect(),
                    )
                })
                .collect();
            TopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}
