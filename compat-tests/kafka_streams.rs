//! Kafka Streams (org.apache.kafka:kafka-streams 4.1) against the real binary:
//! the word count in `compat-tests/clients/streams/` (groupBy + count into a
//! persistent store, `processing.guarantee=exactly_once_v2`), each instance its
//! own JVM. Streams creates its repartition and changelog topics itself through
//! its admin client; the test checks they exist with the configs Streams asked
//! for, that the committed counts are exact, and that they stay exact when an
//! instance is SIGKILLed in the middle of a transaction and restarted, once
//! with its state dir (same process id, so the same `transactional.id` fences
//! the dead producer) and once with the state dir wiped (a new
//! `transactional.id`: the broker's transaction timeout aborts the dead one's
//! transaction, and the store is restored from the changelog).
//!
//! Every WARN/ERROR line the Streams instances log must be one listed in
//! [`EXPECTED_WARNINGS`] (each also appears against Kafka); anything else is
//! treated as a broker answer Streams did not expect.
//!
//! A missing `java`/`mvn` skips the test, except under `CI=true`, where it
//! fails (`.ci/run` installs both).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use rdkafka::admin::{ConfigSource, ResourceSpecifier};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::harness::*;

/// First build: Maven downloads kafka-streams and its dependencies.
const BUILD_LIMIT: Duration = Duration::from_secs(600);
/// The whole scenario (five sets of sentences, three JVM starts, two waits
/// for a killed member's 6 s session timeout); it normally takes ~30 s.
const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
/// Waiting for one phase's counts (includes a JVM start and a rebalance).
const PHASE_LIMIT: Duration = Duration::from_secs(60);
/// Input, output (and so repartition and changelog) partitions.
const PARTITIONS: i32 = 2;
/// Sleep per sentence of the set an instance is to be killed in.
const SLOW_MS: u32 = 5;

/// WARN/ERROR lines that Streams also logs against Kafka, with why.
const EXPECTED_WARNINGS: &[(&str, &str)] = &[
    // The first subscription names the repartition topic before the group
    // leader has created it; Kafka answers the same for a missing topic.
    (
        "-repartition=UNKNOWN_TOPIC_OR_PARTITION",
        "metadata for the repartition topic before Streams created it",
    ),
    // Streams warns whenever state.dir lies under java.io.tmpdir (/tmp), as
    // the test's temp dir does when the checkout itself is under /tmp; it
    // says nothing about the broker.
    (
        "Using an OS temp directory in the state.dir property",
        "the test's state dir is under /tmp",
    ),
];

fn streams_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients/streams")
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for e in entries.flatten() {
        let path = e.path();
        let t = if path.is_dir() {
            newest_mtime(&path)
        } else {
            e.metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// Compiles the Maven project when its classes or classpath are older than
/// its sources, and returns the `java -cp` value. `Err` is a skip reason.
fn build() -> Result<String, String> {
    static BUILT: OnceLock<Result<String, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if !runs("java", &["-version"]) || !runs("mvn", &["-v"]) {
                return Err("java and mvn are not installed (Java 17 + Maven 3)".to_string());
            }
            let dir = streams_dir();
            let cp_file = dir.join("target/classpath.txt");
            let class = dir.join("target/classes/dev/skiff/compat/WordCount.class");
            let built_at = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
            let sources = newest_mtime(&dir.join("src"))
                .max(built_at(&dir.join("pom.xml")).unwrap_or(SystemTime::UNIX_EPOCH));
            let fresh = [&cp_file, &class]
                .iter()
                .all(|p| built_at(p).is_some_and(|t| t >= sources));
            if !fresh {
                let pom = dir.join("pom.xml");
                let out = run_cmd(
                    "mvn",
                    &[
                        "-q",
                        "-B",
                        "-f",
                        &pom.to_string_lossy(),
                        "compile",
                        "dependency:build-classpath",
                        &format!("-Dmdep.outputFile={}", cp_file.display()),
                    ],
                    b"",
                    BUILD_LIMIT,
                );
                assert!(
                    out.status.success(),
                    "mvn build of {} failed ({}):\n{}\n{}",
                    dir.display(),
                    out.status,
                    out.stdout,
                    out.stderr
                );
            }
            let deps = std::fs::read_to_string(&cp_file)
                .unwrap_or_else(|e| panic!("read {}: {e}", cp_file.display()));
            Ok(format!(
                "{}:{}",
                dir.join("target/classes").display(),
                deps.trim()
            ))
        })
        .clone()
}

/// One Streams instance: its own JVM, stdout and stderr kept line by line.
struct StreamsApp {
    name: String,
    child: Option<Child>,
    log: SharedLog,
}

