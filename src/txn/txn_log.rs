//! The records of `__transaction_state`, byte for byte Kafka's
//! (`TransactionLogKey` v0 / `TransactionLogValue` v0 of Kafka's
//! transaction-coordinator JSON schemas), so the topic reads like a Kafka
//! broker's:
//!
//! ```text
//! key   v0  version int16 = 0, transactionalId string
//! value v0  version int16 = 0, producerId int64, producerEpoch int16,
//!           transactionTimeoutMs int32, transactionStatus int8,
//!           transactionPartitions [ topic string, partitionIds [int32] ],
//!           transactionLastUpdateTimestampMs int64,
//!           transactionStartTimestampMs int64
//! ```
//!
//! Strings are int16 length + UTF-8, arrays int32 count, big-endian. A null
//! value is a tombstone: the transactional id expired.

use std::collections::BTreeSet;

use super::state::{TxnMetadata, TxnState};

const KEY_VERSION: i16 = 0;
const VALUE_VERSION: i16 = 0;

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed __transaction_state record: {0}")]
pub struct TxnRecordError(&'static str);

/// The key of `transactional_id`'s records.
pub fn encode_key(transactional_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + transactional_id.len());
    out.extend_from_slice(&KEY_VERSION.to_be_bytes());
    put_string(&mut out, transactional_id);
    out
}

/// The value recording `m`.
pub fn encode_value(m: &TxnMetadata) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&VALUE_VERSION.to_be_bytes());
    out.extend_from_slice(&m.producer_id.to_be_bytes());
    out.extend_from_slice(&m.producer_epoch.to_be_bytes());
    out.extend_from_slice(&m.timeout_ms.to_be_bytes());
    out.push(m.state.id() as u8);
    let mut topics: Vec<(&str, Vec<i32>)> = Vec::new();
    for (topic, partition) in &m.partitions {
        match topics.last_mut() {
            Some((t, ps)) if *t == topic.as_str() => ps.push(*partition),
            _ => topics.push((topic, vec![*partition])),
        }
    }
    out.extend_from_slice(&(topics.len() as i32).to_be_bytes());
    for (topic, partitions) in topics {
        put_string(&mut out, topic);
        out.extend_from_slice(&(partitions.len() as i32).to_be_bytes());
        for p in partitions {
            out.extend_from_slice(&p.to_be_bytes());
        }
    }
    out.extend_from_slice(&m.last_update_ms.to_be_bytes());
    out.extend_from_slice(&m.start_ms.to_be_bytes());
    out
}

/// The transactional id of a key; `Ok(None)` for a key version this broker
/// does not know (skipped, as Kafka skips unknown record types).
pub fn decode_key(key: &[u8]) -> Result<Option<String>, TxnRecordError> {
    let mut r = Reader(key);
    if r.i16()? != KEY_VERSION {
        return Ok(None);
    }
    Ok(Some(r.string()?))
}

/// The metadata of a value (`transactional_id` comes from the key).
pub fn decode_value(transactional_id: &str, value: &[u8]) -> Result<TxnMetadata, TxnRecordError> {
    let mut r = Reader(value);
    let version = r.i16()?;
    if !(0..=1).contains(&version) {
        return Err(TxnRecordError("unknown value version"));
    }
    let producer_id = r.i64()?;
    let producer_epoch = r.i16()?;
    let timeout_ms = r.i32()?;
    let state = TxnState::from_id(r.i8()?).ok_or(TxnRecordError("unknown state"))?;
    let mut partitions = BTreeSet::new();
    let topics = r.i32()?;
    for _ in 0..topics.max(0) {
        let topic = r.string()?;
        let n = r.i32()?;
        for _ in 0..n.max(0) {
            partitions.insert((topic.clone(), r.i32()?));
        }
    }
    let last_update_ms = r.i64()?;
    let start_ms = r.i64()?;
    Ok(TxnMetadata {
        transactional_id: transactional_id.to_string(),
        producer_id,
        previous_producer_id: -1,
        producer_epoch,
        last_producer_epoch: -1,
        timeout_ms,
        state,
        partitions,
        start_ms,
        last_update_ms,
    })
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    // Transactional ids and topic names are far below i16::MAX bytes
    // (the request decoder bounds them); truncating keeps the record valid.
    let len = s.len().min(i16::MAX as usize);
    out.extend_from_slice(&(len as i16).to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..len]);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TxnRecordError> {
        if self.0.len() < n {
            return Err(TxnRecordError("truncated"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn i8(&mut self) -> Result<i8, TxnRecordError> {
        Ok(self.take(1)?[0] as i8)
    }
    fn i16(&mut self) -> Result<i16, TxnRecordError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32, TxnRecordError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, TxnRecordError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(i64::from_be_bytes(a))
    }
    fn string(&mut self) -> Result<String, TxnRecordError> {
        let len = self.i16()?;
        if len < 0 {
            return Err(TxnRecordError("null string"));
        }
        let b = self.take(len as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| TxnRecordError("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut m = TxnMetadata::new("my-txn", 42, 60_000, 1_000);
        m.producer_epoch = 3;
        m.transition(TxnState::Ongoing, 2_000);
        m.partitions.insert(("a".into(), 0));
        m.partitions.insert(("a".into(), 2));
        m.partitions.insert(("b".into(), 1));
        let key = encode_key(&m.transactional_id);
        assert_eq!(key, [0, 0, 0, 6, b'm', b'y', b'-', b't', b'x', b'n']);
        let id = decode_key(&key).unwrap().unwrap();
        let back = decode_value(&id, &encode_value(&m)).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn value_bytes_are_kafkas() {
        let mut m = TxnMetadata::new("t", 1, 2, 3);
        m.producer_epoch = 4;
        let v = encode_value(&m);
        // version, pid, epoch, timeout, state, 0 topics, last update, start
        let mut expect = vec![0, 0];
        expect.extend_from_slice(&1i64.to_be_bytes());
        expect.extend_from_slice(&4i16.to_be_bytes());
        expect.extend_from_slice(&2i32.to_be_bytes());
        expect.push(0);
        expect.extend_from_slice(&0i32.to_be_bytes());
        expect.extend_from_slice(&3i64.to_be_bytes());
        expect.extend_from_slice(&(-1i64).to_be_bytes());
        assert_eq!(v, expect);
    }

    #[test]
    fn garbage_is_an_error_and_unknown_keys_are_skipped() {
        assert_eq!(decode_key(&[0, 1, 0, 0]).unwrap(), None);
        assert!(decode_key(&[0, 0, 0, 9, b'x']).is_err());
        assert!(decode_value("t", &[0, 0, 1]).is_err());
        let mut v = encode_value(&TxnMetadata::new("t", 1, 2, 3));
        v[16] = 99; // state byte
        assert!(decode_value("t", &v).is_err());
    }
}
