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

/// Produces one batch of `n` small records; returns its base offset.
fn produce_records(raw: &mut RawClient, topic: &str, n: usize) -> i64 {
    let values: Vec<Vec<u8>> = (0..n).map(|i| format!("v{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = values.iter().map(|v| v.as_slice()).collect();
    let version = raw.pick_version(ApiKey::Produce, 9);
    let req = produce_request(topic, 0, encode_batch(&refs, None), -1);
    let (code, base) = produce_result(&raw.call(&req, version));
    assert_eq!(code, 0, "produce");
    base
}

/// A v2 ShareFetch of partition 0 of `topic_id` with `acks` ((first, last,
/// type) batches) piggybacked and fetch parameters for a normal fetch.
fn share_fetch(
    group: &str,
    member: &str,
    topic_id: Uuid,
    epoch: i32,
    acks: &[(i64, i64, i8)],
) -> ShareFetchRequest {
    ShareFetchRequest::default()
        .with_group_id(Some(GroupId(s(group))))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_max_records(500)
        .with_batch_size(500)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(topic_id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition_index(0)
                .with_acknowledgement_batches(
                    acks.iter()
                        .map(|(first, last, t)| {
                            AcknowledgementBatch::default()
                                .with_first_offset(*first)
                                .with_last_offset(*last)
                                .with_acknowledge_types(vec![*t])
                        })
                        .collect(),
                )])])
}

/// The (first, last, delivery count) ranges a ShareFetch answer acquired.
fn acquired(r: &kafka_protocol::messages::ShareFetchResponse) -> Vec<(i64, i64, i16)> {
    r.responses
        .iter()
        .flat_map(|t| &t.partitions)
        .flat_map(|p| &p.acquired_records)
        .map(|a| (a.first_offset, a.last_offset, a.delivery_count))
        .collect()
}

fn ack_errors(r: &kafka_protocol::messages::ShareFetchResponse) -> Vec<i16> {
    r.responses
        .iter()
        .flat_map(|t| &t.partitions)
        .map(|p| p.acknowledge_error_code)
        .collect()
}

/// KIP-1222 as Kafka 4.2 serves it: a ShareFetch flagged `is_renew_ack`
/// must carry zero fetch parameters, only acknowledges (acquires nothing
/// new), and RENEW in a request not so flagged is INVALID_REQUEST.
#[test]
fn share_fetch_with_is_renew_ack_only_acknowledges() {
    let invalid = kafka_protocol::ResponseError::InvalidRequest.code();
    let broker = Broker::start();
    let topic = unique_topic("share-renew-ack");
    run(create_topic(&broker, &topic, 1));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let tid = topic_id(&mut raw, &topic);
    let group = format!("{topic}-g");
    let member = join(&mut raw, &group, &topic);
    let base = produce_records(&mut raw, &topic, 5);

    let r = raw.call(&share_fetch(&group, &member, tid, 0, &[]), 2);
    assert_eq!(r.error_code, 0, "{r:?}");
    assert_eq!(acquired(&r), vec![(base, base + 4, 1)], "{r:?}");
    let next = produce_records(&mut raw, &topic, 3);

    // RENEW without the flag: refused, not applied.
    let r = raw.call(
        &share_fetch(&group, &member, tid, 1, &[(base, base, 4)]).with_max_wait_ms(0),
        2,
    );
    assert_eq!(r.error_code, 0, "{r:?}");
    assert_eq!(ack_errors(&r), vec![invalid], "{r:?}");
    // (That fetch was an ordinary one: it acquired the second batch.)
    assert_eq!(acquired(&r), vec![(next, next + 2, 1)], "{r:?}");
    let newest = produce_records(&mut raw, &topic, 2);

    // The flag with fetch parameters: INVALID_REQUEST, the epoch unused.
    let renew =
        share_fetch(&group, &member, tid, 2, &[(base, base + 4, 4)]).with_is_renew_ack(true);
    let r = raw.call(&renew, 2);
    assert_eq!(r.error_code, invalid, "{r:?}");

    // Zero fetch parameters: renewed, and nothing new acquired although
    // a batch is available.
    let renew = renew
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(0)
        .with_max_records(0);
    let r = raw.call(&renew, 2);
    assert_eq!(r.error_code, 0, "{r:?}");
    assert_eq!(ack_errors(&r), vec![0], "{r:?}");
    assert!(acquired(&r).is_empty(), "a renew fetch acquired: {r:?}");

    // ShareAcknowledge v2: RENEW needs the flag too.
    let ack = |epoch: i32, t: i8, renew: bool| {
        ShareAcknowledgeRequest::default()
            .with_group_id(Some(GroupId(s(&group))))
            .with_member_id(Some(s(&member)))
            .with_share_session_epoch(epoch)
            .with_is_renew_ack(renew)
            .with_topics(vec![AcknowledgeTopic::default()
                .with_topic_id(tid)
                .with_partitions(vec![AcknowledgePartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(vec![AckBatch::default()
                        .with_first_offset(base)
                        .with_last_offset(base + 4)
                        .with_acknowledge_types(vec![t])])])])
    };
    let codes = |r: &kafka_protocol::messages::ShareAcknowledgeResponse| -> Vec<i16> {
        r.responses
            .iter()
            .flat_map(|t| &t.partitions)
            .map(|p| p.error_code)
            .collect()
    };
    let r = raw.call(&ack(3, 4, false), 2);
    assert_eq!((r.error_code, codes(&r)), (0, vec![invalid]), "{r:?}");
    let r = raw.call(&ack(4, 4, true), 2);
    assert_eq!((r.error_code, codes(&r)), (0, vec![0]), "{r:?}");
    // Still this member's: accepted.
    let r = raw.call(&ack(5, 1, false), 2);
    assert_eq!((r.error_code, codes(&r)), (0, vec![0]), "{r:?}");

    // The batch the renew fetch left is still there for the next fetch.
    let r = raw.call(&share_fetch(&group, &member, tid, 6, &[]), 2);
    assert_eq!(acquired(&r), vec![(newest, newest + 1, 1)], "{r:?}");
}

