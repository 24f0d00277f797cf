//! Committed offsets and group metadata as records of the internal topic
//! `__consumer_offsets` (Kafka's `CoordinatorRecord`s and
//! `CoordinatorPlayback`): every change the coordinator must remember across
//! a restart is appended there as an uncompressed v2 batch, with the same
//! storage engine as every other topic, and the coordinator's state is
//! rebuilt on start by replaying the topic from its first offset.
//!
//! # Record format
//!
//! Byte-for-byte Kafka's (`OffsetCommitKey`/`Value`, `GroupMetadataKey`/
//! `Value` in Kafka's `group-coordinator` JSON schemas, non-flexible
//! versions), so the topic reads like a Kafka broker's. Every key and value
//! starts with an `int16` version; strings are `int16` length + UTF-8
//! (`-1` = null), bytes are `int32` length + bytes, arrays `int32` count.
//!
//! ```text
//! key v0/v1  OffsetCommitKey    group string, topic string, partition int32
//! key v2     GroupMetadataKey   group string
//!
//! OffsetCommitValue v3 (v1 when the commit carried a retention time)
//!   offset int64, [v3: leaderEpoch int32], metadata string,
//!   commitTimestamp int64, [v1: expireTimestamp int64]
//!
//! GroupMetadataValue v3
//!   protocolType string, generation int32, protocol string?, leader string?,
//!   currentStateTimestamp int64,
//!   members [ memberId string, groupInstanceId string?, clientId string,
//!             clientHost string, rebalanceTimeout int32, sessionTimeout int32,
//!             subscription bytes, assignment bytes ]
//! ```
//!
//! A null value is a tombstone: the offset (or the whole group) is gone.
//! The topic is created with `cleanup.policy=compact`; replay reads what
//! the cleaner kept and the last record per key wins.
//!
//! Offsets committed by TxnOffsetCommit are written inside the producer's
//! transaction (a transactional batch with its producer id) and take effect
//! only when that transaction's COMMIT marker follows (see
//! `coordinator_log`).
//!
//! # Durability
//!
//! The topic's own `flush.messages` is set to its maximum so that appends
//! never fsync inside the coordinator's lock; instead [`OffsetsTopic::flush_if_due`]
//! applies the broker's `log.flush.interval.messages` rule (the same one the
//! storage layer applies to every other topic) after the lock is released,
//! and before the response is sent. `flush.ms` is applied by the storage
//! layer's periodic task as for every topic.

use std::sync::Arc;

use bytes::Bytes;
use tracing::warn;

use super::config::GroupConfig;
use super::consumer::records::{is_consumer_group_type, ConsumerGroupRecord};
use super::record_writer::Writer;
use crate::coordinator_log::{CoordinatorLog, CoordinatorLogConfig, ReplayItem, ReplayStats};
use crate::storage::{Log, LogManager, StorageError};

/// The internal topic's name.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

const OFFSET_COMMIT_KEY_VERSION: i16 = 1;
const GROUP_METADATA_KEY_VERSION: i16 = 2;
const GROUP_METADATA_VALUE_VERSION: i16 = 3;

/// A committed offset (Kafka's `OffsetAndMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset the group will consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record, if the client sent one.
    pub leader_epoch: Option<i32>,
    /// Free-form client metadata.
    pub metadata: String,
    /// When it was committed.
    pub commit_timestamp_ms: i64,
    /// Explicit expiry (OffsetCommit v2–v4 `retention_time_ms`), if any.
    pub expire_timestamp_ms: Option<i64>,
}

/// One member as stored in a group metadata record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// Rebalance timeout.
    pub rebalance_timeout_ms: i32,
    /// Session timeout.
    pub session_timeout_ms: i32,
    /// The member's metadata for the group's selected protocol.
    pub subscription: Bytes,
    /// The member's assignment.
    pub assignment: Bytes,
}

/// A group's persistent state (Kafka's `GroupMetadataValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadataValue {
    /// "consumer", ... ("" for groups that only commit offsets).
    pub protocol_type: String,
    /// Generation.
    pub generation: i32,
    /// Selected protocol.
    pub protocol: Option<String>,
    /// Leader member id.
    pub leader: Option<String>,
    /// When the group entered its current state (-1 unknown).
    pub current_state_timestamp_ms: i64,
    /// Members with their assignments.
    pub members: Vec<MemberMetadata>,
}

