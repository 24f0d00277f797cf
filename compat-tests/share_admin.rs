//! Share groups (KIP-932) beyond fetching, with raw Kafka-protocol requests
//! over TCP and rdkafka's transactional producer:
//! - ShareFetch/ShareAcknowledge of a member id that is not in the group are
//!   served as Kafka 4.2 serves them (no membership check; the share session
//!   decides);
//! - with the authorizer, ShareFetch needs READ on the group and on each
//!   topic (TOPIC_AUTHORIZATION_FAILED per partition otherwise);
//! - `share.isolation.level=read_committed` delivers only committed records
//!   below the last stable offset, read_uncommitted everything but the
//!   transaction markers;
//! - Describe/Alter/DeleteShareGroupOffsets (APIs 90-92) with Kafka's error
//!   codes, and their effect surviving a restart.

use std::time::{Duration, Instant};

use kafka_protocol::messages::alter_share_group_offsets_request::{
    AlterShareGroupOffsetsRequestPartition, AlterShareGroupOffsetsRequestTopic,
};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_share_group_offsets_request::DeleteShareGroupOffsetsRequestTopic;
use kafka_protocol::messages::describe_share_group_offsets_request::{
    DescribeShareGroupOffsetsRequestGroup, DescribeShareGroupOffsetsRequestTopic,
};
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::share_fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use uuid::Uuid;

use crate::harness::*;

const T: Duration = Duration::from_secs(30);
const RESOURCE_GROUP: i8 = 32;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// Sets one group config (IncrementalAlterConfigs on a GROUP resource).
fn set_group_config(raw: &mut RawClient, group: &str, key: &str, value: &str) {
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(RESOURCE_GROUP)
            .with_resource_name(s(group))
            .with_configs(vec![AlterableConfig::default()
                .with_name(s(key))
                .with_config_operation(0)
                .with_value(Some(s(value)))]),
    ]);
    let r = raw.call(&req, 1);
    assert_eq!(r.responses[0].error_code, 0, "{key}={value}: {r:?}");
}

/// Joins `member` to the share group on `topic`; returns the topic id.
fn join(raw: &mut RawClient, group: &str, member: &str, topic: &str) -> Uuid {
    let r = raw.call(
        &ShareGroupHeartbeatRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_member_id(s(member))
            .with_member_epoch(0)
            .with_subscribed_topic_names(Some(vec![topic_name(topic)])),
        1,
    );
    assert_eq!(r.error_code, 0, "join: {r:?}");
    r.assignment.expect("an assignment").topic_partitions[0].topic_id
}

fn share_fetch(group: &str, member: &str, topic_id: Uuid, epoch: i32) -> ShareFetchRequest {
    ShareFetchRequest::default()
        .with_group_id(Some(GroupId(s(group))))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_max_wait_ms(300)
        .with_max_records(100)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(topic_id)
            .with_partitions(vec![
                FetchPartition::default().with_partition_index(0)
            ])])
}

/// Fetches in one share session (epochs 0, 1, …) until `want` offsets were
/// acquired in all or `limit` passes; returns the acquired offsets.
fn acquire_offsets(
    raw: &mut RawClient,
    group: &str,
    member: &str,
    topic_id: Uuid,
    want: usize,
    limit: Duration,
) -> Vec<i64> {
    let deadline = Instant::now() + limit;
    let mut offsets = Vec::new();
    let mut epoch = 0;
    loop {
        let r = raw.call(&share_fetch(group, member, topic_id, epoch), 2);
        assert_eq!(r.error_code, 0, "ShareFetch: {r:?}");
        epoch += 1;
        for t in &r.responses {
            for p in &t.partitions {
                assert_eq!(p.error_code, 0, "partition error: {p:?}");
                for a in &p.acquired_records {
                    offsets.extend(a.first_offset..=a.last_offset);
                }
            }
        }
        if offsets.len() >= want || Instant::now() >= deadline {
            return offsets;
        }
    }
}

fn txn_producer(broker: &Broker, txn_id: &str) -> BaseProducer {
    let p: BaseProducer = producer_config(broker, &[("transactional.id", txn_id)])
        .create()
        .expect("create a transactional producer");
    p.init_transactions(T).expect("init_transactions");
    p
}

