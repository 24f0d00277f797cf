//! The state of one share-partition (a topic partition as one share group
//! consumes it, KIP-932): the share-partition start offset (SPSO), the end
//! offset (SPEO, the first offset never acquired) and, for every in-flight
//! offset in `[SPSO, SPEO)`, its state and delivery count.
//!
//! Record states: AVAILABLE → ACQUIRED (by one member, until its
//! acquisition lock expires) → ACKNOWLEDGED (accept) or ARCHIVED (reject,
//! a gap, or released once the delivery count limit is reached) or back to
//! AVAILABLE (release, lock expiry, the member left). The SPSO moves past
//! leading ACKNOWLEDGED/ARCHIVED offsets, which are then forgotten. Time
//! comes from the caller (the injected clock), so tests move it.

use std::collections::BTreeMap;

/// One in-flight record's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Available,
    Acquired,
    Acknowledged,
    Archived,
}

/// Kafka's AcknowledgeType codes (ShareFetch/ShareAcknowledge v1+; Renew v2+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckType {
    Gap,
    Accept,
    Release,
    Reject,
    Renew,
}

impl AckType {
    pub fn from_code(code: i8) -> Option<AckType> {
        Some(match code {
            0 => AckType::Gap,
            1 => AckType::Accept,
            2 => AckType::Release,
            3 => AckType::Reject,
            4 => AckType::Renew,
            _ => return None,
        })
    }
}

/// Why an acknowledgement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// An offset in the batch is not acquired by this member (Kafka's INVALID_RECORD_STATE).
    #[error("offset {0} is not acquired by this member")]
    InvalidRecordState(i64),
    /// Malformed batch: bad range, type count or type code (INVALID_REQUEST).
    #[error("{0}")]
    InvalidRequest(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct InFlight {
    state: RecordState,
    delivery_count: i16,
    /// The member holding the acquisition lock (ACQUIRED only).
    owner: Option<String>,
    lock_deadline_ms: i64,
}

/// A contiguous run of records acquired with one delivery count, as
/// ShareFetch's `AcquiredRecords` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquiredRange {
    pub first: i64,
    pub last: i64,
    pub delivery_count: i16,
}

/// A persisted run of in-flight offsets with one state and delivery count
/// (ACQUIRED is persisted as AVAILABLE: a lock does not survive a restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRange {
    pub first: i64,
    pub last: i64,
    pub state: RecordState,
    pub delivery_count: i16,
}

/// One acknowledgement batch: `types` holds one type for the whole
/// `first..=last` range or one per offset.
#[derive(Debug, Clone, Copy)]
pub struct AckBatch<'a> {
    pub first: i64,
    pub last: i64,
    pub types: &'a [i8],
}

/// Limits the acquisition of one fetch.
#[derive(Debug, Clone, Copy)]
pub struct AcquireLimits {
    /// ShareFetch `max_records`. A soft limit, as in Kafka: whole record
    /// batches are acquired, so the batch holding the limit is taken to its
    /// end (each record's bytes then go on the wire once per delivery);
    /// hard only when `record_limit` is set.
    pub max_records: usize,
    /// ShareFetch `batch_size`: acquired ranges are split at a record
    /// batch boundary once they reach this many records, so each is
    /// acknowledged on its own.
    pub batch_size: usize,
    /// ShareAcquireMode RECORD_LIMIT (ShareFetch v2): never more than
    /// `max_records`, even inside a batch.
    pub record_limit: bool,
    /// `group.share.partition.max.record.locks`: most in-flight offsets
    /// before new ones are acquired (a batch started is still taken whole).
    pub max_in_flight: i64,
    pub lock_duration_ms: i64,
    /// `group.share.delivery.count.limit`: records close to it are
    /// redelivered in smaller groups (see [`SharePartition::acquire_batches`]).
    pub delivery_limit: i16,
}

/// One record batch a fetch read: its base offset and its last offset
/// below the high watermark (or last stable offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBatch {
    pub first: i64,
    pub last: i64,
    /// False for a transaction marker (and, under read_committed, a batch
    /// of an aborted transaction): archived at once, never delivered.
    pub deliverable: bool,
}

