//! Retention, DeleteRecords, DescribeLogDirs, AlterConfigs and
//! IncrementalAlterConfigs against the real binary: old segments go, the
//! log start offset (low watermark) moves and survives a restart, a fetch
//! below it is OFFSET_OUT_OF_RANGE, config changes apply live and persist.

use std::time::Duration;

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{
    ApiKey, DeleteRecordsRequest, DescribeLogDirsRequest, IncrementalAlterConfigsRequest,
};
use kafka_protocol::protocol::StrBytes;
use rdkafka::admin::{AlterConfig, ResourceSpecifier};
use rdkafka::consumer::Consumer;
use rdkafka::producer::FutureRecord;
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::*;

const OFFSET_OUT_OF_RANGE: i16 = 1;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const INVALID_REQUEST: i16 = 42;
const POLICY_VIOLATION: i16 = 44;
const INVALID_CONFIG: i16 = 40;

/// Kafka checks retention every 5 minutes (`log.retention.check.interval.ms`);
/// tests that wait for retention ask for a check every 200 ms.
const FAST_RETENTION_CHECK: (&str, &str) = ("log.retention.check.interval.ms", "200");

/// Produces `n` ~200-byte messages one batch each, with CreateTime `ts`.
async fn produce_n(broker: &Broker, topic: &str, n: usize, ts: i64, tag: &str) {
    let producer = future_producer(broker, &[("linger.ms", "0")]);
    for i in 0..n {
        let v = format!("{tag}-{i:05}-{}", "x".repeat(180));
        producer
            .send(
                FutureRecord::to(topic)
                    .partition(0)
                    .key(&v)
                    .payload(&v)
                    .timestamp(ts),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i}: {e}")));
    }
}

fn watermarks(broker: &Broker, topic: &str) -> (i64, i64) {
    consumer(broker, &[])
        .fetch_watermarks(topic, 0, OP_TIMEOUT)
        .expect("watermarks")
}

/// The error code of a raw fetch of `offset`.
fn fetch_error(raw: &mut RawClient, topic: &str, offset: i64) -> i16 {
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let resp = raw.call(&fetch_request(v, topic, uuid::Uuid::nil(), 0, offset, 0), v);
    resp.responses[0].partitions[0].error_code
}

/// (partition, size) of every partition of `topic` in DescribeLogDirs `version`.
fn log_dir_sizes(raw: &mut RawClient, topic: &str, version: i16) -> (Vec<(i32, i64)>, i64, i64) {
    let req =
        DescribeLogDirsRequest::default()
            .with_topics(Some(vec![DescribableLogDirTopic::default()
                .with_topic(topic_name(topic))
                .with_partitions(vec![0, 1, 2, 99])]));
    let resp = raw.call(&req, version);
    assert_eq!(resp.error_code, 0);
    assert_eq!(resp.results.len(), 1, "one log dir");
    let dir = &resp.results[0];
    assert_eq!(dir.error_code, 0);
    assert!(!dir.log_dir.is_empty());
    let t = dir
        .topics
        .iter()
        .find(|t| t.name.as_str() == topic)
        .unwrap_or_else(|| panic!("{topic} not in {resp:?}"));
    (
        t.partitions
            .iter()
            .map(|p| (p.partition_index, p.partition_size))
            .collect(),
        dir.total_bytes,
        dir.usable_bytes,
    )
}

