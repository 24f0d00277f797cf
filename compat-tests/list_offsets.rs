//! ListOffsets through rdkafka: watermarks and offsets_for_times.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::producer::FutureRecord;
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::*;

#[test]
fn watermarks_and_offsets_for_times() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("lo");
        create_topic(&broker, &topic, 1).await;
        let c = consumer(&broker, &[]);

        // Empty partition: low == high == 0.
        let wm = c
            .fetch_watermarks(&topic, 0, OP_TIMEOUT)
            .expect("watermarks");
        assert_eq!(wm, (0, 0), "watermarks of an empty partition");

        // 20 messages, timestamps base, base+1000, ..., each in its own batch
        // (awaited one by one) so the lookup has to cross batches.
        let producer = future_producer(&broker, &[]);
        let base = 1_600_000_000_000i64;
        for i in 0..20i64 {
            let v = format!("v{i}");
            let d = producer
                .send(
                    FutureRecord::<(), _>::to(&topic)
                        .partition(0)
                        .payload(&v)
                        .timestamp(base + i * 1000),
                    Duration::from_secs(10),
                )
                .await
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i}: {e}")));
            assert_eq!(d.offset, i);
        }

        let wm = c
            .fetch_watermarks(&topic, 0, OP_TIMEOUT)
            .expect("watermarks");
        assert_eq!(wm, (0, 20), "low/high watermarks after 20 messages");

        let lookup = |ts: i64| -> Offset {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, 0, Offset::Offset(ts))
                .unwrap();
            let res = c
                .offsets_for_times(tpl, OP_TIMEOUT)
                .expect("offsets_for_times");
            let e = res.find_partition(&topic, 0).expect("partition in result");
            assert!(
                e.error().is_ok(),
                "offsets_for_times({ts}) error: {:?}",
                e.error()
            );
            e.offset()
        };
        // Exact timestamps map to their offsets.
        assert_eq!(lookup(base + 7000), Offset::Offset(7), "ts of offset 7");
        assert_eq!(lookup(base), Offset::Offset(0), "first ts");
        assert_eq!(lookup(base + 19_000), Offset::Offset(19), "last ts");
        // Between two timestamps: the first offset whose timestamp is >= target.
        assert_eq!(
            lookup(base + 12_500),
            Offset::Offset(13),
            "between 12 and 13"
        );
        // Before everything: offset 0.
        assert_eq!(lookup(base - 1_000_000), Offset::Offset(0), "before first");
        // After the last: no such offset (-1, which rdkafka calls End).
        assert_eq!(lookup(base + 20_000), Offset::End, "after last");
    });
}
