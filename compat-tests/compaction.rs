//! Log compaction against the real binary: a `cleanup.policy=compact` topic
//! keeps the latest value per key (offsets unchanged, gaps allowed) while
//! its size shrinks; tombstones are honoured; `__consumer_offsets` is
//! compacted too and committed offsets survive it and a restart; batches
//! compressed by the producer (every codec) are thinned and stay compressed
//! with the same codec.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::{ApiKey, DescribeLogDirsRequest};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::*;

fn partition_size(raw: &mut RawClient, topic: &str) -> i64 {
    let req =
        DescribeLogDirsRequest::default()
            .with_topics(Some(vec![DescribableLogDirTopic::default()
                .with_topic(topic_name(topic))
                .with_partitions(vec![0])]));
    let resp = raw.call(&req, 1);
    resp.results[0]
        .topics
        .iter()
        .find(|t| t.name.as_str() == topic)
        .map(|t| t.partitions[0].partition_size)
        .unwrap_or_else(|| panic!("{topic} not in DescribeLogDirs"))
}

#[test]
fn compacted_topic_keeps_the_latest_value_per_key() {
    if skip_if_external("reads partition sizes and waits for Skiff's cleaner") {
        return;
    }
    let mut broker = Broker::start();
    run(async {
        let topic = unique_topic("compact");
        create_topic_with(
            &broker,
            &topic,
            1,
            &[
                ("cleanup.policy", "compact"),
                ("segment.bytes", "4096"),
                ("min.cleanable.dirty.ratio", "0.1"),
            ],
        )
        .await;
        let producer =
            future_producer(&broker, &[("linger.ms", "1"), ("batch.num.messages", "10")]);
        let mut latest: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut futures = Vec::new();
        for i in 0..1500 {
            let k = format!("key-{:02}", i % 20);
            // Keys 0..=4 end deleted (a tombstone last).
            let v = if i >= 1480 && i % 20 < 5 {
                None
            } else {
                Some(format!("value-{i}"))
            };
            latest.insert(k.clone(), v.clone());
            let mut rec = FutureRecord::to(&topic).partition(0).key(&k);
            if let Some(v) = &v {
                rec = rec.payload(v);
            }
            futures.push(producer.send_result(rec).expect("enqueue"));
        }
        for f in futures {
            f.await.expect("delivery").expect("produce");
        }
        let mut raw = RawClient::connect(&broker.bootstrap());
        let full = partition_size(&mut raw, &topic);
        let cleaned = wait_for_async(
            "the cleaner to shrink the partition",
            Duration::from_secs(20),
            || {
                let s = partition_size(&mut raw, &topic);
                (s < full / 3).then_some(s)
            },
        )
        .await;
        eprintln!("compacted {full} -> {cleaned} bytes");

        let check = |broker: &Broker| {
            let c = consumer(broker, &[]);
            let got = consume_partition_to_end(&c, &topic, 0);
            assert!(
                got.len() < 1500 / 2,
                "only {} records compacted away",
                1500 - got.len()
            );
            assert!(got.windows(2).all(|w| w[0].offset() < w[1].offset()));
            let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
            for m in &got {
                let k = String::from_utf8(m.key().expect("key").to_vec()).unwrap();
                let v = m.payload().map(|p| String::from_utf8(p.to_vec()).unwrap());
                seen.insert(k, v);
            }
            assert_eq!(seen, latest, "latest value per key");
            assert_eq!(got.last().map(|m| m.offset()), Some(1499));
        };
        check(&broker);
        broker.restart();
        check(&broker);
    });
}

