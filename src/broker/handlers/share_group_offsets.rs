//! DescribeShareGroupOffsets (API 90), AlterShareGroupOffsets (91) and
//! DeleteShareGroupOffsets (92) (KIP-932; Describe v0-1, v1 with the lag
//! of KIP-1226, the others v0): the share-partition start offsets of a share group, as the Admin client's
//! `listShareGroupOffsets` / `alterShareGroupOffsets` /
//! `deleteShareGroupOffsets` and `kafka-share-groups.sh` use them.
//!
//! ACLs as Kafka checks them: describe needs DESCRIBE on the group and on
//! each topic, alter needs READ on the group and each topic, delete needs
//! DELETE on the group and READ on each topic. A topic without its ACL
//! answers TOPIC_AUTHORIZATION_FAILED; in alter and delete an unknown one
//! UNKNOWN_TOPIC_OR_PARTITION, which they also need the group empty for
//! (NON_EMPTY_GROUP).

use kafka_protocol::messages::alter_share_group_offsets_response::{
    AlterShareGroupOffsetsResponsePartition, AlterShareGroupOffsetsResponseTopic,
};
use kafka_protocol::messages::delete_share_group_offsets_response::DeleteShareGroupOffsetsResponseTopic;
use kafka_protocol::messages::describe_share_group_offsets_response::{
    DescribeShareGroupOffsetsResponseGroup, DescribeShareGroupOffsetsResponsePartition,
    DescribeShareGroupOffsetsResponseTopic,
};
use kafka_protocol::messages::{
    AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponse, DeleteShareGroupOffsetsRequest,
    DeleteShareGroupOffsetsResponse, DescribeShareGroupOffsetsRequest,
    DescribeShareGroupOffsetsResponse, TopicName,
};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};
use crate::share::OffsetsError;

/// The top-level error before anything is looked up: share groups off,
/// the group ACL, or an id owned by a classic/consumer group.
fn group_gate(
    broker: &Broker,
    session: &Session,
    group_id: &str,
    op: AclOperation,
) -> Result<(), (ResponseError, String)> {
    if !broker.shares().enabled() {
        return Err((
            ResponseError::UnsupportedVersion,
            "Share groups are disabled.".into(),
        ));
    }
    if group_id.is_empty() {
        return Err((
            ResponseError::InvalidGroupId,
            "The group id must not be empty.".into(),
        ));
    }
    if !broker.authorize(session, op, ResourceType::Group, group_id) {
        return Err((
            ResponseError::GroupAuthorizationFailed,
            format!("Not authorized to access group {group_id}."),
        ));
    }
    if broker.groups().has_group(group_id) {
        return Err((
            ResponseError::GroupIdNotFound,
            format!("Group {group_id} is not a share group."),
        ));
    }
    Ok(())
}

fn offsets_error(e: &OffsetsError) -> ResponseError {
    match e {
        OffsetsError::GroupNotFound(_) => ResponseError::GroupIdNotFound,
        OffsetsError::GroupNotEmpty(_) => ResponseError::NonEmptyGroup,
    }
}

/// The topic's id and partition count, or the per-topic error.
fn resolve_topic(
    broker: &Broker,
    session: &Session,
    name: &str,
    op: AclOperation,
) -> Result<(Uuid, i32), ResponseError> {
    if !broker.authorize(session, op, ResourceType::Topic, name) {
        return Err(ResponseError::TopicAuthorizationFailed);
    }
    broker
        .logs()
        .topic(name)
        .map(|t| (t.id(), t.partition_count()))
        .ok_or(ResponseError::UnknownTopicOrPartition)
}

