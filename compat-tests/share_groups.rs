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
pub(crate) fn classpath() -> Option<String> {
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
fn share_group_starts_at_the_latest_offset_by_default() {
    run_one("latest-default", &[]);
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

/// Bad input over the wire answers Kafka's error codes; with
/// `group.share.enable=false` the share APIs are not advertised.
#[test]
fn share_protocol_errors_and_the_enable_switch() {
    use kafka_protocol::messages::share_fetch_request::{
        AcknowledgementBatch, FetchPartition, FetchTopic,
    };
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::ResponseError;

    if skip_if_external("starts a broker with share groups disabled") {
        return;
    }
    let s = |v: &str| StrBytes::from_string(v.to_string());
    let broker = Broker::start();
    let topic = unique_topic("share-proto");
    run(create_topic(&broker, &topic, 1));
    let mut raw = RawClient::connect(&broker.bootstrap());
    let versions = raw.api_versions();
    assert_eq!(versions.get(&76), Some(&(1, 1)), "ShareGroupHeartbeat");
    assert_eq!(versions.get(&77), Some(&(1, 1)), "ShareGroupDescribe");
    assert_eq!(versions.get(&78), Some(&(1, 2)), "ShareFetch");
    assert_eq!(versions.get(&79), Some(&(1, 2)), "ShareAcknowledge");

    let group = GroupId(s(&format!("{topic}-g")));
    let hb = |member: &str, epoch: i32, topics: Option<Vec<TopicName>>| {
        ShareGroupHeartbeatRequest::default()
            .with_group_id(group.clone())
            .with_member_id(s(member))
            .with_member_epoch(epoch)
            .with_subscribed_topic_names(topics)
    };
    let r = raw.call(&hb("m1", 5, None), 1);
    assert_eq!(r.error_code, ResponseError::UnknownMemberId.code());
    let r = raw.call(&hb("m1", 0, None), 1);
    assert_eq!(
        r.error_code,
        ResponseError::InvalidRequest.code(),
        "join without topics"
    );
    let r = raw.call(&hb("", 0, Some(vec![topic_name(&topic)])), 1);
    assert_eq!(
        r.error_code,
        ResponseError::InvalidRequest.code(),
        "empty member id"
    );
    let joined = raw.call(&hb("m1", 0, Some(vec![topic_name(&topic)])), 1);
    assert_eq!(joined.error_code, 0);
    assert_eq!(joined.member_epoch, 1);
    let assignment = joined.assignment.expect("an assignment on join");
    let topic_id = assignment.topic_partitions[0].topic_id;
    assert_eq!(assignment.topic_partitions[0].partitions, vec![0]);
    let r = raw.call(&hb("m1", 7, None), 1);
    assert_eq!(r.error_code, ResponseError::FencedMemberEpoch.code());

    let described = raw.call(
        &ShareGroupDescribeRequest::default()
            .with_group_ids(vec![group.clone(), GroupId(s("no-such-share-group"))]),
        1,
    );
    assert_eq!(described.groups[0].error_code, 0);
    assert_eq!(described.groups[0].group_state.as_str(), "Stable");
    assert_eq!(described.groups[0].assignor_name.as_str(), "simple");
    assert_eq!(
        described.groups[1].error_code,
        ResponseError::GroupIdNotFound.code()
    );

    let fetch = |epoch: i32, acks: Vec<AcknowledgementBatch>| {
        ShareFetchRequest::default()
            .with_group_id(Some(group.clone()))
            .with_member_id(Some(s("m1")))
            .with_share_session_epoch(epoch)
            .with_max_records(10)
            .with_topics(vec![FetchTopic::default()
                .with_topic_id(topic_id)
                .with_partitions(vec![FetchPartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(acks)])])
    };
    let r = raw.call(&fetch(3, vec![]), 2);
    assert_eq!(r.error_code, ResponseError::ShareSessionNotFound.code());
    let ack = AcknowledgementBatch::default()
        .with_first_offset(0)
        .with_last_offset(0)
        .with_acknowledge_types(vec![1]);
    let r = raw.call(&fetch(0, vec![ack.clone()]), 2);
    assert_eq!(
        r.error_code,
        ResponseError::InvalidRequest.code(),
        "acks in the opening fetch"
    );
    let r = raw.call(&fetch(0, vec![]), 2);
    assert_eq!(r.error_code, 0);
    let r = raw.call(&fetch(2, vec![]), 2);
    assert_eq!(r.error_code, ResponseError::InvalidShareSessionEpoch.code());
    // Acknowledging a record never acquired.
    let r = raw.call(&fetch(1, vec![ack]), 2);
    assert_eq!(r.error_code, 0);
    assert_eq!(
        r.responses[0].partitions[0].acknowledge_error_code,
        ResponseError::InvalidRecordState.code()
    );
    let r = raw.call(
        &ShareAcknowledgeRequest::default()
            .with_group_id(Some(group.clone()))
            .with_member_id(Some(s("m1")))
            .with_share_session_epoch(0),
        2,
    );
    assert_eq!(r.error_code, ResponseError::InvalidShareSessionEpoch.code());

    // DeleteGroups: refused while the member is in, done once it left.
    let delete = DeleteGroupsRequest::default().with_groups_names(vec![group.clone()]);
    let r = raw.call(&delete, 2);
    assert_eq!(r.results[0].error_code, ResponseError::NonEmptyGroup.code());
    let listed = raw.call(
        &ListGroupsRequest::default().with_types_filter(vec![s("share")]),
        5,
    );
    assert!(listed.groups.iter().any(|g| g.group_id == group
        && g.group_type.as_str() == "share"
        && g.group_state.as_str() == "Stable"));
    assert_eq!(raw.call(&hb("m1", -1, None), 1).member_epoch, -1);
    let r = raw.call(&delete, 2);
    assert_eq!(r.results[0].error_code, 0);
    let described = raw.call(
        &ShareGroupDescribeRequest::default().with_group_ids(vec![group.clone()]),
        1,
    );
    assert_eq!(
        described.groups[0].error_code,
        ResponseError::GroupIdNotFound.code()
    );

    let disabled = Broker::start_with(&[("group.share.enable", "false")]);
    let mut raw = RawClient::connect(&disabled.bootstrap());
    let versions = raw.api_versions();
    for key in (76..=79).chain(90..=92) {
        assert!(
            !versions.contains_key(&key),
            "api {key} advertised while disabled"
        );
    }
}

/// The Admin client's listShareGroupOffsets / alterShareGroupOffsets /
/// deleteShareGroupOffsets (APIs 90-92).
#[test]
fn share_admin_client_lists_alters_and_deletes_share_group_offsets() {
    run_one("admin-offsets", &[]);
}
