//! The request versions Kafka 4.0 removed (KIP-896) and Skiff serves for
//! legacy clients (sarama 1.22 commits offsets with OffsetCommit v1), sent
//! as raw requests over TCP: each gets a real answer with Kafka 3.9's
//! meaning, and what it wrote reads back through old and new versions alike.
//!
//! Real Kafka 4.x refuses these versions, so against an external broker
//! (`SKIFF_TEST_BOOTSTRAP`) every test here prints SKIP.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{
    CreatableTopic, CreatableTopicConfig, CreateTopicsRequest,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicsRequest;
use kafka_protocol::messages::describe_configs_request::{
    DescribeConfigsRequest, DescribeConfigsResource,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribeLogDirsRequest;
use kafka_protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use kafka_protocol::messages::list_offsets_request::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic,
};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{OffsetFetchRequest, OffsetFetchRequestTopic};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderEpochRequest, OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, BrokerId, GroupId, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::harness::*;

const SKIP: &str = "Kafka 4.x removed these request versions (KIP-896)";

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn create_topics_v(
    raw: &mut RawClient,
    version: i16,
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
    validate_only: bool,
) -> (i16, Option<String>) {
    let req = CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(topic))
            .with_num_partitions(partitions)
            .with_replication_factor(1)
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        CreatableTopicConfig::default()
                            .with_name(s(k))
                            .with_value(Some(s(v)))
                    })
                    .collect(),
            )])
        .with_timeout_ms(10_000)
        .with_validate_only(validate_only);
    let resp = raw.call(&req, version);
    assert_eq!(resp.topics.len(), 1, "CreateTopics v{version}: {resp:?}");
    let t = &resp.topics[0];
    assert_eq!(t.name.as_str(), topic);
    (
        t.error_code,
        t.error_message.as_ref().map(|m| m.to_string()),
    )
}

/// Partition count of `topic` per Metadata v1, or its error code.
fn partition_count(raw: &mut RawClient, topic: &str) -> Result<usize, i16> {
    let resp = raw.call(&metadata_request(Some(&[topic]), false), 4);
    let t = &resp.topics[0];
    if t.error_code != 0 {
        return Err(t.error_code);
    }
    Ok(t.partitions.len())
}

fn produce(raw: &mut RawClient, topic: &str, values: &[&[u8]]) -> i64 {
    let v = raw.pick_version(ApiKey::Produce, 9);
    let (code, base) =
        produce_result(&raw.call(&produce_request(topic, 0, encode_batch(values, None), 1), v));
    assert_eq!(code, 0, "produce to {topic}");
    base
}

fn commit_request(
    group: &str,
    generation: i32,
    member: &str,
    topic: &str,
    parts: &[(i32, i64, &str, i64)],
) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(
                parts
                    .iter()
                    .map(|&(p, offset, meta, ts)| {
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(offset)
                            .with_committed_metadata(Some(s(meta)))
                            .with_commit_timestamp(ts)
                    })
                    .collect(),
            )])
}

/// (partition, error) of every partition in an OffsetCommit answer.
fn commit_codes(raw: &mut RawClient, req: &OffsetCommitRequest, version: i16) -> Vec<(i32, i16)> {
    let resp = raw.call(req, version);
    resp.topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (p.partition_index, p.error_code))
        })
        .collect()
}

/// (partition, offset, metadata, error) per partition, OffsetFetch v0–v7.
fn fetch_offsets(
    raw: &mut RawClient,
    version: i16,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Vec<(i32, i64, String, i16)> {
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partition_indexes(partitions.to_vec())]));
    let resp: OffsetFetchResponse = raw.call(&req, version);
    assert_eq!(resp.topics.len(), 1, "OffsetFetch v{version}: {resp:?}");
    resp.topics[0]
        .partitions
        .iter()
        .map(|p| {
            (
                p.partition_index,
                p.committed_offset,
                p.metadata
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                p.error_code,
            )
        })
        .collect()
}