/// One share-partition. Invariant: `records` holds exactly the offsets
/// `start..end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharePartition {
    start: i64,
    end: i64,
    records: BTreeMap<i64, InFlight>,
}

impl SharePartition {
    /// A share-partition whose first offset to deliver is `start`.
    pub fn new(start: i64) -> SharePartition {
        SharePartition {
            start,
            end: start,
            records: BTreeMap::new(),
        }
    }

    /// The share-partition start offset (SPSO).
    pub fn start_offset(&self) -> i64 {
        self.start
    }

    /// The share-partition end offset: the next offset never acquired.
    #[cfg(test)]
    pub fn end_offset(&self) -> i64 {
        self.end
    }

    /// The offset a fetch should read from: the first AVAILABLE in-flight
    /// record (a redelivery), else the end offset.
    pub fn next_fetch_offset(&self) -> i64 {
        self.records
            .iter()
            .find(|(_, r)| r.state == RecordState::Available)
            .map(|(o, _)| *o)
            .unwrap_or(self.end)
    }

    /// State and delivery count of `offset`, if in flight.
    #[cfg(test)]
    pub fn state_of(&self, offset: i64) -> Option<(RecordState, i16)> {
        self.records
            .get(&offset)
            .map(|r| (r.state, r.delivery_count))
    }

    /// Acquires for `member` the AVAILABLE and new offsets of one batch
    /// `[from, to]` (see [`SharePartition::acquire_batches`]).
    #[cfg(test)]
    pub fn acquire(
        &mut self,
        member: &str,
        from: i64,
        to: i64,
        limits: AcquireLimits,
        now_ms: i64,
    ) -> Vec<AcquiredRange> {
        let batch = LogBatch {
            first: from,
            last: to,
            deliverable: true,
        };
        self.acquire_batches(member, &[batch], limits, now_ms)
    }

    /// Acquires for `member`, batch by batch in log order, the AVAILABLE
    /// in-flight offsets and the new ones (continuing at the end offset) of
    /// the record batches a fetch read; undeliverable batches are archived.
    /// As Kafka's batch-optimized acquisition: a batch is started only while
    /// fewer than `max_records` were taken and is then taken whole (new
    /// offsets only while the in-flight records are under
    /// `max_in_flight`), so a fetch never hands out a slice of a batch whose
    /// rest a later fetch would send again. Returns the acquired runs.
    pub fn acquire_batches(
        &mut self,
        member: &str,
        batches: &[LogBatch],
        limits: AcquireLimits,
        now_ms: i64,
    ) -> Vec<AcquiredRange> {
        let deadline = now_ms.saturating_add(limits.lock_duration_ms);
        let mut ranges: Vec<AcquiredRange> = Vec::new();
        let mut taken = 0usize;
        // Kafka checks the in-flight room once per fetch: with none left
        // only redeliveries (offsets below the end offset) are acquired.
        let room = limits.max_in_flight - (self.end - self.start);
        let (budget, new_allowed) = if limits.record_limit || room <= 0 {
            (limits.max_records, room > 0)
        } else {
            (
                limits
                    .max_records
                    .min(usize::try_from(room).unwrap_or(usize::MAX)),
                true,
            )
        };
        let full = |taken: usize| taken >= budget;
        let throttle_at = throttle_threshold(limits.delivery_limit);
        for b in batches {
            if b.first > b.last {
                continue;
            }
            if full(taken) {
                break;
            }
            if !b.deliverable {
                self.archive_unacquirable(b.first, b.last, limits.max_in_flight);
                continue;
            }
            // This batch's acquired offsets as (first, last, delivery count) runs.
            let mut pieces: Vec<AcquiredRange> = Vec::new();
            let lo = b.first.max(self.start);
            let in_flight_last = b.last.min(self.end - 1);
            let throttled = lo <= in_flight_last
                && self.records.range(lo..=in_flight_last).any(|(_, r)| {
                    r.state == RecordState::Available && r.delivery_count >= throttle_at
                });
            if throttled {
                // As Kafka (4.2): a batch with records redelivered often is
                // handed out alone and in shrinking parts, so one bad record
                // does not use up the deliveries of a whole batch.
                if taken > 0 {
                    break;
                }
                let batch_len = b.last - b.first + 1;
                self.acquire_throttled(
                    member,
                    (lo, in_flight_last),
                    batch_len,
                    limits,
                    deadline,
                    &mut pieces,
                );
                ranges.extend(pieces);
                break;
            }
            if lo <= in_flight_last {
                for (offset, r) in self.records.range_mut(lo..=in_flight_last) {
                    if limits.record_limit && taken >= limits.max_records {
                        break;
                    }
                    if r.state == RecordState::Available {
                        r.state = RecordState::Acquired;
                        r.delivery_count = r.delivery_count.saturating_add(1);
                        r.owner = Some(member.to_string());
                        r.lock_deadline_ms = deadline;
                        extend_run(&mut pieces, *offset, r.delivery_count);
                        taken += 1;
                    }
                }
            }
            // New offsets continue at the end offset only: in-flight offsets stay contiguous.
            if new_allowed && b.first <= self.end {
                while self.end <= b.last
                    && !(limits.record_limit
                        && (taken >= limits.max_records
                            || self.end - self.start >= limits.max_in_flight))
                {
                    self.records.insert(
                        self.end,
                        InFlight {
                            state: RecordState::Acquired,
                            delivery_count: 1,
                            owner: Some(member.to_string()),
                            lock_deadline_ms: deadline,
                        },
                    );
                    extend_run(&mut pieces, self.end, 1);
                    taken += 1;
                    self.end += 1;
                }
            }
            for piece in pieces {
                match ranges.last_mut() {
                    // Joined with the previous run unless that would pass `batch_size`.
                    Some(r)
                        if r.last + 1 == piece.first
                            && r.delivery_count == piece.delivery_count
                            && usize::try_from(piece.first - r.first)
                                .is_ok_and(|n| n < limits.batch_size.max(1)) =>
                    {
                        r.last = piece.last
                    }
                    _ => ranges.push(piece),
                }
            }
        }
        ranges
    }