#[test]
fn retention_ms_set_live_deletes_old_segments_and_moves_earliest() {
    if skip_if_external("reads timing of the broker's periodic task and restarts it") {
        return;
    }
    let mut broker = Broker::start_with(&[FAST_RETENTION_CHECK]);
    run(async {
        let topic = unique_topic("ret-ms");
        create_topic_with(
            &broker,
            &topic,
            1,
            &[("segment.bytes", "2048"), ("retention.ms", "-1")],
        )
        .await;
        // Two hours old, then fresh.
        produce_n(&broker, &topic, 40, now_ms() - 7_200_000, "old").await;
        produce_n(&broker, &topic, 5, now_ms(), "new").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            watermarks(&broker, &topic),
            (0, 45),
            "retention.ms=-1 keeps everything"
        );

        // AlterConfigs replaces the whole set: keep segment.bytes.
        let adm = admin(&broker);
        let change = AlterConfig::new(ResourceSpecifier::Topic(&topic))
            .set("segment.bytes", "2048")
            .set("retention.ms", "3600000");
        let res = adm
            .alter_configs([&change], &admin_opts())
            .await
            .expect("AlterConfigs");
        assert!(res[0].is_ok(), "{res:?}");
        let low = wait_for_async("old segments deleted", Duration::from_secs(15), || {
            let (low, high) = watermarks(&broker, &topic);
            assert_eq!(high, 45);
            (low > 0).then_some(low)
        })
        .await;
        // Only segments whose newest record is old go: the fresh five stay.
        assert!(low <= 40, "low watermark {low}");
        let mut raw = RawClient::connect(&broker.bootstrap());
        assert_eq!(fetch_error(&mut raw, &topic, 0), OFFSET_OUT_OF_RANGE);
        assert_eq!(fetch_error(&mut raw, &topic, low), 0);
        let c = consumer(&broker, &[]);
        let got = consume_partition_to_end(&c, &topic, 0);
        assert_eq!(got.first().map(rdkafka::Message::offset), Some(low));
        assert!(got
            .iter()
            .rev()
            .take(5)
            .all(|m| payload_str(m).starts_with("new-")));

        // The change is persisted with the topic.
        broker.restart();
        let adm = admin(&broker);
        let described = adm
            .describe_configs([&ResourceSpecifier::Topic(&topic)], &admin_opts())
            .await
            .expect("DescribeConfigs");
        let cfg = described[0].as_ref().expect("describe result");
        assert_eq!(
            cfg.get("retention.ms").and_then(|e| e.value.as_deref()),
            Some("3600000")
        );
        assert_eq!(watermarks(&broker, &topic), (low, 45));
    });
}

/// A fixture with an old explicit timestamp (2020) is readable right after
/// it was produced: retention runs on Kafka's 5-minute schedule, not on the
/// broker's one-second maintenance tick.
#[test]
fn records_with_old_timestamps_stay_readable_until_the_retention_check() {
    if skip_if_external("depends on when the broker last checked retention") {
        return;
    }
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("ret-old-ts");
        create_topic_with(&broker, &topic, 1, &[("segment.bytes", "2048")]).await;
        let jan_2020 = 1_577_836_800_000;
        produce_n(&broker, &topic, 40, jan_2020, "old").await;
        // Several maintenance ticks (one a second) pass: none may delete.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(watermarks(&broker, &topic), (0, 40));
        let c = consumer(&broker, &[]);
        let got = consume_partition_to_end(&c, &topic, 0);
        assert_eq!(got.len(), 40);
        assert!(got.iter().all(|m| payload_str(m).starts_with("old-")));
    });
}

#[test]
fn retention_bytes_bounds_the_partition_size_reported_by_describe_log_dirs() {
    if skip_if_external("depends on the broker's segment sizes") {
        return;
    }
    let broker = Broker::start_with(&[FAST_RETENTION_CHECK]);
    run(async {
        let topic = unique_topic("ret-bytes");
        create_topic_with(
            &broker,
            &topic,
            1,
            &[("segment.bytes", "2048"), ("retention.bytes", "6000")],
        )
        .await;
        produce_n(&broker, &topic, 100, now_ms(), "b").await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let size = wait_for_async(
            "size within retention.bytes",
            Duration::from_secs(15),
            || {
                let (sizes, _, _) = log_dir_sizes(&mut raw, &topic, 4);
                let s = sizes[0].1;
                (s <= 6000 + 2048).then_some(s)
            },
        )
        .await;
        assert!(size >= 6000 - 2048, "{size}");
        let (low, high) = watermarks(&broker, &topic);
        assert!(low > 0 && high == 100, "{low} {high}");
        // Every version answers; v4 carries the file system's sizes, only
        // existing partitions are listed.
        for v in 1..=4 {
            let (sizes, total, usable) = log_dir_sizes(&mut raw, &topic, v);
            assert_eq!(sizes.len(), 1, "v{v}: {sizes:?}");
            if v >= 4 {
                assert!(
                    total > 0 && usable > 0 && usable <= total,
                    "{total} {usable}"
                );
            }
        }
        // All topics when none are named.
        let resp = raw.call(&DescribeLogDirsRequest::default().with_topics(None), 2);
        assert!(resp.results[0]
            .topics
            .iter()
            .any(|t| t.name.as_str() == topic));
    });
}