#[test]
fn legacy_versions_are_advertised() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let versions = raw.api_versions();
    for key in [
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::OffsetCommit,
        ApiKey::OffsetFetch,
        ApiKey::CreateTopics,
        ApiKey::DeleteTopics,
        ApiKey::DescribeConfigs,
        ApiKey::DescribeLogDirs,
        ApiKey::OffsetForLeaderEpoch,
        ApiKey::Metadata,
        ApiKey::JoinGroup,
    ] {
        let (min, _) = versions[&(key as i16)];
        assert_eq!(min, 0, "{key:?} advertised from v{min}");
    }
    // ApiVersions v0 lists the same table.
    let v0 = raw.call(&ApiVersionsRequest::default(), 0);
    let oc = v0
        .api_keys
        .iter()
        .find(|k| k.api_key == ApiKey::OffsetCommit as i16)
        .expect("OffsetCommit advertised");
    assert_eq!(oc.min_version, 0);
}

#[test]
fn offset_commit_v0_v1_read_back_by_offset_fetch_v0_v1_and_new_versions() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-commit");
    let group = unique_topic("legacy-g");
    assert_eq!(create_topics_v(&mut raw, 2, &topic, 3, &[], false).0, 0);

    // v1 outside group management (sarama's manual commit): generation -1,
    // no member, the commit timestamp -1 ("now").
    let codes = commit_codes(
        &mut raw,
        &commit_request(&group, -1, "", &topic, &[(0, 5, "m1", -1)]),
        1,
    );
    assert_eq!(codes, vec![(0, 0)]);

    // v0 carries neither generation nor member.
    let codes = commit_codes(
        &mut raw,
        &commit_request(&group, -1, "", &topic, &[(1, 7, "m0", -1)]),
        0,
    );
    assert_eq!(codes, vec![(1, 0)]);

    // OffsetFetch v1: both commits; a partition without one is -1, no error.
    let got = fetch_offsets(&mut raw, 1, &group, &topic, &[0, 1, 2]);
    assert_eq!(
        got,
        vec![
            (0, 5, "m1".to_string(), 0),
            (1, 7, "m0".to_string(), 0),
            (2, -1, String::new(), 0)
        ]
    );
    // OffsetFetch v0 reads them too; a partition without a commit is
    // UNKNOWN_TOPIC_OR_PARTITION, as in Kafka 3.9.
    let got = fetch_offsets(&mut raw, 0, &group, &topic, &[0, 1, 2]);
    let unknown = ResponseError::UnknownTopicOrPartition.code();
    assert_eq!(
        got,
        vec![
            (0, 5, "m1".to_string(), 0),
            (1, 7, "m0".to_string(), 0),
            (2, -1, String::new(), unknown)
        ]
    );
    // And a current version sees the same offsets.
    let got = fetch_offsets(&mut raw, 7, &group, &topic, &[0, 1]);
    assert_eq!(got[0].1, 5);
    assert_eq!(got[1].1, 7);

    // Unknown topic: UNKNOWN_TOPIC_OR_PARTITION per partition, both versions.
    let missing = unique_topic("legacy-missing");
    for v in [0, 1] {
        let codes = commit_codes(
            &mut raw,
            &commit_request(&group, -1, "", &missing, &[(0, 1, "", -1)]),
            v,
        );
        assert_eq!(codes, vec![(0, unknown)], "OffsetCommit v{v}");
    }
    let got = fetch_offsets(&mut raw, 0, &group, &missing, &[0]);
    assert_eq!(got, vec![(0, -1, String::new(), unknown)]);
}

