//! AddOffsetsToTxn: adds the `__consumer_offsets` partition of a group to a
//! producer's transaction, so its TxnOffsetCommit can follow.

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use crate::broker::{txn_error_code, Broker};
use crate::group::offsets::OFFSETS_TOPIC;

pub fn handle(
    broker: &Broker,
    req: AddOffsetsToTxnRequest,
    version: i16,
) -> AddOffsetsToTxnResponse {
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