    /// Acquires the AVAILABLE offsets of `[lo, hi]` in a batch of
    /// `batch_len` records holding a record delivered at least
    /// [`throttle_threshold`] times, as Kafka's throttled delivery: a record
    /// on its last delivery attempt goes alone (limits above 2), and from
    /// the first such record at most `batch_len >> (count - threshold + 1)`
    /// records are taken (at least one).
    fn acquire_throttled(
        &mut self,
        member: &str,
        (lo, hi): (i64, i64),
        batch_len: i64,
        limits: AcquireLimits,
        deadline: i64,
        pieces: &mut Vec<AcquiredRange>,
    ) {
        let limit = limits.delivery_limit;
        let threshold = throttle_threshold(limit);
        let mut taken = 0i64;
        let mut cap: Option<i64> = None;
        for (offset, r) in self.records.range_mut(lo..=hi) {
            if r.state != RecordState::Available {
                continue;
            }
            let count = r.delivery_count;
            if limit > 2 && count == limit - 1 && taken > 0 {
                break;
            }
            if count >= threshold && cap.is_none() {
                let shift = u32::try_from(count - threshold + 1).unwrap_or(u32::MAX);
                cap = Some(batch_len.checked_shr(shift).unwrap_or(0).max(1));
            }
            r.state = RecordState::Acquired;
            r.delivery_count = count.saturating_add(1);
            r.owner = Some(member.to_string());
            r.lock_deadline_ms = deadline;
            extend_run(pieces, *offset, r.delivery_count);
            taken += 1;
            let last_attempt = limit > 2 && r.delivery_count == limit;
            let exact_done = limits.record_limit
                && usize::try_from(taken).is_ok_and(|n| n >= limits.max_records);
            if last_attempt || exact_done || cap == Some(taken) {
                break;
            }
        }
    }

