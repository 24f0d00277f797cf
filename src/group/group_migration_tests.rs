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

/// The epoch of member `m` of consumer group "g".
fn epoch_of(h: &H, m: &str) -> Option<i32> {
    h.c.consumer_group_describe(&["g".into()], &topics())
        .pop()
        .unwrap()
        .members
        .iter()
        .find(|x| x.member_id == m)
        .map(|x| x.member_epoch)
}

/// c1 heartbeats (so only the classic member can time out).
fn keep_alive(h: &H, member: &str) {
    if let Some(e) = epoch_of(h, member) {
        h.c.consumer_group_heartbeat(beat(member, e, vec![]), topics())
            .unwrap();
    }
}

fn static_join(member: &str, instance: &str) -> JoinGroupParams {
    JoinGroupParams {
        group_instance_id: Some(instance.into()),
        ..join_params("g", member, &["range"])
    }
}

#[test]
fn a_classic_member_that_does_not_rejoin_within_its_rebalance_timeout_is_fenced() {
    let h = H::new();
    let (m, generation) = classic_group(&h);
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    // Told to rejoin; it keeps heartbeating (its session never lapses) but
    // never sends JoinGroup. Repeated answers do not move the deadline.
    let told_at = h.now();
    for _ in 0..7 {
        assert!(matches!(
            h.heartbeat("g", &m, generation),
            Err(GroupError::RebalanceInProgress)
        ));
        keep_alive(&h, "c1");
        h.advance(4_000);
    }
    assert!(
        epoch_of(&h, &m).is_some(),
        "still a member before the deadline"
    );
    h.advance(2_000);
    assert!(h.now() >= told_at + i64::from(REBALANCE));
    assert_eq!(epoch_of(&h, &m), None, "fenced at the rebalance timeout");
    // c1 takes everything.
    keep_alive(&h, "c1");
    let e = epoch_of(&h, "c1").unwrap();
    let r =
        h.c.consumer_group_heartbeat(beat("c1", e, vec![]), topics())
            .unwrap();
    let d =
        h.c.consumer_group_describe(&["g".into()], &topics())
            .pop()
            .unwrap();
    assert_eq!(d.members.len(), 1);
    assert_eq!(r.member_id, "c1");
}

#[test]
fn a_classic_member_that_joins_but_does_not_sync_in_time_is_fenced() {
    let h = H::new();
    let (m, _) = classic_group(&h);
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    // It rejoins at once, then only heartbeats.
    let j = ready(h.join("g", &m, &["range"]));
    assert!(j.error.is_none(), "{j:?}");
    let joined_at = h.now();
    for _ in 0..7 {
        let _ = h.heartbeat("g", &m, j.generation_id);
        keep_alive(&h, "c1");
        h.advance(4_000);
    }
    assert!(epoch_of(&h, &m).is_some());
    h.advance(2_000);
    assert!(h.now() >= joined_at + i64::from(REBALANCE));
    assert_eq!(
        epoch_of(&h, &m),
        None,
        "fenced: no SyncGroup within the rebalance timeout"
    );
}

#[test]
fn a_classic_member_that_rejoins_and_syncs_in_time_stays() {
    let h = H::new();
    let (m, generation) = classic_group(&h);
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    assert!(matches!(
        h.heartbeat("g", &m, generation),
        Err(GroupError::RebalanceInProgress)
    ));
    h.advance(i64::from(REBALANCE) / 2);
    keep_alive(&h, "c1");
    let (mut epoch, _) = classic_rejoin(&h, &m);
    // Well past both deadlines, behaving as a client does: rejoin and sync
    // when told to.
    for _ in 0..20 {
        if let Err(GroupError::RebalanceInProgress) = h.heartbeat("g", &m, epoch) {
            epoch = classic_rejoin(&h, &m).0;
        }
        keep_alive(&h, "c1");
        h.advance(4_000);
    }
    assert!(epoch_of(&h, &m).is_some());
}

