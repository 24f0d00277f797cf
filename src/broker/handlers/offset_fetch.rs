//! OffsetFetch (v1–v9): committed offsets of one group (v1–v7) or several
//! (v8+); null topics means every committed offset of the group; a
//! partition without a commit is -1. `require_stable` (v7+): a partition
//! whose offset a still-open transaction committed answers
//! UNSTABLE_OFFSET_COMMIT (offset -1) and the client retries; without it the
//! last committed offset is returned.
//!
//! v0 (removed in Kafka 4.0 by KIP-896) answers as Kafka 3.9 did: it read the
//! offsets v0 commits had stored, and a partition without one (or of an
//! unknown topic) got UNKNOWN_TOPIC_OR_PARTITION with offset -1 rather than
//! v1's error-free -1. Skiff has one offset store, so v0 reads what any
//! OffsetCommit version stored.

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::error_code::group_error_code;
use crate::broker::{Broker, Session};
use crate::group::GroupError;

pub fn handle(
    broker: &Broker,
    req: OffsetFetchRequest,
    version: i16,
    session: &Session,
) -> OffsetFetchResponse {
    let groups = broker.groups();
    let may_describe_group =
        |g: &str| broker.authorize(session, AclOperation::Describe, ResourceType::Group, g);
    let may_describe_topic =
        |t: &str| broker.authorize(session, AclOperation::Describe, ResourceType::Topic, t);
    let denied_code = ResponseError::TopicAuthorizationFailed.code();
    let require_stable = version >= 7 && req.require_stable;
    // (topic, partition) -> answer code for partitions an open transaction holds.
    let unstable = |group: &str| {
        if require_stable {
            groups.pending_txn_partitions(group)
        } else {
            Default::default()
        }
    };
    let unstable_code = GroupError::UnstableOffsetCommit;
    if version >= 8 {
        let results = req
            .groups
            .into_iter()
            .map(|g| {
                if !may_describe_group(&g.group_id) {
                    return OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id)
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code());
                }
                // v9 (KIP-848): a consumer group member names itself and
                // its epoch; Kafka answers a stale one at the group level.
                if version >= 9 {
                    let member = g.member_id.as_ref().map(|m| m.as_str());
                    if let Err(e) =
                        groups.validate_offset_fetch(g.group_id.as_str(), member, g.member_epoch)
                    {
                        return OffsetFetchResponseGroup::default()
                            .with_group_id(g.group_id)
                            .with_error_code(group_error_code(&e).code());
                    }
                }
                // Asked for all topics: the ones the client may not describe are left out.
                let all_topics = g.topics.is_none();
                let topics = g.topics.map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.name.as_str().to_string(), t.partition_indexes))
                        .collect()
                });
                let fetched = groups.fetch_offsets(g.group_id.as_str(), topics);
                let pending = unstable(g.group_id.as_str());
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_topics(
                        fetched
                            .into_iter()
                            .filter(|t| !all_topics || may_describe_topic(&t.topic))
                            .map(|t| {
                                let denied = !may_describe_topic(&t.topic);
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(str_bytes(t.topic.clone())))
                                    .with_partitions(
                                        t.partitions
                                            .into_iter()
                                            .map(|p| {
                                                let r = OffsetFetchResponsePartitions::default()
                                                    .with_partition_index(p.partition);
                                                if denied {
                                                    return r
                                                        .with_committed_offset(-1)
                                                        .with_committed_leader_epoch(-1)
                                                        .with_metadata(Some(str_bytes("")))
                                                        .with_error_code(denied_code);
                                                }
                                                if pending.contains(&(t.topic.clone(), p.partition))
                                                {
                                                    return r
                                                        .with_committed_offset(-1)
                                                        .with_committed_leader_epoch(-1)
                                                        .with_metadata(Some(str_bytes("")))
                                                        .with_error_code(
                                                            group_error_code(&unstable_code).code(),
                                                        );
                                                }
                                                r.with_committed_offset(p.offset)
                                                    .with_committed_leader_epoch(p.leader_epoch)
                                                    .with_metadata(Some(str_bytes(p.metadata)))
                                            })
                                            .collect(),
                                    )
                            })
                            .collect(),
                    )
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(results);
    }
    if !may_describe_group(&req.group_id) {
        let code = ResponseError::GroupAuthorizationFailed.code();
        // v0–1 have no top-level error: each requested partition carries it.
        let topics = req
            .topics
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                OffsetFetchResponseTopic::default()
                    .with_name(t.name)
                    .with_partitions(
                        t.partition_indexes
                            .into_iter()
                            .map(|p| {
                                OffsetFetchResponsePartition::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(-1)
                                    .with_committed_leader_epoch(-1)
                                    .with_metadata(Some(str_bytes("")))
                                    .with_error_code(code)
                            })
                            .collect(),
                    )
            })
            .collect();
        return if version >= 2 {
            OffsetFetchResponse::default().with_error_code(code)
        } else {
            OffsetFetchResponse::default().with_topics(topics)
        };
    }
    let all_topics = req.topics.is_none();
    let topics = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.name.as_str().to_string(), t.partition_indexes))
            .collect()
    });
    let fetched = groups.fetch_offsets(req.group_id.as_str(), topics);
    let pending = unstable(req.group_id.as_str());
    OffsetFetchResponse::default().with_topics(
        fetched
            .into_iter()
            .filter(|t| !all_topics || may_describe_topic(&t.topic))
            .map(|t| {
                let denied = !may_describe_topic(&t.topic);
                OffsetFetchResponseTopic::default()
                    .with_name(TopicName(str_bytes(t.topic.clone())))
                    .with_partitions(
                        t.partitions
                            .into_iter()
                            .map(|p| {
                                if denied {
                                    return OffsetFetchResponsePartition::default()
                                        .with_partition_index(p.partition)
                                        .with_committed_offset(-1)
                                        .with_committed_leader_epoch(-1)
                                        .with_metadata(Some(str_bytes("")))
                                        .with_error_code(denied_code);
                                }
                                if version == 0
                                    && (p.offset < 0 || broker.logs().topic(&t.topic).is_none())
                                {
                                    return OffsetFetchResponsePartition::default()
                                        .with_partition_index(p.partition)
                                        .with_committed_offset(-1)
                                        .with_committed_leader_epoch(-1)
                                        .with_metadata(Some(str_bytes("")))
                                        .with_error_code(
                                            ResponseError::UnknownTopicOrPartition.code(),
                                        );
                                }
                                if pending.contains(&(t.topic.clone(), p.partition)) {
                                    return OffsetFetchResponsePartition::default()
                                        .with_partition_index(p.partition)
                                        .with_committed_offset(-1)
                                        .with_committed_leader_epoch(-1)
                                        .with_metadata(Some(str_bytes("")))
                                        .with_error_code(group_error_code(&unstable_code).code());
                                }
                                OffsetFetchResponsePartition::default()
                                    .with_partition_index(p.partition)
                                    .with_committed_offset(p.offset)
                                    .with_committed_leader_epoch(if version >= 5 {
                                        p.leader_epoch
                                    } else {
                                        -1
                                    })
                                    .with_metadata(Some(str_bytes(p.metadata)))
                            })
                            .collect(),
                    )
            })
            .collect(),
    )
}
