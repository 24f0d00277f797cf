//! InitProducerId. Without a transactional id (idempotent producers): a
//! fresh producer id, epoch 0 — as in Kafka, whatever id and epoch the
//! request carries. With one: the transaction coordinator's id and bumped
//! epoch, which fences older producers of the same transactional id.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;
use tracing::{error, info};

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{txn_error_code, Broker, Session};

pub fn handle(
    broker: &Broker,
    req: InitProducerIdRequest,
    version: i16,
    session: &Session,
) -> InitProducerIdResponse {
    let failed = |code: ResponseError| {
        InitProducerIdResponse::default()
            .with_error_code(code.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    if let Some(txn_id) = &req.transactional_id {
        if !broker.authorize(
            session,
            AclOperation::Write,
            ResourceType::TransactionalId,
            txn_id,
        ) {
            return failed(ResponseError::TransactionalIdAuthorizationFailed);
        }
        // v3+ (KIP-360): a producer re-initialising after an abortable
        // error names the id and epoch it had.
        let expected = (req.producer_id.0 >= 0).then_some((req.producer_id.0, req.producer_epoch));
        return match broker.txns().init_producer_id(
            txn_id.as_str(),
            req.transaction_timeout_ms,
            expected,
        ) {
            Ok((id, epoch)) => InitProducerIdResponse::default()
                .with_producer_id(ProducerId(id))
                .with_producer_epoch(epoch),
            Err(e) => failed(txn_error_code(&e, version >= 4)),
        };
    }
    // An idempotent producer: IDEMPOTENT_WRITE on the cluster, or (since
    // Kafka 3.0, KIP-679) WRITE on any topic.
    if !broker.authorize_cluster(session, AclOperation::IdempotentWrite)
        && !broker.authorize_by_resource_type(session, AclOperation::Write, ResourceType::Topic)
    {
        return failed(ResponseError::ClusterAuthorizationFailed);
    }
    match broker.next_producer_id() {
        Ok(id) => {
            info!(producer_id = id, "allocated producer id");
            InitProducerIdResponse::default()
                .with_producer_id(ProducerId(id))
                .with_producer_epoch(0)
        }
        Err(e) => {
            error!(error = %e, "cannot allocate a producer id");
            failed(ResponseError::KafkaStorageError)
        }
    }
}
