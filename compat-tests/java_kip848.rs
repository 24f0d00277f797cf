//! KIP-848 (`group.protocol=consumer`) cases with the stock Java client
//! (kafka-clients 4.1), beside the two-member case in the Java suite: three
//! members, a partition added by createPartitions, a broker-side regex
//! subscription (`SubscriptionPattern`) picking up a topic created later, and
//! a broker restart the members ride through with their member epochs kept.
//! Each case is a run of `Kip848Groups` (compat-tests/clients/java) against a
//! broker of its own with a 500 ms consumer heartbeat interval.

use std::process::Command;
use std::time::Duration;

use crate::harness::*;
use crate::java_client::{classpath, have_java};

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
    let mut run = ProgramRun::new("skiff-java-kip848-");
    let mut cmd = Command::new("java");
    cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&classpath)
        .arg("dev.skiff.compat.Kip848Groups")
        .arg(scenario)
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .env("SKIFF_RESTART_DIR", run.path())
        .env("SKIFF_JAVA_CLIENT_LOG", run.path().join("client.log"));
    run.spawn(cmd);
    let restarted = restart && run.restart_when_asked(&mut broker, RUN_LIMIT);
    let out = run.finish(RUN_LIMIT);
    println!("{}", out.stdout);
    if !out.passed(&[&format!("kip848-{scenario}")]) || restarted != restart {
        broker.print_log();
        panic!(
            "Kip848Groups {scenario} ({:?}, restarted {restarted}):\nstdout:\n{}\nstderr:\n{}",
            out.status, out.stdout, out.stderr
        );
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
