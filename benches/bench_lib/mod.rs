//! The core of `skiff-bench`: scenarios, the runner that plays each one
//! against Skiff, against librdkafka's in-memory mock cluster and (with
//! `--peer kafka`) against real Apache Kafka, and the report. Shared by the bench binary (`benches/skiff_bench.rs`) and the
//! smoke test (`compat-tests/bench_smoke.rs`), which both include this file
//! with `#[path]`, so the test exercises exactly the code the bench runs.
//!
//! # Layout
//! * `mod.rs` (this file): options, the scenario catalog, the runner.
//! * `clients.rs`: rdkafka producers/consumers/latency pairs, topic admin.
//! * `procs.rs`: the broker child processes (Skiff, Kafka), `/proc` readers,
//!   raw ApiVersions / Metadata.
//! * `report.rs`: the human table, `RESULT` lines, SVG charts.
//!
//! Every scenario checks that every message arrived (delivery reports and
//! high watermarks for produce; contiguous offsets and per-partition counts
//! for consume); a count mismatch is a failed scenario, never a figure.

#![allow(dead_code)]

#[path = "clients.rs"]
pub mod clients;
#[path = "groups.rs"]
pub mod groups;
#[path = "procs.rs"]
pub mod procs;
#[path = "report.rs"]
pub mod report;
#[path = "schema_lookup.rs"]
pub mod schema_lookup;
#[path = "share.rs"]
pub mod share;
#[path = "tls.rs"]
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};

use clients::{ProduceJob, ProduceStats};
use procs::{KafkaProc, Mem, SkiffProc, StartupTiming};

pub const USAGE: &str = "\
skiff-bench: Skiff vs librdkafka's in-memory mock cluster (and, with
--peer kafka, real Apache Kafka), side by side.

USAGE: cargo bench --bench skiff-bench -- [OPTIONS]

OPTIONS:
  --scenarios A,B,..  scenarios to run (default: all). Each item is a full
                      name, a prefix ending in '*', or a name prefix such as
                      `produce`, `produce-idem`, `consume`, `latency`,
                      `fsync`, `startup`, `resources`. --list shows them.
  --scale F           multiply message counts and data sizes (default 1.0;
                      0.01 for a quick look, 0.002 for a smoke run)
  --bootstrap H:P     run against this broker instead of starting Skiff
                      (startup, fsync and resource scenarios are skipped)
  --skiff-bin PATH    broker binary (default: target/release/skiff, which
                      `cargo bench` builds)
  --out DIR           where results.txt and the SVG charts go
                      (default: target/skiff-bench)
  --no-mock           skip the mock cluster (ratios become n/a)
  --peer kafka        also run every scenario against real Apache Kafka
                      (single-node KRaft from the Maven jars, started with
                      compat-tests/kafka-dist/kafka-reference.sh on free
                      ports, temporary dirs, stopped after); needs java + mvn
  --kafka-script PATH the launcher (default: compat-tests/kafka-dist/
                      kafka-reference.sh)
  --kafka-heap SIZE   Kafka's -Xmx (default 1g)
  --startup-runs N    broker starts per startup scenario (default 5)
  --quiet             no progress lines on stderr
  --list              list scenario names and exit
  --help              this text
";

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenario selectors; empty means all.
    pub scenarios: Vec<String>,
    pub scale: f64,
    pub bootstrap: Option<String>,
    pub skiff_bin: PathBuf,
    /// Where results.txt and the SVGs go; None writes nothing.
    pub out_dir: Option<PathBuf>,
    pub mock: bool,
    /// Also run against real Apache Kafka (`--peer kafka`).
    pub kafka: bool,
    pub kafka_script: PathBuf,
    pub kafka_heap: String,
    pub startup_runs: usize,
    pub progress: bool,
    pub list: bool,
    pub help: bool,
}

impl Options {
    /// Defaults: everything, full scale, a local Skiff from `skiff_bin`.
    pub fn new(skiff_bin: PathBuf) -> Options {
        Options {
            scenarios: Vec::new(),
            scale: 1.0,
            bootstrap: None,
            skiff_bin,
            out_dir: None,
            mock: true,
            kafka: false,
            kafka_script: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("compat-tests/kafka-dist/kafka-reference.sh"),
            kafka_heap: "1g".into(),
            startup_runs: 5,
            progress: true,
            list: false,
            help: false,
        }
    }

    /// Parses `args` (without the program name) over `self`. Ignores the
    /// `--bench` flag that `cargo bench` appends.
    pub fn parse(mut self, args: &[String]) -> Result<Options, String> {
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            let mut value = |name: &str| -> Result<String, String> {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag {
                "--bench" => {}
                "--scenarios" | "-s" => {
                    self.scenarios = value(flag)?
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                }
                "--scale" => {
                    let v = value(flag)?;
                    self.scale = v
                        .parse::<f64>()
                        .ok()
                        .filter(|s| *s > 0.0 && s.is_finite())
                        .ok_or_else(|| format!("--scale {v}: need a positive number"))?;
                }
                "--bootstrap" => self.bootstrap = Some(value(flag)?),
                "--skiff-bin" => self.skiff_bin = PathBuf::from(value(flag)?),
                "--out" => self.out_dir = Some(PathBuf::from(value(flag)?)),
                "--no-mock" => self.mock = false,
                "--peer" => match value(flag)?.as_str() {
                    "kafka" => self.kafka = true,
                    "mock" => self.mock = true,
                    other => return Err(format!("--peer {other}: known peers are kafka, mock")),
                },
                "--kafka-script" => self.kafka_script = PathBuf::from(value(flag)?),
                "--kafka-heap" => self.kafka_heap = value(flag)?,
                "--startup-runs" => {
                    let v = value(flag)?;
                    self.startup_runs =
                        v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("--startup-runs {v}: need a positive integer")
                        })?;
                }
                "--quiet" | "-q" => self.progress = false,
                "--list" => self.list = true,
                "--help" | "-h" => self.help = true,
                other => return Err(format!("unknown option {other}\n\n{USAGE}")),
            }
        }
        Ok(self)
    }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// What kind of figure a scenario yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Produce,
    Consume,
    Latency,
    Fsync,
    Startup,
    Resources,
    /// Skiff-only features: the built-in Schema Registry, share groups.
    Registry,
    /// Consumer groups, classic vs consumer protocol (Skiff only, `groups.rs`).
    Groups,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Produce {
        size: usize,
        count: u64,
        partitions: i32,
        acks: &'static str,
        compression: &'static str,
        idempotent: bool,
    },
    Consume {
        size: usize,
        count: u64,
        partitions: i32,
        group: bool,
    },
    Latency {
        rate: u64,
        count: u64,
        linger0: bool,
    },
    /// Produce with `log.flush.interval.messages=1` (Skiff and Kafka; the
    /// mock has no disk), next to the same produce with the default flush
    /// policy on a fresh broker.
    Fsync {
        size: usize,
        count: u64,
        partitions: i32,
    },
    StartupEmpty,
    StartupClean {
        partitions: i32,
        bytes: u64,
    },
    StartupUnclean {
        partitions: i32,
        bytes: u64,
    },
    /// RSS idle / peak / after N bytes written, CPU per GB, binary size.
    Resources {
        written_target: u64,
    },
    /// `GET /schemas/ids/{id}` against the built-in Schema Registry.
    /// Share-group consume (KIP-932) of one partition by `consumers` share consumers.
    ShareConsume {
        count: u64,
        consumers: usize,
    },
    SchemaLookup {
        count: u64,
    },
    /// Produce and consume over PLAINTEXT, SSL and SASL_SSL (`tls.rs`).
    Tls {
        size: usize,
        count: u64,
    },
    /// Time to a stable assignment (`groups.rs`).
    GroupStable {
        members: usize,
        consumer: bool,
        heartbeat_ms: Option<u32>,
    },
    /// Group members reading a pre-filled topic (`groups.rs`).
    GroupConsume {
        members: usize,
        size: usize,
        count: u64,
        consumer: bool,
        heartbeat_ms: Option<u32>,
    },
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub kind: Kind,
}

impl Scenario {
    pub fn family(&self) -> Family {
        match self.kind {
            Kind::Produce { .. } => Family::Produce,
            Kind::Consume { .. } => Family::Consume,
            Kind::Latency { .. } => Family::Latency,
            Kind::Fsync { .. } => Family::Fsync,
            Kind::StartupEmpty | Kind::StartupClean { .. } | Kind::StartupUnclean { .. } => {
                Family::Startup
            }
            Kind::Resources { .. } => Family::Resources,
            Kind::SchemaLookup { .. } | Kind::ShareConsume { .. } => Family::Registry,
            Kind::Tls { .. } => Family::Produce,
            Kind::GroupStable { .. } | Kind::GroupConsume { .. } => Family::Groups,
        }
    }

