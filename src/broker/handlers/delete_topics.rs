//! DeleteTopics: by name (v0–v5) or by name or id (v6). v0 (removed in
//! Kafka 4.0 by KIP-896) is v1 without the throttle time.

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::ResponseError;
use tracing::{info, warn};

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{is_internal_topic, storage_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DeleteTopicsRequest,
    version: i16,
    session: &Session,
) -> DeleteTopicsResponse {
    // Kafka needs DESCRIBE (to learn the topic exists) and DELETE.
    let may_delete = |name: &str| {
        broker.authorize(session, AclOperation::Describe, ResourceType::Topic, name)
            && broker.authorize(session, AclOperation::Delete, ResourceType::Topic, name)
    };
    // (name if given, id if given)
    let targets: Vec<(Option<TopicName>, uuid::Uuid)> = if version >= 6 {
        req.topics
            .into_iter()
            .map(|t| (t.name, t.topic_id))
            .collect()
    } else {
        req.topic_names
            .into_iter()
            .map(|n| (Some(n), uuid::Uuid::nil()))
            .collect()
    };
    let responses = targets
        .into_iter()
        .map(|(name, id)| {
            let topic = match &name {
                Some(n) => broker.logs().topic(n),
                None => broker.logs().topic_by_id(id),
            };
            let result = DeletableTopicResult::default()
                .with_name(name.clone())
                .with_topic_id(id);
            let denied = ResponseError::TopicAuthorizationFailed.code();
            // A name is checked before its existence is revealed.
            if let Some(n) = &name {
                if !may_delete(n) {
                    return result.with_error_code(denied);
                }
            }
            let Some(topic) = topic else {
                let code = if name.is_some() {
                    ResponseError::UnknownTopicOrPartition
                } else {
                    ResponseError::UnknownTopicId
                };
                return result.with_error_code(code.code());
            };
            if name.is_none() && !may_delete(topic.name()) {
                return result.with_error_code(denied);
            }
            let result = result
                .with_name(Some(TopicName(str_bytes(topic.name()))))
                .with_topic_id(topic.id());
            if !broker.config().delete_topic_enable {
                // TOPIC_DELETION_DISABLED exists from v3; older clients got INVALID_REQUEST.
                let code = if version >= 3 {
                    ResponseError::TopicDeletionDisabled
                } else {
                    ResponseError::InvalidRequest
                };
                return result.with_error_code(code.code());
            }
            if is_internal_topic(topic.name()) {
                // The coordinator owns it; deleting it would drop every group's offsets.
                return result
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes(format!(
                        "Internal topic {} cannot be deleted",
                        topic.name()
                    ))));
            }
            match broker.logs().delete_topic(topic.name()) {
                Ok(()) => {
                    info!(topic = topic.name(), "deleted topic");
                    // A re-created topic of the same name must not resume from stale commits.
                    if let Err(e) = broker.groups().delete_topic_offsets(topic.name()) {
                        warn!(topic = topic.name(), error = %e, "cannot delete the topic's committed offsets");
                    }
                    result
                }
                Err(e) => result
                    .with_error_code(storage_error_code(&e).code())
                    .with_error_message(Some(str_bytes(e.to_string()))),
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}
