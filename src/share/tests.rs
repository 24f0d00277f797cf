//! The share coordinator end to end over a real data dir, with the
//! injected clock: heartbeats, acquisition, lock expiry, acknowledgements,
//! member expiry and replay after a restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use super::*;
use crate::clock::ManualClock;
use crate::record::{BatchBuilder, NewRecord};
use crate::storage::LogConfig;

struct Fixture {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    topic_id: Uuid,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000_000));
        let logs = LogManager::open(dir.path(), LogConfig::default(), clock.now_ms()).unwrap();
        let topic_id = Uuid::new_v4();
        let topic = logs
            .create_topic("t", 1, topic_id, BTreeMap::new(), clock.now_ms())
            .unwrap();
        let records: Vec<NewRecord> = (0..5).map(|i| NewRecord::new(0, format!("v{i}"))).collect();
        let batch = BatchBuilder::new(0, clock.now_ms()).build(&records);
        topic
            .partition(0)
            .unwrap()
            .append(Bytes::from(batch), clock.now_ms())
            .unwrap();
        logs.flush_all().unwrap();
        Fixture {
            dir,
            clock,
            topic_id,
        }
    }

    fn open(&self) -> ShareCoordinator {
        let logs =
            LogManager::open(self.dir.path(), LogConfig::default(), self.clock.now_ms()).unwrap();
        ShareCoordinator::open(ShareConfig::default(), Arc::new(logs), self.clock.clone()).unwrap()
    }
}

fn join(member: &str) -> Heartbeat {
    Heartbeat {
        member_id: member.into(),
        member_epoch: 0,
        rack_id: None,
        subscribed_topics: Some(vec!["t".into()]),
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
    }
}

/// A batch-optimized fetch of about `max_records` records.
fn soft(max_records: usize) -> FetchLimits {
    FetchLimits {
        max_records,
        batch_size: max_records,
        record_limit: false,
        max_bytes: 1 << 20,
    }
}

fn earliest(c: &ShareCoordinator) {
    c.alter_group_config(
        "g",
        &[(
            config::SHARE_AUTO_OFFSET_RESET.into(),
            0,
            Some("earliest".into()),
        )],
        false,
    )
    .unwrap();
}

