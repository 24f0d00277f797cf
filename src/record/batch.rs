//! The 61-byte v2 `RecordBatch` header: parse, validate, walk, rewrite.
//!
//! ```text
//!  offset  size  field                  covered by CRC?
//!  ------  ----  ---------------------  ---------------
//!       0     8  baseOffset             no  (broker assigns it in place)
//!       8     4  batchLength            no  (bytes after this field)
//!      12     4  partitionLeaderEpoch   no  (broker sets it in place)
//!      16     1  magic (= 2)            no
//!      17     4  crc (CRC-32C, unsigned) no
//!      21     2  attributes             yes  bits 0-2 compression, 3 LogAppendTime,
//!                                            4 transactional, 5 control, 6 delete horizon
//!      23     4  lastOffsetDelta        yes
//!      27     8  baseTimestamp          yes
//!      35     8  maxTimestamp           yes
//!      43     8  producerId             yes
//!      51     2  producerEpoch          yes
//!      53     4  baseSequence           yes
//!      57     4  recordCount            yes
//!      61     …  records                yes  (possibly compressed)
//! ```
//!
//! All integers are big-endian. The CRC covers bytes `21..end`, which is why
//! the broker can assign the base offset and leader epoch (bytes `0..21`)
//! without recomputing it; only a LogAppendTime rewrite touches covered bytes
//! and must re-CRC. Bytes `0..17` have the same layout in the legacy magic 0/1
//! formats (offset, size, then crc+magic), so the magic byte at 16 is read
//! before anything else to reject them cleanly.

use super::RecordError;

/// Bytes before `batchLength` counts: base offset (8) + length (4).
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed v2 batch header, up to and including `recordCount`.
pub const BATCH_HEADER_LEN: usize = 61;
/// Smallest legal `batchLength`: a header with no records.
pub const MIN_BATCH_LENGTH: i32 = (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32;
/// First byte covered by the CRC (the attributes field).
pub const CRC_START: usize = 21;
/// The only supported magic.
pub const MAGIC_V2: i8 = 2;
/// `producerId` of a batch from a non-idempotent producer.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` of a batch from a non-idempotent producer.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` of a batch from a non-idempotent producer.
pub const NO_SEQUENCE: i32 = -1;
/// Timestamp meaning "none".
pub const NO_TIMESTAMP: i64 = -1;

/// Attribute bits 0-2: compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
pub const ATTR_COMPRESSION_MASK: i16 = 0x07;
/// Attribute bit 3: timestamps are LogAppendTime (broker-assigned).
pub const ATTR_LOG_APPEND_TIME: i16 = 0x08;
/// Attribute bit 4: the batch is part of a transaction.
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
/// Attribute bit 5: control batch (transaction markers); never from clients.
pub const ATTR_CONTROL: i16 = 0x20;
/// Attribute bit 6: `baseTimestamp` holds the delete horizon of the batch's
/// tombstones, set by the log cleaner (KIP-534).
pub const ATTR_DELETE_HORIZON: i16 = 0x40;

const BASE_OFFSET: usize = 0;
const BATCH_LENGTH: usize = 8;
const PARTITION_LEADER_EPOCH: usize = 12;
const MAGIC: usize = 16;
const CRC: usize = 17;
const ATTRIBUTES: usize = 21;
const LAST_OFFSET_DELTA: usize = 23;
const BASE_TIMESTAMP: usize = 27;
const MAX_TIMESTAMP: usize = 35;
const PRODUCER_ID: usize = 43;
const PRODUCER_EPOCH: usize = 51;
const BASE_SEQUENCE: usize = 53;
const RECORD_COUNT: usize = 57;

// Fixed-width big-endian readers over the fixed-size header array: the
// indices are constants inside a `[u8; 61]`, so they cannot go out of bounds.
fn rd_i16(h: &[u8; BATCH_HEADER_LEN], at: usize) -> i16 {
    i16::from_be_bytes([h[at], h[at + 1]])
}
fn rd_i32(h: &[u8; BATCH_HEADER_LEN], at: usize) -> i32 {
    i32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]])
}
fn rd_i64(h: &[u8; BATCH_HEADER_LEN], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[at..at + 8]);
    i64::from_be_bytes(b)
}

