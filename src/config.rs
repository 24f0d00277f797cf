//! Broker configuration: Kafka's key names, read from a TOML file, environment
//! variables and `--set KEY=VALUE` flags, resolved into one typed [`BrokerConfig`].
//!
//! Two stages, as in ripgrep's lowargs/hiargs: [`RawConfig`] is a flat map of
//! Kafka key → string value with the place each value came from (so
//! DescribeConfigs can report sources), and [`BrokerConfig`] holds the parsed,
//! validated values the rest of the broker uses. This module is a leaf: it
//! knows nothing of storage, groups or the wire protocol.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a config value came from, in the order later sources override earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The config file (`--config`).
    File,
    /// An environment variable (`SKIFF_*`).
    Env,
    /// A command-line flag (`--set`, `--listeners`, ...).
    Cli,
}

/// The type of a broker key, reported by DescribeConfigs (v3+) and used to validate values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
}

/// One broker-level key Skiff understands.
#[derive(Debug)]
pub struct BrokerKey {
    pub name: &'static str,
    /// `None` is Kafka's `null` default.
    pub default: Option<&'static str>,
    pub key_type: KeyType,
    pub doc: &'static str,
}

const fn key(
    name: &'static str,
    default: Option<&'static str>,
    key_type: KeyType,
    doc: &'static str,
) -> BrokerKey {
    BrokerKey {
        name,
        default,
        key_type,
        doc,
    }
}