    /// Whether `selector` (see [`USAGE`]) picks this scenario.
    pub fn matches(&self, selector: &str) -> bool {
        if selector == "all" || self.name == selector {
            return true;
        }
        if let Some(prefix) = selector.strip_suffix('*') {
            return self.name.starts_with(prefix);
        }
        self.name.starts_with(&format!("{selector}-"))
    }
}

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

fn scaled(n: u64, scale: f64, min: u64) -> u64 {
    ((n as f64 * scale).round() as u64).max(min)
}

/// Every scenario, in run order, with counts and sizes scaled.
pub fn catalog(scale: f64) -> Vec<Scenario> {
    let sizes: [(usize, u64, &str); 2] = [(100, 1_000_000, "100b"), (1024, 200_000, "1k")];
    let mut v = Vec::new();
    let mut push = |name: String, kind: Kind| v.push(Scenario { name, kind });
    for &(size, n, label) in &sizes {
        let count = scaled(n, scale, 100);
        for partitions in [1, 32] {
            for acks in ["1", "all"] {
                for compression in ["none", "lz4"] {
                    let acks_label = if acks == "1" { "acks1" } else { "acksall" };
                    push(
                        format!("produce-{label}-p{partitions}-{acks_label}-{compression}"),
                        Kind::Produce {
                            size,
                            count,
                            partitions,
                            acks,
                            compression,
                            idempotent: false,
                        },
                    );
                }
            }
        }
    }
    for &(size, n, label) in &sizes {
        let count = scaled(n, scale, 100);
        for partitions in [1, 32] {
            for compression in ["none", "lz4"] {
                push(
                    format!("produce-idem-{label}-p{partitions}-{compression}"),
                    Kind::Produce {
                        size,
                        count,
                        partitions,
                        acks: "all",
                        compression,
                        idempotent: true,
                    },
                );
            }
        }
    }
    for group in [false, true] {
        for &(size, n, label) in &sizes {
            let count = scaled(n, scale, 100);
            for partitions in [1, 32] {
                let g = if group { "group-" } else { "" };
                push(
                    format!("consume-{g}{label}-p{partitions}"),
                    Kind::Consume {
                        size,
                        count,
                        partitions,
                        group,
                    },
                );
            }
        }
    }
    for linger0 in [false, true] {
        for rate in [1_000u64, 10_000] {
            let suffix = if linger0 { "-linger0" } else { "" };
            push(
                format!("latency-{rate}{suffix}"),
                Kind::Latency {
                    rate,
                    // Ten seconds of traffic at full scale.
                    count: scaled(rate * 10, scale, 200),
                    linger0,
                },
            );
        }
    }
    for partitions in [1, 32] {
        push(
            format!("fsync-100b-p{partitions}"),
            Kind::Fsync {
                size: 100,
                count: scaled(1_000_000, scale, 100),
                partitions,
            },
        );
    }
    let bytes = scaled(GIB, scale, MIB);
    push("startup-empty".into(), Kind::StartupEmpty);
    push(
        "startup-clean-100p".into(),
        Kind::StartupClean {
            partitions: 100,
            bytes,
        },
    );
    push(
        "startup-unclean-100p".into(),
        Kind::StartupUnclean {
            partitions: 100,
            bytes,
        },
    );
    push(
        "resources".into(),
        Kind::Resources {
            written_target: scaled(5 * GIB, scale, 4 * MIB),
        },
    );
    for consumers in [1, 3] {
        push(
            format!("share-consume-100b-{consumers}c"),
            Kind::ShareConsume {
                count: scaled(1_000_000, scale, 2_000),
                consumers,
            },
        );
    }
    push(
        "schema-lookup-by-id".into(),
        Kind::SchemaLookup {
            count: scaled(200_000, scale, 400),
        },
    );
    push(
        "tls".into(),
        Kind::Tls {
            size: 1024,
            count: scaled(200_000, scale, 100),
        },
    );
    for (name, kind) in groups::scenarios(scale) {
        push(name, kind);
    }
    v
}

