//! Idempotent and transactional producer state of one partition (Kafka's
//! `ProducerStateManager` / `ProducerAppendInfo`): per producer id, the
//! current epoch, the metadata of the last 5 batches appended (enough to
//! detect retried (duplicate) batches and sequence gaps) and the first
//! offset of its ongoing transaction on this partition, if any (what the
//! last stable offset is computed from).
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
//!   have been removed by retention or expired);
//! * a non-transactional batch from a producer with an ongoing transaction
//!   → `InvalidTxnState` (Kafka: "Expected transactional write").
//!
//! Transactions: the first transactional batch of a producer with no
//! ongoing transaction starts one at its base offset; a COMMIT/ABORT marker
//! ([`ProducerStateManager::end_txn`]) ends it and may carry a higher epoch
//! (the coordinator bumps the epoch when it aborts on a timeout or fences):
//! the cached batches are then dropped, so the next batch must start at
//! sequence 0, as after any epoch bump. Producers with an ongoing
//! transaction never expire.
//!
//! Durability: the state is rebuilt on open by replaying batch headers
//! (never record bodies) from the newest valid snapshot onwards. A snapshot
//! `<offset>.snapshot` is written when a segment rolls and on a clean
//! flush; it holds the state after every batch below `<offset>`:
//!
//! ```text
//!  "SKPS"  magic                    4 bytes
//!  version u16 = 2   (1 is still read: it has no txn_first_offset)
//!  crc     u32  CRC-32C of every byte after this field
//!  count   u32  producers
//!  per producer:
//!    producer_id i64 | epoch i16 | last_timestamp i64
//!    | txn_first_offset i64 (v2 only; -1: no ongoing transaction) | n u8 (<= 5)
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

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::error::{Result, StorageError};
use crate::record::{BatchHeader, NO_PRODUCER_EPOCH, NO_SEQUENCE};

/// Batches remembered per producer (Kafka: `NUM_BATCHES_TO_RETAIN`, which is
/// also the producer's `max.in.flight.requests.per.connection` limit).
pub(crate) const BATCHES_TO_RETAIN: usize = 5;
/// Kafka's `producer.id.expiration.ms` default: one day.
pub(crate) const PRODUCER_ID_EXPIRATION_MS: i64 = 86_400_000;

const SNAPSHOT_MAGIC: &[u8; 4] = b"SKPS";
const SNAPSHOT_VERSION: u16 = 2;
/// Snapshots written before transactions: no `txn_first_offset`.
const SNAPSHOT_VERSION_V1: u16 = 1;