#[test]
fn a_classic_static_member_replacing_the_last_consumer_member_downgrades_the_group() {
    let mut h = H::new();
    h.c.refresh_topics(topics());
    // A consumer group: static consumer-protocol member c1 (instance i1)
    // and a classic member m, each with half of "t".
    let join_c1 = ConsumerHeartbeatRequest {
        instance_id: Some("i1".into()),
        ..consumer_join("c1")
    };
    h.c.consumer_group_heartbeat(join_c1, topics()).unwrap();
    let first = ready(h.join("g", "", &["range"]));
    let m = first.member_id.clone();
    let (mut generation, mut mine) = classic_rejoin(&h, &m);
    let beat_c1 = |e, owned| ConsumerHeartbeatRequest {
        instance_id: Some("i1".into()),
        ..beat("c1", e, owned)
    };
    // c1 revokes half, then m takes it on its next rejoin.
    let mut theirs: Vec<i32> = vec![0, 1, 2, 3];
    let mut c1_epoch = epoch_of(&h, "c1").unwrap();
    for _ in 0..4 {
        let r =
            h.c.consumer_group_heartbeat(beat_c1(c1_epoch, theirs.clone()), topics())
                .unwrap();
        c1_epoch = r.member_epoch;
        if let Some(a) = r.assignment {
            theirs = a
                .get(&TOPIC)
                .map(|ps| ps.iter().copied().collect())
                .unwrap_or_default();
        }
        if let Err(GroupError::RebalanceInProgress) = h.heartbeat("g", &m, generation) {
            (generation, mine) = classic_rejoin(&h, &m);
        }
    }
    assert_eq!((mine.len(), theirs.len()), (2, 2), "{mine:?} {theirs:?}");
    let r =
        h.c.consumer_group_heartbeat(beat_c1(c1_epoch, theirs.clone()), topics())
            .unwrap();

    // c1's instance comes back as a classic consumer (no member id): it
    // replaces c1 at once, and with no consumer-protocol member left the
    // group is classic again, stable (same subscription), c1's partitions
    // going to the new member.
    let j = ready(h.c.begin_join(static_join("", "i1")));
    assert!(j.error.is_none(), "{j:?}");
    assert_ne!(j.member_id, "c1");
    assert_eq!(j.generation_id, r.member_epoch);
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    assert!(h.c.consumer_group_describe(&["g".into()], &topics())[0]
        .error
        .is_some());
    let s = ready(h.c.begin_sync(SyncGroupParams {
        group_instance_id: Some("i1".into()),
        ..sync_params(&j.member_id, j.generation_id)
    }));
    assert!(s.error.is_none(), "{s:?}");
    let got: Vec<i32> = decode_assignment(&s.assignment)
        .unwrap()
        .into_iter()
        .flat_map(|(_, ps)| ps)
        .collect();
    assert_eq!(got, theirs);
    // Durable.
    h.reopen();
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    let d = h.c.describe_groups(&["g".into()]).pop().unwrap();
    assert_eq!(d.members.len(), 2);
    assert!(d.members.iter().any(|x| x.member_id == j.member_id));
}

#[test]
fn a_classic_static_member_replacing_a_consumer_member_with_another_subscription_rebalances() {
    let h = H::new();
    h.c.refresh_topics(topics());
    let join_c1 = ConsumerHeartbeatRequest {
        instance_id: Some("i1".into()),
        subscribed_topic_names: Some(vec!["t".into(), "u".into()]),
        ..consumer_join("c1")
    };
    h.c.consumer_group_heartbeat(join_c1, topics()).unwrap();
    let m = ready(h.join("g", "", &["range"])).member_id;
    classic_rejoin(&h, &m);
    let j = ready(h.c.begin_join(static_join("", "i1")));
    assert!(j.error.is_none(), "{j:?}");
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
}

#[test]
fn classic_static_joins_are_checked_as_kafka_does() {
    let h = H::new();
    h.c.refresh_topics(topics());
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    // A known member id for an instance nobody holds.
    let r = ready(h.c.begin_join(static_join("ghost", "i9")));
    assert!(
        matches!(
            r.error,
            Some(GroupError::Consumer(ConsumerGroupError::UnknownMemberId(_)))
        ),
        "{r:?}"
    );
    // The instance is held by another member id.
    let first = ready(h.c.begin_join(static_join("", "i2")));
    assert!(first.error.is_none(), "{first:?}");
    let r = ready(h.c.begin_join(static_join("other", "i2")));
    assert!(
        matches!(
            r.error,
            Some(GroupError::Consumer(ConsumerGroupError::FencedInstanceId(
                _
            )))
        ),
        "{r:?}"
    );
    // Rejoining with its own id keeps the member.
    let r = ready(h.c.begin_join(static_join(&first.member_id, "i2")));
    assert!(r.error.is_none(), "{r:?}");
    assert_eq!(r.member_id, first.member_id);
}

