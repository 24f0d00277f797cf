//! KIP-848 online migration (`group.consumer.migration.policy`) against the
//! real binary with librdkafka: a `group.protocol=classic` consumer runs, a
//! `group.protocol=consumer` one joins the same group, which becomes a
//! consumer group whose partitions the two split (the classic member
//! assigned by the broker through JoinGroup/SyncGroup); the mix survives a
//! SIGKILL; when the consumer-protocol member leaves, the group is classic
//! again and the classic member takes everything. With the policy
//! `disabled` the newcomer is refused (GROUP_ID_NOT_FOUND) and the running
//! member carries on. With raw requests: a member fenced right after a
//! SIGKILL restart (before any heartbeat) is fenced against the topics as
//! they are; a classic member told to rejoin that only heartbeats is fenced
//! at its rebalance timeout; a classic static member replacing the last
//! consumer-protocol member makes the group classic.
//! Conditions are awaited, never slept on.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::future::join_all;
use kafka_protocol::messages::consumer_group_describe_request::ConsumerGroupDescribeRequest;
use kafka_protocol::messages::consumer_group_describe_response::DescribedGroup;
use kafka_protocol::messages::{
    ApiKey, ConsumerGroupHeartbeatRequest, GroupId, ListGroupsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;

use crate::harness::*;

const FAST: &[(&str, &str)] = &[
    ("group.consumer.heartbeat.interval.ms", "500"),
    ("group.consumer.min.heartbeat.interval.ms", "500"),
];

const LIMIT: Duration = Duration::from_secs(40);

type Shared<T> = Arc<Mutex<T>>;

/// A member of either protocol, polled by its own thread.
struct Member {
    stop: Arc<AtomicBool>,
    assignment: Shared<BTreeSet<i32>>,
    got: Shared<BTreeSet<String>>,
    handle: Option<JoinHandle<()>>,
}

impl Member {
    fn start(broker: &Broker, group: &str, topic: &str, protocol: &str) -> Member {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", broker.bootstrap())
            .set("group.id", group)
            .set("group.protocol", protocol)
            .set("client.id", format!("skiff-migration-{protocol}"))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "200")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "100")
            .set("reconnect.backoff.ms", "20")
            .set("reconnect.backoff.max.ms", "500")
            .set("log_level", "3");
        if protocol == "classic" {
            c.set("session.timeout.ms", "10000")
                .set("heartbeat.interval.ms", "300");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let assignment: Shared<BTreeSet<i32>> = Arc::default();
        let got: Shared<BTreeSet<String>> = Arc::default();
        let (t_stop, t_assignment, t_got) = (stop.clone(), assignment.clone(), got.clone());
        let topic = topic.to_string();
        let handle = std::thread::spawn(move || {
            let consumer: BaseConsumer = c.create().expect("create consumer");
            consumer.subscribe(&[&topic]).expect("subscribe");
            while !t_stop.load(Ordering::SeqCst) {
                match consumer.poll(Duration::from_millis(50)) {
                    None => {}
                    Some(Ok(m)) => {
                        let v = String::from_utf8_lossy(m.payload().unwrap_or_default());
                        t_got.lock().unwrap().insert(v.to_string());
                    }
                    Some(Err(e)) => eprintln!("consumer error: {e}"),
                }
                if let Ok(a) = consumer.assignment() {
                    *t_assignment.lock().unwrap() =
                        a.elements().iter().map(|e| e.partition()).collect();
                }
            }
        });
        Member {
            stop,
            assignment,
            got,
            handle: Some(handle),
        }
    }

    fn assignment(&self) -> BTreeSet<i32> {
        self.assignment.lock().unwrap().clone()
    }

    fn got(&self) -> BTreeSet<String> {
        self.got.lock().unwrap().clone()
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

/// The group's type as ListGroups v5 reports it ("" if not listed).
fn group_type(broker: &Broker, group: &str) -> String {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let resp = raw.call(&ListGroupsRequest::default(), 5);
    resp.groups
        .iter()
        .find(|g| g.group_id.as_str() == group)
        .map(|g| g.group_type.as_str().to_string())
        .unwrap_or_default()
}

fn describe(broker: &Broker, group: &str) -> DescribedGroup {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let req = ConsumerGroupDescribeRequest::default()
        .with_group_ids(vec![GroupId(StrBytes::from_string(group.to_string()))]);
    let mut resp = raw.call(&req, 1);
    resp.groups.pop().expect("one group described")
}

/// Waits until the members' partitions are disjoint, non-empty and cover
/// `0..partitions`.
async fn await_split(members: &[&Member], partitions: i32, what: &str) {
    let want: BTreeSet<i32> = (0..partitions).collect();
    wait_for_async(what, LIMIT, || {
        let sets: Vec<BTreeSet<i32>> = members.iter().map(|m| m.assignment()).collect();
        let total: usize = sets.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<i32> = sets.iter().flatten().copied().collect();
        (total == want.len() && union == want && sets.iter().all(|s| !s.is_empty())).then_some(())
    })
    .await
}

#[test]
fn classic_group_upgrades_to_a_consumer_group_and_back() {
    if skip_if_external("restarts the broker and sets group.consumer.* keys") {
        return;
    }
    run(async {
        let mut broker = Broker::start_with(FAST);
        let topic = unique_topic("migration");
        let group = unique_topic("migration-g");
        create_topic(&broker, &topic, 4).await;
        let first = produce(&broker, &topic, 4, "first", 40).await;

        let classic = Member::start(&broker, &group, &topic, "classic");
        wait_for_async("the classic member owns all 4 partitions", LIMIT, || {
            (classic.assignment().len() == 4).then_some(())
        })
        .await;
        assert_eq!(group_type(&broker, &group), "classic");

        // Upgrade: the consumer-protocol member joins the running group.
        let modern = Member::start(&broker, &group, &topic, "consumer");
        await_split(
            &[&classic, &modern],
            4,
            "the classic and the consumer-protocol member to split 4 partitions",
        )
        .await;
        assert_eq!(group_type(&broker, &group), "consumer");
        let d = describe(&broker, &group);
        assert_eq!(d.error_code, 0, "{:?}", d.error_message);
        let mut types: Vec<i8> = d.members.iter().map(|m| m.member_type).collect();
        types.sort();
        assert_eq!(types, vec![0, 1], "one classic, one consumer member");
        wait_for_async("every first record consumed once split", LIMIT, || {
            let got: BTreeSet<String> = classic.got().union(&modern.got()).cloned().collect();
            first.is_subset(&got).then_some(())
        })
        .await;

        // The mixed group survives a SIGKILL: same members, same epochs.
        let before = describe(&broker, &group);
        broker.kill();
        broker.restart();
        let after = describe(&broker, &group);
        assert_eq!(after.error_code, 0, "{:?}", after.error_message);
        assert_eq!(after.group_epoch, before.group_epoch);
        let ids = |g: &DescribedGroup| -> BTreeSet<(String, i32, i8)> {
            g.members
                .iter()
                .map(|m| (m.member_id.to_string(), m.member_epoch, m.member_type))
                .collect()
        };
        assert_eq!(ids(&after), ids(&before));
        assert_eq!(group_type(&broker, &group), "consumer");
        let mid = produce(&broker, &topic, 4, "mid", 20).await;
        wait_for_async("both members consume after the restart", LIMIT, || {
            let got: BTreeSet<String> = classic.got().union(&modern.got()).cloned().collect();
            mid.is_subset(&got).then_some(())
        })
        .await;

        // Downgrade: the consumer-protocol member leaves; classic again.
        modern.leave();
        wait_for_async("the group to be classic again", LIMIT, || {
            (group_type(&broker, &group) == "classic").then_some(())
        })
        .await;
        wait_for_async(
            "the classic member to own all 4 partitions again",
            LIMIT,
            || (classic.assignment().len() == 4).then_some(()),
        )
        .await;
        let last = produce(&broker, &topic, 4, "last", 20).await;
        wait_for_async("the classic member consumes everything new", LIMIT, || {
            last.is_subset(&classic.got()).then_some(())
        })
        .await;
        classic.leave();
    });
}

#[test]
fn disabled_migration_policy_refuses_the_mix() {
    if skip_if_external("sets group.consumer.migration.policy") {
        return;
    }
    run(async {
        let mut sets = FAST.to_vec();
        sets.push(("group.consumer.migration.policy", "disabled"));
        let broker = Broker::start_with(&sets);
        let topic = unique_topic("migration-off");
        let group = unique_topic("migration-off-g");
        create_topic(&broker, &topic, 2).await;

        let classic = Member::start(&broker, &group, &topic, "classic");
        wait_for_async("the classic member owns both partitions", LIMIT, || {
            (classic.assignment().len() == 2).then_some(())
        })
        .await;
        // Over the wire: Kafka's answer to the refused join.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let req = ConsumerGroupHeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.clone())))
            .with_member_id(StrBytes::from_string(uuid::Uuid::new_v4().to_string()))
            .with_member_epoch(0)
            .with_rebalance_timeout_ms(30_000)
            .with_subscribed_topic_names(Some(vec![TopicName(StrBytes::from_string(
                topic.clone(),
            ))]))
            .with_topic_partitions(Some(vec![]));
        let resp = raw.call(&req, 1);
        assert_eq!(
            resp.error_code,
            ResponseError::GroupIdNotFound.code(),
            "{:?}",
            resp.error_message
        );
        // librdkafka retries that join; it never gets a partition.
        let modern = Member::start(&broker, &group, &topic, "consumer");
        wait_for_async("the consumer-protocol client's join refused", LIMIT, || {
            broker
                .log_lines()
                .iter()
                .any(|l| l.contains("the online upgrade is disabled") && l.contains(&group))
                .then_some(())
        })
        .await;
        assert!(modern.assignment().is_empty());
        assert_eq!(group_type(&broker, &group), "classic");

        // The running member keeps working, alone.
        let sent = produce(&broker, &topic, 2, "v", 20).await;
        wait_for_async("the classic member consumes", LIMIT, || {
            sent.is_subset(&classic.got()).then_some(())
        })
        .await;
        assert_eq!(classic.assignment().len(), 2);
        modern.leave();
        classic.leave();
    });
}

fn sb(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// A ConsumerProtocolSubscription v0 of `topics` (what a classic consumer
/// puts in its JoinGroup protocol metadata).
fn subscription_v0(topics: &[&str]) -> bytes::Bytes {
    let mut b = Vec::new();
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(topics.len() as i32).to_be_bytes());
    for t in topics {
        b.extend_from_slice(&(t.len() as i16).to_be_bytes());
        b.extend_from_slice(t.as_bytes());
    }
    b.extend_from_slice(&(-1i32).to_be_bytes());
    bytes::Bytes::from(b)
}

/// A consumer-protocol member driven by raw ConsumerGroupHeartbeats.
struct RawConsumer {
    join: ConsumerGroupHeartbeatRequest,
    v: i16,
    epoch: i32,
}

impl RawConsumer {
    fn join(raw: &mut RawClient, group: &str, topic: &str, instance: Option<&str>) -> RawConsumer {
        let v = raw.pick_version(ApiKey::ConsumerGroupHeartbeat, 1);
        let join = ConsumerGroupHeartbeatRequest::default()
            .with_group_id(GroupId(sb(group)))
            .with_member_id(sb(&uuid::Uuid::new_v4().to_string()))
            .with_instance_id(instance.map(sb))
            .with_member_epoch(0)
            .with_rebalance_timeout_ms(30_000)
            .with_subscribed_topic_names(Some(vec![TopicName(sb(topic))]))
            .with_topic_partitions(Some(vec![]));
        let r = raw.call(&join, v);
        assert_eq!(r.error_code, 0, "{r:?}");
        RawConsumer {
            join,
            v,
            epoch: r.member_epoch,
        }
    }

    /// One heartbeat; the new epoch.
    fn beat(&mut self, raw: &mut RawClient) -> i32 {
        let r = raw.call(
            &self
                .join
                .clone()
                .with_member_epoch(self.epoch)
                .with_topic_partitions(None),
            self.v,
        );
        assert_eq!(r.error_code, 0, "{r:?}");
        self.epoch = r.member_epoch;
        self.epoch
    }
}

/// A classic member's JoinGroup (through MEMBER_ID_REQUIRED) and SyncGroup
/// to `group`: its member id and generation.
fn raw_classic_join(
    raw: &mut RawClient,
    group: &str,
    topic: &str,
    instance: Option<&str>,
    rebalance_timeout_ms: i32,
) -> (StrBytes, i32) {
    use kafka_protocol::messages::join_group_request::{
        JoinGroupRequest, JoinGroupRequestProtocol,
    };
    use kafka_protocol::messages::sync_group_request::SyncGroupRequest;
    let jv = raw.pick_version(ApiKey::JoinGroup, 9);
    let join = |member: &str| {
        JoinGroupRequest::default()
            .with_group_id(GroupId(sb(group)))
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(rebalance_timeout_ms)
            .with_member_id(sb(member))
            .with_group_instance_id(instance.map(sb))
            .with_protocol_type(sb("consumer"))
            .with_protocols(vec![JoinGroupRequestProtocol::default()
                .with_name(sb("range"))
                .with_metadata(subscription_v0(&[topic]))])
    };
    let mut j = raw.call(&join(""), jv);
    if j.error_code == ResponseError::MemberIdRequired.code() {
        j = raw.call(&join(j.member_id.as_str()), jv);
    }
    assert_eq!(j.error_code, 0, "{j:?}");
    let sv = raw.pick_version(ApiKey::SyncGroup, 5);
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(sb(group)))
        .with_generation_id(j.generation_id)
        .with_member_id(j.member_id.clone())
        .with_group_instance_id(instance.map(sb))
        .with_protocol_type(Some(sb("consumer")))
        .with_protocol_name(Some(sb("range")));
    let s = raw.call(&sync, sv);
    assert_eq!(s.error_code, 0, "{s:?}");
    (j.member_id, j.generation_id)
}

/// A restart (SIGKILL) followed by a fence before any heartbeat, JoinGroup
/// or SyncGroup: the coordinator must fence against the topics as they
/// are. Before, it had no topics until the first such request, wrote the
/// fence with the metadata of no topics, and the next heartbeat rebalanced
/// the group once more for nothing.
#[test]
fn a_fence_right_after_a_sigkill_restart_sees_the_topics() {
    use kafka_protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
    if skip_if_external("kills and restarts the broker") {
        return;
    }
    run(async {
        let mut broker = Broker::start();
        let topic = unique_topic("fence-restart");
        let group = unique_topic("fence-restart-g");
        create_topic(&broker, &topic, 4).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        // A consumer-protocol member, then a classic member joins.
        let mut modern = RawConsumer::join(&mut raw, &group, &topic, None);
        modern.beat(&mut raw);
        let (classic, _) = raw_classic_join(&mut raw, &group, &topic, None, 30_000);
        assert_eq!(describe(&broker, &group).members.len(), 2);
        drop(raw);

        broker.kill();
        broker.restart();

        // The first request after the restart fences the classic member.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let lv = raw.pick_version(ApiKey::LeaveGroup, 3);
        let l = raw.call(
            &LeaveGroupRequest::default()
                .with_group_id(GroupId(sb(&group)))
                .with_members(vec![MemberIdentity::default().with_member_id(classic)]),
            lv,
        );
        assert_eq!(l.error_code, 0, "{l:?}");
        let fenced = describe(&broker, &group);
        assert_eq!(fenced.members.len(), 1);

        // The consumer-protocol member carries on: no further rebalance.
        for _ in 0..3 {
            modern.beat(&mut raw);
        }
        let after = describe(&broker, &group);
        assert_eq!(
            after.group_epoch, fenced.group_epoch,
            "a heartbeat after the fence bumped the group epoch again"
        );
    });
}

/// Kafka's join deadline of a classic member in a consumer group: told
/// REBALANCE_IN_PROGRESS, it must send JoinGroup within its rebalance
/// timeout; heartbeating alone does not keep it in the group.
#[test]
fn a_classic_member_that_only_heartbeats_after_rebalance_in_progress_is_fenced() {
    use kafka_protocol::messages::HeartbeatRequest;
    run(async {
        let broker = Broker::start();
        let topic = unique_topic("join-deadline");
        let group = unique_topic("join-deadline-g");
        create_topic(&broker, &topic, 4).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let mut a = RawConsumer::join(&mut raw, &group, &topic, None);
        let (classic, generation) = raw_classic_join(&mut raw, &group, &topic, None, 3_000);
        // A second consumer-protocol member: a new group epoch.
        let mut b = RawConsumer::join(&mut raw, &group, &topic, None);
        let hv = raw.pick_version(ApiKey::Heartbeat, 4);
        let heartbeat = HeartbeatRequest::default()
            .with_group_id(GroupId(sb(&group)))
            .with_generation_id(generation)
            .with_member_id(classic.clone());
        let told = Instant::now();
        let r = raw.call(&heartbeat, hv);
        assert_eq!(r.error_code, ResponseError::RebalanceInProgress.code());
        let gone = wait_for_async(
            "the classic member fenced at its 3 s rebalance timeout",
            Duration::from_secs(15),
            || {
                // It keeps heartbeating (its 30 s session never lapses);
                // the others too.
                let _ = raw.call(&heartbeat, hv);
                a.beat(&mut raw);
                b.beat(&mut raw);
                describe(&broker, &group)
                    .members
                    .iter()
                    .all(|m| m.member_id != classic)
                    .then(|| told.elapsed())
            },
        )
        .await;
        println!("fenced {gone:?} after REBALANCE_IN_PROGRESS (rebalance timeout 3 s)");
        assert!(gone >= Duration::from_millis(2_900), "{gone:?}");
    });
}

/// Kafka's static member replacement across protocols: a classic consumer
/// coming back with the instance id of the group's last consumer-protocol
/// member replaces it at once (no UNRELEASED_INSTANCE_ID) and the group
/// turns classic, holding the replaced member's partitions.
#[test]
fn a_classic_static_member_replacing_the_last_consumer_member_makes_the_group_classic() {
    run(async {
        let broker = Broker::start();
        let topic = unique_topic("static-downgrade");
        let group = unique_topic("static-downgrade-g");
        create_topic(&broker, &topic, 4).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let mut modern = RawConsumer::join(&mut raw, &group, &topic, Some("i1"));
        modern.beat(&mut raw);
        raw_classic_join(&mut raw, &group, &topic, None, 30_000);
        assert_eq!(group_type(&broker, &group), "consumer");
        // The instance returns as a classic consumer, no LeaveGroup sent.
        let (replacing, _) = raw_classic_join(&mut raw, &group, &topic, Some("i1"), 30_000);
        assert_eq!(group_type(&broker, &group), "classic");
        let mut raw = RawClient::connect(&broker.bootstrap());
        let d = raw.call(
            &kafka_protocol::messages::DescribeGroupsRequest::default()
                .with_groups(vec![GroupId(sb(&group))]),
            5,
        );
        let g = &d.groups[0];
        assert_eq!(g.members.len(), 2, "{g:?}");
        assert!(g.members.iter().any(|m| m.member_id == replacing
            && m.group_instance_id.as_ref().map(|i| i.as_str()) == Some("i1")));
    });
}
