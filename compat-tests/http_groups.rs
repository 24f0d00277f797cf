//! The console, `/api/groups` and `/metrics` for every group type (issue
//! 12): a KIP-848 consumer group of real rdkafka members
//! (`group.protocol=consumer`) with its epochs, member states and
//! assignments; a classic group beside it; a share group (KIP-932) driven
//! by raw ShareGroupHeartbeat and ShareFetch requests, with its
//! share-partition state (start offset, records in flight and acquired);
//! and the group counts and rebalance counters in `/metrics`.

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_protocol::messages::share_fetch_request::{
    FetchPartition, FetchTopic, ShareFetchRequest,
};
use kafka_protocol::messages::share_group_heartbeat_request::ShareGroupHeartbeatRequest;
use kafka_protocol::messages::{ApiKey, GroupId, TopicName};
use kafka_protocol::protocol::StrBytes;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureRecord;
use serde_json::Value;

use crate::harness::{self, Broker, RawClient};
use crate::http::{chromium, get_json, metric, start, text_of, Browser};

const LIMIT: Duration = Duration::from_secs(30);

/// A KIP-848 member (`group.protocol=consumer`) subscribed to `topic`.
fn consumer_member(broker: &Broker, group: &str, topic: &str) -> BaseConsumer {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", group)
        .set("group.protocol", "consumer")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("log_level", "3")
        .create()
        .expect("create consumer");
    c.subscribe(&[topic]).expect("subscribe");
    c
}

fn assigned(c: &BaseConsumer) -> BTreeSet<i32> {
    c.assignment()
        .map(|t| t.elements().iter().map(|e| e.partition()).collect())
        .unwrap_or_default()
}

/// `/api/groups`' entry for `group`.
fn listed(addr: &str, group: &str) -> Option<Value> {
    get_json(addr, "/api/groups")["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["group_id"] == group)
        .cloned()
}

/// Partitions of a JSON `[{topic, partitions}]` list.
fn partitions_of(v: &Value) -> BTreeSet<i64> {
    v.as_array()
        .map(|a| {
            a.iter()
                .flat_map(|t| t["partitions"].as_array().cloned().unwrap_or_default())
                .filter_map(|p| p.as_i64())
                .collect()
        })
        .unwrap_or_default()
}

/// The console's DOM at `#/group/{group}` after its scripts ran, in
/// headless Chromium; None (SKIP) without Chromium outside CI.
fn console_group_dom(addr: &str, group: &str) -> Option<String> {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no chromium: .ci/run installs Debian's chromium"
        );
        println!("SKIP: console check: no chromium on PATH");
        return None;
    };
    let browser = Browser {
        bin,
        profile: tempfile::tempdir().expect("chromium profile dir"),
    };
    Some(browser.dom(&format!("http://{addr}/#/group/{group}")))
}

