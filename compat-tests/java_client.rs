//! The stock Apache Kafka Java client (`org.apache.kafka:kafka-clients`)
//! against the real binary: the Maven project in `compat-tests/clients/java/`
//! runs its scenarios (producer defaults and every codec, subscribe/assign
//! consumers, commits, seeks, timestamps, read_committed, the AdminClient
//! calls, transactions with fencing and consume-transform-produce) against a
//! broker of its own, once with kafka-clients 4.1 and once with 3.9.
//!
//! Each version builds into its own directory (`target/kafka-<version>/`),
//! built only when missing or older than the sources. The first build
//! downloads from Maven Central; builds are serialized (one lock file for all
//! versions and processes), because concurrent Maven runs share `~/.m2`.
//! The program checks the client's own log too: a WARN/ERROR about an
//! unsupported API or version fails it, and every WARN/ERROR line is printed
//! (`CLIENT-LOG ...`) for review.
//!
//! The same project's `SecureRoundTrip` program does a produce + consume
//! round trip over SASL_SSL with SCRAM-SHA-512 and over SSL with a client
//! certificate (mTLS), PEM trust and key stores as Kafka accepts them; the
//! broker's authorizer admits only the expected principal, so a pass proves
//! the principal the broker derived.
//!
//! `GroupMigration` runs KIP-848's online migration with Java members of
//! both protocols in one group (see [`java_client_group_migration`]).
//!
//! Without `java` and `mvn` the tests print `SKIP: ...`; under `CI=true` they
//! fail instead (`.ci/run` installs both).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::harness::*;

/// Limit for the whole scenario run of one version (it takes ~40 s alone).
const RUN_LIMIT: Duration = Duration::from_secs(150);
/// Limit for one Maven build; the first one downloads the client and plugins.
const BUILD_LIMIT: Duration = Duration::from_secs(900);
const MAIN_CLASS: &str = "dev.skiff.compat.JavaClientCompat";

/// Serializes Maven builds within this process (the lock file does across
/// processes; `File::lock` gives no exclusion between threads of one process
/// holding separate handles on every platform, so both are taken).
static BUILD_LOCK: Mutex<()> = Mutex::new(());

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients/java")
}

pub(crate) fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Newest modification time of `path` and, for a directory, everything in it.
fn newest_mtime(path: &Path) -> SystemTime {
    let own = fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    match fs::read_dir(path) {
        Ok(entries) => entries
            .flatten()
            .map(|e| newest_mtime(&e.path()))
            .fold(own, SystemTime::max),
        Err(_) => own,
    }
}

/// Waits for `child` up to `limit`; kills it on timeout (returns None).
pub(crate) fn wait_limit(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Builds the project for `version` unless its build is newer than every
/// source (the marker file is written after a successful build); returns
/// the build directory (with `classes/` and `classpath.txt`).
fn build(version: &str) -> PathBuf {
    build_project(&project_dir(), version)
}

/// Builds the Maven project in `project` (a pom with the `kafka.version`
/// and `build.dir` properties, as `clients/java` and `clients/share`) for
/// `version`; see [`build`].
pub(crate) fn build_project(project: &Path, version: &str) -> PathBuf {
    let project = project.to_path_buf();
    let build_dir = project.join("target").join(format!("kafka-{version}"));
    // Written by this driver after a successful build (Maven leaves an
    // unchanged classpath.txt untouched, so its mtime says nothing).
    let marker = build_dir.join("built-by-cargo-test");
    let sources = newest_mtime(&project.join("pom.xml")).max(newest_mtime(&project.join("src")));
    let up_to_date = |marker: &Path| {
        fs::metadata(marker)
            .and_then(|m| m.modified())
            .is_ok_and(|built| built >= sources)
    };
    if up_to_date(&marker) {
        return build_dir;
    }
    let _serial = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    fs::create_dir_all(project.join("target")).expect("create the Java target dir");
    let lock =
        File::create(project.join("target/.maven-build.lock")).expect("create the build lock");
    lock.lock().expect("lock the Maven build");
    // Another test or process may have built it while we waited.
    if up_to_date(&marker) {
        return build_dir;
    }
    let log_path = project.join("target").join(format!("build-{version}.log"));
    let log = File::create(&log_path).expect("create the build log");
    let started = Instant::now();
    let mut child = Command::new("mvn")
        .args(["-B", "-q", "-f"])
        .arg(project.join("pom.xml"))
        .arg(format!("-Dkafka.version={version}"))
        .arg(format!("-Dbuild.dir={}", build_dir.display()))
        .arg("package")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the build log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run mvn: {e}"));
    let status = wait_limit(&mut child, BUILD_LIMIT);
    let output = fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(s) if s.success() && build_dir.join("classpath.txt").exists() => {
            fs::write(&marker, version).expect("write the build marker");
            eprintln!(
                "built the Java client suite for kafka-clients {version} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            build_dir
        }
        Some(s) => panic!("mvn package for kafka-clients {version} failed ({s}):\n{output}"),
        None => panic!("mvn package for kafka-clients {version} did not finish within {BUILD_LIMIT:?}:\n{output}"),
    }
}

/// Builds the suite for `version` and returns the `java -cp` argument: its
/// classes and the client's runtime classpath.
pub(crate) fn classpath(version: &str) -> String {
    let build_dir = build(version);
    let deps = fs::read_to_string(build_dir.join("classpath.txt")).expect("read classpath.txt");
    format!("{}:{}", build_dir.join("classes").display(), deps.trim())
}

/// Whether java and mvn are there (SKIP, or a failure under CI, otherwise).
pub(crate) fn have_java() -> bool {
    if !runs("java", "-version") || !runs("mvn", "-v") {
        let reason =
            "java or mvn is not installed (the Java client suite needs a JDK 17+ and Maven)";
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs them"
        );
        eprintln!("SKIP: {reason}");
        return false;
    }
    true
}

