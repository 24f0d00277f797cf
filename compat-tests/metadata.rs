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
