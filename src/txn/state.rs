//! The states of one transactional id (Kafka's `TransactionState`) and the
//! metadata the coordinator keeps for it (`TransactionMetadata`), with the
//! table of legal transitions asserted on every change.

use std::collections::BTreeSet;

/// Where a transactional id's current transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// No transaction in progress (just initialised, or after expiry of the last one's result).
    Empty,
    /// Partitions (or a group's offsets) were added: a transaction is open.
    Ongoing,
    /// EndTxn(commit) accepted: markers are being written.
    PrepareCommit,
    /// EndTxn(abort), a timeout or a fence: markers are being written.
    PrepareAbort,
    /// Every COMMIT marker is written.
    CompleteCommit,
    /// Every ABORT marker is written.
    CompleteAbort,
    /// The transactional id expired and is being removed.
    Dead,
    /// A newer producer fenced this one while its transaction was open; the
    /// transaction is aborted with the bumped epoch. Never persisted by
    /// Kafka's TV1 coordinator as a final state.
    PrepareEpochFence,
}

impl TxnState {
    /// Kafka's `TransactionState.id`, the byte in `__transaction_state`.
    pub fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
            TxnState::Dead => 6,
            TxnState::PrepareEpochFence => 7,
        }
    }

    /// The state stored as `id`, if it is one.
    pub fn from_id(id: i8) -> Option<TxnState> {
        Some(match id {
            0 => TxnState::Empty,
            1 => TxnState::Ongoing,
            2 => TxnState::PrepareCommit,
            3 => TxnState::PrepareAbort,
            4 => TxnState::CompleteCommit,
            5 => TxnState::CompleteAbort,
            6 => TxnState::Dead,
            7 => TxnState::PrepareEpochFence,
            _ => return None,
        })
    }

    /// The name DescribeTransactions/ListTransactions report (Kafka's
    /// `TransactionState.stateName`), which admin clients parse.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    /// Kafka's `validPreviousStates`: the states this one may be entered from.
    pub fn valid_previous(self) -> &'static [TxnState] {
        use TxnState::*;
        match self {
            Empty => &[Empty, CompleteCommit, CompleteAbort],
            Ongoing => &[Ongoing, Empty, CompleteCommit, CompleteAbort],
            PrepareCommit => &[Ongoing],
            PrepareAbort => &[Ongoing, PrepareEpochFence],
            CompleteCommit => &[PrepareCommit],
            CompleteAbort => &[PrepareAbort],
            Dead => &[Empty, CompleteCommit, CompleteAbort],
            PrepareEpochFence => &[Ongoing],
        }
    }

    /// Whether a transaction is open or being completed (its partitions
    /// hold undecided data).
    pub fn is_in_flight(self) -> bool {
        matches!(
            self,
            TxnState::Ongoing
                | TxnState::PrepareCommit
                | TxnState::PrepareAbort
                | TxnState::PrepareEpochFence
        )
    }
}

/// A topic partition taking part in a transaction.
pub type TxnPartition = (String, i32);

/// What the coordinator knows of one transactional id. Exactly what is
/// persisted in `__transaction_state` (see `txn_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMetadata {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The producer id before the last rotation (epoch exhaustion), or -1:
    /// lets a producer retrying InitProducerId with the old id be recognised.
    pub previous_producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch before the last bump, or -1 (a retried InitProducerId whose
    /// answer was lost carries it).
    pub last_producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<TxnPartition>,
    /// When the current transaction started (-1 when none is open).
    pub start_ms: i64,
    pub last_update_ms: i64,
}

impl TxnMetadata {
    /// A fresh id: no epoch yet.
    pub fn new(transactional_id: &str, producer_id: i64, timeout_ms: i32, now: i64) -> Self {
        TxnMetadata {
            transactional_id: transactional_id.to_string(),
            producer_id,
            previous_producer_id: -1,
            producer_epoch: -1,
            last_producer_epoch: -1,
            timeout_ms,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            start_ms: -1,
            last_update_ms: now,
        }
    }

