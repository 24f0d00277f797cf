//! Unit tests of one share-partition's state machine: acquisition by
//! record batch, acknowledgements, lock expiry, persistence.

use super::*;
use crate::clock::{Clock, ManualClock};

const LIMITS: AcquireLimits = AcquireLimits {
    max_records: 500,
    batch_size: 500,
    record_limit: false,
    delivery_limit: 5,
    max_in_flight: 2000,
    lock_duration_ms: 30_000,
};

fn ack(first: i64, last: i64, types: &[i8]) -> AckBatch<'_> {
    AckBatch { first, last, types }
}

fn range(first: i64, last: i64, delivery_count: i16) -> AcquiredRange {
    AcquiredRange {
        first,
        last,
        delivery_count,
    }
}

#[test]
fn acquired_records_are_not_given_to_another_member() {
    let clock = ManualClock::new(1_000);
    let mut p = SharePartition::new(0);
    let a = p.acquire("a", 0, 9, LIMITS, clock.now_ms());
    assert_eq!(a, vec![range(0, 9, 1)]);
    assert!(p.acquire("b", 0, 9, LIMITS, clock.now_ms()).is_empty());
    // New records beyond are given to b.
    assert_eq!(
        p.acquire("b", 10, 14, LIMITS, clock.now_ms()),
        vec![range(10, 14, 1)]
    );
}

#[test]
fn accept_advances_the_start_offset() {
    let mut p = SharePartition::new(5);
    p.acquire("a", 5, 9, LIMITS, 0);
    p.acknowledge("a", ack(5, 7, &[1]), 5, 30_000, 0).unwrap();
    assert_eq!(p.start_offset(), 8);
    assert_eq!(p.end_offset(), 10);
    p.acknowledge("a", ack(8, 9, &[1]), 5, 30_000, 0).unwrap();
    assert_eq!((p.start_offset(), p.end_offset()), (10, 10));
}

#[test]
fn released_record_is_redelivered_with_a_higher_count_and_rejected_is_not() {
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 2, LIMITS, 0);
    // offset 0 accept, 1 release, 2 reject (per-offset types).
    let released = p
        .acknowledge("a", ack(0, 2, &[1, 2, 3]), 5, 30_000, 0)
        .unwrap();
    assert!(released);
    assert_eq!(p.next_fetch_offset(), 1);
    assert_eq!(p.acquire("b", 0, 2, LIMITS, 0), vec![range(1, 1, 2)]);
    assert_eq!(p.state_of(2), Some((RecordState::Archived, 1)));
}

#[test]
fn delivery_count_limit_archives() {
    let mut p = SharePartition::new(0);
    for round in 1..=2 {
        assert_eq!(p.acquire("a", 0, 0, LIMITS, 0), vec![range(0, 0, round)]);
        p.acknowledge("a", ack(0, 0, &[2]), 2, 30_000, 0).unwrap();
    }
    assert!(p.acquire("a", 0, 0, LIMITS, 0).is_empty());
    assert_eq!(
        p.start_offset(),
        1,
        "the archived record no longer holds the SPSO"
    );
}

#[test]
fn lock_expiry_makes_records_available_again() {
    let clock = ManualClock::new(0);
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 3, LIMITS, clock.now_ms());
    clock.advance(29_999);
    assert_eq!(p.expire_locks(clock.now_ms(), 5), 0);
    clock.advance(1);
    assert_eq!(p.expire_locks(clock.now_ms(), 5), 4);
    assert_eq!(
        p.acquire("b", 0, 3, LIMITS, clock.now_ms()),
        vec![range(0, 3, 2)]
    );
    // a's late acknowledgement is refused: b holds the lock now.
    assert_eq!(
        p.acknowledge("a", ack(0, 0, &[1]), 5, 30_000, clock.now_ms()),
        Err(AckError::InvalidRecordState(0))
    );
}

#[test]
fn renew_extends_the_lock() {
    let clock = ManualClock::new(0);
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 0, LIMITS, clock.now_ms());
    clock.advance(20_000);
    p.acknowledge("a", ack(0, 0, &[4]), 5, 30_000, clock.now_ms())
        .unwrap();
    clock.advance(20_000);
    assert_eq!(p.expire_locks(clock.now_ms(), 5), 0);
    assert_eq!(p.state_of(0), Some((RecordState::Acquired, 1)));
}

#[test]
fn bad_batches_change_nothing() {
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 3, LIMITS, 0);
    let before = p.clone();
    assert!(matches!(
        p.acknowledge("a", ack(0, 3, &[1, 1]), 5, 30_000, 0),
        Err(AckError::InvalidRequest(_))
    ));
    assert!(matches!(
        p.acknowledge("a", ack(0, 3, &[9]), 5, 30_000, 0),
        Err(AckError::InvalidRequest(_))
    ));
    assert!(matches!(
        p.acknowledge("a", ack(3, 1, &[1]), 5, 30_000, 0),
        Err(AckError::InvalidRequest(_))
    ));
    assert_eq!(
        p.acknowledge("a", ack(2, 4, &[1]), 5, 30_000, 0),
        Err(AckError::InvalidRecordState(4))
    );
    assert_eq!(p, before);
}