    /// Archives offsets `[first, last]` that no consumer may acquire
    /// (transaction markers): new ones continuing at the end offset, and
    /// AVAILABLE ones. Stops where it would leave a hole.
    pub fn archive_unacquirable(&mut self, first: i64, last: i64, max_in_flight: i64) {
        for offset in first.max(self.start)..=last {
            if offset == self.end && self.end - self.start < max_in_flight {
                self.records.insert(
                    offset,
                    InFlight {
                        state: RecordState::Archived,
                        delivery_count: 0,
                        owner: None,
                        lock_deadline_ms: 0,
                    },
                );
                self.end += 1;
            } else if offset < self.end {
                if let Some(r) = self.records.get_mut(&offset) {
                    if r.state == RecordState::Available {
                        settle(r, RecordState::Archived);
                    }
                }
            } else {
                break;
            }
        }
        self.advance_start();
    }

    /// Applies one acknowledgement batch of `member`. The batch is checked as
    /// a whole first, so a refused batch changes nothing. Returns whether
    /// a record became AVAILABLE again (a waiting fetch may take it).
    pub fn acknowledge(
        &mut self,
        member: &str,
        batch: AckBatch<'_>,
        delivery_limit: i16,
        lock_duration_ms: i64,
        now_ms: i64,
    ) -> Result<bool, AckError> {
        let AckBatch { first, last, types } = batch;
        if first > last {
            return Err(AckError::InvalidRequest(format!(
                "first offset {first} is after last offset {last}"
            )));
        }
        let len = last - first + 1;
        if types.len() != 1 && i64::try_from(types.len()).ok() != Some(len) {
            return Err(AckError::InvalidRequest(format!(
                "{} acknowledge types for {len} offsets",
                types.len()
            )));
        }
        let mut parsed = Vec::with_capacity(types.len());
        for t in types {
            parsed.push(
                AckType::from_code(*t)
                    .ok_or_else(|| AckError::InvalidRequest(format!("acknowledge type {t}")))?,
            );
        }
        for offset in first..=last {
            match self.records.get(&offset) {
                Some(r)
                    if r.state == RecordState::Acquired && r.owner.as_deref() == Some(member) => {}
                _ => return Err(AckError::InvalidRecordState(offset)),
            }
        }
        let mut released = false;
        for (i, offset) in (first..=last).enumerate() {
            let ack = if parsed.len() == 1 {
                parsed[0]
            } else {
                parsed[i]
            };
            let Some(r) = self.records.get_mut(&offset) else {
                continue;
            };
            match ack {
                AckType::Accept => settle(r, RecordState::Acknowledged),
                AckType::Gap | AckType::Reject => settle(r, RecordState::Archived),
                AckType::Release => released |= release(r, delivery_limit),
                AckType::Renew => r.lock_deadline_ms = now_ms.saturating_add(lock_duration_ms),
            }
        }
        self.advance_start();
        Ok(released)
    }

    /// Releases every lock that expired by `now_ms`; returns how many.
    pub fn expire_locks(&mut self, now_ms: i64, delivery_limit: i16) -> usize {
        let mut n = 0;
        for r in self.records.values_mut() {
            if r.state == RecordState::Acquired && r.lock_deadline_ms <= now_ms {
                release(r, delivery_limit);
                n += 1;
            }
        }
        if n > 0 {
            self.advance_start();
        }
        n
    }

    /// Releases every record `member` holds (it left, or its share session closed).
    pub fn release_member(&mut self, member: &str, delivery_limit: i16) -> usize {
        let mut n = 0;
        for r in self.records.values_mut() {
            if r.state == RecordState::Acquired && r.owner.as_deref() == Some(member) {
                release(r, delivery_limit);
                n += 1;
            }
        }
        if n > 0 {
            self.advance_start();
        }
        n
    }

    /// The log start moved (retention, DeleteRecords): offsets below it
    /// are gone for good.
    pub fn on_log_start(&mut self, log_start: i64) {
        if log_start <= self.start {
            return;
        }
        self.records = self.records.split_off(&log_start);
        self.start = log_start;
        self.end = self.end.max(log_start);
        self.advance_start();
    }

