//! Record-level view of a v2 batch, used only where the broker must look
//! inside a batch: ListOffsets-by-timestamp ([`first_record_at_or_after`]),
//! the key check of compacted topics and the log cleaner ([`DecodedBatch`],
//! [`rebuild_batch`]), and internal logs written by the broker itself
//! ([`RecordIter`], [`BatchBuilder`]). The produce/fetch path never comes
//! here.
//!
//! Record layout (after the 61-byte batch header, `recordCount` times; for a
//! compressed batch, inside the decompressed body):
//!
//! ```text
//!  length          varint   bytes that follow, up to the end of this record
//!  attributes      int8     unused (0)
//!  timestampDelta  varlong  timestamp - baseTimestamp
//!  offsetDelta     varint   offset - baseOffset
//!  keyLength       varint   -1 = null key
//!  key             bytes
//!  valueLength     varint   -1 = null value
//!  value           bytes
//!  headerCount     varint
//!  headers         (keyLength varint, key bytes, valueLength varint, value bytes) * headerCount
//! ```
//!
//! Varints are zig-zag encoded, 7 bits per byte, least significant group
//! first (protobuf style): at most 5 bytes for an int, 10 for a long.
//!
//! Compressed batches (gzip, snappy, lz4, zstd) are decompressed only by
//! [`DecodedBatch`], which takes an output limit, and re-compressed only by
//! [`rebuild_batch`] and [`BatchBuilder::build_compressed`].
//! [`first_record_at_or_after`] decompresses them too, so its answer is
//! record-exact for every codec (see its docs).

use super::batch::{
    validate_batch, BatchHeader, ATTR_COMPRESSION_MASK, BATCH_HEADER_LEN, CRC_START, MAGIC_V2,
    MIN_BATCH_LENGTH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
};
use super::compression::Compression;
use super::RecordError;

const MALFORMED_VARINT: RecordError = RecordError::InvalidRecord("malformed varint");

/// Reads a zig-zag varlong from `buf` at `*pos`, advancing `*pos`.
fn read_varlong(buf: &[u8], pos: &mut usize) -> Result<i64, RecordError> {
    let mut raw: u64 = 0;
    for i in 0..10 {
        let b = *buf.get(*pos).ok_or(MALFORMED_VARINT)?;
        *pos += 1;
        raw |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64));
        }
    }
    Err(MALFORMED_VARINT)
}

/// Reads a zig-zag varint (must fit an i32).
fn read_varint(buf: &[u8], pos: &mut usize) -> Result<i32, RecordError> {
    i32::try_from(read_varlong(buf, pos)?).map_err(|_| MALFORMED_VARINT)
}

fn write_varlong(out: &mut Vec<u8>, v: i64) {
    let mut raw = ((v << 1) ^ (v >> 63)) as u64;
    while raw >= 0x80 {
        out.push((raw as u8) | 0x80);
        raw >>= 7;
    }
    out.push(raw as u8);
}

/// Reads a `length`-prefixed byte string; -1 means null.
fn read_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, RecordError> {
    let len = read_varint(buf, pos)?;
    if len < 0 {
        return Ok(None);
    }
    let end = pos
        .checked_add(len as usize)
        .ok_or(RecordError::InvalidRecord("record field length overflow"))?;
    let s = buf.get(*pos..end).ok_or(RecordError::InvalidRecord(
        "record field past end of record",
    ))?;
    *pos = end;
    Ok(Some(s))
}

/// One record of a batch, borrowing the batch buffer (or, for a compressed
/// batch, its decompressed body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Absolute offset (`base_offset + offsetDelta`).
    pub offset: i64,
    /// Absolute timestamp (`base_timestamp + timestampDelta`; for
    /// LogAppendTime batches the batch's max timestamp).
    pub timestamp: i64,
    /// Key, `None` if null.
    pub key: Option<&'a [u8]>,
    /// Value, `None` if null (a tombstone).
    pub value: Option<&'a [u8]>,
    /// Headers as (key, value) pairs.
    pub headers: Vec<(&'a [u8], Option<&'a [u8]>)>,
}

