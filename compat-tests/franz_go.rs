//! franz-go (kgo, kadm and raw kmsg requests) against the real binary: the Go
//! program in `compat-tests/clients/go/` runs its scenarios concurrently
//! against one broker and prints `PASS <name>` / `FAIL <name>: reason`.
//!
//! franz-go negotiates the newest version of every API the broker
//! advertises, and its `raw-every-advertised-version` scenario sends one
//! request of every advertised API at every advertised version, so this test
//! is the check that Skiff serves what it advertises.
//!
//! The program is built with `go build -mod=readonly` from the committed
//! go.mod/go.sum (the first build downloads the modules through the Go
//! proxy); without `go` the test skips, and under `CI=true` it fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A first build downloads the modules and compiles franz-go (~1 min on 2
/// cores); later builds hit the Go build cache and take a second or two.
const BUILD_LIMIT: Duration = Duration::from_secs(300);
/// The scenarios run concurrently and take a few seconds; each has its own
/// 60 s limit inside the program.
const RUN_LIMIT: Duration = Duration::from_secs(90);

fn go_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients/go")
}

fn go_installed() -> bool {
    Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The built program, or None (skip) without `go` outside CI.
fn franz_go_program() -> Option<String> {
    if !go_installed() {
        let reason = "go is not installed (see compat-tests/clients/README.md)";
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs it"
        );
        eprintln!("SKIP: {reason}");
        return None;
    }
    // Once per test process: the three tests run in parallel, and a second
    // `go build -o` over a binary another test is running fails.
    static BIN: OnceLock<String> = OnceLock::new();
    Some(
        BIN.get_or_init(|| build_go_program(&go_dir(), "franzgo", BUILD_LIMIT))
            .clone(),
    )
}

#[test]
fn franz_go() {
    let Some(bin_s) = franz_go_program() else {
        return;
    };

    let broker = Broker::start();
    let bootstrap = format!("SKIFF_BOOTSTRAP={}", broker.bootstrap());
    // Against the reference peer (real Kafka via SKIFF_TEST_BOOTSTRAP) the
    // every-advertised-version probe reports Kafka's own gaps as NOTE lines
    // (it advertises share-group APIs it refuses, closes DescribeAcls without
    // an authorizer) instead of failing: that promise is Skiff's.
    let reference = format!(
        "FRANZGO_REFERENCE={}",
        if broker.is_external() { "1" } else { "" }
    );
    let started = Instant::now();
    let out = run_cmd("env", &[&bootstrap, &reference, &bin_s], b"", RUN_LIMIT);
    eprintln!(
        "franz-go: scenarios ran in {:?}\n{}",
        started.elapsed(),
        out.stdout
    );
    if !out.status.success() {
        broker.print_log();
        panic!(
            "franz-go failed ({}):\n{}\n{}",
            out.status, out.stdout, out.stderr
        );
    }
    assert!(
        out.stdout.contains("PASS"),
        "franz-go ran no scenario:\n{}",
        out.stdout
    );
    assert!(!out.stdout.contains("FAIL"), "franz-go:\n{}", out.stdout);
}

/// Runs kip848.go's scenarios against a broker of their own with a 500 ms
/// consumer heartbeat interval (each reconciliation step a heartbeat away);
/// with `restart`, restarts it when the program asks ([`ProgramRun::restart_when_asked`]).
fn franz_go_kip848(scenarios: &[&str], restart: bool) {
    if skip_if_external("sets group.consumer.* keys and restarts the broker") {
        return;
    }
    let Some(bin_s) = franz_go_program() else {
        return;
    };
    let mut broker = Broker::start_with(&[
        ("group.consumer.heartbeat.interval.ms", "500"),
        ("group.consumer.min.heartbeat.interval.ms", "500"),
    ]);
    let mut run = ProgramRun::new("skiff-franzgo-kip848-");
    let mut cmd = Command::new(&bin_s);
    cmd.args(scenarios)
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .env("SKIFF_RESTART_DIR", run.path());
    run.spawn(cmd);
    let restarted = restart && run.restart_when_asked(&mut broker, RUN_LIMIT);
    let out = run.finish(RUN_LIMIT);
    eprintln!("franz-go KIP-848:\n{}", out.stdout);
    if !out.passed(scenarios) || restarted != restart {
        broker.print_log();
        panic!(
            "franz-go {scenarios:?} ({:?}, restarted {restarted}):\nstdout:\n{}\nstderr:\n{}",
            out.status, out.stdout, out.stderr
        );
    }
}

#[test]
fn franz_go_kip848_groups() {
    franz_go_kip848(
        &[
            "kip848-three-members",
            "kip848-new-partition",
            "kip848-regex",
        ],
        false,
    );
}

#[test]
fn franz_go_kip848_broker_restart() {
    franz_go_kip848(&["kip848-restart"], true);
}
