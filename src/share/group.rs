//! A share group (KIP-932): its members, the group epoch, and the
//! assignment computed on the broker by the "simple" assignor, which lets
//! several members share one partition. There is no revocation step as in
//! consumer groups: a member moves to the new assignment at once, and its
//! member epoch becomes the group epoch.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

/// The assignment of one member: topic id → partitions.
pub type Assignment = BTreeMap<Uuid, BTreeSet<i32>>;

/// What the assignor needs to know about a subscribed topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub id: Uuid,
    pub partitions: i32,
}

/// One member of a share group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareMember {
    pub member_id: String,
    pub member_epoch: i32,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topics: BTreeSet<String>,
    pub assignment: Assignment,
    /// The session expires at this time unless the member heartbeats.
    pub deadline_ms: i64,
}

/// Why a heartbeat was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    #[error("member {0} is not a member of the group")]
    UnknownMember(String),
    #[error("member epoch {got} does not match {expected}")]
    FencedMemberEpoch { got: i32, expected: i32 },
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the group has reached its maximum size")]
    GroupMaxSizeReached,
}

/// A share group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShareGroup {
    pub group_id: String,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub members: BTreeMap<String, ShareMember>,
    /// The subscribed topics' metadata the current assignment was computed with.
    pub topics_seen: BTreeMap<String, TopicInfo>,
}

/// A heartbeat's fields, decoded.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub member_id: String,
    pub member_epoch: i32,
    pub rack_id: Option<String>,
    pub subscribed_topics: Option<Vec<String>>,
    pub client_id: String,
    pub client_host: String,
}

/// What a heartbeat answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatOutcome {
    pub member_epoch: i32,
    /// Sent when the member's assignment changed (or it joined).
    pub assignment: Option<Assignment>,
}

impl ShareGroup {
    pub fn new(group_id: &str) -> ShareGroup {
        ShareGroup {
            group_id: group_id.to_string(),
            ..ShareGroup::default()
        }
    }

