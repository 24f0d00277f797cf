//! Produce: one v2 batch per partition, validated and appended by storage
//! without decoding its records. acks=0 gets no response at all.

use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::ResponseError;
use tracing::debug;

use super::str_bytes;
use crate::broker::{is_internal_topic, storage_error_code, Broker};

pub fn handle(broker: &Broker, req: ProduceRequest, version: i16) -> Option<ProduceResponse> {
    let acks = req.acks;
    let acks_valid = matches!(acks, -1..=1);
    let now = broker.now_ms();

    let responses = req
        .topic_data
        .into_iter()
        .map(|topic_data| {
            // From v13 topics are addressed by id.
            let topic = if version >= 13 {
                broker.logs().topic_by_id(topic_data.topic_id)
            } else {
                broker.logs().topic(&topic_data.name)
            };
            let unknown = if version >= 13 {
                ResponseError::UnknownTopicId
            } else {
                ResponseError::UnknownTopicOrPartition
            };
            let partition_responses = topic_data
                .partition_data
                .into_iter()
                .map(|p| {
                    let base = PartitionProduceResponse::default()
                        .with_index(p.index)
                        .with_base_offset(-1)
                        .with_log_append_time_ms(-1)
                        .with_log_start_offset(-1);
                    let fail = |code: ResponseError, message: Option<String>| {
                        base.clone()
                            .with_error_code(code.code())
                            .with_error_message(message.map(str_bytes))
                    };
                    if !acks_valid {
                        return fail(ResponseError::InvalidRequiredAcks, None);
                    }
                    let Some(topic) = &topic else {
                        return fail(unknown, None);
                    };
                    if is_internal_topic(topic.name()) {
                        return fail(
                            ResponseError::InvalidTopicException,
                            Some(format!("Cannot append to internal topic {}", topic.name())),
                        );
                    }
                    let Some(log) = topic.partition(p.index) else {
                        return fail(ResponseError::UnknownTopicOrPartition, None);
                    };
                    let Some(records) = p.records else {
                        return fail(ResponseError::InvalidRecord, Some("null records".into()));
                    };
                    let (batch_bytes, batch_records) = (records.len(), crate::record::BatchHeader::parse(&records).map_or(0, |h| h.record_count));
                    match log.append(records, now).inspect(|i| if !i.duplicate { crate::metrics::global().record_produce(topic.name(), batch_bytes, batch_records) }) {
                        Ok(info) => base
                            .with_base_offset(info.base_offset)
                            .with_log_append_time_ms(info.log_append_time_ms)
                            .with_log_start_offset(info.log_start_offset),
                        Err(e) => {
                            debug!(topic = topic.name(), partition = p.index, error = %e, "produce rejected");
                            let code = storage_error_code(&e);
                            fail(code, Some(e.to_string()))
                        }
                    }
                })
                .collect();
            let mut response = TopicProduceResponse::default().with_partition_responses(partition_responses);
            if version >= 13 {
                response.topic_id = topic_data.topic_id;
            } else {
                response.name = topic_data.name;
            }
            response
        })
        .collect();

    if acks == 0 {
        return None;
    }
    Some(ProduceResponse::default().with_responses(responses))
}
