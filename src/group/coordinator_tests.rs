//! Coordinator unit tests: every state transition and timeout, driven by a
//! `ManualClock` and explicit `tick(now)` calls (no sleeps), against a real
//! `__consumer_offsets` in a temporary data dir.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::*;
use crate::clock::ManualClock;
use crate::group::consumer_protocol::encode_subscription;
use crate::group::member::Protocol;
use crate::storage::LogConfig;

const SESSION: i32 = 10_000;
const REBALANCE: i32 = 30_000;

struct H {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    config: GroupConfig,
    c: GroupCoordinator,
}

impl H {
    fn new() -> H {
        H::with(GroupConfig::default())
    }

    fn with(config: GroupConfig) -> H {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000_000));
        let c = open(dir.path(), &config, &clock);
        H {
            dir,
            clock,
            config,
            c,
        }
    }

    /// Drops the coordinator and replays `__consumer_offsets` from disk.
    fn reopen(&mut self) {
        self.c = open(self.dir.path(), &self.config, &self.clock);
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Moves the clock and fires what is due.
    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
        self.c.tick(self.now());
    }

    fn join(&self, group: &str, member: &str, protocols: &[&str]) -> Pending<JoinGroupResult> {
        self.c.begin_join(join_params(group, member, protocols))
    }

    /// A dynamic member joins an empty or stable group through the v4+
    /// MEMBER_ID_REQUIRED round trip; returns its parked JoinGroup.
    fn join_new(&self, group: &str) -> (String, oneshot::Receiver<JoinGroupResult>) {
        let mut p = join_params(group, "", &["range"]);
        p.require_known_member_id = true;
        let first = ready(self.c.begin_join(p.clone()));
        assert!(
            matches!(first.error, Some(GroupError::MemberIdRequired)),
            "{first:?}"
        );
        p.member_id = first.member_id.clone();
        (first.member_id, waiting(self.c.begin_join(p)))
    }

    fn sync(
        &self,
        group: &str,
        member: &str,
        generation: i32,
        assignments: &[(&str, &str)],
    ) -> Pending<SyncGroupResult> {
        self.c.begin_sync(SyncGroupParams {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: assignments
                .iter()
                .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
                .collect(),
        })
    }

    fn heartbeat(&self, group: &str, member: &str, generation: i32) -> Result<(), GroupError> {
        self.c.heartbeat(HeartbeatParams {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            group_instance_id: None,
        })
    }

    fn commit(
        &self,
        group: &str,
        member: &str,
        generation: i32,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), GroupError> {
        let mut r = self.c.commit_offsets(CommitParams {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            group_instance_id: None,
            retention_time_ms: -1,
            unknown_group_is_not_found: false,
            offsets: vec![CommitOffset {
                topic: topic.into(),
                partition,
                offset,
                leader_epoch: 0,
                metadata: Some("meta".into()),
                commit_timestamp_ms: None,
            }],
        });
        r.remove(0)
    }

    fn committed(&self, group: &str, topic: &str, partition: i32) -> i64 {
        self.c
            .fetch_offsets(group, Some(vec![(topic.into(), vec![partition])]))[0]
            .partitions[0]
            .offset
    }

    /// One member, joined and synced: (member id, generation).
    fn stable_single(&self, group: &str) -> (String, i32) {
        let (m, mut rx) = self.join_new(group);
        self.c.tick(self.now());
        let j = take(&mut rx);
        assert!(j.error.is_none(), "{j:?}");
        let s = ready(self.sync(group, &m, j.generation_id, &[(&m, "A")]));
        assert!(s.error.is_none());
        (m, j.generation_id)
    }
}

fn open(dir: &std::path::Path, config: &GroupConfig, clock: &Arc<ManualClock>) -> GroupCoordinator {
    let logs = LogManager::open(dir, LogConfig::default(), clock.now_ms()).unwrap();
    GroupCoordinator::open(config.clone(), &logs, clock.clone()).unwrap()
}

fn subscription(topics: &[&str]) -> Bytes {
    Bytes::from(encode_subscription(topics))
}

fn join_params(group: &str, member: &str, protocols: &[&str]) -> JoinGroupParams {
    JoinGroupParams {
        group_id: group.into(),
        member_id: member.into(),
        group_instance_id: None,
        client_id: "client".into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: SESSION,
        rebalance_timeout_ms: REBALANCE,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| Protocol {
                name: p.to_string(),
                metadata: subscription(&["t"]),
            })
            .collect(),
        require_known_member_id: false,
        supports_skip_assignment: false,
        reason: None,
    }
}

fn ready<T: std::fmt::Debug>(p: Pending<T>) -> T {
    match p {
        Pending::Ready(r) => r,
        Pending::Waiting(_) => panic!("expected an immediate answer"),
    }
}

fn waiting<T: std::fmt::Debug>(p: Pending<T>) -> oneshot::Receiver<T> {
    match p {
        Pending::Waiting(rx) => rx,
        Pending::Ready(r) => panic!("expected a parked request, got {r:?}"),
    }
}

