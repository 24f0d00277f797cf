//! The group coordinator's settings ([`GroupConfig`], Kafka's
//! `GroupCoordinatorConfig`), resolved from the broker keys of the same
//! names. A leaf: every other file of `group/` may read it.

use super::consumer::ConsumerGroupConfig;
use crate::config::BrokerConfig;

/// The group coordinator's settings (Kafka's `GroupCoordinatorConfig`),
/// resolved from the broker keys of the same names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// `group.min.session.timeout.ms` (6000).
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms` (1800000).
    pub max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms` (Kafka: 3000; Skiff: 0, so a new
    /// group's first consumer starts at once, as test suites expect).
    pub initial_rebalance_delay_ms: i32,
    /// `group.max.size`.
    pub max_size: usize,
    /// `offsets.topic.num.partitions` (used only when the topic is created).
    pub offsets_topic_num_partitions: i32,
    /// `offsets.topic.segment.bytes` (104857600).
    pub offsets_topic_segment_bytes: i64,
    /// `offsets.retention.minutes` in ms (7 days).
    pub offsets_retention_ms: i64,
    /// `offsets.retention.check.interval.ms` (600000).
    pub offsets_retention_check_interval_ms: i64,
    /// `offset.metadata.max.bytes` (4096).
    pub offset_metadata_max_bytes: usize,
    /// `log.flush.interval.messages`, applied to `__consumer_offsets` by the
    /// coordinator itself (see `offsets.rs`).
    pub flush_interval_messages: i64,
    /// KIP-848 consumer groups' settings (`group.consumer.*`).
    pub consumer: ConsumerGroupConfig,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 0,
            max_size: i32::MAX as usize,
            offsets_topic_num_partitions: 1,
            offsets_topic_segment_bytes: 104_857_600,
            offsets_retention_ms: 10_080 * 60_000,
            offsets_retention_check_interval_ms: 600_000,
            offset_metadata_max_bytes: 4096,
            flush_interval_messages: i64::MAX,
            consumer: ConsumerGroupConfig::default(),
        }
    }
}

impl GroupConfig {
    /// The group settings of a resolved broker configuration.
    pub fn from_broker(c: &BrokerConfig) -> GroupConfig {
        GroupConfig {
            min_session_timeout_ms: c.group_min_session_timeout_ms,
            max_session_timeout_ms: c.group_max_session_timeout_ms,
            initial_rebalance_delay_ms: c.group_initial_rebalance_delay_ms,
            max_size: usize::try_from(c.group_max_size).unwrap_or(usize::MAX),
            offsets_topic_num_partitions: c.offsets_topic_num_partitions,
            offsets_topic_segment_bytes: c.offsets_topic_segment_bytes,
            offsets_retention_ms: c.offsets_retention_minutes.saturating_mul(60_000),
            offsets_retention_check_interval_ms: c.offsets_retention_check_interval_ms,
            offset_metadata_max_bytes: usize::try_from(c.offset_metadata_max_bytes).unwrap_or(0),
            flush_interval_messages: c.log_flush_interval_messages,
            consumer: ConsumerGroupConfig::from_broker(c),
        }
    }
}
