//! `LogConfig`: the resolved per-topic log settings, with Kafka's topic-level
//! key names and defaults, and parsing of CreateTopics-style string
//! overrides on top of broker defaults.

use std::collections::BTreeMap;
use std::fmt;

use super::error::StorageError;

/// `message.timestamp.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// Keep the producer's timestamps.
    #[default]
    CreateTime,
    /// The broker stamps each batch with its append time.
    LogAppendTime,
}

impl TimestampType {
    /// Kafka's spelling of the value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
    }
}

impl fmt::Display for TimestampType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resolved log settings for one topic. Field comments give the Kafka
/// topic-level key (and the broker-level key where it differs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes` (broker: `log.segment.bytes`), default 1 GiB.
    pub segment_bytes: u64,
    /// `segment.ms` (broker: `log.roll.ms`), default 7 days.
    pub segment_ms: i64,
    /// `index.interval.bytes`, default 4096.
    pub index_interval_bytes: u32,
    /// `segment.index.bytes`, default 10 MiB: the largest an index may grow
    /// before the segment is rolled.
    pub segment_index_bytes: u32,
    /// `flush.messages`, default `i64::MAX`; 1 = fsync before acknowledging
    /// every append.
    pub flush_messages: i64,
    /// `flush.ms`, default `i64::MAX`.
    pub flush_ms: i64,
    /// `message.timestamp.type`, default CreateTime.
    pub message_timestamp_type: TimestampType,
    /// `max.message.bytes`, default 1048588: the largest batch accepted.
    pub max_message_bytes: i32,
    /// `retention.ms`, default 7 days; -1 = keep forever. Sealed segments
    /// whose newest record is older than this are deleted (policy `delete`).
    pub retention_ms: i64,
    /// `retention.bytes`, default -1 (no limit): the oldest segments are
    /// deleted while the partition is larger than this (policy `delete`).
    pub retention_bytes: i64,
    /// `cleanup.policy`, default `delete`: `delete`, `compact` or both,
    /// comma-separated (see [`LogConfig::deletes`], [`LogConfig::compacts`]).
    pub cleanup_policy: String,
    /// `delete.retention.ms`, default 1 day: how long the cleaner keeps a
    /// tombstone after it first saw it (KIP-534 delete horizon).
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio`, default 0.5, stored as parts per
    /// million so the config stays `Eq`: compaction starts when
    /// dirty bytes / cleanable bytes reaches it.
    pub min_cleanable_dirty_ratio_ppm: u32,
    /// `min.compaction.lag.ms`, default 0: segments with records newer
    /// than this are not compacted yet.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`, default `i64::MAX`: a log with a dirty
    /// segment this old is compacted whatever its dirty ratio.
    pub max_compaction_lag_ms: i64,
}

impl LogConfig {
    /// `cleanup.policy` includes `delete`: retention applies.
    pub fn deletes(&self) -> bool {
        self.cleanup_policy.split(',').any(|p| p.trim() == "delete")
    }

    /// `cleanup.policy` includes `compact`: the cleaner keeps the latest
    /// record per key.
    pub fn compacts(&self) -> bool {
        self.cleanup_policy
            .split(',')
            .any(|p| p.trim() == "compact")
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1_073_741_824,
            segment_ms: 604_800_000,
            index_interval_bytes: 4096,
            segment_index_bytes: 10_485_760,
            flush_messages: i64::MAX,
            flush_ms: i64::MAX,
            message_timestamp_type: TimestampType::CreateTime,
            max_message_bytes: 1_048_588,
            retention_ms: 604_800_000,
            retention_bytes: -1,
            cleanup_policy: "delete".to_string(),
            delete_retention_ms: 86_400_000,
            min_cleanable_dirty_ratio_ppm: 500_000,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
        }
    }
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> StorageError {
    StorageError::InvalidConfig {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn parse_in<T>(key: &str, value: &str, min: T, max: T) -> Result<T, StorageError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let v: T = value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "not an integer of the expected width"))?;
    if v < min || v > max {
        return Err(invalid(key, value, format!("must be in [{min}, {max}]")));
    }
    Ok(v)
}