/// The decoded 61-byte header of one v2 batch. A plain copy: it does not
/// borrow the buffer it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record (assigned by the broker on append).
    pub base_offset: i64,
    /// Bytes following this field (total size minus [`LOG_OVERHEAD`]).
    pub batch_length: i32,
    /// Leader epoch at append time (always 0 here: single replica).
    pub partition_leader_epoch: i32,
    /// Format version; 2 for every header this type parses successfully.
    pub magic: i8,
    /// CRC-32C of bytes `21..end`.
    pub crc: u32,
    /// Compression, timestamp type, transactional and control bits.
    pub attributes: i16,
    /// `last_offset - base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record (record timestamps are deltas from it).
    pub base_timestamp: i64,
    /// Largest record timestamp (or the LogAppendTime).
    pub max_timestamp: i64,
    /// Idempotent producer id, or [`NO_PRODUCER_ID`].
    pub producer_id: i64,
    /// Idempotent producer epoch, or [`NO_PRODUCER_EPOCH`].
    pub producer_epoch: i16,
    /// Sequence number of the first record, or [`NO_SEQUENCE`].
    pub base_sequence: i32,
    /// Number of records in the batch.
    pub record_count: i32,
}

impl BatchHeader {
    /// Parses the header at the start of `buf` (which may hold more bytes
    /// after it). Checks only that the header is present and that the magic
    /// is 2: no length consistency, no CRC (see [`validate_batch`]).
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, RecordError> {
        check_magic(buf)?;
        let h: &[u8; BATCH_HEADER_LEN] = buf
            .get(..BATCH_HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(RecordError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: buf.len(),
            })?;
        Ok(BatchHeader {
            base_offset: rd_i64(h, BASE_OFFSET),
            batch_length: rd_i32(h, BATCH_LENGTH),
            partition_leader_epoch: rd_i32(h, PARTITION_LEADER_EPOCH),
            magic: h[MAGIC] as i8,
            crc: rd_i32(h, CRC) as u32,
            attributes: rd_i16(h, ATTRIBUTES),
            last_offset_delta: rd_i32(h, LAST_OFFSET_DELTA),
            base_timestamp: rd_i64(h, BASE_TIMESTAMP),
            max_timestamp: rd_i64(h, MAX_TIMESTAMP),
            producer_id: rd_i64(h, PRODUCER_ID),
            producer_epoch: rd_i16(h, PRODUCER_EPOCH),
            base_sequence: rd_i32(h, BASE_SEQUENCE),
            record_count: rd_i32(h, RECORD_COUNT),
        })
    }

    /// Size of the whole batch in bytes, including the 12-byte log overhead.
    /// Only meaningful once `batch_length` was checked to be non-negative
    /// (a negative length yields a value below [`LOG_OVERHEAD`]).
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + usize::try_from(self.batch_length).unwrap_or(0)
    }

    /// Offset of the last record: `base_offset + last_offset_delta`.
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }

    /// Offset just past this batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().saturating_add(1)
    }

    /// Sequence number of the last record, wrapping past `i32::MAX` to 0
    /// like Kafka's `DefaultRecordBatch.incrementSequence`; [`NO_SEQUENCE`]
    /// if the batch carries no sequence.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence == NO_SEQUENCE {
            return NO_SEQUENCE;
        }
        increment_sequence(self.base_sequence, self.last_offset_delta)
    }

    /// Compression codec id (attributes & 7).
    pub fn compression(&self) -> u8 {
        (self.attributes & ATTR_COMPRESSION_MASK) as u8
    }

    /// Attribute bit 4.
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// Attribute bit 5.
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    /// Attribute bit 3: every record's timestamp is `max_timestamp`.
    pub fn timestamp_type_is_log_append(&self) -> bool {
        self.attributes & ATTR_LOG_APPEND_TIME != 0
    }

    /// True for batches of idempotent/transactional producers.
    pub fn has_producer_id(&self) -> bool {
        self.producer_id > NO_PRODUCER_ID
    }
}

