//! AddPartitionsToTxn: adds partitions to a producer's transaction (v0–v3,
//! what clients send), or a batch of transactions, each either added or
//! only verified (`verify_only`, v4+: the broker-to-broker form of
//! KIP-890, served for tools that use it). As in Kafka, when a partition
//! does not exist nothing is added: it gets UNKNOWN_TOPIC_OR_PARTITION and
//! every other partition OPERATION_NOT_ATTEMPTED.

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};
use kafka_protocol::ResponseError;

use crate::broker::{txn_error_code, Broker};

pub fn handle(
    broker: &Broker,
    req: AddPartitionsToTxnRequest,
    version: i16,
) -> AddPartitionsToTxnResponse {
    if version <= 3 {
        let results = add_or_verify(
            broker,
            req.v3_and_below_transactional_id.as_str(),
            req.v3_and_below_producer_id.0,
            req.v3_and_below_producer_epoch,
            false,
            &req.v3_and_below_topics,
            version,
        );
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    let results = req
        .transactions
        .iter()
        .map(|t| {
            AddPartitionsToTxnResult::default()
                .with_transactional_id(t.transactional_id.clone())
                .with_topic_results(add_or_verify(
                    broker,
                    t.transactional_id.as_str(),
                    t.producer_id.0,
                    t.producer_epoch,
                    t.verify_only,
                    &t.topics,
                    version,
                ))
        })
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_transaction(results)
}

fn add_or_verify(
    broker: &Broker,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
    verify_only: bool,
    topics: &[AddPartitionsToTxnTopic],
    version: i16,
) -> Vec<AddPartitionsToTxnTopicResult> {
    let exists = |topic: &str, p: i32| {
        broker
            .logs()
            .topic(topic)
            .is_some_and(|t| t.partition(p).is_some())
    };
    let any_unknown = topics
        .iter()
        .any(|t| t.partitions.iter().any(|p| !exists(t.name.as_str(), *p)));
    let partitions: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.as_str().to_string(), *p))
        })
        .collect();
    let fenced_is_known = version >= 2;
    // One outcome for the whole request unless partitions are checked one by one.
    let outcome: Option<ResponseError> = if any_unknown || verify_only {
        None
    } else {
        broker
            .txns()
            .add_partitions(transactional_id, producer_id, producer_epoch, &partitions)
            .err()
            .map(|e| txn_error_code(&e, fenced_is_known))
    };
    topics
        .iter()
        .map(|t| {
            let results = t
                .partitions
                .iter()
                .map(|p| {
                    let code = if any_unknown {
                        if exists(t.name.as_str(), *p) {
                            ResponseError::OperationNotAttempted.code()
                        } else {
                            ResponseError::UnknownTopicOrPartition.code()
                        }
                    } else if verify_only {
                        broker
                            .txns()
                            .verify_partition(
                                transactional_id,
                                producer_id,
                                producer_epoch,
                                &(t.name.as_str().to_string(), *p),
                            )
                            .err()
                            .map_or(0, |e| txn_error_code(&e, fenced_is_known).code())
                    } else {
                        outcome.map_or(0, |e| e.code())
                    };
                    AddPartitionsToTxnPartitionResult::default()
                        .with_partition_index(*p)
                        .with_partition_error_code(code)
                })
                .collect();
            AddPartitionsToTxnTopicResult::default()
                .with_name(t.name.clone())
                .with_results_by_partition(results)
        })
        .collect()
}
