//! Produce/consume roundtrip with rdkafka: keys, headers (incl. null values
//! and repeated keys), explicit timestamps, null keys and null values, across
//! 3 partitions.

use std::time::Duration;

use rdkafka::message::{Header, Headers, Message, OwnedHeaders, Timestamp};
use rdkafka::producer::FutureRecord;

use crate::harness::*;

#[derive(Debug, Clone, PartialEq)]
struct Expect {
    partition: i32,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    timestamp: i64,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

#[test]
fn rdkafka_roundtrip_keys_headers_timestamps_nulls() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("rt");
        create_topic(&broker, &topic, 3).await;
        let producer = future_producer(&broker, &[]);

        // An hour ago: explicit, yet recent enough that retention (7 days by
        // default, measured on record timestamps as in Kafka) never deletes it.
        let base_ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64
            - 3_600_000;
        let mut sent = Vec::new();
        for i in 0..60usize {
            let partition = (i % 3) as i32;
            let key = (i % 5 != 0).then(|| format!("key-{i}").into_bytes());
            let value = (i % 7 != 3).then(|| {
                let mut v = format!("value-{i}-").into_bytes();
                v.extend_from_slice(&[0u8, 1, 2, 255, 254]); // not UTF-8
                v
            });
            let mut headers: Vec<(String, Option<Vec<u8>>)> = vec![
                ("trace-id".into(), Some(format!("t-{i}").into_bytes())),
                ("null-header".into(), None),
                ("empty".into(), Some(Vec::new())),
                ("trace-id".into(), Some(b"repeated key".to_vec())),
            ];
            if i % 4 == 0 {
                headers.clear(); // and some messages carry no headers at all
            }
            let e = Expect {
                partition,
                key,
                value,
                timestamp: base_ts + (i as i64) * 1000,
                headers,
            };
            let mut oh = OwnedHeaders::new();
            for (k, v) in &e.headers {
                oh = oh.insert(Header {
                    key: k,
                    value: v.as_deref(),
                });
            }
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&topic)
                .partition(partition)
                .timestamp(e.timestamp);
            if !e.headers.is_empty() {
                rec = rec.headers(oh);
            }
            if let Some(k) = &e.key {
                rec = rec.key(k.as_slice());
            }
            if let Some(v) = &e.value {
                rec = rec.payload(v.as_slice());
            }
            let delivery = producer.send(rec, Duration::from_secs(10)).await;
            let d = delivery.unwrap_or_else(|(err, _)| broker.fail(&format!("produce {i}: {err}")));
            assert_eq!(d.partition, partition);
            assert_eq!(d.offset, (i / 3) as i64, "offset of message {i}");
            sent.push(e);
        }

        let c = consumer(&broker, &[]);
        assign_from_start(&c, &topic, &[0, 1, 2]);
        let got = consume_exact(&c, sent.len(), Duration::from_secs(20));

        for p in 0..3 {
            let want: Vec<&Expect> = sent.iter().filter(|e| e.partition == p).collect();
            let msgs: Vec<_> = got.iter().filter(|m| m.partition() == p).collect();
            assert_eq!(msgs.len(), want.len(), "partition {p} count");
            for (n, (m, e)) in msgs.iter().zip(want).enumerate() {
                assert_eq!(m.offset(), n as i64, "partition {p} offsets contiguous");
                assert_eq!(m.key().map(|k| k.to_vec()), e.key, "p{p}@{n} key");
                assert_eq!(m.payload().map(|v| v.to_vec()), e.value, "p{p}@{n} value");
                assert_eq!(
                    m.timestamp(),
                    Timestamp::CreateTime(e.timestamp),
                    "p{p}@{n} timestamp"
                );
                let headers: Vec<(String, Option<Vec<u8>>)> = match m.headers() {
                    None => Vec::new(),
                    Some(h) => h
                        .iter()
                        .map(|h| (h.key.to_string(), h.value.map(|v| v.to_vec())))
                        .collect(),
                };
                assert_eq!(headers, e.headers, "p{p}@{n} headers");
            }
        }
    });
}
