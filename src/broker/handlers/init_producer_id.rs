//! InitProducerId for idempotent producers: a fresh producer id, epoch 0.
//! As in Kafka, a non-transactional request always gets a new id, whatever
//! id and epoch it carries (KIP-360 bumps only apply to transactional ids).

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;
use tracing::{error, info};

use crate::broker::Broker;

pub fn handle(
    broker: &Broker,
    req: InitProducerIdRequest,
    _version: i16,
) -> InitProducerIdResponse {
    let failed = |code: ResponseError| {
        InitProducerIdResponse::default()
            .with_error_code(code.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    if req.transactional_id.is_some() {
        // Transactions are not served yet (the transaction APIs are not
        // advertised); refuse clearly instead of letting the client retry.
        return failed(ResponseError::TransactionalIdAuthorizationFailed);
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