#[test]
fn offset_commit_v1_from_a_group_member_checks_the_generation() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-member");
    let group = unique_topic("legacy-gm");
    assert_eq!(create_topics_v(&mut raw, 0, &topic, 1, &[], false).0, 0);

    // A sarama-1.22-style member: JoinGroup v0 and SyncGroup v0.
    let join = raw.call(
        &JoinGroupRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_session_timeout_ms(10_000)
            .with_member_id(s(""))
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(Bytes::from_static(b"\0\0\0\0\0\0"))]),
        0,
    );
    assert_eq!(join.error_code, 0, "JoinGroup v0: {join:?}");
    let member = join.member_id.to_string();
    let generation = join.generation_id;
    let sync = raw.call(
        &SyncGroupRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_generation_id(generation)
            .with_member_id(s(&member))
            .with_assignments(vec![SyncGroupRequestAssignment::default()
                .with_member_id(s(&member))
                .with_assignment(Bytes::from_static(b"\0\0\0\0\0\0\0\0"))]),
        0,
    );
    assert_eq!(sync.error_code, 0, "SyncGroup v0: {sync:?}");

    let ok = commit_request(&group, generation, &member, &topic, &[(0, 11, "", -1)]);
    assert_eq!(commit_codes(&mut raw, &ok, 1), vec![(0, 0)]);
    let stale = commit_request(&group, generation - 1, &member, &topic, &[(0, 12, "", -1)]);
    assert_eq!(
        commit_codes(&mut raw, &stale, 1),
        vec![(0, ResponseError::IllegalGeneration.code())]
    );
    let stranger = commit_request(&group, generation, "nobody", &topic, &[(0, 13, "", -1)]);
    assert_eq!(
        commit_codes(&mut raw, &stranger, 1),
        vec![(0, ResponseError::UnknownMemberId.code())]
    );
    let got = fetch_offsets(&mut raw, 1, &group, &topic, &[0]);
    assert_eq!(got, vec![(0, 11, String::new(), 0)]);
}

#[test]
fn offset_commit_v1_commit_timestamp_is_where_expiry_counts_from() {
    if skip_if_external("needs --set offsets.retention.*") {
        return;
    }
    // Offsets of a group without members expire one day after their commit
    // timestamp; the expiry check runs every 100 ms.
    let broker = Broker::start_with(&[
        ("offsets.retention.minutes", "1440"),
        ("offsets.retention.check.interval.ms", "100"),
    ]);
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-expiry");
    let group = unique_topic("legacy-ge");
    assert_eq!(create_topics_v(&mut raw, 1, &topic, 2, &[], false).0, 0);

    let two_days_ago = now_ms() - 2 * 24 * 3600 * 1000;
    let codes = commit_codes(
        &mut raw,
        &commit_request(
            &group,
            -1,
            "",
            &topic,
            &[(0, 3, "old", two_days_ago), (1, 4, "now", -1)],
        ),
        1,
    );
    assert_eq!(codes, vec![(0, 0), (1, 0)]);
    let got = wait_for(
        "the back-dated offset to expire",
        Duration::from_secs(20),
        || {
            let got = fetch_offsets(&mut raw, 1, &group, &topic, &[0, 1]);
            (got[0].1 == -1).then_some(got)
        },
    );
    assert_eq!(
        got[1],
        (1, 4, "now".to_string(), 0),
        "the offset committed with timestamp -1 (now) must stay"
    );
}