/// Iterates the records of one v2 batch. [`RecordIter::new`] takes an
/// uncompressed batch; [`DecodedBatch::records`] any batch. The CRC is
/// checked up front, so a record error means the producer encoded it
/// wrongly, not that the disk flipped a bit.
#[derive(Debug, Clone)]
pub struct RecordIter<'a> {
    header: BatchHeader,
    /// The records: the batch's bytes after its header, decompressed.
    buf: &'a [u8],
    pos: usize,
    remaining: i32,
}

impl<'a> RecordIter<'a> {
    /// Validates the batch (CRC included) and prepares to iterate it.
    /// Compressed batches are rejected with `InvalidRecord`: use
    /// [`DecodedBatch`] for them.
    pub fn new(batch: &'a [u8]) -> Result<Self, RecordError> {
        let header = validate_batch(batch)?;
        if header.compression() != 0 {
            return Err(RecordError::InvalidRecord(
                "compressed batch: records must be read through DecodedBatch",
            ));
        }
        Ok(Self::over(header, &batch[BATCH_HEADER_LEN..]))
    }

    /// Iterates `body`, the (decompressed) records of the batch `header`.
    fn over(header: BatchHeader, body: &'a [u8]) -> Self {
        RecordIter {
            header,
            buf: body,
            pos: 0,
            remaining: header.record_count,
        }
    }

    /// The batch header.
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    fn parse_one(&mut self) -> Result<Record<'a>, RecordError> {
        let buf = self.buf;
        let mut pos = self.pos;
        let len = read_varint(buf, &mut pos)?;
        if len < 0 {
            return Err(RecordError::InvalidRecord("negative record length"));
        }
        let end = pos
            .checked_add(len as usize)
            .filter(|&e| e <= buf.len())
            .ok_or(RecordError::InvalidRecord("record extends past its batch"))?;
        let rec = &buf[..end];
        pos += 1; // attributes: unused by v2
        let ts_delta = read_varlong(rec, &mut pos)?;
        let offset_delta = read_varint(rec, &mut pos)?;
        let key = read_bytes(rec, &mut pos)?;
        let value = read_bytes(rec, &mut pos)?;
        let n_headers = read_varint(rec, &mut pos)?;
        if n_headers < 0 {
            return Err(RecordError::InvalidRecord("negative header count"));
        }
        let mut headers = Vec::new();
        for _ in 0..n_headers {
            let k =
                read_bytes(rec, &mut pos)?.ok_or(RecordError::InvalidRecord("null header key"))?;
            let v = read_bytes(rec, &mut pos)?;
            headers.push((k, v));
        }
        if pos != end {
            return Err(RecordError::InvalidRecord(
                "record length disagrees with its fields",
            ));
        }
        self.pos = end;
        let timestamp = if self.header.timestamp_type_is_log_append() {
            self.header.max_timestamp
        } else {
            self.header.base_timestamp.wrapping_add(ts_delta)
        };
        Ok(Record {
            offset: self
                .header
                .base_offset
                .wrapping_add(i64::from(offset_delta)),
            timestamp,
            key,
            value,
            headers,
        })
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<Record<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining <= 0 {
            return None;
        }
        self.remaining -= 1;
        let r = self.parse_one();
        if r.is_err() {
            self.remaining = 0;
        }
        Some(r)
    }
}

/// One validated batch with its records readable, whatever the codec: the
/// body of a compressed batch is decompressed once (bounded by a limit),
/// that of an uncompressed one borrowed.
#[derive(Debug, Clone)]
pub struct DecodedBatch<'a> {
    header: BatchHeader,
    compression: Compression,
    body: std::borrow::Cow<'a, [u8]>,
}

impl<'a> DecodedBatch<'a> {
    /// Validates `batch` (exactly one batch, CRC included) and decompresses
    /// its records if needed, refusing to produce more than `limit` bytes
    /// (see [`super::decompression_limit`]).
    pub fn new(batch: &'a [u8], limit: usize) -> Result<Self, RecordError> {
        let header = validate_batch(batch)?;
        let compression = Compression::from_attributes(header.attributes)?;
        let raw = &batch[BATCH_HEADER_LEN..];
        let body = match compression {
            Compression::None => std::borrow::Cow::Borrowed(raw),
            // Nothing to read: no need to make sense of the body.
            _ if header.record_count == 0 => std::borrow::Cow::Borrowed(&[][..]),
            codec => std::borrow::Cow::Owned(codec.decompress(raw, limit)?),
        };
        Ok(DecodedBatch {
            header,
            compression,
            body,
        })
    }

