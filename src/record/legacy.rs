//! The legacy message formats (magic 0 and magic 1) that Produce v0–2 carry
//! and Fetch v0–3 expect, converted to and from the v2 batches storage
//! keeps. Kafka 3.x (message format 3.0) did the same: it up-converted
//! legacy produce data to v2 on append (`LogValidator`) and down-converted
//! v2 batches for old fetchers (`RecordsUtil.downConvert`). Pure functions:
//! bytes in, bytes out; nothing here knows about requests or logs.
//!
//! Message layout (a "message set" is a plain concatenation of these):
//!
//! ```text
//!  offset        int64   magic 0: absolute; inner messages of a magic-1
//!                        wrapper: relative (0..n-1), the wrapper holding
//!                        the absolute offset of its last inner message
//!  message_size  int32   bytes that follow
//!  crc           uint32  CRC-32 (IEEE, zlib's) of magic..end of message
//!  magic         int8    0 or 1
//!  attributes    int8    bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4),
//!                        bit 3 (magic 1) LogAppendTime
//!  timestamp     int64   magic 1 only
//!  key           int32 length (-1 = null) + bytes
//!  value         int32 length (-1 = null) + bytes
//! ```
//!
//! A compressed ("wrapper") message has a null key and, as its value, the
//! compressed message set of its inner messages (uncompressed, same magic).
//! Legacy formats have no headers, producer ids or transactions.
//!
//! The lz4 quirk (KAFKA-3160): Kafka's magic-0 writer computed the lz4
//! frame descriptor checksum (the `HC` byte) over the frame magic as well,
//! and its magic-0 reader ignores that byte. So a magic-0 lz4 value is read
//! after recomputing `HC` properly, and written with the broken `HC`
//! exactly as Kafka wrote it (librdkafka and kafka-python repair it on read
//! for magic 0, Kafka's Java reader skips it). Magic 1 uses the correct
//! checksum both ways.

use super::batch::{BatchIter, ATTR_LOG_APPEND_TIME, LOG_OVERHEAD, NO_TIMESTAMP};
use super::compression::Compression;
use super::records::{BatchBuilder, DecodedBatch, NewRecord};
use super::RecordError;

/// The original message format (Kafka 0.8–0.9): no timestamps.
pub const MAGIC_V0: i8 = 0;
/// Kafka 0.10's format: a timestamp per message, relative inner offsets.
pub const MAGIC_V1: i8 = 1;

/// Position of the magic byte in a message (and in a v2 batch).
const MAGIC_AT: usize = 16;
/// Bytes of a message that `message_size` counts before the key, magic 0:
/// crc (4) + magic (1) + attributes (1).
const HEADER_V0: usize = 6;
/// Same for magic 1: plus the timestamp (8).
const HEADER_V1: usize = 14;
/// Smallest `message_size`: header + key length (4) + value length (4).
const MIN_SIZE_V0: usize = HEADER_V0 + 8;
const MIN_SIZE_V1: usize = HEADER_V1 + 8;
/// Attribute bits 0-2: codec.
const CODEC_MASK: u8 = 0x07;
/// Attribute bit 3 (magic 1): the timestamp is the broker's LogAppendTime.
const LOG_APPEND_TIME: u8 = 0x08;

/// The magic byte of the first message or batch in `records`, if the
/// buffer is long enough to have one. Produce v0–2 may carry v2 batches
/// too (Kafka never checked), so the handler looks before converting.
pub fn first_magic(records: &[u8]) -> Option<i8> {
    records.get(MAGIC_AT).map(|&b| b as i8)
}

/// The magic a Fetch of `version` must answer with, if below 2: v0–1 read
/// magic 0, v2–3 magic 1 (Kafka's `KafkaApis` down-conversion rule).
pub fn fetch_magic(version: i16) -> Option<i8> {
    match version {
        ..=1 => Some(MAGIC_V0),
        2..=3 => Some(MAGIC_V1),
        _ => None,
    }
}

/// One parsed legacy message, borrowing the buffer it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMessage<'a> {
    /// The offset field as written (absolute, or relative for the inner
    /// messages of a magic-1 wrapper).
    pub offset: i64,
    /// 0 or 1.
    pub magic: i8,
    /// Codec and timestamp-type bits.
    pub attributes: u8,
    /// Magic 1's timestamp; [`NO_TIMESTAMP`] for magic 0.
    pub timestamp: i64,
    /// Key, `None` if null.
    pub key: Option<&'a [u8]>,
    /// Value, `None` if null.
    pub value: Option<&'a [u8]>,
}