    /// The in-flight state as persisted runs.
    pub fn snapshot(&self) -> Vec<StateRange> {
        let mut out: Vec<StateRange> = Vec::new();
        for (offset, r) in &self.records {
            let state = match r.state {
                RecordState::Acquired => RecordState::Available,
                s => s,
            };
            match out.last_mut() {
                Some(run)
                    if run.last + 1 == *offset
                        && run.state == state
                        && run.delivery_count == r.delivery_count =>
                {
                    run.last = *offset
                }
                _ => out.push(StateRange {
                    first: *offset,
                    last: *offset,
                    state,
                    delivery_count: r.delivery_count,
                }),
            }
        }
        out
    }

    /// Rebuilds a share-partition from its persisted form.
    pub fn restore(start: i64, ranges: &[StateRange]) -> SharePartition {
        let mut p = SharePartition::new(start);
        for run in ranges {
            for offset in run.first.max(start)..=run.last {
                // Only a contiguous continuation keeps the invariant.
                if offset != p.end {
                    break;
                }
                let state = match run.state {
                    RecordState::Acquired => RecordState::Available,
                    s => s,
                };
                p.records.insert(
                    offset,
                    InFlight {
                        state,
                        delivery_count: run.delivery_count,
                        owner: None,
                        lock_deadline_ms: 0,
                    },
                );
                p.end += 1;
            }
        }
        p.advance_start();
        p
    }

    fn advance_start(&mut self) {
        while let Some(entry) = self.records.first_entry() {
            if matches!(
                entry.get().state,
                RecordState::Acknowledged | RecordState::Archived
            ) {
                entry.remove();
                self.start += 1;
            } else {
                break;
            }
        }
        if self.records.is_empty() {
            self.start = self.end;
        }
    }
}

/// The delivery count from which a record's batch is redelivered
/// throttled: half the delivery count limit rounded up, at least 2 (Kafka's
/// `throttleRecordsDeliveryLimit`).
fn throttle_threshold(delivery_limit: i16) -> i16 {
    let half = delivery_limit / 2 + delivery_limit % 2;
    half.max(2)
}

/// Adds `offset` to the last run of `runs` if it continues it with the
/// same delivery count, else starts a run.
fn extend_run(runs: &mut Vec<AcquiredRange>, offset: i64, delivery_count: i16) {
    match runs.last_mut() {
        Some(r) if r.last + 1 == offset && r.delivery_count == delivery_count => r.last = offset,
        _ => runs.push(AcquiredRange {
            first: offset,
            last: offset,
            delivery_count,
        }),
    }
}

fn settle(r: &mut InFlight, state: RecordState) {
    r.state = state;
    r.owner = None;
}

/// AVAILABLE again, or ARCHIVED once delivered `delivery_limit` times;
/// returns whether it became AVAILABLE.
fn release(r: &mut InFlight, delivery_limit: i16) -> bool {
    r.owner = None;
    if r.delivery_count >= delivery_limit {
        r.state = RecordState::Archived;
        false
    } else {
        r.state = RecordState::Available;
        true
    }
}

/// How many in-flight records of a share-partition are in each state, as
/// the console and `/metrics` show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionCounts {
    pub start_offset: i64,
    /// The next offset never acquired.
    pub end_offset: i64,
    /// Every tracked offset between start and end.
    pub in_flight: u64,
    /// Held under an acquisition lock that has not expired at `now_ms`.
    pub acquired: u64,
    /// Available for (re)delivery, expired locks included.
    pub available: u64,
    pub acknowledged: u64,
    pub archived: u64,
}

impl SharePartition {
    /// The state counts at `now_ms` (an expired lock counts as available,
    /// as the next fetch will treat it).
    pub fn counts(&self, now_ms: i64) -> PartitionCounts {
        let mut c = PartitionCounts {
            start_offset: self.start,
            end_offset: self.end,
            in_flight: self.records.len() as u64,
            ..PartitionCounts::default()
        };
        for r in self.records.values() {
            match r.state {
                RecordState::Acquired if r.lock_deadline_ms > now_ms => c.acquired += 1,
                RecordState::Acquired | RecordState::Available => c.available += 1,
                RecordState::Acknowledged => c.acknowledged += 1,
                RecordState::Archived => c.archived += 1,
            }
        }
        c
    }
}

#[cfg(test)]
#[path = "partition_tests.rs"]
mod tests;
