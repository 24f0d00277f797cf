//! Log compaction against the real binary: a `cleanup.policy=compact` topic
//! keeps the latest value per key (offsets unchanged, gaps allowed) while
//! its size shrinks; tombstones are honoured; `__consumer_offsets` is
//! compacted too and committed offsets survive it and a restart.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::DescribeLogDirsRequest;
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