    /// The batch header.
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The batch's codec.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Bytes of the records once decompressed.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// Iterates the records.
    pub fn records(&self) -> RecordIter<'_> {
        RecordIter::over(self.header, &self.body)
    }
}

/// First record of `batch` (exactly one batch) whose timestamp is `>= ts`,
/// as `(offset, timestamp)`; `None` if the batch's max timestamp is below
/// `ts`. Record-exact for every codec, as Kafka answers: a compressed batch
/// is decompressed (bounded by [`super::decompression_limit`] of the batch's
/// own size, since the topic's `max.message.bytes` is not known here).
///
/// * LogAppendTime batches: every record carries the max timestamp, so the
///   answer is the base offset and that timestamp.
/// * Batches whose producer-written max timestamp claims a match that no
///   record has, and compressed batches that do not decompress within the
///   bound: the base offset and max timestamp (Kafka recomputes the max
///   timestamp on append; we trust the producer). A consumer seeking there
///   sees at most the rest of this one batch early.
pub fn first_record_at_or_after(batch: &[u8], ts: i64) -> Result<Option<(i64, i64)>, RecordError> {
    let header = validate_batch(batch)?;
    if header.max_timestamp < ts {
        return Ok(None);
    }
    let batch_granular = Some((header.base_offset, header.max_timestamp));
    if header.timestamp_type_is_log_append() {
        return Ok(batch_granular);
    }
    let limit = super::decompression_limit(i32::try_from(batch.len()).unwrap_or(i32::MAX));
    let decoded = match DecodedBatch::new(batch, limit) {
        Ok(d) => d,
        Err(_) if header.compression() != 0 => return Ok(batch_granular),
        Err(e) => return Err(e),
    };
    for record in decoded.records() {
        let record = record?;
        if record.timestamp >= ts {
            return Ok(Some((record.offset, record.timestamp)));
        }
    }
    Ok(batch_granular)
}

/// A record to encode with [`BatchBuilder`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRecord {
    /// Absolute CreateTime timestamp.
    pub timestamp: i64,
    /// Key, `None` for null.
    pub key: Option<Vec<u8>>,
    /// Value, `None` for null.
    pub value: Option<Vec<u8>>,
    /// Headers as (key, value) pairs.
    pub headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl NewRecord {
    /// A record with a value and no key or headers.
    pub fn new(timestamp: i64, value: impl Into<Vec<u8>>) -> Self {
        NewRecord {
            timestamp,
            value: Some(value.into()),
            ..NewRecord::default()
        }
    }
}

/// Encodes v2 batches: for logs the broker writes itself (and for tests).
/// Offsets are consecutive from `base_offset`; the broker reassigns them on
/// append anyway.
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Base timestamp (record timestamps are stored as deltas from it).
    pub base_timestamp: i64,
    /// Producer id, epoch and base sequence (`-1` for none).
    pub producer_id: i64,
    /// See `producer_id`.
    pub producer_epoch: i16,
    /// See `producer_id`.
    pub base_sequence: i32,
    /// Attribute bits other than compression (which [`BatchBuilder::build`]
    /// leaves at none and [`BatchBuilder::build_compressed`] sets).
    pub attributes: i16,
}

impl BatchBuilder {
    /// A non-idempotent, non-transactional CreateTime batch.
    pub fn new(base_offset: i64, base_timestamp: i64) -> Self {
        BatchBuilder {
            base_offset,
            base_timestamp,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            attributes: 0,
        }
    }

