//! Test harness: the real `skiff` binary as a child process, rdkafka client
//! builders, a small raw Kafka-protocol client, and "await a condition" helpers.
//!
//! Rules the tests follow:
//! * every test starts its own broker (`Broker::start*`) on `127.0.0.1:0` with a
//!   fresh data dir, or targets `SKIFF_TEST_BOOTSTRAP` when that is set;
//! * every topic name comes from [`unique_topic`], so tests never see each
//!   other's leftovers (this matters against an external broker);
//! * readiness and conditions are awaited with deadlines, never fixed sleeps;
//! * a failing test prints the broker's captured log (stderr + stdout).

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::metadata::Metadata;
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};

/// How long a broker may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Hard limit for one test body (the brief: every test well under 60 s).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(55);
/// Default timeout for one client operation.
pub const OP_TIMEOUT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------
// Running a test
// ---------------------------------------------------------------------------

thread_local! {
    /// Logs of the brokers started by the current test thread, printed when a
    /// test times out (a timeout drops the future without panicking inside it).
    static THREAD_LOGS: RefCell<Vec<(String, SharedLog)>> = const { RefCell::new(Vec::new()) };
}

/// Runs an async test body on a fresh multi-threaded runtime with a hard
/// deadline. On timeout the logs of every broker this test started are printed.
pub fn run<F: Future<Output = ()>>(body: F) {
    THREAD_LOGS.with(|l| l.borrow_mut().clear());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build tokio runtime");
    let outcome = rt.block_on(async { tokio::time::timeout(TEST_TIMEOUT, body).await });
    drop(rt);
    if outcome.is_err() {
        THREAD_LOGS.with(|l| {
            for (name, log) in l.borrow().iter() {
                print_log(name, log);
            }
        });
        panic!("test did not finish within {TEST_TIMEOUT:?}");
    }
}

