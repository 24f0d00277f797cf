//! `kafka-share-groups.sh` (org.apache.kafka.tools.consumer.group.ShareGroupCommand)
//! from the Apache Kafka 4.2.2 jars, the first release whose tool and Admin
//! client speak the share APIs at the versions Skiff serves (4.1's are the
//! preview), against the real `skiff` binary. A stock Java
//! `KafkaShareConsumer` (compat-tests/clients/share, scenario `tools-hold`)
//! takes every record, releases one and accepts the rest, and stays in the
//! group; the tool's tables are checked against what it consumed:
//! --list (plain and with --state), --describe (the offsets view with the
//! lag of DescribeShareGroupOffsets v1, --members, --state, each with
//! --verbose), --reset-offsets (--to-earliest, --to-latest, --to-datetime;
//! --dry-run and --execute; refused while the consumer is in), and
//! --delete-offsets and --delete once it left.
//!
//! As in kafka_tools.rs, any ERROR or exception line the tool prints fails
//! the test: against Kafka the same commands print none.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_protocol::messages::{GroupId, ShareGroupDescribeRequest};
use kafka_protocol::protocol::StrBytes;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::harness::*;
use crate::java_client::wait_limit;
use crate::kafka_tools::Tools;

const SHARE_GROUPS: &str = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";
const TOOLS_VERSION: &str = "4.2.2";
const T: Duration = Duration::from_secs(60);
/// 2026-01-01T00:00:00Z: the records carry timestamps from here on, so
/// --to-datetime has fixed answers.
const BASE_TS_MS: i64 = 1_767_225_600_000;

/// The Java consumer of scenario `tools-hold`, running in the background.
struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Holder {
    fn start(classpath: &str, broker: &Broker, topic: &str, group: &str, want: usize) -> Holder {
        let mut child = Command::new("java")
            .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
            .arg(classpath)
            .arg("dev.skiff.share.ShareGroupCompat")
            .args(["tools-hold", topic, group])
            .env("SKIFF_BOOTSTRAP", broker.bootstrap())
            .env("SKIFF_WANT", want.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run java: {e}"));
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        for (pipe, prefix) in [
            (Box::new(stdout) as Box<dyn std::io::Read + Send>, ""),
            (Box::new(stderr), "STDERR "),
        ] {
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{prefix}{line}"));
                }
            });
        }
        let stdin = child.stdin.take();
        Holder {
            child,
            stdin,
            lines,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits for a stdout line equal to `want`.
    fn await_line(&mut self, want: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.lines().iter().any(|l| l == want) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the share consumer exited ({status}):\n{}",
                    self.lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no {want:?} from the share consumer:\n{}",
            self.lines().join("\n")
        );
    }

    /// Closes its stdin: the consumer leaves the group and exits.
    fn finish(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let status = wait_limit(&mut self.child, T);
        let lines = self.lines();
        assert!(
            status.is_some_and(|s| s.success()) && lines.iter().any(|l| l == "PASS tools-hold"),
            "the share consumer failed ({status:?}):\n{}",
            lines.join("\n")
        );
        lines
    }
}

/// The whitespace-separated cells of every table row that starts with `first`.
fn rows<'a>(out: &'a str, first: &str) -> Vec<Vec<&'a str>> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.first() == Some(&first))
        .collect()
}

/// Member ids and epochs of the group, by ShareGroupDescribe.
fn members(broker: &Broker, group: &str) -> Vec<(String, i32)> {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let r = raw.call(
        &ShareGroupDescribeRequest::default()
            .with_group_ids(vec![GroupId(StrBytes::from_string(group.to_string()))]),
        1,
    );
    r.groups[0]
        .members
        .iter()
        .map(|m| (m.member_id.to_string(), m.member_epoch))
        .collect()
}

