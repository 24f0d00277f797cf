//! Confluent's Java `KafkaAvroSerializer` / `KafkaAvroDeserializer`
//! (`io.confluent:kafka-avro-serializer`) against Skiff's broker and
//! built-in Schema Registry: the Maven project in
//! `compat-tests/clients/java-avro/` produces Avro records (the serializer
//! registers the schema) and reads them back (the deserializer fetches it
//! by the id in each message).
//!
//! io.confluent artifacts are not on Maven Central; they are fetched from
//! Confluent's own repository, which the machines this suite runs on may not
//! reach. The test first probes for the artifact with a short bound (under
//! 20 s when the repository is unreachable) and, if it cannot be fetched,
//! prints `SKIP: ...` and returns. That skip holds under `CI=true` too: the
//! issue (14) asks for this test only "if it can be fetched (it is not on
//! Maven Central; skip with a clear message if not)". A missing java or mvn
//! still fails under CI, as everywhere in this suite.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{self, unique_topic};
use crate::java_client::{build_project, runs, wait_limit};
use crate::schema_registry::start;

const KAFKA_VERSION: &str = "4.1.1";
/// Keep in step with `confluent.version` in the project's pom.xml.
const SERIALIZER_VERSION: &str = "8.1.0";
const CONFLUENT_REPOSITORY: &str = "https://packages.confluent.io/maven/";
/// The probe's bound: an unreachable repository must not hold the suite.
const PROBE_LIMIT: Duration = Duration::from_secs(20);
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients/java-avro")
}

/// Whether the serializer's jar is in the local Maven repository already, or
/// can be fetched from Confluent's repository within [`PROBE_LIMIT`].
fn serializer_fetchable() -> bool {
    let home = std::env::var("HOME").unwrap_or_default();
    let jar = Path::new(&home).join(format!(
        ".m2/repository/io/confluent/kafka-avro-serializer/{v}/kafka-avro-serializer-{v}.jar",
        v = SERIALIZER_VERSION
    ));
    if jar.exists() {
        return true;
    }
    // Not inside the project (dependency:get needs none), so only the one
    // artifact is asked for; no retries, short socket timeouts.
    let dir = tempfile::tempdir().expect("create a temp dir");
    let log = dir.path().join("probe.log");
    let started = Instant::now();
    let child = Command::new("mvn")
        .current_dir(dir.path())
        .args([
            "-B",
            "-q",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get",
            &format!("-Dartifact=io.confluent:kafka-avro-serializer:{SERIALIZER_VERSION}"),
            "-Dtransitive=false",
            &format!("-DremoteRepositories=confluent::default::{CONFLUENT_REPOSITORY}"),
            "-Daether.connector.connectTimeout=5000",
            "-Daether.connector.requestTimeout=8000",
            "-Dmaven.wagon.rto=8000",
            "-Dmaven.wagon.http.retryHandler.count=0",
        ])
        .stdin(Stdio::null())
        .stdout(File::create(&log).expect("create the probe log"))
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let ok = wait_limit(&mut child, PROBE_LIMIT).is_some_and(|s| s.success());
    if !ok {
        let why = fs::read_to_string(&log).unwrap_or_default();
        let first = why
            .lines()
            .find(|l| l.contains("ERROR"))
            .unwrap_or("no answer within the bound");
        eprintln!(
            "probe for io.confluent:kafka-avro-serializer:{SERIALIZER_VERSION} failed after {:.1} s: {first}",
            started.elapsed().as_secs_f64()
        );
    }
    ok
}

#[test]
fn java_kafka_avro_serializer_round_trip() {
    if harness::skip_if_external("the schema registry is Skiff's own") {
        return;
    }
    if !runs("java", "-version") || !runs("mvn", "-v") {
        let reason = "java or mvn is not installed (the Java Avro serializer test needs them)";
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs them"
        );
        eprintln!("SKIP: {reason}");
        return;
    }
    if !serializer_fetchable() {
        // Sanctioned by issue 14's text even under CI=true (see the module doc).
        println!(
            "SKIP: io.confluent:kafka-avro-serializer cannot be fetched (not on Maven Central, packages.confluent.io unreachable)"
        );
        return;
    }
    let build_dir = build_project(&project_dir(), KAFKA_VERSION);
    let classpath =
        fs::read_to_string(build_dir.join("classpath.txt")).expect("read classpath.txt");
    let classpath = format!(
        "{}:{}",
        build_dir.join("classes").display(),
        classpath.trim()
    );
    let Some((broker, registry)) = start(&[]) else {
        return;
    };
    let out = tempfile::tempdir().expect("create a temp dir");
    let stdout_path = out.path().join("stdout.txt");
    let stderr_path = out.path().join("stderr.txt");
    let topic = unique_topic("java-avro");
    let mut child = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&classpath)
        .arg("dev.skiff.compat.AvroRoundTrip")
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .env("SKIFF_SCHEMA_REGISTRY", format!("http://{registry}"))
        .env("SKIFF_TOPIC", &topic)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run java: {e}"));
    let status = wait_limit(&mut child, RUN_LIMIT);
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    println!("{stdout}");
    let passed = status.is_some_and(|s| s.success())
        && stdout
            .lines()
            .any(|l| l.starts_with("PASS java-avro-round-trip"));
    if !passed {
        broker.print_log();
        panic!("AvroRoundTrip ({status:?}):\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
    // The serializer registered the schema under Confluent's subject name.
    let (s, versions) = crate::schema_registry::call(
        &registry,
        "GET",
        &format!("/subjects/{topic}-value/versions"),
        None,
    );
    assert_eq!(
        (s, versions),
        (200, serde_json::json!([1])),
        "subject {topic}-value"
    );
}
