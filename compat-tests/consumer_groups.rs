//! KIP-848 consumer groups (`group.protocol=consumer`) against the real
//! binary with librdkafka: the broker assigns partitions (uniform
//! assignor), members only heartbeat (ConsumerGroupHeartbeat).
//!
//! Two and three members split partitions disjointly and cover them all; a
//! member that leaves hands its partitions over without any session
//! timeout; new partitions and, for a pattern subscription, new topics are
//! picked up; committed offsets resume a group; a SIGKILLed broker comes
//! back with the group, its member epochs and assignment, and its offsets.
//! Conditions are awaited, never slept on.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::future::join_all;
use kafka_protocol::messages::consumer_group_describe_request::ConsumerGroupDescribeRequest;
use kafka_protocol::messages::consumer_group_describe_response::DescribedGroup;
use kafka_protocol::messages::GroupId;
use kafka_protocol::protocol::StrBytes;
use rdkafka::admin::NewPartitions;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;

use crate::harness::*;

/// Broker settings for quick tests: members heartbeat every 500 ms (the
/// session timeout stays Kafka's 45 s, so a test that passes fast proves
/// nobody waited for it).
const FAST: &[(&str, &str)] = &[
    ("group.consumer.heartbeat.interval.ms", "500"),
    ("group.consumer.min.heartbeat.interval.ms", "500"),
    ("http.listeners", "127.0.0.1:0"),
];

