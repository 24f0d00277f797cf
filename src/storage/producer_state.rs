//! Idempotent producer state of one partition (Kafka's
//! `ProducerStateManager` / `ProducerAppendInfo`): per producer id, the
//! current epoch and the metadata of the last 5 batches appended, enough to
//! detect retried (duplicate) batches and sequence gaps.
//!
//! The rules, checked before a batch with a producer id is appended:
//! * same epoch and the same (first, last) sequence as one of the cached
//!   batches → duplicate: answer with that batch's original offsets, do not
//!   append;
//! * epoch below the known one → `InvalidProducerEpoch`;
//! * epoch above the known one → the first sequence must be 0 (unless the
//!   known epoch is "none", -1), else `OutOfOrderSequence`;
//! * same epoch → the first sequence must follow the last one (wrapping from
//!   `i32::MAX` to 0), else `OutOfOrderSequence`;
//! * an unknown producer id accepts any sequence (its earlier batches may
//!   have been removed by retention or expired).
//!
//! Durability: the state is rebuilt on open by replaying batch headers
//! (never record bodies) from the newest valid snapshot onwards. A snapshot
//! `<offset>.snapshot` is written when a segment rolls and on a clean
//! flush; it holds the state after every batch below `<offset>`:
//!
//! ```text
//!  "SKPS"  magic                    4 bytes
//!  version u16 = 1
//!  crc     u32  CRC-32C of every byte after this field
//!  count   u32  producers
//!  per producer:
//!    producer_id i64 | epoch i16 | last_timestamp i64 | n u8 (<= 5)
//!    n * (first_seq i32 | last_seq i32 | first_offset i64 | last_offset i64 | max_timestamp i64)
//! ```
//!
//! Big-endian throughout. Snapshots written at roll time are not fsynced
//! (that would stall appends); the CRC lets a torn one be detected and
//! skipped in favour of an older snapshot or a longer replay.
//!
//! Producers whose last batch timestamp is older than
//! [`PRODUCER_ID_EXPIRATION_MS`] (Kafka's `producer.id.expiration.ms`
//! default) are forgotten by [`ProducerStateManager::remove_expired`], so
//! memory is bounded by the producers active in the last day.

use std::collections::{HashMap, VecDeque};

use super::error::{Result, StorageError};
use crate::record::{BatchHeader, NO_PRODUCER_EPOCH, NO_SEQUENCE};

/// Batches remembered per producer (Kafka: `NUM_BATCHES_TO_RETAIN`, which is
/// also the producer's `max.in.flight.requests.per.connection` limit).
pub(crate) const BATCHES_TO_RETAIN: usize = 5;
/// Kafka's `producer.id.expiration.ms` default: one day.
pub(crate) const PRODUCER_ID_EXPIRATION_MS: i64 = 86_400_000;

const SNAPSHOT_MAGIC: &[u8; 4] = b"SKPS";
const SNAPSHOT_VERSION: u16 = 1;

/// Offsets and sequences of one appended batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchMetadata {
    pub(crate) first_seq: i32,
    pub(crate) last_seq: i32,
    pub(crate) first_offset: i64,
    pub(crate) last_offset: i64,
    pub(crate) max_timestamp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMetadata>,
    last_timestamp: i64,
}

impl ProducerEntry {
    fn last_seq(&self) -> i32 {
        self.batches.back().map_or(NO_SEQUENCE, |b| b.last_seq)
    }
}

