//! Hostile or broken frames close only the offending connection: an rdkafka
//! producer and consumer keep working alongside, and the broker stays up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::harness::*;

/// How long the broker may take to drop a bad connection.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

struct Healthy<'a> {
    broker: &'a Broker,
    topic: String,
    producer: FutureProducer,
    consumer: BaseConsumer,
    next: i64,
}

impl Healthy<'_> {
    /// The other client still works: a produce is acknowledged at the next
    /// offset and the consumer receives it.
    async fn check(&mut self, after: &str) {
        let v = format!("check-{}", self.next);
        let d = self
            .producer
            .send(
                FutureRecord::<(), _>::to(&self.topic)
                    .partition(0)
                    .payload(&v),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| self.broker.fail(&format!("produce after {after}: {e}")));
        assert_eq!(d.offset, self.next, "offset of the produce after {after}");
        let got = consume_exact(&self.consumer, 1, Duration::from_secs(10));
        assert_eq!(payload_str(&got[0]), v, "consumed after {after}");
        self.next += 1;
    }
}

fn expect_closed(broker: &Broker, raw: &mut RawClient, case: &str) {
    let started = std::time::Instant::now();
    if !raw.closed_within(CLOSE_WITHIN) {
        broker.fail(&format!(
            "{case}: connection still open {CLOSE_WITHIN:?} after the bad frame"
        ));
    }
    eprintln!("{case}: closed after {:?}", started.elapsed());
    if !broker.is_alive() {
        broker.fail(&format!("{case}: the broker process died"));
    }
}

#[test]
fn bad_frames_close_only_their_connection() {
    let broker = Broker::start_with(&[("socket.request.max.bytes", "1048576")]);
    run(async {
        let topic = unique_topic("bad-frames");
        create_topic(&broker, &topic, 1).await;
        let addr = broker.bootstrap();

        // Background traffic on a separate producer during the whole test.
        let bg_topic = unique_topic("bad-frames-bg");
        create_topic(&broker, &bg_topic, 1).await;
        let bg_producer = future_producer(&broker, &[]);
        let stop = Arc::new(AtomicBool::new(false));
        let bg_acked = Arc::new(AtomicU64::new(0));
        let bg = {
            let (stop, acked, topic) = (stop.clone(), bg_acked.clone(), bg_topic.clone());
            let producer = bg_producer.clone();
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let v = format!("bg-{i}");
                    match producer
                        .send(
                            FutureRecord::<(), _>::to(&topic).partition(0).payload(&v),
                            Duration::from_secs(10),
                        )
                        .await
                    {
                        Ok(d) => {
                            assert_eq!(d.offset, i as i64, "background produce offset");
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Err((e, _)) => panic!("background produce {i} failed: {e}"),
                    }
                    i += 1;
                }
            })
        };

        let consumer = consumer(&broker, &[]);
        assign_from_start(&consumer, &topic, &[0]);
        let mut healthy = Healthy {
            broker: &broker,
            topic: topic.clone(),
            producer: future_producer(&broker, &[]),
            consumer,
            next: 0,
        };
        healthy.check("start").await;

        // (a) A size prefix of 2^31-1, far above socket.request.max.bytes.
        // Only the 4 size bytes are sent: the broker must not wait for (or
        // allocate) the announced body.
        let mut raw = RawClient::connect(&addr);
        raw.send_bytes(&i32::MAX.to_be_bytes()).unwrap();
        expect_closed(&broker, &mut raw, "size 2^31-1");
        healthy.check("size 2^31-1").await;

        // Just above the configured limit, with the body actually sent.
        if !broker.is_external() {
            let mut raw = RawClient::connect(&addr);
            let size = 1_048_576 + 1024;
            let mut bytes = (size as i32).to_be_bytes().to_vec();
            bytes.extend(std::iter::repeat_n(0u8, size));
            let _ = raw.send_bytes(&bytes); // may fail midway once the broker closes
            expect_closed(&broker, &mut raw, "size above socket.request.max.bytes");
            healthy.check("size above socket.request.max.bytes").await;
        }

        // (b) Negative sizes.
        for size in [-1i32, i32::MIN] {
            let mut raw = RawClient::connect(&addr);
            raw.send_bytes(&size.to_be_bytes()).unwrap();
            raw.send_bytes(&[0u8; 16]).ok();
            expect_closed(&broker, &mut raw, &format!("size {size}"));
            healthy.check(&format!("size {size}")).await;
        }

        // (c) A well-sized frame of garbage: unknown api key 9999.
        let mut raw = RawClient::connect(&addr);
        let mut body = Vec::new();
        body.extend_from_slice(&9999i16.to_be_bytes()); // api key
        body.extend_from_slice(&0i16.to_be_bytes()); // api version
        body.extend_from_slice(&7i32.to_be_bytes()); // correlation id
        body.extend_from_slice(&(-1i16).to_be_bytes()); // null client id
        body.extend_from_slice(b"\xde\xad\xbe\xef garbage \x00\xff\x7f");
        raw.send_bytes(&frame(&body)).unwrap();
        expect_closed(&broker, &mut raw, "unknown api key 9999");
        healthy.check("unknown api key 9999").await;

        // (d) Malformed Metadata bodies in well-sized frames.
        // v12 (flexible): topics compact array claims 4 entries, then ends.
        let mut raw = RawClient::connect(&addr);
        let mut body = Vec::new();
        body.extend_from_slice(&3i16.to_be_bytes()); // Metadata
        body.extend_from_slice(&12i16.to_be_bytes());
        body.extend_from_slice(&9i32.to_be_bytes());
        body.extend_from_slice(&(-1i16).to_be_bytes()); // client id (nullable string)
        body.push(0); // header tagged fields
        body.push(5); // compact array length 4
        body.push(0x10); // a topic id cut short
        raw.send_bytes(&frame(&body)).unwrap();
        expect_closed(&broker, &mut raw, "truncated Metadata v12 body");
        healthy.check("truncated Metadata v12 body").await;

        // v1 (classic): topics array claims 1,000,000 entries, then ends.
        let mut raw = RawClient::connect(&addr);
        let mut body = Vec::new();
        body.extend_from_slice(&3i16.to_be_bytes());
        body.extend_from_slice(&1i16.to_be_bytes());
        body.extend_from_slice(&10i32.to_be_bytes());
        body.extend_from_slice(&3i16.to_be_bytes());
        body.extend_from_slice(b"raw");
        body.extend_from_slice(&1_000_000i32.to_be_bytes());
        body.extend_from_slice(&5i16.to_be_bytes());
        body.extend_from_slice(b"ab"); // string of length 5 cut short
        raw.send_bytes(&frame(&body)).unwrap();
        expect_closed(&broker, &mut raw, "truncated Metadata v1 body");
        healthy.check("truncated Metadata v1 body").await;

        // A good request on a fresh raw connection still works.
        let mut raw = RawClient::connect(&addr);
        let versions = raw.api_versions();
        assert!(
            versions.contains_key(&18),
            "ApiVersions after the bad frames"
        );

        stop.store(true, Ordering::SeqCst);
        bg.await.expect("background producer");
        assert!(
            bg_acked.load(Ordering::SeqCst) > 0,
            "background producer made progress"
        );
        if !broker.is_alive() {
            broker.fail("broker died");
        }
    });
}
