//! The embedded broker (`skiff::Broker::builder()`): a Rust test starts Skiff
//! in-process on an ephemeral port, drives it with rdkafka over real TCP, and
//! stops it. This is the example the README shows.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::{consume_exact, payload_str, run, unique_topic};

fn producer(bootstrap: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.timeout.ms", "30000")
        .create()
        .expect("create producer")
}

fn consumer_from_start(bootstrap: &str, topic: &str) -> BaseConsumer {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_topic("embedded-group"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("create consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("partition offset");
    c.assign(&tpl).expect("assign");
    c
}

async fn produce(bootstrap: &str, topic: &str, values: &[String]) {
    let p = producer(bootstrap);
    for v in values {
        p.send(
            FutureRecord::<(), _>::to(topic).payload(v).partition(0),
            Duration::from_secs(30),
        )
        .await
        .expect("produce acknowledged");
    }
}

#[test]
fn embedded_broker_serves_rdkafka_and_removes_its_temp_dir() {
    run(async {
        let broker = skiff::Broker::builder()
            .set("num.partitions", "1")
            .start()
            .await
            .expect("start embedded broker");
        let bootstrap = broker.bootstrap();
        assert!(bootstrap.starts_with("127.0.0.1:"), "{bootstrap}");
        assert_ne!(broker.local_addr().port(), 0);
        assert!(broker.http_addr().is_none(), "HTTP is off when embedded");
        let dir = broker.data_dir().to_path_buf();
        assert!(dir.is_dir());

        // Auto-created on first produce, as a Kafka broker with defaults does.
        let topic = unique_topic("embedded");
        let values: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
        produce(&bootstrap, &topic, &values).await;
        let c = consumer_from_start(&bootstrap, &topic);
        let got =
            tokio::task::spawn_blocking(move || consume_exact(&c, 20, Duration::from_secs(30)))
                .await
                .expect("consumer thread");
        let got: Vec<String> = got.iter().map(payload_str).collect();
        assert_eq!(got, values);
        assert!(
            dir.join(format!("{topic}-0")).is_dir(),
            "data went to the temp dir"
        );

        broker.shutdown().await.expect("clean shutdown");
        assert!(
            !dir.exists(),
            "temp data dir {} removed on shutdown",
            dir.display()
        );
    });
}

#[test]
fn embedded_broker_on_a_data_dir_recovers_it_after_restart() {
    run(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let topic = unique_topic("embedded-restart");
        let values: Vec<String> = (0..10).map(|i| format!("kept-{i}")).collect();

        let first = skiff::Broker::builder()
            .data_dir(dir.path())
            .start()
            .await
            .expect("start first broker");
        produce(&first.bootstrap(), &topic, &values).await;
        let first_port = first.local_addr().port();
        first.shutdown().await.expect("clean shutdown");
        assert!(
            dir.path().join(format!("{topic}-0")).is_dir(),
            "a configured data dir is kept"
        );

        let second = skiff::Broker::builder()
            .data_dir(dir.path())
            .start()
            .await
            .expect("start second broker on the same dir");
        assert_ne!(second.local_addr().port(), 0);
        let bootstrap = second.bootstrap();
        let c = consumer_from_start(&bootstrap, &topic);
        let got =
            tokio::task::spawn_blocking(move || consume_exact(&c, 10, Duration::from_secs(30)))
                .await
                .expect("consumer thread");
        let got: Vec<String> = got.iter().map(payload_str).collect();
        assert_eq!(got, values, "first broker (port {first_port}) wrote them");
        second.shutdown().await.expect("clean shutdown");
    });
}

#[test]
fn embedded_broker_rejects_bad_config_with_an_error() {
    run(async {
        let err = skiff::Broker::builder()
            .set("log.segment.bytes", "not-a-number")
            .start()
            .await
            .expect_err("a bad value is an error, not a panic");
        assert!(
            matches!(err, skiff::LaunchError::Config(_)),
            "unexpected error: {err:?}"
        );
        // The port is really bound: a second broker on it fails to bind.
        let a = skiff::Broker::builder().start().await.expect("start");
        let taken = a.local_addr().to_string();
        let err = skiff::Broker::builder()
            .listener(&taken)
            .start()
            .await
            .expect_err("the port is taken");
        assert!(matches!(err, skiff::LaunchError::Bind { .. }), "{err:?}");
        a.shutdown().await.expect("clean shutdown");
    });
}