/// The external broker address, if the tests target one.
pub fn external_bootstrap() -> Option<String> {
    std::env::var("SKIFF_TEST_BOOTSTRAP")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Prints the standard skip line and returns true when the tests target an
/// external broker; use as `if skip_if_external("why") { return; }`.
pub fn skip_if_external(reason: &str) -> bool {
    if let Some(addr) = external_bootstrap() {
        eprintln!("SKIP: external broker {addr}: {reason}");
        true
    } else {
        false
    }
}

static TOPIC_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A topic name unique to this process, test and moment.
pub fn unique_topic(prefix: &str) -> String {
    let n = TOPIC_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
        % 1_000_000_000_000;
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

// ---------------------------------------------------------------------------
// The broker process
// ---------------------------------------------------------------------------

pub type SharedLog = Arc<Mutex<Vec<String>>>;

fn print_log(name: &str, log: &SharedLog) {
    let lines = log.lock().map(|l| l.clone()).unwrap_or_default();
    eprintln!("===== {name}: {} log lines =====", lines.len());
    for line in lines {
        eprintln!("{line}");
    }
    eprintln!("===== end of {name} log =====");
}

#[allow(unsafe_code)]
extern "C" {
    // libc's kill(2); std already links libc, so no extra dependency is needed.
    fn kill(pid: i32, sig: i32) -> i32;
}
const SIGTERM: i32 = 15;

/// The broker under test: the real binary, or an external broker when
/// `SKIFF_TEST_BOOTSTRAP` is set.
pub struct Broker {
    child: Mutex<Option<Child>>,
    addr: String,
    data: Option<tempfile::TempDir>,
    sets: Vec<String>,
    log: SharedLog,
    /// Set once the log was printed, so a failure prints it only once.
    log_printed: std::sync::atomic::AtomicBool,
    generation: u32,
    external: bool,
}

impl Broker {
    /// A broker with the default configuration.
    pub fn start() -> Broker {
        Broker::start_with(&[])
    }

    /// A broker with extra `--set KEY=VALUE` settings. Against an external
    /// broker the settings cannot be applied; tests that depend on them must
    /// check [`Broker::is_external`] (or use [`skip_if_external`]) first.
    pub fn start_with(sets: &[(&str, &str)]) -> Broker {
        let sets: Vec<String> = sets.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let log: SharedLog = Arc::new(Mutex::new(Vec::new()));
        if let Some(addr) = external_bootstrap() {
            if !sets.is_empty() {
                eprintln!("NOTE: external broker {addr}: cannot apply --set {sets:?}");
            }
            return Broker {
                child: Mutex::new(None),
                addr,
                data: None,
                sets,
                log,
                log_printed: Default::default(),
                generation: 0,
                external: true,
            };
        }
        let data = tempfile::Builder::new()
            .prefix("skiff-compat-")
            .tempdir()
            .expect("create temp data dir");
        let name = format!("broker {}", data.path().display());
        THREAD_LOGS.with(|l| l.borrow_mut().push((name, log.clone())));
        let mut broker = Broker {
            child: Mutex::new(None),
            addr: String::new(),
            data: Some(data),
            sets,
            log,
            log_printed: Default::default(),
            generation: 0,
            external: false,
        };
        if let Err(e) = broker.spawn(0) {
            broker.fail(&format!("broker did not start: {e}"));
        }
        broker
    }

    pub fn is_external(&self) -> bool {
        self.external
    }

    /// `host:port` to give clients.
    pub fn bootstrap(&self) -> String {
        self.addr.clone()
    }

    pub fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in broker address")
    }

    /// The data dir (None for an external broker).
    pub fn data_dir(&self) -> Option<&Path> {
        self.data.as_ref().map(|d| d.path())
    }

    /// `<data>/<topic>-<partition>`.
    pub fn partition_dir(&self, topic: &str, partition: i32) -> PathBuf {
        self.data_dir()
            .expect("local broker")
            .join(format!("{topic}-{partition}"))
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn print_log(&self) {
        self.log_printed.store(true, Ordering::SeqCst);
        print_log(&format!("broker {}", self.addr), &self.log);
    }

    /// Prints the log and panics.
    pub fn fail(&self, msg: &str) -> ! {
        self.print_log();
        panic!("{msg}");
    }

    /// True while the broker process runs (always true for an external one).
    pub fn is_alive(&self) -> bool {
        match self.child.lock().unwrap().as_mut() {
            None => self.external,
            Some(c) => matches!(c.try_wait(), Ok(None)),
        }
    }

    fn take_child(&mut self) -> Child {
        self.child
            .get_mut()
            .unwrap()
            .take()
            .expect("broker is running")
    }

    fn spawn(&mut self, port: u16) -> Result<(), String> {
        assert!(!self.external);
        assert!(
            self.child.get_mut().unwrap().is_none(),
            "broker already running"
        );
        self.generation += 1;
        let gen = self.generation;
        let data_dir = self.data_dir().expect("local broker").to_path_buf();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.arg("--listeners")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data_dir)
            // HTTP and the Schema Registry are off unless a test turns them on with
            // --set (a later --set wins): parallel brokers must not race for
            // the default ports 8092 and 8081.
            .arg("--http-listeners")
            .arg("off")
            .arg("--set")
            .arg("schema.registry.listeners=off");
        for s in &self.sets {
            cmd.arg("--set").arg(s);
        }
        // The broker reads every SKIFF_* variable as config (SKIFF_LOG_SEGMENT_BYTES
        // -> log.segment.bytes); none of the test runner's may leak into it.
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("SKIFF_") {
                cmd.env_remove(&var);
            }
        }
        // The ready line is logged at info; SKIFF_TEST_LOG=debug shows more.
        let filter = std::env::var("SKIFF_TEST_LOG").unwrap_or_else(|_| "info".to_string());
        cmd.env("SKIFF_LOG", filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        {
            let mut l = self.log.lock().unwrap();
            l.push(format!("[harness] start #{gen}: {cmd:?}"));
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", env!("CARGO_BIN_EXE_skiff")))?;

        let (ready_tx, ready_rx) = mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("piped stderr");
        let stdout = child.stdout.take().expect("piped stdout");
        let log = self.log.clone();
        std::thread::spawn(move || drain(stderr, log, format!("#{gen} err"), Some(ready_tx)));
        let log = self.log.clone();
        std::thread::spawn(move || drain(stdout, log, format!("#{gen} out"), None));

        let started = Instant::now();
        loop {
            match ready_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(addr) => {
                    self.addr = addr;
                    *self.child.get_mut().unwrap() = Some(child);
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!("broker exited with {status} before it was ready"));
                    }
                    if started.elapsed() > READY_TIMEOUT {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(format!(
                            "no `broker ready ... addr=` line on stderr within {READY_TIMEOUT:?}"
                        ));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stderr closed without a ready line: the process is exiting.
                    let status = wait_deadline(&mut child, Duration::from_secs(5));
                    if status.is_none() {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                    return Err(format!(
                        "broker closed stderr before it was ready (exit: {status:?})"
                    ));
                }
            }
        }
    }

    /// Graceful shutdown: SIGTERM, then wait (up to 20 s) for a clean exit.
    /// Panics (with the log) if the broker does not exit 0.
    pub fn stop(&mut self) -> ExitStatus {
        assert!(!self.external, "cannot stop an external broker");
        let mut child = self.take_child();
        // SAFETY: kill(2) takes plain integers; the pid is our own unreaped
        // child, so it cannot have been recycled for another process.
        #[allow(unsafe_code)]
        let rc = unsafe { kill(child.id() as i32, SIGTERM) };
        assert_eq!(rc, 0, "kill(SIGTERM) failed");
        match wait_deadline(&mut child, Duration::from_secs(20)) {
            Some(status) => {
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("[harness] SIGTERM -> exit {status}"));
                if !status.success() {
                    self.fail(&format!(
                        "broker exited with {status} after SIGTERM (expected 0)"
                    ));
                }
                status
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                self.fail("broker did not exit within 20 s of SIGTERM");
            }
        }
    }

    /// Crash: SIGKILL and reap.
    pub fn kill(&mut self) {
        assert!(!self.external, "cannot kill an external broker");
        let mut child = self.take_child();
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait after SIGKILL");
        self.log
            .lock()
            .unwrap()
            .push(format!("[harness] SIGKILL -> {status}"));
    }

    /// Restarts (as [`Broker::restart`]) with `KEY=VALUE` settings added
    /// after the current ones, so they win: a key changed between two runs.
    pub fn restart_with(&mut self, sets: &[(&str, &str)]) {
        self.sets
            .extend(sets.iter().map(|(k, v)| format!("{k}={v}")));
        self.restart();
    }

    /// Starts the broker again on the same data dir, on the same port when
    /// that port can be bound again (else on a new ephemeral port: clients
    /// must be rebuilt from [`Broker::bootstrap`] after a restart anyway).
    pub fn restart(&mut self) {
        assert!(!self.external, "cannot restart an external broker");
        if self.child.get_mut().unwrap().is_some() {
            self.stop();
        }
        let port = self.port();
        if let Err(first) = self.spawn(port) {
            self.log.lock().unwrap().push(format!(
                "[harness] restart on port {port} failed ({first}); retrying on port 0"
            ));
            if let Err(e) = self.spawn(0) {
                self.fail(&format!("broker did not restart: {e}"));
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.external && !self.log_printed.load(Ordering::SeqCst) {
            self.print_log();
        }
        if let Some(mut child) = self.child.get_mut().ok().and_then(|c| c.take()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_deadline(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// Reads lines until EOF into the log; reports the first ready line's address.
fn drain(stream: impl Read, log: SharedLog, tag: String, mut ready: Option<mpsc::Sender<String>>) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = strip_ansi(&String::from_utf8_lossy(&buf));
        let line = line.trim_end().to_string();
        if ready.is_some() && line.contains("broker ready") {
            if let Some(addr) = parse_ready_addr(&line) {
                let _ = ready.take().unwrap().send(addr);
            }
        }
        if let Ok(mut l) = log.lock() {
            l.push(format!("[{tag}] {line}"));
        }
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `... broker ready addr=127.0.0.1:40123 data_dir=/tmp/x` -> `127.0.0.1:40123`.
pub fn parse_ready_addr(line: &str) -> Option<String> {
    let rest = &line[line.find("addr=")? + "addr=".len()..];
    let addr: String = rest
        .trim_start_matches('"')
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != ',')
        .collect();
    let (_, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    Some(addr)
}

// ---------------------------------------------------------------------------
// Waiting for conditions
// ---------------------------------------------------------------------------

/// Polls `probe` until it returns `Some`, or panics after `limit` with `what`.
pub fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for: {what}");
        }
        // Back-off between probes, not a fixed sleep standing in for a condition.
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Like [`wait_for`] but async (for use inside [`run`]).
pub async fn wait_for_async<T>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for: {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

// ---------------------------------------------------------------------------
// rdkafka clients
// ---------------------------------------------------------------------------

fn base_config(broker: &Broker) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", broker.bootstrap())
        .set("client.id", "skiff-compat")
        .set("socket.timeout.ms", "10000")
        .set("metadata.max.age.ms", "10000")
        .set("topic.metadata.refresh.interval.ms", "1000")
        .set("reconnect.backoff.ms", "20")
        .set("reconnect.backoff.max.ms", "500")
        .set("retry.backoff.ms", "50")
        .set("log_level", "3");
    c
}

fn apply(c: &mut ClientConfig, extra: &[(&str, &str)]) {
    for (k, v) in extra {
        c.set(*k, *v);
    }
}

pub fn producer_config(broker: &Broker, extra: &[(&str, &str)]) -> ClientConfig {
    let mut c = base_config(broker);
    c.set("message.timeout.ms", "30000")
        .set("request.timeout.ms", "10000")
        .set("linger.ms", "2")
        .set("acks", "all");
    apply(&mut c, extra);
    c
}

pub fn future_producer(broker: &Broker, extra: &[(&str, &str)]) -> FutureProducer {
    producer_config(broker, extra)
        .create()
        .expect("create FutureProducer")
}

/// A consumer for `assign`ed partitions. librdkafka refuses `assign` without
/// a group.id, so each consumer gets a unique one, but it never subscribes or
/// commits: no group protocol is exercised.
pub fn consumer(broker: &Broker, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut c = base_config(broker);
    c.set("group.id", unique_topic("compat-group"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        .set("allow.auto.create.topics", "false");
    apply(&mut c, extra);
    c.create().expect("create BaseConsumer")
}

pub fn admin(broker: &Broker) -> AdminClient<DefaultClientContext> {
    base_config(broker).create().expect("create AdminClient")
}

pub fn admin_opts() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(OP_TIMEOUT))
        .operation_timeout(Some(OP_TIMEOUT))
}

/// Creates a topic through the admin API and waits until its metadata shows
/// every partition with a leader.
pub async fn create_topic(broker: &Broker, topic: &str, partitions: i32) {
    create_topic_with(broker, topic, partitions, &[]).await
}

pub async fn create_topic_with(
    broker: &Broker,
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) {
    let admin = admin(broker);
    let mut nt = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for (k, v) in configs {
        nt = nt.set(k, v);
    }
    let res = admin
        .create_topics([&nt], &admin_opts())
        .await
        .expect("CreateTopics request");
    assert_eq!(res.len(), 1);
    if let Err((name, code)) = &res[0] {
        broker.fail(&format!("create topic {name}: {code:?}"));
    }
    let c = consumer(broker, &[]);
    wait_topic_ready(&c, topic, partitions).await;
}

/// Waits until metadata for all topics lists `topic` with `partitions`
/// partitions, each with a leader and no error.
pub async fn wait_topic_ready(c: &BaseConsumer, topic: &str, partitions: i32) {
    let what = format!("topic {topic} with {partitions} partitions in metadata");
    wait_for_async(&what, OP_TIMEOUT, || {
        let md = c.fetch_metadata(Some(topic), Duration::from_secs(5)).ok()?;
        let t = md.topics().iter().find(|t| t.name() == topic)?;
        (t.error().is_none()
            && t.partitions().len() == partitions as usize
            && t.partitions()
                .iter()
                .all(|p| p.leader() >= 0 && p.error().is_none()))
        .then_some(())
    })
    .await
}

/// Metadata for all topics.
pub fn all_metadata(c: &BaseConsumer) -> Metadata {
    c.fetch_metadata(None, OP_TIMEOUT).expect("fetch metadata")
}

/// Assigns `partitions` of `topic` from the beginning.
pub fn assign_from_start(c: &BaseConsumer, topic: &str, partitions: &[i32]) {
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)
            .expect("add partition");
    }
    c.assign(&tpl).expect("assign");
}

/// Polls until exactly `n` messages arrived (then checks briefly that no
/// extra message follows) or panics at the deadline. Any consumer error fails.
pub fn consume_exact(c: &BaseConsumer, n: usize, limit: Duration) -> Vec<OwnedMessage> {
    let mut out = Vec::with_capacity(n);
    let deadline = Instant::now() + limit;
    while out.len() < n {
        if Instant::now() > deadline {
            panic!(
                "consumed {} of {n} messages within {limit:?}; last: {:?}",
                out.len(),
                out.last()
                    .map(|m: &OwnedMessage| (m.partition(), m.offset()))
            );
        }
        match c.poll(Duration::from_millis(200)) {
            None => {}
            Some(Ok(m)) => out.push(m.detach()),
            Some(Err(e)) => panic!("consumer error after {} messages: {e}", out.len()),
        }
    }
    // Anything more (a duplicate, a phantom record) shows up within a fetch or two.
    let grace = Instant::now() + Duration::from_millis(500);
    while Instant::now() < grace {
        match c.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => panic!(
                "unexpected extra message p{} @{} after the expected {n}",
                m.partition(),
                m.offset()
            ),
            Some(Err(e)) => panic!("consumer error after all {n} messages: {e}"),
        }
    }
    out
}

/// Consumes a whole partition from the beginning up to its high watermark.
pub fn consume_partition_to_end(
    c: &BaseConsumer,
    topic: &str,
    partition: i32,
) -> Vec<OwnedMessage> {
    let (_low, high) = c
        .fetch_watermarks(topic, partition, OP_TIMEOUT)
        .expect("fetch watermarks");
    assign_from_start(c, topic, &[partition]);
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out
        .last()
        .map(|m: &OwnedMessage| m.offset() + 1)
        .unwrap_or(0)
        < high
    {
        if Instant::now() > deadline {
            panic!(
                "consumed {} messages of {topic}-{partition}, high watermark {high}",
                out.len()
            );
        }
        match c.poll(Duration::from_millis(200)) {
            None => {}
            Some(Ok(m)) => out.push(m.detach()),
            Some(Err(e)) => panic!("consumer error after {} messages: {e}", out.len()),
        }
    }
    out
}

pub fn payload_str(m: &OwnedMessage) -> String {
    String::from_utf8(m.payload().expect("payload").to_vec()).expect("utf8 payload")
}

// ---------------------------------------------------------------------------
// Raw Kafka protocol
// ---------------------------------------------------------------------------

/// A tiny blocking Kafka client with exact control over what goes on the wire.
pub struct RawClient {
    pub stream: TcpStream,
    next_correlation: i32,
    versions: Option<HashMap<i16, (i16, i16)>>,
}

impl RawClient {
    pub fn connect(addr: &str) -> RawClient {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_nodelay(true).ok();
        stream
            .set_read_timeout(Some(OP_TIMEOUT))
            .expect("set read timeout");
        stream
            .set_write_timeout(Some(OP_TIMEOUT))
            .expect("set write timeout");
        RawClient {
            stream,
            next_correlation: 1,
            versions: None,
        }
    }

    pub fn next_correlation_id(&mut self) -> i32 {
        let c = self.next_correlation;
        self.next_correlation += 1;
        c
    }

    /// A size-prefixed request frame: header at `R::header_version(version)`,
    /// body at `version`.
    pub fn encode_request<R: Request>(req: &R, version: i16, correlation_id: i32) -> Vec<u8> {
        let mut buf = BytesMut::new();
        let mut header = RequestHeader::default();
        header.request_api_key = R::KEY;
        header.request_api_version = version;
        header.correlation_id = correlation_id;
        header.client_id = Some(StrBytes::from_static_str("skiff-compat-raw"));
        header
            .encode(&mut buf, R::header_version(version))
            .expect("encode request header");
        req.encode(&mut buf, version)
            .unwrap_or_else(|e| panic!("encode api {} v{version}: {e}", R::KEY));
        frame(&buf)
    }

    /// Sends one request; returns its correlation id.
    pub fn send<R: Request>(&mut self, req: &R, version: i16) -> i32 {
        let corr = self.next_correlation_id();
        let bytes = Self::encode_request(req, version, corr);
        self.stream.write_all(&bytes).expect("write request");
        corr
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// One size-prefixed frame (without the size).
    pub fn read_frame(&mut self) -> io::Result<Bytes> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size)?;
        let size = i32::from_be_bytes(size);
        if !(0..=200 * 1024 * 1024).contains(&size) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("response size {size}"),
            ));
        }
        let mut body = vec![0u8; size as usize];
        self.stream.read_exact(&mut body)?;
        Ok(Bytes::from(body))
    }

    /// Reads and decodes the response to a request of type `R` sent at
    /// `version` with `correlation_id`; the whole frame must be consumed.
    pub fn recv<R: Request>(&mut self, version: i16, correlation_id: i32) -> R::Response {
        let frame = self
            .read_frame()
            .unwrap_or_else(|e| panic!("read response to api {} v{version}: {e}", R::KEY));
        decode_response::<R>(frame, version, correlation_id)
    }

    pub fn call<R: Request>(&mut self, req: &R, version: i16) -> R::Response {
        let corr = self.send(req, version);
        self.recv::<R>(version, corr)
    }

    /// The broker's ApiVersions table (asked once, at v3).
    pub fn api_versions(&mut self) -> HashMap<i16, (i16, i16)> {
        if self.versions.is_none() {
            let mut req = ApiVersionsRequest::default();
            req.client_software_name = StrBytes::from_static_str("skiff-compat");
            req.client_software_version = StrBytes::from_static_str("0.1");
            let resp: ApiVersionsResponse = self.call(&req, 3);
            assert_eq!(resp.error_code, 0, "ApiVersions v3 error");
            self.versions = Some(
                resp.api_keys
                    .iter()
                    .map(|k| (k.api_key, (k.min_version, k.max_version)))
                    .collect(),
            );
        }
        self.versions.clone().unwrap()
    }

    /// The highest version of `key` both we (`want`) and the broker support.
    pub fn pick_version(&mut self, key: ApiKey, want: i16) -> i16 {
        let (min, max) = *self
            .api_versions()
            .get(&(key as i16))
            .unwrap_or_else(|| panic!("broker does not advertise {key:?}"));
        let v = want.min(max);
        assert!(
            v >= min,
            "{key:?}: broker supports {min}..={max}, we need <= {want}"
        );
        v
    }

    /// Waits up to `limit` for the peer to close the connection: true if a
    /// read returned EOF or a reset. Any bytes the peer sends first are ignored.
    pub fn closed_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).ok();
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => return false,
                    io::ErrorKind::Interrupted => continue,
                    _ => return true, // ECONNRESET, ECONNABORTED, EPIPE...
                },
            }
        }
    }
}

