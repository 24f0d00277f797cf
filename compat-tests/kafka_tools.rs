//! Kafka's own command-line tools (the classes behind kafka-topics.sh,
//! kafka-configs.sh, kafka-consumer-groups.sh, kafka-console-producer.sh,
//! kafka-console-consumer.sh, kafka-get-offsets.sh, kafka-delete-records.sh,
//! kafka-transactions.sh, kafka-verifiable-producer.sh and
//! kafka-verifiable-consumer.sh, from the Apache Kafka 4.1 jars on Maven
//! Central) run with `java -cp` against the real `skiff` binary, each asserted
//! on what it prints.
//!
//! The classpath comes from compat-tests/kafka-dist/classpath.sh (Maven) and
//! is resolved once per test process. The tools log WARN and above to stderr
//! (compat-tests/clients/kafka-tools/log4j2.properties); any ERROR, exception
//! or unsupported-version line there fails the test, because against Kafka
//! the same commands print none.
//!
//! A JVM start costs about a second on a loaded 2-core machine, so each test
//! groups a whole workflow (topics+configs, console+groups+offsets,
//! verifiable+transactions) instead of one test per flag.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::harness::*;

/// Limit for one tool invocation (a JVM start plus the tool's own work).
const TOOL_LIMIT: Duration = Duration::from_secs(90);
/// Limit for a condition a background tool must reach.
const AWAIT_LIMIT: Duration = Duration::from_secs(60);
const T: Duration = Duration::from_secs(20);

const TOPICS: &str = "org.apache.kafka.tools.TopicCommand";
const CONFIGS: &str = "kafka.admin.ConfigCommand";
const GROUPS: &str = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
const CONSOLE_PRODUCER: &str = "org.apache.kafka.tools.ConsoleProducer";
const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const GET_OFFSETS: &str = "org.apache.kafka.tools.GetOffsetShell";
const DELETE_RECORDS: &str = "org.apache.kafka.tools.DeleteRecordsCommand";
const TRANSACTIONS: &str = "org.apache.kafka.tools.TransactionsCommand";
const VERIFIABLE_PRODUCER: &str = "org.apache.kafka.tools.VerifiableProducer";
const VERIFIABLE_CONSUMER: &str = "org.apache.kafka.tools.VerifiableConsumer";

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests")
}

fn probe_ok(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The Kafka tools' classpath, or None (after printing SKIP) when java or
/// Maven is missing outside CI. Under CI=true a missing toolchain fails.
pub(crate) fn classpath() -> Option<&'static str> {
    static CP: OnceLock<Result<String, String>> = OnceLock::new();
    resolve_classpath(&CP, None)
}

/// The classpath of another Kafka release's tools (`classpath.sh VERSION`),
/// as `classpath()` otherwise.
pub(crate) fn classpath_of_version(version: &'static str) -> Option<&'static str> {
    static CP_42: OnceLock<Result<String, String>> = OnceLock::new();
    assert_eq!(version, "4.2.2", "add a OnceLock for another version");
    resolve_classpath(&CP_42, Some(version))
}

fn resolve_classpath(
    cell: &'static OnceLock<Result<String, String>>,
    version: Option<&str>,
) -> Option<&'static str> {
    let cp = cell.get_or_init(|| {
        if !probe_ok("java", "-version") {
            return Err("java is not installed".into());
        }
        let script = compat_dir().join("kafka-dist/classpath.sh");
        let cached = compat_dir().join(match version {
            Some(v) => format!("kafka-dist/target/classpath-{v}.txt"),
            None => "kafka-dist/target/classpath.txt".to_string(),
        });
        if !cached.exists() && !probe_ok("mvn", "-v") {
            return Err("mvn is not installed (it resolves the Kafka tools' jars)".into());
        }
        let script = script.to_string_lossy();
        let mut args = vec![script.as_ref()];
        args.extend(version);
        let out = run_cmd("bash", &args, b"", Duration::from_secs(600));
        let cp = out.stdout.trim().to_string();
        if !out.status.success() || cp.is_empty() {
            // A failing resolution is not a missing toolchain: always fail.
            panic!("{} failed ({}):\n{}", script, out.status, out.stderr);
        }
        Ok(cp)
    });
    match cp {
        Ok(cp) => Some(cp.as_str()),
        Err(reason) => {
            assert!(
                std::env::var("CI").is_err(),
                "{reason}: .ci/run installs java and Maven"
            );
            eprintln!("SKIP: {reason}");
            None
        }
    }
}

/// `java` arguments running `main_class` from the tools' classpath.
pub(crate) fn java_args(cp: &str, main_class: &str, args: &[&str]) -> Vec<String> {
    let log4j = compat_dir().join("clients/kafka-tools/log4j2.properties");
    let mut v: Vec<String> = [
        // Short-lived tools: a small heap and the quick JIT tier start fastest.
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("-Dlog4j2.configurationFile={}", log4j.display()));
    v.push("-cp".into());
    v.push(cp.into());
    v.push(main_class.into());
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

/// Lines that show a tool hit something Skiff answered wrongly. Against
/// Kafka the same invocations print none of these.
fn bad_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            l.contains("ERROR")
                || l.contains("Exception")
                || lower.contains("unsupported version")
                || lower.contains("unsupported_version")
                || lower.contains("unsupportedversion")
        })
        .collect()
}