fn java_client(version: &str) {
    if !have_java() {
        return;
    }
    let classpath = classpath(version);

    let broker = Broker::start();
    let out_dir = tempfile::Builder::new()
        .prefix("skiff-java-client-")
        .tempdir()
        .expect("create a temp dir");
    let stdout_path = out_dir.path().join("stdout.txt");
    let stderr_path = out_dir.path().join("stderr.txt");
    let started = Instant::now();
    let mut child = Command::new("java")
        // A short run: the C1 compiler alone starts faster and is enough.
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&classpath)
        .arg(MAIN_CLASS)
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .env("SKIFF_JAVA_CLIENT_LOG", out_dir.path().join("client.log"))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run java: {e}"));
    let status = wait_limit(&mut child, RUN_LIMIT);
    let elapsed = started.elapsed();
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    // Shown with --nocapture, and on failure: the scenario lines and every
    // WARN/ERROR the client logged.
    println!("{stdout}");
    eprintln!(
        "kafka-clients {version}: scenarios ran in {:.1} s",
        elapsed.as_secs_f64()
    );
    let Some(status) = status else {
        broker.print_log();
        panic!("kafka-clients {version}: the suite did not finish within {RUN_LIMIT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    };
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    if !status.success() || !failed.is_empty() {
        broker.print_log();
        panic!(
            "kafka-clients {version} failed ({status}):\n{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            failed.join("\n")
        );
    }
    let passed = stdout.lines().filter(|l| l.starts_with("PASS")).count();
    assert!(
        passed > 1,
        "kafka-clients {version} ran no scenario:\n{stdout}\n{stderr}"
    );
}

/// KIP-848 online migration with the Java client (`GroupMigration`): classic
/// members, consumer-protocol members joining (upgrade), the classic ones
/// leaving, the last consumer-protocol member leaving (downgrade), a
/// consumer-protocol member joining the empty classic group; assignments,
/// group types and states checked with the Admin, no record lost, committed
/// offsets carried over each conversion. Its broker has a 500 ms consumer
/// heartbeat interval, so each step settles in a few heartbeats. The
/// classic members use the client's default assignors (range first: eager,
/// they give up everything before each rejoin).
#[test]
fn java_client_group_migration() {
    group_migration(None);
}

/// The same with cooperative-sticky classic members: they keep their
/// partitions across a rejoin and report them as owned in JoinGroup, so the
/// broker revokes through the assignments it hands back.
#[test]
fn java_client_group_migration_cooperative() {
    group_migration(Some("cooperative"));
}

/// Runs `GroupMigration` (with `variant` as its argument) against a broker
/// of its own; fails with the broker log unless it passes.
fn group_migration(variant: Option<&str>) {
    if skip_if_external("sets group.consumer.* keys") || !have_java() {
        return;
    }
    let classpath = classpath("4.1.1");
    let broker = Broker::start_with(&[
        ("group.consumer.heartbeat.interval.ms", "500"),
        ("group.consumer.min.heartbeat.interval.ms", "500"),
    ]);
    let mut run = ProgramRun::new("skiff-java-migration-");
    let mut cmd = Command::new("java");
    cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&classpath)
        .arg("dev.skiff.compat.GroupMigration")
        .args(variant)
        .env("SKIFF_BOOTSTRAP", broker.bootstrap())
        .env("SKIFF_JAVA_CLIENT_LOG", run.path().join("client.log"));
    run.spawn(cmd);
    let out = run.finish(Duration::from_secs(240));
    println!("{}", out.stdout);
    let scenario = match variant {
        Some(v) => format!("group-migration-{v}"),
        None => "group-migration".to_string(),
    };
    if !out.passed(&[&scenario]) {
        broker.print_log();
        panic!(
            "GroupMigration ({:?}):\nstdout:\n{}\nstderr:\n{}",
            out.status, out.stdout, out.stderr
        );
    }
}

#[test]
fn java_client_4_1() {
    java_client("4.1.1");
}

#[test]
fn java_client_3_9() {
    java_client("3.9.2");
}