#[test]
fn record_limit_mode_bounds_acquisition_exactly() {
    let mut p = SharePartition::new(0);
    let small = AcquireLimits {
        max_records: 3,
        record_limit: true,
        ..LIMITS
    };
    assert_eq!(p.acquire("a", 0, 99, small, 0), vec![range(0, 2, 1)]);
    let locks = AcquireLimits {
        max_in_flight: 5,
        record_limit: true,
        ..LIMITS
    };
    assert_eq!(p.acquire("a", 0, 99, locks, 0), vec![range(3, 4, 1)]);
}

fn data(first: i64, last: i64) -> LogBatch {
    LogBatch {
        first,
        last,
        deliverable: true,
    }
}

#[test]
fn max_records_is_soft_whole_batches_are_acquired() {
    let mut p = SharePartition::new(0);
    // One producer batch far larger than max_records: taken whole, once.
    assert_eq!(
        p.acquire_batches("a", &[data(0, 2999)], LIMITS, 0),
        vec![range(0, 2999, 1)]
    );
    assert_eq!(p.end_offset(), 3000);
    // Batches of 300: the one crossing 500 is finished, the next is not started.
    let read = [data(3000, 3299), data(3300, 3599), data(3600, 3899)];
    let big = AcquireLimits {
        max_in_flight: 10_000,
        ..LIMITS
    };
    assert_eq!(
        p.acquire_batches("b", &read, big, 0),
        vec![range(3000, 3599, 1)]
    );
    assert_eq!(p.end_offset(), 3600);
}

#[test]
fn batch_size_splits_ranges_at_batch_boundaries() {
    let mut p = SharePartition::new(0);
    let limits = AcquireLimits {
        max_records: 1000,
        batch_size: 250,
        ..LIMITS
    };
    let read = [
        data(0, 199),
        data(200, 399),
        data(400, 599),
        data(600, 2000),
    ];
    assert_eq!(
        p.acquire_batches("a", &read, limits, 0),
        vec![range(0, 399, 1), range(400, 2000, 1)]
    );
}

#[test]
fn in_flight_room_is_checked_once_and_a_started_batch_is_finished() {
    let mut p = SharePartition::new(0);
    let limits = AcquireLimits {
        max_in_flight: 100,
        ..LIMITS
    };
    assert_eq!(
        p.acquire_batches("a", &[data(0, 59), data(60, 179)], limits, 0),
        vec![range(0, 179, 1)]
    );
    // Full: no new records, but released ones are redelivered.
    assert!(p
        .acquire_batches("b", &[data(180, 199)], limits, 0)
        .is_empty());
    p.acknowledge("a", ack(10, 12, &[2]), 5, 30_000, 0).unwrap();
    assert_eq!(
        p.acquire_batches(
            "b",
            &[data(0, 59), data(60, 179), data(180, 199)],
            limits,
            0
        ),
        vec![range(10, 12, 2)]
    );
    assert_eq!(p.end_offset(), 180);
}

#[test]
fn a_partly_settled_batch_redelivers_only_its_available_records() {
    let mut p = SharePartition::new(0);
    p.acquire_batches("a", &[data(0, 999)], LIMITS, 0);
    // Accept all but 100..=109 (released) and 500 (released); reject 600.
    p.acknowledge("a", ack(0, 99, &[1]), 5, 30_000, 0).unwrap();
    p.acknowledge("a", ack(100, 109, &[2]), 5, 30_000, 0)
        .unwrap();
    p.acknowledge("a", ack(110, 499, &[1]), 5, 30_000, 0)
        .unwrap();
    p.acknowledge("a", ack(500, 500, &[2]), 5, 30_000, 0)
        .unwrap();
    p.acknowledge("a", ack(501, 599, &[1]), 5, 30_000, 0)
        .unwrap();
    p.acknowledge("a", ack(600, 600, &[3]), 5, 30_000, 0)
        .unwrap();
    assert_eq!(p.next_fetch_offset(), 100);
    // The fetch reads the batch again (from 100): every available record
    // of it, beyond max_records' boundary too, and nothing else.
    let small = AcquireLimits {
        max_records: 5,
        ..LIMITS
    };
    assert_eq!(
        p.acquire_batches("b", &[data(100, 999)], small, 0),
        vec![range(100, 109, 2), range(500, 500, 2)]
    );
    // 601..=999 are still a's.
    assert_eq!(p.state_of(700), Some((RecordState::Acquired, 1)));
}