#[test]
fn list_offsets_v0_answers_old_style_offsets() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-lo");
    assert_eq!(create_topics_v(&mut raw, 0, &topic, 1, &[], false).0, 0);

    let list = |raw: &mut RawClient, partition: i32, timestamp: i64, max: i32| {
        let req = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic_name(&topic))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(partition)
                    .with_timestamp(timestamp)
                    .with_max_num_offsets(max)])]);
        let resp = raw.call(&req, 0);
        let p = &resp.topics[0].partitions[0];
        assert_eq!(p.partition_index, partition);
        (p.error_code, p.old_style_offsets.clone())
    };

    // An empty log: latest and earliest are both 0.
    assert_eq!(list(&mut raw, 0, -1, 1), (0, vec![0]));
    assert_eq!(list(&mut raw, 0, -2, 1), (0, vec![0]));

    assert_eq!(produce(&mut raw, &topic, &[b"a", b"b", b"c"]), 0);
    // Latest: the log end; with room for more, the segment bases follow.
    assert_eq!(list(&mut raw, 0, -1, 1), (0, vec![3]));
    assert_eq!(list(&mut raw, 0, -1, 10), (0, vec![3, 0]));
    // Earliest: the log start only, whatever the count.
    assert_eq!(list(&mut raw, 0, -2, 10), (0, vec![0]));
    // A timestamp counts by segment modification time: before the segment
    // was written nothing qualifies; in the future everything does.
    assert_eq!(list(&mut raw, 0, 1, 10), (0, vec![]));
    assert_eq!(list(&mut raw, 0, now_ms() + 3_600_000, 10), (0, vec![3, 0]));
    // Only -1 and -2 exist among the negative timestamps in v0.
    assert_eq!(
        list(&mut raw, 0, -3, 1),
        (ResponseError::UnsupportedVersion.code(), vec![])
    );
    // Unknown partition.
    assert_eq!(
        list(&mut raw, 7, -1, 1),
        (ResponseError::UnknownTopicOrPartition.code(), vec![])
    );

    // v1 on the same log agrees on latest.
    let req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name(&topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])]);
    let resp = raw.call(&req, 1);
    assert_eq!(resp.topics[0].partitions[0].offset, 3);
}

#[test]
fn create_topics_v0_v1_and_delete_topics_v0() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-ct");

    // v0 creates (its answer is only the name and error code).
    let (code, _) = create_topics_v(
        &mut raw,
        0,
        &topic,
        2,
        &[("retention.ms", "86400000")],
        false,
    );
    assert_eq!(code, 0);
    assert_eq!(partition_count(&mut raw, &topic), Ok(2));
    // v0 again: TOPIC_ALREADY_EXISTS ...
    let exists = ResponseError::TopicAlreadyExists.code();
    assert_eq!(
        create_topics_v(&mut raw, 0, &topic, 2, &[], false).0,
        exists
    );
    // ... v1 carries the message.
    let (code, message) = create_topics_v(&mut raw, 1, &topic, 2, &[], false);
    assert_eq!(code, exists);
    assert!(
        message.is_some_and(|m| m.contains(&topic)),
        "v1 error message"
    );

    // v1 validate_only creates nothing.
    let dry = unique_topic("legacy-ct-dry");
    assert_eq!(create_topics_v(&mut raw, 1, &dry, 1, &[], true).0, 0);
    assert_eq!(
        partition_count(&mut raw, &dry),
        Err(ResponseError::UnknownTopicOrPartition.code())
    );
    // v0 refuses a bad partition count like any version.
    let bad = unique_topic("legacy-ct-bad");
    assert_eq!(
        create_topics_v(&mut raw, 0, &bad, 0, &[], false).0,
        ResponseError::InvalidPartitions.code()
    );

    // DeleteTopics v0 deletes it.
    let resp = raw.call(
        &DeleteTopicsRequest::default()
            .with_topic_names(vec![topic_name(&topic)])
            .with_timeout_ms(10_000),
        0,
    );
    assert_eq!(resp.responses.len(), 1);
    assert_eq!(resp.responses[0].error_code, 0, "DeleteTopics v0: {resp:?}");
    assert_eq!(
        partition_count(&mut raw, &topic),
        Err(ResponseError::UnknownTopicOrPartition.code())
    );
    // Deleting it again: unknown.
    let resp = raw.call(
        &DeleteTopicsRequest::default()
            .with_topic_names(vec![topic_name(&topic)])
            .with_timeout_ms(10_000),
        0,
    );
    assert_eq!(
        resp.responses[0].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );
}

#[test]
fn delete_topics_v0_with_deletion_disabled_is_invalid_request() {
    if skip_if_external("needs --set delete.topic.enable=false") {
        return;
    }
    let broker = Broker::start_with(&[("delete.topic.enable", "false")]);
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-nodelete");
    assert_eq!(create_topics_v(&mut raw, 0, &topic, 1, &[], false).0, 0);
    for (v, code) in [
        (0, ResponseError::InvalidRequest),
        (3, ResponseError::TopicDeletionDisabled),
    ] {
        let resp = raw.call(
            &DeleteTopicsRequest::default()
                .with_topic_names(vec![topic_name(&topic)])
                .with_timeout_ms(10_000),
            v,
        );
        assert_eq!(
            resp.responses[0].error_code,
            code.code(),
            "DeleteTopics v{v}"
        );
    }
    assert_eq!(partition_count(&mut raw, &topic), Ok(1));
}

