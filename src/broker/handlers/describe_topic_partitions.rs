//! DescribeTopicPartitions (KIP-966): topics with their partitions, paged by a
//! cursor. The Java admin client's describeTopics (and so `kafka-topics
//! --describe`) asks this first and only falls back to Metadata when it is not
//! advertised; against Kafka 4.1 the tool then shows `Elr:` lists, which come
//! only from this API.
//!
//! Paging follows Kafka's handler: topics sorted by name starting at the
//! cursor's topic, at most `min(response_partition_limit, 2000)` partitions per
//! response, and `next_cursor` naming the first partition not returned.

use std::sync::Arc;

use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, TopicName,
};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{is_internal_topic, validate_topic_name, Broker, Session};
use crate::storage::Topic;

/// Kafka's `max.request.partition.size.limit` default: the most partitions
/// one response carries, whatever the client asks for.
const MAX_PARTITIONS_PER_RESPONSE: i32 = 2000;

pub fn handle(
    broker: &Broker,
    req: DescribeTopicPartitionsRequest,
    _version: i16,
    session: &Session,
) -> DescribeTopicPartitionsResponse {
    let may_describe =
        |name: &str| broker.authorize(session, AclOperation::Describe, ResourceType::Topic, name);
    let ops = |name: &str| broker.authorized_operations(session, ResourceType::Topic, name);
    let fetch_all = req.topics.is_empty();
    let cursor_topic: String = req
        .cursor
        .as_ref()
        .map(|c| c.topic_name.to_string())
        .unwrap_or_default();
    let mut names: Vec<String> = if fetch_all {
        broker
            .logs()
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            // Listing all topics leaves out those the client may not describe.
            .filter(|n| may_describe(n))
            .collect()
    } else {
        req.topics.iter().map(|t| t.name.to_string()).collect()
    };
    names.retain(|n| *n >= cursor_topic);
    names.sort();
    names.dedup();

    // Kafka rejects a cursor outside the requested topics or with a negative
    // partition; its error response gives every requested topic the error.
    if let Some(c) = &req.cursor {
        let outside = !fetch_all && !names.contains(&cursor_topic);
        if outside || c.partition_index < 0 {
            let topics = req
                .topics
                .iter()
                .map(|t| {
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_name(Some(t.name.clone()))
                        .with_error_code(ResponseError::InvalidRequest.code())
                })
                .collect();
            return DescribeTopicPartitionsResponse::default().with_topics(topics);
        }
    }

    let start_of = |name: &str| match &req.cursor {
        Some(c) if name == cursor_topic => c.partition_index,
        _ => 0,
    };
    let mut remaining = req
        .response_partition_limit
        .clamp(1, MAX_PARTITIONS_PER_RESPONSE);
    let mut topics = Vec::new();
    let mut next_cursor = None;
    for name in names {
        if remaining == 0 {
            // Every earlier topic was answered in full: resume at this one.
            next_cursor = Some(cursor(&name, 0));
            break;
        }
        // A named topic is checked before its existence is revealed.
        if !fetch_all && !may_describe(&name) {
            topics.push(
                DescribeTopicPartitionsResponseTopic::default()
                    .with_name(Some(TopicName(str_bytes(name.as_str()))))
                    .with_error_code(ResponseError::TopicAuthorizationFailed.code())
                    .with_topic_authorized_operations(super::AUTHORIZED_OPERATIONS_OMITTED),
            );
            continue;
        }
        match broker.logs().topic(&name) {
            Some(topic) => {
                let start = start_of(&name);
                let count = topic.partition_count();
                let end = count.min(start.saturating_add(remaining));
                topics.push(describe(broker, &topic, start, end, ops(&name)));
                if end < count {
                    next_cursor = Some(cursor(&name, end));
                    break;
                }
                remaining -= (end - start).max(0);
            }
            // Listing all topics skips one deleted meanwhile; a named one is
            // answered with its error, as Kafka does.
            None if fetch_all => {}
            None => {
                let code = if validate_topic_name(&name).is_ok() {
                    ResponseError::UnknownTopicOrPartition
                } else {
                    ResponseError::InvalidTopicException
                };
                topics.push(
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_name(Some(TopicName(str_bytes(name.as_str()))))
                        .with_error_code(code.code())
                        .with_is_internal(is_internal_topic(&name))
                        .with_topic_authorized_operations(ops(&name)),
                );
            }
        }
    }
    DescribeTopicPartitionsResponse::default()
        .with_topics(topics)
        .with_next_cursor(next_cursor)
}

fn cursor(topic: &str, partition: i32) -> Cursor {
    Cursor::default()
        .with_topic_name(TopicName(str_bytes(topic)))
        .with_partition_index(partition)
}

