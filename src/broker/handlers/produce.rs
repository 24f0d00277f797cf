//! Produce: one v2 batch per partition, validated and appended by storage
//! without decoding its records. acks=0 gets no response at all.
//!
//! Produce v0–2 carry legacy message sets (magic 0 for v0–1, magic 1 for
//! v2): they are up-converted to one v2 batch first (`record::up_convert`),
//! as Kafka 3.x did with message format 3.0, so storage and every fetcher
//! see v2 only. Kafka never checked that the magic matches the request
//! version, so a v2 batch in a v0–2 request is appended as is.
//!
//! A transactional batch is first verified with the transaction
//! coordinator (Kafka's transaction verification, KIP-890 part 1): its
//! partition must have been added to the producer's open transaction, by
//! the producer's current epoch.

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::ResponseError;
use tracing::debug;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{is_internal_topic, storage_error_code, txn_error_code, Broker, Session};
use crate::record::{decompression_limit, first_magic, up_convert, BatchHeader, NO_SEQUENCE};
use crate::storage::{AppendInfo, Log, StorageError};
use crate::txn::TxnError;

pub fn handle(
    broker: &Broker,
    req: ProduceRequest,
    version: i16,
    session: &Session,
) -> Option<ProduceResponse> {
    let acks = req.acks;
    // Kafka fails the whole request when the transactional id is not writable.
    let txn_denied = req.transactional_id.as_ref().is_some_and(|id| {
        !broker.authorize(
            session,
            AclOperation::Write,
            ResourceType::TransactionalId,
            id,
        )
    });
    let acks_valid = matches!(acks, -1..=1);
    let now = broker.now_ms();
    // Appends whose flush policy asks for an fsync before the ack: flushed
    // together once every partition is appended (`storage::flush_logs`).
    let mut unflushed = Vec::new();

    let mut responses: Vec<TopicProduceResponse> = req
        .topic_data
        .into_iter()
        .enumerate()
        .map(|(ti, topic_data)| {
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
            // Authorized by name before the topic's existence is revealed
            // (by id, an unknown id is all a client learns either way).
            let name = topic.as_ref().map_or(topic_data.name.as_str(), |t| t.name());
            let topic_denied = (version < 13 || topic.is_some())
                && !broker.authorize(session, AclOperation::Write, ResourceType::Topic, name);
            let partition_responses = topic_data
                .partition_data
                .into_iter()
                .enumerate()
                .map(|(pi, p)| {
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
                    if txn_denied {
                        return fail(ResponseError::TransactionalIdAuthorizationFailed, None);
                    }
                    if topic_denied {
                        return fail(ResponseError::TopicAuthorizationFailed, None);
                    }
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
                    let records = match legacy_to_v2(&log, records, version) {
                        Ok(Some(records)) => records,
                        // No whole message: Kafka appends nothing and
                        // answers no error (offset -1).
                        Ok(None) => return base,
                        Err(e) => {
                            debug!(topic = topic.name(), partition = p.index, error = %e, "legacy produce rejected");
                            return fail(storage_error_code(&e), Some(e.to_string()));
                        }
                    };
                    let header = BatchHeader::parse(&records).ok();
                    let batch_bytes = records.len();
                    let batch_records = header.map_or(0, |h| h.record_count);
                    let txn_id = req.transactional_id.as_ref().map(|t| t.as_str());
                    let appended =
                        match append(broker, &log, records, header.as_ref(), txn_id, version, now) {
                            Ok(appended) => appended,
                            Err((code, message)) => return fail(code, Some(message)),
                        };
                    if let Ok((info, flush)) = &appended {
                        if let Some(upto) = flush {
                            unflushed.push(((ti, pi), (std::sync::Arc::clone(&log), *upto)));
                        }
                        if !info.duplicate {
                            crate::metrics::global().record_produce(
                                topic.name(),
                                batch_bytes,
                                batch_records,
                            );
                        }
                    }
                    match appended.map(|(info, _)| info) {
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

    let (at, pending): (Vec<_>, Vec<_>) = unflushed.into_iter().unzip();
    for ((ti, pi), flushed) in at
        .into_iter()
        .zip(crate::storage::flush_logs(&pending, now))
    {
        let Err(e) = flushed else { continue };
        debug!(error = %e, "produce not acknowledged: flush failed");
        if let Some(r) = responses
            .get_mut(ti)
            .and_then(|t| t.partition_responses.get_mut(pi))
        {
            r.error_code = storage_error_code(&e).code();
            r.error_message = Some(str_bytes(e.to_string()));
            r.base_offset = -1;
            r.log_append_time_ms = -1;
            r.log_start_offset = -1;
        }
    }

    if acks == 0 {
        return None;
    }
    Some(ProduceResponse::default().with_responses(responses))
}

/// The v2 batch to append for a partition's `records`: a Produce v0–2
/// legacy message set (magic 0/1) up-converted, anything else as sent.
/// `Ok(None)`: a legacy set without one whole message.
fn legacy_to_v2(log: &Log, records: Bytes, version: i16) -> Result<Option<Bytes>, StorageError> {
    if version > 2 || !matches!(first_magic(&records), Some(0 | 1)) {
        return Ok(Some(records));
    }
    let limit = decompression_limit(log.config().max_message_bytes);
    Ok(up_convert(&records, limit)?.map(Bytes::from))
}

/// Storage's answer to an append: what was appended and the offset to
/// flush up to before acknowledging, if the flush policy asks for one.
type Appended = Result<(AppendInfo, Option<i64>), StorageError>;

/// Appends `records` to `log`, a transactional batch only once the
/// transaction coordinator verified that its partition belongs to the
/// producer's open transaction (the errors Kafka's verification answers,
/// translated for the request `version` as Kafka does). Verification and
/// append happen under the coordinator's completion gate, so a transaction
/// cannot end between the two and leave this batch after its markers.
fn append(
    broker: &Broker,
    log: &Log,
    records: Bytes,
    header: Option<&BatchHeader>,
    transactional_id: Option<&str>,
    version: i16,
    now: i64,
) -> Result<Appended, (ResponseError, String)> {
    let Some(h) = header else {
        // Not even a header: storage refuses it with the right error.
        return Ok(log.append_unflushed(records, now));
    };
    if h.has_producer_id() && h.base_sequence == NO_SEQUENCE && !h.is_control() {
        return Err((
            ResponseError::InvalidRecord,
            "a batch with a producer id must carry a sequence number".into(),
        ));
    }
    if !h.is_transactional() || h.is_control() {
        return Ok(log.append_unflushed(records, now));
    }
    let Some(txn_id) = transactional_id else {
        return Err((
            ResponseError::TransactionalIdAuthorizationFailed,
            "transactional records need the request's transactional id".into(),
        ));
    };
    let tp = (
        log.topic_partition().topic.clone(),
        log.topic_partition().partition,
    );
    broker
        .txns()
        .append_verified(txn_id, h.producer_id, h.producer_epoch, &tp, || {
            log.append_unflushed(records, now)
        })
        .map_err(|e| {
            let code = match &e {
                TxnError::TransactionAbortable if version <= 10 => ResponseError::InvalidTxnState,
                TxnError::ConcurrentTransactions => ResponseError::NotEnoughReplicas,
                TxnError::ProducerFenced { .. } => ResponseError::InvalidProducerEpoch,
                other => txn_error_code(other, true),
            };
            (
                code,
                format!("Partition was not verified in the transaction: {e}"),
            )
        })
}
