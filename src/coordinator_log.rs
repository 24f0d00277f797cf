//! The log of a coordinator's state: the partitions of one internal,
//! compacted topic (`__consumer_offsets`, `__transaction_state`) that a
//! coordinator appends keyed records to, flushes outside its own lock, and
//! replays on start to rebuild its state (Kafka's `CoordinatorPlayback`).
//!
//! Replay hands every record over in offset order per partition together
//! with the transaction it belongs to (a transactional batch's producer id)
//! and every COMMIT/ABORT marker, so a coordinator that writes
//! transactional records (the group coordinator's TxnOffsetCommit) can hold
//! them back until their transaction's marker. Batches this broker cannot
//! read (compressed ones, malformed ones) are skipped with a warning.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use tracing::{info, warn};

use crate::record::{BatchBuilder, BatchIter, NewRecord, RecordIter, ATTR_TRANSACTIONAL};
use crate::storage::{Log, LogManager, StorageError};

/// Where and how a coordinator log lives.
#[derive(Debug, Clone)]
pub struct CoordinatorLogConfig {
    /// The internal topic.
    pub topic: &'static str,
    /// Partitions when the topic is created.
    pub partitions: i32,
    /// `segment.bytes` of the topic.
    pub segment_bytes: i64,
    /// `log.flush.interval.messages`, applied by [`CoordinatorLog::flush_if_due`].
    pub flush_interval_messages: i64,
}

/// One item of a replay.
#[derive(Debug)]
pub enum ReplayItem<'a> {
    /// A keyed record; `producer_id` is set when it was written inside a transaction.
    Record {
        partition: usize,
        offset: i64,
        producer_id: Option<i64>,
        key: &'a [u8],
        value: Option<&'a [u8]>,
    },
    /// A transaction marker: the producer's transaction on this partition ended.
    Marker {
        partition: usize,
        producer_id: i64,
        commit: bool,
    },
}

/// What a replay found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records handed to the coordinator.
    pub records: u64,
    /// Records or batches skipped (compressed, keyless or malformed).
    pub skipped: u64,
}

/// The partitions of one coordinator's internal topic.
#[derive(Debug)]
pub struct CoordinatorLog {
    topic: &'static str,
    partitions: Vec<Arc<Log>>,
    flush_interval_messages: i64,
}

/// Kafka's `Utils.abs(key.hashCode()) % partitions` with Java's
/// `String.hashCode` over UTF-16 code units, so a key lands on the partition
/// a Kafka broker would pick.
pub fn partition_for(key: &str, partitions: usize) -> usize {
    let mut h: i32 = 0;
    for unit in key.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    // Kafka's Utils.abs maps i32::MIN to 0 rather than overflowing.
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() } as usize;
    abs % partitions.max(1)
}

impl CoordinatorLog {
    /// Opens the topic, creating it (compacted) if it does not exist. An
    /// existing topic keeps its partition count: keys would move otherwise.
    pub fn open(
        logs: &LogManager,
        config: &CoordinatorLogConfig,
        now_ms: i64,
    ) -> Result<CoordinatorLog, StorageError> {
        let topic = match logs.topic(config.topic) {
            Some(t) => {
                if t.partition_count() != config.partitions {
                    warn!(
                        existing = t.partition_count(),
                        configured = config.partitions,
                        "{} exists with a different partition count; keeping it",
                        config.topic
                    );
                }
                t
            }
            None => {
                let overrides = BTreeMap::from([
                    ("cleanup.policy".to_string(), "compact".to_string()),
                    (
                        "segment.bytes".to_string(),
                        config.segment_bytes.to_string(),
                    ),
                    // The coordinator flushes itself, after its lock is
                    // released (see `flush_if_due`).
                    ("flush.messages".to_string(), i64::MAX.to_string()),
                ]);
                logs.create_topic(
                    config.topic,
                    config.partitions,
                    uuid::Uuid::new_v4(),
                    overrides,
                    now_ms,
                )?
            }
        };
        Ok(CoordinatorLog {
            topic: config.topic,
            partitions: topic.partitions(),
            flush_interval_messages: config.flush_interval_messages,
        })
    }

    /// The partition that holds `key`'s records.
    pub fn partition_for(&self, key: &str) -> usize {
        partition_for(key, self.partitions.len())
    }

    /// The partition's log (to write transaction markers into).
    pub fn partition(&self, partition: usize) -> Option<&Arc<Log>> {
        self.partitions.get(partition)
    }

