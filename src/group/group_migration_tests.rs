//! Online migration (KIP-848) through the coordinator, on the manual
//! clock: a consumer-protocol member upgrades a running classic group, the
//! classic member is assigned by the broker through JoinGroup/SyncGroup,
//! the mix survives a restart, and the last consumer-protocol member
//! leaving turns the group classic again; `disabled` refuses the mix.

use uuid::Uuid;

use super::*;
use crate::group::consumer::{ConsumerGroupError, MigrationPolicy};
use crate::group::consumer_protocol::{decode_assignment, encode_assignment};

const TOPIC: Uuid = Uuid::from_u128(7);

fn topics() -> TopicsImage {
    TopicsImage::new([("t".to_string(), TOPIC, 4)])
}

fn consumer_join(member: &str) -> ConsumerHeartbeatRequest {
    ConsumerHeartbeatRequest {
        group_id: "g".into(),
        member_id: member.into(),
        member_epoch: 0,
        rebalance_timeout_ms: 30_000,
        subscribed_topic_names: Some(vec!["t".into()]),
        topic_partitions: Some(vec![]),
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        api_version: 1,
        ..ConsumerHeartbeatRequest::default()
    }
}

fn beat(member: &str, epoch: i32, owned: Vec<i32>) -> ConsumerHeartbeatRequest {
    ConsumerHeartbeatRequest {
        member_epoch: epoch,
        rebalance_timeout_ms: -1,
        subscribed_topic_names: None,
        topic_partitions: Some(vec![(TOPIC, owned)]),
        ..consumer_join(member)
    }
}

/// A classic group "g" with one stable member holding all of "t".
fn classic_group(h: &H) -> (String, i32) {
    h.c.refresh_topics(topics());
    let (m, mut rx) = h.join_new("g");
    h.c.tick(h.now());
    let j = take(&mut rx);
    assert!(j.error.is_none(), "{j:?}");
    let all = encode_assignment(0, &[("t".to_string(), vec![0, 1, 2, 3])]);
    let s = ready(h.c.begin_sync(SyncGroupParams {
        group_id: "g".into(),
        generation_id: j.generation_id,
        member_id: m.clone(),
        group_instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments: vec![(m.clone(), Bytes::from(all))],
    }));
    assert!(s.error.is_none());
    (m, j.generation_id)
}

/// A classic member's JoinGroup + SyncGroup in a consumer group: its
/// generation and partitions of "t".
fn classic_rejoin(h: &H, m: &str) -> (i32, Vec<i32>) {
    let j = ready(h.join("g", m, &["range"]));
    assert!(j.error.is_none(), "{j:?}");
    assert_eq!(j.leader, "");
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    let s = ready(h.sync("g", m, j.generation_id, &[]));
    assert!(s.error.is_none(), "{s:?}");
    let parts = decode_assignment(&s.assignment).unwrap();
    let ps = parts.into_iter().flat_map(|(_, ps)| ps).collect();
    (j.generation_id, ps)
}