/// What a partition knows of one producer (Kafka's DescribeProducers view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerSummary {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// Last sequence appended, -1 if none.
    pub last_sequence: i32,
    pub last_timestamp: i64,
    /// First offset of its ongoing transaction here, -1 if none.
    pub current_txn_start_offset: i64,
}

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
    /// First offset of the ongoing transaction on this partition.
    txn_first_offset: Option<i64>,
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
    /// `(first offset, producer id)` of every ongoing transaction: the
    /// producers' `txn_first_offset`s, ordered, so the last stable offset
    /// costs no scan of all producers.
    ongoing: BTreeSet<(i64, i64)>,
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
        // No sequence: a batch the broker's own coordinators wrote (Kafka's
        // AppendOrigin.COORDINATOR, e.g. TxnOffsetCommit records); it is
        // never retried by a client, so neither deduplicated nor sequenced.
        // Client batches without a sequence are refused by Produce.
        let coordinator_write = first_seq == NO_SEQUENCE;
        if h.producer_epoch == entry.epoch && !coordinator_write {
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
        if !h.is_transactional() && entry.txn_first_offset.is_some() {
            // Appending it would put a non-transactional batch inside the
            // transaction's offset range, where read_committed consumers
            // would treat it as part of the transaction.
            return Err(StorageError::InvalidTxnState(
                "non-transactional batch from a producer with an ongoing transaction",
            ));
        }
        let ok = if coordinator_write {
            true
        } else if h.producer_epoch != entry.epoch {
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
    /// Control batches are recorded with [`Self::end_txn`] instead.
    pub(crate) fn update(&mut self, h: &BatchHeader) {
        if !h.has_producer_id() || h.is_control() {
            return;
        }
        let entry = self
            .producers
            .entry(h.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: h.producer_epoch,
                batches: VecDeque::with_capacity(BATCHES_TO_RETAIN),
                last_timestamp: h.max_timestamp,
                txn_first_offset: None,
            });
        if entry.epoch != h.producer_epoch {
            entry.batches.clear();
            entry.epoch = h.producer_epoch;
        }
        if h.is_transactional() && entry.txn_first_offset.is_none() {
            entry.txn_first_offset = Some(h.base_offset);
            self.ongoing.insert((h.base_offset, h.producer_id));
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

    /// A COMMIT/ABORT marker with `epoch` may be written for `pid`: its
    /// epoch is not below the producer's current one.
    pub(crate) fn check_marker(&self, pid: i64, epoch: i16) -> Result<()> {
        match self.producers.get(&pid) {
            Some(e) if epoch < e.epoch => Err(StorageError::InvalidProducerEpoch {
                producer_id: pid,
                epoch,
                current_epoch: e.epoch,
            }),
            _ => Ok(()),
        }
    }

    /// Records a COMMIT/ABORT marker of `pid` with `epoch` (no checks: see
    /// [`Self::check_marker`]); returns the first offset of the transaction
    /// it ended, `None` if there was none (a marker is written anyway, as
    /// in Kafka). A higher epoch drops the cached batches (module docs).
    pub(crate) fn end_txn(&mut self, pid: i64, epoch: i16, timestamp: i64) -> Option<i64> {
        let entry = self.producers.entry(pid).or_insert_with(|| ProducerEntry {
            epoch,
            batches: VecDeque::with_capacity(BATCHES_TO_RETAIN),
            last_timestamp: timestamp,
            txn_first_offset: None,
        });
        if entry.epoch != epoch {
            entry.batches.clear();
            entry.epoch = epoch;
        }
        entry.last_timestamp = timestamp;
        let first = entry.txn_first_offset.take();
        if let Some(f) = first {
            self.ongoing.remove(&(f, pid));
        }
        first
    }

    /// The first offset of the earliest ongoing transaction, ignoring
    /// `except`'s (`None`: ignore nobody).
    pub(crate) fn first_unstable_offset(&self, except: Option<i64>) -> Option<i64> {
        self.ongoing
            .iter()
            .find(|(_, id)| Some(*id) != except)
            .map(|&(f, _)| f)
    }

    /// First offset of `pid`'s ongoing transaction.
    pub(crate) fn txn_first_offset(&self, pid: i64) -> Option<i64> {
        self.producers.get(&pid).and_then(|e| e.txn_first_offset)
    }

    /// `(producer_id, first_offset)` of every ongoing transaction, by first
    /// offset.
    pub(crate) fn ongoing_transactions(&self) -> Vec<(i64, i64)> {
        self.ongoing.iter().map(|&(f, id)| (id, f)).collect()
    }

    /// Every producer this partition remembers, by producer id (for
    /// DescribeProducers).
    pub(crate) fn summaries(&self) -> Vec<ProducerSummary> {
        let mut out: Vec<ProducerSummary> = self
            .producers
            .iter()
            .map(|(id, e)| ProducerSummary {
                producer_id: *id,
                producer_epoch: e.epoch,
                last_sequence: e.last_seq(),
                last_timestamp: e.last_timestamp,
                current_txn_start_offset: e.txn_first_offset.unwrap_or(-1),
            })
            .collect();
        out.sort_by_key(|p| p.producer_id);
        out
    }

    /// Forgets producers whose last batch is `expiration_ms` old at `now_ms`,
    /// except those with an ongoing transaction (Kafka keeps them too:
    /// forgetting one would move the last stable offset past its records).
    pub(crate) fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers.retain(|_, e| {
            e.txn_first_offset.is_some() || now_ms.saturating_sub(e.last_timestamp) < expiration_ms
        });
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
            body.extend_from_slice(&e.txn_first_offset.unwrap_or(-1).to_be_bytes());
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
        let version = c.u16()?;
        if version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_V1 {
            return Err("unknown version");
        }
        let crc = c.u32()?;
        if crc32c::crc32c(&buf[c.pos..]) != crc {
            return Err("CRC mismatch");
        }
        let count = c.u32()?;
        let mut producers = HashMap::new();
        let mut ongoing = BTreeSet::new();
        for _ in 0..count {
            let id = c.i64()?;
            let epoch = c.u16()? as i16;
            let last_timestamp = c.i64()?;
            let txn_first_offset = if version == SNAPSHOT_VERSION_V1 {
                None
            } else {
                match c.i64()? {
                    -1 => None,
                    o if o >= 0 => Some(o),
                    _ => return Err("negative transaction offset"),
                }
            };
            if let Some(f) = txn_first_offset {
                ongoing.insert((f, id));
            }
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
                    txn_first_offset,
                },
            );
        }
        if c.pos != buf.len() {
            return Err("trailing bytes");
        }
        Ok(ProducerStateManager { producers, ongoing })
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

    fn txn_h(pid: i64, epoch: i16, seq: i32, count: i32, base: i64) -> BatchHeader {
        BatchHeader {
            attributes: crate::record::ATTR_TRANSACTIONAL,
            ..h(pid, epoch, seq, count, base)
        }
    }

    #[test]
    fn snapshot_v2_carries_ongoing_transactions() {
        let mut m = ProducerStateManager::new();
        m.update(&txn_h(1, 0, 0, 2, 10));
        m.update(&txn_h(2, 0, 0, 1, 12));
        m.update(&txn_h(1, 0, 2, 1, 13)); // same transaction
        m.update(&h(3, 0, 0, 1, 14));
        assert_eq!(m.ongoing_transactions(), vec![(1, 10), (2, 12)]);
        let back = ProducerStateManager::decode_snapshot(&m.encode_snapshot()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.first_unstable_offset(None), Some(10));
        assert_eq!(back.first_unstable_offset(Some(1)), Some(12));
        assert_eq!(m.end_txn(1, 0, 2000), Some(10));
        assert_eq!(m.end_txn(1, 0, 2000), None);
        assert_eq!(m.first_unstable_offset(None), Some(12));
        // Producers with an open transaction never expire.
        assert_eq!(m.remove_expired(i64::MAX, PRODUCER_ID_EXPIRATION_MS), 2);
        assert_eq!(m.ongoing_transactions(), vec![(2, 12)]);
    }

    #[test]
    fn snapshot_v1_is_still_readable() {
        // A version 1 snapshot (no txn_first_offset) of producer 7, epoch
        // 2, one batch (seq 0..=1, offsets 5..=6).
        let mut body = Vec::new();
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&7i64.to_be_bytes());
        body.extend_from_slice(&2i16.to_be_bytes());
        body.extend_from_slice(&1234i64.to_be_bytes());
        body.push(1);
        for v in [0i32, 1] {
            body.extend_from_slice(&v.to_be_bytes());
        }
        for v in [5i64, 6, 1234] {
            body.extend_from_slice(&v.to_be_bytes());
        }
        let mut snap = b"SKPS".to_vec();
        snap.extend_from_slice(&1u16.to_be_bytes());
        snap.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
        snap.extend_from_slice(&body);
        let m = ProducerStateManager::decode_snapshot(&snap).unwrap();
        assert_eq!(m.len(), 1);
        assert!(m.ongoing_transactions().is_empty());
        let dup = m.check(&h(7, 2, 0, 2, 99)).unwrap().unwrap();
        assert_eq!((dup.first_offset, dup.last_offset), (5, 6));
        assert_eq!(m.check(&h(7, 2, 2, 1, 99)).unwrap(), None);
        // What is written now is version 2.
        assert_eq!(&m.encode_snapshot()[4..6], &2u16.to_be_bytes());
        snap[5] = 3;
        assert!(ProducerStateManager::decode_snapshot(&snap).is_err());
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
