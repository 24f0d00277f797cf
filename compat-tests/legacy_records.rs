//! The legacy message formats over real TCP: Produce v0–2 (magic 0/1
//! message sets) and Fetch v0–3 (magic 0/1 answers), which Kafka 4.0
//! removed (KIP-896) and Kafka 3.9 served by converting to and from the v2
//! batches it stores. Raw requests with an encoder and decoder of the
//! legacy format written here, independently of the broker's
//! (`src/record/legacy.rs`); rdkafka on the v2 side.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, FetchResponse, ProduceResponse};
use rdkafka::message::{Header, Message, OwnedHeaders, Timestamp};
use rdkafka::producer::{FutureRecord, Producer};

use crate::harness::*;

const CORRUPT_MESSAGE: i16 = 2;
const UNSUPPORTED_COMPRESSION_TYPE: i16 = 76;

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// One legacy message: offset, size, CRC-32 of magic..end, magic,
/// attributes, (magic 1) timestamp, key, value.
fn message(
    offset: i64,
    magic: u8,
    attributes: u8,
    ts: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Vec<u8> {
    let mut body = vec![magic, attributes];
    if magic == 1 {
        body.extend_from_slice(&ts.to_be_bytes());
    }
    for f in [key, value] {
        match f {
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                body.extend_from_slice(&(b.len() as i32).to_be_bytes());
                body.extend_from_slice(b);
            }
        }
    }
    let mut out = offset.to_be_bytes().to_vec();
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

type Sent<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, i64);

/// A message set as an old producer writes it: plain messages with offsets
/// 0..n, or one gzip wrapper (inner offsets 0..n, the wrapper at n-1).
fn message_set(magic: u8, gzip: bool, msgs: &[Sent<'_>]) -> Bytes {
    let mut plain = Vec::new();
    for (i, (k, v, ts)) in msgs.iter().enumerate() {
        plain.extend(message(i as i64, magic, 0, *ts, *k, *v));
    }
    if !gzip {
        return Bytes::from(plain);
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, &plain).unwrap();
    let value = e.finish().unwrap();
    let max_ts = msgs.iter().map(|m| m.2).max().unwrap_or(-1);
    Bytes::from(message(
        msgs.len() as i64 - 1,
        magic,
        1,
        max_ts,
        None,
        Some(&value),
    ))
}

/// A message as an old consumer sees it (absolute offset).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Got {
    offset: i64,
    magic: u8,
    attributes: u8,
    codec: u8,
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes(b[..4].try_into().unwrap())
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b[..8].try_into().unwrap())
}

/// An lz4 frame read block by block, ignoring the descriptor checksum as
/// Kafka's magic-0 reader does (magic-0 frames carry KAFKA-3160's broken
/// one); for magic 1 the checksum is verified.
fn lz4_frame(data: &[u8], verify_hc: bool) -> Vec<u8> {
    assert_eq!(&data[..4], &[0x04, 0x22, 0x4d, 0x18], "lz4 frame magic");
    let flg = data[4];
    let mut pos = 6 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 1 != 0 { 4 } else { 0 };
    if verify_hc {
        // liblz4 verifies the descriptor checksum.
        let mut d = lz4::Decoder::new(data).expect("lz4 header (magic 1 must be valid)");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut out).expect("lz4 frame (magic 1)");
        return out;
    }
    pos += 1; // HC
    let mut out = Vec::new();
    loop {
        let size = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap());
        pos += 4;
        if size == 0 {
            return out;
        }
        let len = (size & 0x7fff_ffff) as usize;
        let block = &data[pos..pos + len];
        pos += len;
        if size & 0x8000_0000 != 0 {
            out.extend_from_slice(block);
        } else {
            out.extend(lz4::block::decompress(block, Some(64 * 1024)).expect("lz4 block"));
        }
        if flg & 0x10 != 0 {
            pos += 4; // block checksum
        }
    }
}

fn decompress(codec: u8, magic: u8, data: &[u8]) -> Vec<u8> {
    match codec {
        1 => {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(data), &mut out)
                .expect("gzip wrapper");
            out
        }
        2 => {
            // snappy-java's xerial framing (what Kafka's clients write).
            assert_eq!(&data[..8], b"\x82SNAPPY\x00", "xerial snappy header");
            let mut out = Vec::new();
            let mut rest = &data[16..];
            while !rest.is_empty() {
                let n = be_i32(rest) as usize;
                out.extend(
                    snap::raw::Decoder::new()
                        .decompress_vec(&rest[4..4 + n])
                        .expect("snappy block"),
                );
                rest = &rest[4 + n..];
            }
            out
        }
        3 => lz4_frame(data, magic == 1),
        other => panic!("codec {other} in a legacy message"),
    }
}