/// The answer of a parked request that must have been answered by now.
fn take<T>(rx: &mut oneshot::Receiver<T>) -> T {
    rx.try_recv().expect("parked request not answered")
}

fn still_parked<T>(rx: &mut oneshot::Receiver<T>) -> bool {
    matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty))
}

// ---------------------------------------------------------------------------
// Join / sync / state transitions
// ---------------------------------------------------------------------------

#[test]
fn first_member_goes_empty_preparing_completing_stable() {
    let h = H::new();
    let (m, mut rx) = h.join_new("g");
    // Empty -> PreparingRebalance; the initial rebalance completes on the
    // next tick (group.initial.rebalance.delay.ms = 0).
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
    assert!(still_parked(&mut rx));
    h.c.tick(h.now());
    let j = take(&mut rx);
    assert!(j.error.is_none());
    assert_eq!(j.generation_id, 1);
    assert_eq!(j.leader, m);
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    assert_eq!(j.protocol_type.as_deref(), Some("consumer"));
    assert_eq!(j.members.len(), 1);
    assert_eq!(j.members[0].metadata, subscription(&["t"]));
    assert_eq!(h.c.group_state("g"), Some(GroupState::CompletingRebalance));
    // A commit before the assignment: REBALANCE_IN_PROGRESS.
    assert!(matches!(
        h.commit("g", &m, 1, "t", 0, 5),
        Err(GroupError::RebalanceInProgress)
    ));
    let s = ready(h.sync("g", &m, 1, &[(&m, "assignment")]));
    assert!(s.error.is_none());
    assert_eq!(s.assignment, Bytes::from_static(b"assignment"));
    assert_eq!(s.protocol_name.as_deref(), Some("range"));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    assert!(h.heartbeat("g", &m, 1).is_ok());
    assert!(h.commit("g", &m, 1, "t", 0, 5).is_ok());
}

#[test]
fn second_member_triggers_a_rebalance_and_followers_wait_for_the_leader() {
    let h = H::new();
    let (a, gen1) = h.stable_single("g");
    let (b, mut b_join) = h.join_new("g");
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
    assert!(still_parked(&mut b_join));
    // The leader learns of the rebalance through its heartbeat.
    assert!(matches!(
        h.heartbeat("g", &a, gen1),
        Err(GroupError::RebalanceInProgress)
    ));
    assert!(matches!(
        ready(h.sync("g", &a, gen1, &[])).error,
        Some(GroupError::RebalanceInProgress)
    ));
    // Every known member rejoined: the phase completes without a timer.
    let ja = ready(h.join("g", &a, &["range"]));
    let jb = take(&mut b_join);
    assert_eq!(ja.generation_id, gen1 + 1);
    assert_eq!(jb.generation_id, gen1 + 1);
    assert_eq!(ja.leader, a);
    assert_eq!(ja.members.len(), 2);
    assert!(jb.members.is_empty());
    // Follower first: parked until the leader sends the assignment.
    let mut b_sync = waiting(h.sync("g", &b, jb.generation_id, &[]));
    assert!(still_parked(&mut b_sync));
    let sa = ready(h.sync("g", &a, ja.generation_id, &[(&a, "A"), (&b, "B")]));
    assert_eq!(sa.assignment, Bytes::from_static(b"A"));
    assert_eq!(take(&mut b_sync).assignment, Bytes::from_static(b"B"));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    // The old generation is gone.
    assert!(matches!(
        h.heartbeat("g", &a, gen1),
        Err(GroupError::IllegalGeneration)
    ));
    assert!(matches!(
        h.commit("g", &a, gen1, "t", 0, 1),
        Err(GroupError::IllegalGeneration)
    ));
}

#[test]
fn rebalance_timeout_drops_members_that_do_not_rejoin() {
    let h = H::new();
    let (a, gen1) = h.stable_single("g");
    let (b, mut b_join) = h.join_new("g");
    // a keeps heartbeating (its session stays alive) but never rejoins.
    for _ in 0..(REBALANCE / 5_000 - 1) {
        h.advance(5_000);
        assert!(matches!(
            h.heartbeat("g", &a, gen1),
            Err(GroupError::RebalanceInProgress)
        ));
    }
    h.advance(4_999);
    assert!(still_parked(&mut b_join));
    h.advance(1);
    let jb = take(&mut b_join);
    assert!(jb.error.is_none());
    assert_eq!(jb.leader, b);
    assert_eq!(jb.members.len(), 1);
    assert!(matches!(
        h.heartbeat("g", &a, gen1),
        Err(GroupError::UnknownMemberId)
    ));
}

