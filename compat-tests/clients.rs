//! Clients in other languages against the real binary: the self-checking
//! scripts in `compat-tests/clients/` (kafka-python, aiokafka, confluent-kafka,
//! kafkajs), each run against its own broker. `.ci/run` installs the clients;
//! elsewhere a missing client skips its test with the reason, and under
//! `CI=true` it fails instead, so CI cannot silently stop covering them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

const SCRIPT_LIMIT: Duration = Duration::from_secs(150);

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients")
}

/// Whether `program args` runs successfully (used to probe for installed clients).
fn probe(program: &str, args: &[&str], node_path: &str) -> bool {
    Command::new(program)
        .args(args)
        .env("NODE_PATH", node_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_script(name: &str, program: &str, script: &str, probe_args: &[&str]) {
    let node_path = clients_dir().join("js/node_modules");
    let node_path = node_path.to_string_lossy().to_string();
    if !probe(program, probe_args, &node_path) {
        let reason = format!("{name} is not installed (see compat-tests/clients/README.md)");
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs it"
        );
        eprintln!("SKIP: {reason}");
        return;
    }
    let broker = Broker::start();
    let script = clients_dir().join(script);
    let bootstrap = format!("SKIFF_BOOTSTRAP={}", broker.bootstrap());
    let node_env = format!("NODE_PATH={node_path}");
    let out = run_cmd(
        "env",
        &[&bootstrap, &node_env, program, &script.to_string_lossy()],
        b"",
        SCRIPT_LIMIT,
    );
    if !out.status.success() {
        broker.print_log();
        panic!(
            "{name} failed ({}):\n{}\n{}",
            out.status, out.stdout, out.stderr
        );
    }
    assert!(
        out.stdout.contains("PASS"),
        "{name} ran no scenario:\n{}",
        out.stdout
    );
    assert!(!out.stdout.contains("FAIL"), "{name}:\n{}", out.stdout);
}

#[test]
fn kafka_python() {
    run_script(
        "kafka-python",
        "python3",
        "python/kafka_python_test.py",
        &["-c", "import kafka, lz4, zstandard, snappy"],
    );
}

#[test]
fn aiokafka() {
    run_script(
        "aiokafka",
        "python3",
        "python/aiokafka_test.py",
        &["-c", "import aiokafka"],
    );
}

#[test]
fn confluent_kafka() {
    run_script(
        "confluent-kafka",
        "python3",
        "python/confluent_kafka_test.py",
        &["-c", "import confluent_kafka"],
    );
}

#[test]
fn kafkajs() {
    run_script(
        "kafkajs",
        "node",
        "js/kafkajs_test.js",
        &["-e", "require('kafkajs')"],
    );
}
