//! OffsetCommit (v2–v9): validates the member and generation, then stores
//! the offsets in `__consumer_offsets` before answering. Partitions of
//! unknown topics get UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use kafka_protocol::ResponseError;

use crate::broker::error_code::group_error_code;
use crate::broker::Broker;
use crate::group::coordinator::{CommitOffset, CommitParams};

pub fn handle(broker: &Broker, req: OffsetCommitRequest, version: i16) -> OffsetCommitResponse {
    // Per topic, per partition: Some(code) decided here, or None: ask the
    // coordinator (its answers come back in the same order).
    let mut plan: Vec<(usize, i32, Option<i16>)> = Vec::new();
    let mut offsets = Vec::new();
    for (t, topic) in req.topics.iter().enumerate() {
        let known = broker.logs().topic(topic.name.as_str());
        for p in &topic.partitions {
            let exists = known
                .as_ref()
                .is_some_and(|k| p.partition_index >= 0 && p.partition_index < k.partition_count());
            if !exists {
                plan.push((
                    t,
                    p.partition_index,
                    Some(ResponseError::UnknownTopicOrPartition.code()),
                ));
                continue;
            }
            plan.push((t, p.partition_index, None));
            offsets.push(CommitOffset {
                topic: topic.name.as_str().to_string(),
                partition: p.partition_index,
                offset: p.committed_offset,
                leader_epoch: if version >= 6 {
                    p.committed_leader_epoch
                } else {
                    -1
                },
                metadata: p
                    .committed_metadata
                    .as_ref()
                    .map(|m| m.as_str().to_string()),
            });
        }
    }
    let results = if offsets.is_empty() {
        Vec::new()
    } else {
        broker.groups().commit_offsets(CommitParams {
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
        })
    };
    let mut results = results.into_iter();
    let mut topics: Vec<OffsetCommitResponseTopic> = req
        .topics
        .iter()
        .map(|t| OffsetCommitResponseTopic::default().with_name(t.name.clone()))
        .collect();
    for (t, partition, decided) in plan {
        let code = match decided {
            Some(code) => code,
            None => match results.next() {
                Some(Ok(())) => 0,
                Some(Err(e)) => group_error_code(&e).code(),
                None => ResponseError::UnknownServerError.code(),
            },
        };
        topics[t].partitions.push(
            OffsetCommitResponsePartition::default()
                .with_partition_index(partition)
                .with_error_code(code),
        );
    }
    OffsetCommitResponse::default().with_topics(topics)
}