    /// Sets the idempotent producer fields.
    pub fn producer(mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Encodes `records` into one uncompressed batch with a valid CRC. An
    /// empty slice yields a header-only batch (record count 0).
    pub fn build(&self, records: &[NewRecord]) -> Vec<u8> {
        let (body, max_ts) = self.encode_records(records);
        finish_batch(&self.header_fields(records.len(), max_ts), &body)
    }

    /// Like [`BatchBuilder::build`], with the records compressed by `codec`
    /// (and the codec in the attributes). Fails only if the codec does.
    pub fn build_compressed(
        &self,
        records: &[NewRecord],
        codec: Compression,
    ) -> Result<Vec<u8>, RecordError> {
        let (body, max_ts) = self.encode_records(records);
        let mut fields = self.header_fields(records.len(), max_ts);
        fields.attributes |= i16::from(codec.id());
        Ok(finish_batch(&fields, &codec.compress(&body)?))
    }

    fn encode_records(&self, records: &[NewRecord]) -> (Vec<u8>, i64) {
        let mut body = Vec::new();
        let mut rec = Vec::new();
        let mut max_ts = if records.is_empty() {
            self.base_timestamp
        } else {
            i64::MIN
        };
        for (i, r) in records.iter().enumerate() {
            max_ts = max_ts.max(r.timestamp);
            let headers: Vec<(&[u8], Option<&[u8]>)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_deref()))
                .collect();
            encode_record(
                &mut body,
                &mut rec,
                r.timestamp.wrapping_sub(self.base_timestamp),
                i as i64,
                r.key.as_deref(),
                r.value.as_deref(),
                &headers,
            );
        }
        (body, max_ts)
    }

    fn header_fields(&self, count: usize, max_timestamp: i64) -> HeaderFields {
        HeaderFields {
            base_offset: self.base_offset,
            partition_leader_epoch: 0,
            attributes: self.attributes & !ATTR_COMPRESSION_MASK,
            last_offset_delta: count.saturating_sub(1) as i32,
            base_timestamp: self.base_timestamp,
            max_timestamp,
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            base_sequence: self.base_sequence,
            record_count: count as i32,
        }
    }
}

/// The header fields a new batch is written with (length and CRC are
/// computed by [`finish_batch`]).
struct HeaderFields {
    base_offset: i64,
    partition_leader_epoch: i32,
    attributes: i16,
    last_offset_delta: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    record_count: i32,
}

/// Appends one record (length-prefixed) to `body`; `rec` is scratch space.
fn encode_record(
    body: &mut Vec<u8>,
    rec: &mut Vec<u8>,
    timestamp_delta: i64,
    offset_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&[u8], Option<&[u8]>)],
) {
    rec.clear();
    rec.push(0); // attributes
    write_varlong(rec, timestamp_delta);
    write_varlong(rec, offset_delta);
    write_opt_bytes(rec, key);
    write_opt_bytes(rec, value);
    write_varlong(rec, headers.len() as i64);
    for (k, v) in headers {
        write_opt_bytes(rec, Some(k));
        write_opt_bytes(rec, *v);
    }
    write_varlong(body, rec.len() as i64);
    body.extend_from_slice(rec);
}