/// Parses a Fetch v0–3 message set, opening wrappers; every CRC is
/// checked. A trailing partial message is allowed (and ignored).
fn parse_set(buf: &[u8]) -> Vec<Got> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= 12 {
        let size = be_i32(&rest[8..]) as usize;
        if rest.len() < 12 + size {
            break;
        }
        let (offset, body) = (be_i64(rest), &rest[12..12 + size]);
        rest = &rest[12 + size..];
        assert_eq!(be_i32(body) as u32, crc32(&body[4..]), "message CRC-32");
        let (magic, attributes) = (body[4], body[5]);
        assert!(magic <= 1, "magic {magic}");
        let (timestamp, mut pos) = if magic == 1 {
            (be_i64(&body[6..]), 14)
        } else {
            (-1, 6)
        };
        let mut field = || {
            let n = be_i32(&body[pos..]);
            pos += 4;
            (n >= 0).then(|| {
                let v = body[pos..pos + n as usize].to_vec();
                pos += n as usize;
                v
            })
        };
        let key = field();
        let value = field();
        let codec = attributes & 7;
        if codec == 0 {
            out.push(Got {
                offset,
                magic,
                attributes,
                codec: 0,
                timestamp,
                key,
                value,
            });
            continue;
        }
        assert_eq!(key, None, "wrapper key");
        let inner = parse_set(&decompress(codec, magic, &value.expect("wrapper value")));
        let last = inner.last().map_or(0, |m| m.offset);
        for mut m in inner {
            assert_eq!(m.magic, magic, "inner magic");
            if magic == 1 {
                m.offset += offset - last;
            }
            m.codec = codec;
            out.push(m);
        }
    }
    out
}

fn legacy_produce(raw: &mut RawClient, topic: &str, version: i16, set: Bytes) -> ProduceResponse {
    raw.call(&produce_request(topic, 0, set, 1), version)
}

fn legacy_fetch(
    raw: &mut RawClient,
    topic: &str,
    version: i16,
    offset: i64,
    partition_max_bytes: i32,
) -> (i16, Vec<u8>, i64) {
    let mut req = fetch_request(version, topic, uuid::Uuid::nil(), 0, offset, 0);
    req.topics[0].partitions[0].partition_max_bytes = partition_max_bytes;
    if version < 3 {
        req.max_bytes = i32::MAX; // no such field before v3: its default
    }
    let resp: FetchResponse = raw.call(&req, version);
    let p = &resp.responses[0].partitions[0];
    (
        p.error_code,
        p.records.as_ref().map(|r| r.to_vec()).unwrap_or_default(),
        p.high_watermark,
    )
}

fn ensure_topic(raw: &mut RawClient, topic: &str) {
    let v = raw.pick_version(ApiKey::Metadata, 12);
    let resp = raw.call(&metadata_request(Some(&[topic]), true), v);
    assert_eq!(resp.topics[0].error_code, 0, "auto-create {topic}");
}

#[test]
fn produce_v0_v1_v2_are_stored_as_v2_and_read_back_exactly() {
    let broker = Broker::start();
    let topic = unique_topic("legacy-produce");
    let mut raw = RawClient::connect(&broker.bootstrap());
    ensure_topic(&mut raw, &topic);
    let ts = now_ms() - 5_000;
    let msgs: Vec<Sent<'_>> = vec![
        (Some(b"k-a"), Some(b"value a"), ts),
        (None, Some(b"\x00\x01\xff binary"), ts + 7),
        (Some(b"k-c"), None, ts + 3),
    ];
    // (request version, magic it carries, gzip)
    let cases = [
        (0i16, 0u8, false),
        (0, 0, true),
        (1, 0, false),
        (1, 0, true),
        (2, 1, false),
        (2, 1, true),
    ];
    let mut expected = Vec::new();
    for (i, &(version, magic, gzip)) in cases.iter().enumerate() {
        let resp = legacy_produce(&mut raw, &topic, version, message_set(magic, gzip, &msgs));
        let (code, base) = produce_result(&resp);
        assert_eq!(code, 0, "Produce v{version} gzip={gzip}: {resp:?}");
        assert_eq!(base, 3 * i as i64, "Produce v{version} base offset");
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(p.log_append_time_ms, -1, "CreateTime topic");
        for (j, (k, v, t)) in msgs.iter().enumerate() {
            // Magic 0 has no timestamps: stored as -1, like Kafka.
            let t = if magic == 0 { -1 } else { *t };
            expected.push((
                base + j as i64,
                k.map(<[u8]>::to_vec),
                v.map(<[u8]>::to_vec),
                t,
            ));
        }
    }

    // A modern fetch sees v2 batches with the same records.
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let resp: FetchResponse = raw.call(&fetch_request(v, &topic, uuid::Uuid::nil(), 0, 0, 0), v);
    let records = decode_records(resp.responses[0].partitions[0].records.as_ref().unwrap());
    let got: Vec<_> = records
        .iter()
        .map(|r| {
            assert!(r.headers.is_empty());
            (
                r.offset,
                r.key.as_ref().map(|k| k.to_vec()),
                r.value.as_ref().map(|v| v.to_vec()),
                r.timestamp,
            )
        })
        .collect();
    assert_eq!(got, expected);

    // And so does rdkafka.
    let c = consumer(&broker, &[]);
    assign_from_start(&c, &topic, &[0]);
    let msgs = consume_exact(&c, expected.len(), Duration::from_secs(20));
    for (m, (offset, k, v, t)) in msgs.iter().zip(&expected) {
        assert_eq!(m.offset(), *offset);
        assert_eq!(m.key().map(<[u8]>::to_vec), *k);
        assert_eq!(m.payload().map(<[u8]>::to_vec), *v);
        let want = if *t < 0 {
            Timestamp::NotAvailable
        } else {
            Timestamp::CreateTime(*t)
        };
        assert_eq!(m.timestamp(), want, "offset {offset}");
    }
}