    /// Kafka's share group states: Empty, Stable (no Assigning/Reconciling
    /// phase is visible since members adopt their assignment at once).
    pub fn state(&self) -> &'static str {
        if self.members.is_empty() {
            "Empty"
        } else {
            "Stable"
        }
    }

    /// Every topic some member subscribes to.
    pub fn subscribed_topics(&self) -> BTreeSet<String> {
        self.members
            .values()
            .flat_map(|m| m.subscribed_topics.iter().cloned())
            .collect()
    }

    /// Handles one heartbeat. `topics` resolves a topic name to its
    /// current metadata (None: it does not exist yet).
    pub fn heartbeat(
        &mut self,
        hb: Heartbeat,
        now_ms: i64,
        session_timeout_ms: i64,
        max_size: usize,
        topics: &dyn Fn(&str) -> Option<TopicInfo>,
    ) -> Result<HeartbeatOutcome, HeartbeatError> {
        if hb.member_id.is_empty() {
            return Err(HeartbeatError::InvalidRequest(
                "MemberId can't be empty.".into(),
            ));
        }
        let mut changed = false;
        match hb.member_epoch {
            0 => {
                let subs = match &hb.subscribed_topics {
                    Some(s) if !s.is_empty() => s.iter().cloned().collect::<BTreeSet<_>>(),
                    _ => {
                        return Err(HeartbeatError::InvalidRequest(
                            "SubscribedTopicNames must be set in first request.".into(),
                        ))
                    }
                };
                if !self.members.contains_key(&hb.member_id) && self.members.len() >= max_size {
                    return Err(HeartbeatError::GroupMaxSizeReached);
                }
                let member =
                    self.members
                        .entry(hb.member_id.clone())
                        .or_insert_with(|| ShareMember {
                            member_id: hb.member_id.clone(),
                            member_epoch: 0,
                            rack_id: None,
                            client_id: String::new(),
                            client_host: String::new(),
                            subscribed_topics: BTreeSet::new(),
                            assignment: Assignment::new(),
                            deadline_ms: 0,
                        });
                // A rejoin (epoch 0 again) gets its assignment resent.
                member.member_epoch = 0;
                member.client_id = hb.client_id.clone();
                member.client_host = hb.client_host.clone();
                if member.subscribed_topics != subs {
                    member.subscribed_topics = subs;
                }
                changed = true;
            }
            -1 => {
                if self.members.remove(&hb.member_id).is_none() {
                    return Err(HeartbeatError::UnknownMember(hb.member_id));
                }
                self.bump_and_assign(topics);
                return Ok(HeartbeatOutcome {
                    member_epoch: -1,
                    assignment: None,
                });
            }
            epoch if epoch > 0 => {
                let member = self
                    .members
                    .get_mut(&hb.member_id)
                    .ok_or_else(|| HeartbeatError::UnknownMember(hb.member_id.clone()))?;
                if epoch != member.member_epoch {
                    return Err(HeartbeatError::FencedMemberEpoch {
                        got: epoch,
                        expected: member.member_epoch,
                    });
                }
                if let Some(subs) = &hb.subscribed_topics {
                    let subs: BTreeSet<String> = subs.iter().cloned().collect();
                    if subs != member.subscribed_topics {
                        member.subscribed_topics = subs;
                        changed = true;
                    }
                }
            }
            other => {
                return Err(HeartbeatError::InvalidRequest(format!(
                    "MemberEpoch {other} is invalid."
                )))
            }
        }
        if let Some(member) = self.members.get_mut(&hb.member_id) {
            member.deadline_ms = now_ms.saturating_add(session_timeout_ms);
            if hb.rack_id.is_some() {
                member.rack_id = hb.rack_id.clone();
            }
        }
        // New topics or partitions of subscribed topics change the assignment too.
        if changed || self.metadata_changed(topics) {
            self.bump_and_assign(topics);
        }
        let Some(member) = self.members.get_mut(&hb.member_id) else {
            return Err(HeartbeatError::UnknownMember(hb.member_id));
        };
        if member.member_epoch != self.group_epoch {
            member.member_epoch = self.group_epoch;
            return Ok(HeartbeatOutcome {
                member_epoch: member.member_epoch,
                assignment: Some(member.assignment.clone()),
            });
        }
        Ok(HeartbeatOutcome {
            member_epoch: member.member_epoch,
            assignment: None,
        })
    }

    /// Removes members whose session expired; returns their ids.
    pub fn expire_members(
        &mut self,
        now_ms: i64,
        topics: &dyn Fn(&str) -> Option<TopicInfo>,
    ) -> Vec<String> {
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.deadline_ms <= now_ms)
            .map(|m| m.member_id.clone())
            .collect();
        if !expired.is_empty() {
            for id in &expired {
                self.members.remove(id);
            }
            self.bump_and_assign(topics);
        }
        expired
    }

    fn metadata_changed(&self, topics: &dyn Fn(&str) -> Option<TopicInfo>) -> bool {
        let now: BTreeMap<String, TopicInfo> = self
            .subscribed_topics()
            .into_iter()
            .filter_map(|t| topics(&t).map(|i| (t, i)))
            .collect();
        now != self.topics_seen
    }

    fn bump_and_assign(&mut self, topics: &dyn Fn(&str) -> Option<TopicInfo>) {
        self.group_epoch += 1;
        self.topics_seen = self
            .subscribed_topics()
            .into_iter()
            .filter_map(|t| topics(&t).map(|i| (t, i)))
            .collect();
        let subscriptions: BTreeMap<String, BTreeSet<String>> = self
            .members
            .iter()
            .map(|(id, m)| (id.clone(), m.subscribed_topics.clone()))
            .collect();
        let assignment = simple_assign(&subscriptions, &self.topics_seen);
        for (id, m) in self.members.iter_mut() {
            m.assignment = assignment.get(id).cloned().unwrap_or_default();
        }
        self.assignment_epoch = self.group_epoch;
    }
}

