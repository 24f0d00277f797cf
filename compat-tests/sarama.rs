//! sarama 1.22 (the legacy Go client of issue 11) against the real binary:
//! the Go program in `compat-tests/clients/sarama/` prints `PASS <name>` /
//! `FAIL <name>: reason`. sarama 1.22's offset manager commits with
//! OffsetCommit v1 whatever `config.Version` says, a version Kafka 4.0
//! removed (KIP-896); a group consumer closing (commit) and a default-config
//! offset manager marking an offset must both work and read back. With its
//! default config (Version 0.8.2) sarama also produces with Produce v0
//! (message format v0) and fetches with Fetch v0, both read back exactly.
//!
//! Built with `go build -mod=readonly` from the committed go.mod/go.sum (the
//! first build downloads the modules through the Go proxy); without `go` the
//! test skips, and under `CI=true` it fails. Real Kafka 4.x refuses
//! OffsetCommit v1, so against an external broker the test prints SKIP.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

/// A first build downloads sarama and its dependencies (~1 min on 2 cores).
const BUILD_LIMIT: Duration = Duration::from_secs(300);
/// Both scenarios take a few seconds; each bounds its own waits (30 s, 20 s).
const RUN_LIMIT: Duration = Duration::from_secs(90);

fn go_installed() -> bool {
    Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn sarama_1_22_commits_with_offset_commit_v1() {
    if skip_if_external("Kafka 4.x removed OffsetCommit v1 (KIP-896), which sarama 1.22 uses") {
        return;
    }
    if !go_installed() {
        let reason = "go is not installed (see compat-tests/clients/README.md)";
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs it"
        );
        eprintln!("SKIP: {reason}");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients/sarama");
    let bin_s = build_go_program(&dir, "sarama", BUILD_LIMIT);

    let broker = Broker::start();
    let bootstrap = format!("SKIFF_BOOTSTRAP={}", broker.bootstrap());
    let out = run_cmd("env", &[&bootstrap, &bin_s], b"", RUN_LIMIT);
    eprintln!("sarama:\n{}", out.stdout);
    if !out.status.success() {
        broker.print_log();
        panic!(
            "sarama failed ({}):\n{}\n{}",
            out.status, out.stdout, out.stderr
        );
    }
    assert!(
        out.stdout.contains("PASS"),
        "sarama ran no scenario:\n{}",
        out.stdout
    );
    assert!(!out.stdout.contains("FAIL"), "sarama:\n{}", out.stdout);
    assert!(
        !broker
            .log_lines()
            .iter()
            .any(|l| l.contains("is not served")),
        "the broker refused a version sarama sent"
    );
}