#[test]
fn session_timeout_evicts_a_silent_member_and_rebalances() {
    let h = H::new();
    let (a, gen1) = h.stable_single("g");
    let (b, mut b_join) = h.join_new("g");
    let gen2 = ready(h.join("g", &a, &["range"])).generation_id;
    take(&mut b_join);
    let _ = ready(h.sync("g", &a, gen2, &[(&a, "A"), (&b, "B")]));
    let _ = ready(h.sync("g", &b, gen2, &[]));
    assert!(gen2 > gen1);
    // a heartbeats every 3 s, b is silent.
    for _ in 0..3 {
        h.advance(3_000);
        assert!(h.heartbeat("g", &a, gen2).is_ok());
    }
    h.advance(i64::from(SESSION) - 9_000);
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
    assert!(matches!(
        h.heartbeat("g", &b, gen2),
        Err(GroupError::UnknownMemberId)
    ));
    assert!(matches!(
        h.heartbeat("g", &a, gen2),
        Err(GroupError::RebalanceInProgress)
    ));
    let j = ready(h.join("g", &a, &["range"]));
    assert_eq!(j.generation_id, gen2 + 1);
    assert_eq!(j.members.len(), 1);
}

#[test]
fn a_heartbeat_just_before_the_deadline_keeps_the_session() {
    let h = H::new();
    let (a, gen) = h.stable_single("g");
    for _ in 0..10 {
        h.advance(i64::from(SESSION) - 1);
        assert!(h.heartbeat("g", &a, gen).is_ok());
    }
    h.advance(i64::from(SESSION));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
}

#[test]
fn initial_rebalance_delay_waits_for_more_members() {
    let h = H::with(GroupConfig {
        initial_rebalance_delay_ms: 3_000,
        ..GroupConfig::default()
    });
    let mut a = waiting(h.join("g", "", &["range"]));
    h.advance(1_000);
    let mut b = waiting(h.join("g", "", &["range"]));
    h.advance(2_000);
    // A member arrived during the first delay: extended by another delay.
    assert!(still_parked(&mut a) && still_parked(&mut b));
    h.advance(2_999);
    assert!(still_parked(&mut a));
    h.advance(1);
    let (ja, jb) = (take(&mut a), take(&mut b));
    assert_eq!(ja.generation_id, 1);
    assert_eq!(jb.generation_id, 1);
    assert_eq!(ja.members.len() + jb.members.len(), 2);
}

#[test]
fn join_during_completing_rebalance_with_same_metadata_gets_the_current_generation() {
    let h = H::new();
    let (m, mut rx) = h.join_new("g");
    h.c.tick(h.now());
    let j = take(&mut rx);
    let again = ready(h.join("g", &m, &["range"]));
    assert_eq!(again.generation_id, j.generation_id);
    assert_eq!(
        again.members.len(),
        1,
        "the leader gets the member list again"
    );
    assert_eq!(h.c.group_state("g"), Some(GroupState::CompletingRebalance));
    // Changed metadata instead: a new rebalance.
    let changed = ready(h.join("g", &m, &["roundrobin", "range"]));
    assert_eq!(changed.generation_id, j.generation_id + 1);
}

#[test]
fn stable_follower_with_unchanged_metadata_does_not_rebalance_but_the_leader_does() {
    let h = H::new();
    let (a, _) = h.stable_single("g");
    let (b, mut b_join) = h.join_new("g");
    let gen = ready(h.join("g", &a, &["range"])).generation_id;
    take(&mut b_join);
    ready(h.sync("g", &a, gen, &[(&a, "A"), (&b, "B")]));
    let jb = ready(h.join("g", &b, &["range"]));
    assert_eq!(jb.generation_id, gen);
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    let _leader = waiting(h.join("g", &a, &["range"]));
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
}

#[test]
fn pending_sync_expiry_removes_members_that_never_synced() {
    let h = H::new();
    let (a, _) = h.stable_single("g");
    let (b, mut b_join) = h.join_new("g");
    let gen = ready(h.join("g", &a, &["range"])).generation_id;
    take(&mut b_join);
    ready(h.sync("g", &a, gen, &[(&a, "A"), (&b, "B")]));
    assert!(h.heartbeat("g", &a, gen).is_ok());
    // b never sends SyncGroup (but keeps its session alive).
    for _ in 0..(REBALANCE / 5_000 - 1) {
        h.advance(5_000);
        assert!(h.heartbeat("g", &a, gen).is_ok());
        assert!(h.heartbeat("g", &b, gen).is_ok());
    }
    h.advance(5_000);
    assert!(matches!(
        h.heartbeat("g", &b, gen),
        Err(GroupError::UnknownMemberId)
    ));
    assert_eq!(h.c.group_state("g"), Some(GroupState::PreparingRebalance));
}

#[test]
fn member_id_required_then_pending_member_expires_without_leaking() {
    let h = H::new();
    let mut p = join_params("g", "", &["range"]);
    p.require_known_member_id = true;
    let r = ready(h.c.begin_join(p));
    assert!(matches!(r.error, Some(GroupError::MemberIdRequired)));
    assert!(r.member_id.starts_with("client-"));
    let timers = h.c.timer_count();
    assert_eq!(timers, 2, "offset expiry + the pending member's session");
    h.advance(i64::from(SESSION));
    assert_eq!(h.c.timer_count(), 1);
    // The id it was given is no longer accepted for a rejoin.
    let late = ready(h.join("g", &r.member_id, &["range"]));
    assert!(matches!(late.error, Some(GroupError::UnknownMemberId)));
}