#[test]
fn http_api_and_metrics_show_consumer_and_classic_groups() {
    let Some((broker, addr)) = start(&[
        ("group.consumer.heartbeat.interval.ms", "500"),
        ("group.consumer.min.heartbeat.interval.ms", "500"),
    ]) else {
        return;
    };
    harness::run(async {
        let topic = harness::unique_topic("http-kip848");
        let group = format!("{topic}-g");
        harness::create_topic(&broker, &topic, 4).await;
        let a = consumer_member(&broker, &group, &topic);
        let b = consumer_member(&broker, &group, &topic);
        // Poll both until they split the four partitions.
        harness::wait_for("two members to split 4 partitions", LIMIT, || {
            let _ = a.poll(Duration::from_millis(50));
            let _ = b.poll(Duration::from_millis(50));
            let (pa, pb) = (assigned(&a), assigned(&b));
            (pa.len() == 2 && pb.len() == 2 && pa.is_disjoint(&pb)).then_some(())
        });
        // The broker's view settles at the next heartbeats.
        let g = harness::wait_for("a Stable consumer group in /api/groups", LIMIT, || {
            let _ = a.poll(Duration::from_millis(50));
            let _ = b.poll(Duration::from_millis(50));
            listed(&addr, &group).filter(|g| g["state"] == "Stable")
        });
        assert_eq!(g["group_type"], "consumer", "{g}");
        assert_eq!(g["protocol"], "uniform", "{g}");
        let epoch = g["group_epoch"].as_i64().expect("group_epoch");
        assert!(epoch >= 1, "{g}");
        assert_eq!(g["assignment_epoch"].as_i64(), Some(epoch), "{g}");
        let members = g["members"].as_array().expect("members");
        assert_eq!(members.len(), 2, "{g}");
        let mut all = BTreeSet::new();
        for m in members {
            assert_eq!(m["member_epoch"].as_i64(), Some(epoch), "{g}");
            assert_eq!(m["member_state"], "STABLE", "{g}");
            let ps = partitions_of(&m["assignment"]);
            assert_eq!(ps.len(), 2, "{g}");
            all.extend(ps);
        }
        assert_eq!(all, (0..4).collect::<BTreeSet<i64>>(), "{g}");

        let d = get_json(&addr, &format!("/api/groups/{group}"));
        assert_eq!(d["group_type"], "consumer", "{d}");
        for m in d["members"].as_array().expect("members") {
            assert_eq!(m["member_state"], "STABLE", "{d}");
            assert!(partitions_of(&m["pending_revocation"]).is_empty(), "{d}");
            assert!(partitions_of(&m["pending_assignment"]).is_empty(), "{d}");
            assert_eq!(
                partitions_of(&m["assignment"]),
                partitions_of(&m["target_assignment"]),
                "{d}"
            );
        }

        // A classic group beside it (rdkafka's default protocol).
        let classic_group = format!("{topic}-classic");
        let c = harness::consumer(&broker, &[("group.id", classic_group.as_str())]);
        c.subscribe(&[topic.as_str()]).expect("subscribe");
        harness::wait_for("the classic member's assignment", LIMIT, || {
            let _ = c.poll(Duration::from_millis(100));
            (assigned(&c).len() == 4).then_some(())
        });
        let cg = listed(&addr, &classic_group).expect("the classic group is listed");
        assert_eq!(cg["group_type"], "classic", "{cg}");
        assert_eq!(cg["member_count"], 1, "{cg}");

        let (status, text) = crate::http::http(&addr, "GET", "/metrics", None);
        assert_eq!(status, 200);
        let gauge = |name: &str| {
            metric(&text, name).unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        };
        assert!(gauge("kafka_coordinator_groups{type=\"consumer\",state=\"Stable\"}") >= 1.0);
        assert!(gauge("kafka_coordinator_groups{type=\"classic\",state=\"Stable\"}") >= 1.0);
        assert_eq!(
            gauge(&format!(
                "kafka_consumergroup_members{{consumergroup=\"{group}\"}}"
            )),
            2.0
        );
        assert_eq!(
            gauge(&format!(
                "kafka_consumergroup_state{{consumergroup=\"{group}\",state=\"Stable\"}}"
            )),
            1.0
        );
        // Two joins: at least two group epoch bumps; one classic join phase.
        assert!(gauge("kafka_coordinator_group_consumer_rebalances_total") >= 2.0);
        assert!(gauge("kafka_coordinator_group_classic_rebalances_total") >= 1.0);
        // The console's group page shows the type, the epochs and member states.
        if let Some(dom) = console_group_dom(&addr, &group) {
            assert_eq!(
                text_of(&dom, "group-type").as_deref(),
                Some("consumer"),
                "{dom}"
            );
            assert_eq!(
                text_of(&dom, "group-epoch").and_then(|e| e.parse::<i64>().ok()),
                Some(epoch),
                "{dom}"
            );
            assert_eq!(dom.matches(">STABLE<").count(), 2, "{dom}");
        }
        drop((a, b, c));
    });
}