/// Prefixes `body` with its 4-byte big-endian size.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Decodes a response frame (header at `ApiKey::response_header_version`).
pub fn decode_response<R: Request>(
    mut frame: Bytes,
    version: i16,
    correlation_id: i32,
) -> R::Response {
    let key = ApiKey::try_from(R::KEY).expect("known api key");
    let header_version = key.response_header_version(version);
    assert_eq!(
        header_version,
        <R::Response as HeaderVersion>::header_version(version)
    );
    let header = ResponseHeader::decode(&mut frame, header_version)
        .unwrap_or_else(|e| panic!("decode {key:?} v{version} response header: {e}"));
    assert_eq!(
        header.correlation_id, correlation_id,
        "{key:?} v{version}: response correlation id"
    );
    let resp = <R::Response as Decodable>::decode(&mut frame, version)
        .unwrap_or_else(|e| panic!("decode {key:?} v{version} response body: {e}"));
    assert_eq!(
        frame.remaining(),
        0,
        "{key:?} v{version}: {} trailing bytes after the response body",
        frame.remaining()
    );
    resp
}

/// A v2 record, ready for [`encode_batch`].
pub fn record(offset: i64, timestamp: i64, key: Option<&[u8]>, value: Option<&[u8]>) -> Record {
    Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset,
        sequence: -1,
        timestamp,
        key: key.map(Bytes::copy_from_slice),
        value: value.map(Bytes::copy_from_slice),
        headers: Default::default(),
    }
}