#[test]
fn a_new_member_parked_too_long_is_dropped() {
    let h = H::new();
    // An existing member with a 10-minute rebalance timeout (max.poll.interval.ms)
    // stays alive but does not rejoin: the join phase lasts 10 minutes.
    let mut p = join_params("g", "", &["range"]);
    p.rebalance_timeout_ms = 600_000;
    let mut a = waiting(h.c.begin_join(p));
    h.c.tick(h.now());
    let ja = take(&mut a);
    ready(h.sync("g", &ja.member_id, ja.generation_id, &[]));
    let mut newcomer = waiting(h.join("g", "", &["range"]));
    // A new member's JoinGroup may stay parked 5 minutes at most.
    for _ in 0..(300_000 / 5_000 - 1) {
        h.advance(5_000);
        assert!(matches!(
            h.heartbeat("g", &ja.member_id, ja.generation_id),
            Err(GroupError::RebalanceInProgress)
        ));
    }
    h.advance(4_999);
    assert!(still_parked(&mut newcomer));
    h.advance(1);
    let r = take(&mut newcomer);
    assert!(
        matches!(r.error, Some(GroupError::UnknownMemberId)),
        "{r:?}"
    );
    assert_eq!(h.c.describe_groups(&["g".to_string()])[0].members.len(), 1);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn invalid_session_timeouts_are_refused() {
    let h = H::new();
    for t in [5_999, 1_800_001] {
        let mut p = join_params("g", "", &["range"]);
        p.session_timeout_ms = t;
        let r = ready(h.c.begin_join(p));
        assert!(
            matches!(r.error, Some(GroupError::InvalidSessionTimeout { .. })),
            "{t}"
        );
    }
    assert_eq!(h.c.group_count(), 0);
    let mut p = join_params("g", "", &["range"]);
    p.session_timeout_ms = 6_000;
    assert!(matches!(h.c.begin_join(p), Pending::Waiting(_)));
}

#[test]
fn no_common_protocol_is_inconsistent_group_protocol() {
    let h = H::new();
    let (_a, _) = h.stable_single("g");
    let r = ready(h.join("g", "", &["roundrobin"]));
    assert!(matches!(
        r.error,
        Some(GroupError::InconsistentGroupProtocol)
    ));
    let mut p = join_params("g", "", &["range"]);
    p.protocol_type = "connect".into();
    assert!(matches!(
        ready(h.c.begin_join(p)).error,
        Some(GroupError::InconsistentGroupProtocol)
    ));
    let mut p = join_params("h", "", &[]);
    p.protocols.clear();
    assert!(matches!(
        ready(h.c.begin_join(p)).error,
        Some(GroupError::InconsistentGroupProtocol)
    ));
}

#[test]
fn unknown_members_and_groups() {
    let h = H::new();
    assert!(matches!(
        ready(h.join("nope", "x", &["range"])).error,
        Some(GroupError::UnknownMemberId)
    ));
    assert!(matches!(
        h.heartbeat("nope", "x", 1),
        Err(GroupError::UnknownMemberId)
    ));
    assert!(matches!(
        ready(h.sync("nope", "x", 1, &[])).error,
        Some(GroupError::UnknownMemberId)
    ));
    assert!(matches!(
        h.heartbeat("", "x", 1),
        Err(GroupError::InvalidGroupId)
    ));
    let (_a, gen) = h.stable_single("g");
    assert!(matches!(
        h.heartbeat("g", "x", gen),
        Err(GroupError::UnknownMemberId)
    ));
    assert!(matches!(
        h.commit("g", "x", gen, "t", 0, 1),
        Err(GroupError::UnknownMemberId)
    ));
    // A "simple" commit (no generation, no member) into a non-empty group.
    assert!(matches!(
        h.commit("g", "", -1, "t", 0, 1),
        Err(GroupError::UnknownMemberId)
    ));
    // A commit with a generation to a group that does not exist.
    assert!(matches!(
        h.commit("nope", "x", 3, "t", 0, 1),
        Err(GroupError::IllegalGeneration)
    ));
    let r = h.c.commit_offsets(CommitParams {
        group_id: "nope".into(),
        generation_id: 3,
        member_id: "x".into(),
        group_instance_id: None,
        retention_time_ms: -1,
        unknown_group_is_not_found: true,
        offsets: vec![CommitOffset {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            leader_epoch: -1,
            metadata: None,
            commit_timestamp_ms: None,
        }],
    });
    assert!(matches!(r[0], Err(GroupError::GroupIdNotFound(_))));
}

#[test]
fn sync_with_a_different_protocol_is_inconsistent() {
    let h = H::new();
    let (m, mut rx) = h.join_new("g");
    h.c.tick(h.now());
    let j = take(&mut rx);
    let r = ready(h.c.begin_sync(SyncGroupParams {
        group_id: "g".into(),
        generation_id: j.generation_id,
        member_id: m,
        group_instance_id: None,
        protocol_type: Some("consumer".into()),
        protocol_name: Some("roundrobin".into()),
        assignments: vec![],
    }));
    assert!(matches!(
        r.error,
        Some(GroupError::InconsistentGroupProtocol)
    ));
}

#[test]
fn group_max_size_is_enforced() {
    let h = H::with(GroupConfig {
        max_size: 1,
        ..GroupConfig::default()
    });
    let (_a, _) = h.stable_single("g");
    let r = ready(h.join("g", "", &["range"]));
    assert!(matches!(r.error, Some(GroupError::GroupMaxSizeReached)));
}

#[test]
fn offset_metadata_too_large_fails_only_that_partition() {
    let h = H::with(GroupConfig {
        offset_metadata_max_bytes: 3,
        ..GroupConfig::default()
    });
    let r = h.c.commit_offsets(CommitParams {
        group_id: "g".into(),
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        retention_time_ms: -1,
        unknown_group_is_not_found: true,
        offsets: vec![
            CommitOffset {
                topic: "t".into(),
                partition: 0,
                offset: 1,
                leader_epoch: -1,
                metadata: Some("abcd".into()),
                commit_timestamp_ms: None,
            },
            CommitOffset {
                topic: "t".into(),
                partition: 1,
                offset: 2,
                leader_epoch: -1,
                metadata: Some("abc".into()),
                commit_timestamp_ms: None,
            },
        ],
    });
    assert!(matches!(r[0], Err(GroupError::OffsetMetadataTooLarge)));
    assert!(r[1].is_ok());
    assert_eq!(h.committed("g", "t", 0), -1);
    assert_eq!(h.committed("g", "t", 1), 2);
}

// ---------------------------------------------------------------------------
// Static membership
// ---------------------------------------------------------------------------

fn static_params(group: &str, instance: &str, member: &str, protocols: &[&str]) -> JoinGroupParams {
    let mut p = join_params(group, member, protocols);
    p.group_instance_id = Some(instance.into());
    p.require_known_member_id = true;
    p
}

#[test]
fn static_member_restart_keeps_its_assignment_without_a_rebalance() {
    let h = H::new();
    // Static members never get MEMBER_ID_REQUIRED.
    let mut a = waiting(h.c.begin_join(static_params("g", "i1", "", &["range"])));
    h.c.tick(h.now());
    let ja = take(&mut a);
    assert!(ja.member_id.starts_with("i1-"));
    ready(h.sync(
        "g",
        &ja.member_id,
        ja.generation_id,
        &[(&ja.member_id, "P0,P1")],
    ));

    // The process restarts: same instance id, no member id.
    let r = ready(h.c.begin_join(static_params("g", "i1", "", &["range"])));
    assert!(r.error.is_none(), "{r:?}");
    assert_ne!(r.member_id, ja.member_id);
    assert_eq!(r.generation_id, ja.generation_id, "no new generation");
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    // Pre-v9 clients are told the old leader id, so they do not reassign.
    assert_eq!(r.leader, ja.member_id);
    let s = ready(h.c.begin_sync(SyncGroupParams {
        group_id: "g".into(),
        generation_id: r.generation_id,
        member_id: r.member_id.clone(),
        group_instance_id: Some("i1".into()),
        protocol_type: None,
        protocol_name: None,
        assignments: vec![],
    }));
    assert_eq!(s.assignment, Bytes::from_static(b"P0,P1"));
    // The old incarnation is fenced.
    let old = h.c.heartbeat(HeartbeatParams {
        group_id: "g".into(),
        generation_id: ja.generation_id,
        member_id: ja.member_id.clone(),
        group_instance_id: Some("i1".into()),
    });
    assert!(matches!(old, Err(GroupError::FencedInstanceId)));
    // Exactly one session timer for the member (+ offset expiry).
    assert_eq!(h.c.timer_count(), 2);
}

#[test]
fn static_leader_v9_is_told_to_skip_the_assignment() {
    let h = H::new();
    let mut a = waiting(h.c.begin_join(static_params("g", "i1", "", &["range"])));
    h.c.tick(h.now());
    let ja = take(&mut a);
    ready(h.sync(
        "g",
        &ja.member_id,
        ja.generation_id,
        &[(&ja.member_id, "X")],
    ));
    let mut p = static_params("g", "i1", "", &["range"]);
    p.supports_skip_assignment = true;
    let r = ready(h.c.begin_join(p));
    assert!(r.skip_assignment);
    assert_eq!(r.leader, r.member_id);
    assert_eq!(r.members.len(), 1);
}

#[test]
fn static_member_with_new_protocols_triggers_a_rebalance() {
    let h = H::new();
    let mut a = waiting(h.c.begin_join(static_params("g", "i1", "", &["range"])));
    h.c.tick(h.now());
    let ja = take(&mut a);
    ready(h.sync(
        "g",
        &ja.member_id,
        ja.generation_id,
        &[(&ja.member_id, "X")],
    ));
    let j = ready(h.c.begin_join(static_params("g", "i1", "", &["roundrobin", "range"])));
    assert_eq!(j.generation_id, ja.generation_id + 1);
    assert_eq!(j.protocol_name.as_deref(), Some("roundrobin"));
}

#[test]
fn static_members_are_not_dropped_for_missing_a_rebalance() {
    let h = H::new();
    let mut a = waiting(h.c.begin_join(static_params("g", "i1", "", &["range"])));
    h.c.tick(h.now());
    let ja = take(&mut a);
    ready(h.sync("g", &ja.member_id, ja.generation_id, &[]));
    let mut b = waiting(h.join("g", "", &["range"]));
    let static_heartbeat = || {
        h.c.heartbeat(HeartbeatParams {
            group_id: "g".into(),
            generation_id: ja.generation_id,
            member_id: ja.member_id.clone(),
            group_instance_id: Some("i1".into()),
        })
    };
    // The static member stays alive but does not rejoin in time.
    for _ in 0..(REBALANCE / 5_000) {
        h.advance(5_000);
        let _ = static_heartbeat();
    }
    let jb = take(&mut b);
    assert!(jb.error.is_none());
    assert_eq!(jb.leader, jb.member_id, "the member that rejoined leads");
    assert_eq!(jb.members.len(), 2, "the static member keeps its place");
    assert_eq!(h.c.describe_groups(&["g".to_string()])[0].members.len(), 2);
    assert!(matches!(
        static_heartbeat(),
        Err(GroupError::IllegalGeneration)
    ));
    // Only its session expiry removes it.
    let b_sync = ready(h.sync("g", &jb.member_id, jb.generation_id, &[]));
    assert!(b_sync.error.is_none());
    for _ in 0..(SESSION / 2_000) {
        h.advance(2_000);
        let _ = h.heartbeat("g", &jb.member_id, jb.generation_id);
    }
    assert_eq!(h.c.describe_groups(&["g".to_string()])[0].members.len(), 1);
}

// ---------------------------------------------------------------------------
// LeaveGroup, cleanup, leaks
// ---------------------------------------------------------------------------

#[test]
fn batched_leave_and_leave_by_instance_id() {
    let h = H::new();
    let mut a = waiting(h.c.begin_join(static_params("g", "i1", "", &["range"])));
    let (b, mut bj) = h.join_new("g");
    h.c.tick(h.now());
    let ja = take(&mut a);
    take(&mut bj);
    ready(h.sync("g", &ja.member_id, ja.generation_id, &[]));
    let out =
        h.c.leave_group(
            "g",
            vec![
                LeavingMember {
                    member_id: String::new(),
                    group_instance_id: Some("i1".into()),
                    reason: None,
                },
                LeavingMember {
                    member_id: b.clone(),
                    group_instance_id: None,
                    reason: Some("bye".into()),
                },
                LeavingMember {
                    member_id: "ghost".into(),
                    group_instance_id: None,
                    reason: None,
                },
            ],
        )
        .unwrap();
    assert!(out[0].is_none() && out[1].is_none());
    assert!(matches!(out[2], Some(GroupError::UnknownMemberId)));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
    assert_eq!(h.c.generation("g"), Some(ja.generation_id + 1));
    assert_eq!(h.c.leave_group("nope", vec![]).unwrap().len(), 0);
}

#[test]
fn groups_and_members_that_leave_leave_nothing_behind() {
    let h = H::new();
    for g in 0..50 {
        let group = format!("g{g}");
        let mut members = Vec::new();
        for _ in 0..3 {
            let (m, rx) = h.join_new(&group);
            members.push((m, rx));
            h.c.tick(h.now());
        }
        // Everyone joined the latest generation: rejoin those that got
        // REBALANCE answers until the group settles.
        let mut gen = 0;
        for (m, rx) in members.iter_mut() {
            let j = match rx.try_recv() {
                Ok(j) if j.error.is_none() => j,
                _ => {
                    let mut again = waiting(h.join(&group, m, &["range"]));
                    h.c.tick(h.now());
                    match again.try_recv() {
                        Ok(j) => j,
                        Err(_) => continue,
                    }
                }
            };
            gen = gen.max(j.generation_id);
        }
        let ids: Vec<LeavingMember> = members
            .iter()
            .map(|(m, _)| LeavingMember {
                member_id: m.clone(),
                group_instance_id: None,
                reason: None,
            })
            .collect();
        let _ = h.c.leave_group(&group, ids);
        let _ = gen;
        h.c.tick(h.now());
        assert_eq!(h.c.group_state(&group), Some(GroupState::Empty));
    }
    assert_eq!(h.c.group_count(), 50);
    assert_eq!(h.c.timer_count(), 1, "only the offset expiry check remains");
    // Empty groups without offsets are removed at the next expiry check.
    h.advance(h.config.offsets_retention_check_interval_ms);
    assert_eq!(h.c.group_count(), 0);
    assert_eq!(h.c.timer_count(), 1);
}

#[test]
fn session_expiry_of_the_last_member_empties_the_group() {
    let h = H::new();
    let (_a, _) = h.stable_single("g");
    h.advance(i64::from(SESSION));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
    assert_eq!(h.c.timer_count(), 1);
}

// ---------------------------------------------------------------------------
// Offsets: durability, expiry, deletion
// ---------------------------------------------------------------------------

#[test]
fn committed_offsets_and_groups_survive_a_reopen() {
    let mut h = H::new();
    assert!(h.commit("simple", "", -1, "t", 0, 42).is_ok());
    assert!(h.commit("simple", "", -1, "t", 0, 43).is_ok());
    assert!(h.commit("simple", "", -1, "u", 3, 7).is_ok());
    let (m, gen) = h.stable_single("g");
    assert!(h.commit("g", &m, gen, "t", 1, 99).is_ok());
    h.reopen();
    assert_eq!(h.committed("simple", "t", 0), 43);
    assert_eq!(h.committed("simple", "u", 3), 7);
    assert_eq!(h.committed("g", "t", 1), 99);
    let all = h.c.fetch_offsets("simple", None);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].partitions[0].metadata, "meta");
    assert_eq!(all[0].partitions[0].leader_epoch, 0);
    // The stable group came back with its member and generation: the
    // consumer carries on without rebalancing.
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    assert!(h.heartbeat("g", &m, gen).is_ok());
    assert_eq!(
        ready(h.sync("g", &m, gen, &[])).assignment,
        Bytes::from_static(b"A")
    );
    // ... and its session is enforced after the restart too.
    h.advance(i64::from(SESSION));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
    h.reopen();
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
    assert_eq!(h.committed("g", "t", 1), 99);
}