    /// Moves to `next`, which must be legal from the current state (a bug
    /// otherwise: asserted in debug builds, logged in release).
    pub fn transition(&mut self, next: TxnState, now: i64) {
        let legal = next.valid_previous().contains(&self.state);
        debug_assert!(
            legal,
            "illegal transaction transition {:?} -> {next:?} for {}",
            self.state, self.transactional_id
        );
        if !legal {
            tracing::error!(transactional_id = %self.transactional_id, from = ?self.state,
                to = ?next, "illegal transaction state transition");
        }
        match next {
            TxnState::Ongoing if self.state != TxnState::Ongoing => self.start_ms = now,
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                self.partitions.clear();
            }
            _ => {}
        }
        self.state = next;
        self.last_update_ms = now;
    }

    /// Kafka's `isEpochExhausted`: the next bump would overflow, so a new
    /// producer id is needed instead.
    pub fn epoch_exhausted(&self) -> bool {
        self.producer_epoch >= i16::MAX - 1
    }

    /// Whether the open transaction has outlived its timeout at `now`.
    pub fn timed_out(&self, now: i64) -> bool {
        self.state == TxnState::Ongoing && self.start_ms + i64::from(self.timeout_ms) < now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::Dead,
        TxnState::PrepareEpochFence,
    ];

    #[test]
    fn ids_round_trip_and_match_kafka() {
        for (i, s) in ALL.iter().enumerate() {
            assert_eq!(s.id(), i as i8);
            assert_eq!(TxnState::from_id(s.id()), Some(*s));
        }
        assert_eq!(TxnState::from_id(8), None);
        assert_eq!(TxnState::from_id(-1), None);
    }

    #[test]
    fn the_transition_table_is_kafkas() {
        use TxnState::*;
        let legal = |from: TxnState, to: TxnState| to.valid_previous().contains(&from);
        // Every edge the coordinator takes.
        for (from, to) in [
            (Empty, Empty),
            (Empty, Ongoing),
            (Ongoing, Ongoing),
            (Ongoing, PrepareCommit),
            (Ongoing, PrepareAbort),
            (Ongoing, PrepareEpochFence),
            (PrepareEpochFence, PrepareAbort),
            (PrepareCommit, CompleteCommit),
            (PrepareAbort, CompleteAbort),
            (CompleteCommit, Ongoing),
            (CompleteAbort, Ongoing),
            (CompleteCommit, Empty),
            (CompleteAbort, Empty),
            (CompleteCommit, Dead),
            (Empty, Dead),
        ] {
            assert!(legal(from, to), "{from:?} -> {to:?}");
        }
        // And some it must never take.
        for (from, to) in [
            (Empty, PrepareCommit),
            (Empty, PrepareAbort),
            (CompleteCommit, PrepareCommit),
            (PrepareCommit, PrepareAbort),
            (PrepareAbort, CompleteCommit),
            (PrepareCommit, Ongoing),
            (Dead, Empty),
            (Ongoing, CompleteCommit),
            (Ongoing, Dead),
        ] {
            assert!(!legal(from, to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn ongoing_sets_the_start_and_completion_clears_partitions() {
        let mut m = TxnMetadata::new("t", 7, 1000, 0);
        m.transition(TxnState::Ongoing, 10);
        m.partitions.insert(("a".into(), 0));
        assert_eq!(m.start_ms, 10);
        m.transition(TxnState::Ongoing, 20);
        assert_eq!(m.start_ms, 10, "adding partitions keeps the start");
        assert!(!m.timed_out(1010));
        assert!(m.timed_out(1011));
        m.transition(TxnState::PrepareCommit, 30);
        assert!(!m.timed_out(5000), "only open transactions time out");
        m.transition(TxnState::CompleteCommit, 40);
        assert!(m.partitions.is_empty());
    }

    #[test]
    fn epoch_exhaustion() {
        let mut m = TxnMetadata::new("t", 7, 1000, 0);
        m.producer_epoch = i16::MAX - 2;
        assert!(!m.epoch_exhausted());
        m.producer_epoch = i16::MAX - 1;
        assert!(m.epoch_exhausted());
    }
}