#[test]
fn markers_before_the_limit_are_archived_and_the_rest_waits() {
    let mut p = SharePartition::new(0);
    let marker = LogBatch {
        first: 10,
        last: 10,
        deliverable: false,
    };
    let small = AcquireLimits {
        max_records: 5,
        ..LIMITS
    };
    assert_eq!(
        p.acquire_batches("a", &[data(0, 9), marker, data(11, 20)], small, 0),
        vec![range(0, 9, 1)]
    );
    assert_eq!(p.end_offset(), 10);
    assert_eq!(
        p.acquire_batches("a", &[marker, data(11, 20)], small, 0),
        vec![range(11, 20, 1)]
    );
    assert_eq!(p.state_of(10), Some((RecordState::Archived, 0)));
}

#[test]
fn markers_are_archived_without_delivery() {
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 2, LIMITS, 0);
    p.archive_unacquirable(3, 3, 2000);
    assert_eq!(p.acquire("a", 4, 5, LIMITS, 0), vec![range(4, 5, 1)]);
    assert_eq!(p.state_of(3), Some((RecordState::Archived, 0)));
    p.acknowledge("a", ack(0, 2, &[1]), 5, 30_000, 0).unwrap();
    assert_eq!(
        p.start_offset(),
        4,
        "the marker does not hold the start offset back"
    );
    // Beyond the end offset nothing is archived (no hole is left).
    p.archive_unacquirable(9, 9, 2000);
    assert_eq!(p.end_offset(), 6);
}

#[test]
fn member_release_and_log_start() {
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 4, LIMITS, 0);
    assert_eq!(p.release_member("a", 5), 5);
    assert_eq!(p.next_fetch_offset(), 0);
    p.on_log_start(3);
    assert_eq!(p.start_offset(), 3);
    assert_eq!(
        p.acquire("b", 0, 9, LIMITS, 0),
        vec![range(3, 4, 2), range(5, 9, 1)]
    );
}

#[test]
fn snapshot_round_trip_turns_locks_into_available() {
    let mut p = SharePartition::new(0);
    p.acquire("a", 0, 5, LIMITS, 0);
    p.acknowledge("a", ack(1, 1, &[1]), 5, 30_000, 0).unwrap();
    p.acknowledge("a", ack(2, 2, &[3]), 5, 30_000, 0).unwrap();
    let snap = p.snapshot();
    let r = SharePartition::restore(p.start_offset(), &snap);
    assert_eq!(r.start_offset(), 0);
    assert_eq!(r.end_offset(), 6);
    assert_eq!(r.state_of(0), Some((RecordState::Available, 1)));
    assert_eq!(r.state_of(1), Some((RecordState::Acknowledged, 1)));
    assert_eq!(r.state_of(2), Some((RecordState::Archived, 1)));
    let mut r = r;
    // Redelivered after the restart with its delivery count kept.
    assert_eq!(
        r.acquire("b", 0, 9, LIMITS, 0),
        vec![range(0, 0, 2), range(3, 5, 2), range(6, 9, 1)]
    );
}

/// Releases every record `member` holds in `[first, last]` (its current delivery).
fn release_all(p: &mut SharePartition, member: &str, first: i64, last: i64) {
    p.acknowledge(member, ack(first, last, &[2]), 5, 30_000, 0)
        .unwrap();
}

#[test]
fn often_redelivered_batches_are_throttled_and_the_last_attempt_goes_alone() {
    // Limit 5: from delivery count 3 a batch is throttled.
    let mut p = SharePartition::new(0);
    let batch = [data(0, 99)];
    for count in 1..=3 {
        assert_eq!(
            p.acquire_batches("a", &batch, LIMITS, 0),
            vec![range(0, 99, count)]
        );
        release_all(&mut p, "a", 0, 99);
    }
    // Count 3 (threshold): half of the batch, then a quarter at count 4.
    assert_eq!(
        p.acquire_batches("a", &batch, LIMITS, 0),
        vec![range(0, 49, 4)]
    );
    release_all(&mut p, "a", 0, 49);
    // 0..=49 are on their last attempt now: one at a time.
    assert_eq!(
        p.acquire_batches("a", &batch, LIMITS, 0),
        vec![range(0, 0, 5)]
    );
    assert_eq!(
        p.acquire_batches("b", &batch, LIMITS, 0),
        vec![range(1, 1, 5)]
    );
    // A throttled batch is not joined to records already taken.
    let mut q = SharePartition::new(0);
    let two = [data(0, 9), data(10, 19)];
    q.acquire_batches("a", &two, LIMITS, 0);
    for _ in 0..2 {
        release_all(&mut q, "a", 10, 19);
        q.acquire_batches("a", &[data(10, 19)], LIMITS, 0);
    }
    release_all(&mut q, "a", 0, 19);
    assert_eq!(
        q.acquire_batches("b", &two, LIMITS, 0),
        vec![range(0, 9, 2)]
    );
    assert_eq!(
        q.acquire_batches("b", &two, LIMITS, 0),
        vec![range(10, 14, 4)]
    );
}
