//! OffsetDelete: removes committed offsets of topics the group no longer
//! consumes (GROUP_SUBSCRIBED_TO_TOPIC otherwise; NON_EMPTY_GROUP for active
//! groups that do not use the consumer protocol). Unknown topics and
//! partitions get UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};
use kafka_protocol::ResponseError;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::error_code::{group_error_code, group_error_code_or_none};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: OffsetDeleteRequest,
    _version: i16,
    session: &Session,
) -> OffsetDeleteResponse {
    if !broker.authorize(
        session,
        AclOperation::Delete,
        ResourceType::Group,
        &req.group_id,
    ) {
        return OffsetDeleteResponse::default()
            .with_error_code(ResponseError::GroupAuthorizationFailed.code());
    }
    if req.group_id.is_empty() {
        return OffsetDeleteResponse::default()
            .with_error_code(ResponseError::InvalidGroupId.code());
    }
    let unknown = ResponseError::UnknownTopicOrPartition.code();
    // Per request topic: (partition, Some(code) decided here | None: ask).
    let mut plan: Vec<Vec<(i32, Option<i16>)>> = Vec::new();
    let mut ask: Vec<(String, Vec<i32>)> = Vec::new();
    for t in &req.topics {
        let known = broker.logs().topic(t.name.as_str());
        let readable = broker.authorize(session, AclOperation::Read, ResourceType::Topic, &t.name);
        let mut parts = Vec::new();
        let mut valid = Vec::new();
        for p in &t.partitions {
            let exists = known
                .as_ref()
                .is_some_and(|k| p.partition_index >= 0 && p.partition_index < k.partition_count());
            if !readable {
                parts.push((
                    p.partition_index,
                    Some(ResponseError::TopicAuthorizationFailed.code()),
                ));
            } else if exists {
                parts.push((p.partition_index, None));
                valid.push(p.partition_index);
            } else {
                parts.push((p.partition_index, Some(unknown)));
            }
        }
        plan.push(parts);
        ask.push((t.name.as_str().to_string(), valid));
    }
    let outcome = match broker.groups().delete_offsets(req.group_id.as_str(), ask) {
        Ok(o) => o,
        Err(e) => {
            return OffsetDeleteResponse::default().with_error_code(group_error_code(&e).code())
        }
    };
    let topics = req
        .topics
        .into_iter()
        .zip(plan)
        .zip(outcome)
        .map(|((t, parts), (_, answered))| {
            let mut answered = answered.into_iter();
            let partitions = parts
                .into_iter()
                .map(|(p, decided)| {
                    let code = match decided {
                        Some(c) => c,
                        None => answered
                            .next()
                            .map_or(0, |(_, e)| group_error_code_or_none(e.as_ref())),
                    };
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p)
                        .with_error_code(code)
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