impl StreamsApp {
    #[allow(clippy::too_many_arguments)]
    fn start(
        name: &str,
        classpath: &str,
        bootstrap: &str,
        app_id: &str,
        input: &str,
        output: &str,
        state_dir: &Path,
        slow_prefix: &str,
    ) -> StreamsApp {
        let mut child = Command::new("java")
            .arg("-cp")
            .arg(classpath)
            // A small heap and no JIT tiers beyond C1: starts faster on 2 busy cores.
            .args(["-Xmx256m", "-XX:TieredStopAtLevel=1"])
            .arg("dev.skiff.compat.WordCount")
            .args([bootstrap, app_id, input, output])
            .arg(state_dir)
            .arg(slow_prefix)
            .arg(SLOW_MS.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start java: {e}"));
        let log: SharedLog = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let l = log.clone();
        std::thread::spawn(move || keep_lines(out, l, "out"));
        let l = log.clone();
        std::thread::spawn(move || keep_lines(err, l, "err"));
        StreamsApp {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Panics (the caller prints the logs) if the JVM has exited on its own.
    fn assert_alive(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!("Streams instance {} exited with {status}", self.name);
            }
        }
    }

    /// SIGKILL: the JVM gets no chance to commit, close or leave the group.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for StreamsApp {
    fn drop(&mut self) {
        self.kill();
    }
}

fn keep_lines(stream: impl Read, log: SharedLog, tag: &str) {
    let reader = BufReader::new(stream);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        if let Ok(mut l) = log.lock() {
            l.push(format!("[{tag}] {line}"));
        }
    }
}

/// The sentences of set `set`: `n` sentences of six words from a fixed
/// vocabulary, chosen by a fixed pseudo-random sequence; keys `s<set>-<i>`.
fn sentences(set: u32, n: usize) -> Vec<(String, String)> {
    const WORDS: [&str; 16] = [
        "apple", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris", "juniper",
        "kelp", "lotus", "maple", "nectar", "onyx", "pearl",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(set);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let words: Vec<&str> = (0..6)
                .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                .collect();
            // Mixed case and punctuation: the topology lower-cases and splits on \W+.
            let mut sentence = words.join(" ");
            if i % 3 == 0 {
                sentence = format!("{}, ok.", sentence.to_uppercase());
            }
            (format!("s{set}-{i}"), sentence)
        })
        .collect()
}

/// Adds the set's words to `expected`; returns how many words it has.
fn add_counts(expected: &mut BTreeMap<String, i64>, set: &[(String, String)]) -> i64 {
    let mut n = 0;
    for (_, s) in set {
        for w in s.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
            if !w.is_empty() {
                *expected.entry(w.to_string()).or_default() += 1;
                n += 1;
            }
        }
    }
    n
}

fn produce(producer: &FutureProducer, topic: &str, set: &[(String, String)]) {
    let pending: Vec<_> = set
        .iter()
        .map(|(k, v)| {
            producer
                .send_result(FutureRecord::to(topic).key(k).payload(v))
                .unwrap_or_else(|(e, _)| panic!("enqueue to {topic}: {e}"))
        })
        .collect();
    for p in pending {
        match futures::executor::block_on(p) {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => panic!("produce to {topic}: {e}"),
            Err(_) => panic!("produce to {topic}: delivery future cancelled"),
        }
    }
}

/// The committed output as a read_committed consumer sees it: every update
/// per word, checked to increase strictly (under exactly-once a count never
/// repeats or goes back, even across a crash).
struct Output {
    consumer: BaseConsumer,
    history: HashMap<String, Vec<i64>>,
}

impl Output {
    fn new(broker: &Broker, topic: &str) -> Output {
        let consumer = consumer(broker, &[("isolation.level", "read_committed")]);
        assign_from_start(&consumer, topic, &(0..PARTITIONS).collect::<Vec<_>>());
        Output {
            consumer,
            history: HashMap::new(),
        }
    }

    /// Reads whatever is available now (at most ~200 ms of waiting).
    fn drain(&mut self) {
        let mut wait = Duration::from_millis(100);
        while let Some(r) = self.consumer.poll(wait) {
            let m = r.unwrap_or_else(|e| panic!("output consumer: {e}"));
            let word = m
                .key()
                .map(|k| String::from_utf8_lossy(k).to_string())
                .unwrap_or_else(|| panic!("output record without key at {}", m.offset()));
            let count: i64 = m
                .payload()
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("output value for {word} is not a count"));
            let h = self.history.entry(word.clone()).or_default();
            if let Some(prev) = h.last() {
                assert!(
                    count > *prev,
                    "count for {word} went from {prev} to {count} (p{} @{}): \
                     a transaction's output was seen twice or out of order",
                    m.partition(),
                    m.offset()
                );
            }
            h.push(count);
            wait = Duration::from_millis(0);
        }
    }

    fn latest(&self) -> BTreeMap<String, i64> {
        self.history
            .iter()
            .filter_map(|(w, h)| h.last().map(|c| (w.clone(), *c)))
            .collect()
    }
}

