//! Fetch v13+ (topics by id) over raw TCP.

use kafka_protocol::messages::ApiKey;

use crate::harness::*;

#[test]
fn fetch_by_topic_id_returns_records_and_empty_not_null() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("fetch-id");
        create_topic(&broker, &topic, 2).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let id = topic_id(&mut raw, &topic);

        let pv = raw.pick_version(ApiKey::Produce, 9);
        let values: [&[u8]; 5] = [b"r0", b"r1", b"r2", b"r3", b"r4"];
        let (err, base) = produce_result(&raw.call(
            &produce_request(&topic, 0, encode_batch(&values, None), -1),
            pv,
        ));
        assert_eq!((err, base), (0, 0), "produce");

        let (_, max) = raw.api_versions()[&(ApiKey::Fetch as i16)];
        let max = max.min(17);
        assert!(max >= 13, "broker's Fetch max is v{max}");
        for version in 13..=max {
            // Partition 0 from offset 0: the 5 records.
            let req = fetch_request(version, &topic, id, 0, 0, 500);
            let resp = raw.call(&req, version);
            assert_eq!(resp.error_code, 0, "Fetch v{version} top-level error");
            assert_eq!(resp.responses.len(), 1, "Fetch v{version}: {resp:?}");
            let t = &resp.responses[0];
            assert_eq!(t.topic_id, id, "Fetch v{version} answers with the topic id");
            let p = &t.partitions[0];
            assert_eq!(p.partition_index, 0);
            assert_eq!(p.error_code, 0, "Fetch v{version} partition error");
            assert_eq!(p.high_watermark, 5, "Fetch v{version} high watermark");
            assert_eq!(p.log_start_offset, 0);
            let records = decode_records(p.records.as_ref().expect("records present"));
            let got: Vec<(i64, Vec<u8>)> = records
                .iter()
                .map(|r| (r.offset, r.value.as_ref().unwrap().to_vec()))
                .collect();
            let want: Vec<(i64, Vec<u8>)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as i64, v.to_vec()))
                .collect();
            assert_eq!(got, want, "Fetch v{version} records");

            // From the high watermark (no new data, short wait): empty, not null.
            let req = fetch_request(version, &topic, id, 0, 5, 50);
            let resp = raw.call(&req, version);
            let p = &resp.responses[0].partitions[0];
            assert_eq!(p.error_code, 0);
            assert_eq!(
                p.records.as_ref().map(|r| r.len()),
                Some(0),
                "Fetch v{version} at the end: records must be zero-length, not null"
            );

            // An empty partition: also empty records.
            let req = fetch_request(version, &topic, id, 1, 0, 50);
            let resp = raw.call(&req, version);
            let p = &resp.responses[0].partitions[0];
            assert_eq!((p.error_code, p.high_watermark), (0, 0));
            assert_eq!(
                p.records.as_ref().map(|r| r.len()),
                Some(0),
                "Fetch v{version} on an empty partition: zero-length records"
            );
        }

        // An unknown topic id is an error for that topic, not a closed socket.
        let req = fetch_request(13, &topic, uuid::Uuid::from_u128(0x1234), 0, 0, 0);
        let resp = raw.call(&req, 13);
        let code = if resp.error_code != 0 {
            resp.error_code
        } else {
            resp.responses[0].partitions[0].error_code
        };
        assert_eq!(
            code, 100,
            "UNKNOWN_TOPIC_ID for a random topic id: {resp:?}"
        );
    });
}

/// A fetch naming no partition is answered at once, not after `max_wait_ms`
/// (the Java consumer sends one on close to end its fetch session; Kafka
/// answers it immediately).
#[test]
fn fetch_naming_no_partition_is_answered_without_waiting() {
    let broker = Broker::start();
    run(async {
        let mut raw = RawClient::connect(&broker.bootstrap());
        let (_, max) = raw.api_versions()[&(ApiKey::Fetch as i16)];
        let version = max.min(17);
        let mut req = fetch_request(version, "unused", Default::default(), 0, 0, 20_000);
        req.topics.clear();
        let started = std::time::Instant::now();
        let resp = raw.call(&req, version);
        assert_eq!(resp.error_code, 0);
        assert!(resp.responses.is_empty(), "{resp:?}");
        let waited = started.elapsed();
        assert!(
            waited < std::time::Duration::from_secs(10),
            "waited {waited:?} of max_wait_ms 20000"
        );
    });
}