#[test]
fn consumer_offsets_are_compacted_and_commits_survive() {
    if skip_if_external("configures __consumer_offsets and restarts the broker") {
        return;
    }
    let mut broker = Broker::start_with(&[("offsets.topic.segment.bytes", "4096")]);
    run(async {
        let topic = unique_topic("compact-offsets");
        create_topic(&broker, &topic, 1).await;
        let group = unique_topic("compact-group");
        let c = consumer(&broker, &[("group.id", &group)]);
        // Many commits of one partition: every one is a record of the same key.
        let commits = 400;
        for i in 1..=commits {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, 0, Offset::Offset(i))
                .unwrap();
            c.commit(&tpl, CommitMode::Sync)
                .unwrap_or_else(|e| broker.fail(&format!("commit {i}: {e}")));
        }
        drop(c);
        let mut raw = RawClient::connect(&broker.bootstrap());
        let full = partition_size(&mut raw, "__consumer_offsets");
        assert!(full > 8192, "{full}");
        let cleaned = wait_for_async(
            "the cleaner to compact __consumer_offsets",
            Duration::from_secs(20),
            || {
                let s = partition_size(&mut raw, "__consumer_offsets");
                (s < full / 2).then_some(s)
            },
        )
        .await;
        eprintln!("__consumer_offsets compacted {full} -> {cleaned} bytes");
        broker.restart();
        let c = consumer(&broker, &[("group.id", &group)]);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&topic, 0);
        let committed = c
            .committed_offsets(tpl, OP_TIMEOUT)
            .expect("committed offsets");
        assert_eq!(
            committed.elements()[0].offset(),
            Offset::Offset(commits),
            "committed offset after compaction and restart"
        );
    });
}

/// (base offset, codec id, last offset delta, record count) of a batch.
type BatchShape = (i64, u8, i32, i32);

/// Every batch of `topic`-0 as stored, by raw Fetch, and the latest value
/// per key of its records as kafka-protocol's own decoder reads them (an
/// independent check of the CRCs and compressed bodies the cleaner wrote).
fn raw_batches(raw: &mut RawClient, topic: &str) -> (Vec<BatchShape>, BTreeMap<String, String>) {
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let mut batches = Vec::new();
    let mut records = BTreeMap::new();
    let mut offset = 0;
    loop {
        let resp = raw.call(&fetch_request(v, topic, uuid::Uuid::nil(), 0, offset, 0), v);
        let pd = &resp.responses[0].partitions[0];
        assert_eq!(pd.error_code, 0, "fetch error for {topic}");
        let bytes = pd.records.clone().unwrap_or_default();
        for r in decode_records(&bytes) {
            let k = String::from_utf8(r.key.expect("key").to_vec()).unwrap();
            let v = String::from_utf8(r.value.expect("value").to_vec()).unwrap();
            records.insert(k, v);
        }
        let mut pos = 0;
        while pos + 61 <= bytes.len() {
            let b = &bytes[pos..];
            let base = i64::from_be_bytes(b[0..8].try_into().unwrap());
            let len = i32::from_be_bytes(b[8..12].try_into().unwrap()) as usize;
            let attributes = i16::from_be_bytes(b[21..23].try_into().unwrap());
            let last_delta = i32::from_be_bytes(b[23..27].try_into().unwrap());
            let count = i32::from_be_bytes(b[57..61].try_into().unwrap());
            batches.push((base, (attributes & 7) as u8, last_delta, count));
            offset = base + i64::from(last_delta) + 1;
            pos += 12 + len;
        }
        if offset >= pd.high_watermark || bytes.is_empty() {
            return (batches, records);
        }
    }
}