#[test]
fn locks_expire_by_the_clock_and_members_share_the_partition() {
    let f = Fixture::new();
    let c = f.open();
    earliest(&c);
    assert_eq!(c.heartbeat("g", join("a")).unwrap().member_epoch, 1);
    assert_eq!(c.heartbeat("g", join("b")).unwrap().member_epoch, 2);
    // RECORD_LIMIT: exactly 3 of the batch's 5, the rest stays available.
    let exact = FetchLimits {
        record_limit: true,
        ..soft(3)
    };
    let a = c.acquire("g", "a", f.topic_id, 0, exact).unwrap();
    assert_eq!(
        a.ranges,
        vec![AcquiredRange {
            first: 0,
            last: 2,
            delivery_count: 1
        }]
    );
    assert!(!a.records.is_empty());
    let b = c.acquire("g", "b", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(
        b.ranges,
        vec![AcquiredRange {
            first: 3,
            last: 4,
            delivery_count: 1
        }]
    );
    assert!(c
        .acquire("g", "b", f.topic_id, 0, soft(10))
        .unwrap()
        .ranges
        .is_empty());
    f.clock.advance(30_000);
    let again = c.acquire("g", "b", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(
        again.ranges,
        vec![AcquiredRange {
            first: 0,
            last: 4,
            delivery_count: 2
        }]
    );
    // a's lock is gone: its late acknowledgement is refused.
    let late = AckBatch {
        first: 0,
        last: 0,
        types: &[1],
    };
    assert_eq!(
        c.acknowledge("g", "a", f.topic_id, 0, late),
        Err(AckError::InvalidRecordState(0))
    );
}

#[test]
fn acknowledged_state_and_members_survive_a_restart() {
    let f = Fixture::new();
    {
        let c = f.open();
        earliest(&c);
        c.heartbeat("g", join("a")).unwrap();
        c.acquire("g", "a", f.topic_id, 0, soft(10)).unwrap();
        let batch = AckBatch {
            first: 0,
            last: 2,
            types: &[1, 3, 2],
        };
        c.acknowledge("g", "a", f.topic_id, 0, batch).unwrap();
    }
    let c = f.open();
    let g = c.describe("g").unwrap();
    assert_eq!(g.group_epoch, 1);
    assert_eq!(g.members["a"].member_epoch, 1);
    assert_eq!(g.members["a"].assignment[&f.topic_id].len(), 1);
    // Offset 0 accepted, 1 rejected; 2 released and 3-4 were locked at the "crash".
    let r = c.acquire("g", "a", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(
        r.ranges,
        vec![AcquiredRange {
            first: 2,
            last: 4,
            delivery_count: 2
        }]
    );
}

#[test]
fn expired_members_lose_their_records() {
    let f = Fixture::new();
    let c = f.open();
    earliest(&c);
    c.heartbeat("g", join("a")).unwrap();
    c.heartbeat("g", join("b")).unwrap();
    c.acquire("g", "a", f.topic_id, 0, soft(10)).unwrap();
    f.clock.advance(20_000);
    let mut hb = join("b");
    hb.member_epoch = 2;
    hb.subscribed_topics = None;
    c.heartbeat("g", hb.clone()).unwrap();
    f.clock.advance(25_000);
    // a has been silent for 45 s: b's heartbeat expires it and frees its records.
    let out = c.heartbeat("g", hb).unwrap();
    assert_eq!(out.member_epoch, 3);
    assert!(!c.describe("g").unwrap().members.contains_key("a"));
    let r = c.acquire("g", "b", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(
        r.ranges,
        vec![AcquiredRange {
            first: 0,
            last: 4,
            delivery_count: 2
        }]
    );
}

#[test]
fn auto_offset_reset_by_duration_starts_at_the_first_record_that_young() {
    let f = Fixture::new();
    let c = f.open();
    let set = |group: &str, v: &str| {
        c.alter_group_config(
            group,
            &[(config::SHARE_AUTO_OFFSET_RESET.into(), 0, Some(v.into()))],
            false,
        )
        .unwrap()
    };
    // The fixture's records have timestamp 0; the clock is at 1000 s.
    set("old", "by_duration:PT1000S");
    set("young", "by_duration:PT1S");
    let old = c.acquire("old", "a", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(old.ranges.first().map(|r| r.first), Some(0));
    let young = c.acquire("young", "a", f.topic_id, 0, soft(10)).unwrap();
    assert!(young.ranges.is_empty(), "{young:?}");
}

#[test]
fn only_empty_share_groups_are_deleted_and_stay_deleted() {
    let f = Fixture::new();
    {
        let c = f.open();
        earliest(&c);
        c.heartbeat("g", join("a")).unwrap();
        c.acquire("g", "a", f.topic_id, 0, soft(10)).unwrap();
        assert_eq!(c.delete_group("g"), Err(true));
        let mut leave = join("a");
        leave.member_epoch = -1;
        c.heartbeat("g", leave).unwrap();
        assert_eq!(c.delete_group("g"), Ok(()));
        assert_eq!(c.delete_group("g"), Err(false));
    }
    let c = f.open();
    assert!(c.describe("g").is_none());
    assert!(c.group_config("g").is_empty());
}

/// DescribeShareGroupOffsets' view (KIP-1226): the delivery-complete count
/// is the acknowledged and archived records at or past the start offset,
/// and the lag what is left of the log past the start.
#[test]
fn start_offsets_count_completed_records_for_the_lag() {
    let f = Fixture::new();
    let c = f.open();
    assert!(c.start_offsets("g").is_empty(), "no group, no share state");
    earliest(&c);
    c.heartbeat("g", join("a")).unwrap();
    let got = c.acquire("g", "a", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(
        got.ranges.iter().map(|r| r.last - r.first + 1).sum::<i64>(),
        5
    );
    // 0 released, 1 accepted, 2 rejected (archived), 3-4 still acquired.
    let batch = AckBatch {
        first: 0,
        last: 2,
        types: &[2, 1, 3],
    };
    c.acknowledge("g", "a", f.topic_id, 0, batch).unwrap();
    let s = c.start_offsets("g")[&(f.topic_id, 0)];
    assert_eq!((s.start, s.delivery_complete), (0, 2));
    assert_eq!(s.lag(5), 3);
    // Accepting 0 moves the start past 0-2: nothing past it is complete.
    let batch = AckBatch {
        first: 0,
        last: 0,
        types: &[1],
    };
    let again = c.acquire("g", "a", f.topic_id, 0, soft(10)).unwrap();
    assert_eq!(again.ranges.first().map(|r| r.first), Some(0));
    c.acknowledge("g", "a", f.topic_id, 0, batch).unwrap();
    let s = c.start_offsets("g")[&(f.topic_id, 0)];
    assert_eq!((s.start, s.delivery_complete, s.lag(5)), (3, 0, 2));
}

/// A 3000-record producer batch fetched with `max_records` 500: acquired
/// whole by the first fetch, so its bytes are answered once, not once per
/// 500-record slice.
#[test]
fn a_large_batch_is_acquired_whole_and_answered_once() {
    let f = Fixture::new();
    let c = f.open();
    earliest(&c);
    c.heartbeat("g", join("a")).unwrap();
    let records: Vec<NewRecord> = (0..3000)
        .map(|i| NewRecord::new(0, format!("{i:0100}")))
        .collect();
    let batch = BatchBuilder::new(5, f.clock.now_ms()).build(&records);
    let batch_len = batch.len();
    c.logs
        .topic_by_id(f.topic_id)
        .and_then(|t| t.partition(0))
        .unwrap()
        .append(Bytes::from(batch), f.clock.now_ms())
        .unwrap();
    let first = c.acquire("g", "a", f.topic_id, 0, soft(500)).unwrap();
    // The fixture's 5-record batch (0..=4) and then the large one, whole.
    assert_eq!(
        first.ranges,
        vec![AcquiredRange {
            first: 0,
            last: 3004,
            delivery_count: 1
        }]
    );
    assert!(
        first.records.len() < batch_len + 1000,
        "{} bytes for a {batch_len}-byte batch",
        first.records.len()
    );
    assert!(c
        .acquire("g", "a", f.topic_id, 0, soft(500))
        .unwrap()
        .ranges
        .is_empty());
}