/// DescribeShareGroupOffsets as Kafka 4.2 answers it: no group-level error
/// for a group that has no share state (an unknown group lists nothing, or
/// -1 for each partition asked about), and -1 with no error for a topic or
/// partition that does not exist; only a topic without DESCRIBE gets a
/// per-partition error. v1 adds the lag (KIP-1226), -1 where the start
/// offset is unknown.
pub fn describe(
    broker: &Broker,
    req: DescribeShareGroupOffsetsRequest,
    _version: i16,
    session: &Session,
) -> DescribeShareGroupOffsetsResponse {
    let groups = req
        .groups
        .into_iter()
        .map(|g| {
            let group_id = g.group_id.as_str().to_string();
            let base = DescribeShareGroupOffsetsResponseGroup::default().with_group_id(g.group_id);
            if let Err((code, message)) = describe_gate(broker, session, &group_id) {
                return base
                    .with_error_code(code.code())
                    .with_error_message(Some(str_bytes(message)));
            }
            let offsets = broker.shares().start_offsets(&group_id);
            let high_watermark = |topic_id: Uuid, p: i32| {
                broker
                    .logs()
                    .topic_by_id(topic_id)
                    .and_then(|t| t.partition(p))
                    .map(|l| l.high_watermark())
            };
            let known = |topic_id: Uuid, index: i32| {
                let partition = DescribeShareGroupOffsetsResponsePartition::default()
                    .with_partition_index(index);
                match offsets.get(&(topic_id, index)) {
                    Some(s) if s.start >= 0 => partition
                        .with_start_offset(s.start)
                        .with_lag(high_watermark(topic_id, index).map_or(-1, |hw| s.lag(hw))),
                    // Not initialized (yet): -1, as Kafka.
                    _ => partition.with_start_offset(-1),
                }
            };
            let topics = match g.topics {
                Some(requested) => requested
                    .into_iter()
                    .map(|t| {
                        let resolved = resolve_topic(
                            broker,
                            session,
                            t.topic_name.as_str(),
                            AclOperation::Describe,
                        );
                        let topic_id = resolved.map_or(Uuid::nil(), |(id, _)| id);
                        let partitions = t
                            .partitions
                            .iter()
                            .map(|&p| match resolved {
                                Err(ResponseError::TopicAuthorizationFailed) => {
                                    let e = ResponseError::TopicAuthorizationFailed;
                                    DescribeShareGroupOffsetsResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_start_offset(-1)
                                        .with_error_code(e.code())
                                        .with_error_message(Some(str_bytes(e.to_string())))
                                }
                                Ok((id, count)) if (0..count).contains(&p) => known(id, p),
                                // No such topic or partition: -1 and no error, as Kafka 4.2.
                                _ => DescribeShareGroupOffsetsResponsePartition::default()
                                    .with_partition_index(p)
                                    .with_start_offset(-1),
                            })
                            .collect();
                        DescribeShareGroupOffsetsResponseTopic::default()
                            .with_topic_name(t.topic_name)
                            .with_topic_id(topic_id)
                            .with_partitions(partitions)
                    })
                    .collect(),
                // Every initialized share-partition of the group.
                None => {
                    let mut by_topic: Vec<DescribeShareGroupOffsetsResponseTopic> = Vec::new();
                    for &(topic_id, p) in offsets.keys() {
                        let Some(topic) = broker.logs().topic_by_id(topic_id) else {
                            continue;
                        };
                        if !broker.authorize(
                            session,
                            AclOperation::Describe,
                            ResourceType::Topic,
                            topic.name(),
                        ) {
                            continue;
                        }
                        if by_topic.last().is_none_or(|t| t.topic_id != topic_id) {
                            by_topic.push(
                                DescribeShareGroupOffsetsResponseTopic::default()
                                    .with_topic_name(TopicName(str_bytes(topic.name().to_string())))
                                    .with_topic_id(topic_id),
                            );
                        }
                        if let Some(t) = by_topic.last_mut() {
                            t.partitions.push(known(topic_id, p));
                        }
                    }
                    by_topic
                }
            };
            base.with_topics(topics)
        })
        .collect();
    DescribeShareGroupOffsetsResponse::default().with_groups(groups)
}

/// Describe's group-level checks, as Kafka's: share groups enabled and
/// DESCRIBE on the group. Unlike alter and delete, Kafka does not look the
/// group up, so an unknown (or classic) group id is no error.
fn describe_gate(
    broker: &Broker,
    session: &Session,
    group_id: &str,
) -> Result<(), (ResponseError, String)> {
    if !broker.shares().enabled() {
        return Err((
            ResponseError::UnsupportedVersion,
            "Share groups are disabled.".into(),
        ));
    }
    if !broker.authorize(
        session,
        AclOperation::Describe,
        ResourceType::Group,
        group_id,
    ) {
        return Err((
            ResponseError::GroupAuthorizationFailed,
            format!("Not authorized to access group {group_id}."),
        ));
    }
    Ok(())
}

