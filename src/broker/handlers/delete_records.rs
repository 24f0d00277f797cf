//! DeleteRecords: moves each partition's log start offset (Kafka's low
//! watermark) up to the requested offset; -1 means the high watermark.
//! Segments entirely below it are deleted at once, records below it in the
//! first remaining segment are no longer served (OFFSET_OUT_OF_RANGE).
//! As in Kafka, a topic whose cleanup.policy lacks `delete` refuses with
//! POLICY_VIOLATION.

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use kafka_protocol::ResponseError;
use tracing::debug;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{storage_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DeleteRecordsRequest,
    _version: i16,
    session: &Session,
) -> DeleteRecordsResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = broker.logs().topic(&t.name);
            let denied =
                !broker.authorize(session, AclOperation::Delete, ResourceType::Topic, &t.name);
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let result = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index)
                        .with_low_watermark(-1);
                    if denied {
                        return result
                            .with_error_code(ResponseError::TopicAuthorizationFailed.code());
                    }
                    let Some(topic) = &topic else {
                        return result
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    let Some(log) = topic.partition(p.partition_index) else {
                        return result
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    if !topic.config().deletes() {
                        return result.with_error_code(ResponseError::PolicyViolation.code());
                    }
                    match log.delete_records(p.offset) {
                        Ok(low) => result.with_low_watermark(low),
                        Err(e) => {
                            debug!(topic = topic.name(), partition = p.partition_index, error = %e,
                                "delete records refused");
                            result.with_error_code(storage_error_code(&e).code())
                        }
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}