impl LegacyMessage<'_> {
    /// The codec id (attribute bits 0-2).
    pub fn codec(&self) -> u8 {
        self.attributes & CODEC_MASK
    }

    /// Magic 1 with attribute bit 3.
    pub fn is_log_append_time(&self) -> bool {
        self.magic == MAGIC_V1 && self.attributes & LOG_APPEND_TIME != 0
    }
}

fn corrupt(why: &'static str) -> RecordError {
    RecordError::CorruptMessage(why)
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(i32::from_be_bytes(b))
}

fn read_i64(buf: &[u8], at: usize) -> Option<i64> {
    let b: [u8; 8] = buf.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(i64::from_be_bytes(b))
}

/// Reads an `int32`-length-prefixed byte string at `*pos` (-1 = null).
fn read_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, RecordError> {
    let len = read_i32(buf, *pos).ok_or(corrupt("message field length past its end"))?;
    *pos += 4;
    if len < 0 {
        return Ok(None);
    }
    let end = pos
        .checked_add(len as usize)
        .filter(|&e| e <= buf.len())
        .ok_or(corrupt("message key or value past its end"))?;
    let s = &buf[*pos..end];
    *pos = end;
    Ok(Some(s))
}

/// CRC-32 (IEEE 802.3, zlib's polynomial), the legacy message checksum.
fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// Parses one whole message: `entry` is exactly `offset`, `message_size`
/// and the `message_size` bytes that follow. Checks the size minimum of
/// its magic, the CRC and that key and value fill the message exactly.
fn parse_message(entry: &[u8]) -> Result<LegacyMessage<'_>, RecordError> {
    let offset = read_i64(entry, 0).ok_or(corrupt("message shorter than its header"))?;
    let body = entry
        .get(LOG_OVERHEAD..)
        .ok_or(corrupt("message shorter than its header"))?;
    let magic = *body
        .get(4)
        .ok_or(corrupt("message shorter than its header"))? as i8;
    let (header, min) = match magic {
        MAGIC_V0 => (HEADER_V0, MIN_SIZE_V0),
        MAGIC_V1 => (HEADER_V1, MIN_SIZE_V1),
        _ => {
            return Err(RecordError::InvalidRecord(
                "message magic is neither 0 nor 1",
            ))
        }
    };
    if body.len() < min {
        return Err(corrupt("message size below the minimum for its magic"));
    }
    let expected = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    let computed = crc32(&body[4..]);
    if expected != computed {
        return Err(RecordError::LegacyCrc { expected, computed });
    }
    let attributes = body[5];
    let timestamp = if magic == MAGIC_V1 {
        read_i64(body, 6).ok_or(corrupt("message shorter than its header"))?
    } else {
        NO_TIMESTAMP
    };
    let mut pos = header;
    let key = read_bytes(body, &mut pos)?;
    let value = read_bytes(body, &mut pos)?;
    if pos != body.len() {
        return Err(corrupt("message size disagrees with its key and value"));
    }
    Ok(LegacyMessage {
        offset,
        magic,
        attributes,
        timestamp,
        key,
        value,
    })
}

/// Splits a message set into its whole messages. A message cut short at
/// the end of the buffer ends the set silently, as Kafka's reader does
/// (old producers never send one; a fetch response may end with one);
/// `message_size` below the smallest message is corrupt.
fn split_messages(buf: &[u8]) -> Result<Vec<&[u8]>, RecordError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= LOG_OVERHEAD {
        let size = read_i32(rest, 8).ok_or(corrupt("message shorter than its header"))?;
        if size < MIN_SIZE_V0 as i32 {
            return Err(corrupt("message size below the minimum message overhead"));
        }
        let total = LOG_OVERHEAD + size as usize;
        if rest.len() < total {
            break;
        }
        out.push(&rest[..total]);
        rest = &rest[total..];
    }
    Ok(out)
}