/// rdkafka produces many updates per key to a compacted topic with
/// `compression.type` set; the cleaner thins the compressed batches: a
/// consumer sees exactly the latest value per key, the partition shrinks,
/// and the stored batches (thinned ones included) keep the producer's codec.
fn compacted_compressed_topic(codec: &str, codec_id: u8) {
    if skip_if_external("reads partition sizes and waits for Skiff's cleaner") {
        return;
    }
    let broker = Broker::start();
    run(async {
        let topic = unique_topic(&format!("compact-{codec}"));
        create_topic_with(
            &broker,
            &topic,
            1,
            &[
                ("cleanup.policy", "compact"),
                ("segment.bytes", "4096"),
                ("min.cleanable.dirty.ratio", "0.1"),
            ],
        )
        .await;
        let producer = future_producer(
            &broker,
            &[
                ("compression.type", codec),
                ("linger.ms", "5"),
                ("batch.num.messages", "40"),
            ],
        );
        let mut latest: BTreeMap<String, String> = BTreeMap::new();
        let total = 3000;
        let mut futures = Vec::new();
        for i in 0..total {
            let k = format!("key-{:02}", i % 25);
            // Random-ish digits so that compressed batches still take room.
            let v = format!("value-{i}-{}", (i * 7919) % 100_003).repeat(4);
            latest.insert(k.clone(), v.clone());
            let rec = FutureRecord::to(&topic).partition(0).key(&k).payload(&v);
            futures.push(producer.send_result(rec).expect("enqueue"));
        }
        for f in futures {
            f.await
                .expect("delivery")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("{codec}: produce: {e}")));
        }
        let mut raw = RawClient::connect(&broker.bootstrap());
        let (before, _) = raw_batches(&mut raw, &topic);
        assert!(
            before.iter().all(|b| b.1 == codec_id),
            "{codec}: producer batches not compressed as asked: {before:?}"
        );
        let full = partition_size(&mut raw, &topic);
        // Passes run while we look (one group of segments swapped at a
        // time), so wait for both a small partition and a thinned batch:
        // a record batch with fewer records than offsets, which only the
        // cleaner writes (the last batch of the cleaned range keeps the
        // latest records of its keys and loses the older ones).
        let cleaned = wait_for_async(
            "the cleaner to shrink the partition and thin a compressed batch",
            Duration::from_secs(30),
            || {
                let s = partition_size(&mut raw, &topic);
                let (batches, _) = raw_batches(&mut raw, &topic);
                let thinned = batches.iter().any(|b| b.3 > 0 && b.3 < b.2 + 1);
                (s < full / 3 && thinned).then_some(s)
            },
        )
        .await;
        eprintln!("{codec}: compacted {full} -> {cleaned} bytes");

        let c = consumer(&broker, &[]);
        let got = consume_partition_to_end(&c, &topic, 0);
        assert!(got.len() < total / 3, "{codec}: {} records left", got.len());
        assert!(got.windows(2).all(|w| w[0].offset() < w[1].offset()));
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for m in &got {
            let k = String::from_utf8(m.key().expect("key").to_vec()).unwrap();
            let v = String::from_utf8(m.payload().expect("value").to_vec()).unwrap();
            seen.insert(k, v);
        }
        assert_eq!(seen, latest, "{codec}: latest value per key");
        assert_eq!(got.last().map(|m| m.offset()), Some(total as i64 - 1));

        // Stored batches: every one that holds records, the thinned ones
        // included, keeps the producer's codec.
        let (after, decoded) = raw_batches(&mut raw, &topic);
        assert_eq!(decoded, latest, "{codec}: as kafka-protocol decodes them");
        assert!(
            after.iter().filter(|b| b.3 > 0).all(|b| b.1 == codec_id),
            "{codec}: codec changed by the cleaner: {after:?}"
        );
    });
}

#[test]
fn compacted_lz4_topic_is_thinned_keeping_the_codec() {
    compacted_compressed_topic("lz4", 3);
}

#[test]
fn compacted_zstd_topic_is_thinned_keeping_the_codec() {
    compacted_compressed_topic("zstd", 4);
}

#[test]
fn compacted_gzip_topic_is_thinned_keeping_the_codec() {
    compacted_compressed_topic("gzip", 1);
}

#[test]
fn compacted_snappy_topic_is_thinned_keeping_the_codec() {
    compacted_compressed_topic("snappy", 2);
}

/// Kafka's LogValidator: a compacted topic refuses a record without a key
/// with INVALID_RECORD, also inside a compressed batch.
#[test]
fn compacted_topic_refuses_keyless_records_in_compressed_batches() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("compact-keyless");
        create_topic_with(&broker, &topic, 1, &[("cleanup.policy", "compact")]).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        for (codec, codec_id) in [("lz4", 3), ("zstd", 4)] {
            let producer = future_producer(
                &broker,
                &[("compression.type", codec), ("message.timeout.ms", "10000")],
            );
            // Large and repetitive: librdkafka sends a batch uncompressed
            // when compressing would not make it smaller.
            let payload = "some value, ".repeat(500);
            let keyed = FutureRecord::to(&topic)
                .partition(0)
                .key("k")
                .payload(&payload);
            producer
                .send_result(keyed)
                .expect("enqueue")
                .await
                .expect("delivery")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("{codec}: keyed produce: {e}")));
            let (batches, _) = raw_batches(&mut raw, &topic);
            assert_eq!(
                batches.last().map(|b| b.1),
                Some(codec_id),
                "{codec}: such a record is sent compressed"
            );
            let keyless = FutureRecord::<(), _>::to(&topic)
                .partition(0)
                .payload(&payload);
            let err = producer
                .send_result(keyless)
                .expect("enqueue")
                .await
                .expect("delivery")
                .expect_err("a keyless record must be refused");
            assert_eq!(
                err.0.rdkafka_error_code(),
                Some(rdkafka::types::RDKafkaErrorCode::InvalidRecord),
                "{codec}: {err:?}"
            );
        }
    });
}