/// One uncompressed v2 batch of `values` (relative offsets 0..n). With
/// `producer = Some((id, epoch, base_sequence))` it is an idempotent batch.
pub fn encode_batch(values: &[&[u8]], producer: Option<(i64, i16, i32)>) -> Bytes {
    let ts = now_ms();
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r = record(i as i64, ts, None, Some(v));
            // The encoder starts a new batch whenever offset - sequence changes,
            // so sequences must advance with offsets; base sequence -1 means
            // "not idempotent".
            r.sequence = i as i32 - 1;
            if let Some((id, epoch, base_seq)) = producer {
                r.producer_id = id;
                r.producer_epoch = epoch;
                r.sequence = base_seq + i as i32;
            }
            r
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records.iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("encode record batch");
    let buf = buf.freeze();
    let infos = RecordBatchDecoder::decode_batch_info(&mut buf.clone()).expect("re-read batch");
    assert_eq!(
        infos.len(),
        1,
        "encode_batch must produce exactly one batch"
    );
    assert_eq!(infos[0].record_count as usize, values.len());
    assert_eq!(infos[0].base_sequence, producer.map(|p| p.2).unwrap_or(-1));
    buf
}

/// Decodes every complete batch in a Fetch `records` field.
pub fn decode_records(records: &Bytes) -> Vec<Record> {
    let mut buf = records.clone();
    let sets = RecordBatchDecoder::decode_all(&mut buf).expect("decode fetched record batches");
    sets.into_iter().flat_map(|s| s.records).collect()
}

