//! ListTransactions: every transactional id, filtered by state (unknown
//! state names are echoed back, as Kafka does), producer id, minimum
//! running time (v1+) and a Java-style regex on the id (v2+, full match).

use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TransactionalId,
};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};
use crate::txn::TxnState;

const STATE_NAMES: [TxnState; 8] = [
    TxnState::Empty,
    TxnState::Ongoing,
    TxnState::PrepareCommit,
    TxnState::PrepareAbort,
    TxnState::CompleteCommit,
    TxnState::CompleteAbort,
    TxnState::Dead,
    TxnState::PrepareEpochFence,
];

pub fn handle(
    broker: &Broker,
    req: ListTransactionsRequest,
    version: i16,
    session: &Session,
) -> ListTransactionsResponse {
    let states: Vec<String> = req
        .state_filters
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    let unknown: Vec<_> = req
        .state_filters
        .iter()
        .filter(|s| !STATE_NAMES.iter().any(|n| n.name() == s.as_str()))
        .cloned()
        .collect();
    let pattern = match req.transactional_id_pattern.as_ref().map(|p| p.as_str()) {
        Some(p) if version >= 2 && !p.is_empty() => {
            match regex_lite::Regex::new(&format!("^(?:{p})$")) {
                Ok(r) => Some(r),
                Err(_) => {
                    return ListTransactionsResponse::default()
                        .with_error_code(ResponseError::InvalidRegularExpression.code())
                }
            }
        }
        _ => None,
    };
    let producer_ids: Vec<i64> = req.producer_id_filters.iter().map(|p| p.0).collect();
    let min_duration = if version >= 1 {
        req.duration_filter
    } else {
        -1
    };
    let listed = broker
        .txns()
        .list(&states, &producer_ids, min_duration)
        .into_iter()
        .filter(|d| {
            broker.authorize_quiet(
                session,
                AclOperation::Describe,
                ResourceType::TransactionalId,
                &d.transactional_id,
            )
        })
        .filter(|d| {
            pattern
                .as_ref()
                .is_none_or(|r| r.is_match(&d.transactional_id))
        })
        .map(|d| {
            TransactionState::default()
                .with_transactional_id(TransactionalId(str_bytes(d.transactional_id)))
                .with_producer_id(ProducerId(d.producer_id))
                .with_transaction_state(str_bytes(d.state.name()))
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(listed)
}