/// Every broker key Skiff reads, with Kafka's defaults except where local
/// development wants otherwise (listeners on loopback, data in ./data).
pub const BROKER_KEYS: &[BrokerKey] = &[
    key("listeners", Some("127.0.0.1:9092"), KeyType::List, "Address the Kafka listener binds, HOST:PORT (a PLAINTEXT:// prefix is accepted). Port 0 picks a free port."),
    key("advertised.listeners", None, KeyType::List, "Address clients are told to connect to, HOST:PORT. Defaults to the bound listener address."),
    key("log.dirs", Some("./data"), KeyType::String, "Directory holding all partition data and broker metadata."),
    key("node.id", Some("1"), KeyType::Int, "The broker's id, reported in Metadata."),
    key("num.partitions", Some("1"), KeyType::Int, "Partitions of an auto-created topic, and of CreateTopics with num_partitions = -1."),
    key("default.replication.factor", Some("1"), KeyType::Short, "Replication factor reported for new topics. Skiff has one broker, so only 1 is valid."),
    key("auto.create.topics.enable", Some("true"), KeyType::Boolean, "Create a topic when a client asks for metadata of, or produces to, a topic that does not exist."),
    key("delete.topic.enable", Some("true"), KeyType::Boolean, "Allow DeleteTopics."),
    key("socket.request.max.bytes", Some("104857600"), KeyType::Int, "Largest request frame accepted; a larger size prefix closes the connection before anything is allocated."),
    key("max.connections", Some("2147483647"), KeyType::Int, "Most client connections open at once; further connections wait in the accept queue."),
    key("fetch.max.bytes", Some("57671680"), KeyType::Int, "Most bytes one Fetch response carries, whatever the client asks (the first batch is still returned whole, KIP-74)."),
    key("message.max.bytes", Some("1048588"), KeyType::Int, "Largest record batch accepted (topic override: max.message.bytes)."),
    key("log.segment.bytes", Some("1073741824"), KeyType::Int, "Size at which a partition rolls to a new segment (topic override: segment.bytes)."),
    key("log.roll.ms", None, KeyType::Long, "Age at which a segment is rolled; if unset, log.roll.hours is used (topic override: segment.ms)."),
    key("log.roll.hours", Some("168"), KeyType::Int, "Age in hours at which a segment is rolled."),
    key("log.index.interval.bytes", Some("4096"), KeyType::Int, "Bytes of log between two offset index entries (topic override: index.interval.bytes)."),
    key("log.index.size.max.bytes", Some("10485760"), KeyType::Int, "Largest offset index file; a full index rolls the segment (topic override: segment.index.bytes)."),
    key("log.flush.interval.messages", Some("9223372036854775807"), KeyType::Long, "fsync a partition after this many appended batches; 1 makes every acknowledged batch durable before its response (topic override: flush.messages)."),
    key("log.flush.interval.ms", None, KeyType::Long, "fsync a partition when its oldest unflushed data is this old; if unset, never by time (topic override: flush.ms)."),
    key("log.retention.ms", None, KeyType::Long, "Age after which segments may be deleted; if unset, log.retention.hours is used (topic override: retention.ms)."),
    key("log.retention.hours", Some("168"), KeyType::Int, "Retention in hours."),
    key("log.retention.bytes", Some("-1"), KeyType::Long, "Size per partition above which old segments may be deleted; -1 for no limit (topic override: retention.bytes)."),
    key("log.retention.check.interval.ms", Some("300000"), KeyType::Long, "How often partitions are checked for segments past retention.ms / retention.bytes (as Kafka, 5 minutes); the first check runs after log.initial.task.delay.ms or one interval, whichever is shorter."),
    key("log.initial.task.delay.ms", Some("30000"), KeyType::Long, "Delay after start-up before the first retention check (Kafka's internal key, same default)."),
    key("log.cleanup.policy", Some("delete"), KeyType::List, "delete, compact or both (topic override: cleanup.policy)."),
    key("log.message.timestamp.type", Some("CreateTime"), KeyType::String, "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches on append (topic override: message.timestamp.type)."),
    key("compression.type", Some("producer"), KeyType::String, "Skiff stores batches as the producer compressed them (only 'producer' is served)."),
    key("group.min.session.timeout.ms", Some("6000"), KeyType::Int, "Shortest session.timeout.ms a consumer may join a group with (shorter: INVALID_SESSION_TIMEOUT)."),
    key("group.max.session.timeout.ms", Some("1800000"), KeyType::Int, "Longest session.timeout.ms a consumer may join a group with (longer: INVALID_SESSION_TIMEOUT)."),
    key("group.initial.rebalance.delay.ms", Some("0"), KeyType::Int, "How long a new group waits for more members before its first rebalance. Kafka's default is 3000; Skiff's is 0 so a lone consumer starts at once."),
    key("group.max.size", Some("2147483647"), KeyType::Int, "Most members one consumer group may have (more: GROUP_MAX_SIZE_REACHED)."),
    key("offsets.topic.num.partitions", Some("1"), KeyType::Int, "Partitions of the internal __consumer_offsets topic, used when it is created (Kafka: 50; one broker gains nothing from more). An existing topic keeps its count."),
    key("offsets.topic.segment.bytes", Some("104857600"), KeyType::Int, "Segment size of the __consumer_offsets topic."),
    key("offsets.retention.minutes", Some("10080"), KeyType::Int, "Committed offsets of a group that has been empty this long are deleted (and the group with them)."),
    key("offsets.retention.check.interval.ms", Some("600000"), KeyType::Long, "How often expired committed offsets are looked for."),
    key("offset.metadata.max.bytes", Some("4096"), KeyType::Int, "Longest metadata string an offset commit may carry (longer: OFFSET_METADATA_TOO_LARGE)."),
    key("transaction.max.timeout.ms", Some("900000"), KeyType::Int, "Longest transaction.timeout.ms a transactional producer may ask for (longer: INVALID_TRANSACTION_TIMEOUT)."),
    key("transaction.state.log.num.partitions", Some("1"), KeyType::Int, "Partitions of the internal __transaction_state topic, used when it is created (Kafka: 50; one broker gains nothing from more). An existing topic keeps its count."),
    key("transaction.state.log.segment.bytes", Some("104857600"), KeyType::Int, "Segment size of the __transaction_state topic."),
    key("transaction.abort.timed.out.transaction.cleanup.interval.ms", Some("10000"), KeyType::Int, "How often transactions older than their transaction.timeout.ms are looked for and aborted."),
    key("transactional.id.expiration.ms", Some("604800000"), KeyType::Int, "A transactional id with no transaction in progress and no activity for this long is forgotten."),
    key("group.share.enable", Some("true"), KeyType::Boolean, "Share groups (KIP-932): the ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch and ShareAcknowledge APIs are advertised and served. Kafka 4.2 enables them by default (share.version=1 is finalized on new clusters); false hides them."),
    key("group.share.delivery.count.limit", Some("5"), KeyType::Int, "Deliveries of a share-group record before it is archived instead of made available again (2..10)."),
    key("group.share.record.lock.duration.ms", Some("30000"), KeyType::Int, "How long a record acquired by a share consumer stays locked to it before it is released for redelivery (1000..3600000; group override: share.record.lock.duration.ms)."),
    key("group.share.min.record.lock.duration.ms", Some("15000"), KeyType::Int, "Smallest group-level share.record.lock.duration.ms."),
    key("group.share.max.record.lock.duration.ms", Some("60000"), KeyType::Int, "Largest group-level share.record.lock.duration.ms."),
    key("group.share.partition.max.record.locks", Some("2000"), KeyType::Int, "Most in-flight (acquired or not yet acknowledged) records per share-partition (100..10000)."),
    key("group.share.session.timeout.ms", Some("45000"), KeyType::Int, "A share group member that does not heartbeat for this long is removed and its records released (group override: share.session.timeout.ms)."),
    key("group.share.heartbeat.interval.ms", Some("5000"), KeyType::Int, "Heartbeat interval share group members are told (group override: share.heartbeat.interval.ms)."),
    key("group.share.max.size", Some("200"), KeyType::Int, "Most members one share group may have (more: GROUP_MAX_SIZE_REACHED)."),
    key("http.listeners", Some("127.0.0.1:8092"), KeyType::List, "Address of the HTTP listener (web console, JSON API, /metrics, /healthz, /readyz), HOST:PORT; empty or \"off\" disables it. Port 0 picks a free port (the \"http ready\" log line names it)."),
    key("http.read.only", Some("false"), KeyType::Boolean, "When true the HTTP console and API refuse state-changing actions (produce, create and delete topic)."),
    key("skiff.max.open.segment.files", Some("0"), KeyType::Int, "Most segment and index files kept open at once (least recently used are closed and reopened on demand); 0 = half the process's open-file limit, which Skiff raises to its hard limit at start."),
    key("skiff.testing.fault.injection", Some("false"), KeyType::Boolean, "Testing only: when true, the file <log.dirs>/.skiff/fault-injection (contents enospc or eio) makes every partition write fail with that error until it is removed. Never enable in production."),
];

