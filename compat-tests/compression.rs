//! Every compression codec: rdkafka produces compressed batches, the broker
//! stores them verbatim, rdkafka consumes them back byte-exact. A raw Fetch
//! checks that the stored batches still carry the producer's codec.

use std::time::Duration;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder};
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;

use crate::harness::*;

fn codec_roundtrip(codec: &str, expected: Compression) {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic(&format!("codec-{codec}"));
        create_topic(&broker, &topic, 1).await;
        let producer = future_producer(
            &broker,
            &[
                ("compression.codec", codec),
                ("linger.ms", "50"),
                ("batch.num.messages", "1000"),
            ],
        );

        // Mixed payloads: highly compressible, random, empty, and binary.
        let values: Vec<Vec<u8>> = (0..200u64)
            .map(|i| match i % 4 {
                0 => format!("compressible {i} ").repeat(50).into_bytes(),
                1 => pseudo_random_bytes(300 + i as usize, i + 1),
                2 => Vec::new(),
                _ => (0..=255u8).cycle().take(1000 + i as usize).collect(),
            })
            .collect();
        let mut futures = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let key = format!("k{i}");
            let rec = FutureRecord::to(&topic).partition(0).key(&key).payload(v);
            futures.push(
                producer
                    .send_result(rec)
                    .unwrap_or_else(|(e, _)| panic!("enqueue {i}: {e}")),
            );
        }
        for (i, f) in futures.into_iter().enumerate() {
            let d = f
                .await
                .expect("delivery future")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("{codec}: produce {i} failed: {e}")));
            assert_eq!(d.offset, i as i64, "{codec}: offset of message {i}");
        }

        let c = consumer(&broker, &[]);
        assign_from_start(&c, &topic, &[0]);
        let got = consume_exact(&c, values.len(), Duration::from_secs(20));
        for (i, (m, v)) in got.iter().zip(&values).enumerate() {
            assert_eq!(m.offset(), i as i64, "{codec}: offset");
            assert_eq!(
                m.key(),
                Some(format!("k{i}").as_bytes()),
                "{codec}: key {i}"
            );
            // An empty payload may come back as empty or absent depending on
            // the client; anything else must match byte for byte.
            assert_eq!(
                m.payload().unwrap_or(&[]),
                v.as_slice(),
                "{codec}: value {i}"
            );
        }

        // The stored batches keep the producer's codec (no recompression).
        let mut raw = RawClient::connect(&broker.bootstrap());
        let fetch_version = raw.pick_version(ApiKey::Fetch, 12);
        let mut req = FetchRequest::default();
        req.replica_id = (-1).into();
        req.max_wait_ms = 0;
        req.min_bytes = 1;
        req.max_bytes = 50 * 1024 * 1024;
        let mut fp = FetchPartition::default();
        fp.partition = 0;
        fp.fetch_offset = 0;
        fp.partition_max_bytes = 50 * 1024 * 1024;
        fp.log_start_offset = -1;
        let mut ft = FetchTopic::default();
        ft.topic = TopicName(StrBytes::from_string(topic.clone()));
        ft.partitions = vec![fp];
        req.topics = vec![ft];
        let resp = raw.call(&req, fetch_version);
        let pd = &resp.responses[0].partitions[0];
        assert_eq!(pd.error_code, 0, "{codec}: fetch error");
        let mut records = pd.records.clone().expect("records");
        let infos = RecordBatchDecoder::decode_batch_info(&mut records).expect("batch headers");
        assert!(!infos.is_empty(), "{codec}: no batches fetched");
        // librdkafka sends a batch uncompressed when compressing would not
        // shrink it (a lone random payload, when load splits the batches),
        // so an uncompressed batch is the producer's choice too; any other
        // codec, or no batch at all with the producer's codec, would be the
        // broker's doing.
        for info in &infos {
            assert!(
                info.compression == expected || info.compression == Compression::None,
                "{codec}: stored batch codec (the producer's codec is kept as sent; \
                 note librdkafka only compresses with LZ4 when the broker advertises \
                 FindCoordinator, its marker for LZ4 support); batches: {infos:?}"
            );
        }
        assert!(
            infos.iter().any(|i| i.compression == expected),
            "{codec}: no stored batch carries the producer's codec; batches: {infos:?}"
        );
    });
}

#[test]
fn codec_none() {
    codec_roundtrip("none", Compression::None);
}

#[test]
fn codec_gzip() {
    codec_roundtrip("gzip", Compression::Gzip);
}

#[test]
fn codec_snappy() {
    codec_roundtrip("snappy", Compression::Snappy);
}

#[test]
fn codec_lz4() {
    codec_roundtrip("lz4", Compression::Lz4);
}

#[test]
fn codec_zstd() {
    codec_roundtrip("zstd", Compression::Zstd);
}
