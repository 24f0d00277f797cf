//! How share-group state is written to the internal compacted topic
//! `__share_group_state` (Kafka's name for share-partition state): one
//! keyed record per share-partition (its start offset and in-flight runs)
//! and one per group (epoch and members), the latest value per key being
//! the state. The encoding is Skiff's own, versioned by a leading i16.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::group::ShareMember;
use super::partition::{RecordState, StateRange};

const VERSION: i16 = 0;

/// A decoded record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKey {
    Partition {
        group: String,
        topic_id: Uuid,
        partition: i32,
    },
    Group(String),
    /// The group-level config overrides (`share.*` keys).
    Config(String),
}

impl StoreKey {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            StoreKey::Partition {
                group,
                topic_id,
                partition,
            } => format!("share-partition:{topic_id}:{partition}:{group}").into_bytes(),
            StoreKey::Group(group) => format!("share-group:{group}").into_bytes(),
            StoreKey::Config(group) => format!("share-group-config:{group}").into_bytes(),
        }
    }

    pub fn decode(key: &[u8]) -> Option<StoreKey> {
        let s = std::str::from_utf8(key).ok()?;
        if let Some(group) = s.strip_prefix("share-group-config:") {
            return Some(StoreKey::Config(group.to_string()));
        }
        if let Some(group) = s.strip_prefix("share-group:") {
            return Some(StoreKey::Group(group.to_string()));
        }
        let rest = s.strip_prefix("share-partition:")?;
        let mut parts = rest.splitn(3, ':');
        let topic_id = Uuid::parse_str(parts.next()?).ok()?;
        let partition = parts.next()?.parse().ok()?;
        let group = parts.next()?.to_string();
        Some(StoreKey::Partition {
            group,
            topic_id,
            partition,
        })
    }

    /// The group the record belongs to (it picks the log partition).
    pub fn group(&self) -> &str {
        match self {
            StoreKey::Partition { group, .. }
            | StoreKey::Group(group)
            | StoreKey::Config(group) => group,
        }
    }
}

/// A group's persisted form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub group_epoch: i32,
    pub members: Vec<ShareMember>,
}

pub fn encode_partition(start: i64, ranges: &[StateRange]) -> Vec<u8> {
    let mut b = Vec::with_capacity(14 + ranges.len() * 19);
    b.extend_from_slice(&VERSION.to_be_bytes());
    b.extend_from_slice(&start.to_be_bytes());
    b.extend_from_slice(&(ranges.len() as u32).to_be_bytes());
    for r in ranges {
        b.extend_from_slice(&r.first.to_be_bytes());
        b.extend_from_slice(&r.last.to_be_bytes());
        b.push(match r.state {
            RecordState::Available | RecordState::Acquired => 0,
            RecordState::Acknowledged => 2,
            RecordState::Archived => 4,
        });
        b.extend_from_slice(&r.delivery_count.to_be_bytes());
    }
    b
}

pub fn decode_partition(value: &[u8]) -> Option<(i64, Vec<StateRange>)> {
    let mut r = Reader(value);
    if r.i16()? != VERSION {
        return None;
    }
    let start = r.i64()?;
    let n = r.u32()? as usize;
    let mut ranges = Vec::with_capacity(n.min(value.len() / 19));
    for _ in 0..n {
        let first = r.i64()?;
        let last = r.i64()?;
        let state = match r.u8()? {
            0 => RecordState::Available,
            2 => RecordState::Acknowledged,
            4 => RecordState::Archived,
            _ => return None,
        };
        let delivery_count = r.i16()?;
        ranges.push(StateRange {
            first,
            last,
            state,
            delivery_count,
        });
    }
    Some((start, ranges))
}

