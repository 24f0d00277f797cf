//! Unit tests of the legacy (magic 0/1) conversions in `legacy.rs`.

use super::*;
use crate::record::batch::{set_max_timestamp_log_append, validate_batch};
use crate::record::{BatchHeader, ATTR_CONTROL, ATTR_TRANSACTIONAL, CRC_START};

const LEGACY_CODECS: [Compression; 4] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
];

type Msg<'a> = PlainMessage<'a>;

fn sample() -> Vec<Msg<'static>> {
    vec![
        (0, 1_000, Some(b"k0"), Some(b"v0")),
        (1, 1_005, None, Some(b"value one")),
        (2, 1_003, Some(b"k2"), None),
        (3, 1_010, Some(b""), Some(b"")),
    ]
}

fn decode_v2(batch: &[u8]) -> (BatchHeader, Vec<NewRecord>) {
    let d = DecodedBatch::new(batch, 1 << 20).unwrap();
    let recs = d
        .records()
        .map(|r| {
            let r = r.unwrap();
            NewRecord {
                timestamp: r.timestamp,
                key: r.key.map(<[u8]>::to_vec),
                value: r.value.map(<[u8]>::to_vec),
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
                    .collect(),
            }
        })
        .collect();
    (*d.header(), recs)
}

#[test]
fn known_vectors() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(xxh32(b"", 0), 0x02cc_5d05);
    assert_eq!(xxh32(b"a", 0), 0x550d_7456);
    assert_eq!(xxh32(b"abc", 0), 0x32d1_53ff);
    assert_eq!(
        xxh32(b"Nobody inspects the spammish repetition", 0),
        0xe229_3b2f
    );
    // liblz4 (through the lz4 crate) writes a correct HC: recomputing
    // it must not change the frame.
    let frame = Compression::Lz4.compress(b"hello hello hello").unwrap();
    let mut again = frame.clone();
    set_lz4_header_checksum(&mut again, false);
    assert_eq!(frame, again);
    // A message written by Kafka's Java producer (magic 1, no key,
    // value "hi", timestamp 1): CRC-32 over magic..value.
    let mut m = Vec::new();
    write_message(&mut m, 0, MAGIC_V1, 0, 1, None, Some(b"hi"));
    assert_eq!(m.len(), 12 + 24);
    assert_eq!(
        u32::from_be_bytes(m[12..16].try_into().unwrap()),
        crc32(&m[16..])
    );
}

#[test]
fn up_convert_every_codec_and_magic() {
    for magic in [MAGIC_V0, MAGIC_V1] {
        for codec in LEGACY_CODECS {
            let set = encode_message_set(magic, codec, &sample()).unwrap();
            assert_eq!(first_magic(&set), Some(magic));
            let batch = up_convert(&set, 1 << 20).unwrap().unwrap();
            let h = validate_batch(&batch).unwrap();
            assert_eq!(h.compression(), codec.id(), "{magic} {}", codec.name());
            assert_eq!(
                (h.base_offset, h.record_count, h.last_offset_delta),
                (0, 4, 3)
            );
            assert_eq!(h.producer_id, -1);
            assert!(!h.is_transactional() && !h.timestamp_type_is_log_append());
            let (h, recs) = decode_v2(&batch);
            for (r, (_, ts, k, v)) in recs.iter().zip(sample()) {
                let want_ts = if magic == MAGIC_V0 { -1 } else { ts };
                assert_eq!(r.timestamp, want_ts);
                assert_eq!(r.key.as_deref(), k);
                assert_eq!(r.value.as_deref(), v);
                assert!(r.headers.is_empty());
            }
            let want_max = if magic == MAGIC_V0 { -1 } else { 1_010 };
            assert_eq!(h.max_timestamp, want_max);
        }
    }
}