/// One record of `__consumer_offsets`; `None` values are tombstones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinatorRecord {
    /// A committed offset (or its deletion).
    OffsetCommit {
        /// Group id.
        group: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The offset, or `None` to delete it.
        value: Option<OffsetAndMetadata>,
    },
    /// A group's metadata (or its deletion).
    GroupMetadata {
        /// Group id.
        group: String,
        /// The metadata, or `None` to delete the group.
        value: Option<GroupMetadataValue>,
    },
    /// A KIP-848 consumer group record (its own format, see
    /// `consumer::records`).
    ConsumerGroup {
        /// Group id.
        group: String,
        /// The record.
        record: ConsumerGroupRecord,
    },
}

/// A record of `__consumer_offsets` that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed __consumer_offsets record: {0}")]
pub struct RecordFormatError(&'static str);

impl CoordinatorRecord {
    /// The group the record belongs to (and so the partition it goes to).
    pub fn group(&self) -> &str {
        match self {
            CoordinatorRecord::OffsetCommit { group, .. }
            | CoordinatorRecord::GroupMetadata { group, .. }
            | CoordinatorRecord::ConsumerGroup { group, .. } => group,
        }
    }

    /// Encodes the key.
    pub fn encode_key(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            CoordinatorRecord::OffsetCommit {
                group,
                topic,
                partition,
                ..
            } => {
                w.i16(OFFSET_COMMIT_KEY_VERSION);
                w.string(group);
                w.string(topic);
                w.i32(*partition);
            }
            CoordinatorRecord::GroupMetadata { group, .. } => {
                w.i16(GROUP_METADATA_KEY_VERSION);
                w.string(group);
            }
            CoordinatorRecord::ConsumerGroup { group, record } => return record.encode_key(group),
        }
        w.0
    }

    /// Encodes the value (`None` for a tombstone).
    pub fn encode_value(&self) -> Option<Vec<u8>> {
        let mut w = Writer::default();
        match self {
            CoordinatorRecord::ConsumerGroup { record, .. } => return record.encode_value(),
            CoordinatorRecord::OffsetCommit { value, .. } => {
                let v = value.as_ref()?;
                match v.expire_timestamp_ms {
                    // Kafka writes version 1, the only one with an expire
                    // timestamp (and without a leader epoch), for commits
                    // that carried a retention time.
                    Some(expire) => {
                        w.i16(1);
                        w.i64(v.offset);
                        w.string(&v.metadata);
                        w.i64(v.commit_timestamp_ms);
                        w.i64(expire);
                    }
                    None => {
                        w.i16(3);
                        w.i64(v.offset);
                        w.i32(v.leader_epoch.unwrap_or(-1));
                        w.string(&v.metadata);
                        w.i64(v.commit_timestamp_ms);
                    }
                }
            }
            CoordinatorRecord::GroupMetadata { value, .. } => {
                let v = value.as_ref()?;
                w.i16(GROUP_METADATA_VALUE_VERSION);
                w.string(&v.protocol_type);
                w.i32(v.generation);
                w.nullable_string(v.protocol.as_deref());
                w.nullable_string(v.leader.as_deref());
                w.i64(v.current_state_timestamp_ms);
                w.i32(v.members.len() as i32);
                for m in &v.members {
                    w.string(&m.member_id);
                    w.nullable_string(m.group_instance_id.as_deref());
                    w.string(&m.client_id);
                    w.string(&m.client_host);
                    w.i32(m.rebalance_timeout_ms);
                    w.i32(m.session_timeout_ms);
                    w.bytes(&m.subscription);
                    w.bytes(&m.assignment);
                }
            }
        }
        Some(w.0)
    }

    /// Decodes a record. `Ok(None)` for key versions this broker does not
    /// know (Kafka's newer record types, e.g. KIP-848 groups): skipped.
    pub fn decode(
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<Option<CoordinatorRecord>, RecordFormatError> {
        let mut k = Reader::new(key);
        match k.i16()? {
            0 | 1 => {
                let group = k.string()?;
                let topic = k.string()?;
                let partition = k.i32()?;
                let value = value.map(decode_offset_value).transpose()?;
                Ok(Some(CoordinatorRecord::OffsetCommit {
                    group,
                    topic,
                    partition,
                    value,
                }))
            }
            2 => {
                let group = k.string()?;
                let value = value.map(decode_group_value).transpose()?;
                Ok(Some(CoordinatorRecord::GroupMetadata { group, value }))
            }
            t if is_consumer_group_type(t) => {
                let (group, record) =
                    ConsumerGroupRecord::decode(key, value).map_err(|e| RecordFormatError(e.0))?;
                Ok(Some(CoordinatorRecord::ConsumerGroup { group, record }))
            }
            _ => Ok(None),
        }
    }
}

fn decode_offset_value(value: &[u8]) -> Result<OffsetAndMetadata, RecordFormatError> {
    let mut r = Reader::new(value);
    let version = r.i16()?;
    if !(0..=3).contains(&version) {
        return Err(RecordFormatError("unsupported OffsetCommitValue version"));
    }
    let offset = r.i64()?;
    let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
    let metadata = r.string()?;
    let commit_timestamp_ms = r.i64()?;
    let expire = if version == 1 { r.i64()? } else { -1 };
    Ok(OffsetAndMetadata {
        offset,
        leader_epoch: (leader_epoch >= 0).then_some(leader_epoch),
        metadata,
        commit_timestamp_ms,
        expire_timestamp_ms: (expire >= 0).then_some(expire),
    })
}

fn decode_group_value(value: &[u8]) -> Result<GroupMetadataValue, RecordFormatError> {
    let mut r = Reader::new(value);
    let version = r.i16()?;
    if !(0..=3).contains(&version) {
        return Err(RecordFormatError("unsupported GroupMetadataValue version"));
    }
    let protocol_type = r.string()?;
    let generation = r.i32()?;
    let protocol = r.nullable_string()?;
    let leader = r.nullable_string()?;
    let current_state_timestamp_ms = if version >= 2 { r.i64()? } else { -1 };
    let n = r.i32()?;
    if n < 0 {
        return Err(RecordFormatError("negative member count"));
    }
    let mut members = Vec::new();
    for _ in 0..n {
        let member_id = r.string()?;
        let group_instance_id = if version >= 3 {
            r.nullable_string()?
        } else {
            None
        };
        let client_id = r.string()?;
        let client_host = r.string()?;
        let rebalance_timeout_ms = if version >= 1 { r.i32()? } else { -1 };
        let session_timeout_ms = r.i32()?;
        let subscription = r.bytes()?;
        let assignment = r.bytes()?;
        members.push(MemberMetadata {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout_ms: if rebalance_timeout_ms == -1 {
                session_timeout_ms
            } else {
                rebalance_timeout_ms
            },
            session_timeout_ms,
            subscription,
            assignment,
        });
    }
    Ok(GroupMetadataValue {
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp_ms,
        members,
    })
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordFormatError> {
        let s = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(RecordFormatError("truncated"))?;
        self.pos += n;
        Ok(s)
    }
    fn i16(&mut self) -> Result<i16, RecordFormatError> {
        Ok(i16::from_be_bytes(
            self.take(2)?
                .try_into()
                .map_err(|_| RecordFormatError("truncated"))?,
        ))
    }
    fn i32(&mut self) -> Result<i32, RecordFormatError> {
        Ok(i32::from_be_bytes(
            self.take(4)?
                .try_into()
                .map_err(|_| RecordFormatError("truncated"))?,
        ))
    }
    fn i64(&mut self) -> Result<i64, RecordFormatError> {
        Ok(i64::from_be_bytes(
            self.take(8)?
                .try_into()
                .map_err(|_| RecordFormatError("truncated"))?,
        ))
    }
    fn nullable_string(&mut self) -> Result<Option<String>, RecordFormatError> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let b = self.take(len as usize)?;
        String::from_utf8(b.to_vec())
            .map(Some)
            .map_err(|_| RecordFormatError("string is not UTF-8"))
    }
    fn string(&mut self) -> Result<String, RecordFormatError> {
        self.nullable_string()?
            .ok_or(RecordFormatError("null where a string is required"))
    }
    fn bytes(&mut self) -> Result<Bytes, RecordFormatError> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(Bytes::new());
        }
        Ok(Bytes::copy_from_slice(self.take(len as usize)?))
    }
}