#[test]
fn describe_configs_v0_and_describe_log_dirs_v0() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-dc");
    assert_eq!(
        create_topics_v(
            &mut raw,
            0,
            &topic,
            2,
            &[("retention.ms", "1234567")],
            false
        )
        .0,
        0
    );
    assert_eq!(produce(&mut raw, &topic, &[b"x"]), 0);

    // DescribeConfigs v0: is_default instead of a config source.
    let resp = raw.call(
        &DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(&topic))
            .with_configuration_keys(Some(vec![s("retention.ms"), s("cleanup.policy")]))]),
        0,
    );
    let r = &resp.results[0];
    assert_eq!(r.error_code, 0, "DescribeConfigs v0: {r:?}");
    let entry = |name: &str| {
        r.configs
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("{name} missing: {r:?}"))
    };
    let retention = entry("retention.ms");
    assert_eq!(
        retention.value.as_ref().map(|v| v.as_str()),
        Some("1234567")
    );
    assert!(!retention.is_default, "retention.ms was set on the topic");
    let policy = entry("cleanup.policy");
    assert_eq!(policy.value.as_ref().map(|v| v.as_str()), Some("delete"));
    assert!(policy.is_default, "cleanup.policy was never set");
    // An unknown topic is an error per resource.
    let resp = raw.call(
        &DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(&unique_topic("legacy-dc-missing")))]),
        0,
    );
    assert_eq!(
        resp.results[0].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );

    // DescribeLogDirs v0, all topics: our two partitions, one with data.
    let resp = raw.call(&DescribeLogDirsRequest::default().with_topics(None), 0);
    assert_eq!(resp.results.len(), 1, "one log dir: {resp:?}");
    let dir = &resp.results[0];
    assert_eq!(dir.error_code, 0);
    let t = dir
        .topics
        .iter()
        .find(|t| t.name.as_str() == topic)
        .unwrap_or_else(|| panic!("{topic} missing from DescribeLogDirs v0: {resp:?}"));
    let mut parts: Vec<(i32, bool)> = t
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.partition_size > 0))
        .collect();
    parts.sort();
    assert_eq!(parts, vec![(0, true), (1, false)]);
}

#[test]
fn offset_for_leader_epoch_v0_v1() {
    if skip_if_external(SKIP) {
        return;
    }
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic = unique_topic("legacy-ofle");
    assert_eq!(create_topics_v(&mut raw, 0, &topic, 1, &[], false).0, 0);
    assert_eq!(produce(&mut raw, &topic, &[b"a", b"b", b"c", b"d"]), 0);

    let ask = |raw: &mut RawClient, version: i16, t: &str| {
        let req = OffsetForLeaderEpochRequest::default().with_topics(vec![
            OffsetForLeaderTopic::default()
                .with_topic(TopicName(s(t)))
                .with_partitions(vec![OffsetForLeaderPartition::default()
                    .with_partition(0)
                    .with_leader_epoch(0)]),
        ]);
        let resp = raw.call(&req, version);
        let p = &resp.topics[0].partitions[0];
        (p.error_code, p.leader_epoch, p.end_offset)
    };
    // v0 has no leader epoch in the answer (it decodes as -1).
    assert_eq!(ask(&mut raw, 0, &topic), (0, -1, 4));
    assert_eq!(ask(&mut raw, 1, &topic), (0, 0, 4));
    let missing = unique_topic("legacy-ofle-missing");
    assert_eq!(
        ask(&mut raw, 0, &missing).0,
        ResponseError::UnknownTopicOrPartition.code()
    );
}