#[test]
fn a_consumer_static_member_replaces_a_classic_static_member_at_once() {
    let h = H::new();
    h.c.refresh_topics(topics());
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    let old = ready(h.c.begin_join(static_join("", "i2")));
    assert!(old.error.is_none(), "{old:?}");
    // The same instance, now with the consumer protocol: no LeaveGroup
    // came, yet it is not UNRELEASED_INSTANCE_ID (Kafka checks that only
    // between two consumer-protocol members).
    let join_c2 = ConsumerHeartbeatRequest {
        instance_id: Some("i2".into()),
        ..consumer_join("c2")
    };
    let r = h.c.consumer_group_heartbeat(join_c2, topics()).unwrap();
    assert_eq!(r.member_id, "c2");
    let d =
        h.c.consumer_group_describe(&["g".into()], &topics())
            .pop()
            .unwrap();
    assert!(d.members.iter().all(|x| x.member_id != old.member_id));
    let c2 = d.members.iter().find(|x| x.member_id == "c2").unwrap();
    assert!(!c2.classic, "the replacement speaks the consumer protocol");
    assert_eq!(c2.instance_id.as_deref(), Some("i2"));
    // The replaced classic member's requests are fenced.
    assert!(matches!(
        h.c.heartbeat(HeartbeatParams {
            group_id: "g".into(),
            generation_id: old.generation_id,
            member_id: old.member_id.clone(),
            group_instance_id: Some("i2".into()),
        }),
        Err(GroupError::FencedInstanceId) | Err(GroupError::UnknownMemberId)
    ));
}

fn sync_params(member: &str, generation: i32) -> SyncGroupParams {
    SyncGroupParams {
        group_id: "g".into(),
        generation_id: generation,
        member_id: member.into(),
        group_instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments: vec![],
    }
}

#[test]
fn a_classic_join_into_a_consumer_group_ignores_the_migration_policy() {
    // Kafka's classicGroupJoin sends a JoinGroup for a non-empty consumer
    // group to classicGroupJoinToConsumerGroup with no policy check: the
    // policy governs conversions only.
    let mut config = GroupConfig::default();
    config.consumer.migration_policy = MigrationPolicy::Disabled;
    let h = H::with(config);
    h.c.refresh_topics(topics());
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    let first = ready(h.join("g", "", &["range"]));
    assert!(first.error.is_none(), "{first:?}");
    let d =
        h.c.consumer_group_describe(&["g".into()], &topics())
            .pop()
            .unwrap();
    assert!(d
        .members
        .iter()
        .any(|x| x.member_id == first.member_id && x.classic));
}

#[test]
fn a_fence_before_any_request_after_a_restart_sees_the_topics() {
    let mut h = H::new();
    h.c.refresh_topics(topics());
    h.c.consumer_group_heartbeat(consumer_join("c1"), topics())
        .unwrap();
    let m = ready(h.join("g", "", &["range"])).member_id;
    classic_rejoin(&h, &m);
    let target_of_c1 = |h: &H| -> usize {
        h.c.consumer_group_describe(&["g".into()], &topics())[0]
            .members
            .iter()
            .find(|x| x.member_id == "c1")
            .map_or(0, |x| {
                x.target_assignment.iter().map(|(_, _, ps)| ps.len()).sum()
            })
    };
    assert_eq!(target_of_c1(&h), 2);

    // Restart as the broker does it: the coordinator reads the topics
    // itself. No request arrives; the classic member's session (shorter
    // than c1's) expires and it is fenced: the group epoch record must
    // carry the metadata of the topics as they are, or c1's next
    // heartbeat sees them "change" and rebalances once more for nothing.
    h.reopen();
    h.c.set_topics_source(TopicsSource(Arc::new(topics)));
    h.advance(i64::from(SESSION));
    let d = h.c.consumer_group_describe(&["g".into()], &topics())[0].clone();
    assert_eq!(d.members.len(), 1, "the classic member was fenced");
    let fenced_epoch = d.group_epoch;
    let mut e = epoch_of(&h, "c1").unwrap();
    let mut owned = vec![];
    for _ in 0..3 {
        let r =
            h.c.consumer_group_heartbeat(beat("c1", e, owned.clone()), topics())
                .unwrap();
        e = r.member_epoch;
        if let Some(a) = r.assignment {
            owned = a
                .get(&TOPIC)
                .map(|ps| ps.iter().copied().collect())
                .unwrap_or_default();
        }
    }
    let d = &h.c.consumer_group_describe(&["g".into()], &topics())[0];
    assert_eq!(d.group_epoch, fenced_epoch, "no second rebalance");
    assert_eq!(e, fenced_epoch);
    let held: usize = d.members[0]
        .assignment
        .iter()
        .map(|(_, _, ps)| ps.len())
        .sum();
    assert_eq!(held, 4);
    assert_eq!(target_of_c1(&h), 4);
}
