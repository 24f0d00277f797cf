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

use crate::security::listeners::{self, Listener};
use crate::security::settings::{self, SaslSettings};

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
    /// A secret: DescribeConfigs reports it as sensitive, with no value.
    Password,
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
    key("listeners", Some("127.0.0.1:9092"), KeyType::List, "Listeners to bind, NAME://HOST:PORT,... (a bare HOST:PORT is the PLAINTEXT listener). The name's protocol comes from listener.security.protocol.map. Port 0 picks a free port."),
    key("advertised.listeners", None, KeyType::List, "Addresses clients of each listener are told to connect to, NAME://HOST:PORT,... (a bare HOST:PORT with one listener names it). Unset listeners advertise their bound address."),
    key("listener.security.protocol.map", Some("PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"), KeyType::List, "Security protocol of each listener name, NAME:PROTOCOL,... (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)."),
    key("inter.broker.listener.name", None, KeyType::String, "Accepted for compatibility (Skiff is a single broker); must name one of the listeners."),
    key("security.inter.broker.protocol", Some("PLAINTEXT"), KeyType::String, "Accepted for compatibility (Skiff is a single broker)."),
    key("ssl.keystore.type", Some("PEM"), KeyType::String, "Only PEM: ssl.keystore.location is a PEM file with the private key and the certificate chain, or ssl.keystore.certificate.chain + ssl.keystore.key hold them inline."),
    key("ssl.keystore.location", None, KeyType::String, "PEM file with the listener's private key (unencrypted) and certificate chain (`skiff dev-certs DIR` writes one)."),
    key("ssl.keystore.certificate.chain", None, KeyType::Password, "The listener's certificate chain as inline PEM (with ssl.keystore.key)."),
    key("ssl.keystore.key", None, KeyType::Password, "The listener's private key as inline unencrypted PEM (PKCS#8, PKCS#1 or SEC1)."),
    key("ssl.key.password", None, KeyType::Password, "Encrypted keys are not supported: leave unset."),
    key("ssl.truststore.type", Some("PEM"), KeyType::String, "Only PEM."),
    key("ssl.truststore.location", None, KeyType::String, "PEM file of the CA certificates client certificates must chain to (ssl.client.auth)."),
    key("ssl.truststore.certificates", None, KeyType::Password, "The trusted client CA certificates as inline PEM."),
    key("ssl.client.auth", Some("none"), KeyType::String, "none, requested or required: whether TLS clients must present a certificate. Its subject DN (RFC 2253) is the principal, as Kafka's default principal builder gives it."),
    key("ssl.enabled.protocols", Some("TLSv1.2,TLSv1.3"), KeyType::List, "TLS versions offered (TLSv1.2, TLSv1.3)."),
    key("ssl.principal.mapping.rules", Some("DEFAULT"), KeyType::String, "Only DEFAULT: the principal is the full subject DN."),
    key("sasl.enabled.mechanisms", Some("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"), KeyType::List, "Mechanisms SASL listeners offer: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER."),
    key("sasl.users", None, KeyType::Password, "Skiff's user list, USER:PASSWORD,... : PLAIN logins and SCRAM-SHA-256/512 credentials (salted and hashed in memory at start; kafka-configs' SCRAM credentials are stored in the data dir and take precedence)."),
    key("sasl.oauthbearer.jwks.endpoint.url", None, KeyType::String, "A local JWKS file (file:///path or a path): OAUTHBEARER tokens must be signed (RS256/384/512, ES256/384) by one of its keys. Unset: unsecured JWS tokens (alg none) are accepted, as Kafka's default validator does."),
    key("sasl.oauthbearer.expected.audience", None, KeyType::List, "With a JWKS: the token's aud must contain one of these."),
    key("sasl.oauthbearer.expected.issuer", None, KeyType::String, "With a JWKS: the token's iss must equal this."),
    key("sasl.oauthbearer.sub.claim.name", Some("sub"), KeyType::String, "The token claim that names the principal."),
    key("sasl.oauthbearer.clock.skew.seconds", Some("30"), KeyType::Int, "With a JWKS: allowed clock difference when checking exp/iat/nbf."),
    key("connections.max.reauth.ms", Some("0"), KeyType::Long, "SASL sessions last at most this long (KIP-368): clients re-authenticate in time, others are closed. 0 = no limit."),
    key("skiff.authentication.timeout.ms", Some("30000"), KeyType::Long, "A connection must finish its TLS handshake and SASL authentication within this long, or it is closed."),
    key("log.dirs", Some("./data"), KeyType::String, "Directory holding all partition data and broker metadata."),
    key("node.id", Some("1"), KeyType::Int, "The broker's id, reported in Metadata."),
    key("num.partitions", Some("1"), KeyType::Int, "Partitions of an auto-created topic, and of CreateTopics with num_partitions = -1."),
    key("default.replication.factor", Some("1"), KeyType::Short, "Replication factor reported for new topics. Skiff has one broker, so only 1 is valid."),
    key("auto.create.topics.enable", Some("true"), KeyType::Boolean, "Create a topic when a client asks for metadata of, or produces to, a topic that does not exist."),
    key("delete.topic.enable", Some("true"), KeyType::Boolean, "Allow DeleteTopics."),
    key("socket.request.max.bytes", Some("104857600"), KeyType::Int, "Largest request frame accepted; a larger size prefix closes the connection before anything is allocated."),
    key("connections.max.idle.ms", Some("600000"), KeyType::Long, "A connection with no request for this long is closed (as Kafka's idle connection reaper does). -1 = never."),
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
    key("group.consumer.session.timeout.ms", Some("45000"), KeyType::Int, "Session timeout of consumer-protocol (KIP-848) group members: a member silent this long is fenced."),
    key("group.consumer.min.session.timeout.ms", Some("45000"), KeyType::Int, "Lower bound of group.consumer.session.timeout.ms."),
    key("group.consumer.max.session.timeout.ms", Some("60000"), KeyType::Int, "Upper bound of group.consumer.session.timeout.ms."),
    key("group.consumer.heartbeat.interval.ms", Some("5000"), KeyType::Int, "Heartbeat interval given to consumer-protocol group members (must be below the session timeout)."),
    key("group.consumer.min.heartbeat.interval.ms", Some("5000"), KeyType::Int, "Lower bound of group.consumer.heartbeat.interval.ms."),
    key("group.consumer.max.heartbeat.interval.ms", Some("15000"), KeyType::Int, "Upper bound of group.consumer.heartbeat.interval.ms."),
    key("group.consumer.max.size", Some("2147483647"), KeyType::Int, "Most members one consumer-protocol group may have (more: GROUP_MAX_SIZE_REACHED)."),
    key("group.consumer.assignors", Some("uniform,range"), KeyType::List, "Server-side assignors of consumer-protocol groups; the first is used when a member names none (built in: uniform, range)."),
    key("group.consumer.migration.policy", Some("bidirectional"), KeyType::String, "Online migration between classic and consumer groups (KIP-848), case-insensitive: upgrade (a consumer-protocol member joining a non-empty classic \"consumer\" group converts it; its members stay, as classic-protocol members), downgrade (a consumer group whose last consumer-protocol member leaves becomes a classic group again, its members kept, rebalancing), bidirectional (both), disabled (neither). Empty groups are converted either way, whatever the value."),
    key("group.consumer.regex.refresh.interval.ms", Some("600000"), KeyType::Int, "How long the topics a consumer-protocol group's regular expression (subscribed_topic_regex) resolved to stand before a heartbeat resolves it again, even when no topic was created or deleted; at least 10000 (Kafka's internal key of the same name). With an authorizer a regex resolves only to topics the member may DESCRIBE, so a DESCRIBE granted later takes effect at the next resolution."),
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
    key("schema.registry.listeners", Some("127.0.0.1:8081"), KeyType::List, "Address of the built-in Confluent-compatible Schema Registry REST API, HOST:PORT; empty or \"off\" disables it. Port 0 picks a free port (the \"schema registry ready\" log line names it)."),
    key("schema.registry.max.schema.bytes", Some("1048576"), KeyType::Int, "Largest request body (and so schema) the Schema Registry accepts; larger: 413."),
    key("http.read.only", Some("false"), KeyType::Boolean, "When true the HTTP console and API refuse state-changing actions (produce, create and delete topic)."),
    key("authorizer.class.name", Some(""), KeyType::String, "The authorizer. Empty (the default): no authorization, every request is allowed and the ACL APIs answer SECURITY_DISABLED, as Kafka without an authorizer. org.apache.kafka.metadata.authorizer.StandardAuthorizer (or the older kafka.security.authorizer.AclAuthorizer): every request is checked against the ACLs, stored in <log.dirs>/acls.json."),
    key("super.users", None, KeyType::String, "Principals allowed everything whatever the ACLs say, separated by semicolons: User:admin;User:ops."),
    key("allow.everyone.if.no.acl.found", Some("false"), KeyType::Boolean, "With an authorizer: whether an action on a resource that no ACL covers at all is allowed (Kafka's default false: denied)."),
    key("http.auth.users", None, KeyType::Password, "HTTP console/API basic authentication: USER:PASSWORD pairs separated by commas. Unset: no authentication (the listener is loopback-only by default). /healthz and /readyz stay open."),
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
            // Per-listener overrides (`listener.name.sasl_ssl.ssl.client.auth`) are read by name.
            .filter(|k| broker_key(k).is_none() && !k.starts_with("listener.name."))
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
    /// Every listener, first one first (the `broker ready` line names its address).
    pub listeners: Vec<Listener>,
    /// Broker-wide SASL settings.
    pub sasl: SaslSettings,
    pub data_dir: PathBuf,
    pub node_id: i32,
    pub num_partitions: i32,
    pub default_replication_factor: i16,
    pub auto_create_topics_enable: bool,
    pub delete_topic_enable: bool,
    pub socket_request_max_bytes: usize,
    pub max_connections: usize,
    /// `connections.max.idle.ms`; `None` (-1) never closes idle connections.
    pub connections_max_idle: Option<std::time::Duration>,
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
    pub group_consumer_session_timeout_ms: i32,
    pub group_consumer_heartbeat_interval_ms: i32,
    pub group_consumer_max_size: i32,
    pub group_consumer_assignors: Vec<String>,
    /// `group.consumer.migration.policy`, lower-cased (validated).
    pub group_consumer_migration_policy: String,
    /// `group.consumer.regex.refresh.interval.ms` (at least 10000).
    pub group_consumer_regex_refresh_interval_ms: i32,
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
    /// `authorizer.class.name` is set: requests are checked against ACLs.
    pub authorizer_enabled: bool,
    /// `super.users`, each `Type:name`.
    pub super_users: Vec<String>,
    /// `allow.everyone.if.no.acl.found`.
    pub allow_everyone_if_no_acl_found: bool,
    /// `http.auth.users`: (user, password) pairs; empty = no HTTP authentication.
    pub http_auth_users: Vec<(String, String)>,
    /// `schema.registry.listeners`: the Schema Registry listener; `None` when disabled.
    pub schema_registry_listener: Option<HostPort>,
    /// `schema.registry.max.schema.bytes`: largest registry request body.
    pub schema_registry_max_bytes: usize,
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
        let mut listeners = listeners::resolve(
            &get("listeners").unwrap_or_default(),
            get("advertised.listeners").as_deref(),
            &get("listener.security.protocol.map").unwrap_or_default(),
            get("inter.broker.listener.name").as_deref(),
        )?;
        for l in &mut listeners {
            let prefix = format!("listener.name.{}.", l.name.to_ascii_lowercase());
            let lookup = |k: &str| -> Option<String> {
                raw.get(&format!("{prefix}{k}"))
                    .map(str::to_string)
                    .or_else(|| get(k))
            };
            if l.protocol.uses_tls() {
                l.tls = Some(settings::resolve_tls(&l.name, &lookup)?);
            }
            if l.protocol.uses_sasl() {
                l.sasl_mechanisms = settings::resolve_mechanisms(&lookup)?;
            }
        }
        if get("ssl.principal.mapping.rules").as_deref().map(str::trim) != Some("DEFAULT") {
            return Err(ConfigError::Invalid {
                key: "ssl.principal.mapping.rules".into(),
                message: "only DEFAULT is supported".into(),
            });
        }
        let sasl = SaslSettings {
            users: settings::parse_users(&get("sasl.users").unwrap_or_default())?,
            oauth_jwks_file: get("sasl.oauthbearer.jwks.endpoint.url")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| PathBuf::from(v.strip_prefix("file://").unwrap_or(&v))),
            oauth_expected_audience: get("sasl.oauthbearer.expected.audience")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
            oauth_expected_issuer: get("sasl.oauthbearer.expected.issuer")
                .filter(|v| !v.trim().is_empty()),
            oauth_sub_claim: get("sasl.oauthbearer.sub.claim.name").unwrap_or_else(|| "sub".into()),
            oauth_clock_skew_ms: non_negative(
                "sasl.oauthbearer.clock.skew.seconds",
                num("sasl.oauthbearer.clock.skew.seconds")?,
            )? * 1000,
            max_reauth_ms: non_negative(
                "connections.max.reauth.ms",
                num("connections.max.reauth.ms")?,
            )?,
            authentication_timeout_ms: positive(
                "skiff.authentication.timeout.ms",
                num("skiff.authentication.timeout.ms")?,
            )? as u64,
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
        // Kafka's GroupCoordinatorConfig checks for the consumer group keys.
        let int =
            |name: &str| -> Result<i32, ConfigError> { as_i32(name, positive(name, num(name)?)?) };
        let bad = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        let session = int("group.consumer.session.timeout.ms")?;
        let (min_session, max_session) = (
            int("group.consumer.min.session.timeout.ms")?,
            int("group.consumer.max.session.timeout.ms")?,
        );
        let heartbeat = int("group.consumer.heartbeat.interval.ms")?;
        let (min_heartbeat, max_heartbeat) = (
            int("group.consumer.min.heartbeat.interval.ms")?,
            int("group.consumer.max.heartbeat.interval.ms")?,
        );
        if !(min_session..=max_session).contains(&session) {
            return Err(bad(
                "group.consumer.session.timeout.ms",
                format!("must be within group.consumer.min/max.session.timeout.ms ({min_session}..={max_session}), got {session}"),
            ));
        }
        if !(min_heartbeat..=max_heartbeat).contains(&heartbeat) {
            return Err(bad(
                "group.consumer.heartbeat.interval.ms",
                format!("must be within group.consumer.min/max.heartbeat.interval.ms ({min_heartbeat}..={max_heartbeat}), got {heartbeat}"),
            ));
        }
        if heartbeat >= session {
            return Err(bad(
                "group.consumer.heartbeat.interval.ms",
                format!("must be less than group.consumer.session.timeout.ms ({session}), got {heartbeat}"),
            ));
        }
        let assignors: Vec<String> = get("group.consumer.assignors")
            .unwrap_or_default()
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        if assignors.is_empty() {
            return Err(bad(
                "group.consumer.assignors",
                "must name at least one assignor".into(),
            ));
        }
        if let Some(a) = assignors
            .iter()
            .find(|a| a.as_str() != "uniform" && a.as_str() != "range")
        {
            return Err(bad(
                "group.consumer.assignors",
                format!("{a:?} is not a built-in assignor (uniform, range); custom assignor classes are not supported"),
            ));
        }
        let regex_refresh = int("group.consumer.regex.refresh.interval.ms")?;
        if regex_refresh < 10_000 {
            return Err(bad(
                "group.consumer.regex.refresh.interval.ms",
                format!("must be at least 10000, got {regex_refresh}"),
            ));
        }
        let policy = get("group.consumer.migration.policy").unwrap_or_default();
        if !["bidirectional", "upgrade", "downgrade", "disabled"]
            .contains(&policy.trim().to_ascii_lowercase().as_str())
        {
            return Err(bad(
                "group.consumer.migration.policy",
                format!("must be bidirectional, upgrade, downgrade or disabled, got {policy:?}"),
            ));
        }
        Ok(BrokerConfig {
            group_consumer_session_timeout_ms: session,
            group_consumer_heartbeat_interval_ms: heartbeat,
            group_consumer_max_size: int("group.consumer.max.size")?,
            group_consumer_assignors: assignors,
            group_consumer_migration_policy: policy.trim().to_ascii_lowercase(),
            group_consumer_regex_refresh_interval_ms: regex_refresh,
            listeners,
            sasl,
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
            connections_max_idle: match num("connections.max.idle.ms")? {
                -1 => None,
                ms => Some(std::time::Duration::from_millis(
                    positive("connections.max.idle.ms", ms)? as u64,
                )),
            },
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
            authorizer_enabled: authorizer_enabled(get("authorizer.class.name").as_deref())?,
            super_users: get("super.users")
                .map(|v| {
                    v.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            allow_everyone_if_no_acl_found: get("allow.everyone.if.no.acl.found").as_deref()
                == Some("true"),
            http_auth_users: parse_http_users(get("http.auth.users").as_deref())?,
            schema_registry_listener: match get("schema.registry.listeners") {
                Some(v) if !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("off") => {
                    Some(parse_host_port("schema.registry.listeners", &v)?)
                }
                _ => None,
            },
            schema_registry_max_bytes: positive(
                "schema.registry.max.schema.bytes",
                num("schema.registry.max.schema.bytes")?,
            )? as usize,
            entries,
        })
    }

    /// The first listener: the one the `broker ready` line names.
    pub fn first_listener(&self) -> &Listener {
        // `listeners::resolve` refuses an empty list.
        &self.listeners[0]
    }
}