/// Waits until the latest committed count of every word is `expected`, then
/// checks that nothing more arrives within a few commit intervals.
fn await_counts(out: &mut Output, app: &mut StreamsApp, expected: &BTreeMap<String, i64>) {
    let deadline = Instant::now() + PHASE_LIMIT;
    loop {
        out.drain();
        let latest = out.latest();
        if &latest == expected {
            break;
        }
        if latest
            .iter()
            .any(|(w, c)| expected.get(w).is_none_or(|e| c > e))
        {
            panic!("counts overshot (double counting):\n got {latest:?}\nwant {expected:?}");
        }
        app.assert_alive();
        if Instant::now() > deadline {
            panic!(
                "counts not reached within {PHASE_LIMIT:?}:\n got {latest:?}\nwant {expected:?}"
            );
        }
    }
    // Several commit intervals (100 ms each) for a late duplicate to show up.
    let settle = Instant::now() + Duration::from_millis(1000);
    while Instant::now() < settle {
        out.drain();
    }
    assert_eq!(
        &out.latest(),
        expected,
        "counts changed after they were exact"
    );
}

/// The last stable offset (what a read_committed consumer may read up to) and
/// the high watermark of each partition of a topic.
struct Watermarks {
    committed: BaseConsumer,
    uncommitted: BaseConsumer,
}

impl Watermarks {
    fn new(broker: &Broker) -> Watermarks {
        Watermarks {
            committed: consumer(broker, &[("isolation.level", "read_committed")]),
            uncommitted: consumer(broker, &[("isolation.level", "read_uncommitted")]),
        }
    }

    fn of(&self, topic: &str) -> Vec<(i64, i64)> {
        (0..PARTITIONS)
            .map(|p| {
                // librdkafka's ListOffsets carries the consumer's isolation level.
                let (_, lso) = self
                    .committed
                    .fetch_watermarks(topic, p, OP_TIMEOUT)
                    .unwrap_or_else(|e| panic!("LSO of {topic}-{p}: {e}"));
                let (_, hw) = self
                    .uncommitted
                    .fetch_watermarks(topic, p, OP_TIMEOUT)
                    .unwrap_or_else(|e| panic!("high watermark of {topic}-{p}: {e}"));
                (lso, hw)
            })
            .collect()
    }

    fn committed_total(&self, topic: &str) -> i64 {
        self.of(topic).iter().map(|(lso, _)| lso).sum()
    }
}

