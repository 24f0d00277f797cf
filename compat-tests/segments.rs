//! Segment rolling: with a small `log.segment.bytes` a partition spans many
//! segment files; reads, ListOffsets and restarts work across them.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::*;

#[test]
fn many_segments_read_list_offsets_and_restart() {
    if skip_if_external("needs --set log.segment.bytes and a restart") {
        return;
    }
    const N: i64 = 4000;
    const VALUE_LEN: usize = 1000;
    let mut broker = Broker::start_with(&[("log.segment.bytes", "1048576")]);
    run(async {
        let topic = unique_topic("segments");
        create_topic(&broker, &topic, 1).await;
        let producer = future_producer(
            &broker,
            &[
                ("linger.ms", "5"),
                ("batch.size", "65536"),
                ("compression.codec", "none"),
            ],
        );
        // An hour ago: explicit, yet recent enough that retention (7 days by
        // default, measured on record timestamps as in Kafka) never deletes it.
        let base_ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64
            - 3_600_000;
        let value = |i: i64| {
            let mut v = format!("{i:08}-").into_bytes();
            v.extend(pseudo_random_bytes(VALUE_LEN, i as u64 + 1));
            v
        };
        let mut futures = Vec::new();
        for i in 0..N {
            let v = value(i);
            futures.push(
                producer
                    .send_result(
                        FutureRecord::<(), _>::to(&topic)
                            .partition(0)
                            .payload(&v)
                            .timestamp(base_ts + i),
                    )
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
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i}: {e}")));
            assert_eq!(d.offset, i as i64);
        }

        // ~4 MB in 1 MiB segments: at least 4 segment files, named by base offset.
        let dir = broker.partition_dir(&topic, 0);
        let mut logs: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".log"))
            .collect();
        logs.sort();
        assert!(logs.len() >= 4, "segments in {}: {logs:?}", dir.display());
        assert_eq!(logs[0], "00000000000000000000.log");
        for name in &logs {
            let stem = name.trim_end_matches(".log");
            assert_eq!(stem.len(), 20, "segment name {name}");
            let base: i64 = stem.parse().expect("numeric segment name");
            assert!((0..N).contains(&base), "segment base offset {base}");
        }

        let check = |broker: &Broker, when: &str| {
            let c = consumer(broker, &[]);
            assert_eq!(
                c.fetch_watermarks(&topic, 0, OP_TIMEOUT)
                    .expect("watermarks"),
                (0, N),
                "watermarks {when}"
            );
            // offsets_for_times lands in the right segment.
            for target in [0, 1234, 2500, N - 1] {
                let mut tpl = TopicPartitionList::new();
                tpl.add_partition_offset(&topic, 0, Offset::Offset(base_ts + target))
                    .unwrap();
                let res = c
                    .offsets_for_times(tpl, OP_TIMEOUT)
                    .expect("offsets_for_times");
                let e = res.find_partition(&topic, 0).unwrap();
                assert_eq!(
                    e.offset(),
                    Offset::Offset(target),
                    "offset for ts +{target} {when}"
                );
            }
            // Reading from the middle of a later segment.
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, 0, Offset::Offset(2999))
                .unwrap();
            c.assign(&tpl).unwrap();
            let got = consume_exact(&c, (N - 2999) as usize, Duration::from_secs(20));
            for (k, m) in got.iter().enumerate() {
                let i = 2999 + k as i64;
                assert_eq!(m.offset(), i, "{when}");
                assert!(
                    m.payload() == Some(value(i).as_slice()),
                    "value at {i} {when}"
                );
            }
            // And everything from the start.
            assign_from_start(&c, &topic, &[0]);
            let all = consume_exact(&c, N as usize, Duration::from_secs(30));
            for (i, m) in all.iter().enumerate() {
                assert_eq!(m.offset(), i as i64, "{when}");
                assert_eq!(
                    &m.payload().unwrap()[..9],
                    format!("{i:08}-").as_bytes(),
                    "{when}"
                );
            }
        };
        check(&broker, "before restart");
        broker.stop();
        broker.restart();
        check(&broker, "after restart");

        let producer = future_producer(&broker, &[]);
        let d = producer
            .send(
                FutureRecord::<(), _>::to(&topic)
                    .partition(0)
                    .payload("next"),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce after restart: {e}")));
        assert_eq!(d.offset, N);
    });
}
