//! Smoke run of `skiff-bench` (benches/skiff_bench.rs) so it cannot rot:
//! the same scenario code, at a tiny scale (a few thousand messages),
//! against the real broker binary and the librdkafka mock cluster.
//!
//! Benchmarks are not tests: nothing here looks at a timing. The test only
//! asserts that the run completes and that every message arrived (the bench
//! checks delivery reports, high watermarks, contiguous offsets and
//! per-partition counts in every scenario and records a mismatch as a
//! failure).

#[path = "../benches/bench_lib/mod.rs"]
mod bench_lib;

use std::path::PathBuf;

use bench_lib::{Family, Outcome};

use crate::harness;

#[test]
fn bench_smoke_every_message_arrives() {
    let out = tempfile::Builder::new()
        .prefix("skiff-bench-smoke-")
        .tempdir()
        .expect("temp dir");
    let mut opts = bench_lib::Options::new(PathBuf::from(env!("CARGO_BIN_EXE_skiff")));
    // 1M x 100 B becomes 2,000 messages, 200k x 1 KiB becomes 400; startup
    // data 2 MiB; latency runs 200 messages per rate.
    opts.scale = 0.002;
    opts.startup_runs = 1;
    opts.out_dir = Some(out.path().to_path_buf());
    opts.bootstrap = harness::external_bootstrap();

    let report = bench_lib::run(&opts).unwrap_or_else(|e| panic!("skiff-bench run failed: {e}"));
    // Captured by the test runner; shown when the test fails.
    println!("{}", report.text());

    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "scenarios failed:\n{}",
        failures.join("\n")
    );

    // Every scenario of the catalog produced a result, and the Skiff side
    // of every message-moving scenario was actually run.
    for sc in bench_lib::catalog(opts.scale) {
        if sc.family() == Family::Resources {
            continue; // reported under several names (rss-*, cpu-*)
        }
        // A scenario reports one row of its name, or several named
        // `<name>-...` (`tls`: one per direction and protocol).
        let rows: Vec<_> = report
            .results
            .iter()
            .filter(|r| r.name == sc.name || r.name.starts_with(&format!("{}-", sc.name)))
            .collect();
        assert!(!rows.is_empty(), "no result for {}", sc.name);
        for r in rows {
            let skipped_for_groups =
                matches!(&r.skiff, Outcome::Skipped(why) if why.contains("consumer groups"));
            // The TLS rows start a broker of their own, as the fsync and startup ones.
            let external_only = opts.bootstrap.is_some()
                && (matches!(r.family, Family::Fsync | Family::Startup)
                    || r.name.starts_with("tls-"));
            if !skipped_for_groups && !external_only {
                let m = r.skiff.measured().unwrap_or_else(|| {
                    panic!("{}: Skiff side not measured: {:?}", r.name, r.skiff)
                });
                assert_eq!(m.arrived, m.expected, "{}: messages that arrived", r.name);
                if matches!(
                    r.family,
                    Family::Produce | Family::Consume | Family::Latency
                ) {
                    assert!(m.expected > 0, "{}: nothing was sent", r.name);
                    // The TLS rows compare protocols on Skiff; the mock has no TLS listener.
                    if !r.name.starts_with("tls-") {
                        let mock = r.mock.measured().unwrap_or_else(|| {
                            panic!("{}: mock side not measured: {:?}", r.name, r.mock)
                        });
                        assert_eq!(
                            mock.arrived, mock.expected,
                            "{}: messages that arrived at the mock",
                            r.name
                        );
                    }
                }
            }
        }
    }

    // The report files were written.
    for f in ["results.txt", "throughput.svg", "latency.svg"] {
        let p = out.path().join(f);
        let body = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!body.is_empty(), "{} is empty", p.display());
    }
    let text = std::fs::read_to_string(out.path().join("results.txt")).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("RESULT scenario=produce-100b-p32-acksall-none ")),
        "results.txt has no RESULT line for produce-100b-p32-acksall-none"
    );
}