impl LogConfig {
    /// Every topic-level key [`LogConfig::with_overrides`] understands.
    pub const TOPIC_KEYS: &'static [&'static str] = &[
        "cleanup.policy",
        "delete.retention.ms",
        "flush.messages",
        "flush.ms",
        "index.interval.bytes",
        "max.compaction.lag.ms",
        "max.message.bytes",
        "message.timestamp.type",
        "min.cleanable.dirty.ratio",
        "min.compaction.lag.ms",
        "retention.bytes",
        "retention.ms",
        "segment.bytes",
        "segment.index.bytes",
        "segment.ms",
    ];

    /// Kafka topic-level keys that storage keeps with the topic but does not
    /// act on (replication, tiering, recompression, timestamp bounds,
    /// preallocation). [`LogConfig::with_overrides`] accepts them with any
    /// value; the broker validates their types.
    pub const STORED_ONLY_KEYS: &'static [&'static str] = &[
        "compression.gzip.level",
        "compression.lz4.level",
        "compression.type",
        "compression.zstd.level",
        "file.delete.delay.ms",
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
        "local.retention.bytes",
        "local.retention.ms",
        "message.timestamp.after.max.ms",
        "message.timestamp.before.max.ms",
        "min.insync.replicas",
        "preallocate",
        "remote.log.copy.disable",
        "remote.log.delete.on.disable",
        "remote.storage.enable",
        "segment.jitter.ms",
        "unclean.leader.election.enable",
    ];

    /// `self` with `overrides` (topic-level keys → string values, as in
    /// CreateTopics) applied. Unknown keys and unparsable or out-of-range
    /// values are `InvalidConfig`. Ranges follow Kafka's `TopicConfig`
    /// validators, with the int-typed keys limited to `i32`.
    pub fn with_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<LogConfig, StorageError> {
        let mut c = self.clone();
        for (key, value) in overrides {
            let v = value.as_str();
            match key.as_str() {
                // Segment positions are 32-bit in the offset index, so a
                // segment may not exceed i32::MAX bytes (Kafka: int config).
                "segment.bytes" => c.segment_bytes = parse_in(key, v, 14u64, i32::MAX as u64)?,
                "segment.ms" => c.segment_ms = parse_in(key, v, 1i64, i64::MAX)?,
                "index.interval.bytes" => {
                    c.index_interval_bytes = parse_in(key, v, 0u32, i32::MAX as u32)?
                }
                "segment.index.bytes" => {
                    c.segment_index_bytes = parse_in(key, v, 4u32, i32::MAX as u32)?
                }
                "flush.messages" => c.flush_messages = parse_in(key, v, 1i64, i64::MAX)?,
                "flush.ms" => c.flush_ms = parse_in(key, v, 0i64, i64::MAX)?,
                "max.message.bytes" => c.max_message_bytes = parse_in(key, v, 0i32, i32::MAX)?,
                "retention.ms" => c.retention_ms = parse_in(key, v, -1i64, i64::MAX)?,
                "retention.bytes" => c.retention_bytes = parse_in(key, v, i64::MIN, i64::MAX)?,
                "message.timestamp.type" => {
                    c.message_timestamp_type = match v.trim() {
                        "CreateTime" => TimestampType::CreateTime,
                        "LogAppendTime" => TimestampType::LogAppendTime,
                        _ => return Err(invalid(key, v, "must be CreateTime or LogAppendTime")),
                    }
                }
                "cleanup.policy" => {
                    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
                    if parts.is_empty() || parts.iter().any(|p| *p != "delete" && *p != "compact") {
                        return Err(invalid(key, v, "must be a list of delete and/or compact"));
                    }
                    c.cleanup_policy = parts.join(",");
                }
                "delete.retention.ms" => c.delete_retention_ms = parse_in(key, v, 0i64, i64::MAX)?,
                "min.compaction.lag.ms" => {
                    c.min_compaction_lag_ms = parse_in(key, v, 0i64, i64::MAX)?
                }
                "max.compaction.lag.ms" => {
                    c.max_compaction_lag_ms = parse_in(key, v, 1i64, i64::MAX)?
                }
                "min.cleanable.dirty.ratio" => {
                    let r: f64 = v
                        .trim()
                        .parse()
                        .map_err(|_| invalid(key, v, "not a number"))?;
                    if !(0.0..=1.0).contains(&r) {
                        return Err(invalid(key, v, "must be in [0, 1]"));
                    }
                    c.min_cleanable_dirty_ratio_ppm = (r * 1_000_000.0).round() as u32;
                }
                k if Self::STORED_ONLY_KEYS.contains(&k) => {}
                _ => return Err(invalid(key, v, "unknown topic config")),
            }
        }
        Ok(c)
    }

    /// Every key of [`LogConfig::TOPIC_KEYS`] with this config's value as a
    /// string (Kafka spelling), sorted by key: for DescribeConfigs. The
    /// defaults are `LogConfig::default().describe()`.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            ("cleanup.policy", self.cleanup_policy.clone()),
            ("delete.retention.ms", self.delete_retention_ms.to_string()),
            ("flush.messages", self.flush_messages.to_string()),
            ("flush.ms", self.flush_ms.to_string()),
            (
                "index.interval.bytes",
                self.index_interval_bytes.to_string(),
            ),
            (
                "max.compaction.lag.ms",
                self.max_compaction_lag_ms.to_string(),
            ),
            ("max.message.bytes", self.max_message_bytes.to_string()),
            (
                "message.timestamp.type",
                self.message_timestamp_type.to_string(),
            ),
            (
                "min.cleanable.dirty.ratio",
                (f64::from(self.min_cleanable_dirty_ratio_ppm) / 1_000_000.0).to_string(),
            ),
            (
                "min.compaction.lag.ms",
                self.min_compaction_lag_ms.to_string(),
            ),
            ("retention.bytes", self.retention_bytes.to_string()),
            ("retention.ms", self.retention_ms.to_string()),
            ("segment.bytes", self.segment_bytes.to_string()),
            ("segment.index.bytes", self.segment_index_bytes.to_string()),
            ("segment.ms", self.segment_ms.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overrides_apply_and_validate() {
        let d = LogConfig::default();
        let c = d
            .with_overrides(&ov(&[
                ("segment.bytes", "1024"),
                ("message.timestamp.type", "LogAppendTime"),
                ("flush.messages", "1"),
                ("cleanup.policy", "compact, delete"),
            ]))
            .unwrap();
        assert_eq!(c.segment_bytes, 1024);
        assert_eq!(c.message_timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(c.flush_messages, 1);
        assert_eq!(c.cleanup_policy, "compact,delete");
        assert_eq!(c.segment_ms, d.segment_ms);

        for bad in [
            ("segment.bytes", "abc"),
            ("segment.bytes", "3000000000"),
            ("segment.bytes", "1"),
            ("flush.messages", "0"),
            ("message.timestamp.type", "Whenever"),
            ("cleanup.policy", "keep"),
            ("no.such.key", "1"),
        ] {
            let e = d.with_overrides(&ov(&[bad])).unwrap_err();
            assert!(
                matches!(&e, StorageError::InvalidConfig { key, .. } if key == bad.0),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn describe_lists_every_key_and_roundtrips() {
        let d = LogConfig::default();
        let desc = d.describe();
        let keys: Vec<&str> = desc.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, LogConfig::TOPIC_KEYS);
        let again = LogConfig::default()
            .with_overrides(
                &desc
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            )
            .unwrap();
        assert_eq!(again, d);
    }
}