#[test]
fn up_convert_renumbers_offsets_and_takes_wrapper_log_append_time() {
    // Producers write garbage offsets (old librdkafka: all 0, some
    // clients absolute): Kafka reassigns them all.
    let msgs: Vec<Msg<'_>> = vec![(7, 5, None, Some(b"a")), (7, 6, None, Some(b"b"))];
    let set = encode_message_set(MAGIC_V1, Compression::None, &msgs).unwrap();
    let (h, _) = decode_v2(&up_convert(&set, 1 << 20).unwrap().unwrap());
    assert_eq!((h.base_offset, h.last_offset_delta), (0, 1));

    // A magic-1 wrapper with LogAppendTime: inner records take its
    // timestamp.
    let mut set = encode_message_set(MAGIC_V1, Compression::Gzip, &msgs).unwrap();
    set[17] |= LOG_APPEND_TIME;
    set[18..26].copy_from_slice(&99i64.to_be_bytes());
    let crc = crc32(&set[16..]);
    set[12..16].copy_from_slice(&crc.to_be_bytes());
    let (_, recs) = decode_v2(&up_convert(&set, 1 << 20).unwrap().unwrap());
    assert!(recs.iter().all(|r| r.timestamp == 99));
}

#[test]
fn up_convert_rejections() {
    let set = encode_message_set(MAGIC_V0, Compression::None, &sample()).unwrap();
    // CRC: every body byte flipped in turn is caught (the CRC covers
    // magic..end; flipping the CRC itself too).
    for i in 12..30 {
        let mut bad = set.clone();
        bad[i] ^= 0x40;
        match up_convert(&bad, 1 << 20) {
            Err(RecordError::LegacyCrc { .. })
            | Err(RecordError::CorruptMessage(_))
            | Err(RecordError::InvalidRecord(_)) => {}
            other => panic!("byte {i}: {other:?}"),
        }
    }
    let mut bad = set.clone();
    bad[28] ^= 1; // the first message's value (its body is bytes 12..30)
    assert!(matches!(
        up_convert(&bad, 1 << 20),
        Err(RecordError::LegacyCrc { .. })
    ));
    // Inner CRC of a compressed set.
    let inner = encode_message_set(MAGIC_V1, Compression::None, &sample()).unwrap();
    let mut broken = inner.clone();
    broken[30] ^= 1; // the first inner message (bytes 0..38)
    let value = Compression::Gzip.compress(&broken).unwrap();
    let mut wrapper = Vec::new();
    write_message(&mut wrapper, 3, MAGIC_V1, 1, 0, None, Some(&value));
    assert!(matches!(
        up_convert(&wrapper, 1 << 20),
        Err(RecordError::LegacyCrc { .. })
    ));
    // Mixed magics.
    let mut mixed = encode_message_set(MAGIC_V0, Compression::None, &sample()[..1]).unwrap();
    mixed.extend(encode_message_set(MAGIC_V1, Compression::None, &sample()[..1]).unwrap());
    assert!(matches!(
        up_convert(&mixed, 1 << 20),
        Err(RecordError::InvalidRecord(_))
    ));
    // Two wrappers, or a wrapper beside a plain message.
    let mut two = encode_message_set(MAGIC_V1, Compression::Gzip, &sample()).unwrap();
    two.extend(encode_message_set(MAGIC_V1, Compression::None, &sample()[..1]).unwrap());
    assert!(matches!(
        up_convert(&two, 1 << 20),
        Err(RecordError::InvalidRecord(_))
    ));
    // Nested compression.
    let nested_inner = encode_message_set(MAGIC_V1, Compression::Gzip, &sample()).unwrap();
    let value = Compression::Gzip.compress(&nested_inner).unwrap();
    let mut nested = Vec::new();
    write_message(&mut nested, 0, MAGIC_V1, 1, 0, None, Some(&value));
    assert!(matches!(
        up_convert(&nested, 1 << 20),
        Err(RecordError::InvalidRecord(_))
    ));
    // zstd and codec 7 in a legacy wrapper.
    for id in [4u8, 7] {
        let mut w = Vec::new();
        write_message(&mut w, 0, MAGIC_V1, id, 0, None, Some(b"x"));
        assert!(up_convert(&w, 1 << 20).is_err());
    }
    // Decompression bomb bounded.
    let big: Vec<Msg<'_>> = vec![(0, 0, None, Some(&[0u8; 100_000][..]))];
    let w = encode_message_set(MAGIC_V1, Compression::Gzip, &big).unwrap();
    assert!(matches!(
        up_convert(&w, 50_000),
        Err(RecordError::DecompressedTooLarge { .. })
    ));
    // Size below the minimum.
    let mut tiny = set.clone();
    tiny[8..12].copy_from_slice(&5i32.to_be_bytes());
    assert!(matches!(
        up_convert(&tiny, 1 << 20),
        Err(RecordError::CorruptMessage(_))
    ));
    // A trailing partial message is ignored; nothing whole: None.
    let (_, recs) = decode_v2(&up_convert(&set[..set.len() - 3], 1 << 20).unwrap().unwrap());
    assert_eq!(recs.len(), 3);
    assert_eq!(up_convert(&set[..20], 1 << 20).unwrap(), None);
    assert_eq!(up_convert(&[], 1 << 20).unwrap(), None);
}