/// The codec of a legacy wrapper: gzip, snappy or lz4 (zstd exists only in
/// magic 2, ids 5-7 nowhere).
fn legacy_codec(id: u8) -> Result<Compression, RecordError> {
    match Compression::from_id(id)? {
        Compression::Zstd => Err(RecordError::InvalidRecord(
            "zstd compression is not valid in magic 0 and 1 messages",
        )),
        c => Ok(c),
    }
}

/// Decompresses a wrapper's value (for magic-0 lz4 after repairing the
/// frame descriptor checksum, see the module docs).
fn decompress(
    codec: Compression,
    magic: i8,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, RecordError> {
    if codec == Compression::Lz4 && magic == MAGIC_V0 {
        let mut fixed = data.to_vec();
        set_lz4_header_checksum(&mut fixed, false);
        return codec.decompress(&fixed, limit);
    }
    codec.decompress(data, limit)
}

/// Compresses an inner message set for a wrapper of `magic`.
fn compress(codec: Compression, magic: i8, data: &[u8]) -> Result<Vec<u8>, RecordError> {
    let mut out = codec.compress(data)?;
    if codec == Compression::Lz4 && magic == MAGIC_V0 {
        set_lz4_header_checksum(&mut out, true);
    }
    Ok(out)
}

/// lz4 frame magic number (little-endian on the wire).
const LZ4_FRAME_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// Rewrites the `HC` byte of the lz4 frame descriptor at the start of
/// `frame`: `(xxh32(descriptor, 0) >> 8) & 0xff`, where the descriptor is
/// FLG, BD and the optional content size / dictionary id; with `broken`,
/// computed over the 4 frame-magic bytes too, as Kafka's magic-0 writer
/// did. Leaves anything that is not an lz4 frame header alone (the codec
/// then reports it).
fn set_lz4_header_checksum(frame: &mut [u8], broken: bool) {
    if frame.len() < 7 || frame[..4] != LZ4_FRAME_MAGIC {
        return;
    }
    let flg = frame[4];
    let mut hc_at = 6;
    if flg & 0x08 != 0 {
        hc_at += 8; // content size
    }
    if flg & 0x01 != 0 {
        hc_at += 4; // dictionary id
    }
    if frame.len() <= hc_at {
        return;
    }
    let start = if broken { 0 } else { 4 };
    frame[hc_at] = (xxh32(&frame[start..hc_at], 0) >> 8) as u8;
}

/// XXH32 (the xxHash 32-bit algorithm, as specified by its author), for
/// the lz4 frame descriptor checksum only: inputs of at most 18 bytes.
fn xxh32(data: &[u8], seed: u32) -> u32 {
    const P1: u32 = 2_654_435_761;
    const P2: u32 = 2_246_822_519;
    const P3: u32 = 3_266_489_917;
    const P4: u32 = 668_265_263;
    const P5: u32 = 374_761_393;
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let round = |acc: u32, lane: u32| {
        acc.wrapping_add(lane.wrapping_mul(P2))
            .rotate_left(13)
            .wrapping_mul(P1)
    };
    let mut rest = data;
    let mut h = if data.len() >= 16 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while rest.len() >= 16 {
            for (i, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, word(&rest[i * 4..]));
            }
            rest = &rest[16..];
        }
        v[0].rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18))
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(data.len() as u32);
    while rest.len() >= 4 {
        h = h
            .wrapping_add(word(rest).wrapping_mul(P3))
            .rotate_left(17)
            .wrapping_mul(P4);
        rest = &rest[4..];
    }
    for &b in rest {
        h = h
            .wrapping_add(u32::from(b).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^ (h >> 16)
}

/// Up-converts a Produce v0–2 message set (magic 0 or 1) into the one v2
/// batch Kafka 3.x would store for it: base offset 0 (storage assigns
/// offsets), consecutive offset deltas whatever the producer wrote, no
/// producer id, CreateTime (storage stamps LogAppendTime topics), no
/// headers, the keys and values as sent, and the producer's codec (the last
/// one seen: Kafka's `compression.type=producer`).
///
/// Timestamps: magic 0 records get [`NO_TIMESTAMP`] (-1), magic 1 records
/// their own, or their wrapper's when the wrapper says LogAppendTime.
///
/// Validation, as Kafka's `LogValidator` and legacy readers: every message
/// (inner ones included) must pass its CRC-32 ([`RecordError::LegacyCrc`],
/// answered CORRUPT_MESSAGE) and have the first message's magic; a
/// compressed set is exactly one wrapper, whose inner messages are
/// uncompressed and at least one; a wrapper's value must decompress within
/// `limit` bytes. A trailing partial message is ignored; a set without one
/// whole message yields `Ok(None)` (Kafka appends nothing and answers no
/// error).
pub fn up_convert(set: &[u8], limit: usize) -> Result<Option<Vec<u8>>, RecordError> {
    let entries = split_messages(set)?;
    let Some(first) = entries.first() else {
        return Ok(None);
    };
    let magic = *first
        .get(MAGIC_AT)
        .ok_or(corrupt("message shorter than its header"))? as i8;
    let mut shallow = Vec::with_capacity(entries.len());
    for entry in &entries {
        if entry.get(MAGIC_AT).map(|&b| b as i8) != Some(magic) {
            return Err(RecordError::InvalidRecord(
                "message magic differs from the first message's",
            ));
        }
        shallow.push(parse_message(entry)?);
    }
    let mut codec = Compression::None;
    for m in &shallow {
        if m.codec() != 0 {
            codec = legacy_codec(m.codec())?;
        }
    }
    if codec != Compression::None && shallow.len() > 1 {
        return Err(RecordError::InvalidRecord(
            "a compressed message set must be exactly one wrapper message",
        ));
    }
    let mut records = Vec::new();
    for m in &shallow {
        if m.codec() == 0 {
            records.push(new_record(m, m.timestamp));
            continue;
        }
        let value = m.value.ok_or(RecordError::InvalidRecord(
            "compressed wrapper message with a null value",
        ))?;
        let inner_set = decompress(codec, magic, value, limit)?;
        let inner = split_messages(&inner_set)?;
        let consumed: usize = inner.iter().map(|e| e.len()).sum();
        if consumed != inner_set.len() {
            return Err(corrupt("compressed message set ends in a partial message"));
        }
        if inner.is_empty() {
            return Err(RecordError::InvalidRecord(
                "compressed wrapper message with no inner messages",
            ));
        }
        for entry in inner {
            if entry.get(MAGIC_AT).map(|&b| b as i8) != Some(magic) {
                return Err(RecordError::InvalidRecord(
                    "inner message magic differs from its wrapper's",
                ));
            }
            let im = parse_message(entry)?;
            if im.codec() != 0 {
                return Err(RecordError::InvalidRecord(
                    "compressed wrapper holds a compressed inner message",
                ));
            }
            let ts = if m.is_log_append_time() {
                m.timestamp
            } else {
                im.timestamp
            };
            records.push(new_record(&im, ts));
        }
    }
    let base_ts = records.first().map_or(NO_TIMESTAMP, |r| r.timestamp);
    let builder = BatchBuilder::new(0, base_ts);
    let batch = if codec == Compression::None {
        builder.build(&records)
    } else {
        builder.build_compressed(&records, codec)?
    };
    Ok(Some(batch))
}

fn new_record(m: &LegacyMessage<'_>, timestamp: i64) -> NewRecord {
    NewRecord {
        timestamp,
        key: m.key.map(<[u8]>::to_vec),
        value: m.value.map(<[u8]>::to_vec),
        headers: Vec::new(),
    }
}

/// What [`down_convert`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownConverted {
    /// The message set, whole messages only.
    pub bytes: Vec<u8>,
    /// Records it carries (inner messages counted one by one).
    pub records: u64,
}

