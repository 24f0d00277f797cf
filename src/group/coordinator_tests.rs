//! Coordinator unit tests: every state transition and timeout, driven by a
//! `ManualClock` and explicit `tick(now)` calls (no sleeps), against a real
//! `__consumer_offsets` in a temporary data dir. This file holds the harness
//! and the timer tests; the rest are split as the code is:
//! `classic_group_tests.rs` (classic_join / classic_rebalance /
//! classic_membership), `offset_store_tests.rs` (offset_metadata_manager),
//! `group_store_tests.rs` (group_metadata_manager, replay).

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
        let mut r = self.c.commit_offsets(commit_params(
            group,
            member,
            generation,
            vec![CommitOffset {
                leader_epoch: 0,
                metadata: Some("meta".into()),
                ..commit_offset(topic, partition, offset)
            }],
        ));
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

/// An OffsetCommit of `offsets` by `member` of `generation` (-1 and "":
/// outside group management), without a retention time.
fn commit_params(
    group: &str,
    member: &str,
    generation: i32,
    offsets: Vec<CommitOffset>,
) -> CommitParams {
    CommitParams {
        group_id: group.into(),
        generation_id: generation,
        member_id: member.into(),
        group_instance_id: None,
        retention_time_ms: -1,
        unknown_group_is_not_found: false,
        offsets,
    }
}

/// One offset to commit, without leader epoch, metadata or timestamp.
fn commit_offset(topic: &str, partition: i32, offset: i64) -> CommitOffset {
    CommitOffset {
        topic: topic.into(),
        partition,
        offset,
        leader_epoch: -1,
        metadata: None,
        commit_timestamp_ms: None,
    }
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

#[path = "classic_group_tests.rs"]
mod classic_group;
#[path = "consumer_membership_tests.rs"]
mod consumer_membership;
#[path = "group_migration_tests.rs"]
mod group_migration;
#[path = "group_store_tests.rs"]
mod group_store;
#[path = "offset_store_tests.rs"]
mod offset_store;

// ---------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------

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