pub fn encode_group(group_epoch: i32, members: &[&ShareMember]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&VERSION.to_be_bytes());
    b.extend_from_slice(&group_epoch.to_be_bytes());
    b.extend_from_slice(&(members.len() as u32).to_be_bytes());
    for m in members {
        put_str(&mut b, &m.member_id);
        b.extend_from_slice(&m.member_epoch.to_be_bytes());
        put_str(&mut b, &m.client_id);
        put_str(&mut b, &m.client_host);
        put_str(&mut b, m.rack_id.as_deref().unwrap_or(""));
        b.extend_from_slice(&(m.subscribed_topics.len() as u32).to_be_bytes());
        for t in &m.subscribed_topics {
            put_str(&mut b, t);
        }
    }
    b
}

/// Decodes a group record; members come back with empty assignments
/// (recomputed) and `deadline_ms` 0 (the caller sets a fresh session).
pub fn decode_group(value: &[u8]) -> Option<GroupRecord> {
    let mut r = Reader(value);
    if r.i16()? != VERSION {
        return None;
    }
    let group_epoch = r.i32()?;
    let n = r.u32()? as usize;
    let mut members = Vec::with_capacity(n.min(value.len()));
    for _ in 0..n {
        let member_id = r.str()?;
        let member_epoch = r.i32()?;
        let client_id = r.str()?;
        let client_host = r.str()?;
        let rack = r.str()?;
        let subs = r.u32()? as usize;
        let mut subscribed_topics = BTreeSet::new();
        for _ in 0..subs {
            subscribed_topics.insert(r.str()?);
        }
        members.push(ShareMember {
            member_id,
            member_epoch,
            rack_id: (!rack.is_empty()).then_some(rack),
            client_id,
            client_host,
            subscribed_topics,
            assignment: Default::default(),
            deadline_ms: 0,
        });
    }
    Some(GroupRecord {
        group_epoch,
        members,
    })
}

pub fn encode_config(config: &BTreeMap<String, String>) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&VERSION.to_be_bytes());
    b.extend_from_slice(&(config.len() as u32).to_be_bytes());
    for (k, v) in config {
        put_str(&mut b, k);
        put_str(&mut b, v);
    }
    b
}

/// Decodes group config overrides; an unreadable value is an empty map.
pub fn decode_config(value: &[u8]) -> BTreeMap<String, String> {
    let mut r = Reader(value);
    let mut out = BTreeMap::new();
    if r.i16() != Some(VERSION) {
        return out;
    }
    let n = r.u32().unwrap_or(0);
    for _ in 0..n {
        match (r.str(), r.str()) {
            (Some(k), Some(v)) => {
                out.insert(k, v);
            }
            _ => break,
        }
    }
    out
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u32).to_be_bytes());
    b.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn i16(&mut self) -> Option<i16> {
        self.take().map(i16::from_be_bytes)
    }
    fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_be_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_be_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_be_bytes)
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        if n > self.0.len() {
            return None;
        }
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8(s.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for k in [
            StoreKey::Group("g:with:colons".into()),
            StoreKey::Config("share-group:x".into()),
            StoreKey::Partition {
                group: "g:x".into(),
                topic_id: Uuid::from_u128(9),
                partition: 3,
            },
        ] {
            assert_eq!(StoreKey::decode(&k.encode()), Some(k));
        }
    }

    #[test]
    fn values_round_trip_and_garbage_is_refused() {
        let ranges = vec![StateRange {
            first: 4,
            last: 9,
            state: RecordState::Acknowledged,
            delivery_count: 2,
        }];
        let v = encode_partition(4, &ranges);
        assert_eq!(decode_partition(&v), Some((4, ranges)));
        assert_eq!(decode_partition(&v[..v.len() - 1]), None);
        let m = ShareMember {
            member_id: "m".into(),
            member_epoch: 3,
            rack_id: None,
            client_id: "c".into(),
            client_host: "/h".into(),
            subscribed_topics: BTreeSet::from(["t".to_string()]),
            assignment: Default::default(),
            deadline_ms: 0,
        };
        let g = encode_group(3, &[&m]);
        assert_eq!(
            decode_group(&g),
            Some(GroupRecord {
                group_epoch: 3,
                members: vec![m]
            })
        );
        assert_eq!(decode_group(&[0, 0, 1]), None);
    }
}
