//! A consumer group member (Kafka's `ConsumerGroupMember`) and its
//! reconciliation towards the group's target assignment (Kafka's
//! `CurrentAssignmentBuilder`).
//!
//! A member holds `assigned` partitions at `member_epoch`. When the target
//! assignment moves to a newer epoch the member first gives back what it
//! must lose: it stays at its epoch in `UnrevokedPartitions` with the lost
//! partitions in `pending_revocation` until a heartbeat no longer lists them
//! as owned. Only then does it move to the target epoch and receive new
//! partitions, and only those no other member still holds (the rest wait in
//! `UnreleasedPartitions` until they are released). So no partition is ever
//! owned by two members at once.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::assignment::{self, Assignment};
use super::records::ClassicMemberMetadata;

/// Epoch a member sends to leave the group.
pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// Epoch a static member sends to leave temporarily (it keeps its place
/// until its session expires).
pub const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;

/// Where a member is in its reconciliation (Kafka's `MemberState`, with its
/// record values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    /// Holds its full target at the target epoch (or waits for a new one).
    Stable,
    /// Must revoke `pending_revocation` before moving on.
    UnrevokedPartitions,
    /// At the target epoch, waiting for partitions others still hold.
    UnreleasedPartitions,
    /// A value this broker does not know (written by a newer one).
    Unknown,
}

impl MemberState {
    /// The `State` byte of `ConsumerGroupCurrentMemberAssignmentValue`.
    pub fn value(self) -> i8 {
        match self {
            MemberState::Stable => 0,
            MemberState::UnrevokedPartitions => 1,
            MemberState::UnreleasedPartitions => 2,
            MemberState::Unknown => 127,
        }
    }

    /// The state stored as `v`.
    pub fn from_value(v: i8) -> MemberState {
        match v {
            0 => MemberState::Stable,
            1 => MemberState::UnrevokedPartitions,
            2 => MemberState::UnreleasedPartitions,
            _ => MemberState::Unknown,
        }
    }

    /// Kafka's display name.
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Stable => "STABLE",
            MemberState::UnrevokedPartitions => "UNREVOKED_PARTITIONS",
            MemberState::UnreleasedPartitions => "UNRELEASED_PARTITIONS",
            MemberState::Unknown => "UNKNOWN",
        }
    }
}

/// One member of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMember {
    /// Member id (client-generated from ConsumerGroupHeartbeat v1).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// `client.rack`.
    pub rack_id: Option<String>,
    /// Client id of its last heartbeat.
    pub client_id: String,
    /// Client address (`/127.0.0.1`).
    pub client_host: String,
    /// Topics subscribed by name.
    pub subscribed_topic_names: BTreeSet<String>,
    /// Topics subscribed by pattern (RE2/J, whole-name match).
    pub subscribed_topic_regex: Option<String>,
    /// How long it may take to revoke partitions (`max.poll.interval.ms`).
    pub rebalance_timeout_ms: i32,
    /// The server assignor it asked for.
    pub server_assignor: Option<String>,
    /// The epoch it must heartbeat with.
    pub member_epoch: i32,
    /// The epoch before the last bump (accepted once, in case the answer
    /// carrying the bump was lost).
    pub previous_member_epoch: i32,
    /// Reconciliation state.
    pub state: MemberState,
    /// The partitions it holds (or is about to get).
    pub assigned: Assignment,
    /// The partitions it must give back.
    pub pending_revocation: Assignment,
    /// Set when it joined with JoinGroup (the classic protocol).
    pub classic: Option<ClassicMemberMetadata>,
}

impl ConsumerGroupMember {
    /// A member that has not joined yet: epoch 0, nothing assigned.
    pub fn new(member_id: &str) -> ConsumerGroupMember {
        ConsumerGroupMember {
            member_id: member_id.to_string(),
            instance_id: None,
            rack_id: None,
            client_id: String::new(),
            client_host: String::new(),
            subscribed_topic_names: BTreeSet::new(),
            subscribed_topic_regex: None,
            rebalance_timeout_ms: -1,
            server_assignor: None,
            member_epoch: 0,
            previous_member_epoch: 0,
            state: MemberState::Stable,
            assigned: Assignment::new(),
            pending_revocation: Assignment::new(),
            classic: None,
        }
    }

    /// Whether it speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat).
    pub fn uses_classic_protocol(&self) -> bool {
        self.classic.is_some()
    }

    /// Whether it holds its whole target of `epoch`.
    pub fn is_reconciled_to(&self, epoch: i32) -> bool {
        self.state == MemberState::Stable && self.member_epoch == epoch
    }

    /// The subscription fields of `other` (what the member metadata record
    /// carries) equal ours.
    pub fn same_metadata(&self, other: &ConsumerGroupMember) -> bool {
        self.instance_id == other.instance_id
            && self.rack_id == other.rack_id
            && self.client_id == other.client_id
            && self.client_host == other.client_host
            && self.subscribed_topic_names == other.subscribed_topic_names
            && self.subscribed_topic_regex == other.subscribed_topic_regex
            && self.rebalance_timeout_ms == other.rebalance_timeout_ms
            && self.server_assignor == other.server_assignor
            && self.classic == other.classic
    }