/// Kafka's `Utils.abs(groupId.hashCode()) % partitions` (see
/// [`crate::coordinator_log::partition_for`]).
#[cfg(test)]
pub fn partition_for(group: &str, partitions: usize) -> usize {
    crate::coordinator_log::partition_for(group, partitions)
}

/// One replayed `__consumer_offsets` item.
#[derive(Debug)]
pub enum Replayed {
    /// A record written outside any transaction.
    Record(CoordinatorRecord),
    /// An offset commit written by TxnOffsetCommit: it takes effect only if
    /// the producer's transaction commits.
    TxnRecord {
        producer_id: i64,
        record: CoordinatorRecord,
    },
    /// The producer's transaction on `partition` ended.
    Marker {
        partition: usize,
        producer_id: i64,
        commit: bool,
    },
}

/// The partitions of `__consumer_offsets`: append, flush and replay.
#[derive(Debug)]
pub struct OffsetsTopic {
    log: CoordinatorLog,
}

impl OffsetsTopic {
    /// Opens `__consumer_offsets`, creating it with
    /// `offsets.topic.num.partitions` partitions if it does not exist. An
    /// existing topic keeps its partition count (as in Kafka, changing the
    /// setting later has no effect: groups would move partitions).
    pub fn open(
        logs: &LogManager,
        config: &GroupConfig,
        now_ms: i64,
    ) -> Result<OffsetsTopic, StorageError> {
        let log = CoordinatorLog::open(
            logs,
            &CoordinatorLogConfig {
                topic: OFFSETS_TOPIC,
                partitions: config.offsets_topic_num_partitions,
                segment_bytes: config.offsets_topic_segment_bytes,
                flush_interval_messages: config.flush_interval_messages,
            },
            now_ms,
        )?;
        Ok(OffsetsTopic { log })
    }

