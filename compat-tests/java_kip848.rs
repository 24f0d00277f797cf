//! KIP-848 (`group.protocol=consumer`) cases with the stock Java client
//! (kafka-clients 4.1), beside the two-member case in the Java suite: three
//! members, a partition added by createPartitions, a broker-side regex
//! subscription (`SubscriptionPattern`) picking up a topic created later, and
//! a broker restart the members ride through with their member epochs kept.
//! Each case is a run of `Kip848Groups` (compat-tests/clients/java) against a
//! broker of its own with a 500 ms consumer heartbeat interval.

use std::fs::{self, File};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::java_client::{classpath, have_java, wait_limit};

const RUN_LIMIT: Duration = Duration::from_secs(150);

/// Runs `Kip848Groups <scenario>`; with `restart`, restarts the broker
/// (same data dir and port) when the program asks for it by writing `stop`
/// in its restart dir, and tells it by writing `started`.
fn kip848(scenario: &str, restart: bool) {
    if skip_if_external("sets group.consumer.* keys and restarts the broker") || !have_java() {
        return;
    }
    let classpath = classpath("4.1.1");
    let mut broker = Broker::start_with(&[
        ("group.consumer.heartbeat.interval.ms", "500"),
        ("group.consumer.min.heartbeat.interval.ms", "500"),
    ]);
    let dir = tempfile::Builder::new()
        .prefix("skiff-java-kip848-")
        .tempdir()
        .expect("create a temp dir");
    let stdout_path = dir.path().join("stdout.txt");
    let stderr_path = dir.path().join("stderr.txt");
    let mut child = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&classpath)
        .arg("dev.skiff.compat.Kip848Groups")
        .arg(scenario)
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .env("SKIFF_RESTART_DIR", dir.path())
        .env("SKIFF_JAVA_CLIENT_LOG", dir.path().join("client.log"))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run java: {e}"));
    let started = Instant::now();
    let restarted = restart && restart_when_asked(&mut broker, dir.path(), &mut child, RUN_LIMIT);
    let status = wait_limit(&mut child, RUN_LIMIT.saturating_sub(started.elapsed()));
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    println!("{stdout}");
    let passed = status.is_some_and(|s| s.success())
        && stdout
            .lines()
            .any(|l| l.starts_with(&format!("PASS kip848-{scenario} ")))
        && !stdout.lines().any(|l| l.starts_with("FAIL"))
        && restarted == restart;
    if !passed {
        broker.print_log();
        panic!("Kip848Groups {scenario} ({status:?}, restarted {restarted}):\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
}

#[test]
fn java_kip848_three_members() {
    kip848("three-members", false);
}

#[test]
fn java_kip848_new_partition() {
    kip848("new-partition", false);
}

#[test]
fn java_kip848_regex_subscription() {
    kip848("regex", false);
}

#[test]
fn java_kip848_broker_restart() {
    kip848("restart", true);
}