/// Appends one message (`offset`, size, CRC and body) to `out`.
#[allow(clippy::too_many_arguments)]
fn write_message(
    out: &mut Vec<u8>,
    offset: i64,
    magic: i8,
    attributes: u8,
    timestamp: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) {
    let header = if magic == MAGIC_V0 {
        HEADER_V0
    } else {
        HEADER_V1
    };
    let size = header + 8 + key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len);
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&(size as i32).to_be_bytes());
    let crc_at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.push(magic as u8);
    out.push(attributes);
    if magic != MAGIC_V0 {
        out.extend_from_slice(&timestamp.to_be_bytes());
    }
    for field in [key, value] {
        match field {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    let crc = crc32(&out[crc_at + 4..]);
    out[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Down-converts stored v2 batches (a fetch read: whole batches) to a
/// message set of `magic` (0 or 1) for Fetch v0–3, as Kafka 3.x's
/// `RecordsUtil.downConvert` did:
///
/// * control batches (transaction markers) are dropped; data records of
///   aborted transactions are kept (fetches before v4 are
///   read_uncommitted), as in Kafka;
/// * records below `fetch_offset` (the start of the first batch) are
///   dropped, so the first message is the one asked for;
/// * an uncompressed batch becomes one message per record, a compressed
///   one a single wrapper re-compressed with the batch's codec (magic 1:
///   inner offsets relative to the first, the wrapper at the last record's
///   offset and its max timestamp; magic 0: absolute inner offsets);
/// * headers are dropped (magic 0 and 1 cannot carry them); magic 1 keeps
///   each record's timestamp and a LogAppendTime batch's timestamp type;
/// * zstd batches cannot be represented: [`RecordError::UnsupportedCompression`]
///   if the first one to convert is zstd (Kafka answers
///   UNSUPPORTED_COMPRESSION_TYPE), otherwise conversion stops before it.
///
/// The output holds whole messages only and at most `max_bytes` of them,
/// except that with `min_one` the first message (or wrapper) is included
/// whatever its size, so a consumer always makes progress. Batches that
/// cannot be decoded stop the conversion (an error if nothing was
/// converted yet); compressed ones decompress within `limit` bytes.
pub fn down_convert(
    batches: &[u8],
    magic: i8,
    fetch_offset: i64,
    max_bytes: usize,
    min_one: bool,
    limit: usize,
) -> Result<DownConverted, RecordError> {
    let mut out = DownConverted::default();
    let fits = |out: &DownConverted, len: usize| {
        out.bytes.len().saturating_add(len) <= max_bytes || (min_one && out.bytes.is_empty())
    };
    let fail = |out: DownConverted, e: RecordError| {
        if out.bytes.is_empty() {
            Err(e)
        } else {
            Ok(out)
        }
    };
    for item in BatchIter::headers_only(batches) {
        let (pos, h) = match item {
            Ok(x) => x,
            Err(e) => return fail(out, e),
        };
        if h.is_control() || h.last_offset() < fetch_offset || h.record_count <= 0 {
            continue;
        }
        let codec = match Compression::from_attributes(h.attributes) {
            Ok(Compression::Zstd) => {
                return fail(
                    out,
                    RecordError::UnsupportedCompression {
                        codec: "zstd",
                        magic,
                    },
                )
            }
            Ok(c) => c,
            Err(e) => return fail(out, e),
        };
        let batch = &batches[pos..pos + h.total_len()];
        let decoded = match DecodedBatch::new(batch, limit) {
            Ok(d) => d,
            Err(e) => return fail(out, e),
        };
        let mut records = Vec::new();
        for r in decoded.records() {
            match r {
                Ok(r) if r.offset >= fetch_offset => records.push(r),
                Ok(_) => {}
                Err(e) => return fail(out, e),
            }
        }
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            continue;
        };
        let log_append = h.attributes & ATTR_LOG_APPEND_TIME != 0 && magic != MAGIC_V0;
        let ts_attr = if log_append { LOG_APPEND_TIME } else { 0 };
        let ts = |t: i64| if log_append { h.max_timestamp } else { t };
        if codec == Compression::None {
            for r in &records {
                let mut msg = Vec::new();
                write_message(
                    &mut msg,
                    r.offset,
                    magic,
                    ts_attr,
                    ts(r.timestamp),
                    r.key,
                    r.value,
                );
                if !fits(&out, msg.len()) {
                    return Ok(out);
                }
                out.bytes.extend_from_slice(&msg);
                out.records += 1;
            }
            continue;
        }
        let base = first.offset;
        let mut inner = Vec::new();
        let mut max_ts = NO_TIMESTAMP;
        for r in &records {
            let offset = if magic == MAGIC_V0 {
                r.offset
            } else {
                r.offset.wrapping_sub(base)
            };
            max_ts = max_ts.max(r.timestamp);
            write_message(
                &mut inner,
                offset,
                magic,
                ts_attr,
                ts(r.timestamp),
                r.key,
                r.value,
            );
        }
        let value = match compress(codec, magic, &inner) {
            Ok(v) => v,
            Err(e) => return fail(out, e),
        };
        let mut wrapper = Vec::new();
        write_message(
            &mut wrapper,
            last.offset,
            magic,
            codec.id() | ts_attr,
            ts(max_ts),
            None,
            Some(&value),
        );
        if !fits(&out, wrapper.len()) {
            return Ok(out);
        }
        out.bytes.extend_from_slice(&wrapper);
        out.records += records.len() as u64;
    }
    Ok(out)
}

/// Every message of a legacy message set, compressed wrappers opened
/// (within `limit` bytes each), with absolute offsets: what an old client
/// reads out of a Fetch v0–3 response. For tests and the fuzz target; a
/// trailing partial message is ignored, as clients do.
pub fn read_message_set(set: &[u8], limit: usize) -> Result<Vec<OwnedMessage>, RecordError> {
    let mut out = Vec::new();
    for entry in split_messages(set)? {
        let m = parse_message(entry)?;
        if m.codec() == 0 {
            out.push(OwnedMessage::from(&m));
            continue;
        }
        let codec = legacy_codec(m.codec())?;
        let value = m.value.ok_or(RecordError::InvalidRecord(
            "compressed wrapper message with a null value",
        ))?;
        let inner_set = decompress(codec, m.magic, value, limit)?;
        let inner = split_messages(&inner_set)?
            .into_iter()
            .map(parse_message)
            .collect::<Result<Vec<_>, _>>()?;
        let last_relative = inner.last().map_or(0, |i| i.offset);
        for im in &inner {
            let mut o = OwnedMessage::from(im);
            if m.magic == MAGIC_V1 {
                o.offset = m.offset.wrapping_sub(last_relative).wrapping_add(im.offset);
                if m.is_log_append_time() {
                    o.timestamp = m.timestamp;
                }
            }
            o.wrapper_codec = m.codec();
            out.push(o);
        }
    }
    Ok(out)
}

/// A legacy message with owned key and value (see [`read_message_set`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMessage {
    /// Absolute offset.
    pub offset: i64,
    /// 0 or 1.
    pub magic: i8,
    /// The message's own attributes.
    pub attributes: u8,
    /// Codec of the wrapper it came in, 0 if none.
    pub wrapper_codec: u8,
    /// Timestamp (-1 for magic 0).
    pub timestamp: i64,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub value: Option<Vec<u8>>,
}

impl From<&LegacyMessage<'_>> for OwnedMessage {
    fn from(m: &LegacyMessage<'_>) -> Self {
        OwnedMessage {
            offset: m.offset,
            magic: m.magic,
            attributes: m.attributes,
            wrapper_codec: 0,
            timestamp: m.timestamp,
            key: m.key.map(<[u8]>::to_vec),
            value: m.value.map(<[u8]>::to_vec),
        }
    }
}