/// The principal of `skiff dev-certs`' client certificate.
const CLIENT_CERT_PRINCIPAL: &str = "User:CN=client,O=Skiff";

/// Runs `SecureRoundTrip` (kafka-clients 4.1) against `bootstrap` with the
/// client settings `props`; fails the test with the broker log on FAIL.
fn secure_round_trip(broker: &Broker, bootstrap: &str, props: &str) {
    let classpath = classpath("4.1.1");
    let dir = tempfile::Builder::new()
        .prefix("skiff-java-secure-")
        .tempdir()
        .expect("create a temp dir");
    let props_path = dir.path().join("client.properties");
    fs::write(&props_path, props).expect("write client.properties");
    let stdout_path = dir.path().join("stdout.txt");
    let stderr_path = dir.path().join("stderr.txt");
    let mut child = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&classpath)
        .arg("dev.skiff.compat.SecureRoundTrip")
        .env("SKIFF_BOOTSTRAP", bootstrap)
        .env("SKIFF_CLIENT_PROPS", &props_path)
        .env("SKIFF_TOPIC", unique_topic("java-secure"))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("create stdout file"))
        .stderr(File::create(&stderr_path).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run java: {e}"));
    let status = wait_limit(&mut child, Duration::from_secs(90));
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    println!("{stdout}");
    let passed = status.is_some_and(|s| s.success())
        && stdout
            .lines()
            .any(|l| l.starts_with("PASS secure round trip"));
    if !passed {
        broker.print_log();
        panic!(
            "SecureRoundTrip ({status:?}) over {bootstrap}:\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
}

/// A broker with PLAINTEXT, SSL (client certificate required) and SASL_SSL
/// (SCRAM-SHA-512, user alice from the config) listeners and the authorizer
/// on, where only `super_user` may do anything; its certificates and
/// listener addresses.
fn secure_broker(
    super_user: &str,
) -> Option<(
    Broker,
    tempfile::TempDir,
    std::collections::HashMap<String, String>,
)> {
    if skip_if_external("starts a broker with TLS and SASL listeners") || !have_java() {
        return None;
    }
    let certs = crate::security::dev_certs();
    let ks = certs.path().join("broker.pem").display().to_string();
    let ca = certs.path().join("ca.crt").display().to_string();
    let broker = Broker::start_with(&[
        (
            "listeners",
            "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
        ),
        ("ssl.keystore.location", &ks),
        ("ssl.truststore.location", &ca),
        ("listener.name.ssl.ssl.client.auth", "required"),
        ("sasl.users", "alice:alice-secret"),
        ("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
        (
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        ),
        ("super.users", super_user),
    ]);
    let addrs = crate::security::listener_addrs(&broker);
    Some((broker, certs, addrs))
}

/// The principal the broker derived passed the authorizer; User:ANONYMOUS
/// on the PLAINTEXT listener does not (the authorizer is really on).
fn anonymous_is_denied(broker: &Broker, plaintext: &str) {
    let mut raw = RawClient::connect(plaintext);
    let md = raw.call(
        &kafka_protocol::messages::MetadataRequest::default().with_topics(None),
        12,
    );
    assert!(
        md.topics.is_empty(),
        "User:ANONYMOUS sees topics: {:?}",
        md.topics
    );
    let v = raw.pick_version(kafka_protocol::messages::ApiKey::Produce, 9);
    let topic = unique_topic("java-anon");
    let req = produce_request(&topic, 0, encode_batch(&[b"x"], None), -1);
    let (code, _) = produce_result(&raw.call(&req, v));
    if code != 29 {
        broker.fail(&format!("anonymous produce: error {code}, want 29"));
    }
}

#[test]
fn java_client_sasl_ssl_scram() {
    let Some((broker, certs, addrs)) = secure_broker("User:alice") else {
        return;
    };
    let props = format!(
        "security.protocol=SASL_SSL\n\
         sasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"alice-secret\";\n\
         ssl.truststore.type=PEM\n\
         ssl.truststore.location={}\n",
        certs.path().join("ca.crt").display()
    );
    secure_round_trip(&broker, &addrs["SASL_SSL"], &props);
    anonymous_is_denied(&broker, &addrs["PLAINTEXT"]);
}

#[test]
fn java_client_mtls() {
    let Some((broker, certs, addrs)) = secure_broker(CLIENT_CERT_PRINCIPAL) else {
        return;
    };
    let props = format!(
        "security.protocol=SSL\n\
         ssl.truststore.type=PEM\n\
         ssl.truststore.location={}\n\
         ssl.keystore.type=PEM\n\
         ssl.keystore.location={}\n",
        certs.path().join("ca.crt").display(),
        certs.path().join("client.pem").display()
    );
    secure_round_trip(&broker, &addrs["SSL"], &props);
    anonymous_is_denied(&broker, &addrs["PLAINTEXT"]);
    // And the broker names the certificate's subject as the principal.
    assert!(broker
        .log_lines()
        .iter()
        .any(|l| l.contains("listener=SSL") && l.contains("principal=User:CN=client,O=Skiff")));
}
