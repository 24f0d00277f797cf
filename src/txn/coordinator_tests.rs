//! Transaction coordinator unit tests: every transition Kafka's
//! coordinator takes, with a `ManualClock` and explicit `tick(now)` calls,
//! against real `__transaction_state`, `__consumer_offsets` and data
//! partitions in a temporary data dir.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::coordinator::*;
use super::{TxnError, TxnState};
use crate::clock::{Clock, ManualClock};
use crate::group::coordinator::{CommitOffset, CommitParams, TxnCommitParams};
use crate::group::offsets::OFFSETS_TOPIC;
use crate::group::{GroupConfig, GroupCoordinator};
use crate::record::{BatchBuilder, NewRecord, ATTR_TRANSACTIONAL};
use crate::storage::{Isolation, LogConfig, LogManager};

const TIMEOUT: i32 = 60_000;

struct H {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    logs: Arc<LogManager>,
    groups: Arc<GroupCoordinator>,
    c: TransactionCoordinator,
    next_pid: Arc<AtomicI64>,
}

fn config() -> TxnConfig {
    TxnConfig {
        max_timeout_ms: 900_000,
        partitions: 1,
        segment_bytes: 1 << 20,
        flush_interval_messages: i64::MAX,
        check_interval_ms: 10_000,
        id_expiration_ms: 7 * 86_400_000,
    }
}

impl H {
    fn new() -> H {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000_000));
        let next_pid = Arc::new(AtomicI64::new(1000));
        let (logs, groups, c) = open(dir.path(), &clock, &next_pid);
        logs.create_topic(
            "t",
            2,
            uuid::Uuid::new_v4(),
            Default::default(),
            clock.now_ms(),
        )
        .unwrap();
        H {
            dir,
            clock,
            logs,
            groups,
            c,
            next_pid,
        }
    }

    /// Drops everything and replays from disk (a restart).
    fn reopen(&mut self) {
        let (logs, groups, c) = open(self.dir.path(), &self.clock, &self.next_pid);
        self.logs = logs;
        self.groups = groups;
        self.c = c;
    }

    fn init(&self, id: &str) -> (i64, i16) {
        self.c.init_producer_id(id, TIMEOUT, None).unwrap()
    }

    /// Appends one transactional batch to partition `p` of topic "t".
    fn produce(&self, p: i32, pid: i64, epoch: i16, seq: i32) {
        let mut b = BatchBuilder::new(0, self.clock.now_ms()).producer(pid, epoch, seq);
        b.attributes |= ATTR_TRANSACTIONAL;
        let batch = b.build(&[NewRecord::new(self.clock.now_ms(), "v")]);
        self.logs
            .topic("t")
            .unwrap()
            .partition(p)
            .unwrap()
            .append(Bytes::from(batch), self.clock.now_ms())
            .unwrap();
    }

    fn lso(&self, p: i32) -> (i64, i64) {
        let log = self.logs.topic("t").unwrap().partition(p).unwrap();
        (log.high_watermark(), log.last_stable_offset())
    }
}

fn open(
    dir: &std::path::Path,
    clock: &Arc<ManualClock>,
    next_pid: &Arc<AtomicI64>,
) -> (
    Arc<LogManager>,
    Arc<GroupCoordinator>,
    TransactionCoordinator,
) {
    let logs = Arc::new(LogManager::open(dir, LogConfig::default(), clock.now_ms()).unwrap());
    let groups =
        Arc::new(GroupCoordinator::open(GroupConfig::default(), &logs, clock.clone()).unwrap());
    let pids = next_pid.clone();
    let c = TransactionCoordinator::open(
        config(),
        logs.clone(),
        groups.clone(),
        clock.clone(),
        Arc::new(move || Ok(pids.fetch_add(1, Ordering::SeqCst))),
    )
    .unwrap();
    (logs, groups, c)
}

fn tp(p: i32) -> (String, i32) {
    ("t".to_string(), p)
}

#[test]
fn init_bumps_the_epoch_each_time() {
    let h = H::new();
    let (pid, e0) = h.init("a");
    assert_eq!(e0, 0);
    let (pid1, e1) = h.init("a");
    assert_eq!((pid1, e1), (pid, 1));
    assert_eq!(h.c.state_of("a"), Some(TxnState::Empty));
    // Another id gets another producer id.
    assert_ne!(h.init("b").0, pid);
}