#[test]
fn upgrade_assign_restart_and_downgrade() {
    let mut h = H::new();
    let (m, generation) = classic_group(&h);

    // A consumer-protocol member converts the group; the classic member
    // keeps its partitions until it rejoins, so the newcomer waits.
    let r =
        h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
            .unwrap();
    assert_eq!(r.member_epoch, generation + 1);
    assert_eq!(r.assignment.map(|a| a.len()), Some(0));
    let d =
        h.c.consumer_group_describe(&["g".into()], &topics())
            .pop()
            .unwrap();
    assert!(d.error.is_none());
    assert_eq!(d.members.len(), 2);
    assert!(d.members.iter().any(|x| x.member_id == m && x.classic));
    let listed = h.c.list_groups(&[], &[]);
    assert_eq!(listed[0].group_type, "consumer");

    // The classic member is told to rejoin, gets half, commits at its epoch.
    assert!(matches!(
        h.heartbeat("g", &m, generation),
        Err(GroupError::RebalanceInProgress)
    ));
    let (epoch, mine) = classic_rejoin(&h, &m);
    assert_eq!(epoch, generation + 1);
    assert_eq!(mine.len(), 2);
    assert!(h.heartbeat("g", &m, epoch).is_ok());
    assert!(h.commit("g", &m, epoch, "t", 0, 5).is_ok());
    assert!(matches!(
        h.commit("g", &m, epoch + 7, "t", 0, 5),
        Err(GroupError::Consumer(ConsumerGroupError::IllegalGeneration(
            _
        )))
    ));
    let r =
        h.c.consumer_group_heartbeat(beat("c1", r.member_epoch, vec![]), topics())
            .unwrap();
    let theirs: Vec<i32> = r.assignment.unwrap()[&TOPIC].iter().copied().collect();
    let mut all: Vec<i32> = mine.iter().chain(&theirs).copied().collect();
    all.sort();
    assert_eq!(all, vec![0, 1, 2, 3], "disjoint and complete");

    // The mix survives a restart, classic metadata included.
    h.reopen();
    h.c.refresh_topics(topics());
    let d =
        h.c.consumer_group_describe(&["g".into()], &topics())
            .pop()
            .unwrap();
    assert!(d.error.is_none());
    assert!(d
        .members
        .iter()
        .any(|x| x.member_id == m && x.classic && x.member_epoch == epoch));
    assert!(h.heartbeat("g", &m, epoch).is_ok());

    // The consumer-protocol member leaves: classic again, rebalancing.
    let leave = ConsumerHeartbeatRequest {
        member_epoch: -1,
        ..beat("c1", r.member_epoch, theirs)
    };
    h.c.consumer_group_heartbeat(leave, topics()).unwrap();
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
    assert!(matches!(
        h.heartbeat("g", &m, epoch),
        Err(GroupError::RebalanceInProgress)
    ));
    let j = h.join("g", &m, &["range"]);
    let j = match j {
        Pending::Ready(j) => j,
        Pending::Waiting(mut rx) => {
            h.c.tick(h.now());
            take(&mut rx)
        }
    };
    assert!(j.error.is_none(), "{j:?}");
    assert_eq!(j.leader, m);
    // And that too is durable.
    h.reopen();
    assert!(h.c.consumer_group_describe(&["g".into()], &topics())[0]
        .error
        .is_some());
    assert!(h.c.group_state("g").is_some());
}

#[test]
fn a_classic_member_session_expiry_fences_it_in_the_consumer_group() {
    let h = H::new();
    let (m, _) = classic_group(&h);
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    // c1 keeps heartbeating; the classic member goes silent.
    for _ in 0..3 {
        h.advance(i64::from(SESSION) / 2);
        let e =
            h.c.consumer_group_describe(&["g".into()], &topics())
                .pop()
                .unwrap()
                .members
                .iter()
                .find(|x| x.member_id == "c1")
                .map(|x| x.member_epoch)
                .unwrap();
        h.c.consumer_group_heartbeat(beat("c1", e, vec![]), topics())
            .unwrap();
    }
    let d =
        h.c.consumer_group_describe(&["g".into()], &topics())
            .pop()
            .unwrap();
    assert!(
        d.members.iter().all(|x| x.member_id != m),
        "{:?}",
        d.members
    );
    assert_eq!(d.members.len(), 1);
}

#[test]
fn disabled_policy_refuses_the_mix() {
    let mut config = GroupConfig::default();
    config.consumer.migration_policy = MigrationPolicy::Disabled;
    let h = H::with(config);
    let (m, generation) = classic_group(&h);
    let e =
        h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
            .unwrap_err();
    assert!(
        matches!(
            e,
            GroupError::Consumer(ConsumerGroupError::GroupIdNotFound(_))
        ),
        "{e:?}"
    );
    assert!(h.heartbeat("g", &m, generation).is_ok());
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
}

#[test]
fn policy_names_parse_as_kafka_does() {
    assert_eq!(MigrationPolicy::parse("UPGRADE"), MigrationPolicy::Upgrade);
    assert_eq!(
        MigrationPolicy::parse("bidirectional"),
        MigrationPolicy::Bidirectional
    );
    assert_eq!(
        MigrationPolicy::parse("Downgrade"),
        MigrationPolicy::Downgrade
    );
    assert_eq!(
        MigrationPolicy::parse("nonsense"),
        MigrationPolicy::Disabled
    );
    assert!(MigrationPolicy::Upgrade.upgrade_enabled());
    assert!(!MigrationPolicy::Upgrade.downgrade_enabled());
}