// ---------------------------------------------------------------------------
// External commands (kcat)
// ---------------------------------------------------------------------------

pub struct CmdOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command with `stdin` fed and closed, killing it after `limit`.
pub fn run_cmd(program: &str, args: &[&str], stdin: &[u8], limit: Duration) -> CmdOutput {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = match wait_deadline(&mut child, limit) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).to_string();
            panic!("{program} {args:?} did not finish within {limit:?}; stderr:\n{stderr}");
        }
    };
    let _ = writer.join();
    CmdOutput {
        status,
        stdout: String::from_utf8_lossy(&out_t.join().unwrap_or_default()).to_string(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap_or_default()).to_string(),
    }
}

/// The kcat binary (or kafkacat), or a panic explaining how to get it.
pub fn kcat() -> &'static str {
    for name in ["kcat", "kafkacat"] {
        let found = Command::new(name)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if found {
            return name;
        }
    }
    panic!("kcat not found: install it (`apt-get install kcat`) or run .ci/run, which does");
}

// ---------------------------------------------------------------------------
// A minimal JSON reader (for `kcat -J` output; avoids a serde_json dependency)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(s: &str) -> Result<Json, String> {
        let b = s.as_bytes();
        let mut i = 0;
        let v = json_value(b, &mut i)?;
        json_ws(b, &mut i);
        if i != b.len() {
            return Err(format!("trailing data at byte {i}"));
        }
        Ok(v)
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_array(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            other => panic!("expected a JSON array, got {other:?}"),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Num(n) => Some(*n as i64),
            _ => None,
        }
    }
}