#[test]
fn legacy_produce_with_a_bad_crc_is_corrupt_message_and_appends_nothing() {
    let broker = Broker::start();
    let topic = unique_topic("legacy-crc");
    let mut raw = RawClient::connect(&broker.bootstrap());
    ensure_topic(&mut raw, &topic);
    let msgs: Vec<Sent<'_>> = vec![(Some(b"k"), Some(b"some value"), 1_000)];
    for (version, magic) in [(0i16, 0u8), (1, 0), (2, 1)] {
        let mut set = message_set(magic, false, &msgs).to_vec();
        let last = set.len() - 1;
        set[last] ^= 0x20; // a value byte
        let (code, _) = produce_result(&legacy_produce(&mut raw, &topic, version, set.into()));
        assert_eq!(code, CORRUPT_MESSAGE, "Produce v{version}");
        // An inner message of a gzip wrapper with a bad CRC.
        let mut inner = message(0, magic, 0, 1_000, None, Some(b"inner value"));
        let last = inner.len() - 1;
        inner[last] ^= 1;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut e, &inner).unwrap();
        let wrapper = message(0, magic, 1, 1_000, None, Some(&e.finish().unwrap()));
        let (code, _) = produce_result(&legacy_produce(&mut raw, &topic, version, wrapper.into()));
        assert_eq!(code, CORRUPT_MESSAGE, "Produce v{version}, inner message");
    }
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let (code, records, hw) = legacy_fetch(&mut raw, &topic, v, 0, 1 << 20);
    assert_eq!((code, records.len(), hw), (0, 0, 0), "nothing appended");
}

/// What rdkafka produced: (key, value, timestamp), with headers.
fn produce_with_rdkafka(broker: &Broker, topic: &str, codec: &str, n: usize) -> Vec<Sent<'static>> {
    let mut sent = Vec::new();
    run(async {
        let producer =
            future_producer(broker, &[("compression.codec", codec), ("linger.ms", "20")]);
        let ts = now_ms() - 60_000;
        let mut futures = Vec::new();
        for i in 0..n {
            let key: Option<&'static [u8]> = (i % 3 != 1)
                .then(|| &*Box::leak(format!("key-{i}").into_bytes().into_boxed_slice()));
            let value: Option<&'static [u8]> = (i % 5 != 4).then(|| {
                &*Box::leak(
                    format!("value {i} {}", "x".repeat(i * 7))
                        .into_bytes()
                        .into_boxed_slice(),
                )
            });
            let headers = OwnedHeaders::new().insert(Header {
                key: "h",
                value: Some("not representable in magic 0/1"),
            });
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
                .partition(0)
                .timestamp(ts + i as i64)
                .headers(headers);
            if let Some(k) = key {
                rec = rec.key(k);
            }
            if let Some(v) = value {
                rec = rec.payload(v);
            }
            futures.push(
                producer
                    .send_result(rec)
                    .unwrap_or_else(|(e, _)| panic!("enqueue {i}: {e}")),
            );
            sent.push((key, value, ts + i as i64));
        }
        for (i, f) in futures.into_iter().enumerate() {
            let d = f
                .await
                .expect("delivery")
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i}: {e}")));
            assert_eq!(d.offset, i as i64);
        }
        producer.flush(Duration::from_secs(10)).expect("flush");
    });
    sent
}