/// Header + `body` (already compressed if the attributes say so), with the
/// batch length and CRC-32C filled in.
fn finish_batch(f: &HeaderFields, body: &[u8]) -> Vec<u8> {
    let batch_length = MIN_BATCH_LENGTH as usize + body.len();
    let mut out = Vec::with_capacity(BATCH_HEADER_LEN + body.len());
    out.extend_from_slice(&f.base_offset.to_be_bytes());
    out.extend_from_slice(&(batch_length as i32).to_be_bytes());
    out.extend_from_slice(&f.partition_leader_epoch.to_be_bytes());
    out.push(MAGIC_V2 as u8);
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, patched below
    out.extend_from_slice(&f.attributes.to_be_bytes());
    out.extend_from_slice(&f.last_offset_delta.to_be_bytes());
    out.extend_from_slice(&f.base_timestamp.to_be_bytes());
    out.extend_from_slice(&f.max_timestamp.to_be_bytes());
    out.extend_from_slice(&f.producer_id.to_be_bytes());
    out.extend_from_slice(&f.producer_epoch.to_be_bytes());
    out.extend_from_slice(&f.base_sequence.to_be_bytes());
    out.extend_from_slice(&f.record_count.to_be_bytes());
    out.extend_from_slice(body);
    let crc = crc32c::crc32c(&out[CRC_START..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Re-encodes the records `keep` of the batch `h`, as log compaction leaves
/// it (Kafka's `MemoryRecords.filterTo`): the same base offset, last offset
/// delta (so the batch still spans its original offset range, gaps
/// allowed), partition leader epoch, producer id/epoch/base sequence, with
/// the given `attributes` and `base_timestamp`: the batch's first timestamp,
/// or its delete horizon when [`super::ATTR_DELETE_HORIZON`] is set
/// (KIP-534). The codec in `attributes` is kept: the records are
/// compressed with it again (Kafka's cleaner likewise rebuilds with the
/// original batch's codec at its default level). Each record keeps its
/// absolute offset and timestamp; the max timestamp is kept from `h` for
/// LogAppendTime batches and recomputed from the kept records otherwise, as
/// Kafka's `MemoryRecordsBuilder` does. The CRC is computed anew. Fails
/// only on an unknown codec id or a codec failure.
pub fn rebuild_batch(
    h: &BatchHeader,
    keep: &[Record<'_>],
    attributes: i16,
    base_timestamp: i64,
) -> Result<Vec<u8>, RecordError> {
    let codec = Compression::from_attributes(attributes)?;
    let mut body = Vec::new();
    let mut rec = Vec::new();
    let log_append = attributes & super::ATTR_LOG_APPEND_TIME != 0;
    let mut max_ts = if log_append || keep.is_empty() {
        h.max_timestamp
    } else {
        i64::MIN
    };
    for r in keep {
        if !log_append {
            max_ts = max_ts.max(r.timestamp);
        }
        encode_record(
            &mut body,
            &mut rec,
            r.timestamp.wrapping_sub(base_timestamp),
            r.offset.wrapping_sub(h.base_offset),
            r.key,
            r.value,
            &r.headers,
        );
    }
    // A batch without records is a bare header with compression none, as
    // Kafka's `DefaultRecordBatch.writeEmptyHeader` writes it: readers
    // would otherwise try to decompress an empty body.
    let (body, attributes) = if keep.is_empty() {
        (body, attributes & !ATTR_COMPRESSION_MASK)
    } else {
        (codec.compress(&body)?, attributes)
    };
    let fields = HeaderFields {
        base_offset: h.base_offset,
        partition_leader_epoch: h.partition_leader_epoch,
        attributes,
        last_offset_delta: h.last_offset_delta,
        base_timestamp,
        max_timestamp: max_ts,
        producer_id: h.producer_id,
        producer_epoch: h.producer_epoch,
        base_sequence: h.base_sequence,
        record_count: keep.len() as i32,
    };
    Ok(finish_batch(&fields, &body))
}

fn write_opt_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => write_varlong(out, -1),
        Some(b) => {
            write_varlong(out, b.len() as i64);
            out.extend_from_slice(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::batch::set_max_timestamp_log_append;

    #[test]
    fn rebuild_keeps_offsets_and_range_and_recomputes_crc() {
        let mut recs: Vec<NewRecord> = (0..5)
            .map(|i| NewRecord {
                timestamp: 1000 + i,
                key: Some(vec![b'k', i as u8]),
                value: if i == 3 {
                    None
                } else {
                    Some(vec![b'v'; i as usize])
                },
                headers: vec![(b"h".to_vec(), Some(b"x".to_vec()))],
            })
            .collect();
        recs[4].headers.clear();
        let b = BatchBuilder::new(40, 1000).producer(7, 1, 9).build(&recs);
        let it = RecordIter::new(&b).unwrap();
        let h = *it.header();
        let all: Vec<Record<'_>> = it.map(|r| r.unwrap()).collect();
        let keep = vec![all[1].clone(), all[3].clone()];
        let out = rebuild_batch(
            &h,
            &keep,
            h.attributes | super::super::ATTR_DELETE_HORIZON,
            99_999,
        )
        .unwrap();
        let it = RecordIter::new(&out).unwrap();
        let nh = *it.header();
        assert_eq!(nh.base_offset, 40);
        assert_eq!(nh.last_offset_delta, 4);
        assert_eq!(nh.record_count, 2);
        assert_eq!(
            (nh.producer_id, nh.producer_epoch, nh.base_sequence),
            (7, 1, 9)
        );
        assert_eq!(nh.base_timestamp, 99_999);
        assert_eq!(nh.max_timestamp, 1003);
        let got: Vec<Record<'_>> = it.map(|r| r.unwrap()).collect();
        assert_eq!(got, keep);
    }

    #[test]
    fn varint_roundtrip() {
        for v in [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            300,
            -300,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_varlong(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_varlong(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
        let mut pos = 0;
        assert!(read_varlong(&[0x80; 11], &mut pos).is_err());
        let mut pos = 0;
        assert!(read_varlong(&[0x80], &mut pos).is_err());
    }

    fn batch() -> Vec<u8> {
        let mut r1 = NewRecord::new(100, b"a".to_vec());
        r1.key = Some(b"k".to_vec());
        r1.headers.push((b"h".to_vec(), None));
        let r2 = NewRecord::new(105, b"b".to_vec());
        let r3 = NewRecord {
            timestamp: 103,
            ..NewRecord::default()
        };
        let r4 = NewRecord::new(110, b"d".to_vec());
        BatchBuilder::new(50, 100).build(&[r1, r2, r3, r4])
    }

    #[test]
    fn iterates_records() {
        let b = batch();
        let recs: Vec<_> = RecordIter::new(&b)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0].offset, 50);
        assert_eq!(recs[0].key, Some(&b"k"[..]));
        assert_eq!(recs[0].headers, vec![(&b"h"[..], None)]);
        assert_eq!(recs[2].value, None);
        assert_eq!(recs[2].timestamp, 103);
        assert_eq!(recs[3].offset, 53);
    }

    #[test]
    fn finds_first_record_by_timestamp() {
        let b = batch();
        assert_eq!(first_record_at_or_after(&b, 0).unwrap(), Some((50, 100)));
        assert_eq!(first_record_at_or_after(&b, 101).unwrap(), Some((51, 105)));
        // Not monotonic: 103 is after 105 in the batch; the first >= 103 is 105.
        assert_eq!(first_record_at_or_after(&b, 103).unwrap(), Some((51, 105)));
        assert_eq!(first_record_at_or_after(&b, 106).unwrap(), Some((53, 110)));
        assert_eq!(first_record_at_or_after(&b, 111).unwrap(), None);
    }

    #[test]
    fn log_append_time_uses_batch_granularity() {
        let mut b = batch();
        set_max_timestamp_log_append(&mut b, 500).unwrap();
        assert_eq!(first_record_at_or_after(&b, 200).unwrap(), Some((50, 500)));
        assert_eq!(first_record_at_or_after(&b, 501).unwrap(), None);
    }

    #[test]
    fn compressed_batches_are_searched_record_by_record() {
        let recs: Vec<NewRecord> = [100, 105, 103, 110]
            .iter()
            .map(|&ts| NewRecord::new(ts, b"v".to_vec()))
            .collect();
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let c = BatchBuilder::new(50, 100)
                .build_compressed(&recs, codec)
                .unwrap();
            assert_eq!(first_record_at_or_after(&c, 101).unwrap(), Some((51, 105)));
            assert_eq!(first_record_at_or_after(&c, 106).unwrap(), Some((53, 110)));
            assert_eq!(first_record_at_or_after(&c, 111).unwrap(), None);
        }

        // A body that does not decompress falls back to the batch's base offset.
        let mut c = batch();
        c[22] |= 1;
        let crc = crc32c::crc32c(&c[CRC_START..]);
        c[17..21].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(first_record_at_or_after(&c, 106).unwrap(), Some((50, 110)));
        assert!(RecordIter::new(&c).is_err());
    }

    #[test]
    fn malformed_records_are_errors_not_panics() {
        let b = batch();
        // Corrupt every body byte in turn (fixing the CRC so the records are
        // actually parsed): never panic.
        for i in BATCH_HEADER_LEN..b.len() {
            for x in [0x00u8, 0x7f, 0x80, 0xff] {
                let mut c = b.clone();
                c[i] = x;
                let crc = crc32c::crc32c(&c[CRC_START..]);
                c[17..21].copy_from_slice(&crc.to_be_bytes());
                let _ = first_record_at_or_after(&c, 104);
                if let Ok(it) = RecordIter::new(&c) {
                    let _ = it.count();
                }
            }
        }
    }

    const CODECS: [Compression; 4] = [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn keyed_records(n: i64) -> Vec<NewRecord> {
        (0..n)
            .map(|i| NewRecord {
                timestamp: 1000 + i,
                key: Some(format!("key-{}", i % 3).into_bytes()),
                value: if i == 4 {
                    None
                } else {
                    Some(format!("value-{i}-{}", "x".repeat(50)).into_bytes())
                },
                headers: vec![(b"h".to_vec(), Some(vec![i as u8]))],
            })
            .collect()
    }

    #[test]
    fn compressed_batches_decode_and_rebuild_with_the_same_codec() {
        let recs = keyed_records(8);
        let plain = BatchBuilder::new(100, 1000).producer(3, 2, 50).build(&recs);
        let plain_records: Vec<Record<'_>> = RecordIter::new(&plain)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for codec in CODECS {
            let b = BatchBuilder::new(100, 1000)
                .producer(3, 2, 50)
                .build_compressed(&recs, codec)
                .unwrap();
            let h = validate_batch(&b).unwrap();
            assert_eq!(h.compression(), codec.id());
            assert!(RecordIter::new(&b).is_err(), "plain iterator refuses");
            let d = DecodedBatch::new(&b, 1 << 20).unwrap();
            assert_eq!(d.compression(), codec);
            let all: Vec<Record<'_>> = d.records().collect::<Result<_, _>>().unwrap();
            assert_eq!(all, plain_records, "{}", codec.name());
            // Thin it: keep offsets 101, 104 (the tombstone) and 107.
            let keep = vec![all[1].clone(), all[4].clone(), all[7].clone()];
            let out = rebuild_batch(&h, &keep, h.attributes, h.base_timestamp).unwrap();
            let nh = validate_batch(&out).unwrap(); // CRC recomputed
            assert_eq!(nh.compression(), codec.id(), "codec kept");
            assert_eq!(nh.base_offset, 100);
            assert_eq!(nh.last_offset_delta, 7);
            assert_eq!(nh.record_count, 3);
            assert_eq!(
                (nh.producer_id, nh.producer_epoch, nh.base_sequence),
                (3, 2, 50)
            );
            assert_eq!(nh.base_timestamp, 1000);
            assert_eq!(nh.max_timestamp, 1007);
            let nd = DecodedBatch::new(&out, 1 << 20).unwrap();
            let got: Vec<Record<'_>> = nd.records().collect::<Result<_, _>>().unwrap();
            assert_eq!(got, keep);
            // Nothing kept: a bare header, compression none.
            let empty = rebuild_batch(&h, &[], h.attributes, h.base_timestamp).unwrap();
            let eh = validate_batch(&empty).unwrap();
            assert_eq!((eh.compression(), eh.record_count), (0, 0));
            assert_eq!(eh.total_len(), BATCH_HEADER_LEN);
            assert_eq!(eh.last_offset(), 107);
        }
    }

    #[test]
    fn decoding_a_compressed_batch_is_bounded_and_never_panics() {
        let recs = keyed_records(20);
        for codec in CODECS {
            let b = BatchBuilder::new(0, 1000)
                .build_compressed(&recs, codec)
                .unwrap();
            let full = DecodedBatch::new(&b, 1 << 20).unwrap().body_len();
            assert!(matches!(
                DecodedBatch::new(&b, full - 1),
                Err(RecordError::DecompressedTooLarge { .. })
            ));
            // Corrupt every body byte (CRC fixed so the codec sees it).
            for i in BATCH_HEADER_LEN..b.len() {
                let mut c = b.clone();
                c[i] ^= 0xa5;
                let crc = crc32c::crc32c(&c[CRC_START..]);
                c[17..21].copy_from_slice(&crc.to_be_bytes());
                if let Ok(d) = DecodedBatch::new(&c, 1 << 20) {
                    let _ = d.records().count();
                }
            }
        }
        // Codec ids 5-7 are refused.
        let mut c = batch();
        c[22] |= 5;
        let crc = crc32c::crc32c(&c[CRC_START..]);
        c[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            DecodedBatch::new(&c, 1 << 20),
            Err(RecordError::UnknownCompression(5))
        ));
    }

    #[test]
    fn empty_batch() {
        let b = BatchBuilder::new(0, 7).build(&[]);
        let h = validate_batch(&b).unwrap();
        assert_eq!(h.record_count, 0);
        assert_eq!(RecordIter::new(&b).unwrap().count(), 0);
    }
}