/// Looks up a key's definition.
pub fn broker_key(name: &str) -> Option<&'static BrokerKey> {
    BROKER_KEYS.iter().find(|k| k.name == name)
}

/// Errors while reading or validating configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("config key {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("--set expects KEY=VALUE, got {0:?}")]
    BadSet(String),
}

/// A flat map of Kafka config key → (value, source), before parsing.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    values: BTreeMap<String, (String, Source)>,
}

impl RawConfig {
    /// Sets `key` to `value` from `source`, replacing any earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>, source: Source) {
        self.values.insert(key.to_string(), (value.into(), source));
    }

    /// The explicitly set value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    /// Merges a TOML file. Kafka's dotted keys can be written plainly
    /// (`log.segment.bytes = 1048576` is a nested table in TOML) or quoted
    /// (`"log.segment.bytes" = 1048576`); both flatten to the same key.
    pub fn merge_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.merge_toml_str(&text)
            .map_err(|source| ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            })
    }

    fn merge_toml_str(&mut self, text: &str) -> Result<(), toml::de::Error> {
        let table: toml::Table = toml::from_str(text)?;
        let mut flat = Vec::new();
        flatten("", &toml::Value::Table(table), &mut flat);
        for (k, v) in flat {
            self.set(&k, v, Source::File);
        }
        Ok(())
    }

    /// Merges `SKIFF_*` environment variables: `SKIFF_LOG_SEGMENT_BYTES=1048576`
    /// sets `log.segment.bytes`. `SKIFF_LISTENERS`, `SKIFF_ADVERTISED_LISTENERS` and
    /// `SKIFF_DATA_DIR` are handled by the CLI layer (clap `env`).
    pub fn merge_env(&mut self, vars: impl Iterator<Item = (String, String)>) {
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("SKIFF_") else {
                continue;
            };
            let key = rest.to_ascii_lowercase().replace('_', ".");
            if broker_key(&key).is_some() {
                self.set(&key, value, Source::Env);
            }
        }
    }

    /// Merges one `--set KEY=VALUE`.
    pub fn merge_set(&mut self, kv: &str) -> Result<(), ConfigError> {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| ConfigError::BadSet(kv.to_string()))?;
        self.set(k.trim(), v.trim(), Source::Cli);
        Ok(())
    }

    /// The keys that were set but that Skiff does not know (they are ignored, as Kafka ignores them, with a warning).
    pub fn unknown_keys(&self) -> Vec<String> {
        self.values
            .keys()
            .filter(|k| broker_key(k).is_none())
            .cloned()
            .collect()
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        toml::Value::Array(items) => {
            let joined: Vec<String> = items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.push((prefix.to_string(), joined.join(",")));
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// A host and port, as used by listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Parses `HOST:PORT`, `PLAINTEXT://HOST:PORT`, `:PORT` (all interfaces) or `[::1]:PORT`.
/// A comma-separated list takes its first entry: Skiff serves one listener.
pub fn parse_host_port(key: &str, value: &str) -> Result<HostPort, ConfigError> {
    let invalid = |message: &str| ConfigError::Invalid {
        key: key.to_string(),
        message: format!("{message}: {value:?}"),
    };
    let first = value.split(',').next().unwrap_or("").trim();
    let addr = match first.split_once("://") {
        Some((_, rest)) => rest,
        None => first,
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected HOST:PORT"))?;
    let port: u16 = port.parse().map_err(|_| invalid("bad port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok(HostPort {
        host: host.to_string(),
        port,
    })
}

/// The resolved broker configuration.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub listener: HostPort,
    pub advertised_listener: Option<HostPort>,
    pub data_dir: PathBuf,
    pub node_id: i32,
    pub num_partitions: i32,
    pub default_replication_factor: i16,
    pub auto_create_topics_enable: bool,
    pub delete_topic_enable: bool,
    pub socket_request_max_bytes: usize,
    pub max_connections: usize,
    pub message_max_bytes: i32,
    pub fetch_max_bytes: usize,
    pub log_segment_bytes: u64,
    pub log_roll_ms: i64,
    pub log_index_interval_bytes: u32,
    pub log_index_size_max_bytes: u32,
    pub log_flush_interval_messages: i64,
    pub log_flush_interval_ms: i64,
    pub log_retention_ms: i64,
    pub log_retention_bytes: i64,
    pub log_retention_check_interval_ms: i64,
    pub log_initial_task_delay_ms: i64,
    pub log_cleanup_policy: String,
    pub log_message_timestamp_type: String,
    pub group_min_session_timeout_ms: i32,
    pub group_max_session_timeout_ms: i32,
    pub group_initial_rebalance_delay_ms: i32,
    pub group_max_size: i32,
    pub offsets_topic_num_partitions: i32,
    pub offsets_topic_segment_bytes: i64,
    pub offsets_retention_minutes: i64,
    pub offsets_retention_check_interval_ms: i64,
    pub offset_metadata_max_bytes: i32,
    pub transaction_max_timeout_ms: i32,
    pub transaction_state_log_num_partitions: i32,
    pub transaction_state_log_segment_bytes: i64,
    pub transaction_abort_timed_out_transaction_cleanup_interval_ms: i64,
    pub transactional_id_expiration_ms: i64,
    /// `skiff.max.open.segment.files`; 0 = automatic.
    pub max_open_segment_files: usize,
    /// `skiff.testing.fault.injection`: the storage fault-injection control file is honoured.
    pub testing_fault_injection: bool,
    /// `http.listeners`: the console/API/metrics listener; `None` when disabled.
    pub http_listener: Option<HostPort>,
    /// `http.read.only`: the HTTP API refuses produce, create and delete.
    pub http_read_only: bool,
    /// Every known key with its effective value and source, for DescribeConfigs.
    pub entries: Vec<ConfigEntry>,
}

/// One broker key as DescribeConfigs reports it.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    pub key: &'static BrokerKey,
    pub value: Option<String>,
    pub source: Source,
}

impl BrokerConfig {
    /// Parses and validates every known key of `raw`, falling back to defaults.
    pub fn resolve(raw: &RawConfig) -> Result<BrokerConfig, ConfigError> {
        let mut entries = Vec::with_capacity(BROKER_KEYS.len());
        for k in BROKER_KEYS {
            let (value, source) = match raw.values.get(k.name) {
                Some((v, s)) => (Some(v.clone()), *s),
                None => (k.default.map(str::to_string), Source::Default),
            };
            if let Some(v) = &value {
                validate_type(k, v)?;
            }
            entries.push(ConfigEntry {
                key: k,
                value,
                source,
            });
        }
        let get = |name: &str| -> Option<String> {
            entries
                .iter()
                .find(|e| e.key.name == name)
                .and_then(|e| e.value.clone())
        };
        let num = |name: &str| -> Result<i64, ConfigError> {
            let v = get(name).ok_or_else(|| ConfigError::Invalid {
                key: name.to_string(),
                message: "has no value".to_string(),
            })?;
            v.trim().parse::<i64>().map_err(|_| ConfigError::Invalid {
                key: name.to_string(),
                message: format!("not a number: {v:?}"),
            })
        };
        let opt_num = |name: &str| -> Result<Option<i64>, ConfigError> {
            match get(name) {
                None => Ok(None),
                Some(_) => num(name).map(Some),
            }
        };
        let positive = |name: &str, v: i64| -> Result<i64, ConfigError> {
            if v <= 0 {
                Err(ConfigError::Invalid {
                    key: name.to_string(),
                    message: format!("must be positive, got {v}"),
                })
            } else {
                Ok(v)
            }
        };
        let non_negative = |name: &str, v: i64| -> Result<i64, ConfigError> {
            if v < 0 {
                Err(ConfigError::Invalid {
                    key: name.to_string(),
                    message: format!("must not be negative, got {v}"),
                })
            } else {
                Ok(v)
            }
        };
        let listener = parse_host_port("listeners", &get("listeners").unwrap_or_default())?;
        let advertised_listener = match get("advertised.listeners") {
            Some(v) if !v.trim().is_empty() => Some(parse_host_port("advertised.listeners", &v)?),
            _ => None,
        };
        let hours = |name: &str| -> Result<i64, ConfigError> { Ok(num(name)? * 3_600_000) };
        let log_roll_ms = match opt_num("log.roll.ms")? {
            Some(v) => v,
            None => hours("log.roll.hours")?,
        };
        let log_retention_ms = match opt_num("log.retention.ms")? {
            Some(v) => v,
            None => hours("log.retention.hours")?,
        };
        let ts_type = get("log.message.timestamp.type").unwrap_or_default();
        if ts_type != "CreateTime" && ts_type != "LogAppendTime" {
            return Err(ConfigError::Invalid {
                key: "log.message.timestamp.type".into(),
                message: format!("must be CreateTime or LogAppendTime, got {ts_type:?}"),
            });
        }
        let replication = num("default.replication.factor")?;
        if replication != 1 {
            return Err(ConfigError::Invalid {
                key: "default.replication.factor".into(),
                message: "Skiff is a single broker: only 1 is valid".into(),
            });
        }
        let compression = get("compression.type").unwrap_or_default();
        if compression != "producer" {
            return Err(ConfigError::Invalid {
                key: "compression.type".into(),
                message: "only 'producer' is supported: batches are stored as sent".into(),
            });
        }
        let as_i32 = |name: &str, v: i64| -> Result<i32, ConfigError> {
            i32::try_from(v).map_err(|_| ConfigError::Invalid {
                key: name.to_string(),
                message: format!("out of range: {v}"),
            })
        };
        Ok(BrokerConfig {
            listener,
            advertised_listener,
            data_dir: PathBuf::from(get("log.dirs").unwrap_or_else(|| "./data".into())),
            node_id: as_i32("node.id", num("node.id")?)?,
            num_partitions: as_i32(
                "num.partitions",
                positive("num.partitions", num("num.partitions")?)?,
            )?,
            default_replication_factor: 1,
            auto_create_topics_enable: get("auto.create.topics.enable").as_deref() == Some("true"),
            delete_topic_enable: get("delete.topic.enable").as_deref() == Some("true"),
            socket_request_max_bytes: positive(
                "socket.request.max.bytes",
                num("socket.request.max.bytes")?,
            )? as usize,
            max_connections: positive("max.connections", num("max.connections")?)? as usize,
            fetch_max_bytes: positive("fetch.max.bytes", num("fetch.max.bytes")?)? as usize,
            message_max_bytes: as_i32(
                "message.max.bytes",
                positive("message.max.bytes", num("message.max.bytes")?)?,
            )?,
            log_segment_bytes: positive("log.segment.bytes", num("log.segment.bytes")?)? as u64,
            log_roll_ms: positive("log.roll.ms", log_roll_ms)?,
            log_index_interval_bytes: as_i32(
                "log.index.interval.bytes",
                positive("log.index.interval.bytes", num("log.index.interval.bytes")?)?,
            )? as u32,
            log_index_size_max_bytes: as_i32(
                "log.index.size.max.bytes",
                positive("log.index.size.max.bytes", num("log.index.size.max.bytes")?)?,
            )? as u32,
            log_flush_interval_messages: positive(
                "log.flush.interval.messages",
                num("log.flush.interval.messages")?,
            )?,
            log_flush_interval_ms: opt_num("log.flush.interval.ms")?.unwrap_or(i64::MAX),
            log_retention_ms,
            log_retention_bytes: num("log.retention.bytes")?,
            log_retention_check_interval_ms: positive(
                "log.retention.check.interval.ms",
                num("log.retention.check.interval.ms")?,
            )?,
            log_initial_task_delay_ms: non_negative(
                "log.initial.task.delay.ms",
                num("log.initial.task.delay.ms")?,
            )?,
            log_cleanup_policy: get("log.cleanup.policy").unwrap_or_else(|| "delete".into()),
            log_message_timestamp_type: ts_type,
            group_min_session_timeout_ms: as_i32(
                "group.min.session.timeout.ms",
                positive(
                    "group.min.session.timeout.ms",
                    num("group.min.session.timeout.ms")?,
                )?,
            )?,
            group_max_session_timeout_ms: as_i32(
                "group.max.session.timeout.ms",
                positive(
                    "group.max.session.timeout.ms",
                    num("group.max.session.timeout.ms")?,
                )?,
            )?,
            group_initial_rebalance_delay_ms: as_i32(
                "group.initial.rebalance.delay.ms",
                non_negative(
                    "group.initial.rebalance.delay.ms",
                    num("group.initial.rebalance.delay.ms")?,
                )?,
            )?,
            group_max_size: as_i32(
                "group.max.size",
                positive("group.max.size", num("group.max.size")?)?,
            )?,
            offsets_topic_num_partitions: as_i32(
                "offsets.topic.num.partitions",
                positive(
                    "offsets.topic.num.partitions",
                    num("offsets.topic.num.partitions")?,
                )?,
            )?,
            offsets_topic_segment_bytes: positive(
                "offsets.topic.segment.bytes",
                num("offsets.topic.segment.bytes")?,
            )?,
            offsets_retention_minutes: positive(
                "offsets.retention.minutes",
                num("offsets.retention.minutes")?,
            )?,
            offsets_retention_check_interval_ms: positive(
                "offsets.retention.check.interval.ms",
                num("offsets.retention.check.interval.ms")?,
            )?,
            offset_metadata_max_bytes: as_i32(
                "offset.metadata.max.bytes",
                non_negative(
                    "offset.metadata.max.bytes",
                    num("offset.metadata.max.bytes")?,
                )?,
            )?,
            transaction_max_timeout_ms: as_i32(
                "transaction.max.timeout.ms",
                positive(
                    "transaction.max.timeout.ms",
                    num("transaction.max.timeout.ms")?,
                )?,
            )?,
            transaction_state_log_num_partitions: as_i32(
                "transaction.state.log.num.partitions",
                positive(
                    "transaction.state.log.num.partitions",
                    num("transaction.state.log.num.partitions")?,
                )?,
            )?,
            transaction_state_log_segment_bytes: positive(
                "transaction.state.log.segment.bytes",
                num("transaction.state.log.segment.bytes")?,
            )?,
            transaction_abort_timed_out_transaction_cleanup_interval_ms: positive(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                num("transaction.abort.timed.out.transaction.cleanup.interval.ms")?,
            )?,
            transactional_id_expiration_ms: positive(
                "transactional.id.expiration.ms",
                num("transactional.id.expiration.ms")?,
            )?,
            max_open_segment_files: non_negative(
                "skiff.max.open.segment.files",
                num("skiff.max.open.segment.files")?,
            )? as usize,
            testing_fault_injection: get("skiff.testing.fault.injection").as_deref()
                == Some("true"),
            http_listener: match get("http.listeners") {
                Some(v) if !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("off") => {
                    Some(parse_host_port("http.listeners", &v)?)
                }
                _ => None,
            },
            http_read_only: get("http.read.only").as_deref() == Some("true"),
            entries,
        })
    }

    /// The address clients are told to use: advertised, or else the bound one.
    pub fn advertised(&self, bound_port: u16) -> HostPort {
        match &self.advertised_listener {
            Some(a) => a.clone(),
            None => {
                let host = match self.listener.host.as_str() {
                    // Telling clients to connect to 0.0.0.0 works on Linux but not everywhere.
                    "0.0.0.0" | "::" => "localhost".to_string(),
                    h => h.to_string(),
                };
                HostPort {
                    host,
                    port: bound_port,
                }
            }
        }
    }
}

fn validate_type(k: &BrokerKey, v: &str) -> Result<(), ConfigError> {
    let ok = match k.key_type {
        KeyType::Boolean => v == "true" || v == "false",
        KeyType::Int => v.trim().parse::<i32>().is_ok(),
        KeyType::Short => v.trim().parse::<i16>().is_ok(),
        KeyType::Long => v.trim().parse::<i64>().is_ok(),
        KeyType::Double => v.trim().parse::<f64>().is_ok(),
        KeyType::String | KeyType::List => true,
    };
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key: k.name.to_string(),
            message: format!("{v:?} is not a valid {:?}", k.key_type),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve() {
        let c = BrokerConfig::resolve(&RawConfig::default()).unwrap();
        assert_eq!(c.listener.port, 9092);
        assert_eq!(c.listener.host, "127.0.0.1");
        assert!(c.auto_create_topics_enable);
        assert_eq!(c.num_partitions, 1);
        assert_eq!(c.log_roll_ms, 168 * 3_600_000);
        assert_eq!(c.socket_request_max_bytes, 104_857_600);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn toml_dotted_and_quoted_keys_flatten() {
        let mut raw = RawConfig::default();
        raw.merge_toml_str(
            "log.segment.bytes = 1048576\n\"num.partitions\" = 3\nauto.create.topics.enable = false\n",
        )
        .unwrap();
        let c = BrokerConfig::resolve(&raw).unwrap();
        assert_eq!(c.log_segment_bytes, 1_048_576);
        assert_eq!(c.num_partitions, 3);
        assert!(!c.auto_create_topics_enable);
    }

    #[test]
    fn later_sources_override_and_are_reported() {
        let mut raw = RawConfig::default();
        raw.merge_toml_str("num.partitions = 3").unwrap();
        raw.merge_env(vec![("SKIFF_NUM_PARTITIONS".to_string(), "4".to_string())].into_iter());
        raw.merge_set("num.partitions=5").unwrap();
        let c = BrokerConfig::resolve(&raw).unwrap();
        assert_eq!(c.num_partitions, 5);
        let e = c
            .entries
            .iter()
            .find(|e| e.key.name == "num.partitions")
            .unwrap();
        assert_eq!(e.source, Source::Cli);
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut raw = RawConfig::default();
        raw.merge_set("num.partitions=zero").unwrap();
        assert!(BrokerConfig::resolve(&raw).is_err());
        let mut raw = RawConfig::default();
        raw.merge_set("num.partitions=0").unwrap();
        assert!(BrokerConfig::resolve(&raw).is_err());
        assert!(RawConfig::default().merge_set("novalue").is_err());
    }

    #[test]
    fn shipped_config_file_matches_the_defaults() {
        let mut raw = RawConfig::default();
        raw.merge_toml_str(include_str!("../configs/skiff.toml"))
            .unwrap();
        assert!(raw.unknown_keys().is_empty(), "{:?}", raw.unknown_keys());
        let from_file = BrokerConfig::resolve(&raw).unwrap();
        for e in &from_file.entries {
            if e.source == Source::File {
                assert_eq!(e.value.as_deref(), e.key.default, "{}", e.key.name);
            }
        }
        // Every key is documented in the file, set or commented out.
        let text = include_str!("../configs/skiff.toml");
        for k in BROKER_KEYS {
            assert!(
                text.contains(&format!("{} =", k.name)),
                "{} missing",
                k.name
            );
        }
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(
            parse_host_port("l", "PLAINTEXT://localhost:9092").unwrap(),
            HostPort {
                host: "localhost".into(),
                port: 9092
            }
        );
        assert_eq!(parse_host_port("l", ":9093").unwrap().host, "0.0.0.0");
        assert_eq!(parse_host_port("l", "[::1]:1").unwrap().host, "::1");
        assert!(parse_host_port("l", "nohost").is_err());
    }
}
