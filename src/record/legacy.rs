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
mod tests {
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
}