#[test]
fn magic0_lz4_uses_kafkas_broken_header_checksum() {
    let set = encode_message_set(MAGIC_V0, Compression::Lz4, &sample()).unwrap();
    let m = parse_message(split_messages(&set).unwrap()[0]).unwrap();
    let value = m.value.unwrap();
    // FLG, BD, HC: HC over magic+FLG+BD, not over FLG+BD.
    assert_eq!(value[6], (xxh32(&value[..6], 0) >> 8) as u8);
    assert_ne!(value[6], (xxh32(&value[4..6], 0) >> 8) as u8);
    // The lz4 codec itself rejects it; the legacy reader repairs it.
    assert!(Compression::Lz4.decompress(value, 1 << 20).is_err());
    assert_eq!(read_message_set(&set, 1 << 20).unwrap().len(), 4);
    // Magic 1 has the correct checksum.
    let set = encode_message_set(MAGIC_V1, Compression::Lz4, &sample()).unwrap();
    let m = parse_message(split_messages(&set).unwrap()[0]).unwrap();
    assert!(Compression::Lz4
        .decompress(m.value.unwrap(), 1 << 20)
        .is_ok());
    // A magic-0 lz4 wrapper with a *correct* checksum (librdkafka's
    // repaired frames) is read too.
    let inner = encode_message_set(MAGIC_V0, Compression::None, &sample()).unwrap();
    let value = Compression::Lz4.compress(&inner).unwrap();
    let mut w = Vec::new();
    write_message(&mut w, 3, MAGIC_V0, 3, -1, None, Some(&value));
    assert!(up_convert(&w, 1 << 20).unwrap().is_some());
}

fn stored(records: &[NewRecord], codec: Compression, base: i64) -> Vec<u8> {
    let b = BatchBuilder::new(base, records.first().map_or(0, |r| r.timestamp));
    if codec == Compression::None {
        b.build(records)
    } else {
        b.build_compressed(records, codec).unwrap()
    }
}

fn v2_records() -> Vec<NewRecord> {
    (0..5)
        .map(|i| NewRecord {
            timestamp: 2_000 + i,
            key: (i != 1).then(|| format!("key-{i}").into_bytes()),
            value: (i != 3).then(|| format!("value-{i}").into_bytes()),
            headers: vec![(b"h".to_vec(), Some(b"dropped".to_vec()))],
        })
        .collect()
}

