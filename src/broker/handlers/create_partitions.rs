//! CreatePartitions: grow a topic; new partitions are usable at once.

use std::collections::HashMap;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::ResponseError;
use tracing::info;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{is_internal_topic, storage_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: CreatePartitionsRequest,
    _version: i16,
    session: &Session,
) -> CreatePartitionsResponse {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in &req.topics {
        *seen.entry(t.name.to_string()).or_default() += 1;
    }
    let results = req
        .topics
        .into_iter()
        .map(|t| {
            let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
            let fail = |code: ResponseError, message: String| {
                result
                    .clone()
                    .with_error_code(code.code())
                    .with_error_message(Some(str_bytes(message)))
            };
            if seen.get(t.name.as_str()).copied().unwrap_or(0) > 1 {
                return fail(ResponseError::InvalidRequest, "Duplicate topic in request.".into());
            }
            if !broker.authorize(session, AclOperation::Alter, ResourceType::Topic, &t.name) {
                return fail(
                    ResponseError::TopicAuthorizationFailed,
                    "The topic authorization is failed.".into(),
                );
            }
            let Some(topic) = broker.logs().topic(&t.name) else {
                return fail(
                    ResponseError::UnknownTopicOrPartition,
                    format!("The topic '{}' does not exist.", t.name.as_str()),
                );
            };
            if is_internal_topic(topic.name()) {
                // Groups are placed on its partitions by hash: more would move them.
                return fail(
                    ResponseError::InvalidRequest,
                    format!("Internal topic {} cannot be repartitioned", topic.name()),
                );
            }
            let current = topic.partition_count();
            if t.count == current {
                return fail(
                    ResponseError::InvalidPartitions,
                    format!("Topic already has {current} partition(s)."),
                );
            }
            if t.count < current {
                return fail(
                    ResponseError::InvalidPartitions,
                    format!(
                        "The topic {} currently has {current} partition(s); {} would not be an increase.",
                        topic.name(),
                        t.count
                    ),
                );
            }
            if let Some(assignments) = &t.assignments {
                let added = (t.count - current) as usize;
                if assignments.len() != added {
                    return fail(
                        ResponseError::InvalidReplicaAssignment,
                        format!("Increasing the number of partitions by {added} but {} assignments provided.", assignments.len()),
                    );
                }
                if assignments
                    .iter()
                    .any(|a| a.broker_ids.len() != 1 || a.broker_ids[0].0 != broker.node_id())
                {
                    return fail(
                        ResponseError::InvalidReplicaAssignment,
                        format!("Every new partition must be assigned to broker {}", broker.node_id()),
                    );
                }
            }
            if req.validate_only {
                return result;
            }
            match broker.logs().create_partitions(&t.name, t.count, broker.now_ms()) {
                Ok(()) => {
                    info!(topic = t.name.as_str(), partitions = t.count, "added partitions");
                    result
                }
                Err(e) => fail(storage_error_code(&e), e.to_string()),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}