#[test]
fn delete_records_moves_the_low_watermark_durably() {
    if skip_if_external("restarts the broker") {
        return;
    }
    let mut broker = Broker::start();
    run(async {
        let topic = unique_topic("delrec");
        create_topic_with(&broker, &topic, 1, &[("segment.bytes", "2048")]).await;
        produce_n(&broker, &topic, 30, now_ms(), "d").await;
        let admin = admin(&broker);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Offset(12))
            .unwrap();
        let res = admin
            .delete_records(&tpl, &admin_opts())
            .await
            .expect("DeleteRecords");
        let e = res.elements_for_topic(&topic);
        assert_eq!(e.len(), 1);
        assert!(e[0].error().is_ok(), "{:?}", e[0].error());
        assert_eq!(e[0].offset(), Offset::Offset(12));
        assert_eq!(watermarks(&broker, &topic), (12, 30));

        let mut raw = RawClient::connect(&broker.bootstrap());
        assert_eq!(fetch_error(&mut raw, &topic, 11), OFFSET_OUT_OF_RANGE);
        let got = raw_fetch_values(&mut raw, &topic, 0, 12);
        assert_eq!(got.first().map(|r| r.0), Some(12));
        // Raw, every version: beyond the high watermark, backwards (a no-op
        // reporting the current low watermark), unknown partition.
        let req = |offset: i64, partition: i32, name: &str| {
            DeleteRecordsRequest::default()
                .with_timeout_ms(5000)
                .with_topics(vec![DeleteRecordsTopic::default()
                    .with_name(topic_name(name))
                    .with_partitions(vec![DeleteRecordsPartition::default()
                        .with_partition_index(partition)
                        .with_offset(offset)])])
        };
        for v in 0..=2 {
            let r = raw.call(&req(31, 0, &topic), v);
            assert_eq!(
                r.topics[0].partitions[0].error_code, OFFSET_OUT_OF_RANGE,
                "v{v}"
            );
            let r = raw.call(&req(5, 0, &topic), v);
            assert_eq!(r.topics[0].partitions[0].error_code, 0);
            assert_eq!(r.topics[0].partitions[0].low_watermark, 12);
            let r = raw.call(&req(5, 7, &topic), v);
            assert_eq!(
                r.topics[0].partitions[0].error_code,
                UNKNOWN_TOPIC_OR_PARTITION
            );
            let r = raw.call(&req(5, 0, "no-such-topic-here"), v);
            assert_eq!(
                r.topics[0].partitions[0].error_code,
                UNKNOWN_TOPIC_OR_PARTITION
            );
        }
        // A compact-only topic refuses, as Kafka does.
        let compacted = unique_topic("delrec-compact");
        create_topic_with(&broker, &compacted, 1, &[("cleanup.policy", "compact")]).await;
        let r = raw.call(&req(0, 0, &compacted), 2);
        assert_eq!(r.topics[0].partitions[0].error_code, POLICY_VIOLATION);

        broker.restart();
        assert_eq!(watermarks(&broker, &topic), (12, 30));
        // -1: everything up to the high watermark.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let r = raw.call(&req(-1, 0, &topic), 2);
        assert_eq!(r.topics[0].partitions[0].low_watermark, 30);
        assert_eq!(watermarks(&broker, &topic), (30, 30));
    });
}

/// (retention.ms, cleanup.policy) as DescribeConfigs reports them.
async fn describe(broker: &Broker, t: &str) -> (Option<String>, Option<String>) {
    let adm = admin(broker);
    let d = adm
        .describe_configs([&ResourceSpecifier::Topic(t)], &admin_opts())
        .await
        .expect("DescribeConfigs");
    let cfg = d[0].as_ref().expect("describe");
    (
        cfg.get("retention.ms").and_then(|e| e.value.clone()),
        cfg.get("cleanup.policy").and_then(|e| e.value.clone()),
    )
}