#[test]
fn init_validates_its_input() {
    let h = H::new();
    assert!(matches!(
        h.c.init_producer_id("", TIMEOUT, None),
        Err(TxnError::InvalidRequest(_))
    ));
    assert!(matches!(
        h.c.init_producer_id("a", 900_001, None),
        Err(TxnError::InvalidTransactionTimeout { .. })
    ));
    assert!(matches!(
        h.c.init_producer_id("a", 0, None),
        Err(TxnError::InvalidTransactionTimeout { .. })
    ));
}

#[test]
fn kip_360_expected_epoch() {
    let h = H::new();
    let (pid, e) = h.init("a");
    // The producer's own id and epoch: bumped.
    assert_eq!(
        h.c.init_producer_id("a", TIMEOUT, Some((pid, e))).unwrap(),
        (pid, e + 1)
    );
    // A retry of that bump (the answer was lost): the same answer again.
    assert_eq!(
        h.c.init_producer_id("a", TIMEOUT, Some((pid, e))).unwrap(),
        (pid, e + 1)
    );
    // A stale epoch is fenced; so is someone else's producer id.
    assert!(matches!(
        h.c.init_producer_id("a", TIMEOUT, Some((pid, e + 5))),
        Err(TxnError::ProducerFenced { .. })
    ));
    assert!(matches!(
        h.c.init_producer_id("a", TIMEOUT, Some((pid + 77, 0))),
        Err(TxnError::ProducerFenced { .. })
    ));
}

#[test]
fn empty_ongoing_prepare_complete_commit() {
    let h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0), tp(1)]).unwrap();
    assert_eq!(h.c.state_of("a"), Some(TxnState::Ongoing));
    // Adding again is a no-op answered at once.
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 0);
    h.produce(1, pid, e, 0);
    assert_eq!(h.lso(0), (1, 0));
    assert_eq!(h.c.end_txn("a", pid, e, true).unwrap(), (pid, e));
    assert_eq!(h.c.state_of("a"), Some(TxnState::CompleteCommit));
    // One COMMIT marker per partition; nothing unstable any more.
    assert_eq!(h.lso(0), (2, 2));
    assert_eq!(h.lso(1), (2, 2));
    // A retried commit is fine; an abort now is not.
    h.c.end_txn("a", pid, e, true).unwrap();
    assert!(matches!(
        h.c.end_txn("a", pid, e, false),
        Err(TxnError::InvalidTxnState(_))
    ));
    // The next transaction starts from CompleteCommit.
    h.c.add_partitions("a", pid, e, &[tp(1)]).unwrap();
    assert_eq!(h.c.state_of("a"), Some(TxnState::Ongoing));
    assert_eq!(h.c.describe("a").unwrap().partitions.len(), 1);
}

#[test]
fn abort_writes_markers_and_lists_the_aborted_transaction() {
    let h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 0);
    h.produce(0, pid, e, 1);
    h.c.end_txn("a", pid, e, false).unwrap();
    assert_eq!(h.c.state_of("a"), Some(TxnState::CompleteAbort));
    assert_eq!(h.lso(0), (3, 3));
    let log = h.logs.topic("t").unwrap().partition(0).unwrap();
    let read = log
        .read(0, 1 << 20, true, Isolation::ReadCommitted)
        .unwrap();
    assert_eq!(read.aborted.len(), 1);
    assert_eq!(read.aborted[0].producer_id, pid);
    assert_eq!(read.aborted[0].first_offset, 0);
}

#[test]
fn end_txn_errors() {
    let h = H::new();
    let (pid, e) = h.init("a");
    // Nothing in progress.
    assert!(matches!(
        h.c.end_txn("a", pid, e, true),
        Err(TxnError::InvalidTxnState(_))
    ));
    // Unknown id, wrong producer id, old epoch.
    assert!(matches!(
        h.c.end_txn("zz", pid, e, true),
        Err(TxnError::InvalidProducerIdMapping)
    ));
    assert!(matches!(
        h.c.end_txn("a", pid + 1, e, true),
        Err(TxnError::InvalidProducerIdMapping)
    ));
    h.init("a");
    assert!(matches!(
        h.c.end_txn("a", pid, e, true),
        Err(TxnError::ProducerFenced { .. })
    ));
    assert!(matches!(
        h.c.add_partitions("a", pid, e, &[tp(0)]),
        Err(TxnError::ProducerFenced { .. })
    ));
}