fn send(p: &BaseProducer, topic: &str, value: &str) {
    p.send(BaseRecord::<(), _>::to(topic).partition(0).payload(value))
        .map_err(|(e, _)| e)
        .expect("send");
}

/// Kafka 4.2 does not check group membership in ShareFetch or
/// ShareAcknowledge (KafkaApis validates only the member id's form; the
/// share session cache is keyed by group and member id): a member id the
/// group does not know opens a session with epoch 0 and acquires records,
/// any other epoch without a session is SHARE_SESSION_NOT_FOUND, and an
/// empty or over-long (> 36 characters) member id is INVALID_REQUEST.
#[test]
fn share_fetch_of_a_member_not_in_the_group_is_served_as_kafka_does() {
    if skip_if_external("share groups must be enabled") {
        return;
    }
    let broker = Broker::start();
    let topic = unique_topic("share-member");
    run(create_topic(&broker, &topic, 1));
    let group = format!("{topic}-g");
    let mut raw = RawClient::connect(&broker.bootstrap());
    set_group_config(&mut raw, &group, "share.auto.offset.reset", "earliest");
    let topic_id = join(&mut raw, &group, "in", &topic);
    let p = txn_free_producer(&broker);
    for v in ["a", "b", "c"] {
        send(&p, &topic, v);
    }
    p.flush(T).expect("flush");

    // A stranger's session: opened at epoch 0, it acquires what it reads.
    let got = acquire_offsets(&mut raw, &group, "stranger", topic_id, 3, T);
    assert_eq!(got, vec![0, 1, 2], "a non-member acquires records");
    // The member finds them locked.
    let r = raw.call(&share_fetch(&group, "in", topic_id, 0), 2);
    assert_eq!(r.error_code, 0);
    let acquired: usize = r
        .responses
        .iter()
        .flat_map(|t| &t.partitions)
        .map(|p| p.acquired_records.len())
        .sum();
    assert_eq!(acquired, 0, "records locked by the stranger: {r:?}");

    // Without a session: SHARE_SESSION_NOT_FOUND, for fetch and acknowledge.
    let r = raw.call(&share_fetch(&group, "nobody", topic_id, 1), 2);
    assert_eq!(r.error_code, ResponseError::ShareSessionNotFound.code());
    let ack = |member: &str, epoch: i32| {
        ShareAcknowledgeRequest::default()
            .with_group_id(Some(GroupId(s(&group))))
            .with_member_id(Some(s(member)))
            .with_share_session_epoch(epoch)
    };
    let r = raw.call(&ack("nobody", 1), 2);
    assert_eq!(r.error_code, ResponseError::ShareSessionNotFound.code());
    let r = raw.call(&ack("nobody", 0), 2);
    assert_eq!(r.error_code, ResponseError::InvalidShareSessionEpoch.code());
    // Member ids Kafka refuses by their form.
    for bad in ["", &"x".repeat(37)] {
        let r = raw.call(&share_fetch(&group, bad, topic_id, 0), 2);
        assert_eq!(
            r.error_code,
            ResponseError::InvalidRequest.code(),
            "{bad:?}"
        );
        let r = raw.call(&ack(bad, 1), 2);
        assert_eq!(
            r.error_code,
            ResponseError::InvalidRequest.code(),
            "{bad:?}"
        );
    }
    // 36 characters (a UUID's length) is a valid member id.
    let r = raw.call(&share_fetch(&group, &"y".repeat(36), topic_id, 0), 2);
    assert_eq!(r.error_code, 0);
}

fn txn_free_producer(broker: &Broker) -> BaseProducer {
    producer_config(broker, &[])
        .create()
        .expect("create a producer")
}

