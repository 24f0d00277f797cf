//! The classic group state machine (Kafka's `ClassicGroupState`), with its
//! table of valid previous states. Every transition is checked against the
//! table ([`GroupState::can_transition_to`]); an invalid one is a coordinator
//! bug and panics, as Kafka's `assertValidTransition` throws.
//!
//! What each state does with each request (Kafka's `action:`/`transition:`
//! notes, condensed):
//!
//! | state | JoinGroup | SyncGroup | Heartbeat | OffsetCommit | leaves to |
//! |---|---|---|---|---|---|
//! | `Empty` | new member → `PreparingRebalance` | UNKNOWN_MEMBER_ID | UNKNOWN_MEMBER_ID | only "simple" commits (generation -1) | `PreparingRebalance`, `Dead` |
//! | `PreparingRebalance` | parked until every known member rejoined or the rebalance timeout | REBALANCE_IN_PROGRESS | REBALANCE_IN_PROGRESS | previous generation allowed | `CompletingRebalance` (some joined), `Empty` (none left), `Dead` |
//! | `CompletingRebalance` | same metadata → current generation; changed → rebalance | followers parked until the leader's assignment | ok | REBALANCE_IN_PROGRESS | `Stable` (leader synced), `PreparingRebalance` (join/leave/failure), `Dead` |
//! | `Stable` | leader or changed metadata → rebalance; else current generation | current assignment | ok | current generation | `PreparingRebalance`, `Dead` |
//! | `Dead` | COORDINATOR_NOT_AVAILABLE | COORDINATOR_NOT_AVAILABLE | COORDINATOR_NOT_AVAILABLE | COORDINATOR_NOT_AVAILABLE | (final) |
//!
//! Skiff removes a group from memory as soon as it would be `Dead`, so
//! `Dead` is only ever reported (DescribeGroups of an unknown group), never
//! held; the table still lists it so the transition check is Kafka's.

use std::fmt;

/// A classic group's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members; lingers while it has committed offsets.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Waiting for the leader's assignment.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
    /// Removed (final).
    Dead,
}

impl GroupState {
    /// Every state, in declaration order.
    #[cfg(test)]
    pub const ALL: [GroupState; 5] = [
        GroupState::Empty,
        GroupState::PreparingRebalance,
        GroupState::CompletingRebalance,
        GroupState::Stable,
        GroupState::Dead,
    ];

    /// The states a group must be in to move to `self` (Kafka's
    /// `validPreviousStates`).
    pub fn valid_previous_states(self) -> &'static [GroupState] {
        use GroupState::*;
        match self {
            Empty => &[PreparingRebalance],
            PreparingRebalance => &[Stable, CompletingRebalance, Empty],
            CompletingRebalance => &[PreparingRebalance],
            Stable => &[CompletingRebalance],
            Dead => &[Stable, PreparingRebalance, CompletingRebalance, Empty, Dead],
        }
    }

    /// Whether a group in `self` may move to `next`.
    pub fn can_transition_to(self, next: GroupState) -> bool {
        next.valid_previous_states().contains(&self)
    }

    /// Kafka's name, as DescribeGroups and ListGroups report it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }

    /// Parses a ListGroups state filter entry (case-insensitive, trimmed, as
    /// Kafka compares them).
    #[cfg(test)]
    pub fn parse_filter(s: &str) -> Option<GroupState> {
        let s = s.trim();
        GroupState::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::GroupState::*;
    use super::*;

    #[test]
    fn transition_table_is_kafkas() {
        let allowed = [
            (PreparingRebalance, Empty),
            (Stable, PreparingRebalance),
            (CompletingRebalance, PreparingRebalance),
            (Empty, PreparingRebalance),
            (PreparingRebalance, CompletingRebalance),
            (CompletingRebalance, Stable),
            (Stable, Dead),
            (PreparingRebalance, Dead),
            (CompletingRebalance, Dead),
            (Empty, Dead),
            (Dead, Dead),
        ];
        for from in GroupState::ALL {
            for to in GroupState::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn filters_parse_case_insensitively() {
        assert_eq!(GroupState::parse_filter(" stable "), Some(Stable));
        assert_eq!(
            GroupState::parse_filter("PREPARINGREBALANCE"),
            Some(PreparingRebalance)
        );
        assert_eq!(GroupState::parse_filter("assigning"), None);
        assert_eq!(Stable.to_string(), "Stable");
    }
}