pub fn alter(
    broker: &Broker,
    req: AlterShareGroupOffsetsRequest,
    _version: i16,
    session: &Session,
) -> AlterShareGroupOffsetsResponse {
    let group_id = req.group_id.as_str().to_string();
    let top = |code: ResponseError, message: String| {
        AlterShareGroupOffsetsResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    if let Err((code, message)) = group_gate(broker, session, &group_id, AclOperation::Read) {
        return top(code, message);
    }
    let mut valid: Vec<(Uuid, i32, i64)> = Vec::new();
    let mut answers: Vec<AlterAnswer> = Vec::new();
    for t in req.topics {
        let resolved = resolve_topic(broker, session, t.topic_name.as_str(), AclOperation::Read);
        let topic_id = resolved.map_or(Uuid::nil(), |(id, _)| id);
        let mut parts = Vec::new();
        for p in &t.partitions {
            let error = match resolved {
                Err(e) => Some(e),
                Ok((_, count)) if p.partition_index < 0 || p.partition_index >= count => {
                    Some(ResponseError::UnknownTopicOrPartition)
                }
                Ok(_) if p.start_offset < 0 => Some(ResponseError::InvalidRequest),
                Ok((id, _)) => {
                    valid.push((id, p.partition_index, p.start_offset));
                    None
                }
            };
            parts.push((p.partition_index, error));
        }
        answers.push((t.topic_name, topic_id, parts));
    }
    if let Err(e) = broker.shares().alter_start_offsets(&group_id, &valid) {
        // Nothing was changed: every partition carries the group's error too.
        let code = offsets_error(&e);
        for (_, _, parts) in answers.iter_mut() {
            for (_, error) in parts.iter_mut() {
                error.get_or_insert(code);
            }
        }
        return top(code, e.to_string()).with_responses(alter_topics(answers));
    }
    AlterShareGroupOffsetsResponse::default().with_responses(alter_topics(answers))
}

/// One topic of an alter: name, id, and each partition's error.
type AlterAnswer = (TopicName, Uuid, Vec<(i32, Option<ResponseError>)>);

fn alter_topics(answers: Vec<AlterAnswer>) -> Vec<AlterShareGroupOffsetsResponseTopic> {
    answers
        .into_iter()
        .map(|(name, id, parts)| {
            AlterShareGroupOffsetsResponseTopic::default()
                .with_topic_name(name)
                .with_topic_id(id)
                .with_partitions(
                    parts
                        .into_iter()
                        .map(|(index, error)| {
                            AlterShareGroupOffsetsResponsePartition::default()
                                .with_partition_index(index)
                                .with_error_code(error.map_or(0, |e| e.code()))
                                .with_error_message(error.map(|e| str_bytes(e.to_string())))
                        })
                        .collect(),
                )
        })
        .collect()
}

pub fn delete(
    broker: &Broker,
    req: DeleteShareGroupOffsetsRequest,
    _version: i16,
    session: &Session,
) -> DeleteShareGroupOffsetsResponse {
    let group_id = req.group_id.as_str().to_string();
    let top = |code: ResponseError, message: String| {
        DeleteShareGroupOffsetsResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    if let Err((code, message)) = group_gate(broker, session, &group_id, AclOperation::Delete) {
        return top(code, message);
    }
    let mut ids = Vec::new();
    let mut answers = Vec::new();
    for t in req.topics {
        let resolved = resolve_topic(broker, session, t.topic_name.as_str(), AclOperation::Read);
        if let Ok((id, _)) = resolved {
            ids.push(id);
        }
        let error = resolved.err();
        answers.push(
            DeleteShareGroupOffsetsResponseTopic::default()
                .with_topic_name(t.topic_name)
                .with_topic_id(resolved.map_or(Uuid::nil(), |(id, _)| id))
                .with_error_code(error.map_or(0, |e| e.code()))
                .with_error_message(error.map(|e| str_bytes(e.to_string()))),
        );
    }
    match broker.shares().delete_start_offsets(&group_id, &ids) {
        Ok(()) => DeleteShareGroupOffsetsResponse::default().with_responses(answers),
        Err(e) => top(offsets_error(&e), e.to_string()),
    }
}
