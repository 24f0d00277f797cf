//! Shared by the fuzz targets and `gen_corpus`, and included verbatim by the
//! broker's `compat-tests/fuzz_replay.rs` so the normal test run replays
//! the corpus through exactly the same checks.

#![allow(dead_code)]

use bytes::Bytes;
use skiff::record::{
    complete_batches_prefix, down_convert, first_record_at_or_after, read_message_set,
    rebuild_batch, up_convert, validate_batch, BatchIter, DecodedBatch, RecordIter,
};

/// Kafka's default `socket.request.max.bytes`, as the server enforces it.
pub const MAX_FRAME: usize = 104_857_600;

/// Splits a client byte stream into frames the way the server does.
pub fn frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let size = i32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        if size < 0 || size as usize > MAX_FRAME {
            break; // the connection is closed
        }
        let size = size as usize;
        if data.len() < 4 + size {
            break; // waits for more bytes, then the peer closes: torn frame
        }
        out.push(&data[4..4 + size]);
        data = &data[4 + size..];
    }
    out
}

/// Decodes one frame; a decoded request must encode again.
pub fn decode_one(frame: &[u8]) {
    if let Ok(skiff::protocol::Incoming::Request(r)) =
        skiff::protocol::decode_request(Bytes::copy_from_slice(frame))
    {
        let mut buf = bytes::BytesMut::new();
        // Encoding may legitimately refuse values a version cannot carry
        // (e.g. a field set only in later versions); it must not panic.
        let _ = r.body.encode(&mut buf, r.version);
    }
}

/// `data` with the CRC of every complete batch (as its length fields cut
/// them) recomputed, so that mutated inputs get past the checksum and
/// exercise the record decoder too.
pub fn fix_crcs(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut pos = 0usize;
    while pos + 61 <= out.len() {
        let len = i32::from_be_bytes([out[pos + 8], out[pos + 9], out[pos + 10], out[pos + 11]]);
        if len < 49 {
            break;
        }
        let end = pos + 12 + len as usize;
        if end > out.len() {
            break;
        }
        let crc = crc32c(&out[pos + 21..end]);
        out[pos + 17..pos + 21].copy_from_slice(&crc.to_be_bytes());
        pos = end;
    }
    out
}

/// CRC-32C (Castagnoli), bitwise: the fuzz crate needs no extra dependency.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The record-batch checks on the input as given and with fixed CRCs,
/// then the legacy (magic 0/1) conversions on it.
pub fn check_batches(data: &[u8]) {
    check_batches_once(data);
    check_batches_once(&fix_crcs(data));
    check_legacy(data);
    check_legacy(&fix_legacy_crcs(data));
}

/// `data` with the CRC-32 of every complete legacy message (offset, size,
/// crc, magic..) recomputed.
pub fn fix_legacy_crcs(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut pos = 0usize;
    while pos + 17 <= out.len() {
        let len = i32::from_be_bytes([out[pos + 8], out[pos + 9], out[pos + 10], out[pos + 11]]);
        if len < 14 {
            break;
        }
        let end = pos + 12 + len as usize;
        if end > out.len() {
            break;
        }
        let crc = crc32(&out[pos + 16..end]);
        out[pos + 12..pos + 16].copy_from_slice(&crc.to_be_bytes());
        pos = end;
    }
    out
}