    /// Appends `records` to `partition` as one uncompressed batch; inside
    /// the transaction of `producer` (id, epoch) when given. The caller then
    /// calls [`CoordinatorLog::flush_if_due`] once it holds no lock.
    pub fn append(
        &self,
        partition: usize,
        records: &[(Vec<u8>, Option<Vec<u8>>)],
        producer: Option<(i64, i16)>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let log = self
            .partitions
            .get(partition)
            .ok_or_else(|| StorageError::UnknownTopic(self.topic.to_string()))?;
        if records.is_empty() {
            return Ok(());
        }
        let encoded: Vec<NewRecord> = records
            .iter()
            .map(|(k, v)| NewRecord {
                timestamp: now_ms,
                key: Some(k.clone()),
                value: v.clone(),
                headers: Vec::new(),
            })
            .collect();
        let mut builder = BatchBuilder::new(0, now_ms);
        if let Some((id, epoch)) = producer {
            // No sequence: coordinator writes are not retried by a client,
            // so storage skips the idempotence checks for them (Kafka's
            // AppendOrigin.COORDINATOR) but still tracks the transaction.
            builder = builder.producer(id, epoch, crate::record::NO_SEQUENCE);
            builder.attributes |= ATTR_TRANSACTIONAL;
        }
        let batch = builder.build(&encoded);
        log.append(Bytes::from(batch), now_ms)?;
        Ok(())
    }

    /// fsyncs `partition` if `log.flush.interval.messages` or more offsets
    /// are unflushed (the rule storage applies to every other topic).
    pub fn flush_if_due(&self, partition: usize) -> Result<(), StorageError> {
        let Some(log) = self.partitions.get(partition) else {
            return Ok(());
        };
        if log.log_end_offset() - log.flushed_offset() >= self.flush_interval_messages {
            log.flush()?;
        }
        Ok(())
    }

    /// Replays every partition from its first offset, in offset order per
    /// partition (see the module docs).
    pub fn replay(
        &self,
        mut apply: impl FnMut(ReplayItem<'_>),
    ) -> Result<ReplayStats, StorageError> {
        const READ_BYTES: usize = 1 << 20;
        let mut stats = ReplayStats::default();
        for (partition, log) in self.partitions.iter().enumerate() {
            let mut offset = log.log_start_offset();
            let end = log.log_end_offset();
            while offset < end {
                let read = log.read(
                    offset,
                    READ_BYTES,
                    true,
                    crate::storage::Isolation::ReadUncommitted,
                )?;
                if read.records.is_empty() {
                    break;
                }
                let before = offset;
                for item in BatchIter::new(&read.records) {
                    let (at, header) = match item {
                        Ok(x) => x,
                        Err(e) => {
                            warn!(partition = %log.topic_partition(), offset, error = %e,
                                "unreadable batch in {}", self.topic);
                            stats.skipped += 1;
                            break;
                        }
                    };
                    let batch = &read.records[at..at + header.total_len()];
                    // A read may start inside a batch (after DeleteRecords).
                    let floor = offset;
                    offset = offset.max(header.next_offset());
                    if header.compression() != 0 {
                        stats.skipped += 1;
                        continue;
                    }
                    let records = match RecordIter::new(batch) {
                        Ok(r) => r,
                        Err(e) => {
                            warn!(error = %e, "skipping batch in {}", self.topic);
                            stats.skipped += 1;
                            continue;
                        }
                    };
                    let producer_id = (header.is_transactional() && header.has_producer_id())
                        .then_some(header.producer_id);
                    for rec in records {
                        let rec = match rec {
                            Ok(r) => r,
                            Err(e) => {
                                warn!(error = %e, "malformed record in {}", self.topic);
                                stats.skipped += 1;
                                break;
                            }
                        };
                        if rec.offset < floor {
                            continue;
                        }
                        let Some(key) = rec.key else {
                            stats.skipped += 1;
                            continue;
                        };
                        if header.is_control() {
                            // Control record key: version int16, type int16
                            // (0 = ABORT, 1 = COMMIT).
                            match key {
                                [_, _, 0, t @ (0 | 1), ..] => apply(ReplayItem::Marker {
                                    partition,
                                    producer_id: header.producer_id,
                                    commit: *t == 1,
                                }),
                                _ => stats.skipped += 1,
                            }
                            continue;
                        }
                        stats.records += 1;
                        apply(ReplayItem::Record {
                            partition,
                            offset: rec.offset,
                            producer_id,
                            key,
                            value: rec.value,
                        });
                    }
                }
                if offset == before {
                    // Nothing advanced (a batch we could not read at all):
                    // stop rather than loop.
                    break;
                }
            }
        }
        if stats.records > 0 || stats.skipped > 0 {
            info!(
                records = stats.records,
                skipped = stats.skipped,
                "replayed {}",
                self.topic
            );
        }
        Ok(stats)
    }
}
