//! ShareFetch on the wire, with raw requests through the `kafka-protocol`
//! crate: how acquisition follows record batches. As in Kafka,
//! `max_records` is a soft limit in the default batch-optimized mode (a
//! producer batch is acquired whole, so its bytes are sent once per
//! delivery) and exact in RECORD_LIMIT mode (ShareFetch v2).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kafka_protocol::messages::share_acknowledge_request::{
    AcknowledgePartition, AcknowledgeTopic, AcknowledgementBatch as AckBatch,
};
use kafka_protocol::messages::share_fetch_request::{
    AcknowledgementBatch, FetchPartition, FetchTopic,
};
use kafka_protocol::messages::{
    ApiKey, GroupId, ShareAcknowledgeRequest, ShareFetchRequest, ShareGroupHeartbeatRequest,
};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::harness::*;

const RECORDS: usize = 3000;
const LIMIT: Duration = Duration::from_secs(30);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// Joins `group` as a new member subscribed to `topic`; returns its id.
fn join(raw: &mut RawClient, group: &str, topic: &str) -> String {
    let member = Uuid::new_v4().to_string();
    let hb = ShareGroupHeartbeatRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_member_id(s(&member))
        .with_member_epoch(0)
        .with_subscribed_topic_names(Some(vec![topic_name(topic)]));
    let r = raw.call(&hb, 1);
    assert_eq!(r.error_code, 0, "join {group}: {r:?}");
    assert!(r.assignment.is_some(), "no assignment on join: {r:?}");
    member
}