/// Waits until `app`, slowed down on the set just produced, has committed
/// part (not all) of it and has an open transaction with records in it, then
/// SIGKILLs it. Progress is read on the repartition topic, which gets one
/// record per word in the transaction that consumes the sentence (the counts
/// reach the output only after the whole input backlog: Streams polls the
/// input's buffered records first). `before` is the repartition topic's
/// committed end before the set, `words` the set's word count. Returns
/// whether the open transaction was still there right after the kill.
fn kill_mid_transaction(
    app: &mut StreamsApp,
    marks: &Watermarks,
    repartition: &str,
    before: i64,
    words: i64,
) -> bool {
    let deadline = Instant::now() + PHASE_LIMIT;
    loop {
        let offsets = marks.of(repartition);
        let committed: i64 = offsets.iter().map(|(lso, _)| lso).sum();
        assert!(
            committed < before + words,
            "{} processed the whole slowed-down set before it could be killed \
             ({repartition} (LSO, HW) {offsets:?})",
            app.name
        );
        if committed > before && offsets.iter().any(|(lso, hw)| lso < hw) {
            break;
        }
        app.assert_alive();
        assert!(
            Instant::now() < deadline,
            "{} made no progress on the slowed-down set within {PHASE_LIMIT:?} \
             ({repartition} (LSO, HW) {offsets:?}, {before} committed before the set)",
            app.name
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    app.kill();
    let offsets = marks.of(repartition);
    let committed: i64 = offsets.iter().map(|(lso, _)| lso).sum();
    eprintln!(
        "killed {} with {} of {words} words of the set committed; {repartition} (LSO, HW) {offsets:?}",
        app.name,
        committed - before
    );
    offsets.iter().any(|(lso, hw)| lso < hw)
}

async fn check_internal_topics(broker: &Broker, repartition: &str, changelog: &str) {
    let c = consumer(broker, &[]);
    for t in [repartition, changelog] {
        wait_topic_ready(&c, t, PARTITIONS).await;
    }
    let admin = admin(broker);
    let res = admin
        .describe_configs(
            [
                &ResourceSpecifier::Topic(repartition),
                &ResourceSpecifier::Topic(changelog),
            ],
            &admin_opts(),
        )
        .await
        .expect("DescribeConfigs");
    let value = |i: usize, key: &str| {
        let cfg = res[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("configs of internal topic {i}: {e:?}"));
        let e = cfg
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from {:?}", cfg.specifier));
        // The source says the value was set on the topic (by Streams), not a default.
        let set_on_topic = e.source == ConfigSource::DynamicTopic;
        (e.value.clone().unwrap_or_default(), set_on_topic)
    };
    // What Streams puts in its CreateTopics requests (InternalTopicManager).
    assert_eq!(
        value(0, "cleanup.policy"),
        ("delete".to_string(), true),
        "{repartition} cleanup.policy"
    );
    assert_eq!(
        value(0, "retention.ms"),
        ("-1".to_string(), true),
        "{repartition} retention.ms"
    );
    assert_eq!(
        value(1, "cleanup.policy"),
        ("compact".to_string(), true),
        "{changelog} cleanup.policy"
    );
}

/// The instances, also after a panic while the lock was held.
fn lock(apps: &Mutex<Vec<StreamsApp>>) -> std::sync::MutexGuard<'_, Vec<StreamsApp>> {
    apps.lock().unwrap_or_else(|e| e.into_inner())
}

/// Prints every WARN/ERROR line of the instances (for review) and returns
/// those not in [`EXPECTED_WARNINGS`].
fn unexpected_warnings(apps: &[&StreamsApp]) -> Vec<String> {
    let mut bad = Vec::new();
    for app in apps {
        for line in app.lines() {
            if !(line.contains(" WARN ") || line.contains(" ERROR ")) {
                continue;
            }
            match EXPECTED_WARNINGS.iter().find(|(pat, _)| line.contains(pat)) {
                Some((_, why)) => eprintln!("expected ({why}): {}: {line}", app.name),
                None => bad.push(format!("{}: {line}", app.name)),
            }
        }
    }
    bad
}

fn print_app_log(app: &StreamsApp) {
    let lines = app.lines();
    eprintln!(
        "===== Streams {}: {} log lines =====",
        app.name,
        lines.len()
    );
    for l in lines {
        eprintln!("{l}");
    }
    eprintln!("===== end of Streams {} =====", app.name);
}

#[test]
fn streams_word_count_exactly_once_across_kills() {
    let classpath = match build() {
        Ok(cp) => cp,
        Err(reason) => {
            let reason = format!("Kafka Streams: {reason}");
            assert!(
                std::env::var("CI").is_err(),
                "{reason}: .ci/run installs them"
            );
            eprintln!("SKIP: {reason}");
            return;
        }
    };
    let broker = Broker::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let apps: Arc<Mutex<Vec<StreamsApp>>> = Arc::default();
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            tokio::time::timeout(SCENARIO_LIMIT, scenario(&broker, &classpath, apps.clone()))
                .await
                .unwrap_or_else(|_| panic!("scenario did not finish within {SCENARIO_LIMIT:?}"))
        })
    }));
    let apps = std::mem::take(&mut *lock(&apps));
    let mut apps = apps;
    for a in &mut apps {
        a.kill();
    }
    let refs: Vec<&StreamsApp> = apps.iter().collect();
    let bad = unexpected_warnings(&refs);
    if outcome.is_err() || !bad.is_empty() {
        broker.print_log();
        for a in &apps {
            print_app_log(a);
        }
    }
    if let Err(e) = outcome {
        resume_unwind(e);
    }
    // For review: what the broker warned about while Streams ran, and how the
    // killed instances' transactions ended (fenced by the restarted instance's
    // InitProducerId, or aborted by the transaction timeout).
    let (mut fenced, mut timed_out) = (0, 0);
    for line in broker.log_lines() {
        if line.contains(" WARN ") || line.contains(" ERROR ") {
            eprintln!("broker: {line}");
        }
        fenced += usize::from(line.contains("fencing the previous producer"));
        timed_out += usize::from(line.contains("aborting a transaction that timed out"));
    }
    eprintln!("broker aborted {fenced} fenced and {timed_out} timed-out transactions");
    eprintln!(
        "Kafka Streams scenario took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        bad.is_empty(),
        "Streams logged WARN/ERROR lines it does not log against Kafka:\n{}",
        bad.join("\n")
    );
}