fn incremental(
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> IncrementalAlterConfigsRequest {
    IncrementalAlterConfigsRequest::default()
        .with_validate_only(validate_only)
        .with_resources(vec![AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(StrBytes::from_string(name.to_string()))
            .with_configs(
                ops.iter()
                    .map(|(k, op, v)| {
                        AlterableConfig::default()
                            .with_name(StrBytes::from_string(k.to_string()))
                            .with_config_operation(*op)
                            .with_value(v.map(|v| StrBytes::from_string(v.to_string())))
                    })
                    .collect(),
            )])
}

#[test]
fn incremental_alter_configs_ops_validation_and_broker_resources() {
    if skip_if_external("checks Skiff's static broker configs") {
        return;
    }
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("incr");
        create_topic(&broker, &topic, 1).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        for v in 0..=1 {
            let ok = raw.call(
                &incremental(
                    2,
                    &topic,
                    &[
                        ("retention.ms", 0, Some("5000")),
                        ("cleanup.policy", 2, Some("compact")),
                    ],
                    false,
                ),
                v,
            );
            assert_eq!(ok.responses[0].error_code, 0, "v{v}: {ok:?}");
            assert_eq!(
                describe(&broker, &topic).await,
                (Some("5000".into()), Some("delete,compact".into()))
            );
            let ok = raw.call(
                &incremental(
                    2,
                    &topic,
                    &[
                        ("retention.ms", 1, None),
                        ("cleanup.policy", 3, Some("delete")),
                    ],
                    false,
                ),
                v,
            );
            assert_eq!(ok.responses[0].error_code, 0);
            assert_eq!(
                describe(&broker, &topic).await,
                (Some("604800000".into()), Some("compact".into()))
            );
            raw.call(
                &incremental(2, &topic, &[("cleanup.policy", 1, None)], false),
                v,
            );
        }
        // validate_only changes nothing; bad values, keys, ops and
        // duplicates are refused per resource.
        let r = raw.call(
            &incremental(2, &topic, &[("retention.ms", 0, Some("1"))], true),
            1,
        );
        assert_eq!(r.responses[0].error_code, 0);
        assert_eq!(describe(&broker, &topic).await.0, Some("604800000".into()));
        for (ops, code) in [
            (vec![("retention.ms", 0, Some("soon"))], INVALID_CONFIG),
            (vec![("no.such.config", 0, Some("1"))], INVALID_CONFIG),
            (vec![("retention.ms", 2, Some("1"))], INVALID_CONFIG),
            (
                vec![("cleanup.policy", 0, Some("sometimes"))],
                INVALID_CONFIG,
            ),
            (
                vec![
                    ("retention.ms", 0, Some("1")),
                    ("retention.ms", 0, Some("2")),
                ],
                INVALID_REQUEST,
            ),
        ] {
            let r = raw.call(&incremental(2, &topic, &ops, false), 1);
            assert_eq!(r.responses[0].error_code, code, "{ops:?}: {r:?}");
        }
        let r = raw.call(
            &incremental(2, "no-such-topic", &[("retention.ms", 0, Some("1"))], false),
            1,
        );
        assert_eq!(r.responses[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
        // Broker configs are static in Skiff.
        let r = raw.call(
            &incremental(4, "1", &[("log.retention.ms", 0, Some("1"))], false),
            1,
        );
        assert_eq!(r.responses[0].error_code, INVALID_CONFIG, "{r:?}");
        let r = raw.call(&incremental(4, "1", &[], false), 1);
        assert_eq!(r.responses[0].error_code, 0);
        let r = raw.call(&incremental(4, "77", &[("x", 0, Some("1"))], false), 1);
        assert_eq!(r.responses[0].error_code, INVALID_REQUEST);
        // The legacy AlterConfigs, every version (rust-rdkafka drops
        // per-resource errors of AlterConfigs, so this is raw).
        use kafka_protocol::messages::alter_configs_request as ac;
        for v in 0..=2 {
            let req = |rt: i8, name: &str, k: &str, val: &str| {
                kafka_protocol::messages::AlterConfigsRequest::default().with_resources(vec![
                    ac::AlterConfigsResource::default()
                        .with_resource_type(rt)
                        .with_resource_name(StrBytes::from_string(name.to_string()))
                        .with_configs(vec![ac::AlterableConfig::default()
                            .with_name(StrBytes::from_string(k.to_string()))
                            .with_value(Some(StrBytes::from_string(val.to_string())))]),
                ])
            };
            let r = raw.call(&req(4, "1", "log.retention.ms", "1"), v);
            assert_eq!(r.responses[0].error_code, INVALID_CONFIG, "v{v}");
            let r = raw.call(&req(2, &topic, "retention.ms", "abc"), v);
            assert_eq!(r.responses[0].error_code, INVALID_CONFIG, "v{v}");
            let r = raw.call(&req(2, &topic, "retention.bytes", "123456"), v);
            assert_eq!(r.responses[0].error_code, 0, "v{v}");
        }
    });
}
