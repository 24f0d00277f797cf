//! Wire-level behaviours no high-level client pins down exactly: long-poll
//! fetches woken by appends, KIP-74's first-batch rule, ListOffsets
//! max-timestamp, OffsetForLeaderEpoch, DescribeCluster, and Produce v0–v2
//! (advertised for old librdkafka and, unlike Kafka 4.x, served).

use std::time::{Duration, Instant};

use kafka_protocol::messages::describe_cluster_request::DescribeClusterRequest;
use kafka_protocol::messages::list_offsets_request::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderEpochRequest, OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::{ApiKey, MetadataRequest};

use crate::harness::*;

/// Appends `values` as one batch with the given per-record timestamps.
fn produce_with_timestamps(raw: &mut RawClient, topic: &str, stamped: &[(i64, &[u8])]) -> i64 {
    use kafka_protocol::records::{Compression, RecordBatchEncoder, RecordEncodeOptions};
    let records: Vec<_> = stamped
        .iter()
        .enumerate()
        .map(|(i, (ts, v))| {
            let mut r = record(i as i64, *ts, None, Some(v));
            r.sequence = i as i32 - 1;
            r
        })
        .collect();
    let mut buf = bytes::BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records.iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("encode batch");
    let v = raw.pick_version(ApiKey::Produce, 9);
    let resp = raw.call(&produce_request(topic, 0, buf.freeze(), 1), v);
    let (code, base) = produce_result(&resp);
    assert_eq!(code, 0, "produce error");
    base
}

/// Auto-creates `topic` by Metadata and waits until its partition has a
/// leader. Kafka answers the first auto-creating Metadata with a retriable
/// error (UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE) while the
/// controller creates the topic, and clients ask again; Skiff creates it
/// at once. Either way the topic must be ready within the deadline.
fn ensure_topic(raw: &mut RawClient, topic: &str) {
    let v = raw.pick_version(ApiKey::Metadata, 12);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let resp = raw.call(&metadata_request(Some(&[topic]), true), v);
        let t = &resp.topics[0];
        let ready = t.error_code == 0
            && !t.partitions.is_empty()
            && t.partitions
                .iter()
                .all(|p| p.error_code == 0 && p.leader_id.0 >= 0);
        if ready {
            return;
        }
        let retriable = [3, 5].contains(&t.error_code) || t.error_code == 0;
        assert!(
            retriable && Instant::now() < deadline,
            "auto-create {topic}: error {} (partitions {:?})",
            t.error_code,
            t.partitions
                .iter()
                .map(|p| (p.error_code, p.leader_id.0))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn long_poll_fetch_is_woken_by_an_append() {
    let broker = Broker::start();
    let topic = unique_topic("longpoll");
    let mut raw = RawClient::connect(&broker.bootstrap());
    ensure_topic(&mut raw, &topic);

    // Nothing to read: the fetch waits for max_wait_ms, then answers empty.
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let started = Instant::now();
    let resp = raw.call(&fetch_request(v, &topic, uuid::Uuid::nil(), 0, 0, 400), v);
    let waited = started.elapsed();
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    assert_eq!(
        p.records.as_ref().map(|r| r.len()),
        Some(0),
        "empty, not null"
    );
    assert!(
        waited >= Duration::from_millis(350),
        "answered after {waited:?}, before max_wait"
    );

    // A long wait is cut short by an append from another connection.
    let addr = broker.bootstrap();
    let waiting_on = topic.clone();
    let waiter = std::thread::spawn(move || {
        let mut raw = RawClient::connect(&addr);
        let started = Instant::now();
        let resp = raw.call(
            &fetch_request(v, &waiting_on, uuid::Uuid::nil(), 0, 0, 30_000),
            v,
        );
        (started.elapsed(), resp)
    });
    // The fetch should be parked before the append for this to test the
    // wake-up; if it is not yet, it finds the data at once, which also passes.
    std::thread::sleep(Duration::from_millis(100));
    let mut producer = RawClient::connect(&broker.bootstrap());
    let v_produce = producer.pick_version(ApiKey::Produce, 9);
    let batch = encode_batch(&[b"wake"], None);
    let (code, _) =
        produce_result(&producer.call(&produce_request(&topic, 0, batch, 1), v_produce));
    assert_eq!(code, 0);
    let (elapsed, resp) = waiter.join().expect("waiter");
    let values = decode_records(resp.responses[0].partitions[0].records.as_ref().unwrap());
    assert_eq!(values.len(), 1, "the appended record is returned");
    assert!(
        elapsed < Duration::from_secs(20),
        "fetch answered after {elapsed:?}: not woken by the append"
    );
}

#[test]
fn first_batch_is_returned_whole_even_above_the_partition_limit() {
    let broker = Broker::start();
    let topic = unique_topic("kip74");
    let mut raw = RawClient::connect(&broker.bootstrap());
    ensure_topic(&mut raw, &topic);
    let big = vec![b'x'; 10_000];
    let small = vec![b'y'; 10];
    let v_p = raw.pick_version(ApiKey::Produce, 9);
    for value in [&big, &small] {
        let (code, _) = produce_result(&raw.call(
            &produce_request(&topic, 0, encode_batch(&[value.as_slice()], None), 1),
            v_p,
        ));
        assert_eq!(code, 0);
    }
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let mut req = fetch_request(v, &topic, uuid::Uuid::nil(), 0, 0, 0);
    req.topics[0].partitions[0].partition_max_bytes = 100;
    req.max_bytes = 100;
    let resp = raw.call(&req, v);
    let records = decode_records(resp.responses[0].partitions[0].records.as_ref().unwrap());
    assert_eq!(
        records.len(),
        1,
        "exactly the first (oversized) batch, whole"
    );
    assert_eq!(records[0].value.as_ref().map(|v| v.len()), Some(10_000));
}

#[test]
fn list_offsets_max_timestamp_and_by_time() {
    let broker = Broker::start();
    let topic = unique_topic("maxts");
    let mut raw = RawClient::connect(&broker.bootstrap());
    ensure_topic(&mut raw, &topic);
    let t = now_ms() - 60_000;
    produce_with_timestamps(
        &mut raw,
        &topic,
        &[(t, b"a"), (t + 50, b"b"), (t + 10, b"c")],
    );
    produce_with_timestamps(&mut raw, &topic, &[(t + 20, b"d")]);

    let v = raw.pick_version(ApiKey::ListOffsets, 9);
    assert!(v >= 7, "ListOffsets v{v} has no max-timestamp");
    let query = |raw: &mut RawClient, ts: i64| {
        let req = ListOffsetsRequest::default()
            .with_replica_id((-1).into())
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic_name(&topic))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(ts)])]);
        let resp = raw.call(&req, v);
        let p = resp.topics[0].partitions[0].clone();
        assert_eq!(p.error_code, 0, "ListOffsets({ts})");
        (p.offset, p.timestamp)
    };
    assert_eq!(query(&mut raw, -1).0, 4, "latest");
    assert_eq!(query(&mut raw, -2).0, 0, "earliest");
    let (offset, ts) = query(&mut raw, -3);
    assert_eq!(ts, t + 50, "max timestamp");
    // The record's own offset, as Kafka answers (not its batch's first).
    assert_eq!(offset, 1, "max-timestamp offset");
    assert_eq!(
        query(&mut raw, t + 15),
        (1, t + 50),
        "first record with ts >= t+15"
    );
    assert_eq!(query(&mut raw, t + 51), (-1, -1), "no record that late");
}