fn in_sequence(last_seq: i32, next_seq: i32) -> bool {
    i64::from(next_seq) == i64::from(last_seq) + 1 || (next_seq == 0 && last_seq == i32::MAX)
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ProducerStateManager {
    producers: HashMap<i64, ProducerEntry>,
}

impl ProducerStateManager {
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn len(&self) -> usize {
        self.producers.len()
    }

    /// Base offset of each known producer's last appended batch (the batch
    /// the cleaner must not remove entirely).
    pub(crate) fn last_batch_offsets(&self) -> HashMap<i64, i64> {
        self.producers
            .iter()
            .filter_map(|(id, e)| e.batches.back().map(|b| (*id, b.first_offset)))
            .collect()
    }

    /// Applies the rules in the module docs to a batch about to be
    /// appended. `Ok(Some(meta))` = duplicate of an appended batch.
    pub(crate) fn check(&self, h: &BatchHeader) -> Result<Option<BatchMetadata>> {
        let pid = h.producer_id;
        let Some(entry) = self.producers.get(&pid) else {
            return Ok(None);
        };
        let first_seq = h.base_sequence;
        if h.producer_epoch == entry.epoch {
            let last_seq = h.last_sequence();
            if let Some(dup) = entry
                .batches
                .iter()
                .find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
            {
                return Ok(Some(*dup));
            }
        }
        if h.producer_epoch < entry.epoch {
            return Err(StorageError::InvalidProducerEpoch {
                producer_id: pid,
                epoch: h.producer_epoch,
                current_epoch: entry.epoch,
            });
        }
        let ok = if h.producer_epoch != entry.epoch {
            first_seq == 0 || entry.epoch == NO_PRODUCER_EPOCH
        } else {
            in_sequence(entry.last_seq(), first_seq)
        };
        if !ok {
            return Err(StorageError::OutOfOrderSequence {
                producer_id: pid,
                epoch: h.producer_epoch,
                first_seq,
                last_seq: entry.last_seq(),
            });
        }
        Ok(None)
    }

    /// Records an appended batch (`h` with its assigned offsets). Also used
    /// to replay the log on open, where no checks apply.
    pub(crate) fn update(&mut self, h: &BatchHeader) {
        if !h.has_producer_id() {
            return;
        }
        let entry = self
            .producers
            .entry(h.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: h.producer_epoch,
                batches: VecDeque::with_capacity(BATCHES_TO_RETAIN),
                last_timestamp: h.max_timestamp,
            });
        if entry.epoch != h.producer_epoch {
            entry.batches.clear();
            entry.epoch = h.producer_epoch;
        }
        if entry.batches.len() == BATCHES_TO_RETAIN {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMetadata {
            first_seq: h.base_sequence,
            last_seq: h.last_sequence(),
            first_offset: h.base_offset,
            last_offset: h.last_offset(),
            max_timestamp: h.max_timestamp,
        });
        entry.last_timestamp = h.max_timestamp;
    }

    /// Forgets producers whose last batch is `expiration_ms` old at `now_ms`.
    pub(crate) fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers
            .retain(|_, e| now_ms.saturating_sub(e.last_timestamp) < expiration_ms);
        before - self.producers.len()
    }

    /// Encodes the snapshot format described in the module docs.
    pub(crate) fn encode_snapshot(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let mut ids: Vec<_> = self.producers.keys().copied().collect();
        ids.sort_unstable();
        body.extend_from_slice(&(ids.len() as u32).to_be_bytes());
        for id in ids {
            let Some(e) = self.producers.get(&id) else {
                continue;
            };
            body.extend_from_slice(&id.to_be_bytes());
            body.extend_from_slice(&e.epoch.to_be_bytes());
            body.extend_from_slice(&e.last_timestamp.to_be_bytes());
            body.push(e.batches.len() as u8);
            for b in &e.batches {
                body.extend_from_slice(&b.first_seq.to_be_bytes());
                body.extend_from_slice(&b.last_seq.to_be_bytes());
                body.extend_from_slice(&b.first_offset.to_be_bytes());
                body.extend_from_slice(&b.last_offset.to_be_bytes());
                body.extend_from_slice(&b.max_timestamp.to_be_bytes());
            }
        }
        let mut out = Vec::with_capacity(body.len() + 10);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Decodes a snapshot; any inconsistency is an error (the caller then
    /// falls back to an older snapshot or a full replay).
    pub(crate) fn decode_snapshot(buf: &[u8]) -> std::result::Result<Self, &'static str> {
        let mut c = Cursor { buf, pos: 0 };
        if c.take(4)? != SNAPSHOT_MAGIC {
            return Err("bad magic");
        }
        if c.u16()? != SNAPSHOT_VERSION {
            return Err("unknown version");
        }
        let crc = c.u32()?;
        if crc32c::crc32c(&buf[c.pos..]) != crc {
            return Err("CRC mismatch");
        }
        let count = c.u32()?;
        let mut producers = HashMap::new();
        for _ in 0..count {
            let id = c.i64()?;
            let epoch = c.u16()? as i16;
            let last_timestamp = c.i64()?;
            let n = c.take(1)?[0] as usize;
            if n > BATCHES_TO_RETAIN {
                return Err("too many batches for a producer");
            }
            let mut batches = VecDeque::with_capacity(BATCHES_TO_RETAIN);
            for _ in 0..n {
                batches.push_back(BatchMetadata {
                    first_seq: c.u32()? as i32,
                    last_seq: c.u32()? as i32,
                    first_offset: c.i64()?,
                    last_offset: c.i64()?,
                    max_timestamp: c.i64()?,
                });
            }
            producers.insert(
                id,
                ProducerEntry {
                    epoch,
                    batches,
                    last_timestamp,
                },
            );
        }
        if c.pos != buf.len() {
            return Err("trailing bytes");
        }
        Ok(ProducerStateManager { producers })
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], &'static str> {
        let s = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or("truncated")?;
        self.pos += n;
        Ok(s)
    }
    fn u16(&mut self) -> std::result::Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> std::result::Result<u32, &'static str> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> std::result::Result<i64, &'static str> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pid: i64, epoch: i16, seq: i32, count: i32, base: i64) -> BatchHeader {
        BatchHeader {
            base_offset: base,
            batch_length: 100,
            partition_leader_epoch: 0,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta: count - 1,
            base_timestamp: 1000,
            max_timestamp: 1000 + base,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            record_count: count,
        }
    }

    #[test]
    fn sequence_rules() {
        let mut m = ProducerStateManager::new();
        // Unknown producer: any sequence.
        assert_eq!(m.check(&h(1, 0, 42, 2, 0)).unwrap(), None);
        m.update(&h(1, 0, 42, 2, 0)); // seq 42..43, offsets 0..1
                                      // Next in sequence.
        assert_eq!(m.check(&h(1, 0, 44, 1, 2)).unwrap(), None);
        m.update(&h(1, 0, 44, 1, 2));
        // Gap and going back (non-duplicate).
        assert!(matches!(
            m.check(&h(1, 0, 46, 1, 3)),
            Err(StorageError::OutOfOrderSequence {
                first_seq: 46,
                last_seq: 44,
                ..
            })
        ));
        assert!(matches!(
            m.check(&h(1, 0, 43, 1, 3)),
            Err(StorageError::OutOfOrderSequence { .. })
        ));
        // Duplicates of both cached batches return the original offsets.
        let dup = m.check(&h(1, 0, 42, 2, 99)).unwrap().unwrap();
        assert_eq!((dup.first_offset, dup.last_offset), (0, 1));
        assert_eq!(
            m.check(&h(1, 0, 44, 1, 99)).unwrap().unwrap().first_offset,
            2
        );
        // Same sequences under a new epoch are not duplicates; new epoch must start at 0.
        assert!(matches!(
            m.check(&h(1, 1, 42, 2, 3)),
            Err(StorageError::OutOfOrderSequence { .. })
        ));
        assert_eq!(m.check(&h(1, 1, 0, 1, 3)).unwrap(), None);
        m.update(&h(1, 1, 0, 1, 3));
        // Old epoch is fenced, even for what used to be a duplicate.
        assert!(matches!(
            m.check(&h(1, 0, 42, 2, 4)),
            Err(StorageError::InvalidProducerEpoch {
                epoch: 0,
                current_epoch: 1,
                ..
            })
        ));
    }

    #[test]
    fn only_last_five_batches_are_deduplicated() {
        let mut m = ProducerStateManager::new();
        for i in 0..7 {
            m.update(&h(9, 3, i, 1, i64::from(i)));
        }
        for i in 0..2 {
            assert!(m.check(&h(9, 3, i, 1, 100)).is_err(), "seq {i} evicted");
        }
        for i in 2..7 {
            assert_eq!(
                m.check(&h(9, 3, i, 1, 100)).unwrap().unwrap().first_offset,
                i64::from(i)
            );
        }
    }

    #[test]
    fn sequence_wraps() {
        let mut m = ProducerStateManager::new();
        m.update(&h(1, 0, i32::MAX - 1, 2, 0)); // MAX-1 ..= MAX
        assert_eq!(m.check(&h(1, 0, 0, 3, 2)).unwrap(), None);
        m.update(&h(1, 0, i32::MAX, 2, 5)); // MAX ..= 0 (wrapped)
        assert_eq!(m.check(&h(1, 0, 1, 1, 7)).unwrap(), None);
    }

    #[test]
    fn snapshot_roundtrip_and_corruption() {
        let mut m = ProducerStateManager::new();
        for i in 0..8 {
            m.update(&h(i % 3, 1, i as i32 * 10, 2, i * 2));
        }
        let snap = m.encode_snapshot();
        assert_eq!(ProducerStateManager::decode_snapshot(&snap).unwrap(), m);
        for cut in 0..snap.len() {
            assert!(ProducerStateManager::decode_snapshot(&snap[..cut]).is_err());
        }
        for i in 0..snap.len() {
            let mut c = snap.clone();
            c[i] ^= 0x01;
            assert!(
                ProducerStateManager::decode_snapshot(&c).is_err(),
                "flip at {i}"
            );
        }
        let empty = ProducerStateManager::new().encode_snapshot();
        assert_eq!(
            ProducerStateManager::decode_snapshot(&empty).unwrap().len(),
            0
        );
    }

    #[test]
    fn expiry() {
        let mut m = ProducerStateManager::new();
        m.update(&h(1, 0, 0, 1, 0)); // max ts 1000
        m.update(&h(2, 0, 0, 1, 5000)); // max ts 6000
        assert_eq!(
            m.remove_expired(1000 + PRODUCER_ID_EXPIRATION_MS, PRODUCER_ID_EXPIRATION_MS),
            1
        );
        assert_eq!(m.len(), 1);
        assert_eq!(
            m.check(&h(1, 0, 77, 1, 0)).unwrap(),
            None,
            "expired id is unknown again"
        );
    }
}