#[test]
fn kafka_share_groups_tool_lists_describes_resets_and_deletes() {
    if skip_if_external("reads the consumer's member id from the broker") {
        return;
    }
    let Some(share_cp) = crate::share_groups::classpath() else {
        return;
    };
    let broker = Broker::start();
    let Some(tools) = Tools::of_version(&broker, TOOLS_VERSION) else {
        return;
    };
    let topic = unique_topic("share-tools");
    let group = format!("{topic}-g");
    // Old timestamps must not be deleted by retention.
    run(create_topic_with(
        &broker,
        &topic,
        2,
        &[("retention.ms", "-1")],
    ));
    // Partition 0: offsets 0-9 at 00:00:00..09; partition 1: 0-3 at 00:00:03..06.
    let p: BaseProducer = producer_config(&broker, &[]).create().expect("producer");
    for (partition, count, first_second) in [(0, 10, 0), (1, 4, 3)] {
        for i in 0..count {
            p.send(
                BaseRecord::<(), _>::to(&topic)
                    .partition(partition)
                    .payload(&format!("v{i}"))
                    .timestamp(BASE_TS_MS + (first_second + i) * 1000),
            )
            .map_err(|(e, _)| e)
            .expect("send");
        }
    }
    p.flush(T).expect("flush");

    let mut holder = Holder::start(&share_cp, &broker, &topic, &group, 14);
    holder.await_line("HOLDING", Duration::from_secs(90));
    let consumed: Vec<(i32, i64)> = holder
        .lines()
        .iter()
        .filter_map(|l| {
            let mut it = l.strip_prefix("CONSUMED ")?.split(' ');
            Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(consumed.len(), 14, "{consumed:?}");
    let member = members(&broker, &group);
    assert_eq!(member.len(), 1, "{member:?}");
    let (member_id, member_epoch) = member[0].clone();

    // --list, and with --state.
    let out = tools.ok(SHARE_GROUPS, &["--list"], b"");
    assert!(out.stdout.lines().any(|l| l == group), "{}", out.stdout);
    let out = tools.ok(SHARE_GROUPS, &["--list", "--state", "Stable"], b"");
    assert_eq!(rows(&out.stdout, "GROUP"), vec![vec!["GROUP", "STATE"]]);
    assert!(
        rows(&out.stdout, &group).contains(&vec![group.as_str(), "Stable"]),
        "{}",
        out.stdout
    );

    // The offsets view. Partition 0: offset 0 released (start 0), 1-9
    // accepted: lag 10 - 0 - 9 = 1. Partition 1: all accepted: start 4, lag 0.
    let out = tools.ok(SHARE_GROUPS, &["--describe", "--group", &group], b"");
    assert_eq!(
        rows(&out.stdout, &group),
        vec![
            vec![group.as_str(), topic.as_str(), "0", "0", "1"],
            vec![group.as_str(), topic.as_str(), "1", "4", "0"],
        ],
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("START-OFFSET") && out.stdout.contains("LAG"));
    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--verbose"],
        b"",
    );
    assert!(out.stdout.contains("LEADER-EPOCH"), "{}", out.stdout);
    assert_eq!(
        rows(&out.stdout, &group),
        vec![
            vec![group.as_str(), topic.as_str(), "0", "0", "0", "1"],
            vec![group.as_str(), topic.as_str(), "1", "0", "4", "0"],
        ],
        "{}",
        out.stdout
    );

    // --members: the consumer (client.id = the group id) holds both partitions.
    let assignment = format!("{topic}:0,1");
    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--members"],
        b"",
    );
    let member_rows = rows(&out.stdout, &group);
    assert_eq!(member_rows.len(), 1, "{}", out.stdout);
    let r = &member_rows[0];
    assert_eq!(r[1], member_id, "{}", out.stdout);
    assert!(r[2].contains("127.0.0.1"), "host: {}", out.stdout);
    assert_eq!(
        (r[3], r[4], r[5]),
        (group.as_str(), "2", assignment.as_str())
    );
    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--members", "--verbose"],
        b"",
    );
    assert!(out.stdout.contains("MEMBER-EPOCH"), "{}", out.stdout);
    let r = &rows(&out.stdout, &group)[0];
    let epoch = member_epoch.to_string();
    assert_eq!(
        (r[1], r[4], r[5], r[6]),
        (member_id.as_str(), "2", epoch.as_str(), assignment.as_str()),
        "{}",
        out.stdout
    );

    // --state: coordinator, state, members (and the epochs with --verbose).
    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--state"],
        b"",
    );
    let r = &rows(&out.stdout, &group)[0];
    let bootstrap = broker.bootstrap();
    assert_eq!(r[1], bootstrap, "{}", out.stdout);
    assert_eq!((r[3], r[4]), ("Stable", "1"), "{}", out.stdout);
    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--state", "--verbose"],
        b"",
    );
    assert!(out.stdout.contains("ASSIGNMENT-EPOCH"), "{}", out.stdout);
    let r = &rows(&out.stdout, &group)[0];
    assert_eq!(r[3], "Stable", "{}", out.stdout);
    let group_epoch: i32 = r[4].parse().expect("GROUP-EPOCH");
    assert!(group_epoch >= member_epoch, "{}", out.stdout);
    assert_eq!(r[6], "1", "#MEMBERS: {}", out.stdout);

    // Resetting offsets needs the group empty: the tool refuses (exit 1).
    let out = tools.raw(
        SHARE_GROUPS,
        &[
            "--reset-offsets",
            "--group",
            &group,
            "--topic",
            &topic,
            "--to-earliest",
            "--execute",
        ],
        b"",
    );
    assert!(!out.status.success(), "reset of a group with a member");
    assert!(
        out.stderr
            .contains(&format!("Share group '{group}' is not empty.")),
        "{}",
        out.stderr
    );

    let lines = holder.finish();
    assert!(
        !lines.iter().any(|l| l.contains("UnsupportedVersion")),
        "{}",
        lines.join("\n")
    );
    let deadline = Instant::now() + T;
    while !members(&broker, &group).is_empty() {
        assert!(Instant::now() < deadline, "the consumer did not leave");
        std::thread::sleep(Duration::from_millis(100));
    }

    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--state"],
        b"",
    );
    assert_eq!(rows(&out.stdout, &group)[0][3], "Empty", "{}", out.stdout);
    let out = tools.ok(
        SHARE_GROUPS,
        &["--describe", "--group", &group, "--members"],
        b"",
    );
    assert!(
        out.stderr
            .contains(&format!("Share group '{group}' has no active members.")),
        "{}",
        out.stderr
    );

    // (partition, start offset, lag) of the offsets view.
    let offsets = || -> Vec<(String, String, String)> {
        let out = tools.ok(SHARE_GROUPS, &["--describe", "--group", &group], b"");
        rows(&out.stdout, &group)
            .into_iter()
            .map(|r| (r[2].to_string(), r[3].to_string(), r[4].to_string()))
            .collect()
    };
    let cell =
        |p: &str, start: &str, lag: &str| (p.to_string(), start.to_string(), lag.to_string());
    // Leaving released nothing that was complete.
    assert_eq!(offsets(), vec![cell("0", "0", "1"), cell("1", "4", "0")]);

    // (partition, new offset) of a reset's table.
    let reset = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["--reset-offsets", "--group", group.as_str()];
        all.extend_from_slice(args);
        let out = tools.ok(SHARE_GROUPS, &all, b"");
        let mut v: Vec<(String, String)> = rows(&out.stdout, &group)
            .into_iter()
            .map(|r| (r[2].to_string(), r[3].to_string()))
            .collect();
        v.sort();
        v
    };
    let pair = |p: &str, o: &str| (p.to_string(), o.to_string());
    // --dry-run shows the plan and changes nothing.
    assert_eq!(
        reset(&["--topic", &topic, "--to-earliest", "--dry-run"]),
        vec![pair("0", "0"), pair("1", "0")]
    );
    assert_eq!(offsets(), vec![cell("0", "0", "1"), cell("1", "4", "0")]);
    // --execute: nothing is complete after a reset, so the lag is all records past it.
    assert_eq!(
        reset(&[
            "--topic",
            &format!("{topic}:1"),
            "--to-earliest",
            "--execute"
        ]),
        vec![pair("1", "0")]
    );
    assert_eq!(offsets(), vec![cell("0", "0", "1"), cell("1", "0", "4")]);
    // Without --topic: every partition with share state (--all-topics).
    assert_eq!(
        reset(&["--all-topics", "--to-latest", "--execute"]),
        vec![pair("0", "10"), pair("1", "4")]
    );
    assert_eq!(offsets(), vec![cell("0", "10", "0"), cell("1", "4", "0")]);
    // 00:00:05: offset 5 of partition 0, offset 2 of partition 1.
    assert_eq!(
        reset(&[
            "--topic",
            &topic,
            "--to-datetime",
            "2026-01-01T00:00:05.000",
            "--execute"
        ]),
        vec![pair("0", "5"), pair("1", "2")]
    );
    assert_eq!(offsets(), vec![cell("0", "5", "5"), cell("1", "2", "2")]);

    // --delete-offsets, then --delete.
    let out = tools.ok(
        SHARE_GROUPS,
        &["--delete-offsets", "--group", &group, "--topic", &topic],
        b"",
    );
    assert_eq!(
        rows(&out.stdout, &topic),
        vec![vec![topic.as_str(), "Successful"]],
        "{}",
        out.stdout
    );
    let out = tools.ok(SHARE_GROUPS, &["--describe", "--group", &group], b"");
    assert!(
        out.stdout
            .contains(&format!("Share group '{group}' has no offset information.")),
        "{}",
        out.stdout
    );
    let out = tools.ok(SHARE_GROUPS, &["--delete", "--group", &group], b"");
    assert!(
        out.stdout.contains(&format!(
            "Deletion of requested share groups ('{group}') was successful."
        )),
        "{}",
        out.stdout
    );
    let out = tools.ok(SHARE_GROUPS, &["--list"], b"");
    assert!(!out.stdout.lines().any(|l| l == group), "{}", out.stdout);
}