#[test]
fn http_api_and_metrics_show_share_group_state() {
    let Some((broker, addr)) = start(&[]) else {
        return;
    };
    harness::run(async {
        let topic = harness::unique_topic("http-share");
        let group = format!("{topic}-g");
        harness::create_topic(&broker, &topic, 1).await;
        let topic_id: uuid::Uuid = get_json(&addr, &format!("/api/topics/{topic}"))["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("topic id");

        let share_rebalances = || {
            let (_, text) = crate::http::http(&addr, "GET", "/metrics", None);
            metric(&text, "kafka_coordinator_group_share_rebalances_total")
                .unwrap_or_else(|| panic!("no share rebalance counter in /metrics:\n{text}"))
        };
        let rebalances_before = share_rebalances();
        // Join with ShareGroupHeartbeat (epoch 0, client-chosen member id).
        let mut raw = RawClient::connect(&broker.bootstrap());
        let hb_version = raw.pick_version(ApiKey::ShareGroupHeartbeat, 1);
        let member = uuid::Uuid::new_v4().to_string();
        let join = ShareGroupHeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.clone())))
            .with_member_id(StrBytes::from_string(member.clone()))
            .with_member_epoch(0)
            .with_subscribed_topic_names(Some(vec![TopicName(StrBytes::from_string(
                topic.clone(),
            ))]));
        let r = raw.call(&join, hb_version);
        assert_eq!(r.error_code, 0, "{r:?}");
        let epoch = r.member_epoch;
        harness::wait_for("the share member's assignment", LIMIT, || {
            let hb = ShareGroupHeartbeatRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(group.clone())))
                .with_member_id(StrBytes::from_string(member.clone()))
                .with_member_epoch(epoch);
            let _ = raw.call(&hb, hb_version);
            listed(&addr, &group).filter(|g| {
                g["members"][0]["assignment"][0]["partitions"] == serde_json::json!([0])
            })
        });

        // Records produced after the join (share.auto.offset.reset is
        // latest, as in Kafka).
        let producer = harness::future_producer(&broker, &[]);
        for i in 0..5 {
            let v = format!("v{i}");
            producer
                .send(
                    FutureRecord::<(), _>::to(&topic).partition(0).payload(&v),
                    harness::OP_TIMEOUT,
                )
                .await
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce: {e}")));
        }
        // ShareFetch opens a share session and acquires the five records.
        let fetch_version = raw.pick_version(ApiKey::ShareFetch, 1);
        let fetch = ShareFetchRequest::default()
            .with_group_id(Some(GroupId(StrBytes::from_string(group.clone()))))
            .with_member_id(Some(StrBytes::from_string(member.clone())))
            .with_share_session_epoch(0)
            .with_max_wait_ms(2000)
            .with_min_bytes(1)
            .with_max_bytes(1 << 20)
            .with_max_records(100)
            .with_batch_size(100)
            .with_topics(vec![FetchTopic::default()
                .with_topic_id(topic_id)
                .with_partitions(vec![FetchPartition::default()
                    .with_partition_index(0)
                    .with_partition_max_bytes(1 << 20)])]);
        let mut acquired = 0;
        let mut session_epoch = 0;
        harness::wait_for("ShareFetch to acquire the five records", LIMIT, || {
            let f = raw.call(
                &fetch.clone().with_share_session_epoch(session_epoch),
                fetch_version,
            );
            assert_eq!(f.error_code, 0, "{f:?}");
            session_epoch += 1;
            acquired += f
                .responses
                .iter()
                .flat_map(|t| &t.partitions)
                .flat_map(|p| &p.acquired_records)
                .map(|a| a.last_offset - a.first_offset + 1)
                .sum::<i64>();
            (acquired >= 5).then_some(())
        });
        assert_eq!(acquired, 5);

        let g = listed(&addr, &group).expect("the share group is listed");
        assert_eq!(g["group_type"], "share", "{g}");
        assert_eq!(g["state"], "Stable", "{g}");
        assert_eq!(g["member_count"], 1, "{g}");
        assert_eq!(g["members"][0]["member_id"], member.as_str(), "{g}");
        assert_eq!(
            g["members"][0]["subscribed_topic_names"],
            serde_json::json!([topic]),
            "{g}"
        );
        let sp = &g["share_partitions"][0];
        assert_eq!(sp["topic"], topic.as_str(), "{g}");
        assert_eq!(sp["start_offset"], 0, "{g}");
        assert_eq!(sp["end_offset"], 5, "{g}");
        assert_eq!(sp["in_flight"], 5, "{g}");
        assert_eq!(sp["acquired"], 5, "{g}");
        assert_eq!(g["acquired"], 5, "{g}");
        let d = get_json(&addr, &format!("/api/groups/{group}"));
        assert_eq!(d["share_partitions"], g["share_partitions"], "{d}");

        let (_, text) = crate::http::http(&addr, "GET", "/metrics", None);
        let labels = format!("sharegroup=\"{group}\",topic=\"{topic}\",partition=\"0\"");
        let gauge = |name: &str| {
            metric(&text, name).unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        };
        assert_eq!(
            gauge(&format!(
                "kafka_sharegroup_members{{sharegroup=\"{group}\"}}"
            )),
            1.0
        );
        assert_eq!(
            gauge(&format!("kafka_sharegroup_records_acquired{{{labels}}}")),
            5.0
        );
        assert_eq!(
            gauge(&format!("kafka_sharegroup_records_in_flight{{{labels}}}")),
            5.0
        );
        assert_eq!(
            gauge(&format!("kafka_sharegroup_start_offset{{{labels}}}")),
            0.0
        );
        assert!(gauge("kafka_coordinator_groups{type=\"share\",state=\"Stable\"}") >= 1.0);
        // The join bumped the group epoch once: one share rebalance.
        let rebalances_joined = share_rebalances();
        assert_eq!(rebalances_joined, rebalances_before + 1.0);
        // A second member joins and leaves: two more epoch bumps.
        let other = uuid::Uuid::new_v4().to_string();
        let r = raw.call(
            &join
                .clone()
                .with_member_id(StrBytes::from_string(other.clone())),
            hb_version,
        );
        assert_eq!(r.error_code, 0, "{r:?}");
        let leave = ShareGroupHeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.clone())))
            .with_member_id(StrBytes::from_string(other))
            .with_member_epoch(-1);
        assert_eq!(raw.call(&leave, hb_version).error_code, 0);
        assert_eq!(share_rebalances(), rebalances_joined + 2.0);
        if let Some(dom) = console_group_dom(&addr, &group) {
            assert_eq!(
                text_of(&dom, "group-type").as_deref(),
                Some("share"),
                "{dom}"
            );
            assert!(dom.contains("id=\"share-partitions\""), "{dom}");
            assert!(dom.contains(&member), "{dom}");
        }
        assert_eq!(
            gauge(&format!(
                "kafka_consumergroup_state{{consumergroup=\"{group}\",state=\"Stable\"}}"
            )),
            1.0
        );
    });
}
