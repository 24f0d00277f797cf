//! Idempotent producer: rdkafka with enable.idempotence=true, and raw
//! InitProducerId + duplicate/out-of-order Produce requests.

use std::time::Duration;

use kafka_protocol::messages::{ApiKey, InitProducerIdRequest};
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;

use crate::harness::*;

const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;

#[test]
fn rdkafka_idempotent_producer_exactly_once_in_order() {
    const N: usize = 2000;
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("idem");
        create_topic(&broker, &topic, 2).await;
        let producer = future_producer(
            &broker,
            &[
                ("enable.idempotence", "true"),
                ("linger.ms", "5"),
                ("batch.num.messages", "100"),
                ("max.in.flight.requests.per.connection", "5"),
            ],
        );
        let mut futures = Vec::new();
        for i in 0..N {
            let p = (i % 2) as i32;
            let v = format!("m{i}");
            futures.push(
                producer
                    .send_result(FutureRecord::<(), _>::to(&topic).partition(p).payload(&v))
                    .unwrap_or_else(|(e, _)| panic!("enqueue {i}: {e}")),
            );
        }
        for (i, f) in futures::future::join_all(futures)
            .await
            .into_iter()
            .enumerate()
        {
            let d = f
                .expect("delivery future")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("idempotent produce {i}: {e}")));
            assert_eq!(d.offset, (i / 2) as i64, "offset of message {i}");
        }

        let c = consumer(&broker, &[]);
        assign_from_start(&c, &topic, &[0, 1]);
        let got = consume_exact(&c, N, Duration::from_secs(30));
        let mut next = [0usize; 2];
        for m in &got {
            let p = m.partition() as usize;
            assert_eq!(m.offset(), next[p] as i64, "partition {p} offsets");
            assert_eq!(
                payload_str(m),
                format!("m{}", next[p] * 2 + p),
                "partition {p} order"
            );
            next[p] += 1;
        }
    });
}

#[test]
fn raw_duplicate_batch_is_deduplicated_and_gap_is_rejected() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("idem-raw");
        create_topic(&broker, &topic, 1).await;
        let mut raw = RawClient::connect(&broker.bootstrap());

        let ipv = raw.pick_version(ApiKey::InitProducerId, 4);
        let mut init = InitProducerIdRequest::default();
        init.transactional_id = None;
        init.transaction_timeout_ms = 60_000;
        let resp = raw.call(&init, ipv);
        assert_eq!(resp.error_code, 0, "InitProducerId v{ipv}: {resp:?}");
        let pid = resp.producer_id.0;
        let epoch = resp.producer_epoch;
        assert!(pid >= 0 && epoch >= 0, "producer id/epoch {pid}/{epoch}");

        let pv = raw.pick_version(ApiKey::Produce, 9);
        let batch_a = encode_batch(&[b"a0", b"a1", b"a2"], Some((pid, epoch, 0)));
        let req_a = produce_request(&topic, 0, batch_a, -1);

        let first = produce_result(&raw.call(&req_a, pv));
        assert_eq!(first, (0, 0), "first send of batch A: (error, base offset)");
        // The very same request again (a retry after a lost response).
        let retry = produce_result(&raw.call(&req_a, pv));
        assert_eq!(
            retry,
            (0, 0),
            "retried batch A must return the original base offset"
        );

        // Sequence gap: 3 expected, 10 sent.
        let gap = encode_batch(&[b"gap"], Some((pid, epoch, 10)));
        let (err, _) = produce_result(&raw.call(&produce_request(&topic, 0, gap, -1), pv));
        assert_eq!(
            err, OUT_OF_ORDER_SEQUENCE_NUMBER,
            "batch with a sequence gap"
        );

        // The right next sequence still works and continues the log.
        let batch_b = encode_batch(&[b"b0", b"b1", b"b2"], Some((pid, epoch, 3)));
        let next = produce_result(&raw.call(&produce_request(&topic, 0, batch_b, -1), pv));
        assert_eq!(next, (0, 3), "batch B after A");

        // A duplicate of an older (but recent) batch is recognised too.
        let again = produce_result(&raw.call(&req_a, pv));
        assert_eq!(again, (0, 0), "batch A resent after B");

        let values = raw_fetch_values(&mut raw, &topic, 0, 0);
        let expect: Vec<(i64, Option<String>)> = ["a0", "a1", "a2", "b0", "b1", "b2"]
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, Some(v.to_string())))
            .collect();
        assert_eq!(values, expect, "log contents: each batch exactly once");

        // rdkafka sees the same.
        let c = consumer(&broker, &[]);
        assign_from_start(&c, &topic, &[0]);
        let got = consume_exact(&c, 6, Duration::from_secs(15));
        let got: Vec<String> = got.iter().map(payload_str).collect();
        assert_eq!(got, ["a0", "a1", "a2", "b0", "b1", "b2"]);
    });
}