#[test]
fn offsets_of_an_empty_group_expire_after_the_retention() {
    let h = H::with(GroupConfig {
        offsets_retention_ms: 60_000,
        offsets_retention_check_interval_ms: 10_000,
        ..GroupConfig::default()
    });
    assert!(h.commit("g", "", -1, "t", 0, 5).is_ok());
    h.advance(50_000);
    assert_eq!(h.committed("g", "t", 0), 5);
    h.advance(10_000);
    assert_eq!(h.committed("g", "t", 0), -1);
    assert_eq!(h.c.group_count(), 0);
}

#[test]
fn offsets_of_subscribed_topics_do_not_expire_while_the_group_is_active() {
    let h = H::with(GroupConfig {
        offsets_retention_ms: 60_000,
        offsets_retention_check_interval_ms: 10_000,
        ..GroupConfig::default()
    });
    let (m, gen) = h.stable_single("g"); // subscribed to "t"
    assert!(h.commit("g", &m, gen, "t", 0, 5).is_ok());
    assert!(h.commit("g", &m, gen, "old", 0, 6).is_ok());
    for _ in 0..12 {
        h.advance(6_000);
        assert!(h.heartbeat("g", &m, gen).is_ok());
    }
    assert_eq!(h.committed("g", "t", 0), 5);
    assert_eq!(h.committed("g", "old", 0), -1);
}

