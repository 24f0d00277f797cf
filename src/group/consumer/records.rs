//! The records a consumer group leaves in `__consumer_offsets`, byte for
//! byte Kafka 4.1's (`ConsumerGroup*Key`/`Value` in Kafka's
//! `group-coordinator` JSON schemas), so the topic reads like a Kafka
//! broker's and a restart rebuilds every group, member epoch and assignment
//! by replaying them (see [`super::group::ConsumerGroup::apply`]).
//!
//! Keys are non-flexible: `int16` record type, then `int16`-length strings.
//! Values are version 0 and flexible: compact strings and arrays (unsigned
//! varint length + 1), 16-byte uuids, and a tagged-field section at the end.
//!
//! ```text
//! type 3  ConsumerGroupMetadata               group           -> epoch, [tag 0] metadataHash
//! type 5  ConsumerGroupMemberMetadata         group, member   -> instance, rack, client id/host,
//!                                                                topics, regex, rebalance timeout, assignor
//! type 6  ConsumerGroupTargetAssignmentMetadata group         -> assignment epoch
//! type 7  ConsumerGroupTargetAssignmentMember group, member   -> [topic id, partitions]
//! type 8  ConsumerGroupCurrentMemberAssignment group, member  -> epoch, previous epoch, state,
//!                                                                assigned, pending revocation
//! type 16 ConsumerGroupRegularExpression      group, regex    -> topics, version, timestamp
//! ```
//!
//! Type 4 (`ConsumerGroupPartitionMetadata`, before 4.1) is read and
//! ignored, as Kafka 4.1 does once it has the metadata hash.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::assignment::Assignment;
use super::member::MemberState;
use crate::group::record_writer::Writer;

/// Record types (the key's leading `int16`).
pub const GROUP_METADATA: i16 = 3;
pub const PARTITION_METADATA: i16 = 4;
pub const MEMBER_METADATA: i16 = 5;
pub const TARGET_ASSIGNMENT_METADATA: i16 = 6;
pub const TARGET_ASSIGNMENT_MEMBER: i16 = 7;
pub const CURRENT_MEMBER_ASSIGNMENT: i16 = 8;
pub const REGULAR_EXPRESSION: i16 = 16;

/// Whether a key of type `t` is a consumer group record.
pub fn is_consumer_group_type(t: i16) -> bool {
    matches!(t, 3..=8 | 16)
}

/// A member's subscription as its metadata record stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: BTreeSet<String>,
    pub subscribed_topic_regex: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub server_assignor: Option<String>,
    /// Tagged field 0: set for a member that joined with JoinGroup (the
    /// classic protocol) and lives in a consumer group.
    pub classic: Option<ClassicMemberMetadata>,
}

/// What a classic-protocol member of a consumer group sent in JoinGroup
/// (Kafka's `ConsumerGroupMemberMetadataValue.ClassicMemberMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicMemberMetadata {
    /// `session.timeout.ms` of its JoinGroup.
    pub session_timeout_ms: i32,
    /// Its protocols (assignor name, subscription bytes), preferred first.
    pub supported_protocols: Vec<(String, bytes::Bytes)>,
}

/// A member's reconciliation state as its current-assignment record stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentAssignment {
    pub member_epoch: i32,
    pub previous_member_epoch: i32,
    pub state: MemberState,
    pub assigned: Assignment,
    pub pending_revocation: Assignment,
}

/// A regular expression resolved to topic names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRegex {
    /// The topics it matched.
    pub topics: BTreeSet<String>,
    /// A fingerprint of the topic list it was resolved against.
    pub version: i64,
    /// When it was resolved.
    pub timestamp_ms: i64,
}

/// One consumer group record of one group; `None` payloads are tombstones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerGroupRecord {
    /// Group epoch and the hash of its subscribed topics' metadata.
    GroupEpoch(Option<(i32, i64)>),
    /// Pre-4.1 subscription metadata: only its tombstone matters.
    PartitionMetadata,
    /// A member's subscription.
    MemberMetadata(String, Option<MemberMetadata>),
    /// The epoch of the target assignment.
    TargetAssignmentEpoch(Option<i32>),
    /// A member's target assignment.
    TargetAssignment(String, Option<Assignment>),
    /// A member's current assignment and epochs.
    CurrentAssignment(String, Option<CurrentAssignment>),
    /// A resolved regular expression.
    RegularExpression(String, Option<ResolvedRegex>),
}

