//! TxnOffsetCommit (v0–v5): offsets committed inside a producer's
//! transaction. The group's `__consumer_offsets` partition must be part of
//! the transaction (AddOffsetsToTxn), checked with the transaction
//! coordinator first, as Kafka's transaction verification does; then the
//! group coordinator validates the member (v3+) and stores the offsets,
//! visible to OffsetFetch only once the transaction commits.

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use kafka_protocol::ResponseError;

use super::commit_plan::{self, RequestedOffset};
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{txn_error_code, Broker, Session};
use crate::group::coordinator::{CommitParams, TxnCommitParams};
use crate::group::offsets::OFFSETS_TOPIC;
use crate::txn::TxnError;

pub fn handle(
    broker: &Broker,
    req: TxnOffsetCommitRequest,
    version: i16,
    session: &Session,
) -> TxnOffsetCommitResponse {
    let group_id = req.group_id.as_str().to_string();
    let partition = broker.groups().offsets_partition_for(&group_id);
    let offsets_partition = (
        OFFSETS_TOPIC.to_string(),
        i32::try_from(partition).unwrap_or(i32::MAX),
    );
    let requested = req.topics.iter().enumerate().flat_map(|(t, topic)| {
        topic.partitions.iter().map(move |p| RequestedOffset {
            topic_index: t,
            topic: topic.name.as_str(),
            partition: p.partition_index,
            offset: p.committed_offset,
            leader_epoch: if version >= 2 {
                p.committed_leader_epoch
            } else {
                -1
            },
            metadata: p.committed_metadata.as_ref().map(|m| m.as_str()),
            // Transactional commits are stamped with the time of the commit, as in Kafka.
            commit_timestamp_ms: None,
        })
    });
    // Kafka: WRITE on the transactional id, then READ on the group, then
    // READ on each topic.
    let refused = if !broker.authorize(
        session,
        AclOperation::Write,
        ResourceType::TransactionalId,
        &req.transactional_id,
    ) {
        Some(ResponseError::TransactionalIdAuthorizationFailed)
    } else if !broker.may_read_group(session, &req.group_id) {
        Some(ResponseError::GroupAuthorizationFailed)
    } else {
        None
    };
    let (plan, offsets) = commit_plan::plan(broker, requested, refused, |topic| {
        broker.authorize(session, AclOperation::Read, ResourceType::Topic, topic)
    });
    let codes = if offsets.is_empty() {
        Vec::new()
    } else if group_id.is_empty() {
        // Kafka checks the group id before verifying the transaction.
        vec![ResponseError::InvalidGroupId.code(); offsets.len()]
    } else {
        let (generation_id, member_id, group_instance_id) = if version >= 3 {
            (
                req.generation_id,
                req.member_id.as_str().to_string(),
                req.group_instance_id
                    .as_ref()
                    .map(|s| s.as_str().to_string()),
            )
        } else {
            (-1, String::new(), None)
        };
        let n = offsets.len();
        let params = TxnCommitParams {
            producer_id: req.producer_id.0,
            producer_epoch: req.producer_epoch,
            commit: CommitParams {
                group_id,
                generation_id,
                member_id,
                group_instance_id,
                retention_time_ms: -1,
                unknown_group_is_not_found: false,
                offsets,
            },
        };
        // Verified with the transaction coordinator and written under its
        // completion gate, as a transactional Produce is.
        match broker.txns().append_verified(
            req.transactional_id.as_str(),
            req.producer_id.0,
            req.producer_epoch,
            &offsets_partition,
            || broker.groups().txn_commit_offsets(params),
        ) {
            Ok(results) => commit_plan::group_codes(&results),
            // Kafka's verification answers: older clients know neither
            // TRANSACTION_ABORTABLE (v5+) nor PRODUCER_FENCED here.
            Err(e) => {
                let code = match e {
                    TxnError::TransactionAbortable if version < 5 => {
                        ResponseError::InvalidTxnState.code()
                    }
                    e => txn_error_code(&e, false).code(),
                };
                vec![code; n]
            }
        }
    };
    let mut topics: Vec<TxnOffsetCommitResponseTopic> = req
        .topics
        .iter()
        .map(|t| TxnOffsetCommitResponseTopic::default().with_name(t.name.clone()))
        .collect();
    for (t, partition, code) in plan.answers(codes) {
        topics[t].partitions.push(
            TxnOffsetCommitResponsePartition::default()
                .with_partition_index(partition)
                .with_error_code(code),
        );
    }
    TxnOffsetCommitResponse::default().with_topics(topics)
}
