//! The one place the broker looks inside protocol metadata: the topics of a
//! "consumer" protocol subscription, needed to refuse OffsetDelete (and
//! offset expiry) for topics a group still consumes, and the whole
//! `ConsumerProtocolSubscription` / `ConsumerProtocolAssignment` for the
//! classic members of a consumer group (online migration, KIP-848), whose
//! assignment the broker computes and hands back in SyncGroup.
//!
//! Like Kafka (`ClassicGroup::computeSubscribedTopics`), the subscription is
//! parsed with the version 0 schema, which every later version extends:
//!
//! ```text
//!  version  int16
//!  topics   int32 count, then count × (int16 length, UTF-8 bytes)
//!  ...      (user data, owned partitions, rack, generation: ignored)
//! ```

use std::collections::BTreeSet;

/// The protocol type of Kafka consumers.
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// The topics of a consumer subscription, or `None` if it does not parse.
pub fn subscribed_topics(metadata: &[u8]) -> Option<BTreeSet<String>> {
    let mut pos = 2usize; // version
    let count = i32::from_be_bytes(metadata.get(pos..pos + 4)?.try_into().ok()?);
    pos += 4;
    if count < 0 {
        return None;
    }
    let mut topics = BTreeSet::new();
    for _ in 0..count {
        let len = i16::from_be_bytes(metadata.get(pos..pos + 2)?.try_into().ok()?);
        pos += 2;
        let len = usize::try_from(len).ok()?;
        let name = std::str::from_utf8(metadata.get(pos..pos + len)?).ok()?;
        pos += len;
        topics.insert(name.to_string());
    }
    Some(topics)
}

/// A decoded `ConsumerProtocolSubscription` (versions 0-3; later versions
/// extend it, and the fields after these are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// The schema version it was written with.
    pub version: i16,
    /// Subscribed topic names.
    pub topics: Vec<String>,
    /// v1+: the partitions the member owns, by topic name.
    pub owned_partitions: Vec<(String, Vec<i32>)>,
    /// v3+: `client.rack`.
    pub rack_id: Option<String>,
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Some(h)
    }
    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn nullable_string(&mut self) -> Option<Option<String>> {
        let n = self.i16()?;
        if n < 0 {
            return Some(None);
        }
        let b = self.take(usize::try_from(n).ok()?)?;
        Some(Some(std::str::from_utf8(b).ok()?.to_string()))
    }
    fn string(&mut self) -> Option<String> {
        self.nullable_string()?
    }
    fn skip_nullable_bytes(&mut self) -> Option<()> {
        let n = self.i32()?;
        if n >= 0 {
            self.take(usize::try_from(n).ok()?)?;
        }
        Some(())
    }
    fn count(&mut self) -> Option<usize> {
        let n = self.i32()?;
        // A null array reads as empty; a length beyond the bytes left is garbage.
        let n = usize::try_from(n.max(0)).ok()?;
        (n <= self.0.len()).then_some(n)
    }
    fn topic_partitions(&mut self) -> Option<Vec<(String, Vec<i32>)>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let topic = self.string()?;
            let m = self.count()?;
            let mut ps = Vec::with_capacity(m);
            for _ in 0..m {
                ps.push(self.i32()?);
            }
            out.push((topic, ps));
        }
        Some(out)
    }
}

/// Decodes a subscription; `None` if it is malformed.
pub fn decode_subscription(metadata: &[u8]) -> Option<Subscription> {
    let mut c = Cursor(metadata);
    let version = c.i16()?;
    if version < 0 {
        return None;
    }
    let n = c.count()?;
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        topics.push(c.string()?);
    }
    let mut sub = Subscription {
        version,
        topics,
        ..Subscription::default()
    };
    // Fields a version lacks may also be missing at the end of a newer one
    // written by a lenient client: stop at the first that is absent.
    if c.skip_nullable_bytes().is_none() || version < 1 {
        return Some(sub);
    }
    if let Some(owned) = c.topic_partitions() {
        sub.owned_partitions = owned;
    } else {
        return Some(sub);
    }
    if version >= 2 && c.i32().is_none() {
        return Some(sub);
    }
    if version >= 3 {
        sub.rack_id = c.nullable_string().flatten();
    }
    Some(sub)
}

