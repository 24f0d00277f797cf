//! OffsetCommit (v0–v9): validates the member and generation, then stores
//! the offsets in `__consumer_offsets` before answering. Partitions of
//! unknown topics get UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.
//!
//! The versions Kafka 4.0 removed (KIP-896) are served with Kafka 3.9's
//! meaning: v1 carries a per-partition commit timestamp (-1: now) from which
//! the offset's expiry counts; v0 carries no generation or member, so it is a
//! commit outside group management (generation -1). Kafka 3.9 kept v0
//! commits in ZooKeeper, apart from the coordinator's offsets; Skiff has one
//! offset store, so a v0 commit is visible to every OffsetFetch version (and
//! to a group with live members it answers as a v1+ commit without a
//! generation would).

use super::commit_plan::{self, RequestedOffset};
use kafka_protocol::ResponseError;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};
use crate::group::coordinator::CommitParams;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

/// OffsetCommit v1's "no explicit commit timestamp".
const DEFAULT_COMMIT_TIMESTAMP: i64 = -1;

pub fn handle(
    broker: &Broker,
    req: OffsetCommitRequest,
    version: i16,
    session: &Session,
) -> OffsetCommitResponse {
    let requested = req.topics.iter().enumerate().flat_map(|(t, topic)| {
        topic.partitions.iter().map(move |p| RequestedOffset {
            topic_index: t,
            topic: topic.name.as_str(),
            partition: p.partition_index,
            offset: p.committed_offset,
            leader_epoch: if version >= 6 {
                p.committed_leader_epoch
            } else {
                -1
            },
            metadata: p.committed_metadata.as_ref().map(|m| m.as_str()),
            commit_timestamp_ms: (version == 1 && p.commit_timestamp != DEFAULT_COMMIT_TIMESTAMP)
                .then_some(p.commit_timestamp),
        })
    });
    let refused = (!broker.may_read_group(session, &req.group_id))
        .then_some(ResponseError::GroupAuthorizationFailed);
    let (plan, offsets) = commit_plan::plan(broker, requested, refused, |topic| {
        broker.authorize(session, AclOperation::Read, ResourceType::Topic, topic)
    });
    let codes = if offsets.is_empty() {
        Vec::new()
    } else {
        let results = broker.groups().commit_offsets(CommitParams {
            group_id: req.group_id.as_str().to_string(),
            // v0 has neither field: a commit outside group management.
            generation_id: if version >= 1 {
                req.generation_id_or_member_epoch
            } else {
                -1
            },
            member_id: if version >= 1 {
                req.member_id.as_str().to_string()
            } else {
                String::new()
            },
            group_instance_id: if version >= 7 {
                req.group_instance_id
                    .as_ref()
                    .map(|s| s.as_str().to_string())
            } else {
                None
            },
            // Only v2–v4 carry it; -1 means "the broker's retention".
            retention_time_ms: if (2..=4).contains(&version) {
                req.retention_time_ms
            } else {
                -1
            },
            unknown_group_is_not_found: version >= 9,
            offsets,
        });
        commit_plan::group_codes(&results)
    };
    let mut topics: Vec<OffsetCommitResponseTopic> = req
        .topics
        .iter()
        .map(|t| OffsetCommitResponseTopic::default().with_name(t.name.clone()))
        .collect();
    for (t, partition, code) in plan.answers(codes) {
        topics[t].partitions.push(
            OffsetCommitResponsePartition::default()
                .with_partition_index(partition)
                .with_error_code(code),
        );
    }
    OffsetCommitResponse::default().with_topics(topics)
}
