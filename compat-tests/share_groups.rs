//! Share groups (KIP-932) with the stock Java `KafkaShareConsumer`
//! (kafka-clients 4.2, the first release where share groups are
//! production-ready): the Maven project in `compat-tests/clients/share/`
//! runs one scenario per invocation against a broker of its own: two
//! consumers sharing one partition, release/reject, the delivery count
//! limit, acquisition lock expiry, and acknowledgements surviving a restart.
//!
//! Without `java` and `mvn` the tests print `SKIP: ...`; under `CI=true`
//! they fail instead.

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::java_client::{build_project, runs, wait_limit};

const KAFKA_CLIENTS: &str = "4.2.2";
const MAIN_CLASS: &str = "dev.skiff.share.ShareGroupCompat";
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The classpath of the built program, or None to skip.
fn classpath() -> Option<String> {
    if !runs("java", "-version") || !runs("mvn", "-v") {
        let reason =
            "java or mvn is not installed (the share-group suite needs a JDK 17+ and Maven)";
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs them"
        );
        eprintln!("SKIP: {reason}");
        return None;
    }
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients/share");
    let build_dir = build_project(&project, KAFKA_CLIENTS);
    let deps = fs::read_to_string(build_dir.join("classpath.txt")).expect("read classpath.txt");
    Some(format!(
        "{}:{}",
        build_dir.join("classes").display(),
        deps.trim()
    ))
}

/// Runs one scenario; panics with its output unless it printed `PASS`.
fn scenario(broker: &Broker, classpath: &str, name: &str, topic: &str, group: &str) -> String {
    let out_dir = tempfile::Builder::new()
        .prefix("skiff-share-")
        .tempdir()
        .expect("create a temp dir");
    let stdout_path = out_dir.path().join("stdout.txt");
    let stderr_path = out_dir.path().join("stderr.txt");
    let started = Instant::now();
    let mut child = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(classpath)
        .arg(MAIN_CLASS)
        .args([name, topic, group])
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run java: {e}"));
    let status = wait_limit(&mut child, RUN_LIMIT);
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    println!("{name}: {:.1} s\n{stdout}", started.elapsed().as_secs_f64());
    // The client's own WARN/ERROR lines, for review; an unsupported API or
    // version fails the scenario.
    for line in stderr
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
    {
        println!("CLIENT-LOG {line}");
    }
    let unsupported = stderr
        .lines()
        .find(|l| l.contains("UnsupportedVersion") || l.contains("does not support"));
    assert!(
        unsupported.is_none(),
        "{name}: the client found an unsupported API: {unsupported:?}"
    );
    let passed =
        status.is_some_and(|s| s.success()) && stdout.lines().any(|l| l == format!("PASS {name}"));
    if !passed {
        broker.print_log();
        panic!("share scenario {name} failed ({status:?}):\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
    stdout
}

fn run_one(name: &str, sets: &[(&str, &str)]) {
    if skip_if_external("starts brokers with share-group settings") {
        return;
    }
    let Some(cp) = classpath() else { return };
    let broker = Broker::start_with(sets);
    let topic = unique_topic(&format!("share-{name}"));
    scenario(&broker, &cp, name, &topic, &format!("{topic}-group"));
}

#[test]
fn share_two_consumers_on_one_partition_both_receive_and_none_twice() {
    run_one("two-consumers", &[]);
}

#[test]
fn share_released_record_is_redelivered_and_rejected_is_not() {
    run_one("release-reject", &[]);
}

#[test]
fn share_delivery_count_limit_archives_the_record() {
    run_one(
        "delivery-limit",
        &[("group.share.delivery.count.limit", "2")],
    );
}

#[test]
fn share_lock_expiry_redelivers() {
    run_one(
        "lock-expiry",
        &[
            ("group.share.record.lock.duration.ms", "2000"),
            ("group.share.min.record.lock.duration.ms", "1000"),
            ("group.share.delivery.count.limit", "10"),
        ],
    );
}

#[test]
fn share_acknowledged_records_survive_a_restart() {
    if skip_if_external("restarts the broker") {
        return;
    }
    let Some(cp) = classpath() else { return };
    let mut broker = Broker::start();
    let topic = unique_topic("share-restart");
    let group = format!("{topic}-group");
    scenario(&broker, &cp, "restart-before", &topic, &group);
    broker.restart();
    scenario(&broker, &cp, "restart-after", &topic, &group);
    // And once more after a SIGKILL: nothing accepted comes back.
    broker.kill();
    broker.restart();
    scenario(&broker, &cp, "restart-after-kill", &topic, &group);
}