/// `GET path` on the broker's HTTP listener, as JSON.
fn get_json(broker: &Broker, path: &str) -> serde_json::Value {
    let body = get_text(broker, path);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// `GET path` on the broker's HTTP listener: the body.
fn get_text(broker: &Broker, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = wait_for("http ready line", Duration::from_secs(10), || {
        broker
            .log_lines()
            .iter()
            .find(|l| l.contains("http ready"))
            .and_then(|l| parse_ready_addr(l))
    });
    let mut s = std::net::TcpStream::connect(&addr).expect("connect http");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read http");
    raw.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

const LIMIT: Duration = Duration::from_secs(30);

/// What a member received: (topic, partition, offset, value).
type Received = Arc<Mutex<Vec<(String, i32, i64, String)>>>;

/// A `group.protocol=consumer` member polled by its own thread.
struct Member {
    stop: Arc<AtomicBool>,
    assignment: Arc<Mutex<BTreeSet<(String, i32)>>>,
    got: Received,
    handle: Option<JoinHandle<()>>,
}

impl Member {
    /// Subscribes to `topics` (a `^...` entry is a pattern). With
    /// `commit`, offsets are committed synchronously after every message.
    fn start(broker: &Broker, group: &str, topics: &[&str], commit: bool) -> Member {
        Member::start_with(broker, group, topics, commit, &[])
    }

    fn start_with(
        broker: &Broker,
        group: &str,
        topics: &[&str],
        commit: bool,
        extra: &[(&str, &str)],
    ) -> Member {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", broker.bootstrap())
            .set("group.id", group)
            .set("group.protocol", "consumer")
            .set("client.id", "skiff-kip848")
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "100")
            .set("topic.metadata.refresh.interval.ms", "1000")
            .set("reconnect.backoff.ms", "20")
            .set("reconnect.backoff.max.ms", "500")
            .set("log_level", "3");
        for (k, v) in extra {
            c.set(*k, *v);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let assignment = Arc::new(Mutex::new(BTreeSet::new()));
        let got: Received = Arc::new(Mutex::new(Vec::new()));
        let (t_stop, t_assignment, t_got) = (stop.clone(), assignment.clone(), got.clone());
        let topics: Vec<String> = topics.iter().map(|s| s.to_string()).collect();
        let handle = std::thread::spawn(move || {
            let consumer: BaseConsumer = c.create().expect("create consumer");
            let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
            consumer.subscribe(&refs).expect("subscribe");
            while !t_stop.load(Ordering::SeqCst) {
                match consumer.poll(Duration::from_millis(50)) {
                    None => {}
                    Some(Ok(m)) => {
                        let v =
                            String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string();
                        t_got.lock().unwrap().push((
                            m.topic().to_string(),
                            m.partition(),
                            m.offset(),
                            v,
                        ));
                        if commit {
                            if let Err(e) = consumer.commit_message(&m, CommitMode::Sync) {
                                eprintln!("commit: {e}");
                            }
                        }
                    }
                    Some(Err(e)) => eprintln!("consumer error: {e}"),
                }
                if let Ok(a) = consumer.assignment() {
                    *t_assignment.lock().unwrap() = a
                        .elements()
                        .iter()
                        .map(|e| (e.topic().to_string(), e.partition()))
                        .collect();
                }
            }
            // Dropping the consumer closes it: a leave heartbeat (epoch -1).
        });
        Member {
            stop,
            assignment,
            got,
            handle: Some(handle),
        }
    }

    fn assignment(&self) -> BTreeSet<(String, i32)> {
        self.assignment.lock().unwrap().clone()
    }

    fn values(&self) -> BTreeSet<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.3.clone())
            .collect()
    }

    fn leave(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            h.join().expect("member thread");
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn all(topic: &str, partitions: i32) -> BTreeSet<(String, i32)> {
    (0..partitions).map(|p| (topic.to_string(), p)).collect()
}

/// Waits until the members' assignments are disjoint, cover `want` and
/// give every member a share.
async fn await_split(members: &[&Member], want: &BTreeSet<(String, i32)>, what: &str) {
    wait_for_async(what, LIMIT, || {
        let sets: Vec<BTreeSet<(String, i32)>> = members.iter().map(|m| m.assignment()).collect();
        let total: usize = sets.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<(String, i32)> = sets.iter().flatten().cloned().collect();
        (total == want.len() && &union == want && sets.iter().all(|s| !s.is_empty())).then_some(())
    })
    .await
}

async fn produce(
    broker: &Broker,
    topic: &str,
    partitions: i32,
    tag: &str,
    n: usize,
) -> BTreeSet<String> {
    let producer = future_producer(broker, &[]);
    let mut sent = BTreeSet::new();
    let mut futures = Vec::new();
    for i in 0..n {
        let v = format!("{tag}-{i:04}");
        futures.push(
            producer
                .send_result(
                    FutureRecord::<(), _>::to(topic)
                        .partition((i as i32) % partitions)
                        .payload(&v),
                )
                .unwrap_or_else(|(e, _)| panic!("enqueue {v}: {e}")),
        );
        sent.insert(v);
    }
    for f in join_all(futures).await {
        f.expect("delivery")
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce: {e}")));
    }
    sent
}

/// ConsumerGroupDescribe over a raw connection.
fn describe(broker: &Broker, group: &str) -> DescribedGroup {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let req = ConsumerGroupDescribeRequest::default()
        .with_group_ids(vec![GroupId(StrBytes::from_string(group.to_string()))]);
    let mut resp = raw.call(&req, 1);
    resp.groups.pop().expect("one group described")
}

#[test]
fn consumer_protocol_members_split_partitions_and_take_over_at_once() {
    if skip_if_external("sets group.consumer.* broker keys") {
        return;
    }
    run(async {
        let broker = Broker::start_with(FAST);
        let topic = unique_topic("kip848-split");
        let group = unique_topic("kip848-split-g");
        create_topic(&broker, &topic, 6).await;
        let sent = produce(&broker, &topic, 6, "v", 120).await;
        let want = all(&topic, 6);

        let a = Member::start(&broker, &group, &[&topic], false);
        let b = Member::start(&broker, &group, &[&topic], false);
        await_split(&[&a, &b], &want, "two members to split 6 partitions").await;
        let c = Member::start(&broker, &group, &[&topic], false);
        await_split(&[&a, &b, &c], &want, "three members to split 6 partitions").await;
        for m in [&a, &b, &c] {
            assert_eq!(m.assignment().len(), 2, "uniform: two partitions each");
        }
        wait_for_async("every record consumed", LIMIT, || {
            let got: BTreeSet<String> = [&a, &b, &c].iter().flat_map(|m| m.values()).collect();
            (got == sent).then_some(())
        })
        .await;

        let d = describe(&broker, &group);
        assert_eq!(d.error_code, 0);
        assert_eq!(d.group_state.as_str(), "Stable");
        assert_eq!(d.assignor_name.as_str(), "uniform");
        assert_eq!(d.members.len(), 3);
        assert!(d
            .members
            .iter()
            .all(|m| m.member_epoch == d.group_epoch && m.member_type == 1));
        // The JSON API shows the protocol and the member epochs.
        let j = get_json(&broker, &format!("/api/groups/{group}"));
        assert_eq!(j["group_protocol"], "consumer", "{j}");
        assert_eq!(j["group_epoch"], d.group_epoch);
        let members = j["members"].as_array().expect("members");
        assert_eq!(members.len(), 3);
        assert!(
            members.iter().all(|m| m["member_epoch"] == d.group_epoch),
            "{j}"
        );
        let list = get_json(&broker, "/api/groups");
        let listed = list["groups"].as_array().expect("groups");
        assert!(
            listed.iter().any(|g| g["group_id"] == group.as_str()
                && g["member_epochs"].as_array().is_some_and(|e| e.len() == 3)),
            "{list}"
        );

        // c leaves; a and b own everything long before a 45 s session ends.
        let left = Instant::now();
        c.leave();
        await_split(&[&a, &b], &want, "two members to take over c's partitions").await;
        let took = left.elapsed();
        println!("partitions moved {took:?} after a member left");
        assert!(took < Duration::from_secs(15), "took {took:?}");
        let d = describe(&broker, &group);
        assert_eq!(d.members.len(), 2);
        // Joins and the leave were rebalances; /metrics counts them.
        let metrics = get_text(&broker, "/metrics");
        let count: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("kafka_coordinator_group_consumer_rebalances_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no rebalance counter in /metrics"));
        assert!(count >= 4, "rebalances counted: {count}");
    });
}

#[test]
fn consumer_protocol_picks_up_new_partitions_and_pattern_topics() {
    if skip_if_external("sets group.consumer.* broker keys") {
        return;
    }
    run(async {
        let broker = Broker::start_with(FAST);
        let prefix = unique_topic("kip848-re");
        let (t1, t2) = (format!("{prefix}-one"), format!("{prefix}-two"));
        let group = unique_topic("kip848-re-g");
        create_topic(&broker, &t1, 2).await;
        let pattern = format!("^{prefix}-.*");
        let m = Member::start(&broker, &group, &[&pattern], false);
        await_split(&[&m], &all(&t1, 2), "the pattern's topic assigned").await;

        let res = admin(&broker)
            .create_partitions([&NewPartitions::new(&t1, 4)], &admin_opts())
            .await
            .expect("CreatePartitions");
        assert!(res.iter().all(Result::is_ok), "{res:?}");
        await_split(&[&m], &all(&t1, 4), "new partitions assigned").await;

        create_topic(&broker, &t2, 1).await;
        let mut want = all(&t1, 4);
        want.extend(all(&t2, 1));
        await_split(&[&m], &want, "a new topic matching the pattern assigned").await;
        let sent = produce(&broker, &t2, 1, "two", 5).await;
        wait_for_async("the new topic's records consumed", LIMIT, || {
            sent.is_subset(&m.values()).then_some(())
        })
        .await;
        let d = describe(&broker, &group);
        let member = &d.members[0];
        assert!(member.subscribed_topic_regex.is_some(), "{member:?}");
        assert!(member.subscribed_topic_names.is_empty());
    });
}

#[test]
fn consumer_protocol_group_survives_a_broker_kill_with_epochs_and_offsets() {
    if skip_if_external("restarts the broker") {
        return;
    }
    run(async {
        let mut broker = Broker::start_with(FAST);
        let topic = unique_topic("kip848-restart");
        let group = unique_topic("kip848-restart-g");
        create_topic(&broker, &topic, 2).await;
        let first = produce(&broker, &topic, 2, "first", 20).await;

        let m = Member::start(&broker, &group, &[&topic], true);
        wait_for_async("first records consumed", LIMIT, || {
            (m.values() == first).then_some(())
        })
        .await;
        let before = describe(&broker, &group);
        assert_eq!(before.members.len(), 1);
        let (member_id, epoch) = (
            before.members[0].member_id.clone(),
            before.members[0].member_epoch,
        );
        assert!(epoch > 0);

        broker.kill();
        broker.restart();
        // Replayed from __consumer_offsets: same group epoch, same member at
        // the same epoch, same assignment.
        let after = describe(&broker, &group);
        assert_eq!(after.error_code, 0, "{:?}", after.error_message);
        assert_eq!(after.group_epoch, before.group_epoch);
        assert_eq!(after.members.len(), 1);
        assert_eq!(after.members[0].member_id, member_id);
        assert_eq!(after.members[0].member_epoch, epoch);
        assert_eq!(after.members[0].assignment, before.members[0].assignment);

        // The running member carries on at its epoch: no rejoin.
        let mid = produce(&broker, &topic, 2, "mid", 4).await;
        wait_for_async(
            "the running member consumes after the restart",
            LIMIT,
            || mid.is_subset(&m.values()).then_some(()),
        )
        .await;
        let later = describe(&broker, &group);
        assert_eq!(later.members.len(), 1);
        assert_eq!(later.members[0].member_id, member_id);
        assert_eq!(later.members[0].member_epoch, epoch);
        assert_eq!(later.group_epoch, before.group_epoch);
        m.leave();
        wait_for_async("the member's leave", LIMIT, || {
            describe(&broker, &group).members.is_empty().then_some(())
        })
        .await;
        let second = produce(&broker, &topic, 2, "second", 10).await;
        let m2 = Member::start(&broker, &group, &[&topic], true);
        wait_for_async("the new records consumed after resuming", LIMIT, || {
            (m2.values() == second).then_some(())
        })
        .await;
        // Nothing consumed before again: the commits survived the kill.
        assert!(m2.values().is_disjoint(&first));
        assert!(m2.values().is_disjoint(&mid));
    });
}

/// Kafka's answers to bad ConsumerGroupHeartbeats and to the other group
/// APIs about a consumer group, over a raw connection.
#[test]
fn consumer_protocol_errors_over_the_wire() {
    use kafka_protocol::messages::consumer_group_heartbeat_request::{
        ConsumerGroupHeartbeatRequest, TopicPartitions,
    };
    use kafka_protocol::messages::delete_groups_request::DeleteGroupsRequest;
    use kafka_protocol::messages::describe_groups_request::DescribeGroupsRequest;
    use kafka_protocol::messages::list_groups_request::ListGroupsRequest;
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::offset_fetch_request::{
        OffsetFetchRequest, OffsetFetchRequestGroup,
    };
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::ResponseError;

    if skip_if_external("checks Skiff's own error texts loosely; codes are Kafka's") {
        return;
    }
    run(async {
        let broker = Broker::start();
        let topic = unique_topic("kip848-raw");
        let group = unique_topic("kip848-raw-g");
        create_topic(&broker, &topic, 2).await;
        let s = |v: &str| StrBytes::from_string(v.to_string());
        let mut raw = RawClient::connect(&broker.bootstrap());
        let join = |member: &str| {
            ConsumerGroupHeartbeatRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(s(member))
                .with_member_epoch(0)
                .with_rebalance_timeout_ms(30_000)
                .with_subscribed_topic_names(Some(vec![TopicName(s(&topic))]))
                .with_topic_partitions(Some(vec![]))
        };
        let code = |e: ResponseError| e.code();

        // Bad requests.
        let r = raw.call(&join(""), 1);
        assert_eq!(r.error_code, code(ResponseError::InvalidRequest), "{r:?}");
        let r = raw.call(&join("m1").with_rebalance_timeout_ms(-1), 1);
        assert_eq!(r.error_code, code(ResponseError::InvalidRequest));
        let r = raw.call(&join("m1").with_server_assignor(Some(s("sticky"))), 1);
        assert_eq!(r.error_code, code(ResponseError::UnsupportedAssignor));
        let r = raw.call(
            &join("m1")
                .with_subscribed_topic_names(None)
                .with_subscribed_topic_regex(Some(s("(unclosed"))),
            1,
        );
        assert_eq!(r.error_code, code(ResponseError::InvalidRegularExpression));
        assert!(r.error_message.is_some());
        let r = raw.call(&join("m1").with_member_epoch(3), 1);
        assert_eq!(r.error_code, code(ResponseError::GroupIdNotFound));

        // A member joins and gets both partitions at epoch 1.
        let r = raw.call(&join("m1"), 1);
        assert_eq!(r.error_code, 0, "{r:?}");
        assert_eq!(r.member_epoch, 1);
        let a = r.assignment.expect("assignment on join");
        let owned: Vec<TopicPartitions> = a
            .topic_partitions
            .iter()
            .map(|tp| {
                TopicPartitions::default()
                    .with_topic_id(tp.topic_id)
                    .with_partitions(tp.partitions.clone())
            })
            .collect();
        assert_eq!(owned.iter().map(|t| t.partitions.len()).sum::<usize>(), 2);
        let beat = |epoch: i32| {
            ConsumerGroupHeartbeatRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(s("m1"))
                .with_member_epoch(epoch)
                .with_topic_partitions(Some(owned.clone()))
        };
        let r = raw.call(&beat(1), 1);
        assert_eq!((r.error_code, r.member_epoch), (0, 1));
        assert!(r.assignment.is_none(), "unchanged: no assignment");
        let r = raw.call(&beat(7), 1);
        assert_eq!(r.error_code, code(ResponseError::FencedMemberEpoch));
        let r = raw.call(&beat(1).with_member_id(s("nobody")), 1);
        assert_eq!(r.error_code, code(ResponseError::UnknownMemberId));

        // Offsets with member epochs.
        let commit = |member: &str, epoch: i32| {
            OffsetCommitRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(s(member))
                .with_generation_id_or_member_epoch(epoch)
                .with_topics(vec![OffsetCommitRequestTopic::default()
                    .with_name(TopicName(s(&topic)))
                    .with_partitions(vec![OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(0)])])
        };
        let partition_code = |r: &kafka_protocol::messages::OffsetCommitResponse| {
            r.topics[0].partitions[0].error_code
        };
        assert_eq!(partition_code(&raw.call(&commit("m1", 1), 9)), 0);
        assert_eq!(
            partition_code(&raw.call(&commit("m1", 0), 9)),
            code(ResponseError::StaleMemberEpoch)
        );
        assert_eq!(
            partition_code(&raw.call(&commit("x", 1), 9)),
            code(ResponseError::UnknownMemberId)
        );
        let fetch = |member: &str, epoch: i32| {
            OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(Some(s(member)))
                .with_member_epoch(epoch)
                .with_topics(None)])
        };
        let r = raw.call(&fetch("m1", 1), 9);
        assert_eq!(r.groups[0].error_code, 0);
        let r = raw.call(&fetch("m1", 5), 9);
        assert_eq!(
            r.groups[0].error_code,
            code(ResponseError::StaleMemberEpoch)
        );

        // The group in the other group APIs.
        let r = raw.call(
            &ListGroupsRequest::default().with_types_filter(vec![s("consumer")]),
            5,
        );
        let listed = r
            .groups
            .iter()
            .find(|g| g.group_id.as_str() == group)
            .expect("listed as a consumer group");
        assert_eq!(listed.group_type.as_str(), "consumer");
        assert_eq!(listed.group_state.as_str(), "Stable");
        let r = raw.call(
            &ListGroupsRequest::default().with_types_filter(vec![s("classic")]),
            5,
        );
        assert!(r.groups.iter().all(|g| g.group_id.as_str() != group));
        let r = raw.call(
            &DescribeGroupsRequest::default().with_groups(vec![GroupId(s(&group))]),
            6,
        );
        assert_eq!(r.groups[0].error_code, code(ResponseError::GroupIdNotFound));
        let delete = DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(&group))]);
        let r = raw.call(&delete, 2);
        assert_eq!(r.results[0].error_code, code(ResponseError::NonEmptyGroup));

        // A static member joins too.
        let r = raw.call(
            &join("m2")
                .with_group_id(GroupId(s(&group)))
                .with_instance_id(Some(s("i"))),
            1,
        );
        assert_eq!(r.error_code, 0, "a second member joins: {r:?}");

        // Leaves, then the empty group can be deleted.
        for m in ["m1", "m2"] {
            let leave = ConsumerGroupHeartbeatRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(s(m))
                .with_member_epoch(-1)
                .with_instance_id((m == "m2").then(|| s("i")));
            let r = raw.call(&leave, 1);
            assert_eq!((r.error_code, r.member_epoch), (0, -1), "{r:?}");
        }
        assert_eq!(describe(&broker, &group).group_state.as_str(), "Empty");
        let r = raw.call(&delete, 2);
        assert_eq!(r.results[0].error_code, 0);
        let d = describe(&broker, &group);
        assert_eq!(d.error_code, code(ResponseError::GroupIdNotFound));

        // Offsets committed outside group management make an empty classic
        // group; the first consumer-protocol join converts it, offsets kept.
        let simple = unique_topic("kip848-simple");
        let r = raw.call(&commit("", -1).with_group_id(GroupId(s(&simple))), 9);
        assert_eq!(partition_code(&r), 0);
        let r = raw.call(&join("s1").with_group_id(GroupId(s(&simple))), 1);
        assert_eq!(r.error_code, 0, "{r:?}");
        assert_eq!(describe(&broker, &simple).error_code, 0);
        let r = raw.call(
            &fetch("s1", r.member_epoch).with_groups(vec![OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s(&simple)))
                .with_member_id(Some(s("s1")))
                .with_member_epoch(r.member_epoch)
                .with_topics(None)]),
            9,
        );
        assert_eq!(r.groups[0].error_code, 0);
        assert_eq!(
            r.groups[0].topics.len(),
            1,
            "the simple group's offset stays: {r:?}"
        );
    });
}

