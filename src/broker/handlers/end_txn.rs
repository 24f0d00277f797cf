//! EndTxn: commits or aborts a producer's transaction. Answered once every
//! marker is written (see the transaction coordinator's module docs).

use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse, ProducerId};

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{txn_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: EndTxnRequest,
    version: i16,
    session: &Session,
) -> EndTxnResponse {
    let txn_id = req.transactional_id.as_str();
    if !broker.authorize(
        session,
        AclOperation::Write,
        ResourceType::TransactionalId,
        txn_id,
    ) {
        return EndTxnResponse::default()
            .with_error_code(
                kafka_protocol::ResponseError::TransactionalIdAuthorizationFailed.code(),
            )
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
    }
    match broker.txns().end_txn(
        req.transactional_id.as_str(),
        req.producer_id.0,
        req.producer_epoch,
        req.committed,
    ) {
        Ok((id, epoch)) => EndTxnResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(epoch),
        Err(e) => EndTxnResponse::default()
            .with_error_code(txn_error_code(&e, version >= 2).code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1),
    }
}