fn check_legacy(got: &[Got], sent: &[Sent<'_>], from: i64, magic: u8, what: &str) {
    assert_eq!(got.len(), sent.len() - from as usize, "{what}: count");
    for (m, (i, (k, v, ts))) in got.iter().zip(sent.iter().enumerate().skip(from as usize)) {
        assert_eq!(m.offset, i as i64, "{what}: offset");
        assert_eq!(m.magic, magic, "{what}: magic");
        assert_eq!(m.key.as_deref(), *k, "{what}: key of {i}");
        assert_eq!(m.value.as_deref(), *v, "{what}: value of {i}");
        let want_ts = if magic == 0 { -1 } else { *ts };
        assert_eq!(m.timestamp, want_ts, "{what}: timestamp of {i}");
    }
}

fn v2_to_legacy_fetch(codec: &str, codec_id: u8) {
    let broker = Broker::start();
    let topic = unique_topic(&format!("legacy-fetch-{codec}"));
    run(create_topic(&broker, &topic, 1));
    let sent = produce_with_rdkafka(&broker, &topic, codec, 30);
    let mut raw = RawClient::connect(&broker.bootstrap());
    for version in 0..=3i16 {
        let magic = if version <= 1 { 0 } else { 1 };
        for from in [0i64, 13] {
            let (code, set, hw) = legacy_fetch(&mut raw, &topic, version, from, 10 << 20);
            let what = format!("{codec} Fetch v{version} from {from}");
            assert_eq!(code, 0, "{what}");
            assert_eq!(hw, sent.len() as i64, "{what}: high watermark");
            let got = parse_set(&set);
            check_legacy(&got, &sent, from, magic, &what);
            // The stored codec is kept (librdkafka may send a batch that
            // does not shrink uncompressed).
            assert!(
                got.iter().all(|m| m.codec == codec_id || m.codec == 0),
                "{what}: codecs {:?}",
                got.iter().map(|m| m.codec).collect::<Vec<_>>()
            );
            if codec_id != 0 {
                assert!(
                    got.iter().any(|m| m.codec == codec_id),
                    "{what}: recompressed"
                );
            }
        }
    }
}

#[test]
fn rdkafka_batches_read_as_legacy_messages_uncompressed() {
    v2_to_legacy_fetch("none", 0);
}

#[test]
fn rdkafka_batches_read_as_legacy_messages_gzip() {
    v2_to_legacy_fetch("gzip", 1);
}

#[test]
fn rdkafka_batches_read_as_legacy_messages_snappy() {
    v2_to_legacy_fetch("snappy", 2);
}

#[test]
fn rdkafka_batches_read_as_legacy_messages_lz4() {
    v2_to_legacy_fetch("lz4", 3);
}

#[test]
fn legacy_fetch_of_zstd_is_unsupported_compression_type() {
    let broker = Broker::start();
    let topic = unique_topic("legacy-zstd");
    run(create_topic(&broker, &topic, 1));
    produce_with_rdkafka(&broker, &topic, "zstd", 5);
    let mut raw = RawClient::connect(&broker.bootstrap());
    for version in 0..=3 {
        let (code, _, _) = legacy_fetch(&mut raw, &topic, version, 0, 1 << 20);
        assert_eq!(code, UNSUPPORTED_COMPRESSION_TYPE, "Fetch v{version}");
    }
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let (code, records, _) = legacy_fetch(&mut raw, &topic, v, 0, 1 << 20);
    assert_eq!(code, 0);
    assert_eq!(decode_records(&Bytes::from(records)).len(), 5);
}

#[test]
fn legacy_fetch_loop_with_small_limits_reads_every_message_once() {
    // An old consumer's loop: fetch, take the whole messages, continue from
    // the next offset. Limits far below the stored batches' sizes.
    let broker = Broker::start();
    let topic = unique_topic("legacy-limits");
    run(create_topic(&broker, &topic, 1));
    let sent = produce_with_rdkafka(&broker, &topic, "none", 40);
    let mut raw = RawClient::connect(&broker.bootstrap());
    for version in [0i16, 2, 3] {
        let magic = if version <= 1 { 0 } else { 1 };
        let mut got = Vec::new();
        let mut offset = 0;
        let mut fetches = 0;
        while offset < sent.len() as i64 {
            fetches += 1;
            assert!(fetches < 200, "v{version}: no progress at {offset}");
            let (code, set, _) = legacy_fetch(&mut raw, &topic, version, offset, 300);
            assert_eq!(code, 0);
            assert!(
                set.len() <= 300 || parse_set(&set).len() == 1,
                "limit honoured"
            );
            let msgs = parse_set(&set);
            let whole: usize = msgs.len();
            assert!(whole > 0, "v{version}: empty answer at {offset}");
            offset = msgs.last().unwrap().offset + 1;
            got.extend(msgs);
        }
        assert!(fetches > 3, "the limit actually split the reads");
        check_legacy(&got, &sent, 0, magic, &format!("Fetch v{version} loop"));
    }
    // Fetch v3's response-level max_bytes is honoured too.
    let mut req = fetch_request(3, &topic, uuid::Uuid::nil(), 0, 0, 0);
    req.max_bytes = 200;
    let resp: FetchResponse = raw.call(&req, 3);
    let set = resp.responses[0].partitions[0].records.clone().unwrap();
    let msgs = parse_set(&set);
    assert!(!msgs.is_empty() && (set.len() <= 200 || msgs.len() == 1));
}

#[test]
fn legacy_fetch_hides_transaction_markers() {
    let broker = Broker::start();
    let topic = unique_topic("legacy-txn");
    run(async {
        create_topic(&broker, &topic, 1).await;
        let producer: rdkafka::producer::FutureProducer = producer_config(
            &broker,
            &[("transactional.id", &unique_topic("legacy-txn-id"))],
        )
        .create()
        .expect("transactional producer");
        producer
            .init_transactions(Duration::from_secs(20))
            .expect("init");
        for commit in [true, false, true] {
            producer.begin_transaction().expect("begin");
            for i in 0..2 {
                let v = format!("{commit}-{i}");
                producer
                    .send(
                        FutureRecord::<str, str>::to(&topic)
                            .partition(0)
                            .payload(&v),
                        Duration::from_secs(10),
                    )
                    .await
                    .unwrap_or_else(|(e, _)| broker.fail(&format!("send: {e}")));
            }
            if commit {
                producer
                    .commit_transaction(Duration::from_secs(20))
                    .expect("commit");
            } else {
                producer
                    .abort_transaction(Duration::from_secs(20))
                    .expect("abort");
            }
        }
    });
    // Offsets: data 0-1, marker 2, aborted data 3-4, marker 5, data 6-7,
    // marker 8. Fetches below v4 are read_uncommitted, as in Kafka: the
    // aborted records are seen, the markers never.
    let mut raw = RawClient::connect(&broker.bootstrap());
    for version in [1i16, 3] {
        let (code, set, hw) = legacy_fetch(&mut raw, &topic, version, 0, 1 << 20);
        assert_eq!((code, hw), (0, 9));
        let got: Vec<(i64, Vec<u8>)> = parse_set(&set)
            .into_iter()
            .map(|m| (m.offset, m.value.unwrap_or_default()))
            .collect();
        let want: Vec<(i64, Vec<u8>)> = [
            (0, "true-0"),
            (1, "true-1"),
            (3, "false-0"),
            (4, "false-1"),
            (6, "true-0"),
            (7, "true-1"),
        ]
        .iter()
        .map(|(o, v)| (*o, v.as_bytes().to_vec()))
        .collect();
        assert_eq!(got, want, "Fetch v{version}");
        // From the last marker: nothing (and no error).
        let (code, set, _) = legacy_fetch(&mut raw, &topic, version, 8, 1 << 20);
        assert_eq!((code, set.len()), (0, 0));
    }
}

#[test]
fn legacy_produce_to_a_log_append_time_topic() {
    let broker = Broker::start();
    let topic = unique_topic("legacy-lat");
    run(create_topic_with(
        &broker,
        &topic,
        1,
        &[("message.timestamp.type", "LogAppendTime")],
    ));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let before = now_ms();
    let msgs: Vec<Sent<'_>> = vec![(None, Some(b"a"), 5), (None, Some(b"b"), 6)];
    let resp = legacy_produce(&mut raw, &topic, 2, message_set(1, true, &msgs));
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, 0);
    assert!(
        p.log_append_time_ms >= before,
        "v2 reports the LogAppendTime"
    );
    let (code, set, _) = legacy_fetch(&mut raw, &topic, 2, 0, 1 << 20);
    assert_eq!(code, 0);
    let got = parse_set(&set);
    assert_eq!(got.len(), 2);
    for m in &got {
        assert_eq!(m.timestamp, p.log_append_time_ms);
        assert_ne!(m.attributes & 0x08, 0, "LogAppendTime attribute");
    }
}
