//! `skiff-bench`: Skiff against librdkafka's in-memory mock cluster and
//! (with `--peer kafka`) real Apache Kafka, every scenario side by side,
//! with the ratios Skiff/Kafka and Skiff/mock.
//!
//! ```text
//! cargo bench --bench skiff-bench                        # everything, full scale
//! cargo bench --bench skiff-bench -- --scale 0.01        # a quick look
//! cargo bench --bench skiff-bench -- --scenarios produce-100b,latency --scale 0.1
//! cargo bench --bench skiff-bench -- --peer kafka       # also real Apache Kafka
//! cargo bench --bench skiff-bench -- --list
//! ```
//!
//! A bench target with `harness = false`, so rdkafka stays a dev-dependency
//! and out of the broker binary. `cargo bench` builds `target/release/skiff`
//! (the bench profile inherits release) and this program starts it on an
//! ephemeral port with a temporary data dir. The scenario logic lives in
//! `bench_lib/`, shared with the smoke test in `compat-tests/bench_smoke.rs`.

#[path = "bench_lib/mod.rs"]
mod bench_lib;

use std::path::PathBuf;
use std::process::ExitCode;

fn default_out_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("skiff-bench"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/skiff-bench"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let defaults = bench_lib::Options::new(PathBuf::from(env!("CARGO_BIN_EXE_skiff")));
    let mut opts = match defaults.parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if opts.help {
        print!("{}", bench_lib::USAGE);
        return ExitCode::SUCCESS;
    }
    if opts.list {
        for s in bench_lib::catalog(opts.scale) {
            println!("{}", s.name);
        }
        return ExitCode::SUCCESS;
    }
    if opts.bootstrap.is_none() && !opts.skiff_bin.exists() {
        eprintln!(
            "broker binary {} not found: run `cargo build --release` first (or pass --skiff-bin)",
            opts.skiff_bin.display()
        );
        return ExitCode::from(2);
    }
    if opts.out_dir.is_none() {
        opts.out_dir = Some(default_out_dir());
    }
    let report = match bench_lib::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skiff-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.text());
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    if report.failures().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