    /// The assignment fields (what the current assignment record carries)
    /// equal ours.
    pub fn same_assignment(&self, other: &ConsumerGroupMember) -> bool {
        self.member_epoch == other.member_epoch
            && self.previous_member_epoch == other.previous_member_epoch
            && self.state == other.state
            && self.assigned == other.assigned
            && self.pending_revocation == other.pending_revocation
    }

    /// Moves to `epoch`, remembering the one before if it changed.
    fn update_epoch(&mut self, epoch: i32) {
        if epoch != self.member_epoch {
            self.previous_member_epoch = self.member_epoch;
            self.member_epoch = epoch;
        }
    }
}

/// Reconciliation refused: the member is in a state this broker does not
/// know and still claims partitions; it must rejoin from scratch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MustRejoin;

/// One reconciliation step of `member` towards `target` at `target_epoch`
/// (Kafka's `CurrentAssignmentBuilder.build`).
///
/// `partition_epoch(topic, partition)` is the epoch of the member holding
/// the partition (assigned or pending revocation), `-1` when free. `owned`
/// is what the member's heartbeat says it owns (`None`: not sent).
pub fn reconcile(
    member: &ConsumerGroupMember,
    target_epoch: i32,
    target: &Assignment,
    partition_epoch: &dyn Fn(&Uuid, i32) -> i32,
    owned: Option<&Assignment>,
) -> Result<ConsumerGroupMember, MustRejoin> {
    match member.state {
        MemberState::Stable => {
            if member.member_epoch != target_epoch {
                Ok(next_assignment(
                    member,
                    member.member_epoch,
                    target_epoch,
                    target,
                    partition_epoch,
                    owned,
                ))
            } else {
                Ok(member.clone())
            }
        }
        MemberState::UnrevokedPartitions => {
            if owns_any(owned, &member.pending_revocation) {
                return Ok(member.clone());
            }
            Ok(next_assignment(
                member,
                member.member_epoch + 1,
                target_epoch,
                target,
                partition_epoch,
                owned,
            ))
        }
        MemberState::UnreleasedPartitions => Ok(next_assignment(
            member,
            member.member_epoch,
            target_epoch,
            target,
            partition_epoch,
            owned,
        )),
        MemberState::Unknown => {
            if owned.is_none_or(|o| !o.is_empty()) {
                return Err(MustRejoin);
            }
            Ok(next_assignment(
                member,
                target_epoch,
                target_epoch,
                target,
                partition_epoch,
                owned,
            ))
        }
    }
}

/// Whether the member still owns one of `partitions`; not knowing what it
/// owns counts as owning.
fn owns_any(owned: Option<&Assignment>, partitions: &Assignment) -> bool {
    match owned {
        None => true,
        Some(o) => assignment::intersects(o, partitions),
    }
}