/// The instances live in `apps` (not on this future's stack) so that their
/// logs can be printed after a panic or a timeout.
async fn scenario(broker: &Broker, classpath: &str, apps: Arc<Mutex<Vec<StreamsApp>>>) {
    let input = unique_topic("streams-in");
    let output = unique_topic("streams-out");
    let app_id = unique_topic("wordcount");
    let repartition = format!("{app_id}-words-repartition");
    let changelog = format!("{app_id}-counts-changelog");
    create_topic(broker, &input, PARTITIONS).await;
    create_topic(broker, &output, PARTITIONS).await;
    // Under the target dir, not /tmp: Streams warns about state dirs in the OS temp dir.
    let state_root = tempfile::Builder::new()
        .prefix("skiff-streams-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("state dir");
    let state_dir = state_root.path().join("state");
    let producer = future_producer(broker, &[("enable.idempotence", "true")]);
    let mut out = Output::new(broker, &output);
    let mut expected = BTreeMap::new();
    let start = |name: &str, slow: &str| {
        StreamsApp::start(
            name,
            classpath,
            &broker.bootstrap(),
            &app_id,
            &input,
            &output,
            &state_dir,
            slow,
        )
    };
    // Runs `f` on the instance at `i` (a panic inside still leaves it in `apps`).
    let with_app = |i: usize, f: &mut dyn FnMut(&mut StreamsApp)| {
        let mut apps = lock(&apps);
        f(&mut apps[i]);
    };

    // Phase 1: counts of the first set, exactly.
    let set1 = sentences(1, 300);
    add_counts(&mut expected, &set1);
    produce(&producer, &input, &set1);
    lock(&apps).push(start("A", "s2-"));
    with_app(0, &mut |a| await_counts(&mut out, a, &expected));
    check_internal_topics(broker, &repartition, &changelog).await;

    // Phase 2: A is SIGKILLed in the middle of the second set; B restarts with
    // the same state dir (same process id and transactional.id).
    let marks = Watermarks::new(broker);
    let set2 = sentences(2, 1500);
    let before = marks.committed_total(&repartition);
    let words = add_counts(&mut expected, &set2);
    produce(&producer, &input, &set2);
    let mut open_at_kill = Vec::new();
    with_app(0, &mut |a| {
        open_at_kill.push(kill_mid_transaction(a, &marks, &repartition, before, words))
    });
    lock(&apps).push(start("B", "s4-"));
    let set3 = sentences(3, 300);
    add_counts(&mut expected, &set3);
    produce(&producer, &input, &set3);
    with_app(1, &mut |a| await_counts(&mut out, a, &expected));

    // Phase 3: B is SIGKILLed in the middle of the fourth set; C starts with
    // the state dir wiped: a new process id, so the dead transaction is
    // aborted by its timeout, and the store is rebuilt from the changelog.
    let set4 = sentences(4, 1500);
    let before = marks.committed_total(&repartition);
    let words = add_counts(&mut expected, &set4);
    produce(&producer, &input, &set4);
    with_app(1, &mut |a| {
        open_at_kill.push(kill_mid_transaction(a, &marks, &repartition, before, words))
    });
    std::fs::remove_dir_all(&state_dir).expect("wipe the state dir");
    lock(&apps).push(start("C", ""));
    let set5 = sentences(5, 300);
    add_counts(&mut expected, &set5);
    produce(&producer, &input, &set5);
    with_app(2, &mut |a| await_counts(&mut out, a, &expected));
    let restored = lock(&apps)[2].lines().iter().any(|l| {
        l.contains("Finished restoring changelog") && !l.contains("total number of 0 records")
    });
    assert!(restored, "C did not restore its store from {changelog}");

    // Streams purged consumed repartition records (DeleteRecords).
    let c = consumer(broker, &[]);
    let purged = wait_for("a purge of the repartition topic", PHASE_LIMIT, || {
        let lows: Vec<i64> = (0..PARTITIONS)
            .map(|p| c.fetch_watermarks(&repartition, p, OP_TIMEOUT).map(|w| w.0))
            .collect::<Result<_, _>>()
            .ok()?;
        lows.iter().any(|l| *l > 0).then_some(lows)
    });
    eprintln!(
        "{repartition} log start offsets {purged:?}; open transaction seen right after \
         each kill: {open_at_kill:?}"
    );
}