/// Produces one uncompressed batch of `RECORDS` 100-byte records; returns
/// its size in bytes and its base offset.
fn produce_one_batch(raw: &mut RawClient, topic: &str) -> (usize, i64) {
    let values: Vec<Vec<u8>> = (0..RECORDS)
        .map(|i| format!("{i:0100}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = values.iter().map(|v| v.as_slice()).collect();
    let batch = encode_batch(&refs, None);
    let len = batch.len();
    let version = raw.pick_version(ApiKey::Produce, 9);
    let (code, base) = produce_result(&raw.call(&produce_request(topic, 0, batch, -1), version));
    assert_eq!(code, 0, "produce");
    (len, base)
}

/// What a member's fetches returned until it held every record.
#[derive(Debug)]
struct Fetched {
    /// Fetches that acquired something.
    fetches: usize,
    /// The `records` bytes of every answer.
    bytes: usize,
    /// (first, last, delivery count) of every acquired range, in order.
    ranges: Vec<(i64, i64, i16)>,
}

/// ShareFetch (`version`, `acquire_mode`) with 500 `max_records` until
/// `RECORDS` records were acquired, accepting each fetch's records with
/// the next; the last ones with ShareAcknowledge.
fn fetch_all(
    raw: &mut RawClient,
    group: &str,
    member: &str,
    topic_id: Uuid,
    version: i16,
    acquire_mode: i8,
) -> Fetched {
    let mut out = Fetched {
        fetches: 0,
        bytes: 0,
        ranges: Vec::new(),
    };
    let mut pending: Vec<(i64, i64)> = Vec::new();
    let mut acquired = 0usize;
    let mut epoch = 0;
    let deadline = Instant::now() + LIMIT;
    while acquired < RECORDS {
        assert!(
            Instant::now() < deadline,
            "{acquired} of {RECORDS} acquired: {out:?}"
        );
        let acks = pending
            .drain(..)
            .map(|(first, last)| {
                AcknowledgementBatch::default()
                    .with_first_offset(first)
                    .with_last_offset(last)
                    .with_acknowledge_types(vec![1])
            })
            .collect();
        let req = ShareFetchRequest::default()
            .with_group_id(Some(GroupId(s(group))))
            .with_member_id(Some(s(member)))
            .with_share_session_epoch(epoch)
            .with_max_wait_ms(500)
            .with_min_bytes(1)
            .with_max_bytes(8 << 20)
            .with_max_records(500)
            .with_batch_size(500)
            .with_share_acquire_mode(acquire_mode)
            .with_topics(vec![FetchTopic::default()
                .with_topic_id(topic_id)
                .with_partitions(vec![FetchPartition::default()
                    .with_partition_index(0)
                    .with_partition_max_bytes(8 << 20)
                    .with_acknowledgement_batches(acks)])]);
        let r = raw.call(&req, version);
        assert_eq!(r.error_code, 0, "{r:?}");
        epoch += 1;
        let mut got = false;
        for p in r.responses.iter().flat_map(|t| &t.partitions) {
            assert_eq!((p.error_code, p.acknowledge_error_code), (0, 0), "{p:?}");
            out.bytes += p.records.as_ref().map_or(0, |r| r.len());
            for a in &p.acquired_records {
                got = true;
                acquired += usize::try_from(a.last_offset - a.first_offset + 1).unwrap_or(0);
                out.ranges
                    .push((a.first_offset, a.last_offset, a.delivery_count));
                pending.push((a.first_offset, a.last_offset));
            }
        }
        out.fetches += usize::from(got);
    }
    let ack = ShareAcknowledgeRequest::default()
        .with_group_id(Some(GroupId(s(group))))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_topics(vec![AcknowledgeTopic::default()
            .with_topic_id(topic_id)
            .with_partitions(vec![AcknowledgePartition::default()
                .with_partition_index(0)
                .with_acknowledgement_batches(
                    pending
                        .iter()
                        .map(|(first, last)| {
                            AckBatch::default()
                                .with_first_offset(*first)
                                .with_last_offset(*last)
                                .with_acknowledge_types(vec![1])
                        })
                        .collect(),
                )])]);
    let r = raw.call(&ack, 1);
    assert_eq!(r.error_code, 0, "{r:?}");
    for p in r.responses.iter().flat_map(|t| &t.partitions) {
        assert_eq!(p.error_code, 0, "{p:?}");
    }
    let distinct: BTreeSet<i64> = out.ranges.iter().flat_map(|r| r.0..=r.1).collect();
    assert_eq!(distinct.len(), RECORDS, "a record acquired twice: {out:?}");
    out
}

/// One producer batch of 3000 records and `max_records` 500: the
/// batch-optimized fetch (v1) acquires the whole batch at once, so its bytes
/// cross the wire once; RECORD_LIMIT (v2) takes exactly 500 a fetch and
/// sends the batch with each, as Kafka does.
#[test]
fn share_fetch_acquires_whole_batches_so_each_record_is_sent_once() {
    let broker = Broker::start();
    let topic = unique_topic("share-fetch-batch");
    run(create_topic(&broker, &topic, 1));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let tid = topic_id(&mut raw, &topic);

    // Joined before producing: the default `latest` start is the batch's base.
    let group = format!("{topic}-g");
    let member = join(&mut raw, &group, &topic);
    let (batch_len, base) = produce_one_batch(&mut raw, &topic);
    let f = fetch_all(&mut raw, &group, &member, tid, 1, 0);
    assert_eq!(
        f.ranges,
        vec![(base, base + RECORDS as i64 - 1, 1)],
        "the whole batch in one range: {f:?}"
    );
    assert_eq!(f.fetches, 1, "{f:?}");
    assert_eq!(f.bytes, batch_len, "the batch's bytes exactly once: {f:?}");

    let exact = format!("{topic}-exact");
    let member = join(&mut raw, &exact, &topic);
    let (batch_len, base) = produce_one_batch(&mut raw, &topic);
    let version = raw.pick_version(ApiKey::ShareFetch, 2);
    assert_eq!(version, 2, "ShareFetch v2 is advertised");
    let f = fetch_all(&mut raw, &exact, &member, tid, 2, 1);
    let want: Vec<(i64, i64, i16)> = (0..6)
        .map(|i| (base + i * 500, base + i * 500 + 499, 1))
        .collect();
    assert_eq!(f.ranges, want, "{f:?}");
    assert_eq!(f.bytes, 6 * batch_len, "{f:?}");
}

#[test]
fn share_fetch_refuses_an_unknown_acquire_mode() {
    let broker = Broker::start();
    let topic = unique_topic("share-fetch-mode");
    run(create_topic(&broker, &topic, 1));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let tid = topic_id(&mut raw, &topic);
    let group = format!("{topic}-g");
    let member = join(&mut raw, &group, &topic);
    let req = ShareFetchRequest::default()
        .with_group_id(Some(GroupId(s(&group))))
        .with_member_id(Some(s(&member)))
        .with_share_session_epoch(0)
        .with_max_records(10)
        .with_batch_size(10)
        .with_share_acquire_mode(7)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(tid)
            .with_partitions(vec![
                FetchPartition::default().with_partition_index(0)
            ])]);
    let r = raw.call(&req, 2);
    assert_eq!(
        r.error_code,
        kafka_protocol::ResponseError::InvalidRequest.code(),
        "{r:?}"
    );
    // The session did not open: the next opening fetch is accepted.
    let r = raw.call(
        &req.with_share_session_epoch(0).with_share_acquire_mode(0),
        2,
    );
    assert_eq!(r.error_code, 0, "{r:?}");
}