fn json_ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
}

fn json_value(b: &[u8], i: &mut usize) -> Result<Json, String> {
    json_ws(b, i);
    let c = *b.get(*i).ok_or("unexpected end")?;
    match c {
        b'{' => {
            *i += 1;
            let mut fields = Vec::new();
            json_ws(b, i);
            if b.get(*i) == Some(&b'}') {
                *i += 1;
                return Ok(Json::Obj(fields));
            }
            loop {
                json_ws(b, i);
                let k = match json_value(b, i)? {
                    Json::Str(s) => s,
                    other => return Err(format!("object key {other:?}")),
                };
                json_ws(b, i);
                if b.get(*i) != Some(&b':') {
                    return Err(format!("expected ':' at {i}"));
                }
                *i += 1;
                let v = json_value(b, i)?;
                fields.push((k, v));
                json_ws(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b'}') => {
                        *i += 1;
                        return Ok(Json::Obj(fields));
                    }
                    _ => return Err(format!("expected ',' or '}}' at {i}")),
                }
            }
        }
        b'[' => {
            *i += 1;
            let mut items = Vec::new();
            json_ws(b, i);
            if b.get(*i) == Some(&b']') {
                *i += 1;
                return Ok(Json::Arr(items));
            }
            loop {
                items.push(json_value(b, i)?);
                json_ws(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b']') => {
                        *i += 1;
                        return Ok(Json::Arr(items));
                    }
                    _ => return Err(format!("expected ',' or ']' at {i}")),
                }
            }
        }
        b'"' => {
            *i += 1;
            let mut s = Vec::new();
            loop {
                let c = *b.get(*i).ok_or("unterminated string")?;
                *i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = *b.get(*i).ok_or("bad escape")?;
                        *i += 1;
                        match e {
                            b'n' => s.push(b'\n'),
                            b't' => s.push(b'\t'),
                            b'r' => s.push(b'\r'),
                            b'b' => s.push(8),
                            b'f' => s.push(12),
                            b'u' => {
                                let hex = std::str::from_utf8(b.get(*i..*i + 4).ok_or("bad \\u")?)
                                    .map_err(|e| e.to_string())?;
                                let cp = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                *i += 4;
                                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                                let mut tmp = [0u8; 4];
                                s.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                            }
                            other => s.push(other),
                        }
                    }
                    other => s.push(other),
                }
            }
            Ok(Json::Str(String::from_utf8_lossy(&s).to_string()))
        }
        b't' if b[*i..].starts_with(b"true") => {
            *i += 4;
            Ok(Json::Bool(true))
        }
        b'f' if b[*i..].starts_with(b"false") => {
            *i += 5;
            Ok(Json::Bool(false))
        }
        b'n' if b[*i..].starts_with(b"null") => {
            *i += 4;
            Ok(Json::Null)
        }
        _ => {
            let start = *i;
            while *i < b.len() && matches!(b[*i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                *i += 1;
            }
            std::str::from_utf8(&b[start..*i])
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .map(Json::Num)
                .ok_or_else(|| format!("bad JSON value at byte {start}"))
        }
    }
}