fn describe(
    broker: &Broker,
    topic: &Arc<Topic>,
    start: i32,
    end: i32,
    authorized_operations: i32,
) -> DescribeTopicPartitionsResponseTopic {
    let node = BrokerId(broker.node_id());
    let partitions = (start..end)
        .map(|p| {
            // One broker: it leads every partition and is the whole ISR, so
            // the eligible-leader lists (replicas outside the ISR) are empty,
            // which is what Kafka 4.1 answers for a single-node cluster.
            DescribeTopicPartitionsResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(node)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
                .with_eligible_leader_replicas(Some(Vec::new()))
                .with_last_known_elr(Some(Vec::new()))
                .with_offline_replicas(Vec::new())
        })
        .collect();
    DescribeTopicPartitionsResponseTopic::default()
        .with_name(Some(TopicName(str_bytes(topic.name()))))
        .with_topic_id(topic.id())
        .with_is_internal(is_internal_topic(topic.name()))
        .with_partitions(partitions)
        .with_topic_authorized_operations(authorized_operations)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kafka_protocol::messages::describe_topic_partitions_request::{
        Cursor as RequestCursor, TopicRequest,
    };

    use super::*;
    use crate::clock::SystemClock;
    use crate::config::{BrokerConfig, RawConfig};

    fn broker(dir: &std::path::Path) -> Broker {
        let mut raw = RawConfig::default();
        raw.merge_set(&format!("log.dirs={}", dir.display()))
            .unwrap();
        let config = BrokerConfig::resolve(&raw).unwrap();
        Broker::open(config, Arc::new(SystemClock), 9092).unwrap()
    }

    fn request(
        topics: &[&str],
        limit: i32,
        cursor: Option<(&str, i32)>,
    ) -> DescribeTopicPartitionsRequest {
        DescribeTopicPartitionsRequest::default()
            .with_topics(
                topics
                    .iter()
                    .map(|t| TopicRequest::default().with_name(TopicName(str_bytes(*t))))
                    .collect(),
            )
            .with_response_partition_limit(limit)
            .with_cursor(cursor.map(|(t, p)| {
                RequestCursor::default()
                    .with_topic_name(TopicName(str_bytes(t)))
                    .with_partition_index(p)
            }))
    }

    /// (name, partition indexes, error code) of one answered topic.
    type TopicSummary = (String, Vec<i32>, i16);

    /// The topics of a response, and its next cursor.
    fn summary(r: &DescribeTopicPartitionsResponse) -> (Vec<TopicSummary>, Option<(String, i32)>) {
        let topics = r
            .topics
            .iter()
            .map(|t| {
                (
                    t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                    t.partitions.iter().map(|p| p.partition_index).collect(),
                    t.error_code,
                )
            })
            .collect();
        let next = r
            .next_cursor
            .as_ref()
            .map(|c| (c.topic_name.to_string(), c.partition_index));
        (topics, next)
    }

    #[tokio::test]
    async fn pages_by_cursor_like_kafka() {
        let dir = tempfile::tempdir().unwrap();
        let b = broker(dir.path());
        b.create_topic("b", 3, BTreeMap::new(), false).unwrap();
        b.create_topic("a", 2, BTreeMap::new(), false).unwrap();

        // Sorted by name; the limit cuts inside "b" and the cursor resumes there.
        let r = handle(
            &b,
            request(&["b", "a"], 3, None),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        assert_eq!(
            summary(&r),
            (
                vec![("a".into(), vec![0, 1], 0), ("b".into(), vec![0], 0)],
                Some(("b".into(), 1))
            )
        );
        let r = handle(
            &b,
            request(&["b", "a"], 3, Some(("b", 1))),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        assert_eq!(summary(&r), (vec![("b".into(), vec![1, 2], 0)], None));

        // A limit that ends exactly at a topic's end points at the next topic.
        let r = handle(
            &b,
            request(&["a", "b"], 2, None),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        assert_eq!(
            summary(&r),
            (vec![("a".into(), vec![0, 1], 0)], Some(("b".into(), 0)))
        );

        // Unknown names get their error; all topics (empty list) skip nothing real.
        let r = handle(
            &b,
            request(&["a", "zz"], 100, None),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        assert_eq!(
            summary(&r).0,
            vec![
                ("a".into(), vec![0, 1], 0),
                (
                    "zz".into(),
                    vec![],
                    ResponseError::UnknownTopicOrPartition.code()
                )
            ]
        );
        let r = handle(
            &b,
            request(&[], 100, None),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        let names: Vec<String> = summary(&r).0.into_iter().map(|t| t.0).collect();
        assert!(
            names.starts_with(&["__consumer_offsets".to_string(), "a".into(), "b".into()]),
            "{names:?}"
        );

        // A cursor outside the requested topics is an invalid request.
        let r = handle(
            &b,
            request(&["a"], 100, Some(("b", 0))),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        assert_eq!(
            summary(&r).0,
            vec![("a".into(), vec![], ResponseError::InvalidRequest.code())]
        );
        // ELR lists are present and empty: one broker is always the whole ISR.
        let r = handle(
            &b,
            request(&["a"], 100, None),
            0,
            &crate::broker::Session::plaintext("/127.0.0.1"),
        );
        let p = &r.topics[0].partitions[0];
        assert_eq!(p.eligible_leader_replicas, Some(vec![]));
        assert_eq!(p.last_known_elr, Some(vec![]));
    }
}