    /// The partition that holds `group`'s records.
    pub fn partition_for(&self, group: &str) -> usize {
        self.log.partition_for(group)
    }

    /// The log of `partition` (the transaction coordinator writes markers there).
    pub fn partition_log(&self, partition: usize) -> Option<&Arc<Log>> {
        self.log.partition(partition)
    }

    /// Appends `records` (all of one group) as one batch, inside the
    /// transaction of `producer` (id, epoch) when given. Returns the
    /// partition written; the caller then calls
    /// [`OffsetsTopic::flush_if_due`] once it holds no lock.
    pub fn append(
        &self,
        records: &[CoordinatorRecord],
        producer: Option<(i64, i16)>,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        let Some(first) = records.first() else {
            return Ok(0);
        };
        let partition = self.partition_for(first.group());
        debug_assert!(records
            .iter()
            .all(|r| self.partition_for(r.group()) == partition));
        let encoded: Vec<(Vec<u8>, Option<Vec<u8>>)> = records
            .iter()
            .map(|r| (r.encode_key(), r.encode_value()))
            .collect();
        self.log.append(partition, &encoded, producer, now_ms)?;
        Ok(partition)
    }

    /// fsyncs `partition` if `log.flush.interval.messages` or more offsets
    /// are unflushed (the rule storage applies to every other topic).
    pub fn flush_if_due(&self, partition: usize) -> Result<(), StorageError> {
        self.log.flush_if_due(partition)
    }