#[test]
fn commit_retention_time_sets_an_explicit_expiry() {
    let h = H::with(GroupConfig {
        offsets_retention_check_interval_ms: 1_000,
        ..GroupConfig::default()
    });
    let r = h.c.commit_offsets(CommitParams {
        group_id: "g".into(),
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        retention_time_ms: 5_000,
        unknown_group_is_not_found: false,
        offsets: vec![CommitOffset {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            leader_epoch: -1,
            metadata: None,
            commit_timestamp_ms: None,
        }],
    });
    assert!(r[0].is_ok());
    h.advance(4_000);
    assert_eq!(h.committed("g", "t", 0), 1);
    h.advance(1_000);
    assert_eq!(h.committed("g", "t", 0), -1);
}

#[test]
fn delete_groups_requires_an_empty_group_and_is_durable() {
    let mut h = H::new();
    let (m, gen) = h.stable_single("g");
    assert!(h.commit("g", &m, gen, "t", 0, 5).is_ok());
    assert!(h.commit("e", "", -1, "t", 0, 1).is_ok());
    let r = h.c.delete_groups(&["g".into(), "e".into(), "nope".into()]);
    assert!(matches!(r[0], Err(GroupError::NonEmptyGroup)));
    assert!(r[1].is_ok());
    assert!(matches!(r[2], Err(GroupError::GroupIdNotFound(_))));
    assert_eq!(h.committed("e", "t", 0), -1);
    h.reopen();
    assert_eq!(h.c.group_state("e"), None);
    assert_eq!(h.committed("e", "t", 0), -1);
    assert_eq!(h.committed("g", "t", 0), 5);
}