#[test]
fn offset_for_leader_epoch_ends_epoch_zero_at_the_log_end() {
    let broker = Broker::start();
    let topic = unique_topic("ofle");
    let mut raw = RawClient::connect(&broker.bootstrap());
    ensure_topic(&mut raw, &topic);
    let v_produce = raw.pick_version(ApiKey::Produce, 9);
    let (code, _) = produce_result(&raw.call(
        &produce_request(&topic, 0, encode_batch(&[b"1", b"2", b"3"], None), 1),
        v_produce,
    ));
    assert_eq!(code, 0);
    for v in 2..=4 {
        let req = OffsetForLeaderEpochRequest::default()
            .with_replica_id((-1).into())
            .with_topics(vec![OffsetForLeaderTopic::default()
                .with_topic(topic_name(&topic))
                .with_partitions(vec![
                    OffsetForLeaderPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(0)
                        .with_leader_epoch(0),
                    OffsetForLeaderPartition::default()
                        .with_partition(9)
                        .with_current_leader_epoch(-1)
                        .with_leader_epoch(0),
                ])]);
        let resp = raw.call(&req, v);
        let ps = &resp.topics[0].partitions;
        assert_eq!(
            (ps[0].error_code, ps[0].leader_epoch, ps[0].end_offset),
            (0, 0, 3),
            "v{v}"
        );
        assert_eq!(ps[1].error_code, 3, "v{v}: unknown partition");
    }
}

#[test]
fn describe_cluster_names_this_broker() {
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let meta = raw.call(&MetadataRequest::default(), 12);
    for v in 0..=2 {
        let resp = raw.call(&DescribeClusterRequest::default().with_endpoint_type(1), v);
        assert_eq!(resp.error_code, 0, "v{v}");
        assert_eq!(
            Some(resp.cluster_id.clone()),
            meta.cluster_id,
            "v{v} cluster id"
        );
        assert_eq!(resp.brokers.len(), 1);
        assert_eq!(resp.brokers[0].broker_id, meta.brokers[0].node_id);
        assert_eq!(resp.brokers[0].port, meta.brokers[0].port);
        assert_eq!(resp.controller_id, meta.brokers[0].node_id);
    }
    // Controllers are not reachable through a broker (KIP-919): Kafka calls
    // that a mismatched endpoint; a type that does not exist is unsupported.
    let resp = raw.call(&DescribeClusterRequest::default().with_endpoint_type(2), 1);
    assert_eq!(
        resp.error_code,
        kafka_protocol::ResponseError::MismatchedEndpointType.code()
    );
    let resp = raw.call(&DescribeClusterRequest::default().with_endpoint_type(7), 1);
    assert_eq!(
        resp.error_code,
        kafka_protocol::ResponseError::UnsupportedEndpointType.code()
    );
}

#[test]
fn produce_v0_to_v2_are_advertised_and_answered() {
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let versions = raw.api_versions();
    assert_eq!(
        versions.get(&0).map(|r| r.0),
        Some(0),
        "Produce advertised from v0"
    );
    let topic = unique_topic("legacy-produce");
    let resp = raw.call(&metadata_request(Some(&[topic.as_str()]), true), 4);
    assert_eq!(resp.topics[0].error_code, 0, "auto-create {topic}");
    for v in 0..=2i16 {
        // Kafka 4.x closes the connection here (KIP-896); Skiff, like Kafka
        // 3.x, answers on the same connection (the legacy record formats
        // themselves are tested in legacy_records.rs).
        let resp = raw.call(
            &produce_request(&topic, 0, encode_batch(&[b"x"], None), 1),
            v,
        );
        let (code, _) = produce_result(&resp);
        assert_eq!(code, 0, "Produce v{v}: {resp:?}");
    }
    assert!(!raw.api_versions().is_empty());
}