#[test]
fn down_convert_every_codec_to_both_magics_and_back() {
    for magic in [MAGIC_V0, MAGIC_V1] {
        for codec in LEGACY_CODECS {
            // Two stored batches, offsets 10..15 and 15..20.
            let mut log = stored(&v2_records(), codec, 10);
            log.extend(stored(&v2_records(), codec, 15));
            let out = down_convert(&log, magic, 10, usize::MAX, true, 1 << 20).unwrap();
            assert_eq!(out.records, 10);
            let msgs = read_message_set(&out.bytes, 1 << 20).unwrap();
            assert_eq!(msgs.len(), 10, "{magic} {}", codec.name());
            for (i, m) in msgs.iter().enumerate() {
                let j = (i % 5) as i64;
                assert_eq!(m.offset, 10 + i as i64);
                assert_eq!(m.magic, magic);
                assert_eq!(m.wrapper_codec, codec.id());
                let ts = if magic == MAGIC_V0 { -1 } else { 2_000 + j };
                assert_eq!(m.timestamp, ts);
                let rec = &v2_records()[j as usize];
                assert_eq!(m.key, rec.key);
                assert_eq!(m.value, rec.value);
            }
            // Compressed: one wrapper per batch; plain: one per record.
            let shallow = split_messages(&out.bytes).unwrap().len();
            assert_eq!(shallow, if codec == Compression::None { 10 } else { 2 });
            // And up again: the same keys, values (and v1 timestamps).
            // (The first stored batch's worth: as an old producer would
            // send it back.)
            let half: usize = split_messages(&out.bytes).unwrap()[..shallow / 2]
                .iter()
                .map(|e| e.len())
                .sum();
            let up = up_convert(&out.bytes[..half], 1 << 20).unwrap().unwrap();
            let (_, recs) = decode_v2(&up);
            assert_eq!(recs.len(), 5);
            for (r, want) in recs.iter().zip(v2_records()) {
                assert_eq!((&r.key, &r.value), (&want.key, &want.value));
                if magic == MAGIC_V1 {
                    assert_eq!(r.timestamp, want.timestamp);
                }
            }
        }
    }
}

#[test]
fn down_convert_skips_records_below_the_fetch_offset_and_control_batches() {
    for codec in LEGACY_CODECS {
        let mut log = stored(&v2_records(), codec, 0);
        // A transaction marker (control batch) at offset 5.
        let mut marker = BatchBuilder::new(5, 0).producer(9, 0, -1);
        marker.attributes = ATTR_CONTROL | ATTR_TRANSACTIONAL;
        log.extend(marker.build(&[NewRecord::new(0, b"\0\0\0\0".to_vec())]));
        log.extend(stored(&v2_records(), codec, 6));
        let out = down_convert(&log, MAGIC_V1, 3, usize::MAX, true, 1 << 20).unwrap();
        let offsets: Vec<i64> = read_message_set(&out.bytes, 1 << 20)
            .unwrap()
            .iter()
            .map(|m| m.offset)
            .collect();
        assert_eq!(offsets, vec![3, 4, 6, 7, 8, 9, 10], "{}", codec.name());
        // Past the data: nothing.
        let out = down_convert(&log, MAGIC_V0, 11, usize::MAX, true, 1 << 20).unwrap();
        assert!(out.bytes.is_empty());
    }
}

#[test]
fn down_convert_log_append_time() {
    let mut b = stored(&v2_records(), Compression::None, 0);
    set_max_timestamp_log_append(&mut b, 77_777).unwrap();
    let msgs = read_message_set(
        &down_convert(&b, MAGIC_V1, 0, usize::MAX, true, 1 << 20)
            .unwrap()
            .bytes,
        1 << 20,
    )
    .unwrap();
    assert!(msgs
        .iter()
        .all(|m| m.timestamp == 77_777 && m.attributes & LOG_APPEND_TIME != 0));
    // Magic 0 has no timestamps at all.
    let msgs = read_message_set(
        &down_convert(&b, MAGIC_V0, 0, usize::MAX, true, 1 << 20)
            .unwrap()
            .bytes,
        1 << 20,
    )
    .unwrap();
    assert!(msgs.iter().all(|m| m.timestamp == -1 && m.attributes == 0));
}