#[test]
fn offset_delete_refuses_subscribed_topics() {
    let mut h = H::new();
    let (m, gen) = h.stable_single("g"); // subscribed to "t"
    assert!(h.commit("g", &m, gen, "t", 0, 5).is_ok());
    assert!(h.commit("g", &m, gen, "u", 0, 6).is_ok());
    let r =
        h.c.delete_offsets("g", vec![("t".into(), vec![0]), ("u".into(), vec![0, 1])])
            .unwrap();
    assert!(matches!(
        r[0].1[0].1,
        Some(GroupError::GroupSubscribedToTopic)
    ));
    assert!(r[1].1.iter().all(|(_, e)| e.is_none()));
    assert_eq!(h.committed("g", "u", 0), -1);
    h.reopen();
    assert_eq!(h.committed("g", "u", 0), -1);
    assert_eq!(h.committed("g", "t", 0), 5);
    assert!(matches!(
        h.c.delete_offsets("nope", vec![]),
        Err(GroupError::GroupIdNotFound(_))
    ));
}

#[test]
fn describe_and_list() {
    let h = H::new();
    let (m, _) = h.stable_single("g");
    assert!(h.commit("simple", "", -1, "t", 0, 1).is_ok());
    let d = h.c.describe_groups(&["g".into(), "missing".into()]);
    assert!(d[0].found);
    assert_eq!(d[0].state, GroupState::Stable);
    assert_eq!(d[0].protocol_data, "range");
    assert_eq!(d[0].members[0].member_id, m);
    assert_eq!(d[0].members[0].client_id, "client");
    assert_eq!(d[0].members[0].client_host, "/127.0.0.1");
    assert_eq!(d[0].members[0].assignment, Bytes::from_static(b"A"));
    assert!(!d[1].found);
    assert_eq!(d[1].state, GroupState::Dead);
    let all = h.c.list_groups(&[], &[]);
    assert_eq!(all.len(), 2);
    let stable = h.c.list_groups(&["STABLE".into()], &[]);
    assert_eq!(stable.len(), 1);
    assert_eq!(stable[0].group_id, "g");
    assert_eq!(stable[0].protocol_type, "consumer");
    let empty = h.c.list_groups(&["Empty".into()], &["Classic".into()]);
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].protocol_type, "");
    assert!(h.c.list_groups(&[], &["consumer".into()]).is_empty());
}

