//! KIP-848 consumer groups (`group.protocol=consumer`): the broker computes
//! assignments and members only heartbeat (`ConsumerGroupHeartbeat`).
//!
//! - [`assignment`]: partition sets by topic id.
//! - [`assignor`]: the server-side assignors `uniform` and `range`.
//! - [`member`]: a member and its reconciliation state machine.
//! - [`group`]: one group's state, changed only by applying records.
//! - [`records`]: those records, in Kafka's `__consumer_offsets` format.
//! - [`topics`]: the topics a group sees, metadata hash, patterns.
//! - `subscribe`: who a heartbeat is from (static members replaced), what
//!   its patterns resolve to.
//! - [`heartbeat`]: the protocol: heartbeat, leave, fencing, describe,
//!   offset commit checks, deletion.
//!
//! Nothing here does I/O or reads a clock: operations take `now_ms` and a
//! [`topics::TopicsImage`], apply what they decide to the group and return
//! the records to append and the timers to set.

pub mod assignment;
pub mod assignor;
mod error;
pub mod group;
pub mod heartbeat;
#[cfg(test)]
mod heartbeat_tests;
pub mod member;
pub mod records;
mod subscribe;
pub mod topics;

pub use error::ConsumerGroupError;
pub use group::{ConsumerGroup, ConsumerGroupState, CONSUMER_GROUP_TYPE};

use crate::config::BrokerConfig;

/// Consumer group settings (Kafka's `GroupCoordinatorConfig` keys of the
/// same names and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupConfig {
    /// `group.consumer.session.timeout.ms` (45000).
    pub session_timeout_ms: i32,
    /// `group.consumer.heartbeat.interval.ms` (5000).
    pub heartbeat_interval_ms: i32,
    /// `group.consumer.max.size` (unbounded).
    pub max_size: usize,
    /// `group.consumer.assignors` (`uniform,range`); the first is the default.
    pub assignors: Vec<String>,
    /// `group.consumer.migration.policy` (bidirectional).
    pub migration_policy: MigrationPolicy,
    /// `group.consumer.regex.refresh.interval.ms` (600000): a resolved
    /// regular expression older than this is resolved again at the next
    /// heartbeat (Kafka's "batch refresh max interval").
    pub regex_refresh_interval_ms: i64,
}

/// `group.consumer.migration.policy` (Kafka's `ConsumerGroupMigrationPolicy`):
/// which online conversions between classic and consumer groups are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MigrationPolicy {
    /// Upgrade and downgrade.
    #[default]
    Bidirectional,
    /// Classic to consumer only.
    Upgrade,
    /// Consumer to classic only.
    Downgrade,
    /// Neither (empty groups are still converted, as in Kafka).
    Disabled,
}

impl MigrationPolicy {
    /// The policy named `s` (case-insensitive); unknown names are
    /// `Disabled`, as Kafka parses them (the config layer refuses them
    /// before this is reached).
    pub fn parse(s: &str) -> MigrationPolicy {
        match s.trim().to_ascii_lowercase().as_str() {
            "bidirectional" => MigrationPolicy::Bidirectional,
            "upgrade" => MigrationPolicy::Upgrade,
            "downgrade" => MigrationPolicy::Downgrade,
            _ => MigrationPolicy::Disabled,
        }
    }

    /// Whether a classic group may become a consumer group.
    pub fn upgrade_enabled(self) -> bool {
        matches!(
            self,
            MigrationPolicy::Bidirectional | MigrationPolicy::Upgrade
        )
    }

    /// Whether a consumer group may become a classic group.
    pub fn downgrade_enabled(self) -> bool {
        matches!(
            self,
            MigrationPolicy::Bidirectional | MigrationPolicy::Downgrade
        )
    }
}

impl Default for ConsumerGroupConfig {
    fn default() -> Self {
        ConsumerGroupConfig {
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 5_000,
            max_size: i32::MAX as usize,
            assignors: assignor::BUILTIN_ASSIGNORS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            migration_policy: MigrationPolicy::Bidirectional,
            regex_refresh_interval_ms: 600_000,
        }
    }
}

impl ConsumerGroupConfig {
    /// The settings of a resolved broker configuration.
    pub fn from_broker(c: &BrokerConfig) -> ConsumerGroupConfig {
        ConsumerGroupConfig {
            session_timeout_ms: c.group_consumer_session_timeout_ms,
            heartbeat_interval_ms: c.group_consumer_heartbeat_interval_ms,
            max_size: usize::try_from(c.group_consumer_max_size).unwrap_or(usize::MAX),
            assignors: c.group_consumer_assignors.clone(),
            migration_policy: MigrationPolicy::parse(&c.group_consumer_migration_policy),
            regex_refresh_interval_ms: i64::from(c.group_consumer_regex_refresh_interval_ms),
        }
    }

    /// The assignor used when members ask for none.
    pub fn default_assignor(&self) -> &str {
        self.assignors.first().map_or("uniform", String::as_str)
    }
}
