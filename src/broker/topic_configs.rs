//! Topic-level config keys: Kafka's names, types, broker-level synonyms and
//! defaults, and how their effective values and sources are described to
//! clients (DescribeConfigs, CreateTopics v5+).
//!
//! Storage acts on the keys its `LogConfig` parses (segment, index, flush,
//! timestamp type, max message size, retention, cleanup policy). The others
//! are accepted, validated by type, kept with the topic and described, so
//! tools that set them (compression.type, min.insync.replicas, ...) work as
//! against a one-broker Kafka.

use std::collections::BTreeMap;

use crate::config::{BrokerConfig, KeyType, Source};
use crate::storage::{LogConfig, TimestampType};

/// DescribeConfigs source codes.
pub const SOURCE_DYNAMIC_TOPIC: i8 = 1;
pub const SOURCE_STATIC_BROKER: i8 = 4;
pub const SOURCE_DEFAULT: i8 = 5;
/// Kafka's GROUP_CONFIG source: a group-level override.
pub const SOURCE_DYNAMIC_GROUP: i8 = 8;

/// One topic-level key.
#[derive(Debug)]
pub struct TopicKey {
    pub name: &'static str,
    /// The broker-level key that sets its default, if any.
    pub synonym: Option<&'static str>,
    pub key_type: KeyType,
    /// Kafka's default, used when neither the topic nor a broker synonym sets it.
    pub default: &'static str,
    pub doc: &'static str,
}

const fn key(
    name: &'static str,
    synonym: Option<&'static str>,
    key_type: KeyType,
    default: &'static str,
    doc: &'static str,
) -> TopicKey {
    TopicKey {
        name,
        synonym,
        key_type,
        default,
        doc,
    }
}

const LONG_MAX: &str = "9223372036854775807";