/// CRC-32 (IEEE), bitwise, like [`crc32c`].
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Produce v0-2's up-conversion and Fetch v0-3's down-conversion: never a
/// panic, bounded; an up-converted set is one valid v2 batch whose records
/// down-convert back to the same keys and values in either magic.
fn check_legacy(data: &[u8]) {
    const LIMIT: usize = 1 << 20;
    let _ = read_message_set(data, LIMIT);
    for magic in [0, 1] {
        let _ = down_convert(data, magic, 0, 1 << 16, true, LIMIT);
    }
    let Ok(Some(batch)) = up_convert(data, LIMIT) else {
        return;
    };
    let h = validate_batch(&batch).expect("up-converted batch validates");
    let decoded = DecodedBatch::new(&batch, usize::MAX).expect("up-converted batch decodes");
    let records: Vec<_> = decoded
        .records()
        .map(|r| r.expect("up-converted record decodes"))
        .collect();
    assert_eq!(records.len(), h.record_count as usize);
    for magic in [0, 1] {
        let down = down_convert(&batch, magic, 0, usize::MAX, true, usize::MAX)
            .expect("an up-converted batch down-converts");
        let msgs = read_message_set(&down.bytes, usize::MAX).expect("down-converted set reads");
        assert_eq!(msgs.len(), records.len());
        for (m, r) in msgs.iter().zip(&records) {
            assert_eq!(m.offset, r.offset);
            assert_eq!((m.key.as_deref(), m.value.as_deref()), (r.key, r.value));
        }
    }
}

fn check_batches_once(data: &[u8]) {
    let _ = complete_batches_prefix(data);
    for item in BatchIter::headers_only(data) {
        if item.is_err() {
            break;
        }
    }
    for item in BatchIter::new(data) {
        let Ok((pos, h)) = item else { break };
        let batch = &data[pos..pos + h.total_len()];
        let _ = first_record_at_or_after(batch, h.base_timestamp);
        let Ok(it) = RecordIter::new(batch) else {
            continue;
        };
        let header = *it.header();
        let mut records = Vec::new();
        for r in it {
            match r {
                Ok(r) => records.push(r),
                Err(_) => return,
            }
        }
        // Re-encoding the records (compaction) yields a valid batch with the
        // same records.
        let Ok(again) = rebuild_batch(&header, &records, header.attributes, header.base_timestamp)
        else {
            return;
        };
        let h2 = validate_batch(&again).expect("re-encoded batch validates");
        assert_eq!(h2.base_offset, header.base_offset);
        assert_eq!(h2.last_offset_delta, header.last_offset_delta);
        let decoded: Vec<_> = RecordIter::new(&again)
            .expect("re-encoded batch iterates")
            .map(|r| r.expect("re-encoded record decodes"))
            .collect();
        assert_eq!(decoded.len(), records.len());
        for (a, b) in decoded.iter().zip(&records) {
            assert_eq!(
                (a.offset, a.key, a.value, &a.headers),
                (b.offset, b.key, b.value, &b.headers)
            );
        }
    }
    // Compressed batches: decoding is bounded (a bomb is an error, not an
    // allocation), and a decoded batch re-encodes with its own codec (as
    // the log cleaner does) to one that decodes to the same records.
    const LIMIT: usize = 1 << 20;
    for item in BatchIter::new(data) {
        let Ok((pos, h)) = item else { break };
        if h.compression() == 0 {
            continue;
        }
        let batch = &data[pos..pos + h.total_len()];
        let Ok(decoded) = DecodedBatch::new(batch, LIMIT) else {
            continue;
        };
        assert!(decoded.body_len() <= LIMIT);
        let Ok(records) = decoded.records().collect::<Result<Vec<_>, _>>() else {
            continue;
        };
        let Ok(again) = rebuild_batch(&h, &records, h.attributes, h.base_timestamp) else {
            continue;
        };
        let d2 = DecodedBatch::new(&again, usize::MAX).expect("re-encoded batch decodes");
        if !records.is_empty() {
            assert_eq!(d2.compression(), decoded.compression(), "codec kept");
        }
        let r2: Vec<_> = d2
            .records()
            .map(|r| r.expect("re-encoded record decodes"))
            .collect();
        assert_eq!(r2.len(), records.len());
        for (a, b) in r2.iter().zip(&records) {
            assert_eq!(
                (a.offset, a.key, a.value, &a.headers),
                (b.offset, b.key, b.value, &b.headers)
            );
        }
    }
}