/// The authorizer class names Kafka users write; empty means none.
const AUTHORIZER_CLASSES: &[&str] = &[
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "kafka.security.authorizer.AclAuthorizer",
];

fn authorizer_enabled(class: Option<&str>) -> Result<bool, ConfigError> {
    match class.map(str::trim) {
        None | Some("") => Ok(false),
        Some(c) if AUTHORIZER_CLASSES.contains(&c) => Ok(true),
        Some(c) => Err(ConfigError::Invalid {
            key: "authorizer.class.name".into(),
            message: format!(
                "{c:?} is not an authorizer Skiff has; use {} (or leave it empty for none)",
                AUTHORIZER_CLASSES[0]
            ),
        }),
    }
}

/// `http.auth.users`: `user:password` pairs separated by commas.
fn parse_http_users(value: Option<&str>) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                Ok((user.to_string(), password.to_string()))
            }
            // Never echo the value: it holds passwords.
            _ => Err(ConfigError::Invalid {
                key: "http.auth.users".into(),
                message: "expected USER:PASSWORD pairs separated by commas".into(),
            }),
        })
        .collect()
}

fn validate_type(k: &BrokerKey, v: &str) -> Result<(), ConfigError> {
    let ok = match k.key_type {
        KeyType::Boolean => v == "true" || v == "false",
        KeyType::Int => v.trim().parse::<i32>().is_ok(),
        KeyType::Short => v.trim().parse::<i16>().is_ok(),
        KeyType::Long => v.trim().parse::<i64>().is_ok(),
        KeyType::Double => v.trim().parse::<f64>().is_ok(),
        KeyType::String | KeyType::List | KeyType::Password => true,
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
        assert_eq!(c.first_listener().bind.port, 9092);
        assert_eq!(c.first_listener().bind.host, "127.0.0.1");
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