// ---------------------------------------------------------------------------
// Misc
// ---------------------------------------------------------------------------

/// Deterministic pseudo-random bytes (xorshift), incompressible enough.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------
// Request builders for the raw client
// ---------------------------------------------------------------------------

pub fn topic_name(topic: &str) -> kafka_protocol::messages::TopicName {
    kafka_protocol::messages::TopicName(StrBytes::from_string(topic.to_string()))
}

/// A Produce request (versions 3..=12, topics by name) for one partition.
pub fn produce_request(
    topic: &str,
    partition: i32,
    records: Bytes,
    acks: i16,
) -> kafka_protocol::messages::ProduceRequest {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    let mut pd = PartitionProduceData::default();
    pd.index = partition;
    pd.records = Some(records);
    let mut td = TopicProduceData::default();
    td.name = topic_name(topic);
    td.partition_data = vec![pd];
    let mut req = kafka_protocol::messages::ProduceRequest::default();
    req.transactional_id = None;
    req.acks = acks;
    req.timeout_ms = 10_000;
    req.topic_data = vec![td];
    req
}

/// (error_code, base_offset) of the single partition in a Produce response.
pub fn produce_result(resp: &kafka_protocol::messages::ProduceResponse) -> (i16, i64) {
    assert_eq!(
        resp.responses.len(),
        1,
        "topics in produce response: {resp:?}"
    );
    let t = &resp.responses[0];
    assert_eq!(
        t.partition_responses.len(),
        1,
        "partitions in produce response: {resp:?}"
    );
    let p = &t.partition_responses[0];
    (p.error_code, p.base_offset)
}

/// A Fetch request for one partition. For `version >= 13` the topic is given
/// by `topic_id`, below that by `topic` name.
pub fn fetch_request(
    version: i16,
    topic: &str,
    topic_id: uuid::Uuid,
    partition: i32,
    offset: i64,
    max_wait_ms: i32,
) -> kafka_protocol::messages::FetchRequest {
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    let mut fp = FetchPartition::default();
    fp.partition = partition;
    fp.fetch_offset = offset;
    fp.partition_max_bytes = 10 * 1024 * 1024;
    let mut ft = FetchTopic::default();
    if version >= 13 {
        ft.topic_id = topic_id;
    } else {
        ft.topic = topic_name(topic);
    }
    ft.partitions = vec![fp];
    let mut req = kafka_protocol::messages::FetchRequest::default();
    req.max_wait_ms = max_wait_ms;
    req.min_bytes = 1;
    req.max_bytes = 50 * 1024 * 1024;
    req.isolation_level = 0;
    req.session_id = 0;
    req.session_epoch = -1;
    req.topics = vec![ft];
    req
}

/// A Metadata request for the given topics (`None` = all topics).
pub fn metadata_request(
    topics: Option<&[&str]>,
    allow_auto_create: bool,
) -> kafka_protocol::messages::MetadataRequest {
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    let mut req = kafka_protocol::messages::MetadataRequest::default();
    req.topics = topics.map(|ts| {
        ts.iter()
            .map(|t| {
                let mut mt = MetadataRequestTopic::default();
                mt.name = Some(topic_name(t));
                mt
            })
            .collect()
    });
    req.allow_auto_topic_creation = allow_auto_create;
    req
}

/// The topic id from a Metadata (v10+) response, asked without auto-creation.
pub fn topic_id(raw: &mut RawClient, topic: &str) -> uuid::Uuid {
    let v = raw.pick_version(ApiKey::Metadata, 12);
    assert!(v >= 10, "Metadata v{v} has no topic ids");
    let resp = raw.call(&metadata_request(Some(&[topic]), false), v);
    let t = resp
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.as_str()) == Some(topic))
        .unwrap_or_else(|| panic!("{topic} missing from metadata: {resp:?}"));
    assert_eq!(t.error_code, 0, "metadata error for {topic}");
    assert!(
        !t.topic_id.is_nil(),
        "Metadata v{v} returned a nil topic id for {topic}"
    );
    t.topic_id
}

