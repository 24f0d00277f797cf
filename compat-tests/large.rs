//! Size and volume: one 1,000,000-byte message, and 100,000 messages across
//! 4 partitions consumed back in order with contiguous offsets.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;

use crate::harness::*;

#[test]
fn one_megabyte_message_roundtrip() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("big");
        create_topic(&broker, &topic, 1).await;
        // The client's own limit (1,000,000 by default) counts the batch
        // overhead, so raise it; the broker's default is 1,048,588.
        let producer = future_producer(
            &broker,
            &[
                ("message.max.bytes", "2000000"),
                ("compression.codec", "none"),
            ],
        );
        let value = pseudo_random_bytes(1_000_000, 42);
        let small = b"small after big".to_vec();
        let d = producer
            .send(
                FutureRecord::to(&topic)
                    .partition(0)
                    .key("big")
                    .payload(&value),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce 1 MB: {e}")));
        assert_eq!(d.offset, 0);
        let d = producer
            .send(
                FutureRecord::to(&topic)
                    .partition(0)
                    .key("small")
                    .payload(&small),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce after 1 MB: {e}")));
        assert_eq!(d.offset, 1);

        // max.partition.fetch.bytes stays at its 1 MiB default: the broker must
        // still return the first batch whole even though it is larger.
        let c = consumer(&broker, &[("max.partition.fetch.bytes", "1048576")]);
        assign_from_start(&c, &topic, &[0]);
        let got = consume_exact(&c, 2, Duration::from_secs(20));
        assert_eq!(got[0].offset(), 0);
        assert_eq!(got[0].payload().map(|p| p.len()), Some(1_000_000));
        assert!(
            got[0].payload() == Some(value.as_slice()),
            "1 MB value differs"
        );
        assert_eq!(got[1].payload(), Some(small.as_slice()));
    });
}

#[test]
fn hundred_thousand_messages_four_partitions_in_order() {
    const N: usize = 100_000;
    const P: usize = 4;
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("volume");
        create_topic(&broker, &topic, P as i32).await;
        let producer = future_producer(
            &broker,
            &[
                ("linger.ms", "20"),
                ("batch.num.messages", "10000"),
                ("batch.size", "1000000"),
                ("queue.buffering.max.messages", "200000"),
                ("queue.buffering.max.kbytes", "1048576"),
                ("compression.codec", "none"),
            ],
        );
        let mut futures = Vec::with_capacity(N);
        for i in 0..N {
            let p = (i % P) as i32;
            let value = format!("p{p}-seq{:06}", i / P);
            let rec = FutureRecord::<(), _>::to(&topic)
                .partition(p)
                .payload(&value);
            futures.push(
                producer
                    .send_result(rec)
                    .unwrap_or_else(|(e, _)| panic!("enqueue {i}: {e}")),
            );
        }
        let results = futures::future::join_all(futures).await;
        for (i, r) in results.into_iter().enumerate() {
            let d = r
                .expect("delivery future")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i} failed: {e}")));
            assert_eq!(
                d.offset,
                (i / P) as i64,
                "offset of message {i} (partition {})",
                i % P
            );
        }

        let c = consumer(&broker, &[("fetch.max.bytes", "10485760")]);
        assign_from_start(&c, &topic, &[0, 1, 2, 3]);
        let got = consume_exact(&c, N, Duration::from_secs(40));
        let mut next = [0i64; P];
        for m in &got {
            let p = m.partition() as usize;
            assert_eq!(
                m.offset(),
                next[p],
                "partition {p}: offsets must be contiguous"
            );
            let expect = format!("p{p}-seq{:06}", next[p]);
            assert_eq!(payload_str(m), expect, "partition {p} offset {}", next[p]);
            next[p] += 1;
        }
        assert_eq!(next, [(N / P) as i64; P]);

        for p in 0..P as i32 {
            let (low, high) = c
                .fetch_watermarks(&topic, p, OP_TIMEOUT)
                .expect("watermarks");
            assert_eq!(
                (low, high),
                (0, (N / P) as i64),
                "watermarks of partition {p}"
            );
        }
    });
}

#[test]
fn batch_above_message_max_bytes_is_rejected() {
    const MESSAGE_TOO_LARGE: i16 = 10;
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("too-big");
        create_topic(&broker, &topic, 1).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let pv = raw.pick_version(kafka_protocol::messages::ApiKey::Produce, 9);

        // message.max.bytes defaults to 1,048,588: a 1,100,000-byte value is over.
        let big = pseudo_random_bytes(1_100_000, 7);
        let (err, _) = produce_result(&raw.call(
            &produce_request(&topic, 0, encode_batch(&[&big], None), -1),
            pv,
        ));
        assert_eq!(err, MESSAGE_TOO_LARGE, "batch above message.max.bytes");

        // Nothing was appended, and the connection and partition still work.
        let (err, base) = produce_result(&raw.call(
            &produce_request(&topic, 0, encode_batch(&[b"small"], None), -1),
            pv,
        ));
        assert_eq!((err, base), (0, 0), "produce after the rejected batch");
    });
}
