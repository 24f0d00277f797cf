//! Share-group settings: the broker keys (Kafka's `group.share.*` names and
//! defaults, Kafka 4.2's ShareGroupConfig/GroupCoordinatorConfig) and the
//! group-level overrides set with IncrementalAlterConfigs on a GROUP
//! resource (`share.auto.offset.reset`, `share.record.lock.duration.ms`,
//! `share.session.timeout.ms`, `share.heartbeat.interval.ms`,
//! `share.isolation.level`).

use std::collections::BTreeMap;

use tracing::warn;

use crate::config::BrokerConfig;

pub const SHARE_AUTO_OFFSET_RESET: &str = "share.auto.offset.reset";
pub const SHARE_RECORD_LOCK_DURATION_MS: &str = "share.record.lock.duration.ms";
pub const SHARE_SESSION_TIMEOUT_MS: &str = "share.session.timeout.ms";
pub const SHARE_HEARTBEAT_INTERVAL_MS: &str = "share.heartbeat.interval.ms";
/// `read_uncommitted` (Kafka's default) or `read_committed`: whether a share
/// group is delivered records of open and aborted transactions.
pub const SHARE_ISOLATION_LEVEL: &str = "share.isolation.level";
pub const READ_COMMITTED: &str = "read_committed";
pub const READ_UNCOMMITTED: &str = "read_uncommitted";

/// The broker-level share-group settings.
#[derive(Debug, Clone)]
pub struct ShareConfig {
    /// `group.share.enable`: share APIs advertised and served.
    pub enabled: bool,
    /// `group.share.delivery.count.limit` (2..=10).
    pub delivery_count_limit: i16,
    /// `group.share.record.lock.duration.ms`.
    pub record_lock_duration_ms: i64,
    /// `group.share.min.record.lock.duration.ms` / `group.share.max.record.lock.duration.ms`:
    /// bounds of the group-level `share.record.lock.duration.ms`.
    pub min_record_lock_duration_ms: i64,
    pub max_record_lock_duration_ms: i64,
    /// `group.share.partition.max.record.locks`.
    pub partition_max_record_locks: i64,
    /// `group.share.session.timeout.ms`.
    pub session_timeout_ms: i64,
    /// `group.share.heartbeat.interval.ms`.
    pub heartbeat_interval_ms: i64,
    /// `group.share.max.size`.
    pub max_size: usize,
    /// Most open share sessions (Kafka's `group.share.max.share.sessions`).
    pub max_share_sessions: usize,
    /// `log.flush.interval.messages`, applied to `__share_group_state` as to
    /// every other coordinator log.
    pub flush_interval_messages: i64,
}

impl Default for ShareConfig {
    fn default() -> ShareConfig {
        ShareConfig {
            enabled: true,
            delivery_count_limit: 5,
            record_lock_duration_ms: 30_000,
            min_record_lock_duration_ms: 15_000,
            max_record_lock_duration_ms: 60_000,
            partition_max_record_locks: 2000,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 5_000,
            max_size: 200,
            max_share_sessions: 2000,
            flush_interval_messages: i64::MAX,
        }
    }
}

impl ShareConfig {
    /// Reads the `group.share.*` keys (their types were checked when the
    /// broker config was resolved); out-of-range values fall back to
    /// Kafka's defaults with a warning.
    pub fn from_broker(c: &BrokerConfig) -> ShareConfig {
        let d = ShareConfig::default();
        let get = |name: &str| {
            c.entries
                .iter()
                .find(|e| e.key.name == name)
                .and_then(|e| e.value.clone())
        };
        let int = |name: &str, default: i64, min: i64, max: i64| -> i64 {
            match get(name).map(|v| v.trim().parse::<i64>()) {
                None => default,
                Some(Ok(v)) if (min..=max).contains(&v) => v,
                Some(_) => {
                    warn!(
                        key = name,
                        min, max, default, "out of range; using the default"
                    );
                    default
                }
            }
        };
        ShareConfig {
            enabled: get("group.share.enable").is_none_or(|v| v.trim() == "true"),
            delivery_count_limit: int(
                "group.share.delivery.count.limit",
                d.delivery_count_limit.into(),
                2,
                10,
            ) as i16,
            record_lock_duration_ms: int(
                "group.share.record.lock.duration.ms",
                d.record_lock_duration_ms,
                1000,
                3_600_000,
            ),
            min_record_lock_duration_ms: int(
                "group.share.min.record.lock.duration.ms",
                d.min_record_lock_duration_ms,
                1000,
                30_000,
            ),
            max_record_lock_duration_ms: int(
                "group.share.max.record.lock.duration.ms",
                d.max_record_lock_duration_ms,
                30_000,
                3_600_000,
            ),
            partition_max_record_locks: int(
                "group.share.partition.max.record.locks",
                d.partition_max_record_locks,
                100,
                10_000,
            ),
            session_timeout_ms: int(
                "group.share.session.timeout.ms",
                d.session_timeout_ms,
                1,
                i32::MAX.into(),
            ),
            heartbeat_interval_ms: int(
                "group.share.heartbeat.interval.ms",
                d.heartbeat_interval_ms,
                1,
                i32::MAX.into(),
            ),
            max_size: int("group.share.max.size", d.max_size as i64, 1, 1000) as usize,
            max_share_sessions: d.max_share_sessions,
            flush_interval_messages: c.log_flush_interval_messages,
        }
    }
}