/// Decodes an assignment's partitions by topic name; empty bytes (a member
/// that was never assigned) are an empty assignment. `None`: malformed.
pub fn decode_assignment(bytes: &[u8]) -> Option<Vec<(String, Vec<i32>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let mut c = Cursor(bytes);
    c.i16()?;
    c.topic_partitions()
}

/// Encodes a `ConsumerProtocolAssignment` at `version` (0-3 share one
/// layout; higher versions are written as 3, as Kafka caps them), without
/// user data.
pub fn encode_assignment(version: i16, partitions: &[(String, Vec<i32>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&version.clamp(0, 3).to_be_bytes());
    out.extend_from_slice(&(partitions.len() as i32).to_be_bytes());
    for (topic, ps) in partitions {
        out.extend_from_slice(&(topic.len() as i16).to_be_bytes());
        out.extend_from_slice(topic.as_bytes());
        out.extend_from_slice(&(ps.len() as i32).to_be_bytes());
        for p in ps {
            out.extend_from_slice(&p.to_be_bytes());
        }
    }
    out.extend_from_slice(&(-1i32).to_be_bytes()); // null user data
    out
}

/// The schema version of a subscription (0 if unreadable).
pub fn subscription_version(metadata: &[u8]) -> i16 {
    Cursor(metadata).i16().unwrap_or(0).max(0)
}

/// Encodes a version 0 subscription (for tests and tools).
#[cfg(test)]
pub fn encode_subscription(topics: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&(topics.len() as i32).to_be_bytes());
    for t in topics {
        out.extend_from_slice(&(t.len() as i16).to_be_bytes());
        out.extend_from_slice(t.as_bytes());
    }
    out.extend_from_slice(&(-1i32).to_be_bytes()); // null user data
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_topics_and_ignores_later_fields() {
        let mut m = encode_subscription(&["a", "bb"]);
        m.extend_from_slice(&[0, 0, 0, 0, 9, 9]); // trailing newer-version fields
        let topics = subscribed_topics(&m).unwrap();
        assert_eq!(topics.into_iter().collect::<Vec<_>>(), vec!["a", "bb"]);
    }

    #[test]
    fn full_subscription_and_assignment_decode() {
        // v3: topics, null user data, owned partitions, generation, rack.
        let mut m = Vec::new();
        m.extend_from_slice(&3i16.to_be_bytes());
        m.extend_from_slice(&1i32.to_be_bytes());
        m.extend_from_slice(&1i16.to_be_bytes());
        m.push(b't');
        m.extend_from_slice(&(-1i32).to_be_bytes());
        m.extend_from_slice(&1i32.to_be_bytes());
        m.extend_from_slice(&1i16.to_be_bytes());
        m.push(b't');
        m.extend_from_slice(&2i32.to_be_bytes());
        m.extend_from_slice(&0i32.to_be_bytes());
        m.extend_from_slice(&2i32.to_be_bytes());
        m.extend_from_slice(&7i32.to_be_bytes());
        m.extend_from_slice(&2i16.to_be_bytes());
        m.extend_from_slice(b"r1");
        let s = decode_subscription(&m).unwrap();
        assert_eq!(s.version, 3);
        assert_eq!(s.topics, vec!["t"]);
        assert_eq!(s.owned_partitions, vec![("t".to_string(), vec![0, 2])]);
        assert_eq!(s.rack_id.as_deref(), Some("r1"));
        // v0 stops after the user data.
        let s0 = decode_subscription(&encode_subscription(&["a"])).unwrap();
        assert_eq!((s0.version, s0.owned_partitions.len()), (0, 0));

        let parts = vec![("a".to_string(), vec![1, 3]), ("b".to_string(), vec![0])];
        let bytes = encode_assignment(1, &parts);
        assert_eq!(decode_assignment(&bytes).unwrap(), parts);
        assert_eq!(decode_assignment(&[]).unwrap(), vec![]);
        assert_eq!(decode_assignment(&[0, 0, 0x7f, 0, 0, 0]), None);
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(subscribed_topics(&[0, 1]), None);
        assert_eq!(subscribed_topics(&[0, 0, 0, 0, 0, 1, 0, 5, b'a']), None);
        assert_eq!(subscribed_topics(&[0, 0, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
