//! What a consumer group sees of the cluster's topics: names, ids and
//! partition counts (Kafka's metadata image, as far as assignors need it),
//! the hash that tells a group its subscribed topics changed, and the
//! resolution of subscription patterns.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

/// A topic as assignors see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicInfo {
    /// Topic id.
    pub id: Uuid,
    /// Partition count.
    pub partitions: i32,
}

/// The topics of the cluster at one moment.
#[derive(Debug, Clone, Default)]
pub struct TopicsImage {
    by_name: BTreeMap<String, TopicInfo>,
    by_id: BTreeMap<Uuid, String>,
    /// Changes whenever a topic is created or deleted (not when partitions
    /// are added), so patterns are resolved again only when they may match
    /// something new.
    names_fingerprint: i64,
}

impl TopicsImage {
    /// An image of `topics` (name, id, partitions). Internal topics are the
    /// caller's to leave out.
    pub fn new<I: IntoIterator<Item = (String, Uuid, i32)>>(topics: I) -> TopicsImage {
        let mut by_name = BTreeMap::new();
        let mut by_id = BTreeMap::new();
        for (name, id, partitions) in topics {
            by_id.insert(id, name.clone());
            by_name.insert(name, TopicInfo { id, partitions });
        }
        let mut h = Fnv::default();
        for (name, info) in &by_name {
            h.bytes(name.as_bytes());
            h.bytes(info.id.as_bytes());
        }
        TopicsImage {
            by_name,
            by_id,
            names_fingerprint: h.0 as i64,
        }
    }

    /// The topic called `name`.
    pub fn topic(&self, name: &str) -> Option<TopicInfo> {
        self.by_name.get(name).copied()
    }

    /// The name of topic `id`.
    pub fn name(&self, id: &Uuid) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    /// Every topic name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// See the field.
    pub fn names_fingerprint(&self) -> i64 {
        self.names_fingerprint
    }

    /// A hash of the subscribed topics that exist: their names, ids and
    /// partition counts. A group whose hash changes rebalances (Kafka's
    /// KIP-1101 metadata hash; the value is Skiff's own, only compared with
    /// itself). 0 when none exists.
    pub fn metadata_hash<'a, I: IntoIterator<Item = &'a str>>(&self, subscribed: I) -> i64 {
        let names: BTreeSet<&str> = subscribed.into_iter().collect();
        let mut h = Fnv::default();
        let mut any = false;
        for n in names {
            if let Some(info) = self.by_name.get(n) {
                any = true;
                h.bytes(n.as_bytes());
                h.bytes(info.id.as_bytes());
                h.bytes(&info.partitions.to_be_bytes());
            }
        }
        if any {
            h.0 as i64
        } else {
            0
        }
    }
}

/// FNV-1a, 64 bits: stable across builds, unlike std's hasher, because the
/// hash is stored in the group's epoch record.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for x in b {
            self.0 ^= u64::from(*x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab","c") and ("a","bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
}

/// A subscription pattern that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SubscribedTopicRegex `{pattern}` is not a valid regular expression: {reason}")]
pub struct InvalidRegex {
    /// The pattern.
    pub pattern: String,
    /// Why.
    pub reason: String,
}

/// Compiles a subscription pattern. Kafka compiles it with RE2/J and
/// matches whole topic names; the `regex` crate's syntax is RE2's, less
/// RE2's `\Q...\E` literal quoting (which RE2/J has, and which a Java
/// client's `Pattern.quote` produces), so that is expanded first.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, InvalidRegex> {
    let expanded = expand_literal_quotes(pattern);
    regex::Regex::new(&format!("^(?:{expanded})$")).map_err(|e| InvalidRegex {
        pattern: pattern.to_string(),
        reason: e.to_string(),
    })
}

/// Replaces each `\Q...\E` span (to the end when `\E` is missing, as in
/// RE2/J) by its text with every metacharacter escaped; other escapes
/// (`\\Q` is a backslash then `Q`) are kept as they are.
fn expand_literal_quotes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '\\' && chars.peek() == Some(&'E') {
                chars.next();
                quoted = false;
            } else {
                out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            }
        } else if c == '\\' {
            match chars.next() {
                Some('Q') => quoted = true,
                Some(next) => {
                    out.push(c);
                    out.push(next);
                }
                None => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The topics of `image` that `pattern` matches (none if it does not
/// compile: patterns are checked when a member sends them).
pub fn resolve_regex(pattern: &str, image: &TopicsImage) -> BTreeSet<String> {
    match compile_regex(pattern) {
        Ok(re) => image
            .names()
            .filter(|n| re.is_match(n))
            .map(str::to_string)
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> TopicsImage {
        TopicsImage::new([
            ("orders".to_string(), Uuid::from_u128(1), 3),
            ("orders-eu".to_string(), Uuid::from_u128(2), 1),
            ("payments".to_string(), Uuid::from_u128(3), 2),
        ])
    }

    #[test]
    fn regexes_match_whole_names() {
        let img = image();
        assert_eq!(resolve_regex("orders", &img), ["orders".to_string()].into());
        assert_eq!(resolve_regex("orders.*", &img).len(), 2);
        assert_eq!(resolve_regex("pay|orders-eu", &img).len(), 1);
        assert!(compile_regex("(unclosed").is_err());
        assert!(compile_regex("[a-z]+\\d*").is_ok());
    }

    #[test]
    fn literal_quotes_as_in_re2j() {
        let img = TopicsImage::new([
            ("a.b-1".to_string(), Uuid::from_u128(1), 1),
            ("axb-1".to_string(), Uuid::from_u128(2), 1),
            ("a.b-x".to_string(), Uuid::from_u128(3), 1),
        ]);
        // Java's Pattern.quote("a.b") + "-\\d": the dot is literal.
        assert_eq!(
            resolve_regex("\\Qa.b\\E-\\d", &img),
            ["a.b-1".to_string()].into()
        );
        // Unterminated: literal to the end.
        assert_eq!(
            resolve_regex("\\Qa.b-1", &img),
            ["a.b-1".to_string()].into()
        );
        assert_eq!(expand_literal_quotes("\\Q(*)\\E+"), "\\(\\*\\)+");
        // An escaped backslash before Q is no quote.
        assert_eq!(expand_literal_quotes("\\\\Q"), "\\\\Q");
        assert!(compile_regex("\\Q[\\E").is_ok());
    }

    #[test]
    fn metadata_hash_follows_partition_counts() {
        let img = image();
        let h = img.metadata_hash(["orders", "missing"]);
        assert_ne!(h, 0);
        assert_eq!(img.metadata_hash(["missing"]), 0);
        let grown = TopicsImage::new([("orders".to_string(), Uuid::from_u128(1), 4)]);
        assert_ne!(grown.metadata_hash(["orders"]), h);
        assert_eq!(img.metadata_hash(["orders"]), h);
    }

    #[test]
    fn fingerprint_changes_with_the_topic_list_only() {
        let a = image();
        let more = TopicsImage::new([
            ("orders".to_string(), Uuid::from_u128(1), 9),
            ("orders-eu".to_string(), Uuid::from_u128(2), 1),
            ("payments".to_string(), Uuid::from_u128(3), 2),
        ]);
        assert_eq!(a.names_fingerprint(), more.names_fingerprint());
        let fewer = TopicsImage::new([("orders".to_string(), Uuid::from_u128(1), 3)]);
        assert_ne!(a.names_fingerprint(), fewer.names_fingerprint());
    }
}
