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

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{is_internal_topic, txn_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: AddPartitionsToTxnRequest,
    version: i16,
    session: &Session,
) -> AddPartitionsToTxnResponse {
    let may_write = |topic: &str| {
        is_internal_topic(topic)
            || broker.authorize(session, AclOperation::Write, ResourceType::Topic, topic)
    };
    if version <= 3 {
        let txn_id = req.v3_and_below_transactional_id.as_str();
        // Kafka: WRITE on the transactional id, or every partition fails.
        let refused = (!broker.authorize(
            session,
            AclOperation::Write,
            ResourceType::TransactionalId,
            txn_id,
        ))
        .then_some(ResponseError::TransactionalIdAuthorizationFailed);
        let results = add_or_verify(
            broker,
            Check {
                refused,
                may_write: &may_write,
            },
            req.v3_and_below_transactional_id.as_str(),
            req.v3_and_below_producer_id.0,
            req.v3_and_below_producer_epoch,
            false,
            &req.v3_and_below_topics,
            version,
        );
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    // v4+ is the brokers' batched verification: CLUSTER_ACTION only.
    if !broker.authorize_cluster(session, AclOperation::ClusterAction) {
        return AddPartitionsToTxnResponse::default()
            .with_error_code(ResponseError::ClusterAuthorizationFailed.code());
    }
    let results = req
        .transactions
        .iter()
        .map(|t| {
            AddPartitionsToTxnResult::default()
                .with_transactional_id(t.transactional_id.clone())
                .with_topic_results(add_or_verify(
                    broker,
                    Check {
                        refused: None,
                        may_write: &may_write,
                    },
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

/// The authorization outcome add_or_verify applies: a refusal of every
/// partition, or per topic.
struct Check<'a> {
    refused: Option<ResponseError>,
    may_write: &'a dyn Fn(&str) -> bool,
}

#[allow(clippy::too_many_arguments)]
fn add_or_verify(
    broker: &Broker,
    check: Check<'_>,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
    verify_only: bool,
    topics: &[AddPartitionsToTxnTopic],
    version: i16,
) -> Vec<AddPartitionsToTxnTopicResult> {
    // Per partition, a failure found before the coordinator is asked:
    // as Kafka, authorization first, then existence.
    let precheck = |topic: &str, p: i32| {
        if let Some(code) = check.refused {
            Some(code)
        } else if !(check.may_write)(topic) {
            Some(ResponseError::TopicAuthorizationFailed)
        } else if broker
            .logs()
            .topic(topic)
            .is_some_and(|t| t.partition(p).is_some())
        {
            None
        } else {
            Some(ResponseError::UnknownTopicOrPartition)
        }
    };
    let any_unknown = topics.iter().any(|t| {
        t.partitions
            .iter()
            .any(|p| precheck(t.name.as_str(), *p).is_some())
    });
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
                        precheck(t.name.as_str(), *p)
                            .unwrap_or(ResponseError::OperationNotAttempted)
                            .code()
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