/// Kafka's `DefaultRecordBatch.incrementSequence`: sequences wrap from
/// `i32::MAX` to 0.
/// Computed in i64 so that headers that were parsed but not validated
/// (negative deltas) cannot overflow.
pub(crate) fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    let next = i64::from(sequence) + i64::from(increment);
    if next > i64::from(i32::MAX) {
        (next - i64::from(i32::MAX) - 1) as i32
    } else {
        next as i32
    }
}

fn check_magic(buf: &[u8]) -> Result<(), RecordError> {
    match buf.get(MAGIC) {
        None => Err(RecordError::Truncated {
            needed: BATCH_HEADER_LEN,
            available: buf.len(),
        }),
        Some(&m) if m as i8 != MAGIC_V2 => Err(RecordError::UnsupportedMagic(m as i8)),
        Some(_) => Ok(()),
    }
}

/// Checks the header fields that do not need the body: length bounds and
/// non-negative counts. `available` is how many bytes of the batch exist.
fn check_header(h: &BatchHeader, available: usize) -> Result<(), RecordError> {
    if h.batch_length < MIN_BATCH_LENGTH {
        return Err(RecordError::InvalidLength {
            batch_length: h.batch_length,
            available,
        });
    }
    if h.record_count < 0 {
        return Err(RecordError::InvalidRecord("negative record count"));
    }
    if h.last_offset_delta < 0 {
        return Err(RecordError::InvalidRecord("negative last offset delta"));
    }
    Ok(())
}

fn check_crc(batch: &[u8], h: &BatchHeader) -> Result<(), RecordError> {
    let computed = crc32c::crc32c(batch.get(CRC_START..).unwrap_or(&[]));
    if computed != h.crc {
        return Err(RecordError::CorruptCrc {
            expected: h.crc,
            computed,
        });
    }
    Ok(())
}

/// Validates a buffer that must hold exactly one v2 batch: magic 2,
/// `batch_length >= 49` and equal to `buf.len() - 12`, non-negative
/// `record_count` and `last_offset_delta`, and the CRC-32C over `21..end`.
pub fn validate_batch(buf: &[u8]) -> Result<BatchHeader, RecordError> {
    let h = BatchHeader::parse(buf)?;
    check_header(&h, buf.len())?;
    let total = h.total_len();
    if total > buf.len() {
        return Err(RecordError::Truncated {
            needed: total,
            available: buf.len(),
        });
    }
    if total != buf.len() {
        return Err(RecordError::InvalidLength {
            batch_length: h.batch_length,
            available: buf.len(),
        });
    }
    check_crc(buf, &h)?;
    Ok(h)
}

/// Walks a buffer of concatenated batches. Yields `(position, header)` for
/// each whole, valid batch; on the first bad or incomplete one it yields the
/// error once and stops. A buffer that ends exactly on a batch boundary ends
/// the iteration cleanly.
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    buf: &'a [u8],
    pos: usize,
    verify_crc: bool,
    done: bool,
}

impl<'a> BatchIter<'a> {
    /// Iterates with full validation, CRC included (recovery, tests).
    pub fn new(buf: &'a [u8]) -> Self {
        BatchIter {
            buf,
            pos: 0,
            verify_crc: true,
            done: false,
        }
    }

    /// Iterates checking headers and lengths only (data already validated on
    /// the way in, e.g. fetch slicing).
    pub fn headers_only(buf: &'a [u8]) -> Self {
        BatchIter {
            verify_crc: false,
            ..BatchIter::new(buf)
        }
    }

