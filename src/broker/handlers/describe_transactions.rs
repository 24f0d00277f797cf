//! DescribeTransactions: the coordinator's view of each transactional id
//! (state, producer, timeout, start, partitions), as admin tools show it.

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId, TopicName,
};

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{txn_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DescribeTransactionsRequest,
    _version: i16,
    session: &Session,
) -> DescribeTransactionsResponse {
    let states = req
        .transactional_ids
        .into_iter()
        .map(|id| match broker.txns().describe(id.as_str()) {
            _ if !broker.authorize(
                session,
                AclOperation::Describe,
                ResourceType::TransactionalId,
                &id,
            ) =>
            {
                TransactionState::default()
                    .with_transactional_id(id)
                    .with_error_code(
                        kafka_protocol::ResponseError::TransactionalIdAuthorizationFailed.code(),
                    )
                    .with_transaction_state(str_bytes(""))
            }
            Ok(d) => {
                let mut topics: Vec<TopicData> = Vec::new();
                // Topics the client may not describe are left out, as Kafka.
                for (topic, p) in d.partitions.into_iter().filter(|(t, _)| {
                    broker.authorize_quiet(session, AclOperation::Describe, ResourceType::Topic, t)
                }) {
                    match topics.last_mut() {
                        Some(t) if t.topic.as_str() == topic => t.partitions.push(p),
                        _ => topics.push(
                            TopicData::default()
                                .with_topic(TopicName(str_bytes(topic)))
                                .with_partitions(vec![p]),
                        ),
                    }
                }
                TransactionState::default()
                    .with_transactional_id(id)
                    .with_transaction_state(str_bytes(d.state.name()))
                    .with_transaction_timeout_ms(d.timeout_ms)
                    .with_transaction_start_time_ms(d.start_ms)
                    .with_producer_id(ProducerId(d.producer_id))
                    .with_producer_epoch(d.producer_epoch)
                    .with_topics(topics)
            }
            // The other fields keep the schema defaults (0), as Kafka answers.
            Err(e) => TransactionState::default()
                .with_transactional_id(id)
                .with_error_code(txn_error_code(&e, true).code())
                .with_transaction_state(str_bytes("")),
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}