#[test]
fn share_fetch_needs_read_on_the_group_and_the_topic() {
    if skip_if_external("restarts the broker with the authorizer") {
        return;
    }
    const ANONYMOUS: &str = "User:ANONYMOUS";
    let (topic_rt, group_rt, literal, read, describe, allow) = (2i8, 3i8, 3i8, 3i8, 8i8, 3i8);
    let acl = |rt: i8, name: &str, op: i8| {
        AclCreation::default()
            .with_resource_type(rt)
            .with_resource_name(s(name))
            .with_resource_pattern_type(literal)
            .with_principal(s(ANONYMOUS))
            .with_host(s("*"))
            .with_operation(op)
            .with_permission_type(allow)
    };
    let mut broker = Broker::start_with(&[
        (
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        ),
        ("super.users", ANONYMOUS),
    ]);
    let topic = unique_topic("share-acl");
    let group = format!("{topic}-g");
    run(create_topic(&broker, &topic, 1));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let created = raw.call(
        &CreateAclsRequest::default().with_creations(vec![
            acl(group_rt, &group, read),
            acl(topic_rt, &topic, describe),
        ]),
        3,
    );
    assert!(created.results.iter().all(|r| r.error_code == 0));
    broker.restart_with(&[("super.users", "")]);
    let mut raw = RawClient::connect(&broker.bootstrap());
    let topic_id = join(&mut raw, &group, "m", &topic);
    let r = raw.call(&share_fetch(&group, "m", topic_id, 0), 2);
    assert_eq!(r.error_code, 0, "{r:?}");
    let p = &r.responses[0].partitions[0];
    assert_eq!(p.error_code, ResponseError::TopicAuthorizationFailed.code());
    assert!(p.acquired_records.is_empty());
    let r = raw.call(&share_fetch(&format!("{group}-other"), "m", topic_id, 0), 2);
    assert_eq!(r.error_code, ResponseError::GroupAuthorizationFailed.code());
    // READ on the topic granted (by a super user): the same session fetches.
    broker.restart_with(&[("super.users", ANONYMOUS)]);
    let mut raw = RawClient::connect(&broker.bootstrap());
    let created = raw.call(
        &CreateAclsRequest::default().with_creations(vec![acl(topic_rt, &topic, read)]),
        3,
    );
    assert_eq!(created.results[0].error_code, 0);
    broker.restart_with(&[("super.users", "")]);
    let mut raw = RawClient::connect(&broker.bootstrap());
    join(&mut raw, &group, "m2", &topic);
    let r = raw.call(&share_fetch(&group, "m2", topic_id, 0), 2);
    assert_eq!(r.error_code, 0);
    assert!(r
        .responses
        .iter()
        .flat_map(|t| &t.partitions)
        .all(|p| p.error_code == 0));
}

#[test]
fn share_isolation_level_read_committed_skips_open_and_aborted_transactions() {
    if skip_if_external("share groups must be enabled") {
        return;
    }
    let broker = Broker::start();
    let topic = unique_topic("share-isolation");
    run(create_topic(&broker, &topic, 1));
    let committed = format!("{topic}-committed");
    let uncommitted = format!("{topic}-uncommitted");
    let mut raw = RawClient::connect(&broker.bootstrap());
    for g in [&committed, &uncommitted] {
        set_group_config(&mut raw, g, "share.auto.offset.reset", "earliest");
    }
    set_group_config(
        &mut raw,
        &committed,
        "share.isolation.level",
        "read_committed",
    );
    let bad = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(RESOURCE_GROUP)
            .with_resource_name(s(&committed))
            .with_configs(vec![AlterableConfig::default()
                .with_name(s("share.isolation.level"))
                .with_config_operation(0)
                .with_value(Some(s("serializable")))]),
    ]);
    assert_eq!(
        raw.call(&bad, 1).responses[0].error_code,
        ResponseError::InvalidConfig.code()
    );

    // Offsets: 0-2 committed, 3 marker, 4-5 aborted, 6 marker, 7 open.
    let p = txn_producer(&broker, &format!("{topic}-txn"));
    p.begin_transaction().unwrap();
    for v in ["a0", "a1", "a2"] {
        send(&p, &topic, v);
    }
    p.commit_transaction(T).unwrap();
    p.begin_transaction().unwrap();
    for v in ["b0", "b1"] {
        send(&p, &topic, v);
    }
    // Delivered before the abort (rdkafka's abort fails with queued messages).
    p.flush(T).unwrap();
    p.abort_transaction(T).unwrap();
    p.begin_transaction().unwrap();
    send(&p, &topic, "c0");
    p.flush(T).unwrap();

    let topic_id = join(&mut raw, &committed, "rc", &topic);
    let got = acquire_offsets(&mut raw, &committed, "rc", topic_id, 3, T);
    assert_eq!(got, vec![0, 1, 2], "read_committed before the commit");
    join(&mut raw, &uncommitted, "ru", &topic);
    let got = acquire_offsets(&mut raw, &uncommitted, "ru", topic_id, 6, T);
    assert_eq!(got, vec![0, 1, 2, 4, 5, 7], "read_uncommitted: no markers");

    p.commit_transaction(T).unwrap();
    // A new member's session (the first one's locks still hold 0-2).
    join(&mut raw, &committed, "rc2", &topic);
    let got = acquire_offsets(&mut raw, &committed, "rc2", topic_id, 1, T);
    assert_eq!(got, vec![7], "read_committed after the commit");
}