    /// Bytes consumed so far: the end of the last batch yielded.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Iterator for BatchIter<'_> {
    type Item = Result<(usize, BatchHeader), RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        let result = (|| {
            let h = BatchHeader::parse(rest)?;
            check_header(&h, rest.len())?;
            let total = h.total_len();
            let batch = rest.get(..total).ok_or(RecordError::Truncated {
                needed: total,
                available: rest.len(),
            })?;
            if self.verify_crc {
                check_crc(batch, &h)?;
            }
            Ok(h)
        })();
        match result {
            Ok(h) => {
                let at = self.pos;
                self.pos += h.total_len();
                Some(Ok((at, h)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Validates every batch of a buffer of concatenated batches (CRC
/// included); the buffer must end on a batch boundary.
pub fn validate_batches(buf: &[u8]) -> Result<Vec<BatchHeader>, RecordError> {
    BatchIter::new(buf).map(|r| r.map(|(_, h)| h)).collect()
}

/// Length in bytes and count of the whole batches at the start of `buf`,
/// looking only at the 12-byte log overhead of each (no magic, no CRC): used
/// to cut a read buffer on a batch boundary. An incomplete trailing batch is
/// not an error; a length below the v2 minimum is.
pub fn complete_batches_prefix(buf: &[u8]) -> Result<(usize, usize), RecordError> {
    let mut pos = 0usize;
    let mut count = 0usize;
    while let Some(lo) = buf.get(pos..pos + LOG_OVERHEAD) {
        let batch_length = i32::from_be_bytes([lo[8], lo[9], lo[10], lo[11]]);
        if batch_length < MIN_BATCH_LENGTH {
            return Err(RecordError::InvalidLength {
                batch_length,
                available: buf.len() - pos,
            });
        }
        let total = LOG_OVERHEAD + batch_length as usize;
        if buf.len() - pos < total {
            break;
        }
        pos += total;
        count += 1;
    }
    Ok((pos, count))
}

fn prefix_mut(buf: &mut [u8], len: usize) -> Result<&mut [u8], RecordError> {
    let available = buf.len();
    buf.get_mut(..len).ok_or(RecordError::Truncated {
        needed: len,
        available,
    })
}

/// Rewrites `baseOffset` (bytes 0..8) in place. Not covered by the CRC.
pub fn set_base_offset(buf: &mut [u8], base_offset: i64) -> Result<(), RecordError> {
    prefix_mut(buf, BATCH_LENGTH)?.copy_from_slice(&base_offset.to_be_bytes());
    Ok(())
}

/// Rewrites `partitionLeaderEpoch` (bytes 12..16) in place. Not covered by
/// the CRC.
pub fn set_partition_leader_epoch(buf: &mut [u8], epoch: i32) -> Result<(), RecordError> {
    prefix_mut(buf, MAGIC)?[PARTITION_LEADER_EPOCH..MAGIC].copy_from_slice(&epoch.to_be_bytes());
    Ok(())
}

/// Turns the batch into a LogAppendTime batch stamped `ts`: sets attribute
/// bit 3 and both `baseTimestamp` and `maxTimestamp` to `ts`, then
/// recomputes the CRC. `buf` must hold the whole batch.
///
/// Setting the base timestamp too matches what Kafka writes when it rebuilds
/// a batch for a LogAppendTime topic; readers ignore per-record deltas for
/// such batches and use `maxTimestamp` for every record.
pub fn set_max_timestamp_log_append(buf: &mut [u8], ts: i64) -> Result<(), RecordError> {
    let h = BatchHeader::parse(buf)?;
    let total = h.total_len();
    if total > buf.len() || h.batch_length < MIN_BATCH_LENGTH {
        return Err(RecordError::Truncated {
            needed: total.max(BATCH_HEADER_LEN),
            available: buf.len(),
        });
    }
    let batch = &mut buf[..total];
    let attributes = h.attributes | ATTR_LOG_APPEND_TIME;
    batch[ATTRIBUTES..ATTRIBUTES + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[BASE_TIMESTAMP..BASE_TIMESTAMP + 8].copy_from_slice(&ts.to_be_bytes());
    batch[MAX_TIMESTAMP..MAX_TIMESTAMP + 8].copy_from_slice(&ts.to_be_bytes());
    let crc = crc32c::crc32c(&batch[CRC_START..]);
    batch[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// Like [`set_max_timestamp_log_append`], but on a copy of the 61-byte
/// header while the body stays where it is: the append path writes this
/// header followed by the untouched `batch[61..]`, so a LogAppendTime topic
/// costs no copy of the records. The CRC is computed over the new header
/// bytes `21..61` and then continued over the body.
pub fn log_append_time_header(
    batch: &[u8],
    ts: i64,
) -> Result<[u8; BATCH_HEADER_LEN], RecordError> {
    let mut head = header_copy(batch)?;
    let h = BatchHeader::parse(&head)?;
    let attributes = h.attributes | ATTR_LOG_APPEND_TIME;
    head[ATTRIBUTES..ATTRIBUTES + 2].copy_from_slice(&attributes.to_be_bytes());
    head[BASE_TIMESTAMP..BASE_TIMESTAMP + 8].copy_from_slice(&ts.to_be_bytes());
    head[MAX_TIMESTAMP..MAX_TIMESTAMP + 8].copy_from_slice(&ts.to_be_bytes());
    let crc = crc32c::crc32c_append(
        crc32c::crc32c(&head[CRC_START..]),
        batch.get(BATCH_HEADER_LEN..).unwrap_or(&[]),
    );
    head[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(head)
}

/// A copy of the first 61 bytes of `batch`.
pub fn header_copy(batch: &[u8]) -> Result<[u8; BATCH_HEADER_LEN], RecordError> {
    batch
        .get(..BATCH_HEADER_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(RecordError::Truncated {
            needed: BATCH_HEADER_LEN,
            available: batch.len(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BatchBuilder, NewRecord};

    fn sample(n: usize) -> Vec<u8> {
        let records: Vec<NewRecord> = (0..n)
            .map(|i| NewRecord::new(1_000 + i as i64, format!("value-{i}").into_bytes()))
            .collect();
        BatchBuilder::new(0, 1_000).build(&records)
    }

    #[test]
    fn parse_and_validate_roundtrip() {
        let b = sample(3);
        let h = validate_batch(&b).unwrap();
        assert_eq!(h.magic, 2);
        assert_eq!(h.record_count, 3);
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!(h.total_len(), b.len());
        assert_eq!(h.last_offset(), 2);
        assert_eq!(h.base_timestamp, 1_000);
        assert_eq!(h.max_timestamp, 1_002);
        assert_eq!(h.compression(), 0);
        assert!(!h.is_control() && !h.is_transactional() && !h.timestamp_type_is_log_append());
        assert!(!h.has_producer_id());
        assert_eq!(h.last_sequence(), NO_SEQUENCE);
    }

    #[test]
    fn rejects_legacy_magic_before_length_checks() {
        let mut b = sample(1);
        b[16] = 1;
        assert_eq!(validate_batch(&b), Err(RecordError::UnsupportedMagic(1)));
        // A short magic-0 message set is still reported as a magic problem.
        let mut short = vec![0u8; 26];
        short[16] = 0;
        assert_eq!(
            validate_batch(&short),
            Err(RecordError::UnsupportedMagic(0))
        );
        assert!(matches!(
            validate_batch(&[0u8; 10]),
            Err(RecordError::Truncated { .. })
        ));
    }

    #[test]
    fn rejects_bad_lengths_and_counts() {
        let b = sample(2);
        // Trailing garbage after the one batch.
        let mut longer = b.clone();
        longer.push(0);
        assert!(matches!(
            validate_batch(&longer),
            Err(RecordError::InvalidLength { .. })
        ));
        // Truncated body.
        assert!(matches!(
            validate_batch(&b[..b.len() - 1]),
            Err(RecordError::Truncated { .. })
        ));
        // batch_length below the minimum.
        let mut small = b.clone();
        small[8..12].copy_from_slice(&48i32.to_be_bytes());
        assert!(matches!(
            validate_batch(&small),
            Err(RecordError::InvalidLength { .. })
        ));
        let mut neg = b.clone();
        neg[57..61].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(matches!(
            validate_batch(&neg),
            Err(RecordError::InvalidRecord(_))
        ));
        let mut neg_delta = b;
        neg_delta[23..27].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(matches!(
            validate_batch(&neg_delta),
            Err(RecordError::InvalidRecord(_))
        ));
    }

    #[test]
    fn every_flipped_bit_in_crc_range_is_caught() {
        let b = sample(2);
        for i in CRC_START..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x40;
            let r = validate_batch(&c);
            assert!(r.is_err(), "flip at {i} not detected");
        }
    }

    #[test]
    fn prefix_rewrites_keep_crc_valid() {
        let mut b = sample(2);
        set_base_offset(&mut b, 12345).unwrap();
        set_partition_leader_epoch(&mut b, 7).unwrap();
        let h = validate_batch(&b).unwrap();
        assert_eq!(h.base_offset, 12345);
        assert_eq!(h.partition_leader_epoch, 7);
        assert_eq!(h.last_offset(), 12346);
        assert!(set_base_offset(&mut [0u8; 4], 1).is_err());
        assert!(set_partition_leader_epoch(&mut [0u8; 15], 1).is_err());
    }

    #[test]
    fn log_append_time_rewrite() {
        let mut b = sample(3);
        let head = log_append_time_header(&b, 99_999).unwrap();
        set_max_timestamp_log_append(&mut b, 99_999).unwrap();
        let h = validate_batch(&b).unwrap();
        assert!(h.timestamp_type_is_log_append());
        assert_eq!(h.max_timestamp, 99_999);
        assert_eq!(h.base_timestamp, 99_999);
        // The streaming variant produces the identical header.
        assert_eq!(&head[..], &b[..BATCH_HEADER_LEN]);
    }

    #[test]
    fn iterates_concatenated_batches_and_stops_at_damage() {
        let mut buf = Vec::new();
        let a = sample(1);
        let b = sample(4);
        buf.extend_from_slice(&a);
        buf.extend_from_slice(&b);
        let hs = validate_batches(&buf).unwrap();
        assert_eq!(hs.len(), 2);
        assert_eq!(complete_batches_prefix(&buf).unwrap(), (buf.len(), 2));
        for cut in 0..buf.len() {
            let (len, n) = complete_batches_prefix(&buf[..cut]).unwrap();
            let expect = if cut < a.len() { (0, 0) } else { (a.len(), 1) };
            assert_eq!((len, n), expect, "cut at {cut}");
            // The validating walker yields the whole batches, then one error.
            let mut it = BatchIter::new(&buf[..cut]);
            let whole: Vec<_> = it.by_ref().take_while(|r| r.is_ok()).collect();
            assert_eq!(whole.len(), n);
        }
        let mut bad = buf.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let mut it = BatchIter::new(&bad);
        assert!(it.next().unwrap().is_ok());
        assert!(matches!(
            it.next(),
            Some(Err(RecordError::CorruptCrc { .. }))
        ));
        assert!(it.next().is_none());
        // Headers-only walking does not look at the CRC.
        assert_eq!(
            BatchIter::headers_only(&bad).filter(|r| r.is_ok()).count(),
            2
        );
    }

    #[test]
    fn sequence_wraps_like_kafka() {
        assert_eq!(increment_sequence(5, 3), 8);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        let mut b = sample(3);
        b[53..57].copy_from_slice(&(i32::MAX - 1).to_be_bytes());
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.last_sequence(), 0);
    }
}