/// Every topic-level key Kafka 4.1 has, in name order.
pub const TOPIC_KEYS: &[TopicKey] = &[
    key(
        "cleanup.policy",
        Some("log.cleanup.policy"),
        KeyType::List,
        "delete",
        "delete, compact, or both.",
    ),
    key(
        "compression.gzip.level",
        Some("compression.gzip.level"),
        KeyType::Int,
        "-1",
        "gzip level when the broker recompresses (Skiff stores batches as sent).",
    ),
    key(
        "compression.lz4.level",
        Some("compression.lz4.level"),
        KeyType::Int,
        "9",
        "lz4 level when the broker recompresses (Skiff stores batches as sent).",
    ),
    key(
        "compression.type",
        Some("compression.type"),
        KeyType::String,
        "producer",
        "Final compression; Skiff keeps the producer's compression whatever this says.",
    ),
    key(
        "compression.zstd.level",
        Some("compression.zstd.level"),
        KeyType::Int,
        "3",
        "zstd level when the broker recompresses (Skiff stores batches as sent).",
    ),
    key(
        "delete.retention.ms",
        Some("log.cleaner.delete.retention.ms"),
        KeyType::Long,
        "86400000",
        "How long tombstones are kept on compacted topics.",
    ),
    key(
        "file.delete.delay.ms",
        Some("log.segment.delete.delay.ms"),
        KeyType::Long,
        "60000",
        "Delay before a deleted segment's files are removed.",
    ),
    key(
        "flush.messages",
        Some("log.flush.interval.messages"),
        KeyType::Long,
        LONG_MAX,
        "fsync after this many batches; 1 = every acknowledged batch is durable.",
    ),
    key(
        "flush.ms",
        Some("log.flush.interval.ms"),
        KeyType::Long,
        LONG_MAX,
        "fsync when unflushed data is this old.",
    ),
    key(
        "follower.replication.throttled.replicas",
        None,
        KeyType::List,
        "",
        "Replication throttling (no followers on one broker).",
    ),
    key(
        "index.interval.bytes",
        Some("log.index.interval.bytes"),
        KeyType::Int,
        "4096",
        "Bytes between offset index entries.",
    ),
    key(
        "leader.replication.throttled.replicas",
        None,
        KeyType::List,
        "",
        "Replication throttling (no followers on one broker).",
    ),
    key(
        "local.retention.bytes",
        Some("log.local.retention.bytes"),
        KeyType::Long,
        "-2",
        "Tiered storage local retention (no tiering in Skiff).",
    ),
    key(
        "local.retention.ms",
        Some("log.local.retention.ms"),
        KeyType::Long,
        "-2",
        "Tiered storage local retention (no tiering in Skiff).",
    ),
    key(
        "max.compaction.lag.ms",
        Some("log.cleaner.max.compaction.lag.ms"),
        KeyType::Long,
        LONG_MAX,
        "Longest a record stays uncompacted.",
    ),
    key(
        "max.message.bytes",
        Some("message.max.bytes"),
        KeyType::Int,
        "1048588",
        "Largest record batch accepted.",
    ),
    key(
        "message.timestamp.after.max.ms",
        Some("log.message.timestamp.after.max.ms"),
        KeyType::Long,
        "3600000",
        "How far in the future a CreateTime timestamp may be.",
    ),
    key(
        "message.timestamp.before.max.ms",
        Some("log.message.timestamp.before.max.ms"),
        KeyType::Long,
        LONG_MAX,
        "How far in the past a CreateTime timestamp may be.",
    ),
    key(
        "message.timestamp.type",
        Some("log.message.timestamp.type"),
        KeyType::String,
        "CreateTime",
        "CreateTime or LogAppendTime.",
    ),
    key(
        "min.cleanable.dirty.ratio",
        Some("log.cleaner.min.cleanable.ratio"),
        KeyType::Double,
        "0.5",
        "Dirty ratio at which compaction starts.",
    ),
    key(
        "min.compaction.lag.ms",
        Some("log.cleaner.min.compaction.lag.ms"),
        KeyType::Long,
        "0",
        "Shortest time a record stays uncompacted.",
    ),
    key(
        "min.insync.replicas",
        Some("min.insync.replicas"),
        KeyType::Int,
        "1",
        "Replicas that must acknowledge acks=all (always met on one broker).",
    ),
    key(
        "preallocate",
        Some("log.preallocate"),
        KeyType::Boolean,
        "false",
        "Preallocate segment files.",
    ),
    key(
        "remote.log.copy.disable",
        None,
        KeyType::Boolean,
        "false",
        "Tiered storage (not in Skiff).",
    ),
    key(
        "remote.log.delete.on.disable",
        None,
        KeyType::Boolean,
        "false",
        "Tiered storage (not in Skiff).",
    ),
    key(
        "remote.storage.enable",
        None,
        KeyType::Boolean,
        "false",
        "Tiered storage (not in Skiff).",
    ),
    key(
        "retention.bytes",
        Some("log.retention.bytes"),
        KeyType::Long,
        "-1",
        "Partition size above which old segments are deleted; -1 = no limit.",
    ),
    key(
        "retention.ms",
        Some("log.retention.ms"),
        KeyType::Long,
        "604800000",
        "Age after which segments are deleted; -1 = forever.",
    ),
    key(
        "segment.bytes",
        Some("log.segment.bytes"),
        KeyType::Int,
        "1073741824",
        "Segment size at which the log rolls.",
    ),
    key(
        "segment.index.bytes",
        Some("log.index.size.max.bytes"),
        KeyType::Int,
        "10485760",
        "Largest offset index per segment.",
    ),
    key(
        "segment.jitter.ms",
        None,
        KeyType::Long,
        "0",
        "Random jitter subtracted from segment.ms.",
    ),
    key(
        "segment.ms",
        Some("log.roll.ms"),
        KeyType::Long,
        "604800000",
        "Age at which the active segment rolls.",
    ),
    key(
        "unclean.leader.election.enable",
        Some("unclean.leader.election.enable"),
        KeyType::Boolean,
        "false",
        "Unclean leader election (one broker: never needed).",
    ),
];