/// A static member (`group.instance.id`) that closes leaves with epoch -2:
/// its partitions wait for it (no rebalance), and its next incarnation gets
/// them back at once.
#[test]
fn consumer_protocol_static_member_gets_its_partitions_back() {
    if skip_if_external("sets group.consumer.* broker keys") {
        return;
    }
    run(async {
        let broker = Broker::start_with(FAST);
        let topic = unique_topic("kip848-static");
        let group = unique_topic("kip848-static-g");
        create_topic(&broker, &topic, 4).await;
        let want = all(&topic, 4);
        let instance = [("group.instance.id", "static-1")];
        let a = Member::start_with(&broker, &group, &[&topic], false, &instance);
        let b = Member::start(&broker, &group, &[&topic], false);
        await_split(&[&a, &b], &want, "two members to split 4 partitions").await;
        let (a_parts, b_parts) = (a.assignment(), b.assignment());
        let before = describe(&broker, &group);

        a.leave();
        let left = wait_for_async("the static member's temporary leave", LIMIT, || {
            let d = describe(&broker, &group);
            d.members
                .iter()
                .any(|m| {
                    m.instance_id.as_ref().map(|i| i.as_str()) == Some("static-1")
                        && m.member_epoch == -2
                })
                .then_some(d)
        })
        .await;
        assert_eq!(
            left.group_epoch, before.group_epoch,
            "no rebalance for a static leave"
        );
        assert_eq!(
            b.assignment(),
            b_parts,
            "b does not take the static member's partitions"
        );

        let a2 = Member::start_with(&broker, &group, &[&topic], false, &instance);
        wait_for_async(
            "the new incarnation to get its partitions back",
            LIMIT,
            || (a2.assignment() == a_parts).then_some(()),
        )
        .await;
        let after = describe(&broker, &group);
        assert_eq!(
            after.group_epoch, before.group_epoch,
            "rejoining did not rebalance"
        );
        assert_eq!(after.members.len(), 2);
        assert_eq!(b.assignment(), b_parts);
    });
}
