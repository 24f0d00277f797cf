//! Topic auto-creation on produce (default on), its absence with
//! `auto.create.topics.enable=false`, and producing to a partition that does
//! not exist.

use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;

use crate::harness::*;

const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

#[test]
fn produce_to_unknown_topic_auto_creates_it() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("auto");
        let producer = future_producer(&broker, &[]);
        let d = producer
            .send(
                FutureRecord::to(&topic).key("k").payload("auto-created"),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce to a new topic: {e}")));
        assert_eq!((d.partition, d.offset), (0, 0));

        let c = consumer(&broker, &[]);
        let md = c
            .fetch_metadata(Some(&topic), OP_TIMEOUT)
            .expect("metadata");
        let t = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .expect("topic listed");
        assert!(t.error().is_none());
        if !broker.is_external() {
            assert_eq!(t.partitions().len(), 1, "num.partitions defaults to 1");
        }
        assign_from_start(&c, &topic, &[0]);
        let got = consume_exact(&c, 1, Duration::from_secs(10));
        assert_eq!(payload_str(&got[0]), "auto-created");
    });
}

#[test]
fn auto_create_uses_num_partitions() {
    if skip_if_external("needs --set num.partitions=3") {
        return;
    }
    let broker = Broker::start_with(&[("num.partitions", "3")]);
    run(async {
        let topic = unique_topic("auto3");
        let mut raw = RawClient::connect(&broker.bootstrap());
        let v = raw.pick_version(ApiKey::Metadata, 12);
        let c = consumer(&broker, &[]);
        // Metadata with allow_auto_topic_creation=true creates it (as Kafka does).
        let _ = raw.call(&metadata_request(Some(&[&topic]), true), v);
        wait_topic_ready(&c, &topic, 3).await;
    });
}

#[test]
fn auto_create_disabled_unknown_topic_errors() {
    if skip_if_external("needs --set auto.create.topics.enable=false") {
        return;
    }
    let broker = Broker::start_with(&[("auto.create.topics.enable", "false")]);
    run(async {
        let topic = unique_topic("noauto");
        let mut raw = RawClient::connect(&broker.bootstrap());

        // Metadata, even asking for creation: UNKNOWN_TOPIC_OR_PARTITION.
        let v = raw.pick_version(ApiKey::Metadata, 12);
        let md = raw.call(&metadata_request(Some(&[&topic]), true), v);
        assert_eq!(md.topics.len(), 1, "{md:?}");
        assert_eq!(
            md.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION,
            "{md:?}"
        );
        // Older Metadata versions (no allow_auto_topic_creation field) too.
        let md = raw.call(&metadata_request(Some(&[&topic]), true), 1);
        assert_eq!(
            md.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION,
            "Metadata v1: {md:?}"
        );

        // Raw produce: the partition's error.
        let pv = raw.pick_version(ApiKey::Produce, 9);
        let (err, _) = produce_result(&raw.call(
            &produce_request(&topic, 0, encode_batch(&[b"x"], None), -1),
            pv,
        ));
        assert_eq!(
            err, UNKNOWN_TOPIC_OR_PARTITION,
            "raw produce to an unknown topic"
        );

        // rdkafka: the delivery fails with unknown topic.
        let producer = future_producer(
            &broker,
            &[
                ("message.timeout.ms", "5000"),
                ("topic.metadata.propagation.max.ms", "1000"),
            ],
        );
        let res = producer
            .send(
                FutureRecord::<(), _>::to(&topic).payload("x"),
                Duration::from_secs(5),
            )
            .await;
        match res {
            Err((KafkaError::MessageProduction(code), _)) => assert!(
                matches!(
                    code,
                    RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic
                ),
                "delivery error {code:?}"
            ),
            other => panic!("produce to unknown topic: {other:?}"),
        }

        // Still not created.
        let md = raw.call(&metadata_request(None, false), v);
        assert!(
            !md.topics
                .iter()
                .any(|t| t.name.as_ref().map(|n| n.as_str()) == Some(topic.as_str())),
            "topic was created despite auto.create.topics.enable=false"
        );
    });
}

#[test]
fn produce_to_missing_partition_fails() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("nopart");
        create_topic(&broker, &topic, 1).await;

        let mut raw = RawClient::connect(&broker.bootstrap());
        let pv = raw.pick_version(ApiKey::Produce, 9);
        let (err, _) = produce_result(&raw.call(
            &produce_request(&topic, 7, encode_batch(&[b"x"], None), -1),
            pv,
        ));
        assert_eq!(
            err, UNKNOWN_TOPIC_OR_PARTITION,
            "raw produce to partition 7 of 1"
        );

        let producer = future_producer(&broker, &[("message.timeout.ms", "5000")]);
        let res = producer
            .send(
                FutureRecord::<(), _>::to(&topic).partition(7).payload("x"),
                Duration::from_secs(5),
            )
            .await;
        match res {
            Err((KafkaError::MessageProduction(code), _)) => assert!(
                matches!(
                    code,
                    RDKafkaErrorCode::UnknownPartition | RDKafkaErrorCode::UnknownTopicOrPartition
                ),
                "delivery error {code:?}"
            ),
            other => panic!("produce to partition 7: {other:?}"),
        }
        // Partition 0 is fine and nothing was written elsewhere.
        let (err, base) = produce_result(&raw.call(
            &produce_request(&topic, 0, encode_batch(&[b"ok"], None), -1),
            pv,
        ));
        assert_eq!((err, base), (0, 0));
    });
}