/// A consumer group record that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed consumer group record: {0}")]
pub struct ConsumerRecordError(pub &'static str);

type Result<T> = std::result::Result<T, ConsumerRecordError>;

impl ConsumerGroupRecord {
    /// The key of this record of `group`.
    pub fn encode_key(&self, group: &str) -> Vec<u8> {
        let mut w = Writer::default();
        let (t, second) = match self {
            ConsumerGroupRecord::GroupEpoch(_) => (GROUP_METADATA, None),
            ConsumerGroupRecord::PartitionMetadata => (PARTITION_METADATA, None),
            ConsumerGroupRecord::MemberMetadata(m, _) => (MEMBER_METADATA, Some(m)),
            ConsumerGroupRecord::TargetAssignmentEpoch(_) => (TARGET_ASSIGNMENT_METADATA, None),
            ConsumerGroupRecord::TargetAssignment(m, _) => (TARGET_ASSIGNMENT_MEMBER, Some(m)),
            ConsumerGroupRecord::CurrentAssignment(m, _) => (CURRENT_MEMBER_ASSIGNMENT, Some(m)),
            ConsumerGroupRecord::RegularExpression(r, _) => (REGULAR_EXPRESSION, Some(r)),
        };
        w.i16(t);
        w.string(group);
        if let Some(s) = second {
            w.string(s);
        }
        w.0
    }

    /// The value (`None`: a tombstone).
    pub fn encode_value(&self) -> Option<Vec<u8>> {
        let mut w = Writer::default();
        w.i16(0);
        match self {
            ConsumerGroupRecord::GroupEpoch(v) => {
                let (epoch, hash) = (*v)?;
                w.i32(epoch);
                if hash != 0 {
                    // One tagged field: tag 0, 8 bytes.
                    w.uvarint(1);
                    w.uvarint(0);
                    w.uvarint(8);
                    w.i64(hash);
                    return Some(w.0);
                }
            }
            ConsumerGroupRecord::PartitionMetadata => return None,
            ConsumerGroupRecord::MemberMetadata(_, v) => {
                let m = v.as_ref()?;
                w.compact_nullable_string(m.instance_id.as_deref());
                w.compact_nullable_string(m.rack_id.as_deref());
                w.compact_string(&m.client_id);
                w.compact_string(&m.client_host);
                w.uvarint(m.subscribed_topic_names.len() as u64 + 1);
                for t in &m.subscribed_topic_names {
                    w.compact_string(t);
                }
                w.compact_nullable_string(m.subscribed_topic_regex.as_deref());
                w.i32(m.rebalance_timeout_ms);
                w.compact_nullable_string(m.server_assignor.as_deref());
                if let Some(c) = &m.classic {
                    let mut f = Writer::default();
                    f.i32(c.session_timeout_ms);
                    f.uvarint(c.supported_protocols.len() as u64 + 1);
                    for (name, meta) in &c.supported_protocols {
                        f.compact_string(name);
                        f.uvarint(meta.len() as u64 + 1);
                        f.0.extend_from_slice(meta);
                        f.uvarint(0);
                    }
                    f.uvarint(0);
                    // One tagged field: tag 0, its size, its bytes.
                    w.uvarint(1);
                    w.uvarint(0);
                    w.uvarint(f.0.len() as u64);
                    w.0.extend_from_slice(&f.0);
                    return Some(w.0);
                }
            }
            ConsumerGroupRecord::TargetAssignmentEpoch(v) => w.i32((*v)?),
            ConsumerGroupRecord::TargetAssignment(_, v) => {
                write_topic_partitions(&mut w, v.as_ref()?)
            }
            ConsumerGroupRecord::CurrentAssignment(_, v) => {
                let c = v.as_ref()?;
                w.i32(c.member_epoch);
                w.i32(c.previous_member_epoch);
                w.0.push(c.state.value() as u8);
                write_topic_partitions(&mut w, &c.assigned);
                write_topic_partitions(&mut w, &c.pending_revocation);
            }
            ConsumerGroupRecord::RegularExpression(_, v) => {
                let r = v.as_ref()?;
                w.uvarint(r.topics.len() as u64 + 1);
                for t in &r.topics {
                    w.compact_string(t);
                }
                w.i64(r.version);
                w.i64(r.timestamp_ms);
            }
        }
        w.uvarint(0); // no tagged fields
        Some(w.0)
    }

    /// Decodes a record whose key type [`is_consumer_group_type`]: the
    /// group id and the record.
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<(String, ConsumerGroupRecord)> {
        let mut k = Reader(key);
        let t = k.i16()?;
        let group = k.string()?;
        let mut v = match value {
            Some(bytes) => {
                let mut r = Reader(bytes);
                if r.i16()? != 0 {
                    return Err(ConsumerRecordError("unsupported value version"));
                }
                Some(r)
            }
            None => None,
        };
        let rec = match t {
            GROUP_METADATA => ConsumerGroupRecord::GroupEpoch(match v.as_mut() {
                None => None,
                Some(r) => {
                    let epoch = r.i32()?;
                    let mut hash = 0;
                    r.tagged_fields(|tag, data| {
                        if tag == 0 {
                            hash = Reader(data).i64()?;
                        }
                        Ok(())
                    })?;
                    Some((epoch, hash))
                }
            }),
            PARTITION_METADATA => ConsumerGroupRecord::PartitionMetadata,
            MEMBER_METADATA => {
                let member = k.string()?;
                let m = match v.as_mut() {
                    None => None,
                    Some(r) => {
                        let instance_id = r.compact_nullable_string()?;
                        let rack_id = r.compact_nullable_string()?;
                        let client_id = r.compact_string()?;
                        let client_host = r.compact_string()?;
                        let n = r.compact_len()?;
                        let mut subscribed_topic_names = BTreeSet::new();
                        for _ in 0..n {
                            subscribed_topic_names.insert(r.compact_string()?);
                        }
                        let subscribed_topic_regex = r.compact_nullable_string()?;
                        let rebalance_timeout_ms = r.i32()?;
                        let server_assignor = r.compact_nullable_string()?;
                        // Tag 0: the classic member metadata of a member
                        // that joined with JoinGroup.
                        let mut classic = None;
                        r.tagged_fields(|tag, data| {
                            if tag == 0 {
                                classic = Some(Reader(data).classic_member_metadata()?);
                            }
                            Ok(())
                        })?;
                        Some(MemberMetadata {
                            instance_id,
                            rack_id,
                            client_id,
                            client_host,
                            subscribed_topic_names,
                            subscribed_topic_regex,
                            rebalance_timeout_ms,
                            server_assignor,
                            classic,
                        })
                    }
                };
                ConsumerGroupRecord::MemberMetadata(member, m)
            }
            TARGET_ASSIGNMENT_METADATA => {
                ConsumerGroupRecord::TargetAssignmentEpoch(v.as_mut().map(|r| r.i32()).transpose()?)
            }
            TARGET_ASSIGNMENT_MEMBER => {
                let member = k.string()?;
                let a = v.as_mut().map(|r| r.topic_partitions()).transpose()?;
                ConsumerGroupRecord::TargetAssignment(member, a)
            }
            CURRENT_MEMBER_ASSIGNMENT => {
                let member = k.string()?;
                let c = match v.as_mut() {
                    None => None,
                    Some(r) => Some(CurrentAssignment {
                        member_epoch: r.i32()?,
                        previous_member_epoch: r.i32()?,
                        state: MemberState::from_value(r.i8()?),
                        assigned: r.topic_partitions()?,
                        pending_revocation: r.topic_partitions()?,
                    }),
                };
                ConsumerGroupRecord::CurrentAssignment(member, c)
            }
            REGULAR_EXPRESSION => {
                let regex = k.string()?;
                let resolved = match v.as_mut() {
                    None => None,
                    Some(r) => {
                        let n = r.compact_len()?;
                        let mut topics = BTreeSet::new();
                        for _ in 0..n {
                            topics.insert(r.compact_string()?);
                        }
                        Some(ResolvedRegex {
                            topics,
                            version: r.i64()?,
                            timestamp_ms: r.i64()?,
                        })
                    }
                };
                ConsumerGroupRecord::RegularExpression(regex, resolved)
            }
            _ => return Err(ConsumerRecordError("not a consumer group record type")),
        };
        Ok((group, rec))
    }
}

/// A KIP-848 assignment as Kafka writes it: compact array of (topic id,
/// compact array of partitions, tagged fields).
fn write_topic_partitions(w: &mut Writer, a: &Assignment) {
    w.uvarint(a.len() as u64 + 1);
    for (t, ps) in a {
        w.0.extend_from_slice(t.as_bytes());
        w.uvarint(ps.len() as u64 + 1);
        for p in ps {
            w.i32(*p);
        }
        w.uvarint(0);
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(ConsumerRecordError("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn i8(&mut self) -> Result<i8> {
        Ok(self.take(1)?[0] as i8)
    }
    fn i16(&mut self) -> Result<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.i16()?;
        let n = usize::try_from(n).map_err(|_| ConsumerRecordError("null key string"))?;
        utf8(self.take(n)?)
    }
    fn uvarint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ConsumerRecordError("varint too long"))
    }
    /// A compact length; `None` for null.
    fn compact_opt_len(&mut self) -> Result<Option<usize>> {
        let n = self.uvarint()?;
        if n == 0 {
            return Ok(None);
        }
        let n = usize::try_from(n - 1).map_err(|_| ConsumerRecordError("length too large"))?;
        // Every element takes at least one byte: a longer count is corrupt.
        if n > self.0.len() {
            return Err(ConsumerRecordError("length past the end"));
        }
        Ok(Some(n))
    }
    fn compact_len(&mut self) -> Result<usize> {
        self.compact_opt_len()?
            .ok_or(ConsumerRecordError("null array"))
    }
    fn compact_nullable_string(&mut self) -> Result<Option<String>> {
        match self.compact_opt_len()? {
            None => Ok(None),
            Some(n) => utf8(self.take(n)?).map(Some),
        }
    }
    fn compact_string(&mut self) -> Result<String> {
        self.compact_nullable_string()?
            .ok_or(ConsumerRecordError("null string"))
    }
    fn tagged_fields(&mut self, mut f: impl FnMut(u64, &'a [u8]) -> Result<()>) -> Result<()> {
        let n = self.uvarint()?;
        for _ in 0..n {
            let tag = self.uvarint()?;
            let size =
                usize::try_from(self.uvarint()?).map_err(|_| ConsumerRecordError("tag size"))?;
            let data = self.take(size)?;
            f(tag, data)?;
        }
        Ok(())
    }
    fn classic_member_metadata(&mut self) -> Result<ClassicMemberMetadata> {
        let session_timeout_ms = self.i32()?;
        let n = self.compact_len()?;
        let mut supported_protocols = Vec::new();
        for _ in 0..n {
            let name = self.compact_string()?;
            let len = self.compact_len()?;
            let meta = bytes::Bytes::copy_from_slice(self.take(len)?);
            self.tagged_fields(|_, _| Ok(()))?;
            supported_protocols.push((name, meta));
        }
        self.tagged_fields(|_, _| Ok(()))?;
        Ok(ClassicMemberMetadata {
            session_timeout_ms,
            supported_protocols,
        })
    }

    fn topic_partitions(&mut self) -> Result<Assignment> {
        let n = self.compact_len()?;
        let mut out = Assignment::new();
        for _ in 0..n {
            let id = Uuid::from_slice(self.take(16)?).map_err(|_| ConsumerRecordError("uuid"))?;
            let m = self.compact_len()?;
            let set = out.entry(id).or_default();
            for _ in 0..m {
                set.insert(self.i32()?);
            }
            self.tagged_fields(|_, _| Ok(()))?;
        }
        out.retain(|_, p| !p.is_empty());
        Ok(out)
    }
}

fn utf8(b: &[u8]) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|_| ConsumerRecordError("invalid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::consumer::assignment;

    fn round_trip(rec: ConsumerGroupRecord) {
        let key = rec.encode_key("g1");
        let value = rec.encode_value();
        let (group, back) = ConsumerGroupRecord::decode(&key, value.as_deref()).unwrap();
        assert_eq!(group, "g1");
        assert_eq!(back, rec);
    }

    #[test]
    fn every_record_round_trips() {
        let t = Uuid::from_u128(0xabc);
        let a = assignment::from_pairs([(t, vec![0, 2])]);
        round_trip(ConsumerGroupRecord::GroupEpoch(Some((5, 0))));
        round_trip(ConsumerGroupRecord::GroupEpoch(Some((5, -77))));
        round_trip(ConsumerGroupRecord::GroupEpoch(None));
        round_trip(ConsumerGroupRecord::MemberMetadata(
            "m1".into(),
            Some(MemberMetadata {
                instance_id: Some("i".into()),
                rack_id: None,
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                subscribed_topic_names: ["a".to_string(), "b".to_string()].into(),
                subscribed_topic_regex: Some("t.*".into()),
                rebalance_timeout_ms: 300_000,
                server_assignor: Some("range".into()),
                classic: None,
            }),
        ));
        round_trip(ConsumerGroupRecord::MemberMetadata(
            "m2".into(),
            Some(MemberMetadata {
                instance_id: None,
                rack_id: None,
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                subscribed_topic_names: ["a".to_string()].into(),
                subscribed_topic_regex: None,
                rebalance_timeout_ms: 300_000,
                server_assignor: None,
                classic: Some(ClassicMemberMetadata {
                    session_timeout_ms: 10_000,
                    supported_protocols: vec![
                        ("range".into(), bytes::Bytes::from_static(&[0, 1, 2])),
                        ("roundrobin".into(), bytes::Bytes::new()),
                    ],
                }),
            }),
        ));
        round_trip(ConsumerGroupRecord::MemberMetadata("m1".into(), None));
        round_trip(ConsumerGroupRecord::TargetAssignmentEpoch(Some(4)));
        round_trip(ConsumerGroupRecord::TargetAssignmentEpoch(None));
        round_trip(ConsumerGroupRecord::TargetAssignment(
            "m1".into(),
            Some(a.clone()),
        ));
        round_trip(ConsumerGroupRecord::TargetAssignment("m1".into(), None));
        round_trip(ConsumerGroupRecord::CurrentAssignment(
            "m1".into(),
            Some(CurrentAssignment {
                member_epoch: 4,
                previous_member_epoch: 3,
                state: MemberState::UnrevokedPartitions,
                assigned: a.clone(),
                pending_revocation: assignment::from_pairs([(t, vec![1])]),
            }),
        ));
        round_trip(ConsumerGroupRecord::CurrentAssignment("m1".into(), None));
        round_trip(ConsumerGroupRecord::RegularExpression(
            "t.*".into(),
            Some(ResolvedRegex {
                topics: ["t1".to_string()].into(),
                version: 9,
                timestamp_ms: 1000,
            }),
        ));
        round_trip(ConsumerGroupRecord::RegularExpression("t.*".into(), None));
    }

    #[test]
    fn group_epoch_value_is_kafkas_layout() {
        let rec = ConsumerGroupRecord::GroupEpoch(Some((7, 0)));
        assert_eq!(rec.encode_key("g"), vec![0, 3, 0, 1, b'g']);
        // version 0, epoch 7, no tagged fields.
        assert_eq!(rec.encode_value().unwrap(), vec![0, 0, 0, 0, 0, 7, 0]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let key = ConsumerGroupRecord::CurrentAssignment("m".into(), None).encode_key("g");
        for value in [
            &[0u8, 0][..],
            &[0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0xff],
        ] {
            assert!(ConsumerGroupRecord::decode(&key, Some(value)).is_err());
        }
        assert!(ConsumerGroupRecord::decode(&[0, 8, 0], None).is_err());
    }
}