/// The "simple" share assignor: per topic, with P partitions and M
/// subscribed members, every partition goes to at least one member. With
/// M >= P members share partitions (member i gets partition i mod P);
/// with fewer members each partition goes to one member, round robin.
pub fn simple_assign(
    subscriptions: &BTreeMap<String, BTreeSet<String>>,
    topics: &BTreeMap<String, TopicInfo>,
) -> BTreeMap<String, Assignment> {
    let mut out: BTreeMap<String, Assignment> = BTreeMap::new();
    for (name, info) in topics {
        let members: Vec<&String> = subscriptions
            .iter()
            .filter(|(_, subs)| subs.contains(name))
            .map(|(id, _)| id)
            .collect();
        if members.is_empty() || info.partitions < 1 {
            continue;
        }
        let p = info.partitions as usize;
        let m = members.len();
        let mut give = |member: &String, partition: usize| {
            out.entry(member.clone())
                .or_default()
                .entry(info.id)
                .or_default()
                .insert(partition as i32);
        };
        if m >= p {
            for (i, member) in members.iter().enumerate() {
                give(member, i % p);
            }
        } else {
            for partition in 0..p {
                give(members[partition % m], partition);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const ID: Uuid = Uuid::from_u128(7);

    fn topics(name: &str) -> Option<TopicInfo> {
        (name == "t").then_some(TopicInfo {
            id: ID,
            partitions: 1,
        })
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

    #[test]
    fn two_members_share_one_partition() {
        let clock = ManualClock::new(0);
        let mut g = ShareGroup::new("g");
        let a = g
            .heartbeat(join("a"), clock.now_ms(), 45_000, 200, &topics)
            .unwrap();
        assert_eq!(a.member_epoch, 1);
        let b = g
            .heartbeat(join("b"), clock.now_ms(), 45_000, 200, &topics)
            .unwrap();
        assert_eq!(b.member_epoch, 2);
        let both = Assignment::from([(ID, BTreeSet::from([0]))]);
        assert_eq!(b.assignment, Some(both.clone()));
        // a's next heartbeat at its old epoch moves it to the new epoch.
        let mut hb = join("a");
        hb.member_epoch = 1;
        hb.subscribed_topics = None;
        let a = g
            .heartbeat(hb, clock.now_ms(), 45_000, 200, &topics)
            .unwrap();
        assert_eq!((a.member_epoch, a.assignment), (2, Some(both)));
        assert_eq!(g.state(), "Stable");
    }

    #[test]
    fn errors() {
        let mut g = ShareGroup::new("g");
        let mut hb = join("a");
        hb.member_epoch = 3;
        assert!(matches!(
            g.heartbeat(hb, 0, 45_000, 200, &topics),
            Err(HeartbeatError::UnknownMember(_))
        ));
        g.heartbeat(join("a"), 0, 45_000, 200, &topics).unwrap();
        let mut hb = join("a");
        hb.member_epoch = 7;
        assert!(matches!(
            g.heartbeat(hb, 0, 45_000, 200, &topics),
            Err(HeartbeatError::FencedMemberEpoch { .. })
        ));
        let mut hb = join("b");
        hb.subscribed_topics = None;
        assert!(matches!(
            g.heartbeat(hb, 0, 45_000, 200, &topics),
            Err(HeartbeatError::InvalidRequest(_))
        ));
        assert_eq!(
            g.heartbeat(join("c"), 0, 45_000, 1, &topics),
            Err(HeartbeatError::GroupMaxSizeReached)
        );
    }

    #[test]
    fn leave_and_session_expiry() {
        let clock = ManualClock::new(0);
        let mut g = ShareGroup::new("g");
        g.heartbeat(join("a"), clock.now_ms(), 45_000, 200, &topics)
            .unwrap();
        g.heartbeat(join("b"), clock.now_ms(), 45_000, 200, &topics)
            .unwrap();
        let mut leave = join("b");
        leave.member_epoch = -1;
        assert_eq!(
            g.heartbeat(leave, clock.now_ms(), 45_000, 200, &topics)
                .unwrap()
                .member_epoch,
            -1
        );
        clock.advance(44_999);
        assert!(g.expire_members(clock.now_ms(), &topics).is_empty());
        clock.advance(1);
        assert_eq!(
            g.expire_members(clock.now_ms(), &topics),
            vec!["a".to_string()]
        );
        assert_eq!(g.state(), "Empty");
    }

    #[test]
    fn simple_assignor_covers_every_partition() {
        let t = |p| {
            BTreeMap::from([(
                "t".to_string(),
                TopicInfo {
                    id: ID,
                    partitions: p,
                },
            )])
        };
        let subs = |n: usize| {
            (0..n)
                .map(|i| (format!("m{i}"), BTreeSet::from(["t".to_string()])))
                .collect::<BTreeMap<_, _>>()
        };
        // Fewer members than partitions: disjoint and complete.
        let a = simple_assign(&subs(2), &t(5));
        let all: Vec<i32> = a.values().flat_map(|m| m[&ID].iter().copied()).collect();
        assert_eq!(all.len(), 5);
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 5);
        // More members than partitions: each has one, every partition is covered.
        let a = simple_assign(&subs(5), &t(2));
        assert!(a.values().all(|m| m[&ID].len() == 1));
        let covered: BTreeSet<i32> = a.values().flat_map(|m| m[&ID].iter().copied()).collect();
        assert_eq!(covered, BTreeSet::from([0, 1]));
    }
}
