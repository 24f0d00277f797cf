//! OffsetCommit (v2–v9): validates the member and generation, then stores
//! the offsets in `__consumer_offsets` before answering. Partitions of
//! unknown topics get UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.

use super::commit_plan::{self, RequestedOffset};
use crate::broker::Broker;
use crate::group::coordinator::CommitParams;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

pub fn handle(broker: &Broker, req: OffsetCommitRequest, version: i16) -> OffsetCommitResponse {
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
        })
    });
    let (plan, offsets) = commit_plan::plan(broker, requested);
    let codes = if offsets.is_empty() {
        Vec::new()
    } else {
        let results = broker.groups().commit_offsets(CommitParams {
            group_id: req.group_id.as_str().to_string(),
            generation_id: req.generation_id_or_member_epoch,
            member_id: req.member_id.as_str().to_string(),
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