/// As Kafka: the share session ends when the connection that opened it
/// closes, and the records its member held are released at once. The lock
/// lasts 60 s, so another member getting them within 15 s is the release.
#[test]
fn closing_the_connection_releases_its_share_sessions_records() {
    let broker = Broker::start_with(&[
        ("group.share.record.lock.duration.ms", "60000"),
        ("group.share.max.record.lock.duration.ms", "60000"),
    ]);
    let topic = unique_topic("share-conn-close");
    run(create_topic(&broker, &topic, 1));
    let mut first = RawClient::connect(&broker.bootstrap());
    let tid = topic_id(&mut first, &topic);
    let group = format!("{topic}-g");
    let a = join(&mut first, &group, &topic);
    let mut second = RawClient::connect(&broker.bootstrap());
    let b = join(&mut second, &group, &topic);
    let base = produce_records(&mut first, &topic, 4);

    let r = first.call(&share_fetch(&group, &a, tid, 0, &[]), 2);
    assert_eq!(r.error_code, 0, "{r:?}");
    assert_eq!(acquired(&r), vec![(base, base + 3, 1)], "{r:?}");
    assert_eq!(r.acquisition_lock_timeout_ms, 60000, "{r:?}");

    // While A's connection is open, B gets nothing.
    let r = second.call(&share_fetch(&group, &b, tid, 0, &[]), 2);
    assert_eq!((r.error_code, acquired(&r)), (0, vec![]), "{r:?}");

    drop(first);
    let started = Instant::now();
    let mut epoch = 1;
    let got = loop {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "A's records not released after its connection closed"
        );
        let r = second.call(&share_fetch(&group, &b, tid, epoch, &[]), 2);
        assert_eq!(r.error_code, 0, "{r:?}");
        epoch += 1;
        let got = acquired(&r);
        if !got.is_empty() {
            break got;
        }
    };
    assert_eq!(got, vec![(base, base + 3, 2)], "redelivered to B");
    // A's session ended with its connection.
    let mut third = RawClient::connect(&broker.bootstrap());
    let r = third.call(&share_fetch(&group, &a, tid, 1, &[]), 2);
    assert_eq!(
        r.error_code,
        kafka_protocol::ResponseError::ShareSessionNotFound.code(),
        "{r:?}"
    );
}

/// As Kafka: leaving the group by heartbeat (epoch -1) does not end the
/// member's share session; its next ShareFetch continues the epoch sequence.
#[test]
fn the_share_session_outlives_a_heartbeat_leave() {
    let broker = Broker::start();
    let topic = unique_topic("share-leave-session");
    run(create_topic(&broker, &topic, 1));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let tid = topic_id(&mut raw, &topic);
    let group = format!("{topic}-g");
    let member = join(&mut raw, &group, &topic);
    let base = produce_records(&mut raw, &topic, 2);
    let r = raw.call(&share_fetch(&group, &member, tid, 0, &[]), 2);
    assert_eq!(acquired(&r), vec![(base, base + 1, 1)], "{r:?}");

    let leave = ShareGroupHeartbeatRequest::default()
        .with_group_id(GroupId(s(&group)))
        .with_member_id(s(&member))
        .with_member_epoch(-1);
    let r = raw.call(&leave, 1);
    assert_eq!(r.error_code, 0, "leave: {r:?}");

    let r = raw.call(
        &share_fetch(&group, &member, tid, 1, &[]).with_max_wait_ms(0),
        2,
    );
    assert_eq!(r.error_code, 0, "session gone after leave: {r:?}");
    // And the one after: the sequence goes on as before the leave.
    let r = raw.call(
        &share_fetch(&group, &member, tid, 2, &[(base, base + 1, 1)]).with_max_wait_ms(0),
        2,
    );
    assert_eq!((r.error_code, ack_errors(&r)), (0, vec![0]), "{r:?}");
}