#[test]
fn init_during_an_open_transaction_fences_and_aborts_it() {
    let h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 0);
    assert!(matches!(
        h.c.init_producer_id("a", TIMEOUT, None),
        Err(TxnError::ConcurrentTransactions)
    ));
    // Aborted with the bumped epoch: the old producer is fenced on the partition too.
    assert_eq!(h.c.state_of("a"), Some(TxnState::CompleteAbort));
    assert_eq!(h.c.describe("a").unwrap().producer_epoch, e + 1);
    assert_eq!(h.lso(0), (2, 2));
    let (pid2, e2) = h.init("a");
    assert_eq!((pid2, e2), (pid, e + 2));
    let log = h.logs.topic("t").unwrap().partition(0).unwrap();
    let mut b = BatchBuilder::new(0, 0).producer(pid, e, 1);
    b.attributes |= ATTR_TRANSACTIONAL;
    let zombie = b.build(&[NewRecord::new(0, "z")]);
    assert!(
        log.append(Bytes::from(zombie), 0).is_err(),
        "the zombie epoch must be refused"
    );
}

#[test]
fn verify_partition() {
    let h = H::new();
    let (pid, e) = h.init("a");
    assert!(matches!(
        h.c.verify_partition("a", pid, e, &tp(0)),
        Err(TxnError::TransactionAbortable)
    ));
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.c.verify_partition("a", pid, e, &tp(0)).unwrap();
    assert!(matches!(
        h.c.verify_partition("a", pid, e, &tp(1)),
        Err(TxnError::TransactionAbortable)
    ));
    assert!(matches!(
        h.c.verify_partition("a", pid, e - 1, &tp(0)),
        Err(TxnError::ProducerFenced { .. })
    ));
}

#[test]
fn timeout_aborts_with_a_bumped_epoch() {
    let h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 0);
    h.clock.advance(i64::from(TIMEOUT));
    assert_eq!(h.c.tick(h.clock.now_ms()), 0, "not yet past the timeout");
    h.clock.advance(1);
    assert_eq!(h.c.tick(h.clock.now_ms()), 1);
    assert_eq!(h.c.state_of("a"), Some(TxnState::CompleteAbort));
    assert_eq!(h.lso(0), (2, 2));
    assert!(matches!(
        h.c.end_txn("a", pid, e, true),
        Err(TxnError::ProducerFenced { .. })
    ));
}

#[test]
fn idle_ids_expire() {
    let h = H::new();
    h.init("a");
    h.clock.advance(config().id_expiration_ms + 1);
    h.c.tick(h.clock.now_ms());
    assert_eq!(h.c.state_of("a"), None);
    assert!(matches!(
        h.c.describe("a"),
        Err(TxnError::TransactionalIdNotFound)
    ));
}

#[test]
fn state_and_prepared_transactions_survive_a_restart() {
    let mut h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 0);
    let (pid_b, e_b) = h.init("b");
    h.reopen();
    assert_eq!(h.c.state_of("a"), Some(TxnState::Ongoing));
    assert_eq!(h.lso(0), (1, 0));
    assert_eq!(h.c.describe("b").unwrap().producer_id, pid_b);
    h.c.end_txn("a", pid, e, true).unwrap();
    assert_eq!(h.lso(0), (2, 2));
    h.reopen();
    assert_eq!(h.c.state_of("a"), Some(TxnState::CompleteCommit));
    // The epoch continues where it was.
    assert_eq!(h.init("b"), (pid_b, e_b + 1));
}

#[test]
fn txn_offsets_become_visible_on_commit_only() {
    let mut h = H::new();
    let group = "g";
    let offsets_partition = h.groups.offsets_partition_for(group) as i32;
    let commit = |h: &H, pid: i64, e: i16, offset: i64| {
        let r = h.groups.txn_commit_offsets(TxnCommitParams {
            producer_id: pid,
            producer_epoch: e,
            commit: CommitParams {
                group_id: group.into(),
                generation_id: -1,
                member_id: String::new(),
                group_instance_id: None,
                retention_time_ms: -1,
                unknown_group_is_not_found: false,
                offsets: vec![CommitOffset {
                    topic: "t".into(),
                    partition: 0,
                    offset,
                    leader_epoch: -1,
                    metadata: None,
                    commit_timestamp_ms: None,
                }],
            },
        });
        assert!(r.iter().all(Result::is_ok), "{r:?}");
    };
    let fetched = |h: &H| {
        h.groups
            .fetch_offsets(group, Some(vec![("t".into(), vec![0])]))[0]
            .partitions[0]
            .offset
    };
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[(OFFSETS_TOPIC.into(), offsets_partition)])
        .unwrap();
    commit(&h, pid, e, 5);
    assert_eq!(fetched(&h), -1);
    assert_eq!(h.groups.pending_txn_partitions(group).len(), 1);
    // Pending offsets survive a restart as pending.
    h.reopen();
    assert_eq!(h.groups.pending_txn_partitions(group).len(), 1);
    h.c.end_txn("a", pid, e, false).unwrap();
    assert_eq!(fetched(&h), -1, "aborted offsets never show");
    assert!(h.groups.pending_txn_partitions(group).is_empty());

    h.c.add_partitions("a", pid, e, &[(OFFSETS_TOPIC.into(), offsets_partition)])
        .unwrap();
    commit(&h, pid, e, 7);
    h.c.end_txn("a", pid, e, true).unwrap();
    assert_eq!(fetched(&h), 7);
    h.reopen();
    assert_eq!(
        fetched(&h),
        7,
        "committed transactional offsets survive a restart"
    );
    assert!(h.groups.pending_txn_partitions(group).is_empty());
}