/// (offset, timestamp, key, value) of a message for [`encode_message_set`].
pub type PlainMessage<'a> = (i64, i64, Option<&'a [u8]>, Option<&'a [u8]>);

/// Encodes a legacy message set (for tests and fuzz seeds): `messages` as
/// (offset, timestamp, key, value), uncompressed or in one wrapper of
/// `codec` whose inner offsets follow the magic's convention (absolute for
/// magic 0, relative for magic 1, the wrapper at the last absolute offset).
pub fn encode_message_set(
    magic: i8,
    codec: Compression,
    messages: &[PlainMessage<'_>],
) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    if codec == Compression::None {
        for &(offset, ts, k, v) in messages {
            write_message(&mut out, offset, magic, 0, ts, k, v);
        }
        return Ok(out);
    }
    let codec_id = legacy_codec(codec.id())?.id();
    let base = messages.first().map_or(0, |m| m.0);
    let mut inner = Vec::new();
    let mut max_ts = NO_TIMESTAMP;
    for &(offset, ts, k, v) in messages {
        let o = if magic == MAGIC_V0 {
            offset
        } else {
            offset - base
        };
        max_ts = max_ts.max(ts);
        write_message(&mut inner, o, magic, 0, ts, k, v);
    }
    let value = compress(codec, magic, &inner)?;
    let last = messages.last().map_or(0, |m| m.0);
    write_message(&mut out, last, magic, codec_id, max_ts, None, Some(&value));
    Ok(out)
}

#[cfg(test)]
#[path = "legacy_tests.rs"]
mod tests;
