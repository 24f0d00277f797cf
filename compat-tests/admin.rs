//! Admin API through rdkafka's AdminClient: CreateTopics (incl. immediate
//! produce, duplicates, invalid names, validate_only), CreatePartitions,
//! DeleteTopics and DescribeConfigs.

use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use rdkafka::admin::{ConfigSource, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::Consumer;
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;

use crate::harness::*;

#[test]
fn create_topic_then_produce_immediately() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("adm-create");
        let admin = admin(&broker);
        let nt =
            NewTopic::new(&topic, 3, TopicReplication::Fixed(1)).set("retention.ms", "3600000");
        let res = admin
            .create_topics([&nt], &admin_opts())
            .await
            .expect("CreateTopics");
        assert_eq!(res, vec![Ok(topic.clone())]);

        // No UNKNOWN_TOPIC_OR_PARTITION window: right after the response the
        // topic is in the metadata with leaders, and a raw produce succeeds.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let mv = raw.pick_version(ApiKey::Metadata, 12);
        let pv = raw.pick_version(ApiKey::Produce, 9);
        if broker.is_external() {
            // Real Kafka propagates metadata asynchronously after CreateTopics.
            let c = consumer(&broker, &[]);
            wait_topic_ready(&c, &topic, 3).await;
        }
        let md = raw.call(&metadata_request(Some(&[&topic]), false), mv);
        let t = &md.topics[0];
        assert_eq!(t.error_code, 0, "metadata right after CreateTopics: {md:?}");
        assert_eq!(t.partitions.len(), 3);
        for p in &t.partitions {
            assert_eq!(p.error_code, 0);
            assert!(
                p.leader_id.0 >= 0,
                "partition {} without leader",
                p.partition_index
            );
        }
        for p in 0..3 {
            let (err, base) = produce_result(&raw.call(
                &produce_request(&topic, p, encode_batch(&[b"first"], None), -1),
                pv,
            ));
            assert_eq!(
                (err, base),
                (0, 0),
                "raw produce to partition {p} right after creation"
            );
        }

        // And through rdkafka.
        let producer = future_producer(&broker, &[]);
        for p in 0..3 {
            let d = producer
                .send(
                    FutureRecord::<(), _>::to(&topic)
                        .partition(p)
                        .payload("second"),
                    Duration::from_secs(10),
                )
                .await
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce to {p}: {e}")));
            assert_eq!(d.offset, 1);
        }
    });
}

#[test]
fn create_existing_and_invalid_topics_fail() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("adm-dup");
        let admin = admin(&broker);
        let nt = NewTopic::new(&topic, 1, TopicReplication::Fixed(1));
        let res = admin
            .create_topics([&nt], &admin_opts())
            .await
            .expect("CreateTopics");
        assert_eq!(res, vec![Ok(topic.clone())]);
        let res = admin
            .create_topics([&nt], &admin_opts())
            .await
            .expect("CreateTopics");
        assert_eq!(
            res,
            vec![Err((topic.clone(), RDKafkaErrorCode::TopicAlreadyExists))],
            "creating an existing topic"
        );

        let long = "x".repeat(250);
        for name in [
            "bad name!",
            ".",
            "..",
            long.as_str(),
            "slash/name",
            "tab\tname",
        ] {
            let nt = NewTopic::new(name, 1, TopicReplication::Fixed(1));
            let res = admin
                .create_topics([&nt], &admin_opts())
                .await
                .expect("CreateTopics");
            assert_eq!(
                res,
                vec![Err((name.to_string(), RDKafkaErrorCode::InvalidTopic))],
                "creating topic {name:?}"
            );
        }
        // 249 characters is the longest legal name.
        let ok = format!("{}-{}", unique_topic("len"), "y".repeat(200));
        let ok: String = ok.chars().take(249).collect();
        let nt = NewTopic::new(&ok, 1, TopicReplication::Fixed(1));
        let res = admin
            .create_topics([&nt], &admin_opts())
            .await
            .expect("CreateTopics");
        assert_eq!(res, vec![Ok(ok.clone())], "a 249-character name is valid");

        // A mixed request: each topic gets its own result.
        let good = unique_topic("adm-mixed");
        let a = NewTopic::new(&good, 2, TopicReplication::Fixed(1));
        let b = NewTopic::new("bad name!", 1, TopicReplication::Fixed(1));
        let res = admin
            .create_topics([&a, &b], &admin_opts())
            .await
            .expect("CreateTopics");
        assert!(res.contains(&Ok(good.clone())), "{res:?}");
        assert!(
            res.contains(&Err((
                "bad name!".to_string(),
                RDKafkaErrorCode::InvalidTopic
            ))),
            "{res:?}"
        );

        let c = consumer(&broker, &[]);
        let md = all_metadata(&c);
        for t in md.topics() {
            assert!(
                !["bad name!", ".", "..", "slash/name"].contains(&t.name()) && t.name() != long,
                "invalid topic {:?} was created",
                t.name()
            );
        }
    });
}

#[test]
fn validate_only_does_not_create() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("adm-validate");
        let admin = admin(&broker);
        let nt = NewTopic::new(&topic, 2, TopicReplication::Fixed(1));
        let res = admin
            .create_topics([&nt], &admin_opts().validate_only(true))
            .await
            .expect("CreateTopics validate_only");
        assert_eq!(res, vec![Ok(topic.clone())], "validation passes");
        let bad = NewTopic::new("bad name!", 1, TopicReplication::Fixed(1));
        let res = admin
            .create_topics([&bad], &admin_opts().validate_only(true))
            .await
            .expect("CreateTopics validate_only");
        assert_eq!(
            res,
            vec![Err((
                "bad name!".to_string(),
                RDKafkaErrorCode::InvalidTopic
            ))]
        );

        let c = consumer(&broker, &[]);
        let md = all_metadata(&c);
        assert!(
            !md.topics().iter().any(|t| t.name() == topic),
            "validate_only created the topic"
        );
        // Creating it for real afterwards works (nothing half-created).
        let res = admin
            .create_topics([&nt], &admin_opts())
            .await
            .expect("CreateTopics");
        assert_eq!(res, vec![Ok(topic.clone())]);
    });
}