#[test]
fn list_filters() {
    let h = H::new();
    let (pid, e) = h.init("a");
    h.init("b");
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    let ids = |v: Vec<TxnDescription>| {
        v.into_iter()
            .map(|d| d.transactional_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(h.c.list(&[], &[], -1)), ["a", "b"]);
    assert_eq!(ids(h.c.list(&["Ongoing".into()], &[], -1)), ["a"]);
    assert_eq!(ids(h.c.list(&[], &[pid], -1)), ["a"]);
    h.clock.advance(500);
    assert_eq!(ids(h.c.list(&[], &[], 400)), ["a"]);
    assert!(h.c.list(&[], &[], 600).is_empty());
}

#[test]
fn a_restart_finishes_a_transaction_left_in_prepare_commit() {
    let mut h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0), tp(1)]).unwrap();
    h.produce(0, pid, e, 0);
    h.produce(1, pid, e, 0);
    // What a crash right after EndTxn's first step leaves on disk: the
    // PrepareCommit record, no markers yet.
    let mut m = crate::txn::state::TxnMetadata::new("a", pid, TIMEOUT, h.clock.now_ms());
    m.producer_epoch = e;
    m.state = TxnState::Ongoing;
    m.partitions.insert(tp(0));
    m.partitions.insert(tp(1));
    m.transition(TxnState::PrepareCommit, h.clock.now_ms());
    let record = NewRecord {
        timestamp: h.clock.now_ms(),
        key: Some(super::txn_log::encode_key("a")),
        value: Some(super::txn_log::encode_value(&m)),
        headers: Vec::new(),
    };
    let batch = BatchBuilder::new(0, h.clock.now_ms()).build(&[record]);
    h.logs
        .topic(TRANSACTION_STATE_TOPIC)
        .unwrap()
        .partition(0)
        .unwrap()
        .append(Bytes::from(batch), h.clock.now_ms())
        .unwrap();
    assert_eq!(h.lso(0), (1, 0));
    h.reopen();
    assert_eq!(h.c.state_of("a"), Some(TxnState::CompleteCommit));
    assert_eq!(h.lso(0), (2, 2));
    assert_eq!(h.lso(1), (2, 2));
}

#[test]
fn the_state_topic_is_created_on_first_use() {
    let mut h = H::new();
    assert!(h.logs.topic(TRANSACTION_STATE_TOPIC).is_none());
    assert!(h.c.list(&[], &[], -1).is_empty());
    h.reopen();
    assert!(h.logs.topic(TRANSACTION_STATE_TOPIC).is_none());
    h.init("a");
    assert!(h.logs.topic(TRANSACTION_STATE_TOPIC).is_some());
}

#[test]
fn a_stale_completion_retry_writes_no_second_marker() {
    let h = H::new();
    let (pid, e) = h.init("a");
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 0);
    h.c.end_txn("a", pid, e, true).unwrap();
    // The producer's next transaction is open on the same partition...
    h.c.add_partitions("a", pid, e, &[tp(0)]).unwrap();
    h.produce(0, pid, e, 1);
    assert_eq!(h.lso(0), (3, 2));
    // ...and a timer pass (which retries unfinished completions) must not
    // end it with a leftover COMMIT marker.
    h.c.tick(h.clock.now_ms());
    assert_eq!(h.lso(0), (3, 2));
    assert_eq!(h.c.state_of("a"), Some(TxnState::Ongoing));
}