fn next_assignment(
    member: &ConsumerGroupMember,
    member_epoch: i32,
    target_epoch: i32,
    target: &Assignment,
    partition_epoch: &dyn Fn(&Uuid, i32) -> i32,
    owned: Option<&Assignment>,
) -> ConsumerGroupMember {
    let mut kept = Assignment::new();
    let mut revoke = Assignment::new();
    let mut add = Assignment::new();
    let mut unreleased = false;
    let topics: BTreeSet<Uuid> = target
        .keys()
        .chain(member.assigned.keys())
        .copied()
        .collect();
    for t in topics {
        let want = target.get(&t).cloned().unwrap_or_default();
        let have = member.assigned.get(&t).cloned().unwrap_or_default();
        let keep: BTreeSet<i32> = have.intersection(&want).copied().collect();
        let lose: BTreeSet<i32> = have.difference(&keep).copied().collect();
        let mut gain: BTreeSet<i32> = want.difference(&keep).copied().collect();
        let before = gain.len();
        gain.retain(|p| partition_epoch(&t, *p) == -1);
        unreleased |= gain.len() != before;
        kept.insert(t, keep);
        revoke.insert(t, lose);
        add.insert(t, gain);
    }
    let (kept, revoke, add) = (
        assignment::normalize(kept),
        assignment::normalize(revoke),
        assignment::normalize(add),
    );
    let mut next = member.clone();
    if !revoke.is_empty() && owns_any(owned, &revoke) {
        // Give back first, at the current epoch.
        next.state = MemberState::UnrevokedPartitions;
        next.update_epoch(member_epoch);
        next.assigned = kept;
        next.pending_revocation = revoke;
        return next;
    }
    let mut assigned = kept;
    for (t, ps) in add {
        assigned.entry(t).or_default().extend(ps);
    }
    next.state = if unreleased {
        MemberState::UnreleasedPartitions
    } else {
        MemberState::Stable
    };
    next.update_epoch(target_epoch);
    next.assigned = assigned;
    next.pending_revocation = Assignment::new();
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Uuid {
        Uuid::from_u128(7)
    }

    fn a(ps: &[i32]) -> Assignment {
        assignment::from_pairs([(t(), ps.to_vec())])
    }

    fn free(_: &Uuid, _: i32) -> i32 {
        -1
    }

    fn stable(epoch: i32, ps: &[i32]) -> ConsumerGroupMember {
        let mut m = ConsumerGroupMember::new("m");
        m.member_epoch = epoch;
        m.previous_member_epoch = epoch - 1;
        m.assigned = a(ps);
        m
    }

    #[test]
    fn a_new_member_gets_its_free_target_at_once() {
        let m = ConsumerGroupMember::new("m");
        let next = reconcile(&m, 3, &a(&[0, 1]), &free, Some(&Assignment::new())).unwrap();
        assert_eq!(next.state, MemberState::Stable);
        assert_eq!((next.member_epoch, next.previous_member_epoch), (3, 0));
        assert_eq!(next.assigned, a(&[0, 1]));
    }

    #[test]
    fn revocation_comes_before_the_epoch_bump() {
        let m = stable(3, &[0, 1, 2]);
        let target = a(&[0, 3]);
        let next = reconcile(&m, 4, &target, &free, Some(&a(&[0, 1, 2]))).unwrap();
        assert_eq!(next.state, MemberState::UnrevokedPartitions);
        assert_eq!(next.member_epoch, 3);
        assert_eq!(next.assigned, a(&[0]));
        assert_eq!(next.pending_revocation, a(&[1, 2]));

        // Still owning a revoked partition: no progress.
        let same = reconcile(&next, 4, &target, &free, Some(&a(&[0, 1]))).unwrap();
        assert_eq!(same, next);
        // Owned not reported: no progress either.
        assert_eq!(reconcile(&next, 4, &target, &free, None).unwrap(), next);

        // Revoked: moves to the target epoch and gets partition 3.
        let done = reconcile(&next, 4, &target, &free, Some(&a(&[0]))).unwrap();
        assert_eq!(done.state, MemberState::Stable);
        assert_eq!((done.member_epoch, done.previous_member_epoch), (4, 3));
        assert_eq!(done.assigned, a(&[0, 3]));
        assert!(done.pending_revocation.is_empty());
    }

    #[test]
    fn a_member_that_already_dropped_partitions_skips_revocation() {
        let m = stable(3, &[0, 1]);
        let next = reconcile(&m, 4, &a(&[0]), &free, Some(&a(&[0]))).unwrap();
        assert_eq!(next.state, MemberState::Stable);
        assert_eq!(next.member_epoch, 4);
        assert_eq!(next.assigned, a(&[0]));
    }

    #[test]
    fn partitions_held_elsewhere_stay_unreleased() {
        let m = stable(3, &[0]);
        let held = |_: &Uuid, p: i32| if p == 1 { 3 } else { -1 };
        let next = reconcile(&m, 4, &a(&[0, 1, 2]), &held, Some(&a(&[0]))).unwrap();
        assert_eq!(next.state, MemberState::UnreleasedPartitions);
        assert_eq!(next.member_epoch, 4);
        assert_eq!(next.assigned, a(&[0, 2]));
        // Once released, the next heartbeat completes it.
        let done = reconcile(&next, 4, &a(&[0, 1, 2]), &free, Some(&a(&[0, 2]))).unwrap();
        assert_eq!(done.state, MemberState::Stable);
        assert_eq!(done.assigned, a(&[0, 1, 2]));
        assert!(done.is_reconciled_to(4));
    }

    #[test]
    fn a_reconciled_member_is_left_alone() {
        let m = stable(4, &[0]);
        assert_eq!(reconcile(&m, 4, &a(&[0, 1]), &free, None).unwrap(), m);
    }

    #[test]
    fn unknown_state_requires_an_empty_rejoin() {
        let mut m = stable(4, &[0]);
        m.state = MemberState::Unknown;
        assert_eq!(
            reconcile(&m, 5, &a(&[0]), &free, Some(&a(&[0]))),
            Err(MustRejoin)
        );
        assert_eq!(reconcile(&m, 5, &a(&[0]), &free, None), Err(MustRejoin));
        let next = reconcile(&m, 5, &a(&[0]), &free, Some(&Assignment::new())).unwrap();
        assert!(next.is_reconciled_to(5));
    }

    #[test]
    fn state_values_round_trip() {
        for s in [
            MemberState::Stable,
            MemberState::UnrevokedPartitions,
            MemberState::UnreleasedPartitions,
            MemberState::Unknown,
        ] {
            assert_eq!(MemberState::from_value(s.value()), s);
        }
        assert_eq!(MemberState::from_value(9), MemberState::Unknown);
    }
}