pub(crate) struct Tools<'a> {
    cp: &'static str,
    broker: &'a Broker,
}

impl<'a> Tools<'a> {
    pub(crate) fn new(broker: &'a Broker) -> Option<Tools<'a>> {
        classpath().map(|cp| Tools { cp, broker })
    }

    /// The tools of another Kafka release (see `classpath_of_version`).
    pub(crate) fn of_version(broker: &'a Broker, version: &'static str) -> Option<Tools<'a>> {
        classpath_of_version(version).map(|cp| Tools { cp, broker })
    }

    /// Runs a tool with `--bootstrap-server` added, expecting exit 0 and a
    /// clean stderr; returns its stdout and stderr.
    pub(crate) fn ok(&self, main_class: &str, args: &[&str], stdin: &[u8]) -> CmdOutput {
        let out = self.raw(main_class, args, stdin);
        let name = short(main_class);
        if !out.status.success() {
            self.broker.fail(&format!(
                "{name} {args:?} exited with {}\nstdout:\n{}\nstderr:\n{}",
                out.status, out.stdout, out.stderr
            ));
        }
        let bad = bad_lines(&out.stderr);
        let bad_out = bad_lines(&out.stdout);
        if !bad.is_empty() || !bad_out.is_empty() {
            self.broker.fail(&format!(
                "{name} {args:?} reported errors: {bad:?} {bad_out:?}\nstdout:\n{}\nstderr:\n{}",
                out.stdout, out.stderr
            ));
        }
        out
    }

    pub(crate) fn raw(&self, main_class: &str, args: &[&str], stdin: &[u8]) -> CmdOutput {
        let bootstrap = self.broker.bootstrap();
        let mut all: Vec<&str> = vec!["--bootstrap-server", &bootstrap];
        all.extend_from_slice(args);
        let jargs = java_args(self.cp, main_class, &all);
        let jargs: Vec<&str> = jargs.iter().map(String::as_str).collect();
        run_cmd("java", &jargs, stdin, TOOL_LIMIT)
    }

    /// Starts a long-running tool whose stdout lines are collected as they
    /// come, so the test can await a line instead of sleeping.
    fn spawn(&self, main_class: &str, args: &[&str]) -> Background {
        let bootstrap = self.broker.bootstrap();
        let mut all: Vec<&str> = vec!["--bootstrap-server", &bootstrap];
        all.extend_from_slice(args);
        let mut child = Command::new("java")
            .args(java_args(self.cp, main_class, &all))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run java: {e}"));
        let stdout: SharedLog = Arc::default();
        let stderr: SharedLog = Arc::default();
        for (pipe, sink) in [
            (
                Box::new(child.stdout.take().expect("piped stdout"))
                    as Box<dyn std::io::Read + Send>,
                stdout.clone(),
            ),
            (
                Box::new(child.stderr.take().expect("piped stderr")),
                stderr.clone(),
            ),
        ] {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut l) = sink.lock() {
                        l.push(line);
                    }
                }
            });
        }
        Background {
            name: short(main_class).to_string(),
            child,
            stdout,
            stderr,
        }
    }
}

fn short(main_class: &str) -> &str {
    main_class.rsplit('.').next().unwrap_or(main_class)
}

struct Background {
    name: String,
    child: Child,
    stdout: SharedLog,
    stderr: SharedLog,
}