/// `share.auto.offset.reset`: where a new share-partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoOffsetReset {
    Earliest,
    Latest,
    /// The first record at most this many ms old.
    ByDuration(i64),
}

impl AutoOffsetReset {
    pub fn parse(v: &str) -> Option<AutoOffsetReset> {
        if v.eq_ignore_ascii_case("earliest") {
            return Some(AutoOffsetReset::Earliest);
        }
        if v.eq_ignore_ascii_case("latest") {
            return Some(AutoOffsetReset::Latest);
        }
        let d = v
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("by_duration:"))
            .and_then(|_| v.get(12..))?;
        iso_duration_ms(d.trim()).map(AutoOffsetReset::ByDuration)
    }
}

/// A non-negative ISO-8601 duration as Java's `Duration.parse` reads it
/// (`PnDTnHnMn.nS`), in milliseconds.
pub fn iso_duration_ms(s: &str) -> Option<i64> {
    let upper = s.to_ascii_uppercase();
    let rest = upper.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut ms: i64 = 0;
    let mut any = false;
    if !days.is_empty() {
        let n: i64 = days.strip_suffix('D')?.parse().ok().filter(|n| *n >= 0)?;
        ms = ms.checked_add(n.checked_mul(86_400_000)?)?;
        any = true;
    }
    if let Some(mut t) = time {
        if t.is_empty() {
            return None;
        }
        for (unit, scale) in [('H', 3_600_000i64), ('M', 60_000)] {
            if let Some((n, r)) = t.split_once(unit) {
                let n: i64 = n.parse().ok().filter(|n| *n >= 0)?;
                ms = ms.checked_add(n.checked_mul(scale)?)?;
                t = r;
                any = true;
            }
        }
        if !t.is_empty() {
            let secs = t.strip_suffix('S')?.replace(',', ".");
            let (whole, frac) = secs.split_once('.').unwrap_or((&secs, ""));
            let whole: i64 = whole.parse().ok().filter(|n| *n >= 0)?;
            if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let frac_ms: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
            ms = ms
                .checked_add(whole.checked_mul(1000)?)?
                .checked_add(frac_ms)?;
            any = true;
        }
    }
    any.then_some(ms)
}

/// Why a group config change was refused (INVALID_CONFIG).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GroupConfigError(pub String);

/// A group-level integer override, else the broker default.
pub fn group_int(overrides: Option<&BTreeMap<String, String>>, key: &str, default: i64) -> i64 {
    overrides
        .and_then(|m| m.get(key))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A group-level string override.
pub fn group_str<'a>(
    overrides: Option<&'a BTreeMap<String, String>>,
    key: &str,
) -> Option<&'a str> {
    overrides.and_then(|m| m.get(key)).map(String::as_str)
}