/// The scenarios `opts` selects, in catalog order.
pub fn selected(opts: &Options) -> Result<Vec<Scenario>, String> {
    let all = catalog(opts.scale);
    if opts.scenarios.is_empty() {
        return Ok(all);
    }
    for sel in &opts.scenarios {
        if !all.iter().any(|s| s.matches(sel)) {
            return Err(format!("no scenario matches {sel:?} (see --list)"));
        }
    }
    Ok(all
        .into_iter()
        .filter(|s| opts.scenarios.iter().any(|sel| s.matches(sel)))
        .collect())
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

/// One side's figures for one scenario.
#[derive(Debug, Clone, Default)]
pub struct Measurement {
    /// Messages that had to arrive, and messages that did.
    pub expected: u64,
    pub arrived: u64,
    pub secs: f64,
    pub msgs_per_s: f64,
    pub mb_per_s: f64,
    /// p50, p99, p999 end-to-end latency in ms.
    pub latency_ms: Option<[f64; 3]>,
    /// A single non-throughput figure: (unit used in RESULT keys, value).
    pub value: Option<(&'static str, f64)>,
    pub broker_cpu_s: Option<f64>,
    pub client_cpu_s: Option<f64>,
    pub payload_bytes: u64,
    /// Extra `key=value` pairs for the RESULT line (keys without side prefix).
    pub fields: Vec<(String, String)>,
    pub note: String,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Measured(Measurement),
    Skipped(String),
    Failed(String),
    /// The figure does not exist for this side (the mock has no fsync, no
    /// process of its own to time or weigh).
    NotApplicable,
}

impl Outcome {
    pub fn measured(&self) -> Option<&Measurement> {
        match self {
            Outcome::Measured(m) => Some(m),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub family: Family,
    pub skiff: Outcome,
    pub mock: Outcome,
    /// Real Apache Kafka; `NotApplicable` unless `--peer kafka`.
    pub kafka: Outcome,
}

impl ScenarioResult {
    /// Skiff / mock, for the scenario's main figure.
    pub fn ratio(&self) -> Option<f64> {
        ratio_of(&self.skiff, &self.mock)
    }

    /// Skiff / Kafka, for the scenario's main figure.
    pub fn kafka_ratio(&self) -> Option<f64> {
        ratio_of(&self.skiff, &self.kafka)
    }

    /// Every failure message, side-tagged.
    pub fn failures(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (side, o) in [
            ("skiff", &self.skiff),
            ("kafka", &self.kafka),
            ("mock", &self.mock),
        ] {
            match o {
                Outcome::Failed(e) => v.push(format!("{} [{side}]: {e}", self.name)),
                Outcome::Measured(m) if m.arrived != m.expected => v.push(format!(
                    "{} [{side}]: {} of {} messages arrived",
                    self.name, m.arrived, m.expected
                )),
                _ => {}
            }
        }
        v
    }
}

/// a / b for the main figure (throughput, else the single value).
fn ratio_of(a: &Outcome, b: &Outcome) -> Option<f64> {
    let (s, m) = (a.measured()?, b.measured()?);
    if s.msgs_per_s > 0.0 && m.msgs_per_s > 0.0 {
        Some(s.msgs_per_s / m.msgs_per_s)
    } else {
        match (s.value, m.value) {
            (Some((_, x)), Some((_, y))) if y > 0.0 => Some(x / y),
            _ => None,
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<ScenarioResult>,
    /// Machine and run notes printed above the table.
    pub header: Vec<String>,
    /// Files written (results.txt, SVGs).
    pub files: Vec<PathBuf>,
    /// Whether Kafka was a peer (adds its columns).
    pub kafka: bool,
}

impl Report {
    pub fn failures(&self) -> Vec<String> {
        self.results.iter().flat_map(|r| r.failures()).collect()
    }

    /// The table, then one RESULT line per scenario.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for h in &self.header {
            s.push_str(h);
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&report::table(&self.results, self.kafka));
        s.push('\n');
        for line in report::result_lines(&self.results, self.kafka) {
            s.push_str(&line);
            s.push('\n');
        }
        s
    }
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

/// Runs the selected scenarios and returns the report (also written to
/// `opts.out_dir` when set). Errors only for problems that stop the whole
/// run (bad options, a broker that cannot start); a failing scenario is
/// recorded in its result and the run goes on.
pub fn run(opts: &Options) -> Result<Report, String> {
    let scenarios = selected(opts)?;
    let mut r = Runner {
        opts,
        mains: [None, None],
        groups: [None, None],
        startup_data: [None, None],
        results: Vec::new(),
    };
    let mut header = vec![
        format!(
            "skiff-bench: scale {} | {} CPUs | load average at start: {}",
            opts.scale,
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            loadavg()
        ),
        match &opts.bootstrap {
            Some(b) => format!("broker: external {b}"),
            None => format!("broker: {} (temporary data dir)", opts.skiff_bin.display()),
        },
        format!(
            "reference: {}",
            if opts.mock {
                "librdkafka in-memory mock cluster (1 broker, \
                 group.initial.rebalance.delay.ms=0 like Skiff), same process as the clients"
            } else {
                "none (--no-mock)"
            }
        ),
    ];
    if opts.kafka {
        header.push(format!(
            "peer: Apache Kafka {} ({}; single-node KRaft broker+controller, -Xmx{}, \
             group.initial.rebalance.delay.ms=0, temporary dirs) via {}",
            kafka_version(&opts.kafka_script),
            java_version(),
            opts.kafka_heap,
            opts.kafka_script.display()
        ));
    }
    let peers: &[Peer] = if opts.kafka {
        &[Peer::Skiff, Peer::Kafka]
    } else {
        &[Peer::Skiff]
    };
    for sc in &scenarios {
        let started = Instant::now();
        for p in peers {
            r.rss_window(*p);
        }
        let results = r.run_scenario(sc);
        // Peak broker RSS during this scenario (main brokers only).
        let peaks: Vec<(Peer, Option<u64>)> =
            peers.iter().map(|p| (*p, r.rss_window(*p))).collect();
        for mut res in results {
            for (peer, peak_kb) in &peaks {
                let side = match peer {
                    Peer::Skiff => &mut res.skiff,
                    Peer::Kafka => &mut res.kafka,
                };
                if let (Some(kb), Outcome::Measured(m)) = (peak_kb, side) {
                    if *kb > 0
                        && matches!(
                            res.family,
                            Family::Produce | Family::Consume | Family::Latency
                        )
                    {
                        m.fields
                            .push(("peak_rss_mb".into(), format!("{:.1}", mb(*kb))));
                    }
                }
            }
            if opts.progress {
                eprintln!(
                    "[skiff-bench] {} ({:.1} s)",
                    report::summary(&res, opts.kafka),
                    started.elapsed().as_secs_f64()
                );
            }
            r.results.push(res);
        }
    }
    for (i, slot) in r.mains.iter_mut().enumerate() {
        if let Some(main) = slot.take() {
            if let Err(e) = main.shutdown() {
                let who = if i == Peer::Kafka.idx() {
                    "kafka"
                } else {
                    "main"
                };
                header.push(format!("WARNING: {who} broker shutdown: {e}"));
            }
        }
    }
    header.push(format!("load average at end: {}", loadavg()));
    let mut rep = Report {
        results: std::mem::take(&mut r.results),
        header,
        files: Vec::new(),
        kafka: opts.kafka,
    };
    if let Some(dir) = &opts.out_dir {
        rep.files = write_files(dir, &rep)?;
    }
    Ok(rep)
}

/// The Kafka version pinned in the pom next to the launcher script.
fn kafka_version(script: &Path) -> String {
    std::fs::read_to_string(script.with_file_name("pom.xml"))
        .ok()
        .and_then(|pom| {
            let start = pom.find("<kafka.version>")? + "<kafka.version>".len();
            let end = start + pom[start..].find('<')?;
            Some(pom[start..end].trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// First line of `java -version` (it prints on stderr).
fn java_version() -> String {
    std::process::Command::new("java")
        .arg("-version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "java ?".into())
}

fn write_files(dir: &Path, rep: &Report) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    let mut write = |name: &str, body: &str| -> Result<(), String> {
        let p = dir.join(name);
        std::fs::write(&p, body).map_err(|e| format!("write {}: {e}", p.display()))?;
        files.push(p);
        Ok(())
    };
    write("results.txt", &rep.text())?;
    if let Some(svg) = report::svg_throughput(&rep.results) {
        write("throughput.svg", &svg)?;
    }
    if let Some(svg) = report::svg_latency(&rep.results) {
        write("latency.svg", &svg)?;
    }
    Ok(files)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Which broker a measurement runs on (the mock is handled apart: it lives
/// in the bench process and has no process, data dir or restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Skiff,
    Kafka,
}

impl Peer {
    fn idx(self) -> usize {
        self as usize
    }

    fn tag(self) -> &'static str {
        match self {
            Peer::Skiff => "skiff",
            Peer::Kafka => "kafka",
        }
    }
}

/// A broker child process of either kind.
enum BrokerProc {
    Skiff(SkiffProc),
    Kafka(KafkaProc),
}

impl BrokerProc {
    fn addr(&self) -> &str {
        match self {
            BrokerProc::Skiff(p) => &p.addr,
            BrokerProc::Kafka(p) => &p.addr,
        }
    }

    fn pid_str(&self) -> String {
        match self {
            BrokerProc::Skiff(p) => p.pid_str(),
            BrokerProc::Kafka(p) => p.pid_str(),
        }
    }

    fn mem(&self) -> Option<Mem> {
        procs::proc_mem(&self.pid_str())
    }

    fn cpu_secs(&self) -> Option<f64> {
        procs::proc_cpu_secs(&self.pid_str())
    }

    fn log_tail(&self) -> String {
        match self {
            BrokerProc::Skiff(p) => p.log_tail(),
            BrokerProc::Kafka(p) => p.log_tail(),
        }
    }

    fn stop(self) -> Result<(), String> {
        match self {
            BrokerProc::Skiff(p) => p.stop(),
            BrokerProc::Kafka(p) => p.stop(),
        }
    }

    fn kill(self) {
        match self {
            BrokerProc::Skiff(p) => p.kill(),
            BrokerProc::Kafka(p) => p.kill(),
        }
    }
}

/// The long-lived broker most scenarios run against (one per peer).
struct MainBroker {
    /// None when the run targets `--bootstrap`.
    proc_: Option<BrokerProc>,
    _dir: Option<tempfile::TempDir>,
    /// Where the partitions live (Kafka: `<dir>/data`).
    data_path: Option<PathBuf>,
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
    idle: Option<Mem>,
    sampler: Option<RssSampler>,
    /// Payload bytes produced to it (for "RSS after N GB written").
    written: u64,
    /// CPU totals over produce and consume scenarios: (broker s, client s, bytes).
    cpu_produce: (f64, f64, u64),
    cpu_consume: (f64, f64, u64),
}

impl MainBroker {
    fn cpu(&self) -> Option<f64> {
        self.proc_.as_ref().and_then(|p| p.cpu_secs())
    }

    fn shutdown(mut self) -> Result<(), String> {
        if let Some(s) = self.sampler.take() {
            s.finish();
        }
        match self.proc_.take() {
            Some(p) => p.stop(),
            None => Ok(()),
        }
    }
}

/// Samples a process's RSS every 20 ms and keeps the maxima.
struct RssSampler {
    stop: Arc<AtomicBool>,
    max_rss: Arc<AtomicU64>,
    max_anon: Arc<AtomicU64>,
    /// Max RSS since the last [`RssSampler::take_window`].
    window_rss: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: String) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max_rss = Arc::new(AtomicU64::new(0));
        let max_anon = Arc::new(AtomicU64::new(0));
        let window_rss = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, max_rss, max_anon, window_rss) = (
                stop.clone(),
                max_rss.clone(),
                max_anon.clone(),
                window_rss.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(m) = procs::proc_mem(&pid) {
                        max_rss.fetch_max(m.rss_kb, Ordering::Relaxed);
                        max_anon.fetch_max(m.anon_kb, Ordering::Relaxed);
                        window_rss.fetch_max(m.rss_kb, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        RssSampler {
            stop,
            max_rss,
            max_anon,
            window_rss,
            thread: Some(thread),
        }
    }

    /// Max RSS (KiB) since the previous call; starts a new window.
    fn take_window(&self) -> u64 {
        self.window_rss.swap(0, Ordering::Relaxed)
    }

    /// (max RSS KiB, max anonymous RSS KiB) seen so far.
    fn peak(&self) -> (u64, u64) {
        (
            self.max_rss.load(Ordering::Relaxed),
            self.max_anon.load(Ordering::Relaxed),
        )
    }

    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A data dir with `partitions` partitions and `bytes` of messages, shared
/// by the startup scenarios (one per peer).
struct StartupData {
    dir: tempfile::TempDir,
    topic: String,
    partitions: i32,
    /// Messages that must be there (acknowledged).
    messages: u64,
    disk_bytes: u64,
}

struct Runner<'a> {
    opts: &'a Options,
    /// The main broker of each peer, indexed by [`Peer::idx`].
    mains: [Option<MainBroker>; 2],
    /// Whether each peer's main broker advertises the consumer-group APIs.
    groups: [Option<bool>; 2],
    startup_data: [Option<StartupData>; 2],
    results: Vec<ScenarioResult>,
}

fn topic_name(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "bench-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn temp_data_dir(tag: &str) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix(&format!("skiff-bench-{tag}-"))
        .tempdir()
        .map_err(|e| format!("create temp dir: {e}"))
}

fn cpu_self() -> f64 {
    procs::proc_cpu_secs("self").unwrap_or(0.0)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Checks a produce run: every message acknowledged, none failed, and the
/// broker's high watermarks account for every message.
fn check_produce(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    count: u64,
    st: &ProduceStats,
    idempotent: bool,
    warmup: bool,
) -> Result<(u64, String), String> {
    if st.failed > 0 || st.delivered != count {
        return Err(format!(
            "{} of {count} acknowledged, {} failed (first error: {})",
            st.delivered,
            st.failed,
            st.first_error.as_deref().unwrap_or("none")
        ));
    }
    // The warm-up message is in the topic too.
    let want = count + u64::from(warmup);
    let stored = clients::total_messages(bootstrap, topic, partitions)?;
    if stored < want || (idempotent && stored != want) {
        return Err(format!(
            "{want} acknowledged but high watermarks sum to {stored}"
        ));
    }
    let note = if stored > want {
        format!("{} duplicates (client retries)", stored - want)
    } else {
        String::new()
    };
    Ok((st.delivered, note))
}

impl<'a> Runner<'a> {
    /// Whether `peer` runs as a local process (Kafka always does; Skiff
    /// unless `--bootstrap`).
    fn local(&self, peer: Peer) -> bool {
        peer == Peer::Kafka || self.opts.bootstrap.is_none()
    }

    /// Max RSS (KiB) of the peer's main broker since the previous call.
    fn rss_window(&self, peer: Peer) -> Option<u64> {
        self.mains[peer.idx()]
            .as_ref()
            .and_then(|m| m.sampler.as_ref())
            .map(|s| s.take_window())
    }

    /// Where the partitions of a broker started on `dir` live.
    fn data_path(peer: Peer, dir: &Path) -> PathBuf {
        match peer {
            Peer::Skiff => dir.to_path_buf(),
            Peer::Kafka => dir.join("data"),
        }
    }

    /// Kafka's launcher writes a config and formats the storage once per
    /// dir (a JVM run of its own, untimed); later starts reuse it.
    fn kafka_prepared(&self, dir: &Path, sets: &[String]) -> Result<(), String> {
        if dir.join("port").exists() {
            if !sets.is_empty() {
                return Err(format!("{} is already configured", dir.display()));
            }
            return Ok(());
        }
        KafkaProc::prepare(&self.opts.kafka_script, dir, &self.opts.kafka_heap, sets).map(|_| ())
    }

    /// Starts a broker of `peer` on `dir` with extra settings (Skiff's
    /// `--set`; Kafka: broker properties, the same keys where they exist).
    fn start_broker(&self, peer: Peer, dir: &Path, sets: &[String]) -> Result<BrokerProc, String> {
        match peer {
            Peer::Skiff => {
                SkiffProc::start(&self.opts.skiff_bin, dir, 0, sets).map(BrokerProc::Skiff)
            }
            Peer::Kafka => {
                self.kafka_prepared(dir, sets)?;
                KafkaProc::start(&self.opts.kafka_script, dir, &self.opts.kafka_heap)
                    .map(|(p, _)| BrokerProc::Kafka(p))
            }
        }
    }

    /// Starts a broker of `peer` on `dir` and times spawn -> first answered
    /// ApiVersions (the same probe for both) and -> ready.
    fn start_timed(&self, peer: Peer, dir: &Path) -> Result<(BrokerProc, StartupTiming), String> {
        match peer {
            Peer::Skiff => SkiffProc::start_timed(&self.opts.skiff_bin, dir, &[])
                .map(|(p, t)| (BrokerProc::Skiff(p), t)),
            Peer::Kafka => {
                self.kafka_prepared(dir, &[])?;
                KafkaProc::start(&self.opts.kafka_script, dir, &self.opts.kafka_heap)
                    .map(|(p, t)| (BrokerProc::Kafka(p), t))
            }
        }
    }

    fn main_broker(&mut self, peer: Peer) -> Result<&mut MainBroker, String> {
        if self.mains[peer.idx()].is_none() {
            let external = match peer {
                Peer::Skiff => self.opts.bootstrap.clone(),
                Peer::Kafka => None,
            };
            let (proc_, dir, bootstrap) = match external {
                Some(b) => (None, None, b),
                None => {
                    let dir = temp_data_dir(&format!("{}-main", peer.tag()))?;
                    let p = self.start_broker(peer, dir.path(), &[])?;
                    let addr = p.addr().to_string();
                    (Some(p), Some(dir), addr)
                }
            };
            // Idle: started, nothing connected yet, let it settle.
            let idle = proc_.as_ref().and_then(|p| {
                std::thread::sleep(Duration::from_millis(500));
                p.mem()
            });
            let sampler = proc_.as_ref().map(|p| RssSampler::start(p.pid_str()));
            let admin = clients::admin(&bootstrap)?;
            let data_path = dir.as_ref().map(|d| Self::data_path(peer, d.path()));
            self.mains[peer.idx()] = Some(MainBroker {
                proc_,
                _dir: dir,
                data_path,
                bootstrap,
                admin,
                idle,
                sampler,
                written: 0,
                cpu_produce: (0.0, 0.0, 0),
                cpu_consume: (0.0, 0.0, 0),
            });
        }
        Ok(self.mains[peer.idx()].as_mut().unwrap())
    }

    fn groups_supported(&mut self, peer: Peer) -> Result<bool, String> {
        if let Some(g) = self.groups[peer.idx()] {
            return Ok(g);
        }
        let bootstrap = self.main_broker(peer)?.bootstrap.clone();
        let apis = procs::api_versions(&bootstrap, Duration::from_secs(10))
            .map_err(|e| format!("ApiVersions to {bootstrap}: {e}"))?;
        let g = procs::has_consumer_groups(&apis);
        self.groups[peer.idx()] = Some(g);
        Ok(g)
    }

    /// Runs `f` for Kafka when it is a peer; `NotApplicable` otherwise.
    fn kafka_side(&mut self, f: impl FnOnce(&mut Self) -> Outcome) -> Outcome {
        if self.opts.kafka {
            f(self)
        } else {
            Outcome::NotApplicable
        }
    }

    fn run_scenario(&mut self, sc: &Scenario) -> Vec<ScenarioResult> {
        let one = |skiff: Outcome, kafka: Outcome, mock: Outcome| {
            vec![ScenarioResult {
                name: sc.name.clone(),
                family: sc.family(),
                skiff,
                mock,
                kafka,
            }]
        };
        let need_local =
            |what: &str| Outcome::Skipped(format!("{what} needs a local broker (not --bootstrap)"));
        match sc.kind.clone() {
            Kind::Produce {
                size,
                count,
                partitions,
                acks,
                compression,
                idempotent,
            } => {
                let job = ProduceJob {
                    topic: String::new(),
                    partitions,
                    count,
                    size,
                    acks,
                    compression,
                    idempotent,
                    warmup: true,
                };
                let skiff = self.broker_produce(Peer::Skiff, &job);
                let kafka = self.kafka_side(|r| r.broker_produce(Peer::Kafka, &job));
                let mock = self.mock_side(|bootstrap, mock| mock_produce(bootstrap, mock, &job));
                one(skiff, kafka, mock)
            }
            Kind::Consume {
                size,
                count,
                partitions,
                group,
            } => {
                let side = |r: &mut Self, peer: Peer| -> Outcome {
                    if group {
                        match r.groups_supported(peer) {
                            Ok(true) => {}
                            Ok(false) => {
                                return Outcome::Skipped(
                                    "skipped: broker has no consumer groups".into(),
                                )
                            }
                            Err(e) => return Outcome::Failed(e),
                        }
                    }
                    r.broker_consume(peer, size, count, partitions, group)
                };
                let skiff = side(self, Peer::Skiff);
                let kafka = self.kafka_side(|r| side(r, Peer::Kafka));
                let mock = if matches!(&skiff, Outcome::Skipped(_)) {
                    // As before: without groups on Skiff there is nothing
                    // to compare the mock with.
                    skiff.clone()
                } else {
                    self.mock_side(|bootstrap, mock| {
                        mock_consume(bootstrap, mock, size, count, partitions, group)
                    })
                };
                one(skiff, kafka, mock)
            }
            Kind::Latency {
                rate,
                count,
                linger0,
            } => {
                let extra: Vec<(&str, &str)> = if linger0 {
                    vec![("linger.ms", "0")]
                } else {
                    Vec::new()
                };
                let skiff = self.broker_latency(Peer::Skiff, rate, count, &extra);
                let kafka = self.kafka_side(|r| r.broker_latency(Peer::Kafka, rate, count, &extra));
                let mock = self.mock_side(|bootstrap, mock| {
                    let topic = topic_name("lat");
                    mock.create_topic(&topic, 1)?;
                    latency_measurement(bootstrap, &topic, rate, count, &extra)
                });
                one(skiff, kafka, mock)
            }
            Kind::Fsync {
                size,
                count,
                partitions,
            } => {
                let skiff = if self.local(Peer::Skiff) {
                    self.broker_fsync(Peer::Skiff, size, count, partitions)
                } else {
                    need_local("fsync")
                };
                let kafka =
                    self.kafka_side(|r| r.broker_fsync(Peer::Kafka, size, count, partitions));
                one(skiff, kafka, Outcome::NotApplicable)
            }
            Kind::StartupEmpty => {
                let skiff = if self.local(Peer::Skiff) {
                    self.startup_empty(Peer::Skiff)
                } else {
                    need_local("startup timing")
                };
                let kafka = self.kafka_side(|r| r.startup_empty(Peer::Kafka));
                one(skiff, kafka, Outcome::NotApplicable)
            }
            Kind::StartupClean { partitions, bytes } => {
                let skiff = if self.local(Peer::Skiff) {
                    self.startup_with_data(Peer::Skiff, partitions, bytes, false)
                } else {
                    need_local("startup timing")
                };
                let kafka =
                    self.kafka_side(|r| r.startup_with_data(Peer::Kafka, partitions, bytes, false));
                one(skiff, kafka, Outcome::NotApplicable)
            }
            Kind::StartupUnclean { partitions, bytes } => {
                let skiff = if self.local(Peer::Skiff) {
                    self.startup_with_data(Peer::Skiff, partitions, bytes, true)
                } else {
                    need_local("startup timing")
                };
                let kafka =
                    self.kafka_side(|r| r.startup_with_data(Peer::Kafka, partitions, bytes, true));
                one(skiff, kafka, Outcome::NotApplicable)
            }
            Kind::Tls { size, count } => self.tls(size, count),
            Kind::ShareConsume { count, consumers } => {
                let skiff = if self.local(Peer::Skiff) {
                    self.share_consume(count, consumers)
                } else {
                    need_local("the share-group bench")
                };
                one(skiff, Outcome::NotApplicable, Outcome::NotApplicable)
            }
            Kind::GroupStable { .. } | Kind::GroupConsume { .. } => {
                let skiff = self.group_scenario(Peer::Skiff, &sc.kind);
                let kafka = self.kafka_side(|r| r.group_scenario(Peer::Kafka, &sc.kind));
                one(skiff, kafka, Outcome::NotApplicable)
            }
            Kind::SchemaLookup { count } => {
                let skiff = if self.local(Peer::Skiff) {
                    self.schema_lookup(count)
                } else {
                    need_local("the schema registry bench")
                };
                one(skiff, Outcome::NotApplicable, Outcome::NotApplicable)
            }
            Kind::Resources { written_target } => {
                let skiff = if self.local(Peer::Skiff) {
                    self.resources(Peer::Skiff, written_target)
                } else {
                    vec![("rss".to_string(), need_local("resource figures"))]
                };
                let kafka = if self.opts.kafka {
                    self.resources(Peer::Kafka, written_target)
                } else {
                    Vec::new()
                };
                // One row per figure name, in Skiff's order, then any that
                // only Kafka has.
                let mut names: Vec<String> = skiff.iter().map(|(n, _)| n.clone()).collect();
                for (n, _) in &kafka {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
                let pick = |v: &[(String, Outcome)], n: &str, absent: Outcome| {
                    v.iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, o)| o.clone())
                        .unwrap_or(absent)
                };
                names
                    .into_iter()
                    .map(|n| ScenarioResult {
                        skiff: pick(&skiff, &n, Outcome::NotApplicable),
                        kafka: pick(&kafka, &n, Outcome::NotApplicable),
                        mock: Outcome::NotApplicable,
                        family: Family::Resources,
                        name: n,
                    })
                    .collect()
            }
        }
    }

    /// Runs `f` against a fresh mock cluster (dropped afterwards, so the
    /// memory of one scenario's data is freed before the next).
    fn mock_side(&self, f: impl FnOnce(&str, &Mock) -> Result<Measurement, String>) -> Outcome {
        if !self.opts.mock {
            return Outcome::Skipped("--no-mock".into());
        }
        let mock = match Mock::start() {
            Ok(m) => m,
            Err(e) => return Outcome::Failed(e),
        };
        let out = f(&mock.bootstrap, &mock);
        drop(mock);
        match out {
            Ok(m) => Outcome::Measured(m),
            Err(e) => Outcome::Failed(e),
        }
    }

    // ----- produce -----

    fn broker_produce(&mut self, peer: Peer, job: &ProduceJob) -> Outcome {
        let res = (|| -> Result<Measurement, String> {
            let main = self.main_broker(peer)?;
            let mut job = job.clone();
            job.topic = topic_name("produce");
            clients::create_topic(&main.admin, &job.topic, job.partitions)?;
            let (b0, c0) = (main.cpu(), cpu_self());
            let st = clients::produce(&main.bootstrap, &job);
            let (b1, c1) = (main.cpu(), cpu_self());
            let st = st?;
            let checked = check_produce(
                &main.bootstrap,
                &job.topic,
                job.partitions,
                job.count,
                &st,
                job.idempotent,
                job.warmup,
            );
            if let Err(e) = clients::delete_topic(&main.admin, &job.topic) {
                eprintln!("[skiff-bench] warning: {e}");
            }
            let (arrived, note) = checked?;
            let bytes = job.count * job.size as u64;
            main.written += bytes;
            let broker_cpu = b0.zip(b1).map(|(a, b)| b - a);
            if let Some(bc) = broker_cpu {
                main.cpu_produce.0 += bc;
                main.cpu_produce.1 += c1 - c0;
                main.cpu_produce.2 += bytes;
            }
            Ok(throughput(
                job.count,
                arrived,
                job.size,
                st.secs,
                broker_cpu,
                Some(c1 - c0),
                note,
            ))
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    // ----- consume -----

    fn broker_consume(
        &mut self,
        peer: Peer,
        size: usize,
        count: u64,
        partitions: i32,
        group: bool,
    ) -> Outcome {
        let res = (|| -> Result<Measurement, String> {
            let main = self.main_broker(peer)?;
            let topic = topic_name("consume");
            clients::create_topic(&main.admin, &topic, partitions)?;
            let out = (|| {
                fill(&main.bootstrap, &topic, partitions, count, size)?;
                main.written += count * size as u64;
                let (b0, c0) = (main.cpu(), cpu_self());
                let st = clients::consume(
                    &main.bootstrap,
                    &topic,
                    partitions,
                    count,
                    size,
                    group,
                    None,
                );
                let (b1, c1) = (main.cpu(), cpu_self());
                Ok::<_, String>((st?, b0.zip(b1).map(|(a, b)| b - a), c1 - c0))
            })();
            if let Err(e) = clients::delete_topic(&main.admin, &topic) {
                eprintln!("[skiff-bench] warning: {e}");
            }
            let (st, broker_cpu, client_cpu) = out?;
            let bytes = count * size as u64;
            if let Some(bc) = broker_cpu {
                main.cpu_consume.0 += bc;
                main.cpu_consume.1 += client_cpu;
                main.cpu_consume.2 += bytes;
            }
            Ok(consume_measurement(
                &st,
                count,
                size,
                group,
                broker_cpu,
                Some(client_cpu),
            ))
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    // ----- latency -----

    fn broker_latency(
        &mut self,
        peer: Peer,
        rate: u64,
        count: u64,
        extra: &[(&str, &str)],
    ) -> Outcome {
        let res = (|| -> Result<Measurement, String> {
            let main = self.main_broker(peer)?;
            let topic = topic_name("lat");
            clients::create_topic(&main.admin, &topic, 1)?;
            let m = latency_measurement(&main.bootstrap, &topic, rate, count, extra);
            if let Err(e) = clients::delete_topic(&main.admin, &topic) {
                eprintln!("[skiff-bench] warning: {e}");
            }
            if m.is_ok() {
                main.written += count * 100;
            }
            m
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    // ----- fsync -----

    /// The same produce (acks=all, no compression) on two fresh brokers:
    /// default flush policy, then `log.flush.interval.messages=1` (a key
    /// Skiff and Kafka share).
    fn broker_fsync(&mut self, peer: Peer, size: usize, count: u64, partitions: i32) -> Outcome {
        let job = ProduceJob {
            topic: String::new(),
            partitions,
            count,
            size,
            acks: "all",
            compression: "none",
            idempotent: false,
            warmup: true,
        };
        let res = (|| -> Result<Measurement, String> {
            let base = self.fresh_produce(peer, &job, &[])?;
            let mut m =
                self.fresh_produce(peer, &job, &["log.flush.interval.messages=1".to_string()])?;
            let ratio = m.msgs_per_s / base.msgs_per_s.max(1e-9);
            m.fields.push((
                "default_flush_msgs_per_s".into(),
                format!("{:.1}", base.msgs_per_s),
            ));
            m.fields
                .push(("vs_default_flush".into(), format!("{ratio:.3}")));
            m.note = format!(
                "{:.0}% of default flush ({:.0} msg/s)",
                ratio * 100.0,
                base.msgs_per_s
            );
            Ok(m)
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    /// Produces `job` to a broker of `peer` started just for it with `sets`.
    fn fresh_produce(
        &self,
        peer: Peer,
        job: &ProduceJob,
        sets: &[String],
    ) -> Result<Measurement, String> {
        let dir = temp_data_dir(&format!("{}-fsync", peer.tag()))?;
        let p = self.start_broker(peer, dir.path(), sets)?;
        let admin = clients::admin(p.addr())?;
        let mut job = job.clone();
        job.topic = topic_name("fsync");
        clients::create_topic(&admin, &job.topic, job.partitions)?;
        let (b0, c0) = (p.cpu_secs(), cpu_self());
        let st = clients::produce(p.addr(), &job)?;
        let (b1, c1) = (p.cpu_secs(), cpu_self());
        let (arrived, note) = check_produce(
            p.addr(),
            &job.topic,
            job.partitions,
            job.count,
            &st,
            false,
            job.warmup,
        )?;
        drop(admin);
        p.stop()?;
        Ok(throughput(
            job.count,
            arrived,
            job.size,
            st.secs,
            b0.zip(b1).map(|(a, b)| b - a),
            Some(c1 - c0),
            note,
        ))
    }

    // ----- startup -----

    /// A fresh Skiff, `count` 100-byte records in one partition, then the
    /// share consumers (see `share.rs`): acquired records per second.
    fn share_consume(&mut self, count: u64, consumers: usize) -> Outcome {
        let res = (|| -> Result<Measurement, String> {
            let dir = temp_data_dir("skiff-share-consume")?;
            let p =
                self.start_broker(Peer::Skiff, dir.path(), &["http.listeners=off".to_string()])?;
            let topic = format!("share-bench-{consumers}c");
            clients::create_topic(&clients::admin(p.addr())?, &topic, 1)?;
            let job = ProduceJob {
                topic: topic.clone(),
                partitions: 1,
                count,
                size: 100,
                acks: "1",
                compression: "none",
                idempotent: false,
                warmup: false,
            };
            let st = clients::produce(p.addr(), &job)?;
            if st.delivered != count {
                return Err(format!("produce: {} of {count} acknowledged", st.delivered));
            }
            let cpu0 = p.cpu_secs();
            let run = share::run(p.addr(), &topic, count, consumers)?;
            let cpu = p.cpu_secs().zip(cpu0).map(|(b, a)| b - a);
            p.stop()?;
            let rate = run.records as f64 / run.secs.max(1e-9);
            // Payload (100 B a record) and wire bytes: a fetch answers with
            // whole batches, so a batch acquired a slice at a time would be
            // sent again with each slice; wire bytes per record shows it.
            let mut fields = vec![
                (
                    "payload_mb_per_s".to_string(),
                    format!(
                        "{:.1}",
                        run.records as f64 * 100.0 / 1e6 / run.secs.max(1e-9)
                    ),
                ),
                (
                    "wire_mb_per_s".to_string(),
                    format!("{:.1}", run.bytes as f64 / 1e6 / run.secs.max(1e-9)),
                ),
                (
                    "wire_bytes_per_record".to_string(),
                    format!("{:.1}", run.bytes as f64 / run.records.max(1) as f64),
                ),
            ];
            if let Some(cpu) = cpu {
                fields.push(("broker_cpu_s".to_string(), format!("{cpu:.2}")));
            }
            Ok(Measurement {
                expected: count,
                arrived: run.records,
                secs: run.secs,
                value: Some(("records_per_s", rate)),
                broker_cpu_s: cpu,
                payload_bytes: run.bytes,
                fields,
                note: format!(
                    "{consumers} raw share consumer(s) on 1 partition: ShareFetch (500 records) + piggybacked ACCEPT"
                ),
                ..Measurement::default()
            })
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    /// A fresh Skiff with the registry on a free port: lookups by id per second.
    fn schema_lookup(&mut self, count: u64) -> Outcome {
        let res = (|| -> Result<Measurement, String> {
            let dir = temp_data_dir("skiff-schema-lookup")?;
            let port = procs::free_port().map_err(|e| format!("no free port: {e}"))?;
            let addr = format!("127.0.0.1:{port}");
            let sets = [
                format!("schema.registry.listeners={addr}"),
                "http.listeners=off".to_string(),
            ];
            let p = self.start_broker(Peer::Skiff, dir.path(), &sets)?;
            let cpu0 = p.cpu_secs();
            let (ok, secs) = schema_lookup::run(&addr, count)?;
            let cpu = p.cpu_secs().zip(cpu0).map(|(b, a)| b - a);
            p.stop()?;
            let rate = ok as f64 / secs.max(1e-9);
            let mut fields = vec![("lookups".to_string(), ok.to_string())];
            if let Some(cpu) = cpu {
                fields.push(("broker_cpu_s".to_string(), format!("{cpu:.2}")));
                fields.push((
                    "req_per_cpu_s".to_string(),
                    format!("{:.0}", ok as f64 / cpu.max(1e-9)),
                ));
            }
            Ok(Measurement {
                expected: count.div_ceil(schema_lookup::CLIENTS) * schema_lookup::CLIENTS,
                arrived: ok,
                secs,
                value: Some(("req_per_s", rate)),
                fields,
                note: "GET /schemas/ids/{id}, 4 keep-alive connections; the registry serves from one thread".into(),
                ..Measurement::default()
            })
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    fn startup_empty(&mut self, peer: Peer) -> Outcome {
        let res = (|| -> Result<Measurement, String> {
            let mut served = Vec::new();
            let mut ready = Vec::new();
            let mut rss = Vec::new();
            for _ in 0..self.opts.startup_runs {
                let dir = temp_data_dir(&format!("{}-startup-empty", peer.tag()))?;
                let (p, t) = self.start_timed(peer, dir.path())?;
                served.push(t.first_served.as_secs_f64() * 1e3);
                ready.push(t.ready_line.as_secs_f64() * 1e3);
                std::thread::sleep(Duration::from_millis(200));
                rss.push(p.mem().map(|m| mb(m.rss_kb)).unwrap_or(0.0));
                p.stop()?;
            }
            Ok(startup_measurement(&served, &ready, &rss, 0, 0, 0))
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    /// Builds (once per peer) a data dir with `partitions` partitions and
    /// `bytes` of 1 KiB messages, written by a broker that then shut down
    /// cleanly.
    fn startup_data(
        &mut self,
        peer: Peer,
        partitions: i32,
        bytes: u64,
    ) -> Result<&mut StartupData, String> {
        if self.startup_data[peer.idx()].is_none() {
            let dir = temp_data_dir(&format!("{}-startup-data", peer.tag()))?;
            let p = self.start_broker(peer, dir.path(), &[])?;
            let topic = topic_name("startup");
            let admin = clients::admin(p.addr())?;
            clients::create_topic(&admin, &topic, partitions)?;
            let count = (bytes / 1024).max(partitions as u64);
            fill(p.addr(), &topic, partitions, count, 1024)?;
            drop(admin);
            p.stop()?;
            let disk_bytes = procs::dir_bytes(&Self::data_path(peer, dir.path()));
            self.startup_data[peer.idx()] = Some(StartupData {
                dir,
                topic,
                partitions,
                messages: count,
                disk_bytes,
            });
        }
        Ok(self.startup_data[peer.idx()].as_mut().unwrap())
    }

    /// Restarts a broker on the shared data dir `startup_runs` times and
    /// times each start. Clean: every run ends with SIGTERM. Unclean: every
    /// timed start follows a SIGKILL of a broker that had just accepted
    /// writes (unflushed tails in every partition). After each start the
    /// high watermarks must account for every acknowledged message.
    fn startup_with_data(
        &mut self,
        peer: Peer,
        partitions: i32,
        bytes: u64,
        unclean: bool,
    ) -> Outcome {
        let runs = self.opts.startup_runs;
        let res = (|| -> Result<Measurement, String> {
            // Built first so that `self` is free again for the starts below.
            self.startup_data(peer, partitions, bytes)?;
            let mut data = self.startup_data[peer.idx()]
                .take()
                .expect("startup data just built");
            let out = self.timed_restarts(peer, &mut data, runs, unclean);
            self.startup_data[peer.idx()] = Some(data);
            out
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }

    fn timed_restarts(
        &self,
        peer: Peer,
        data: &mut StartupData,
        runs: usize,
        unclean: bool,
    ) -> Result<Measurement, String> {
        let dirty = |p: &BrokerProc, data: &mut StartupData| -> Result<(), String> {
            // One small batch into every partition, acks=1: acknowledged,
            // in the page cache, not necessarily flushed.
            let n = data.partitions as u64 * 10;
            let job = ProduceJob {
                topic: data.topic.clone(),
                partitions: data.partitions,
                count: n,
                size: 1024,
                acks: "1",
                compression: "none",
                idempotent: false,
                warmup: false,
            };
            let st = clients::produce(p.addr(), &job)?;
            if st.delivered != n {
                return Err(format!(
                    "dirtying produce: {} of {n} acknowledged",
                    st.delivered
                ));
            }
            data.messages += n;
            Ok(())
        };
        if unclean {
            // Leave the data dir as a crash leaves it.
            let p = self.start_broker(peer, data.dir.path(), &[])?;
            dirty(&p, data)?;
            p.kill();
        }
        let (mut served, mut ready, mut rss) = (Vec::new(), Vec::new(), Vec::new());
        let mut data_ready = Vec::new();
        for _ in 0..runs {
            let (p, t) = self.start_timed(peer, data.dir.path())?;
            served.push(t.first_served.as_secs_f64() * 1e3);
            ready.push(t.ready_line.as_secs_f64() * 1e3);
            // Until every partition answers ListOffsets: Kafka answers
            // requests before it has taken leadership of its partitions
            // (NOT_LEADER_OR_FOLLOWER meanwhile).
            let deadline = Instant::now() + Duration::from_secs(120);
            let stored = loop {
                match clients::total_messages(p.addr(), &data.topic, data.partitions) {
                    Ok(n) => break n,
                    Err(e) if Instant::now() > deadline => {
                        return Err(format!("{e} ({})", p.log_tail()))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            };
            data_ready.push(t.spawned.elapsed().as_secs_f64() * 1e3);
            std::thread::sleep(Duration::from_millis(200));
            rss.push(p.mem().map(|m| mb(m.rss_kb)).unwrap_or(0.0));
            if stored != data.messages {
                return Err(format!(
                    "after restart the high watermarks sum to {stored}, expected {} ({})",
                    data.messages,
                    p.log_tail()
                ));
            }
            if unclean {
                dirty(&p, data)?;
                p.kill();
            } else {
                p.stop()?;
            }
        }
        data.disk_bytes = procs::dir_bytes(&Self::data_path(peer, data.dir.path()));
        let mut m = startup_measurement(
            &served,
            &ready,
            &rss,
            data.partitions,
            data.disk_bytes,
            data.messages,
        );
        m.fields.push((
            "watermarks_readable_ms".into(),
            format!("{:.1}", median(&data_ready)),
        ));
        Ok(m)
    }

    // ----- resources -----

    /// The resource figures of `peer`, by row name.
    fn resources(&mut self, peer: Peer, written_target: u64) -> Vec<(String, Outcome)> {
        let mut out = Vec::new();
        let mut push = |name: &str, o: Outcome| out.push((name.to_string(), o));
        // What must be on disk to run it: the release binary, or the jars
        // on Kafka's classpath (the JDK not counted).
        let size = match peer {
            Peer::Skiff => std::fs::metadata(&self.opts.skiff_bin)
                .map(|md| md.len())
                .map_err(|e| e.to_string()),
            Peer::Kafka => procs::kafka_classpath_bytes(&self.opts.kafka_script),
        };
        match size {
            Ok(b) => {
                let fields = match peer {
                    Peer::Skiff => vec![],
                    Peer::Kafka => vec![("what".into(), "classpath-jars-without-jdk".into())],
                };
                push(
                    "binary-size",
                    Outcome::Measured(value_measurement("mb", b as f64 / MIB as f64, fields)),
                )
            }
            Err(e) => push("binary-size", Outcome::Failed(e)),
        }
        let main = match self.main_broker(peer) {
            Ok(m) => m,
            Err(e) => {
                push("rss", Outcome::Failed(e));
                return out;
            }
        };
        if let Some(idle) = main.idle {
            push(
                "rss-idle",
                Outcome::Measured(value_measurement(
                    "mb",
                    mb(idle.rss_kb),
                    vec![("anon_mb".into(), format!("{:.1}", mb(idle.anon_kb)))],
                )),
            );
        }
        // Top up to the target, into a topic kept on disk while measuring.
        let topup = (|| -> Result<(), String> {
            if main.written >= written_target {
                return Ok(());
            }
            let topic = topic_name("topup");
            clients::create_topic(&main.admin, &topic, 32)?;
            let count = (written_target - main.written).div_ceil(1024);
            fill(&main.bootstrap, &topic, 32, count, 1024)?;
            main.written += count * 1024;
            Ok(())
        })();
        let peak = main.sampler.as_ref().map(|s| s.peak()).unwrap_or((0, 0));
        let now = main.proc_.as_ref().and_then(|p| p.mem());
        match (topup, now) {
            (Err(e), _) => push("rss-after-written", Outcome::Failed(e)),
            (Ok(()), None) => push(
                "rss-after-written",
                Outcome::Failed("no /proc status".into()),
            ),
            (Ok(()), Some(m)) => {
                let (disk, disk_alloc) = main
                    .data_path
                    .as_ref()
                    .map(|d| (procs::dir_bytes(d), procs::dir_alloc_bytes(d)))
                    .unwrap_or((0, 0));
                push(
                    "rss-peak",
                    Outcome::Measured(value_measurement(
                        "mb",
                        mb(peak.0.max(m.hwm_kb)),
                        vec![
                            ("sampled_mb".into(), format!("{:.1}", mb(peak.0))),
                            ("vmhwm_mb".into(), format!("{:.1}", mb(m.hwm_kb))),
                            ("anon_peak_mb".into(), format!("{:.1}", mb(peak.1))),
                        ],
                    )),
                );
                push(
                    "rss-after-written",
                    Outcome::Measured(value_measurement(
                        "mb",
                        mb(m.rss_kb),
                        vec![
                            (
                                "written_gb".into(),
                                format!("{:.2}", main.written as f64 / GIB as f64),
                            ),
                            (
                                "on_disk_mb".into(),
                                format!("{:.0}", disk as f64 / MIB as f64),
                            ),
                            (
                                "allocated_mb".into(),
                                format!("{:.0}", disk_alloc as f64 / MIB as f64),
                            ),
                            ("anon_mb".into(), format!("{:.1}", mb(m.anon_kb))),
                            ("file_mb".into(), format!("{:.1}", mb(m.file_kb))),
                        ],
                    )),
                );
            }
        }
        for (name, (broker, client, bytes)) in [
            ("cpu-per-gb-produce", main.cpu_produce),
            ("cpu-per-gb-consume", main.cpu_consume),
        ] {
            if bytes == 0 {
                push(
                    name,
                    Outcome::Skipped("no scenario of this kind ran".into()),
                );
                continue;
            }
            let gb = bytes as f64 / GIB as f64;
            push(
                name,
                Outcome::Measured(value_measurement(
                    "broker_cpu_s_per_gb",
                    broker / gb,
                    vec![
                        ("client_cpu_s_per_gb".into(), format!("{:.3}", client / gb)),
                        (
                            "broker_vs_client".into(),
                            if client > 0.0 {
                                format!("{:.3}", broker / client)
                            } else {
                                "n/a".into()
                            },
                        ),
                        ("payload_gb".into(), format!("{gb:.3}")),
                    ],
                )),
            );
        }
        out
    }
}

// ---------------------------------------------------------------------------
// The reference peer
// ---------------------------------------------------------------------------

/// librdkafka's in-memory mock cluster (one broker), owned by an idle
/// client created with `test.mock.num.brokers=1`: that way, unlike with
/// `MockCluster::new`, the bench can reach the cluster handle and set the
/// group's initial rebalance delay to 0 (the mock's default is Kafka's
/// 3000 ms, Skiff's is 0), so group joins are compared like for like.
/// Dropping it destroys the cluster and frees its data.
struct Mock {
    holder: BaseProducer,
    bootstrap: String,
}

impl Mock {
    fn start() -> Result<Mock, String> {
        let holder: BaseProducer = ClientConfig::new()
            .set("test.mock.num.brokers", "1")
            .set("log_level", "3")
            .create()
            .map_err(|e| format!("start mock cluster: {e}"))?;
        let bootstrap = holder
            .client()
            .mock_cluster()
            .ok_or("client has no mock cluster")?
            .bootstrap_servers();
        // SAFETY: `native_ptr` is the live handle owned by `holder`, which
        // was created with test.mock.num.brokers, so librdkafka returns its
        // mock cluster (checked for null); the setter only enqueues a
        // command to the mock's thread and keeps no pointer we pass.
        unsafe {
            let mc = rdkafka::bindings::rd_kafka_handle_mock_cluster(holder.client().native_ptr());
            if mc.is_null() {
                return Err("librdkafka returned no mock cluster handle".into());
            }
            rdkafka::bindings::rd_kafka_mock_group_initial_rebalance_delay_ms(mc, 0);
        }
        Ok(Mock { holder, bootstrap })
    }

    fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), String> {
        self.holder
            .client()
            .mock_cluster()
            .ok_or("client has no mock cluster")?
            .create_topic(topic, partitions, 1)
            .map_err(|e| format!("mock create topic {topic}: {e}"))
    }
}

// ---------------------------------------------------------------------------
// Side-independent pieces
// ---------------------------------------------------------------------------

/// Untimed setup: `count` messages of `size` bytes, acks=1, round-robin
/// over the partitions, every one acknowledged.
fn fill(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    count: u64,
    size: usize,
) -> Result<(), String> {
    let job = ProduceJob {
        topic: topic.to_string(),
        partitions,
        count,
        size,
        acks: "1",
        compression: "none",
        idempotent: false,
        warmup: false,
    };
    let st = clients::produce(bootstrap, &job)?;
    if st.delivered != count || st.failed > 0 {
        return Err(format!(
            "setup produce: {} of {count} acknowledged ({})",
            st.delivered,
            st.first_error.unwrap_or_default()
        ));
    }
    Ok(())
}

fn throughput(
    expected: u64,
    arrived: u64,
    size: usize,
    secs: f64,
    broker_cpu: Option<f64>,
    client_cpu: Option<f64>,
    note: String,
) -> Measurement {
    let secs = secs.max(1e-9);
    Measurement {
        expected,
        arrived,
        secs,
        msgs_per_s: arrived as f64 / secs,
        mb_per_s: arrived as f64 * size as f64 / secs / 1e6,
        broker_cpu_s: broker_cpu,
        client_cpu_s: client_cpu,
        payload_bytes: arrived * size as u64,
        note,
        ..Default::default()
    }
}

fn mock_produce(bootstrap: &str, mock: &Mock, job: &ProduceJob) -> Result<Measurement, String> {
    let mut job = job.clone();
    job.topic = topic_name("produce");
    mock.create_topic(&job.topic, job.partitions)?;
    let st = clients::produce(bootstrap, &job)?;
    let (arrived, note) = check_produce(
        bootstrap,
        &job.topic,
        job.partitions,
        job.count,
        &st,
        job.idempotent,
        job.warmup,
    )?;
    Ok(throughput(
        job.count, arrived, job.size, st.secs, None, None, note,
    ))
}

fn mock_consume(
    bootstrap: &str,
    mock: &Mock,
    size: usize,
    count: u64,
    partitions: i32,
    group: bool,
) -> Result<Measurement, String> {
    let topic = topic_name("consume");
    mock.create_topic(&topic, partitions)?;
    fill(bootstrap, &topic, partitions, count, size)?;
    // The mock keeps only the last 5 MiB of each partition (hard-coded in
    // librdkafka's rdkafka_mock.c): read that window until it has yielded
    // as many messages as Skiff was asked for.
    let window = clients::watermarks(bootstrap, &topic, partitions)?;
    let retained: i64 = window.iter().map(|(lo, hi)| hi - lo).sum();
    let wraps = retained < count as i64;
    let st = clients::consume(
        bootstrap,
        &topic,
        partitions,
        count,
        size,
        group,
        wraps.then_some(&window[..]),
    )?;
    let mut m = consume_measurement(&st, count, size, group, None, None);
    if wraps {
        m.fields
            .push(("retained_msgs".into(), retained.to_string()));
        let note = format!("re-read its {retained}-message window");
        m.note = if m.note.is_empty() {
            note
        } else {
            format!("{}, {note}", m.note)
        };
    }
    Ok(m)
}

/// Consume throughput. With a group, the rate is taken from the first to
/// the last message, so the join (FindCoordinator, JoinGroup, SyncGroup,
/// OffsetFetch) is reported separately (`join_ms`) instead of diluting it.
fn consume_measurement(
    st: &clients::ConsumeStats,
    count: u64,
    size: usize,
    group: bool,
    broker_cpu: Option<f64>,
    client_cpu: Option<f64>,
) -> Measurement {
    let secs = if group { st.steady_secs } else { st.secs };
    let mut m = throughput(
        count,
        st.received,
        size,
        secs,
        broker_cpu,
        client_cpu,
        String::new(),
    );
    if group {
        m.fields
            .push(("join_ms".into(), format!("{:.1}", st.first_msg_secs * 1e3)));
        m.note = format!("join {:.0} ms not counted", st.first_msg_secs * 1e3);
    }
    m
}

fn latency_measurement(
    bootstrap: &str,
    topic: &str,
    rate: u64,
    count: u64,
    extra: &[(&str, &str)],
) -> Result<Measurement, String> {
    let st = clients::latency(bootstrap, topic, rate, count, extra)?;
    Ok(Measurement {
        expected: count,
        arrived: st.received,
        secs: st.received as f64 / st.msgs_per_s.max(1e-9),
        msgs_per_s: st.msgs_per_s,
        mb_per_s: st.msgs_per_s * 100.0 / 1e6,
        latency_ms: Some(st.p_ms),
        payload_bytes: st.received * 100,
        fields: vec![("max_ms".into(), format!("{:.3}", st.max_ms))],
        ..Default::default()
    })
}

fn startup_measurement(
    served_ms: &[f64],
    ready_ms: &[f64],
    rss_mb: &[f64],
    partitions: i32,
    disk_bytes: u64,
    messages: u64,
) -> Measurement {
    let min = served_ms.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = served_ms.iter().cloned().fold(0.0, f64::max);
    let mut fields = vec![
        ("min_ms".into(), format!("{min:.1}")),
        ("max_ms".into(), format!("{max:.1}")),
        ("ready_line_ms".into(), format!("{:.1}", median(ready_ms))),
        ("rss_mb".into(), format!("{:.1}", median(rss_mb))),
        ("runs".into(), served_ms.len().to_string()),
    ];
    if partitions > 0 {
        fields.push(("partitions".into(), partitions.to_string()));
        fields.push((
            "data_mb".into(),
            format!("{:.0}", disk_bytes as f64 / MIB as f64),
        ));
    }
    Measurement {
        expected: messages,
        arrived: messages,
        value: Some(("ms", median(served_ms))),
        fields,
        note: format!(
            "median of {} starts, min {min:.1} max {max:.1} ms, RSS {:.1} MB",
            served_ms.len(),
            median(rss_mb)
        ),
        ..Default::default()
    }
}

fn value_measurement(unit: &'static str, v: f64, fields: Vec<(String, String)>) -> Measurement {
    Measurement {
        value: Some((unit, v)),
        fields,
        ..Default::default()
    }
}
