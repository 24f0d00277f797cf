//! AddOffsetsToTxn: adds the `__consumer_offsets` partition of a group to a
//! producer's transaction, so its TxnOffsetCommit can follow.

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{txn_error_code, Broker, Session};
use crate::group::offsets::OFFSETS_TOPIC;

pub fn handle(
    broker: &Broker,
    req: AddOffsetsToTxnRequest,
    version: i16,
    session: &Session,
) -> AddOffsetsToTxnResponse {
    let txn_id = req.transactional_id.as_str();
    if !broker.authorize(
        session,
        AclOperation::Write,
        ResourceType::TransactionalId,
        txn_id,
    ) {
        return AddOffsetsToTxnResponse::default().with_error_code(
            kafka_protocol::ResponseError::TransactionalIdAuthorizationFailed.code(),
        );
    }
    if !broker.may_read_group(session, &req.group_id) {
        return AddOffsetsToTxnResponse::default()
            .with_error_code(kafka_protocol::ResponseError::GroupAuthorizationFailed.code());
    }
    let partition = broker.groups().offsets_partition_for(req.group_id.as_str());
    let partition = i32::try_from(partition).unwrap_or(i32::MAX);
    let code = broker
        .txns()
        .add_partitions(
            req.transactional_id.as_str(),
            req.producer_id.0,
            req.producer_epoch,
            &[(OFFSETS_TOPIC.to_string(), partition)],
        )
        .err()
        .map_or(0, |e| txn_error_code(&e, version >= 2).code());
    AddOffsetsToTxnResponse::default().with_error_code(code)
}