    /// Replays every partition from its first offset, in offset order per
    /// partition, calling `apply` for each record and transaction marker.
    /// Records of unknown types or versions are skipped.
    pub fn replay(&self, mut apply: impl FnMut(Replayed)) -> Result<ReplayStats, StorageError> {
        self.log.replay(|item| match item {
            ReplayItem::Record {
                partition,
                offset,
                producer_id,
                key,
                value,
            } => match CoordinatorRecord::decode(key, value) {
                Ok(Some(record)) => apply(match producer_id {
                    Some(producer_id) => Replayed::TxnRecord {
                        producer_id,
                        record,
                    },
                    None => Replayed::Record(record),
                }),
                Ok(None) => {}
                Err(e) => {
                    warn!(partition, offset, error = %e, "skipping record in {OFFSETS_TOPIC}")
                }
            },
            ReplayItem::Marker {
                partition,
                producer_id,
                commit,
            } => apply(Replayed::Marker {
                partition,
                producer_id,
                commit,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(o: i64) -> OffsetAndMetadata {
        OffsetAndMetadata {
            offset: o,
            leader_epoch: Some(3),
            metadata: "m".into(),
            commit_timestamp_ms: 1234,
            expire_timestamp_ms: None,
        }
    }

    fn group_value() -> GroupMetadataValue {
        GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 7,
            protocol: Some("range".into()),
            leader: Some("a-1".into()),
            current_state_timestamp_ms: 99,
            members: vec![MemberMetadata {
                member_id: "a-1".into(),
                group_instance_id: Some("i".into()),
                client_id: "a".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 45_000,
                subscription: Bytes::from_static(b"sub"),
                assignment: Bytes::from_static(b"asg"),
            }],
        }
    }

    fn round_trip(r: CoordinatorRecord) {
        let key = r.encode_key();
        let value = r.encode_value();
        assert_eq!(
            CoordinatorRecord::decode(&key, value.as_deref()).unwrap(),
            Some(r)
        );
    }

    #[test]
    fn records_round_trip() {
        round_trip(CoordinatorRecord::OffsetCommit {
            group: "g".into(),
            topic: "t".into(),
            partition: 4,
            value: Some(offset(42)),
        });
        round_trip(CoordinatorRecord::OffsetCommit {
            group: "g".into(),
            topic: "t".into(),
            partition: 4,
            value: Some(OffsetAndMetadata {
                leader_epoch: None,
                expire_timestamp_ms: Some(5000),
                ..offset(1)
            }),
        });
        round_trip(CoordinatorRecord::OffsetCommit {
            group: "g".into(),
            topic: "t".into(),
            partition: 4,
            value: None,
        });
        round_trip(CoordinatorRecord::GroupMetadata {
            group: "g".into(),
            value: Some(group_value()),
        });
        round_trip(CoordinatorRecord::GroupMetadata {
            group: "g".into(),
            value: None,
        });
    }

    #[test]
    fn key_bytes_are_kafkas() {
        let r = CoordinatorRecord::OffsetCommit {
            group: "g".into(),
            topic: "t".into(),
            partition: 2,
            value: None,
        };
        assert_eq!(
            r.encode_key(),
            vec![0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 2]
        );
        let v = CoordinatorRecord::OffsetCommit {
            group: "g".into(),
            topic: "t".into(),
            partition: 2,
            value: Some(offset(5)),
        }
        .encode_value()
        .unwrap();
        let mut expect = vec![0, 3];
        expect.extend_from_slice(&5i64.to_be_bytes());
        expect.extend_from_slice(&3i32.to_be_bytes());
        expect.extend_from_slice(&[0, 1, b'm']);
        expect.extend_from_slice(&1234i64.to_be_bytes());
        assert_eq!(v, expect);
    }

    #[test]
    fn unknown_key_versions_are_skipped_and_garbage_is_an_error() {
        assert_eq!(CoordinatorRecord::decode(&[0, 9, 1, 2], None), Ok(None));
        assert!(CoordinatorRecord::decode(&[0, 1, 0, 5, b'g'], None).is_err());
        assert!(CoordinatorRecord::decode(&[0, 2, 0, 1, b'g'], Some(&[0, 9])).is_err());
    }

    #[test]
    fn partition_matches_java_string_hash_code() {
        // "java".hashCode() == 3254818; "".hashCode() == 0;
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE (abs → 0).
        assert_eq!(partition_for("java", 50), 3_254_818 % 50);
        assert_eq!(partition_for("", 50), 0);
        assert_eq!(partition_for("polygenelubricants", 50), 0);
        assert_eq!(partition_for("anything", 1), 0);
    }
}