#[test]
fn timer_table_tracks_one_session_per_member() {
    let h = H::new();
    let (a, gen) = h.stable_single("g");
    let (b, mut bj) = h.join_new("g");
    let gen2 = ready(h.join("g", &a, &["range"])).generation_id;
    take(&mut bj);
    ready(h.sync("g", &a, gen2, &[]));
    ready(h.sync("g", &b, gen2, &[]));
    // Two sessions + offset expiry; the sync timer is gone once all synced.
    assert_eq!(h.c.timer_count(), 3);
    let key = TimerKey::Heartbeat {
        group: "g".into(),
        member: a.clone(),
    };
    let before = h.c.lock().timers.deadline(&key).unwrap();
    h.clock.advance(100);
    assert!(h.heartbeat("g", &a, gen2).is_ok());
    assert_eq!(h.c.lock().timers.deadline(&key).unwrap(), before + 100);
    assert!(gen2 > gen);
}

#[tokio::test]
async fn the_timer_task_completes_joins_and_wakes_for_earlier_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
    let logs = LogManager::open(dir.path(), LogConfig::default(), clock.now_ms()).unwrap();
    let c = Arc::new(GroupCoordinator::open(GroupConfig::default(), &logs, clock).unwrap());
    let task = c.spawn_timer_task();
    // The task sleeps until the offset expiry check (10 minutes away); the
    // join schedules the end of the initial rebalance now and must wake it.
    let joined = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        c.join_group(join_params("g", "", &["range"])),
    )
    .await
    .expect("join completed by the timer task");
    assert!(joined.error.is_none());
    assert_eq!(joined.generation_id, 1);
    let synced = c
        .sync_group(SyncGroupParams {
            group_id: "g".into(),
            generation_id: 1,
            member_id: joined.member_id.clone(),
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![(joined.member_id.clone(), Bytes::from_static(b"x"))],
        })
        .await;
    assert_eq!(synced.assignment, Bytes::from_static(b"x"));
    task.abort();
}

#[test]
fn offsets_of_a_deleted_topic_are_removed_durably() {
    let mut h = H::new();
    assert!(h.commit("a", "", -1, "gone", 0, 5).is_ok());
    assert!(h.commit("a", "", -1, "kept", 0, 6).is_ok());
    assert!(h.commit("b", "", -1, "gone", 3, 7).is_ok());
    assert_eq!(h.c.delete_topic_offsets("gone").unwrap(), 2);
    h.reopen();
    assert_eq!(h.committed("a", "gone", 0), -1);
    assert_eq!(h.committed("b", "gone", 3), -1);
    assert_eq!(h.committed("a", "kept", 0), 6);
}