impl Background {
    fn lines(&self) -> Vec<String> {
        self.stdout.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Awaits `probe` over the stdout lines so far, failing early if the
    /// process exits or complains on stderr.
    fn await_lines<R>(
        &mut self,
        broker: &Broker,
        what: &str,
        mut probe: impl FnMut(&[String]) -> Option<R>,
    ) -> R {
        wait_for(what, AWAIT_LIMIT, || {
            let lines = self.lines();
            if let Some(r) = probe(&lines) {
                return Some(r);
            }
            let err = self.stderr();
            let bad = bad_lines(&err);
            if !bad.is_empty() {
                broker.fail(&format!(
                    "{} reported errors: {bad:?}\nstderr:\n{err}",
                    self.name
                ));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                broker.fail(&format!(
                    "{} exited with {status} before {what}\nstdout:\n{}\nstderr:\n{err}",
                    self.name,
                    lines.join("\n")
                ));
            }
            None
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tab- or space-separated cells of a table row.
fn cells(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Rows of a whitespace-aligned table (ConsumerGroupCommand, TransactionsCommand)
/// as header -> cell maps: the header is the first line whose first cell is
/// `first_header`.
fn table(text: &str, first_header: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text
        .lines()
        .skip_while(|l| cells(l).first() != Some(&first_header));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header = cells(header);
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(cells(l).into_iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// `topic:partition:offset` lines of GetOffsetShell for `topic`.
fn offsets_of(text: &str, topic: &str) -> BTreeMap<i32, i64> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(topic)?.strip_prefix(':')?;
            let (p, o) = rest.split_once(':')?;
            Some((p.parse().ok()?, o.parse().ok()?))
        })
        .collect()
}

/// The value after `key: ` in a TopicCommand describe line (tab-separated
/// `Key: value` fields).
fn field<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    line.split('\t')
        .map(str::trim)
        .find_map(|f| f.strip_prefix(key)?.strip_prefix(": "))
}

#[test]
fn kafka_tools_topics_and_configs() {
    let broker = Broker::start();
    let Some(tools) = Tools::new(&broker) else {
        return;
    };
    let topic = unique_topic("cli-topics");
    let other = unique_topic("cli-topics-other");

    // kafka-topics --create, with a topic config.
    let out = tools.ok(
        TOPICS,
        &[
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "3",
            "--replication-factor",
            "1",
            "--config",
            "retention.ms=3600000",
        ],
        b"",
    );
    assert!(
        out.stdout.contains(&format!("Created topic {topic}.")),
        "{}",
        out.stdout
    );
    tools.ok(
        TOPICS,
        &["--create", "--topic", &other, "--partitions", "1"],
        b"",
    );

    // Creating it again is refused the way Kafka refuses it.
    let dup = tools.raw(
        TOPICS,
        &["--create", "--topic", &topic, "--partitions", "1"],
        b"",
    );
    assert!(
        !dup.status.success(),
        "duplicate create succeeded: {}",
        dup.stdout
    );
    assert!(
        dup.stdout.contains("TopicExistsException") || dup.stderr.contains("TopicExistsException"),
        "duplicate create:\n{}\n{}",
        dup.stdout,
        dup.stderr
    );
    // ...and --if-not-exists makes it a no-op.
    tools.ok(
        TOPICS,
        &[
            "--create",
            "--if-not-exists",
            "--topic",
            &topic,
            "--partitions",
            "1",
        ],
        b"",
    );

    // kafka-topics --list (internal topics hidden with --exclude-internal).
    let out = tools.ok(TOPICS, &["--list"], b"");
    let listed: BTreeSet<&str> = out.stdout.lines().map(str::trim).collect();
    assert!(
        listed.contains(topic.as_str()) && listed.contains(other.as_str()),
        "{listed:?}"
    );
    let out = tools.ok(TOPICS, &["--list", "--exclude-internal"], b"");
    assert!(
        out.stdout.lines().all(|l| !l.starts_with("__")),
        "--exclude-internal listed an internal topic:\n{}",
        out.stdout
    );

    // kafka-topics --describe: one summary line and one line per partition.
    // `limit` pages the answer (DescribeTopicPartitions' cursor): the tool
    // must still show every partition, once, in order.
    let describe = |n: usize, limit: &str| {
        let out = tools.ok(
            TOPICS,
            &[
                "--describe",
                "--topic",
                &topic,
                "--partition-size-limit-per-response",
                limit,
            ],
            b"",
        );
        let lines: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let summary = lines[0];
        assert_eq!(field(summary, "Topic"), Some(topic.as_str()), "{summary}");
        assert!(
            field(summary, "TopicId").is_some_and(|id| id.len() == 22),
            "{summary}"
        );
        assert_eq!(
            field(summary, "PartitionCount"),
            Some(n.to_string().as_str()),
            "{summary}"
        );
        assert_eq!(field(summary, "ReplicationFactor"), Some("1"), "{summary}");
        assert!(
            field(summary, "Configs").is_some_and(|c| c.contains("retention.ms=3600000")),
            "{summary}"
        );
        let parts: Vec<&str> = lines[1..].to_vec();
        assert_eq!(parts.len(), n, "{}", out.stdout);
        let mut leader = None;
        for (i, l) in parts.iter().enumerate() {
            assert_eq!(field(l, "Partition"), Some(i.to_string().as_str()), "{l}");
            let id = field(l, "Leader").expect("Leader");
            assert!(id.parse::<i32>().is_ok_and(|id| id >= 0), "{l}");
            assert_eq!(field(l, "Replicas"), Some(id), "{l}");
            assert_eq!(field(l, "Isr"), Some(id), "{l}");
            // Kafka 4.1 answers DescribeTopicPartitions with empty ELR lists
            // here ("N/A" would mean the tool fell back to Metadata).
            assert!(l.ends_with("\tElr: \tLastKnownElr: "), "{l:?}");
            leader = Some(id.to_string());
        }
        leader.expect("a partition")
    };
    let broker_id = describe(3, "2000");

    // kafka-topics --alter --partitions, then describe shows the new count.
    tools.ok(
        TOPICS,
        &["--alter", "--topic", &topic, "--partitions", "5"],
        b"",
    );
    describe(5, "2");
    // Shrinking is refused with Kafka's InvalidPartitionsException text.
    let shrink = tools.raw(
        TOPICS,
        &["--alter", "--topic", &topic, "--partitions", "2"],
        b"",
    );
    assert!(
        shrink.stdout.contains(&format!(
            "Error while executing topic command : The topic {topic} currently has 5 partition(s); 2 would not be an increase."
        )),
        "shrink:\n{}\n{}",
        shrink.stdout,
        shrink.stderr
    );

    // kafka-configs --describe on the topic: only the dynamic (topic) config.
    let cfg = ["--entity-type", "topics", "--entity-name", topic.as_str()];
    let out = tools.ok(CONFIGS, &[&cfg[..], &["--describe"]].concat(), b"");
    assert!(
        out.stdout
            .contains(&format!("Dynamic configs for topic {topic} are:")),
        "{}",
        out.stdout
    );
    let config_lines = |text: &str| -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| l.starts_with("  "))
            .filter_map(|l| {
                let (kv, _) = l.trim().split_once(' ')?;
                let (k, v) = kv.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect()
    };
    let dynamic = config_lines(&out.stdout);
    assert_eq!(
        dynamic,
        BTreeMap::from([("retention.ms".to_string(), "3600000".to_string())]),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}"
        ),
        "{}",
        out.stdout
    );

    // kafka-configs --alter: add two, delete one (IncrementalAlterConfigs).
    let out = tools.ok(
        CONFIGS,
        &[
            &cfg[..],
            &[
                "--alter",
                "--add-config",
                "max.message.bytes=200000,segment.bytes=20971520",
                "--delete-config",
                "retention.ms",
            ],
        ]
        .concat(),
        b"",
    );
    assert!(
        out.stdout
            .contains(&format!("Completed updating config for topic {topic}.")),
        "{}",
        out.stdout
    );
    let out = tools.ok(CONFIGS, &[&cfg[..], &["--describe"]].concat(), b"");
    assert_eq!(
        config_lines(&out.stdout),
        BTreeMap::from([
            ("max.message.bytes".to_string(), "200000".to_string()),
            ("segment.bytes".to_string(), "20971520".to_string()),
        ]),
        "{}",
        out.stdout
    );
    // --all shows every topic config, with the broker default for the rest.
    let out = tools.ok(CONFIGS, &[&cfg[..], &["--describe", "--all"]].concat(), b"");
    assert!(
        out.stdout
            .contains(&format!("All configs for topic {topic} are:")),
        "{}",
        out.stdout
    );
    let all = config_lines(&out.stdout);
    assert_eq!(
        all.get("max.message.bytes").map(String::as_str),
        Some("200000")
    );
    assert_eq!(
        all.get("retention.ms").map(String::as_str),
        Some("604800000"),
        "{}",
        out.stdout
    );
    assert_eq!(
        all.get("cleanup.policy").map(String::as_str),
        Some("delete"),
        "{}",
        out.stdout
    );
    // Defaults name the broker key they come from, as Kafka lists them.
    for line in [
        "  delete.retention.ms=86400000 sensitive=false synonyms={DEFAULT_CONFIG:log.cleaner.delete.retention.ms=86400000}",
        "  max.message.bytes=200000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=200000, DEFAULT_CONFIG:message.max.bytes=1048588}",
        "  retention.ms=604800000 sensitive=false synonyms={}",
        "  segment.index.bytes=10485760 sensitive=false synonyms={DEFAULT_CONFIG:log.index.size.max.bytes=10485760}",
    ] {
        assert!(out.stdout.lines().any(|l| l == line), "no {line:?} in:\n{}", out.stdout);
    }
    // An unknown key is refused and changes nothing.
    let bad = tools.raw(
        CONFIGS,
        &[&cfg[..], &["--alter", "--add-config", "no.such.config=1"]].concat(),
        b"",
    );
    assert!(
        !bad.status.success(),
        "unknown config accepted:\n{}",
        bad.stdout
    );

    // kafka-configs on the broker: dynamic ones (none) and --all.
    let bcfg = [
        "--entity-type",
        "brokers",
        "--entity-name",
        broker_id.as_str(),
    ];
    let out = tools.ok(CONFIGS, &[&bcfg[..], &["--describe"]].concat(), b"");
    assert!(
        out.stdout
            .contains(&format!("Dynamic configs for broker {broker_id} are:")),
        "{}",
        out.stdout
    );
    let out = tools.ok(
        CONFIGS,
        &[&bcfg[..], &["--describe", "--all"]].concat(),
        b"",
    );
    assert!(
        out.stdout
            .contains(&format!("All configs for broker {broker_id} are:")),
        "{}",
        out.stdout
    );
    let all = config_lines(&out.stdout);
    assert!(
        all.contains_key("log.dirs") || all.contains_key("log.dir"),
        "{}",
        out.stdout
    );
    assert!(
        all.contains_key("auto.create.topics.enable"),
        "{}",
        out.stdout
    );

    // kafka-log-dirs --describe: one broker, one log dir, every partition.
    let out = tools.ok(
        "org.apache.kafka.tools.LogDirsCommand",
        &["--describe", "--topic-list", &topic],
        b"",
    );
    let json_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in:\n{}", out.stdout));
    let json = Json::parse(json_line).unwrap_or_else(|e| panic!("{e}: {json_line}"));
    let brokers = json.get("brokers").expect("brokers").as_array();
    assert_eq!(brokers.len(), 1, "{json_line}");
    let dirs = brokers[0].get("logDirs").expect("logDirs").as_array();
    assert_eq!(dirs.len(), 1, "{json_line}");
    assert_eq!(dirs[0].get("error"), Some(&Json::Null), "{json_line}");
    let parts: BTreeSet<String> = dirs[0]
        .get("partitions")
        .expect("partitions")
        .as_array()
        .iter()
        .filter_map(|p| {
            p.get("partition")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
        .collect();
    let want: BTreeSet<String> = (0..5).map(|p| format!("{topic}-{p}")).collect();
    assert_eq!(parts, want, "{json_line}");

    // kafka-topics --delete, then --list no longer has it.
    tools.ok(TOPICS, &["--delete", "--topic", &other], b"");
    wait_for("deleted topic gone from --list", AWAIT_LIMIT, || {
        let out = tools.ok(TOPICS, &["--list"], b"");
        (!out.stdout.lines().any(|l| l.trim() == other)).then_some(())
    });
}

#[test]
fn kafka_tools_console_groups_offsets_records() {
    let broker = Broker::start();
    let Some(tools) = Tools::new(&broker) else {
        return;
    };
    let topic = unique_topic("cli-console");
    let group = unique_topic("cli-group");
    tools.ok(
        TOPICS,
        &["--create", "--topic", &topic, "--partitions", "3"],
        b"",
    );

    // kafka-console-producer with keys.
    let sent: Vec<(String, String)> = (0..30)
        .map(|i| (format!("key{}", i % 7), format!("value-{i}")))
        .collect();
    let input: String = sent.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    tools.ok(
        CONSOLE_PRODUCER,
        &[
            "--topic",
            &topic,
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        input.as_bytes(),
    );

    // kafka-get-offsets: the end offsets add up to what was sent.
    let out = tools.ok(GET_OFFSETS, &["--topic", &topic], b"");
    let ends = offsets_of(&out.stdout, &topic);
    assert_eq!(ends.len(), 3, "{}", out.stdout);
    assert_eq!(
        ends.values().sum::<i64>(),
        sent.len() as i64,
        "{}",
        out.stdout
    );
    let out = tools.ok(GET_OFFSETS, &["--topic", &topic, "--time", "earliest"], b"");
    assert_eq!(
        offsets_of(&out.stdout, &topic),
        BTreeMap::from([(0, 0), (1, 0), (2, 0)]),
        "{}",
        out.stdout
    );

    // kafka-console-consumer --from-beginning --max-messages, in a group,
    // printing keys and partitions.
    let consume = |extra: &[&str]| -> Vec<(i32, String, String)> {
        let args = [
            &[
                "--topic",
                topic.as_str(),
                "--group",
                group.as_str(),
                "--max-messages",
                "30",
                "--timeout-ms",
                "30000",
                "--property",
                "print.key=true",
                "--property",
                "print.partition=true",
                "--property",
                "key.separator=|",
            ][..],
            extra,
        ]
        .concat();
        let out = tools.ok(CONSOLE_CONSUMER, &args, b"");
        assert!(
            out.stderr.contains("Processed a total of 30 messages"),
            "{}",
            out.stderr
        );
        out.stdout
            .lines()
            .map(|l| {
                // "Partition:N|key|value" (print.partition comes first).
                let mut f = l.splitn(3, '|');
                let p = f.next().and_then(|p| p.strip_prefix("Partition:"));
                match (p.and_then(|p| p.parse().ok()), f.next(), f.next()) {
                    (Some(p), Some(k), Some(v)) => (p, k.to_string(), v.to_string()),
                    _ => panic!("unexpected console-consumer line {l:?}:\n{}", out.stdout),
                }
            })
            .collect()
    };
    let got = consume(&["--from-beginning"]);
    let mut got_pairs: Vec<(String, String)> =
        got.iter().map(|(_, k, v)| (k.clone(), v.clone())).collect();
    got_pairs.sort();
    let mut want = sent.clone();
    want.sort();
    assert_eq!(got_pairs, want);
    // Same key, same partition; per-partition counts match get-offsets.
    let mut key_part: BTreeMap<&str, i32> = BTreeMap::new();
    let mut per_part: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, k, _) in &got {
        assert_eq!(
            *key_part.entry(k).or_insert(*p),
            *p,
            "key {k} on two partitions"
        );
        *per_part.entry(*p).or_default() += 1;
    }
    per_part.retain(|_, n| *n > 0);
    let nonempty: BTreeMap<i32, i64> = ends
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(p, n)| (*p, *n))
        .collect();
    assert_eq!(per_part, nonempty);

    // kafka-configs on the group: Kafka 4.1's group keys with their defaults.
    let out = tools.ok(
        CONFIGS,
        &[
            "--entity-type",
            "groups",
            "--entity-name",
            &group,
            "--describe",
            "--all",
        ],
        b"",
    );
    assert!(
        out.stdout.contains(&format!("All configs for group {group} are:"))
            && out.stdout.lines().any(|l| l
                == "  consumer.session.timeout.ms=45000 sensitive=false synonyms={DEFAULT_CONFIG:consumer.session.timeout.ms=45000}"),
        "{}",
        out.stdout
    );

    // kafka-consumer-groups --list / --describe: committed to the end, lag 0.
    let out = tools.ok(GROUPS, &["--list"], b"");
    assert!(
        out.stdout.lines().any(|l| l.trim() == group),
        "{}",
        out.stdout
    );
    let describe_offsets = || {
        let out = tools.ok(GROUPS, &["--describe", "--group", &group], b"");
        let rows = table(&out.stdout, "GROUP");
        let m: BTreeMap<i32, (i64, i64, i64)> = rows
            .iter()
            .filter(|r| r.get("TOPIC") == Some(&topic))
            .map(|r| {
                let n = |k: &str| -> i64 {
                    r.get(k)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| panic!("{k} in {r:?}:\n{}", out.stdout))
                };
                (
                    n("PARTITION") as i32,
                    (n("CURRENT-OFFSET"), n("LOG-END-OFFSET"), n("LAG")),
                )
            })
            .collect();
        (m, out.stdout)
    };
    let (rows, text) = describe_offsets();
    assert_eq!(rows.len(), 3, "{text}");
    for (p, (cur, end, lag)) in &rows {
        assert_eq!(
            (*cur, *end, *lag),
            (ends[p], ends[p], 0),
            "partition {p}:\n{text}"
        );
    }
    let out = tools.ok(GROUPS, &["--describe", "--group", &group, "--state"], b"");
    let state = table(&out.stdout, "GROUP");
    assert_eq!(state.len(), 1, "{}", out.stdout);
    assert_eq!(
        state[0].get("STATE").map(String::as_str),
        Some("Empty"),
        "{}",
        out.stdout
    );

    // --reset-offsets --to-earliest: --dry-run changes nothing, --execute does.
    let reset = |mode: &str| {
        let out = tools.ok(
            GROUPS,
            &[
                "--reset-offsets",
                "--to-earliest",
                "--group",
                &group,
                "--topic",
                &topic,
                mode,
            ],
            b"",
        );
        let rows = table(&out.stdout, "GROUP");
        assert_eq!(rows.len(), 3, "{}", out.stdout);
        for r in &rows {
            assert_eq!(
                r.get("NEW-OFFSET").map(String::as_str),
                Some("0"),
                "{}",
                out.stdout
            );
        }
    };
    reset("--dry-run");
    let (rows, text) = describe_offsets();
    assert!(
        rows.iter().all(|(p, (cur, _, _))| *cur == ends[p]),
        "{text}"
    );
    reset("--execute");
    let (rows, text) = describe_offsets();
    for (p, (cur, end, lag)) in &rows {
        assert_eq!(
            (*cur, *end, *lag),
            (0, ends[p], ends[p]),
            "partition {p}:\n{text}"
        );
    }
    // The group now re-reads everything without --from-beginning.
    let again = consume(&[]);
    assert_eq!(again.len(), sent.len());

    // --delete the group: gone from --list.
    let out = tools.ok(GROUPS, &["--delete", "--group", &group], b"");
    assert!(
        out.stdout.contains(&format!(
            "Deletion of requested consumer groups ('{group}') was successful."
        )),
        "{}",
        out.stdout
    );
    let out = tools.ok(GROUPS, &["--list"], b"");
    assert!(
        !out.stdout.lines().any(|l| l.trim() == group),
        "{}",
        out.stdout
    );

    // kafka-delete-records with its JSON file: the partition with the most
    // records loses all but its last one; the low watermark says so and
    // get-offsets --time earliest agrees.
    let (&p, &end) = ends.iter().max_by_key(|(_, n)| **n).expect("a partition");
    assert!(end >= 2, "{ends:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("delete.json");
    std::fs::write(
        &json,
        format!(
            r#"{{"partitions":[{{"topic":"{topic}","partition":{p},"offset":{}}}],"version":1}}"#,
            end - 1
        ),
    )
    .expect("write offsets file");
    let out = tools.ok(
        DELETE_RECORDS,
        &["--offset-json-file", &json.to_string_lossy()],
        b"",
    );
    assert!(
        out.stdout.contains(&format!(
            "partition: {topic}-{p}\tlow_watermark: {}",
            end - 1
        )),
        "{}",
        out.stdout
    );
    let out = tools.ok(GET_OFFSETS, &["--topic", &topic, "--time", "-2"], b"");
    let starts = offsets_of(&out.stdout, &topic);
    assert_eq!(starts.get(&p), Some(&(end - 1)), "{}", out.stdout);
    // -3 (max timestamp) answers the offset of a record of this partition.
    // Kafka looks it up in the segment with the newest timestamp without
    // regard to the log start offset, and all records here may share one
    // millisecond, so any offset below the end is a Kafka-like answer.
    let out = tools.ok(
        GET_OFFSETS,
        &[
            "--topic-partitions",
            &format!("{topic}:{p}"),
            "--time",
            "-3",
        ],
        b"",
    );
    let max_ts = offsets_of(&out.stdout, &topic);
    assert!(
        max_ts.get(&p).is_some_and(|o| (0..end).contains(o)),
        "{}",
        out.stdout
    );
}

/// The JSON event lines a verifiable tool printed, by event name.
fn events(lines: &[String]) -> Vec<Json> {
    lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| Json::parse(l).unwrap_or_else(|e| panic!("bad JSON event {l:?}: {e}")))
        .collect()
}

fn name_of(e: &Json) -> &str {
    e.get("name").and_then(Json::as_str).unwrap_or("")
}

fn num(e: &Json, k: &str) -> i64 {
    e.get(k)
        .and_then(Json::as_i64)
        .unwrap_or_else(|| panic!("{k} missing in {e:?}"))
}

fn txn_producer(broker: &Broker, txn_id: &str) -> BaseProducer {
    let p: BaseProducer = producer_config(broker, &[("transactional.id", txn_id)])
        .create()
        .expect("create transactional producer");
    p.init_transactions(T)
        .unwrap_or_else(|e| broker.fail(&format!("init_transactions: {e}")));
    p
}

fn txn_send(broker: &Broker, p: &BaseProducer, topic: &str, value: &str) {
    if let Err((e, _)) = p.send(BaseRecord::<(), _>::to(topic).partition(0).payload(value)) {
        broker.fail(&format!("send: {e}"));
    }
}

#[test]
fn kafka_tools_verifiable_and_transactions() {
    let broker = Broker::start();
    let Some(tools) = Tools::new(&broker) else {
        return;
    };
    let topic = unique_topic("cli-verifiable");
    let group = unique_topic("cli-vgroup");
    tools.ok(
        TOPICS,
        &["--create", "--topic", &topic, "--partitions", "2"],
        b"",
    );

    // kafka-verifiable-producer: every send acked, offsets dense per partition.
    const N: i64 = 100;
    let out = tools.ok(
        VERIFIABLE_PRODUCER,
        &[
            "--topic",
            &topic,
            "--max-messages",
            &N.to_string(),
            "--acks",
            "-1",
            "--repeating-keys",
            "10",
        ],
        b"",
    );
    let lines: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    let ev = events(&lines);
    assert_eq!(
        ev.first().map(name_of),
        Some("startup_complete"),
        "{}",
        out.stdout
    );
    let errors: Vec<&Json> = ev
        .iter()
        .filter(|e| name_of(e) == "producer_send_error")
        .collect();
    assert!(errors.is_empty(), "send errors: {errors:?}");
    let mut offsets: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut values = BTreeSet::new();
    for e in ev.iter().filter(|e| name_of(e) == "producer_send_success") {
        assert_eq!(e.get("topic").and_then(Json::as_str), Some(topic.as_str()));
        offsets
            .entry(num(e, "partition"))
            .or_default()
            .push(num(e, "offset"));
        values.insert(
            e.get("value")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
        );
    }
    assert_eq!(values.len() as i64, N, "{}", out.stdout);
    for (p, offs) in &mut offsets {
        offs.sort();
        let want: Vec<i64> = (0..offs.len() as i64).collect();
        assert_eq!(*offs, want, "partition {p} offsets");
    }
    let data = ev
        .iter()
        .find(|e| name_of(e) == "tool_data")
        .unwrap_or_else(|| panic!("no tool_data:\n{}", out.stdout));
    assert_eq!((num(data, "sent"), num(data, "acked")), (N, N), "{data:?}");

    // kafka-verifiable-consumer in a group: assigned both partitions, consumes
    // all N, commits the end offsets. While it runs, kafka-consumer-groups
    // --describe --members/--state sees it as the one member of a Stable group.
    let mut consumer = tools.spawn(
        VERIFIABLE_CONSUMER,
        &[
            "--topic",
            &topic,
            "--group-id",
            &group,
            "--reset-policy",
            "earliest",
        ],
    );
    let ends: BTreeMap<i64, i64> = offsets.iter().map(|(p, o)| (*p, o.len() as i64)).collect();
    consumer.await_lines(&broker, "all records consumed and committed", |lines| {
        let ev = events(lines);
        let consumed: i64 = ev
            .iter()
            .filter(|e| name_of(e) == "records_consumed")
            .map(|e| num(e, "count"))
            .sum();
        let committed: BTreeMap<i64, i64> = ev
            .iter()
            .filter(|e| name_of(e) == "offsets_committed")
            .inspect(|e| assert_eq!(e.get("success"), Some(&Json::Bool(true)), "{e:?}"))
            .flat_map(|e| {
                e.get("offsets")
                    .map(|o| o.as_array().to_vec())
                    .unwrap_or_default()
            })
            .map(|o| (num(&o, "partition"), num(&o, "offset")))
            .collect();
        (consumed == N && committed == ends).then_some(())
    });
    let ev = events(&consumer.lines());
    let assigned: BTreeSet<i64> = ev
        .iter()
        .filter(|e| name_of(e) == "partitions_assigned")
        .flat_map(|e| {
            e.get("partitions")
                .map(|p| p.as_array().to_vec())
                .unwrap_or_default()
        })
        .map(|p| num(&p, "partition"))
        .collect();
    assert_eq!(assigned, BTreeSet::from([0, 1]), "{ev:?}");

    let out = tools.ok(GROUPS, &["--describe", "--group", &group, "--members"], b"");
    let members = table(&out.stdout, "GROUP");
    assert_eq!(members.len(), 1, "{}", out.stdout);
    assert_eq!(
        members[0].get("#PARTITIONS").map(String::as_str),
        Some("2"),
        "{}",
        out.stdout
    );
    let out = tools.ok(GROUPS, &["--describe", "--group", &group, "--state"], b"");
    let state = table(&out.stdout, "GROUP");
    assert_eq!(state.len(), 1, "{}", out.stdout);
    assert_eq!(
        state[0].get("STATE").map(String::as_str),
        Some("Stable"),
        "{}",
        out.stdout
    );
    assert_eq!(
        state[0].get("#MEMBERS").map(String::as_str),
        Some("1"),
        "{}",
        out.stdout
    );
    assert_eq!(
        state[0].get("ASSIGNMENT-STRATEGY").map(String::as_str),
        Some("range"),
        "{}",
        out.stdout
    );
    let out = tools.ok(GROUPS, &["--describe", "--group", &group], b"");
    for r in table(&out.stdout, "GROUP") {
        assert_eq!(
            r.get("LAG").map(String::as_str),
            Some("0"),
            "{}",
            out.stdout
        );
        assert_ne!(
            r.get("CONSUMER-ID").map(String::as_str),
            Some("-"),
            "{}",
            out.stdout
        );
    }
    drop(consumer);

    // kafka-transactions list/describe/describe-producers after rdkafka ran
    // one committed transaction and left a second one open.
    let txn_topic = unique_topic("cli-txn");
    tools.ok(
        TOPICS,
        &["--create", "--topic", &txn_topic, "--partitions", "1"],
        b"",
    );
    let done_id = unique_topic("cli-txn-done");
    let open_id = unique_topic("cli-txn-open");
    let done = txn_producer(&broker, &done_id);
    done.begin_transaction().expect("begin");
    for i in 0..3 {
        txn_send(&broker, &done, &txn_topic, &format!("committed-{i}"));
    }
    done.commit_transaction(T)
        .unwrap_or_else(|e| broker.fail(&format!("commit: {e}")));
    let open = txn_producer(&broker, &open_id);
    open.begin_transaction().expect("begin");
    txn_send(&broker, &open, &txn_topic, "pending");
    open.flush(T)
        .unwrap_or_else(|e| broker.fail(&format!("flush: {e}")));

    let out = tools.ok(TRANSACTIONS, &["list"], b"");
    let rows = table(&out.stdout, "TransactionalId");
    let state_of = |rows: &[BTreeMap<String, String>], id: &str| {
        rows.iter()
            .find(|r| r.get("TransactionalId").map(String::as_str) == Some(id))
            .and_then(|r| r.get("TransactionState").cloned())
    };
    assert_eq!(
        state_of(&rows, &done_id).as_deref(),
        Some("CompleteCommit"),
        "{}",
        out.stdout
    );
    assert_eq!(
        state_of(&rows, &open_id).as_deref(),
        Some("Ongoing"),
        "{}",
        out.stdout
    );

    let out = tools.ok(
        TRANSACTIONS,
        &["describe", "--transactional-id", &open_id],
        b"",
    );
    let rows = table(&out.stdout, "CoordinatorId");
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    let r = &rows[0];
    assert_eq!(r.get("TransactionalId"), Some(&open_id), "{}", out.stdout);
    assert_eq!(
        r.get("TransactionState").map(String::as_str),
        Some("Ongoing"),
        "{}",
        out.stdout
    );
    assert_eq!(
        r.get("TopicPartitions"),
        Some(&format!("{txn_topic}-0")),
        "{}",
        out.stdout
    );
    let open_pid = r.get("ProducerId").cloned().unwrap_or_default();
    assert!(
        open_pid.parse::<i64>().is_ok_and(|p| p >= 0),
        "{}",
        out.stdout
    );

    // describe-producers: both producers wrote to partition 0; only the open
    // one has a current transaction start offset (the committed batch + its
    // marker come first: 3 records + 1 marker = offset 4).
    let out = tools.ok(
        TRANSACTIONS,
        &[
            "describe-producers",
            "--topic",
            &txn_topic,
            "--partition",
            "0",
        ],
        b"",
    );
    let rows = table(&out.stdout, "ProducerId");
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    let open_row = rows
        .iter()
        .find(|r| r.get("ProducerId") == Some(&open_pid))
        .unwrap_or_else(|| panic!("open producer {open_pid} missing:\n{}", out.stdout));
    assert_eq!(
        open_row
            .get("CurrentTransactionStartOffset")
            .map(String::as_str),
        Some("4"),
        "{}",
        out.stdout
    );
    for r in rows
        .iter()
        .filter(|r| r.get("ProducerId") != Some(&open_pid))
    {
        assert_eq!(
            r.get("CurrentTransactionStartOffset").map(String::as_str),
            Some("None"),
            "{}",
            out.stdout
        );
    }

    // A read_committed console consumer sees only the committed records
    // while the other transaction is open...
    let out = tools.ok(
        CONSOLE_CONSUMER,
        &[
            "--topic",
            &txn_topic,
            "--from-beginning",
            "--isolation-level",
            "read_committed",
            "--max-messages",
            "3",
            "--timeout-ms",
            "30000",
        ],
        b"",
    );
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["committed-0", "committed-1", "committed-2"],
        "{}",
        out.stderr
    );
    // ...and after the commit describe reports it complete.
    open.commit_transaction(T)
        .unwrap_or_else(|e| broker.fail(&format!("commit: {e}")));
    let out = tools.ok(
        TRANSACTIONS,
        &["describe", "--transactional-id", &open_id],
        b"",
    );
    let rows = table(&out.stdout, "CoordinatorId");
    assert_eq!(
        rows.first()
            .and_then(|r| r.get("TransactionState"))
            .map(String::as_str),
        Some("CompleteCommit"),
        "{}",
        out.stdout
    );
}