/// Values (as strings) of all records in a raw fetch from `offset`, with offsets.
pub fn raw_fetch_values(
    raw: &mut RawClient,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Vec<(i64, Option<String>)> {
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let resp = raw.call(
        &fetch_request(v, topic, uuid::Uuid::nil(), partition, offset, 0),
        v,
    );
    assert_eq!(resp.error_code, 0, "fetch top-level error");
    let pd = &resp.responses[0].partitions[0];
    assert_eq!(pd.error_code, 0, "fetch error for {topic}-{partition}");
    decode_records(pd.records.as_ref().expect("records"))
        .into_iter()
        .map(|r| {
            (
                r.offset,
                r.value.map(|v| String::from_utf8_lossy(&v).to_string()),
            )
        })
        .collect()
}

/// Builds the Go program in `dir` into `dir/bin/<name>` and returns the
/// binary's path. `-mod=readonly`: the build uses exactly the committed
/// go.sum and fails rather than silently resolving other versions.
pub fn build_go_program(dir: &std::path::Path, name: &str, limit: Duration) -> String {
    let dir_s = dir.to_string_lossy().to_string();
    let bin_s = dir.join("bin").join(name).to_string_lossy().to_string();
    let started = std::time::Instant::now();
    let build = run_cmd(
        "go",
        &[
            "-C",
            &dir_s,
            "build",
            "-mod=readonly",
            "-buildvcs=false",
            "-o",
            &bin_s,
            ".",
        ],
        b"",
        limit,
    );
    assert!(
        build.status.success(),
        "go build of {dir_s} failed ({}):\n{}\n{}",
        build.status,
        build.stdout,
        build.stderr
    );
    eprintln!("{name}: built in {:?}", started.elapsed());
    bin_s
}

/// A client program whose stdout and stderr go to files in a temp dir of
/// its own (a long run's output cannot fill a pipe nobody reads while the
/// test waits or restarts the broker); the dir also holds whatever else the
/// run needs (a client log, restart requests).
pub struct ProgramRun {
    dir: tempfile::TempDir,
    child: Option<Child>,
    started: Instant,
}

/// What a [`ProgramRun`] ended with: None as status if it overran its limit.
pub struct ProgramOutput {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl ProgramOutput {
    /// Exited 0, printed `PASS <name> ` for each of `names` and no FAIL line.
    pub fn passed(&self, names: &[&str]) -> bool {
        self.status.is_some_and(|s| s.success())
            && names.iter().all(|n| {
                self.stdout
                    .lines()
                    .any(|l| l.starts_with(&format!("PASS {n} ")))
            })
            && !self.stdout.lines().any(|l| l.starts_with("FAIL"))
    }
}

impl ProgramRun {
    pub fn new(prefix: &str) -> ProgramRun {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("create a temp dir");
        ProgramRun {
            dir,
            child: None,
            started: Instant::now(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn spawn(&mut self, mut cmd: Command) {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(
                std::fs::File::create(self.path().join("stdout.txt")).expect("create stdout file"),
            )
            .stderr(
                std::fs::File::create(self.path().join("stderr.txt")).expect("create stderr file"),
            )
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
        self.child = Some(child);
        self.started = Instant::now();
    }

    /// The running program (after [`ProgramRun::spawn`]).
    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("spawn the program first")
    }

    /// Restarts `broker` when the program asks for it: it writes `stop` in
    /// the run's dir, the broker restarts on its data dir and port, and
    /// `started` is written back. Waits until the request, the program's
    /// exit or `limit`; returns whether the broker was restarted.
    pub fn restart_when_asked(&mut self, broker: &mut Broker, limit: Duration) -> bool {
        let stop = self.path().join("stop");
        let deadline = Instant::now() + limit;
        while !stop.exists()
            && Instant::now() < deadline
            && matches!(self.child().try_wait(), Ok(None))
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        if !stop.exists() {
            return false;
        }
        let port = broker.port();
        broker.restart();
        assert_eq!(
            broker.port(),
            port,
            "the broker came back on another port: the client cannot follow"
        );
        std::fs::write(self.path().join("started"), "started").expect("write the started file");
        true
    }

    /// Waits until `limit` after the spawn (killing it then) and reads its output.
    pub fn finish(&mut self, limit: Duration) -> ProgramOutput {
        let remaining = limit.saturating_sub(self.started.elapsed());
        let child = self.child();
        let status = wait_deadline(child, remaining);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let read = |f: &str| std::fs::read_to_string(self.path().join(f)).unwrap_or_default();
        ProgramOutput {
            status,
            stdout: read("stdout.txt"),
            stderr: read("stderr.txt"),
        }
    }
}