/// Applies IncrementalAlterConfigs operations (0 SET, 1 DELETE) to a
/// group's overrides and validates the result as Kafka's GroupConfig does.
pub fn apply_group_ops(
    broker: &ShareConfig,
    mut config: BTreeMap<String, String>,
    ops: &[(String, i8, Option<String>)],
) -> Result<BTreeMap<String, String>, GroupConfigError> {
    for (name, op, value) in ops {
        if !matches!(
            name.as_str(),
            SHARE_AUTO_OFFSET_RESET
                | SHARE_RECORD_LOCK_DURATION_MS
                | SHARE_SESSION_TIMEOUT_MS
                | SHARE_HEARTBEAT_INTERVAL_MS
                | SHARE_ISOLATION_LEVEL
        ) {
            return Err(GroupConfigError(format!(
                "Unknown group config name: {name}"
            )));
        }
        match op {
            0 => {
                let v = value.clone().unwrap_or_default();
                config.insert(name.clone(), v);
            }
            1 => {
                config.remove(name);
            }
            _ => {
                return Err(GroupConfigError(format!(
                    "Config {name} is not a list: APPEND and SUBTRACT are not allowed"
                )))
            }
        }
    }
    if let Some(v) = config.get(SHARE_AUTO_OFFSET_RESET) {
        if AutoOffsetReset::parse(v).is_none() {
            return Err(GroupConfigError(format!(
                "Invalid value {v} for configuration {SHARE_AUTO_OFFSET_RESET}: must be latest, earliest or by_duration:PnDTnHnMn.nS (not negative)"
            )));
        }
    }
    if let Some(v) = config.get(SHARE_ISOLATION_LEVEL) {
        if v != READ_COMMITTED && v != READ_UNCOMMITTED {
            return Err(GroupConfigError(format!(
                "Invalid value {v} for configuration {SHARE_ISOLATION_LEVEL}: String must be one of: {READ_COMMITTED}, {READ_UNCOMMITTED}"
            )));
        }
    }
    let num = |key: &str| -> Result<Option<i64>, GroupConfigError> {
        match config.get(key) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                GroupConfigError(format!(
                    "Invalid value {v} for configuration {key}: Not a number of type INT"
                ))
            }),
        }
    };
    if let Some(v) = num(SHARE_RECORD_LOCK_DURATION_MS)? {
        if v < broker.min_record_lock_duration_ms {
            return Err(GroupConfigError(format!(
                "{SHARE_RECORD_LOCK_DURATION_MS} must be greater than or equal to group.share.min.record.lock.duration.ms"
            )));
        }
        if v > broker.max_record_lock_duration_ms {
            return Err(GroupConfigError(format!(
                "{SHARE_RECORD_LOCK_DURATION_MS} must be less than or equal to group.share.max.record.lock.duration.ms"
            )));
        }
    }
    let session = num(SHARE_SESSION_TIMEOUT_MS)?.unwrap_or(broker.session_timeout_ms);
    let heartbeat = num(SHARE_HEARTBEAT_INTERVAL_MS)?.unwrap_or(broker.heartbeat_interval_ms);
    if session < 1 || heartbeat < 1 {
        return Err(GroupConfigError("timeouts must be at least 1 ms".into()));
    }
    if session <= heartbeat {
        return Err(GroupConfigError(format!(
            "{SHARE_SESSION_TIMEOUT_MS} must be greater than {SHARE_HEARTBEAT_INTERVAL_MS}"
        )));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(k: &str, v: &str) -> (String, i8, Option<String>) {
        (k.into(), 0, Some(v.into()))
    }

    #[test]
    fn auto_offset_reset_values() {
        assert_eq!(
            AutoOffsetReset::parse("EARLIEST"),
            Some(AutoOffsetReset::Earliest)
        );
        assert_eq!(
            AutoOffsetReset::parse("by_duration:PT1H30M"),
            Some(AutoOffsetReset::ByDuration(5_400_000))
        );
        assert_eq!(
            AutoOffsetReset::parse("by_duration:P1DT0.5S"),
            Some(AutoOffsetReset::ByDuration(86_400_500))
        );
        for bad in [
            "by_duration:",
            "by_duration:PT",
            "by_duration:1H",
            "by_duration:PT-1M",
            "nope",
        ] {
            assert_eq!(AutoOffsetReset::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn group_configs_are_validated() {
        let b = ShareConfig::default();
        let ok = apply_group_ops(
            &b,
            BTreeMap::new(),
            &[op(SHARE_AUTO_OFFSET_RESET, "earliest")],
        );
        assert_eq!(ok.unwrap()[SHARE_AUTO_OFFSET_RESET], "earliest");
        let ok = apply_group_ops(
            &b,
            BTreeMap::new(),
            &[op(SHARE_ISOLATION_LEVEL, READ_COMMITTED)],
        );
        assert_eq!(ok.unwrap()[SHARE_ISOLATION_LEVEL], READ_COMMITTED);
        for bad in [
            op(SHARE_AUTO_OFFSET_RESET, "sometimes"),
            op(SHARE_AUTO_OFFSET_RESET, "by_duration:-PT1H"),
            op(SHARE_AUTO_OFFSET_RESET, "by_duration:P"),
            op(SHARE_RECORD_LOCK_DURATION_MS, "100"),
            op(SHARE_RECORD_LOCK_DURATION_MS, "x"),
            op(SHARE_SESSION_TIMEOUT_MS, "10"),
            op(SHARE_ISOLATION_LEVEL, "READ_COMMITTED"),
            op("no.such.key", "1"),
        ] {
            assert!(
                apply_group_ops(&b, BTreeMap::new(), std::slice::from_ref(&bad)).is_err(),
                "{bad:?}"
            );
        }
        let cleared = apply_group_ops(
            &b,
            BTreeMap::from([(SHARE_AUTO_OFFSET_RESET.to_string(), "earliest".to_string())]),
            &[(SHARE_AUTO_OFFSET_RESET.into(), 1, None)],
        );
        assert!(cleared.unwrap().is_empty());
    }
}
