//! KIP-848 groups through the coordinator: records reach
//! `__consumer_offsets` and replay into the same group, sessions expire on
//! the coordinator's timers, an empty classic group converts.

use uuid::Uuid;

use super::*;
use crate::group::consumer::topics::TopicsImage;
use crate::group::consumer::ConsumerGroupError;

const TOPIC: Uuid = Uuid::from_u128(42);

fn topics() -> TopicsImage {
    TopicsImage::new([("orders".to_string(), TOPIC, 4)])
}

fn join(member: &str) -> ConsumerHeartbeatRequest {
    ConsumerHeartbeatRequest {
        group_id: "cg".into(),
        member_id: member.into(),
        member_epoch: 0,
        rebalance_timeout_ms: 30_000,
        subscribed_topic_names: Some(vec!["orders".into()]),
        topic_partitions: Some(vec![]),
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        api_version: 1,
        ..ConsumerHeartbeatRequest::default()
    }
}

fn describe(h: &H) -> ConsumerGroupDescription {
    h.c.consumer_group_describe(&["cg".to_string()], &topics())
        .pop()
        .unwrap()
}

#[test]
fn a_restart_replays_epochs_and_assignments() {
    let mut h = H::new();
    let r = h.c.consumer_group_heartbeat(join("m1"), topics()).unwrap();
    assert_eq!(r.member_epoch, 1);
    assert_eq!(r.assignment.map(|a| a[&TOPIC].len()), Some(4));
    let before = describe(&h);
    h.reopen();
    let after = describe(&h);
    assert!(after.error.is_none());
    assert_eq!(after.group_epoch, before.group_epoch);
    assert_eq!(after.members.len(), 1);
    assert_eq!(after.members[0].member_epoch, 1);
    assert_eq!(after.members[0].assignment, before.members[0].assignment);
    // The member goes on at its epoch after the restart.
    let beat = ConsumerHeartbeatRequest {
        member_epoch: 1,
        rebalance_timeout_ms: -1,
        subscribed_topic_names: None,
        topic_partitions: Some(vec![(TOPIC, vec![0, 1, 2, 3])]),
        ..join("m1")
    };
    let r = h.c.consumer_group_heartbeat(beat, topics()).unwrap();
    assert_eq!(r.member_epoch, 1);
    assert_eq!(r.assignment, None);
}

#[test]
fn a_silent_member_is_fenced_when_its_session_ends() {
    let mut h = H::new();
    h.c.consumer_group_heartbeat(join("m1"), topics()).unwrap();
    h.advance(44_999);
    assert_eq!(describe(&h).members.len(), 1);
    h.advance(2);
    let d = describe(&h);
    assert!(d.members.is_empty());
    assert_eq!(d.state, "Empty");
    h.reopen();
    assert!(describe(&h).members.is_empty(), "the fencing was written");
}

#[test]
fn an_empty_classic_group_converts_and_unknown_groups_are_not_found() {
    let h = H::new();
    // Offsets committed outside group management: an empty classic group.
    let r = h.c.commit_offsets(CommitParams {
        group_id: "cg".into(),
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        retention_time_ms: -1,
        unknown_group_is_not_found: true,
        offsets: vec![CommitOffset {
            topic: "orders".into(),
            partition: 0,
            offset: 5,
            leader_epoch: -1,
            metadata: None,
            commit_timestamp_ms: None,
        }],
    });
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    assert_eq!(
        h.c.list_groups(&[], &[])[0].group_type,
        crate::group::group_metadata_manager::CLASSIC_GROUP_TYPE
    );
    h.c.consumer_group_heartbeat(join("m1"), topics()).unwrap();
    let listed = h.c.list_groups(&[], &["consumer".into()]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, "Stable");
    let fetched = h.c.fetch_offsets("cg", None);
    assert_eq!(fetched[0].partitions[0].offset, 5, "offsets kept");
    // Describing it as a classic group: not found, as Kafka.
    assert!(!h.c.describe_groups(&["cg".to_string()])[0].found);
    // Unknown group with a non-zero epoch.
    let stray = ConsumerHeartbeatRequest {
        group_id: "nope".into(),
        member_epoch: 3,
        ..join("m1")
    };
    let stray = ConsumerHeartbeatRequest {
        rebalance_timeout_ms: -1,
        topic_partitions: None,
        ..stray
    };
    assert!(matches!(
        h.c.consumer_group_heartbeat(stray, topics()),
        Err(GroupError::Consumer(ConsumerGroupError::GroupIdNotFound(_)))
    ));
}