pub fn topic_key(name: &str) -> Option<&'static TopicKey> {
    TOPIC_KEYS.iter().find(|k| k.name == name)
}

/// DescribeConfigs' config_type codes (v3+).
pub fn type_code(t: KeyType) -> i8 {
    match t {
        KeyType::Boolean => 1,
        KeyType::String => 2,
        KeyType::Int => 3,
        KeyType::Short => 4,
        KeyType::Long => 5,
        KeyType::Double => 6,
        KeyType::List => 7,
        KeyType::Password => 9,
    }
}

fn type_ok(t: KeyType, v: &str) -> bool {
    match t {
        KeyType::Boolean => v == "true" || v == "false",
        KeyType::Int => v.parse::<i32>().is_ok(),
        KeyType::Short => v.parse::<i16>().is_ok(),
        KeyType::Long => v.parse::<i64>().is_ok(),
        KeyType::Double => v.parse::<f64>().is_ok(),
        KeyType::String | KeyType::List | KeyType::Password => true,
    }
}

/// Checks topic overrides: known keys, values of the right type, and values
/// storage accepts. The message says what is wrong, as Kafka's does.
pub fn validate_overrides(
    overrides: &BTreeMap<String, String>,
    defaults: &LogConfig,
) -> Result<(), String> {
    for (k, v) in overrides {
        let Some(def) = topic_key(k) else {
            return Err(format!("Unknown topic config name: {k}"));
        };
        if !type_ok(def.key_type, v.trim()) {
            return Err(format!(
                "Invalid value {v} for configuration {k}: not a valid {:?}",
                def.key_type
            ));
        }
        if k == "cleanup.policy"
            && !v
                .split(',')
                .all(|p| matches!(p.trim(), "delete" | "compact"))
        {
            return Err(format!(
                "Invalid value {v} for configuration cleanup.policy: must be delete, compact or both"
            ));
        }
        if k == "compression.type"
            && !matches!(
                v.as_str(),
                "producer" | "uncompressed" | "gzip" | "snappy" | "lz4" | "zstd"
            )
        {
            return Err(format!(
                "Invalid value {v} for configuration compression.type"
            ));
        }
    }
    defaults
        .with_overrides(overrides)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// One config as clients see it.
#[derive(Debug, Clone)]
pub struct DescribedConfig {
    pub name: &'static str,
    pub value: Option<String>,
    pub source: i8,
    pub read_only: bool,
    pub key_type: KeyType,
    pub doc: &'static str,
    /// (name, value, source), most specific first.
    pub synonyms: Vec<(String, Option<String>, i8)>,
}

/// The effective default of a topic key and the broker key it came from.
fn broker_default(
    key: &TopicKey,
    broker: &BrokerConfig,
    defaults: &LogConfig,
) -> (String, i8, &'static str) {
    let from_log_config = match key.name {
        "cleanup.policy" => Some(defaults.cleanup_policy.clone()),
        "flush.messages" => Some(defaults.flush_messages.to_string()),
        "flush.ms" => Some(defaults.flush_ms.to_string()),
        "index.interval.bytes" => Some(defaults.index_interval_bytes.to_string()),
        "max.message.bytes" => Some(defaults.max_message_bytes.to_string()),
        "message.timestamp.type" => Some(
            match defaults.message_timestamp_type {
                TimestampType::CreateTime => "CreateTime",
                TimestampType::LogAppendTime => "LogAppendTime",
            }
            .to_string(),
        ),
        "retention.bytes" => Some(defaults.retention_bytes.to_string()),
        "retention.ms" => Some(defaults.retention_ms.to_string()),
        "segment.bytes" => Some(defaults.segment_bytes.to_string()),
        "segment.index.bytes" => Some(defaults.segment_index_bytes.to_string()),
        "segment.ms" => Some(defaults.segment_ms.to_string()),
        _ => None,
    };
    // A key like segment.ms is set by log.roll.ms or log.roll.hours: report whichever was set.
    let synonyms: Vec<&'static str> = match key.name {
        "segment.ms" => vec!["log.roll.ms", "log.roll.hours"],
        "retention.ms" => vec!["log.retention.ms", "log.retention.hours"],
        _ => key.synonym.into_iter().collect(),
    };
    let set_by = synonyms.into_iter().find(|s| {
        broker
            .entries
            .iter()
            .any(|e| e.key.name == *s && e.source != Source::Default)
    });
    let value = from_log_config.unwrap_or_else(|| key.default.to_string());
    match set_by {
        Some(s) => (value, SOURCE_STATIC_BROKER, s),
        None => (value, SOURCE_DEFAULT, key.synonym.unwrap_or(key.name)),
    }
}

