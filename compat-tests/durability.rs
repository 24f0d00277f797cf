//! Durability: every acknowledged (acks=all) message survives a graceful
//! restart and a crash (SIGKILL), exactly once and in order, and producing
//! continues at the next offset.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::message::Message;
use rdkafka::producer::{FutureRecord, Producer, PurgeConfig};

use crate::harness::*;

const FLUSH_EVERY_MESSAGE: (&str, &str) = ("log.flush.interval.messages", "1");

fn value(i: u64) -> String {
    format!("v{i:08}")
}

fn index_of(v: &str) -> u64 {
    v.strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected value {v:?}"))
}

/// Produces one message and returns its offset.
async fn produce_one(broker: &Broker, topic: &str, v: &str) -> i64 {
    let producer = future_producer(broker, &[]);
    producer
        .send(
            FutureRecord::<(), _>::to(topic).partition(0).payload(v),
            Duration::from_secs(10),
        )
        .await
        .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {v} after restart: {e}")))
        .offset
}

#[test]
fn acked_messages_survive_sigterm_restart() {
    if skip_if_external("needs to restart the broker") {
        return;
    }
    let mut broker = Broker::start_with(&[FLUSH_EVERY_MESSAGE]);
    run(async {
        let topic = unique_topic("dur-term");
        create_topic(&broker, &topic, 1).await;
        let producer = future_producer(&broker, &[("acks", "all"), ("linger.ms", "1")]);
        const N: u64 = 500;
        let mut futures = Vec::new();
        for i in 0..N {
            let v = value(i);
            futures.push(
                producer
                    .send_result(FutureRecord::<(), _>::to(&topic).partition(0).payload(&v))
                    .unwrap_or_else(|(e, _)| panic!("enqueue {i}: {e}")),
            );
        }
        let mut acked = 0u64;
        for (i, f) in futures::future::join_all(futures)
            .await
            .into_iter()
            .enumerate()
        {
            let d = f
                .expect("delivery future")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i}: {e}")));
            assert_eq!(d.offset, i as i64);
            acked += 1;
        }
        assert_eq!(acked, N);
        drop(producer);

        broker.stop();
        broker.restart();

        let c = consumer(&broker, &[]);
        let got = consume_partition_to_end(&c, &topic, 0);
        let values: Vec<String> = got.iter().map(payload_str).collect();
        let expect: Vec<String> = (0..N).map(value).collect();
        assert_eq!(values.len(), expect.len(), "message count after restart");
        assert!(values == expect, "messages after restart differ");
        for (i, m) in got.iter().enumerate() {
            assert_eq!(m.offset(), i as i64);
        }

        let off = produce_one(&broker, &topic, "after-restart").await;
        assert_eq!(
            off, N as i64,
            "produce after restart continues at the next offset"
        );

        // And that survives a second graceful restart.
        broker.stop();
        broker.restart();
        let c = consumer(&broker, &[]);
        let got = consume_partition_to_end(&c, &topic, 0);
        assert_eq!(got.len() as u64, N + 1);
        assert_eq!(payload_str(got.last().unwrap()), "after-restart");
    });
}

#[test]
fn acked_messages_survive_sigkill_mid_stream() {
    if skip_if_external("needs to kill the broker") {
        return;
    }
    let mut broker = Broker::start_with(&[FLUSH_EVERY_MESSAGE]);
    run(async {
        let topic = unique_topic("dur-kill");
        create_topic(&broker, &topic, 1).await;
        // No retries: a retried write after the crash could legitimately
        // duplicate an unacknowledged message and blur what this checks.
        let producer = Arc::new(future_producer(
            &broker,
            &[
                ("acks", "all"),
                ("linger.ms", "1"),
                ("message.send.max.retries", "0"),
                ("enable.idempotence", "false"),
                ("message.timeout.ms", "10000"),
            ],
        ));
        let acked = Arc::new(Mutex::new(BTreeSet::<u64>::new()));
        let failed = Arc::new(Mutex::new(Vec::<String>::new()));
        let stop = Arc::new(AtomicBool::new(false));

        let task = {
            let (producer, acked, failed, stop, topic) = (
                producer.clone(),
                acked.clone(),
                failed.clone(),
                stop.clone(),
                topic.clone(),
            );
            tokio::spawn(async move {
                let mut inflight = FuturesUnordered::new();
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) && i < 200_000 {
                    let v = value(i);
                    match producer
                        .send_result(FutureRecord::<(), _>::to(&topic).partition(0).payload(&v))
                    {
                        Ok(f) => inflight.push(async move { (i, f.await) }),
                        Err((e, _)) => {
                            failed.lock().unwrap().push(format!("enqueue {i}: {e}"));
                            break;
                        }
                    }
                    i += 1;
                    while inflight.len() >= 100 {
                        if let Some((j, Ok(Ok(_)))) = inflight.next().await {
                            acked.lock().unwrap().insert(j);
                        }
                    }
                }
                while let Some((j, r)) = inflight.next().await {
                    if let Ok(Ok(_)) = r {
                        acked.lock().unwrap().insert(j);
                    }
                }
            })
        };

        wait_for_async("500 acknowledged messages", Duration::from_secs(30), || {
            (acked.lock().unwrap().len() >= 500).then_some(())
        })
        .await;
        broker.kill();
        stop.store(true, Ordering::SeqCst);
        // Fail whatever is still queued or in flight right away.
        producer.purge(PurgeConfig::default().queue().inflight());
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("producer task finished")
            .expect("producer task");
        drop(producer);
        let failed = failed.lock().unwrap().clone();
        assert!(
            failed.is_empty(),
            "producer errors before the kill: {failed:?}"
        );
        let acked = acked.lock().unwrap().clone();

        let before = broker.bootstrap();
        broker.restart();
        eprintln!(
            "killed with {} acknowledged; restarted on {} (was {before})",
            acked.len(),
            broker.bootstrap()
        );

        let c = consumer(&broker, &[]);
        let got = consume_partition_to_end(&c, &topic, 0);
        let mut prev: Option<u64> = None;
        let mut present = BTreeSet::new();
        for (n, m) in got.iter().enumerate() {
            assert_eq!(
                m.offset(),
                n as i64,
                "offsets contiguous after crash recovery"
            );
            let i = index_of(&payload_str(m));
            if let Some(p) = prev {
                assert!(
                    i > p,
                    "offset {n}: message {i} after {p}: duplicate or reordered"
                );
            }
            prev = Some(i);
            present.insert(i);
        }
        let lost: Vec<u64> = acked.difference(&present).copied().collect();
        assert!(
            lost.is_empty(),
            "{} of {} acknowledged messages lost after SIGKILL, first: {:?}",
            lost.len(),
            acked.len(),
            &lost[..lost.len().min(10)]
        );

        eprintln!("after recovery: {} messages in the log", got.len());
        let off = produce_one(&broker, &topic, "after-crash").await;
        assert_eq!(
            off,
            got.len() as i64,
            "produce after crash continues at the next offset"
        );
    });
}