#[test]
fn share_group_offsets_describe_alter_delete_and_survive_a_restart() {
    if skip_if_external("restarts the broker") {
        return;
    }
    let mut broker = Broker::start();
    let topic = unique_topic("share-offsets");
    run(create_topic(&broker, &topic, 2));
    run(async {
        let p = future_producer(&broker, &[]);
        for i in 0..10 {
            p.send(
                rdkafka::producer::FutureRecord::<(), _>::to(&topic)
                    .partition(0)
                    .payload(&format!("v{i}")),
                T,
            )
            .await
            .expect("produce");
        }
    });
    let group = format!("{topic}-g");
    let mut raw = RawClient::connect(&broker.bootstrap());
    let versions = raw.api_versions();
    assert_eq!(
        versions.get(&90),
        Some(&(0, 1)),
        "DescribeShareGroupOffsets"
    );
    for key in 91..=92 {
        assert_eq!(versions.get(&key), Some(&(0, 0)), "api {key}");
    }
    let describe_v = |raw: &mut RawClient, group: &str, version: i16| {
        raw.call(
            &DescribeShareGroupOffsetsRequest::default().with_groups(vec![
                DescribeShareGroupOffsetsRequestGroup::default()
                    .with_group_id(GroupId(s(group)))
                    .with_topics(Some(vec![DescribeShareGroupOffsetsRequestTopic::default()
                        .with_topic_name(topic_name(&topic))
                        .with_partitions(vec![0, 1, 5])])),
            ]),
            version,
        )
    };
    let describe = |raw: &mut RawClient, group: &str| describe_v(raw, group, 1);
    // (partition, start offset, lag, error) of each partition asked about.
    let parts = |r: &DescribeShareGroupOffsetsResponse| -> Vec<(i32, i64, i64, i16)> {
        r.groups[0].topics[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.start_offset, p.lag, p.error_code))
            .collect()
    };
    let alter = |raw: &mut RawClient, topic: &str, start: i64| {
        raw.call(
            &AlterShareGroupOffsetsRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_topics(vec![AlterShareGroupOffsetsRequestTopic::default()
                    .with_topic_name(topic_name(topic))
                    .with_partitions(vec![
                        AlterShareGroupOffsetsRequestPartition::default()
                            .with_partition_index(0)
                            .with_start_offset(start),
                    ])]),
            0,
        )
    };
    let delete = |raw: &mut RawClient, topic: &str| {
        raw.call(
            &DeleteShareGroupOffsetsRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_topics(vec![DeleteShareGroupOffsetsRequestTopic::default()
                    .with_topic_name(topic_name(topic))]),
            0,
        )
    };

    // Kafka 4.2 does not look the group up for a describe: no share state
    // is -1 everywhere (no error, not even for partition 5 that does not exist).
    let r = describe(&mut raw, &group);
    assert_eq!(r.groups[0].error_code, 0, "{r:?}");
    assert_eq!(
        parts(&r),
        vec![(0, -1, -1, 0), (1, -1, -1, 0), (5, -1, -1, 0)]
    );
    let r = delete(&mut raw, &topic);
    assert_eq!(r.error_code, ResponseError::GroupIdNotFound.code());

    // Alter before any consumer: the group is created with that start.
    let r = alter(&mut raw, &topic, 6);
    assert_eq!(r.error_code, 0, "{r:?}");
    assert_eq!(r.responses[0].partitions[0].error_code, 0);
    let r = alter(&mut raw, "no-such-topic", 1);
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );
    let r = describe(&mut raw, &group);
    assert_eq!(r.groups[0].error_code, 0);
    // Lag (v1): 10 records, start 6, none complete yet: 4.
    assert_eq!(
        parts(&r),
        vec![(0, 6, 4, 0), (1, -1, -1, 0), (5, -1, -1, 0)]
    );
    // v0 has no lag on the wire (it decodes as the default, -1).
    let r = describe_v(&mut raw, &group, 0);
    assert_eq!(parts(&r)[0], (0, 6, -1, 0));

    // A consumer starts at the altered offset.
    let topic_id = join(&mut raw, &group, "m", &topic);
    let got = acquire_offsets(&mut raw, &group, "m", topic_id, 4, T);
    assert_eq!(got, vec![6, 7, 8, 9]);
    // Acquired is not complete: the lag stays 4.
    assert_eq!(parts(&describe(&mut raw, &group))[0], (0, 6, 4, 0));
    // 6 released, 7-9 accepted: the start stays at 6 and three records
    // past it are complete, so the lag (KIP-1226: high watermark - start -
    // delivery-complete count) is 10 - 6 - 3 = 1.
    let reopened = raw.call(
        &share_fetch(&group, "m", topic_id, 0).with_max_wait_ms(0),
        2,
    );
    assert_eq!(reopened.error_code, 0);
    use kafka_protocol::messages::share_acknowledge_request::{
        AcknowledgePartition, AcknowledgeTopic, AcknowledgementBatch,
    };
    let acked = raw.call(
        &ShareAcknowledgeRequest::default()
            .with_group_id(Some(GroupId(s(&group))))
            .with_member_id(Some(s("m")))
            .with_share_session_epoch(1)
            .with_topics(vec![AcknowledgeTopic::default()
                .with_topic_id(topic_id)
                .with_partitions(vec![AcknowledgePartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(vec![
                        AcknowledgementBatch::default()
                            .with_first_offset(6)
                            .with_last_offset(9)
                            .with_acknowledge_types(vec![2, 1, 1, 1]),
                    ])])]),
        2,
    );
    assert_eq!(acked.error_code, 0, "{acked:?}");
    assert!(
        acked
            .responses
            .iter()
            .flat_map(|t| &t.partitions)
            .all(|p| p.error_code == 0),
        "{acked:?}"
    );
    assert_eq!(parts(&describe(&mut raw, &group))[0], (0, 6, 1, 0));
    let r = alter(&mut raw, &topic, 0);
    assert_eq!(r.error_code, ResponseError::NonEmptyGroup.code());
    let r = delete(&mut raw, &topic);
    assert_eq!(r.error_code, ResponseError::NonEmptyGroup.code());
    let left = raw.call(
        &ShareGroupHeartbeatRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_member_id(s("m"))
            .with_member_epoch(-1),
        1,
    );
    assert_eq!(left.error_code, 0);

    let r = alter(&mut raw, &topic, 2);
    assert_eq!(r.error_code, 0);
    broker.restart();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let r = describe(&mut raw, &group);
    assert_eq!(parts(&r)[0], (0, 2, 8, 0), "after a restart");

    let r = delete(&mut raw, &topic);
    assert_eq!(r.error_code, 0, "{r:?}");
    assert_eq!(r.responses[0].error_code, 0);
    let r = delete(&mut raw, "no-such-topic");
    assert_eq!(
        r.responses[0].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );
    broker.restart();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let r = describe(&mut raw, &group);
    assert_eq!(r.groups[0].error_code, 0);
    assert_eq!(parts(&r)[0], (0, -1, -1, 0), "deleted");
}
