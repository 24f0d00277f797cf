//! Classic group protocol tests: join, sync, rebalance, timeouts, errors,
//! static membership and LeaveGroup (`classic_*.rs`).

use super::*;

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
        unknown_group_is_not_found: true,
        ..commit_params("nope", "x", 3, vec![commit_offset("t", 0, 1)])
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
