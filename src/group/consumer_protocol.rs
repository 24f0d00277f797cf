//! The one place the broker looks inside protocol metadata: the topics of a
//! "consumer" protocol subscription, needed only to refuse OffsetDelete (and
//! offset expiry) for topics a group still consumes. Assignors stay opaque.
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
    fn garbage_is_none() {
        assert_eq!(subscribed_topics(&[0, 1]), None);
        assert_eq!(subscribed_topics(&[0, 0, 0, 0, 0, 1, 0, 5, b'a']), None);
        assert_eq!(subscribed_topics(&[0, 0, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