/// Every topic key with its effective value for a topic with `overrides`.
pub fn describe_topic(
    overrides: &BTreeMap<String, String>,
    broker: &BrokerConfig,
    defaults: &LogConfig,
) -> Vec<DescribedConfig> {
    TOPIC_KEYS
        .iter()
        .map(|k| {
            let (default, default_source, default_name) = broker_default(k, broker, defaults);
            let mut synonyms = Vec::new();
            let (value, source) = match overrides.get(k.name) {
                Some(v) => {
                    synonyms.push((k.name.to_string(), Some(v.clone()), SOURCE_DYNAMIC_TOPIC));
                    (v.clone(), SOURCE_DYNAMIC_TOPIC)
                }
                None => (default.clone(), default_source),
            };
            // Kafka lists a broker key's DEFAULT_CONFIG synonym only when that
            // key has a default of its own: log.retention.ms, log.roll.ms and
            // log.flush.interval.ms default to null there (the value comes from
            // log.retention.hours etc.), so these show no synonym unless set.
            let null_broker_default = matches!(k.name, "retention.ms" | "segment.ms" | "flush.ms");
            if default_source == SOURCE_STATIC_BROKER
                || (k.synonym.is_some() && !null_broker_default)
            {
                synonyms.push((default_name.to_string(), Some(default), default_source));
            }
            DescribedConfig {
                name: k.name,
                value: Some(value),
                source,
                read_only: false,
                key_type: k.key_type,
                doc: k.doc,
                synonyms,
            }
        })
        .collect()
}

/// Every broker key with its value; static broker configs are read-only.
pub fn describe_broker(broker: &BrokerConfig) -> Vec<DescribedConfig> {
    broker
        .entries
        .iter()
        .map(|e| {
            let source = if e.source == Source::Default {
                SOURCE_DEFAULT
            } else {
                SOURCE_STATIC_BROKER
            };
            // Kafka never sends a password's value.
            let value = if e.key.key_type == KeyType::Password {
                None
            } else {
                e.value.clone()
            };
            DescribedConfig {
                name: e.key.name,
                value: value.clone(),
                source,
                read_only: true,
                key_type: e.key.key_type,
                doc: e.key.doc,
                synonyms: vec![(e.key.name.to_string(), value, source)],
            }
        })
        .collect()
}

/// Kafka 4.1's group-level keys (KIP-848 consumer, share and streams groups)
/// with their defaults, so that `kafka-configs --entity-type groups
/// --describe` answers as against Kafka. The `share.*` keys can be set
/// (IncrementalAlterConfigs, see `share::config`) and act on share groups;
/// the others are described only.
const GROUP_KEYS: &[(&str, KeyType, &str, &str)] = &[
    (
        "consumer.heartbeat.interval.ms",
        KeyType::Int,
        "5000",
        "Heartbeat interval of consumer-protocol groups (not used: Skiff runs classic groups).",
    ),
    (
        "consumer.session.timeout.ms",
        KeyType::Int,
        "45000",
        "Session timeout of consumer-protocol groups (not used: Skiff runs classic groups).",
    ),
    (
        "share.auto.offset.reset",
        KeyType::String,
        "latest",
        "Where a new share-partition starts: latest, earliest or by_duration:<ISO-8601>.",
    ),
    (
        "share.heartbeat.interval.ms",
        KeyType::Int,
        "5000",
        "The heartbeat interval given to the group's share consumers.",
    ),
    (
        "share.isolation.level",
        KeyType::String,
        "read_uncommitted",
        "read_uncommitted, or read_committed: only records below the last stable offset, never those of aborted transactions.",
    ),
    (
        "share.record.lock.duration.ms",
        KeyType::Int,
        "30000",
        "How long an acquired record stays locked to its consumer.",
    ),
    (
        "share.session.timeout.ms",
        KeyType::Int,
        "45000",
        "The session timeout of the group's share consumers.",
    ),
    (
        "streams.heartbeat.interval.ms",
        KeyType::Int,
        "5000",
        "Streams groups' heartbeat interval (Skiff has no streams groups).",
    ),
    (
        "streams.num.standby.replicas",
        KeyType::Int,
        "0",
        "Streams groups' standby replicas (Skiff has no streams groups).",
    ),
    (
        "streams.session.timeout.ms",
        KeyType::Int,
        "45000",
        "Streams groups' session timeout (Skiff has no streams groups).",
    ),
];

