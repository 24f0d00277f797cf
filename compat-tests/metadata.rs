//! Metadata through rdkafka (`fetch_metadata`).

use crate::harness::*;
use rdkafka::consumer::Consumer;

#[test]
fn metadata_lists_broker_and_topic_partitions() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("md");
        create_topic(&broker, &topic, 3).await;

        let c = consumer(&broker, &[]);
        let md = c
            .fetch_metadata(Some(&topic), OP_TIMEOUT)
            .expect("fetch_metadata");

        // One broker, advertised exactly at the address we connected to.
        assert_eq!(md.brokers().len(), 1, "brokers: {:?}", md.brokers().len());
        let b = &md.brokers()[0];
        let (host, port) = broker
            .bootstrap()
            .rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.parse::<i32>().unwrap()))
            .unwrap();
        assert_eq!(
            (b.host(), b.port()),
            (host.as_str(), port),
            "advertised address"
        );
        if !broker.is_external() {
            assert_eq!(b.id(), 1, "node id");
        }

        // The topic with its 3 partitions, all led by that broker.
        let t = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .expect("topic in metadata");
        assert!(t.error().is_none(), "topic error {:?}", t.error());
        let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
        ids.sort();
        assert_eq!(ids, vec![0, 1, 2]);
        for p in t.partitions() {
            assert!(
                p.error().is_none(),
                "partition {} error {:?}",
                p.id(),
                p.error()
            );
            assert_eq!(p.leader(), b.id(), "leader of partition {}", p.id());
            assert_eq!(p.replicas(), &[b.id()], "replicas of partition {}", p.id());
            assert_eq!(p.isr(), &[b.id()], "isr of partition {}", p.id());
        }

        // The all-topics form lists it too.
        let all = all_metadata(&c);
        assert!(all.topics().iter().any(|t| t.name() == topic));
    });
}

/// What the Java client sends: a topic listed twice (kafka-clients 3.9) is
/// answered once, and a topic asked by id with the name left at its default
/// `""` (AdminClient `describeTopics(TopicCollection.ofTopicIds(..))`) is
/// looked up by the id, an unknown id answering UNKNOWN_TOPIC_ID with that id.
#[test]
fn metadata_dedupes_topics_and_prefers_the_id_over_an_empty_name() {
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafka_protocol::messages::{ApiKey, MetadataRequest};
    let broker = Broker::start();
    let topic = unique_topic("md-dup");
    let mut raw = RawClient::connect(&broker.bootstrap());
    let v = raw.pick_version(ApiKey::Metadata, 12);
    assert!(v >= 12, "Metadata v{v} cannot ask by topic id");
    // Auto-created by the first request (Kafka may need a moment to elect a leader).
    wait_for("the auto-created topic", OP_TIMEOUT, || {
        let resp = raw.call(&metadata_request(Some(&[&topic]), true), v);
        (resp.topics[0].error_code == 0).then_some(())
    });

    let resp = raw.call(&metadata_request(Some(&[&topic, &topic]), false), v);
    assert_eq!(resp.topics.len(), 1, "a topic asked twice: {resp:?}");

    let id = topic_id(&mut raw, &topic);
    let by_id = |raw: &mut RawClient, id: uuid::Uuid| {
        let mut t = MetadataRequestTopic::default();
        t.topic_id = id;
        t.name = Some(topic_name(""));
        let mut req = MetadataRequest::default();
        req.topics = Some(vec![t]);
        req.allow_auto_topic_creation = false;
        raw.call(&req, v)
    };
    let resp = by_id(&mut raw, id);
    assert_eq!(resp.topics.len(), 1, "{resp:?}");
    let t = &resp.topics[0];
    assert_eq!(t.error_code, 0, "by id: {resp:?}");
    assert_eq!(t.topic_id, id);
    assert_eq!(t.name.as_ref().map(|n| n.as_str()), Some(topic.as_str()));
    assert_eq!(t.partitions.len(), 1);

    let unknown = uuid::Uuid::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_0001);
    let resp = by_id(&mut raw, unknown);
    assert_eq!(resp.topics.len(), 1, "{resp:?}");
    assert_eq!(resp.topics[0].error_code, 100, "UNKNOWN_TOPIC_ID: {resp:?}");
    assert_eq!(
        resp.topics[0].topic_id, unknown,
        "the id asked for: {resp:?}"
    );
}
