//! OffsetFetch (v1–v9): committed offsets of one group (v1–v7) or several
//! (v8+); null topics means every committed offset of the group; a
//! partition without a commit is -1. `require_stable` (v7+) never has to
//! wait: without transactions no commit is ever pending.

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};

use super::str_bytes;
use crate::broker::Broker;

pub fn handle(broker: &Broker, req: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
    let groups = broker.groups();
    if version >= 8 {
        let results = req
            .groups
            .into_iter()
            .map(|g| {
                let topics = g.topics.map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.name.as_str().to_string(), t.partition_indexes))
                        .collect()
                });
                let fetched = groups.fetch_offsets(g.group_id.as_str(), topics);
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_topics(
                        fetched
                            .into_iter()
                            .map(|t| {
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(str_bytes(t.topic)))
                                    .with_partitions(
                                        t.partitions
                                            .into_iter()
                                            .map(|p| {
                                                OffsetFetchResponsePartitions::default()
                                                    .with_partition_index(p.partition)
                                                    .with_committed_offset(p.offset)
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
    let topics = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.name.as_str().to_string(), t.partition_indexes))
            .collect()
    });
    let fetched = groups.fetch_offsets(req.group_id.as_str(), topics);
    OffsetFetchResponse::default().with_topics(
        fetched
            .into_iter()
            .map(|t| {
                OffsetFetchResponseTopic::default()
                    .with_name(TopicName(str_bytes(t.topic)))
                    .with_partitions(
                        t.partitions
                            .into_iter()
                            .map(|p| {
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