#[test]
fn down_convert_respects_max_bytes_with_whole_messages() {
    let log = stored(&v2_records(), Compression::None, 0);
    let all = down_convert(&log, MAGIC_V1, 0, usize::MAX, true, 1 << 20).unwrap();
    let one = split_messages(&all.bytes).unwrap()[0].len();
    // Room for two and a half messages: two whole ones.
    let out = down_convert(&log, MAGIC_V1, 0, one * 5 / 2, false, 1 << 20).unwrap();
    assert_eq!(out.records, 2);
    assert_eq!(read_message_set(&out.bytes, 1 << 20).unwrap().len(), 2);
    // Too small for one: nothing, unless min_one.
    let out = down_convert(&log, MAGIC_V1, 0, 3, false, 1 << 20).unwrap();
    assert!(out.bytes.is_empty());
    let out = down_convert(&log, MAGIC_V1, 0, 3, true, 1 << 20).unwrap();
    assert_eq!(out.records, 1);
    // A compressed batch is one wrapper: whole or not at all.
    let mut log = stored(&v2_records(), Compression::Gzip, 0);
    log.extend(stored(&v2_records(), Compression::Gzip, 5));
    let all = down_convert(&log, MAGIC_V0, 0, usize::MAX, true, 1 << 20).unwrap();
    let first = split_messages(&all.bytes).unwrap()[0].len();
    let out = down_convert(&log, MAGIC_V0, 0, first + 10, false, 1 << 20).unwrap();
    assert_eq!(out.records, 5);
}

#[test]
fn down_convert_zstd_is_unsupported() {
    let z = stored(&v2_records(), Compression::Zstd, 0);
    assert!(matches!(
        down_convert(&z, MAGIC_V1, 0, usize::MAX, true, 1 << 20),
        Err(RecordError::UnsupportedCompression { .. })
    ));
    // After convertible data: stops before it.
    let mut log = stored(&v2_records(), Compression::None, 0);
    log.extend(stored(&v2_records(), Compression::Zstd, 5));
    let out = down_convert(&log, MAGIC_V1, 0, usize::MAX, true, 1 << 20).unwrap();
    assert_eq!(out.records, 5);
}

#[test]
fn garbage_never_panics() {
    let mut seeds = Vec::new();
    for magic in [MAGIC_V0, MAGIC_V1] {
        for codec in LEGACY_CODECS {
            seeds.push(encode_message_set(magic, codec, &sample()).unwrap());
        }
    }
    for seed in &seeds {
        for i in 0..seed.len() {
            for x in [0x00u8, 0x01, 0x7f, 0x80, 0xff] {
                let mut c = seed.clone();
                c[i] = x;
                // Fix the outer CRC so the decoder reaches the body.
                if c.len() >= 16 {
                    if let Some(size) = read_i32(&c, 8) {
                        let end = (12 + size.max(0) as usize).min(c.len());
                        if end > 16 {
                            let crc = crc32(&c[16..end]);
                            c[12..16].copy_from_slice(&crc.to_be_bytes());
                        }
                    }
                }
                let _ = up_convert(&c, 1 << 16);
                let _ = read_message_set(&c, 1 << 16);
            }
        }
    }
    // v2 garbage into the down-converter (CRC fixed so records parse).
    let b = stored(&v2_records(), Compression::None, 0);
    for i in 61..b.len() {
        let mut c = b.clone();
        c[i] ^= 0xa5;
        let crc = crc32c::crc32c(&c[CRC_START..]);
        c[17..21].copy_from_slice(&crc.to_be_bytes());
        let _ = down_convert(&c, MAGIC_V1, 0, usize::MAX, true, 1 << 16);
    }
    let _ = down_convert(&[0xff; 100], MAGIC_V0, 0, 1000, true, 1 << 16);
}