#[test]
fn create_partitions_and_delete_topics() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("adm-parts");
        create_topic(&broker, &topic, 3).await;
        let admin = admin(&broker);
        let c = consumer(&broker, &[]);

        let res = admin
            .create_partitions([&NewPartitions::new(&topic, 5)], &admin_opts())
            .await
            .expect("CreatePartitions");
        assert_eq!(res, vec![Ok(topic.clone())]);
        wait_topic_ready(&c, &topic, 5).await;
        // The new partitions take writes.
        let producer = future_producer(&broker, &[]);
        for p in 3..5 {
            let d = producer
                .send(
                    FutureRecord::<(), _>::to(&topic).partition(p).payload("x"),
                    Duration::from_secs(10),
                )
                .await
                .unwrap_or_else(|(e, _)| {
                    broker.fail(&format!("produce to new partition {p}: {e}"))
                });
            assert_eq!(d.offset, 0);
        }
        // Shrinking is refused.
        let res = admin
            .create_partitions([&NewPartitions::new(&topic, 2)], &admin_opts())
            .await
            .expect("CreatePartitions");
        assert_eq!(
            res,
            vec![Err((topic.clone(), RDKafkaErrorCode::InvalidPartitions))]
        );

        let res = admin
            .delete_topics(&[&topic], &admin_opts())
            .await
            .expect("DeleteTopics");
        assert_eq!(res, vec![Ok(topic.clone())]);
        wait_for_async("deleted topic gone from metadata", OP_TIMEOUT, || {
            let md = c.fetch_metadata(None, Duration::from_secs(5)).ok()?;
            (!md.topics().iter().any(|t| t.name() == topic)).then_some(())
        })
        .await;
        // Deleting it again: unknown topic.
        let res = admin
            .delete_topics(&[&topic], &admin_opts())
            .await
            .expect("DeleteTopics");
        assert_eq!(
            res,
            vec![Err((
                topic.clone(),
                RDKafkaErrorCode::UnknownTopicOrPartition
            ))]
        );
    });
}

#[test]
fn describe_configs_topic_and_broker() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("adm-cfg");
        create_topic_with(&broker, &topic, 1, &[("retention.ms", "3600000")]).await;
        let admin = admin(&broker);
        let c = consumer(&broker, &[]);
        let broker_id = all_metadata(&c).brokers()[0].id();

        let res = admin
            .describe_configs(
                [
                    &ResourceSpecifier::Topic(&topic),
                    &ResourceSpecifier::Broker(broker_id),
                ],
                &admin_opts(),
            )
            .await
            .expect("DescribeConfigs");
        assert_eq!(res.len(), 2);
        let topic_cfg = res[0].as_ref().expect("topic configs");
        let broker_cfg = res[1].as_ref().expect("broker configs");

        // Topic: many entries, each with a value and a known source.
        assert!(
            topic_cfg.entries.len() >= 10,
            "only {} topic configs",
            topic_cfg.entries.len()
        );
        for e in &topic_cfg.entries {
            assert!(e.value.is_some(), "topic config {} has no value", e.name);
            assert_ne!(
                e.source,
                ConfigSource::Unknown,
                "topic config {} source",
                e.name
            );
        }
        let retention = topic_cfg.get("retention.ms").expect("retention.ms");
        assert_eq!(retention.value.as_deref(), Some("3600000"));
        assert_eq!(
            retention.source,
            ConfigSource::DynamicTopic,
            "the override's source"
        );
        assert!(!retention.is_default);
        let seg = topic_cfg.get("segment.bytes").expect("segment.bytes");
        assert!(
            seg.value
                .as_deref()
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > 0),
            "segment.bytes value {:?}",
            seg.value
        );
        assert!(
            matches!(
                seg.source,
                ConfigSource::Default
                    | ConfigSource::StaticBroker
                    | ConfigSource::DynamicDefaultBroker
            ),
            "segment.bytes source {:?}",
            seg.source
        );
        for name in ["cleanup.policy", "max.message.bytes", "retention.bytes"] {
            let e = topic_cfg
                .get(name)
                .unwrap_or_else(|| panic!("topic config {name} missing"));
            assert!(e.value.is_some(), "{name} value");
        }
        assert_eq!(
            topic_cfg.get("cleanup.policy").unwrap().value.as_deref(),
            Some("delete")
        );

        // Broker: many entries; the core ones have values and sources.
        assert!(
            broker_cfg.entries.len() >= 10,
            "only {} broker configs",
            broker_cfg.entries.len()
        );
        for name in ["log.segment.bytes", "message.max.bytes", "num.partitions"] {
            let e = broker_cfg
                .get(name)
                .unwrap_or_else(|| panic!("broker config {name} missing"));
            assert!(
                e.value
                    .as_deref()
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some(),
                "broker config {name} value {:?}",
                e.value
            );
            assert_ne!(
                e.source,
                ConfigSource::Unknown,
                "broker config {name} source"
            );
        }
        if !broker.is_external() {
            assert_eq!(
                broker_cfg
                    .get("message.max.bytes")
                    .unwrap()
                    .value
                    .as_deref(),
                Some("1048588"),
                "default message.max.bytes"
            );
        }
    });
}