/// Every group key with its default, or the group's own value where one
/// was set, for any group name (Kafka too answers for a group that does not
/// exist).
pub fn describe_group(overrides: &BTreeMap<String, String>) -> Vec<DescribedConfig> {
    GROUP_KEYS
        .iter()
        .map(|(name, key_type, default, doc)| {
            let default_entry = (name.to_string(), Some(default.to_string()), SOURCE_DEFAULT);
            let (value, source, synonyms) = match overrides.get(*name) {
                Some(v) => (
                    v.clone(),
                    SOURCE_DYNAMIC_GROUP,
                    vec![
                        (name.to_string(), Some(v.clone()), SOURCE_DYNAMIC_GROUP),
                        default_entry,
                    ],
                ),
                None => (default.to_string(), SOURCE_DEFAULT, vec![default_entry]),
            };
            DescribedConfig {
                name,
                value: Some(value),
                source,
                read_only: false,
                key_type: *key_type,
                doc,
                synonyms,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    fn broker(sets: &[&str]) -> BrokerConfig {
        let mut raw = RawConfig::default();
        for s in sets {
            raw.merge_set(s).unwrap();
        }
        BrokerConfig::resolve(&raw).unwrap()
    }

    #[test]
    fn keys_are_sorted_and_unique() {
        for w in TOPIC_KEYS.windows(2) {
            assert!(w[0].name < w[1].name, "{} {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn sources_follow_where_values_come_from() {
        let b = broker(&["log.segment.bytes=2048"]);
        let defaults = LogConfig {
            segment_bytes: 2048,
            ..LogConfig::default()
        };
        let overrides = BTreeMap::from([("retention.ms".to_string(), "1000".to_string())]);
        let d = describe_topic(&overrides, &b, &defaults);
        let get = |n: &str| d.iter().find(|c| c.name == n).unwrap().clone();
        assert_eq!(get("segment.bytes").value.as_deref(), Some("2048"));
        assert_eq!(get("segment.bytes").source, SOURCE_STATIC_BROKER);
        assert_eq!(get("retention.ms").value.as_deref(), Some("1000"));
        assert_eq!(get("retention.ms").source, SOURCE_DYNAMIC_TOPIC);
        assert_eq!(get("min.insync.replicas").source, SOURCE_DEFAULT);
        assert_eq!(d.len(), TOPIC_KEYS.len());
    }

    #[test]
    fn overrides_are_validated() {
        let d = LogConfig::default();
        let ok = BTreeMap::from([("cleanup.policy".to_string(), "compact,delete".to_string())]);
        assert!(validate_overrides(&ok, &d).is_ok());
        for (k, v) in [
            ("nope", "1"),
            ("segment.bytes", "big"),
            ("cleanup.policy", "keep"),
        ] {
            let bad = BTreeMap::from([(k.to_string(), v.to_string())]);
            assert!(validate_overrides(&bad, &d).is_err(), "{k}={v}");
        }
    }
}
