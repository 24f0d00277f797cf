//! The consumer group protocol driven by simulated members, with time from
//! a `ManualClock`.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::assignment::{self, Assignment};
use super::heartbeat::*;
use super::member::MemberState;
use super::records::ConsumerGroupRecord;
use super::topics::TopicsImage;
use super::{ConsumerGroup, ConsumerGroupConfig, ConsumerGroupError, ConsumerGroupState};
use crate::clock::{Clock, ManualClock};

const T1: Uuid = Uuid::from_u128(1);
const T2: Uuid = Uuid::from_u128(2);

struct World {
    group: ConsumerGroup,
    config: ConsumerGroupConfig,
    topics: TopicsImage,
    clock: ManualClock,
    log: Vec<ConsumerGroupRecord>,
}

/// A member as a client sees itself: what it owns and its epoch.
#[derive(Debug, Clone)]
struct Client {
    id: String,
    instance: Option<String>,
    epoch: i32,
    owned: Assignment,
    topics: Vec<String>,
    regex: Option<String>,
    describable: Option<BTreeSet<String>>,
}

impl Client {
    fn new(id: &str, topics: &[&str]) -> Client {
        Client {
            id: id.to_string(),
            instance: None,
            epoch: 0,
            owned: Assignment::new(),
            topics: topics.iter().map(|s| s.to_string()).collect(),
            regex: None,
            describable: None,
        }
    }
}

impl World {
    fn new(topics: &[(&str, Uuid, i32)]) -> World {
        World {
            group: ConsumerGroup::new("g"),
            config: ConsumerGroupConfig::default(),
            topics: image(topics),
            clock: ManualClock::new(1_000_000),
            log: Vec::new(),
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            config: &self.config,
            topics: &self.topics,
            now_ms: self.clock.now_ms(),
        }
    }

    fn request(&self, c: &Client) -> HeartbeatRequest {
        let joining = c.epoch == 0;
        HeartbeatRequest {
            group_id: "g".into(),
            member_id: c.id.clone(),
            member_epoch: c.epoch,
            instance_id: c.instance.clone(),
            rebalance_timeout_ms: if joining { 300_000 } else { -1 },
            subscribed_topic_names: (joining && c.regex.is_none()).then(|| c.topics.clone()),
            subscribed_topic_regex: if joining { c.regex.clone() } else { None },
            describable_topics: c.describable.clone(),
            topic_partitions: Some(
                c.owned
                    .iter()
                    .map(|(t, ps)| (*t, ps.iter().copied().collect()))
                    .collect(),
            ),
            client_id: "test".into(),
            client_host: "/127.0.0.1".into(),
            api_version: 1,
            ..HeartbeatRequest::default()
        }
    }

    fn send(
        &mut self,
        req: &HeartbeatRequest,
    ) -> Result<(HeartbeatResponse, Outcome), ConsumerGroupError> {
        validate(req, &self.config)?;
        let ctx = Context {
            config: &self.config,
            topics: &self.topics,
            now_ms: self.clock.now_ms(),
        };
        let r = if is_leave(req) {
            leave(&mut self.group, req, ctx)
        } else {
            heartbeat(&mut self.group, req, ctx, &|| "generated".to_string())
        };
        if let Ok((_, out)) = &r {
            self.log.extend(out.records.iter().cloned());
        }
        r
    }

    /// One heartbeat of `c`, applying the answer as a client does: it
    /// takes the new epoch and gives up / takes what the assignment says.
    fn beat(&mut self, c: &mut Client) -> HeartbeatResponse {
        let req = self.request(c);
        let (resp, _) = self.send(&req).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        c.id = resp.member_id.clone();
        c.epoch = resp.member_epoch;
        if let Some(a) = &resp.assignment {
            c.owned = a.clone();
        }
        resp
    }

    /// Heartbeats every client round-robin until the group is stable
    /// (bounded), checking at every step that no partition is owned twice.
    fn settle(&mut self, clients: &mut [Client]) {
        for _ in 0..20 {
            for c in clients.iter_mut() {
                self.beat(c);
            }
            let mut seen = BTreeSet::new();
            for c in clients.iter() {
                for tp in assignment::iter(&c.owned) {
                    assert!(seen.insert(tp), "{tp:?} owned twice");
                }
            }
            if self.group.state() == ConsumerGroupState::Stable
                && clients.iter().all(|c| {
                    self.group
                        .member(&c.id)
                        .is_some_and(|m| m.assigned == c.owned)
                })
            {
                return;
            }
        }
        panic!("group did not settle: {:?}", self.group.state());
    }

    fn replayed(&self) -> ConsumerGroup {
        let mut g = ConsumerGroup::new("g");
        for r in &self.log {
            g.apply(r);
        }
        g
    }
}

fn image(topics: &[(&str, Uuid, i32)]) -> TopicsImage {
    TopicsImage::new(topics.iter().map(|(n, id, p)| (n.to_string(), *id, *p)))
}

fn all(clients: &[Client]) -> BTreeSet<(Uuid, i32)> {
    clients
        .iter()
        .flat_map(|c| assignment::iter(&c.owned))
        .collect()
}

fn partitions(t: Uuid, n: i32) -> BTreeSet<(Uuid, i32)> {
    (0..n).map(|p| (t, p)).collect()
}

#[test]
fn a_lone_member_gets_every_partition() {
    let mut w = World::new(&[("orders", T1, 4)]);
    let mut a = Client::new("a", &["orders"]);
    let resp = w.beat(&mut a);
    assert_eq!(resp.member_epoch, 1);
    assert_eq!(resp.heartbeat_interval_ms, 5000);
    assert_eq!(all(&[a.clone()]), partitions(T1, 4));
    assert_eq!(w.group.state(), ConsumerGroupState::Stable);
    assert_eq!((w.group.group_epoch(), w.group.assignment_epoch()), (1, 1));
    // A steady heartbeat changes nothing and carries no assignment.
    let before = w.log.len();
    let resp = w.beat(&mut a);
    assert_eq!(resp.assignment, None);
    assert_eq!(resp.member_epoch, 1);
    assert_eq!(w.log.len(), before);
}

#[test]
fn a_second_member_gets_partitions_only_after_they_are_revoked() {
    let mut w = World::new(&[("orders", T1, 4)]);
    let mut a = Client::new("a", &["orders"]);
    let mut b = Client::new("b", &["orders"]);
    w.beat(&mut a);
    let rb = w.beat(&mut b);
    // b is at epoch 2 but a still owns everything: nothing for b yet.
    assert_eq!(rb.member_epoch, 2);
    assert!(b.owned.is_empty());
    assert_eq!(
        w.group.member("b").map(|m| m.state),
        Some(MemberState::UnreleasedPartitions)
    );
    // a is told to give up two partitions, staying at epoch 1.
    let ra = w.beat(&mut a);
    assert_eq!(ra.member_epoch, 1);
    assert_eq!(assignment::count(&a.owned), 2);
    assert_eq!(
        w.group.member("a").map(|m| m.state),
        Some(MemberState::UnrevokedPartitions)
    );
    // Having revoked, a moves to epoch 2; then b gets the released ones.
    assert_eq!(w.beat(&mut a).member_epoch, 2);
    w.beat(&mut b);
    assert_eq!(assignment::count(&b.owned), 2);
    let mut clients = [a, b];
    w.settle(&mut clients);
    assert_eq!(all(&clients), partitions(T1, 4));
    assert_eq!(w.group.state(), ConsumerGroupState::Stable);
}

#[test]
fn three_members_split_two_topics_disjointly_and_cover_all() {
    let mut w = World::new(&[("orders", T1, 5), ("payments", T2, 4)]);
    let mut clients = [
        Client::new("a", &["orders", "payments"]),
        Client::new("b", &["orders", "payments"]),
        Client::new("c", &["orders", "payments"]),
    ];
    w.settle(&mut clients);
    let mut expected = partitions(T1, 5);
    expected.extend(partitions(T2, 4));
    assert_eq!(all(&clients), expected);
    for c in &clients {
        assert_eq!(assignment::count(&c.owned), 3, "{}", c.id);
    }
}

#[test]
fn a_leaving_member_hands_over_at_once() {
    let mut w = World::new(&[("orders", T1, 4)]);
    let mut clients = [Client::new("a", &["orders"]), Client::new("b", &["orders"])];
    w.settle(&mut clients);
    let epoch = w.group.group_epoch();
    let mut leave_req = w.request(&clients[1]);
    leave_req.member_epoch = -1;
    let (resp, out) = w.send(&leave_req).unwrap();
    assert_eq!(resp.member_epoch, -1);
    assert!(out.timers.contains(&TimerOp::CancelAll {
        member_id: "b".into()
    }));
    assert!(w.group.member("b").is_none());
    assert_eq!(w.group.group_epoch(), epoch + 1);
    // a's next heartbeat takes b's partitions: no session timeout involved.
    let mut a = clients[0].clone();
    w.beat(&mut a);
    assert_eq!(all(&[a]), partitions(T1, 4));
}

#[test]
fn an_expired_session_fences_the_member() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let mut clients = [Client::new("a", &["orders"]), Client::new("b", &["orders"])];
    w.settle(&mut clients);
    w.clock.advance(45_001);
    let ctx = w.ctx();
    let config = ctx.config.clone();
    let topics = ctx.topics.clone();
    let now = ctx.now_ms;
    let out = session_expired(
        &mut w.group,
        "b",
        Context {
            config: &config,
            topics: &topics,
            now_ms: now,
        },
    );
    assert!(!out.records.is_empty());
    assert!(w.group.member("b").is_none());
    // b comes back with its old epoch: unknown.
    let req = w.request(&clients[1]);
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::UnknownMemberId(_))
    ));
}

#[test]
fn epochs_are_checked() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let mut a = Client::new("a", &["orders"]);
    w.beat(&mut a);
    let mut ahead = a.clone();
    ahead.epoch = 5;
    let req = w.request(&ahead);
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::FencedMemberEpoch(_))
    ));
    // The previous epoch with a subset of the assignment is accepted (a
    // lost answer); with more than the assignment it is not.
    let mut clients = [a, Client::new("b", &["orders"])];
    w.settle(&mut clients);
    let a = clients[0].clone();
    let m = w.group.member("a").cloned().unwrap();
    assert_eq!(m.previous_member_epoch + 1, m.member_epoch);
    let mut behind = a.clone();
    behind.epoch = m.previous_member_epoch;
    let req = w.request(&behind);
    assert!(w.send(&req).is_ok());
    behind.owned = assignment::from_pairs([(T1, vec![0, 1])]);
    let req = w.request(&behind);
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::FencedMemberEpoch(_))
    ));
    let mut unknown = Client::new("zz", &["orders"]);
    unknown.epoch = 3;
    let req = w.request(&unknown);
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::UnknownMemberId(_))
    ));
}

#[test]
fn bad_requests_get_kafkas_errors() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let c = Client::new("a", &["orders"]);
    let base = w.request(&c);

    let mut r = base.clone();
    r.member_id.clear();
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
    // v0 may leave the id to the broker.
    r.api_version = 0;
    assert_eq!(
        w.send(&r).map(|(resp, _)| resp.member_id).ok(),
        Some("generated".into())
    );

    let mut r = base.clone();
    r.rebalance_timeout_ms = -1;
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
    let mut r = base.clone();
    r.topic_partitions = Some(vec![(T1, vec![0])]);
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
    let mut r = base.clone();
    r.subscribed_topic_names = None;
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
    let mut r = base.clone();
    r.member_epoch = -3;
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
    let mut r = base.clone();
    r.server_assignor = Some("sticky".into());
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::UnsupportedAssignor(_))
    ));
    let mut r = base.clone();
    r.subscribed_topic_names = None;
    r.subscribed_topic_regex = Some("(orders".into());
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRegularExpression(_))
    ));
    let mut r = base.clone();
    r.instance_id = Some(String::new());
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
    let mut r = base;
    r.member_epoch = -2;
    assert!(matches!(
        w.send(&r),
        Err(ConsumerGroupError::InvalidRequest(_))
    ));
}

#[test]
fn the_group_size_is_capped() {
    let mut w = World::new(&[("orders", T1, 2)]);
    w.config.max_size = 1;
    let mut a = Client::new("a", &["orders"]);
    w.beat(&mut a);
    let req = w.request(&Client::new("b", &["orders"]));
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::GroupMaxSizeReached(_))
    ));
    // The member already in keeps heartbeating.
    w.beat(&mut a);
}

#[test]
fn a_static_member_comes_back_to_its_partitions() {
    let mut w = World::new(&[("orders", T1, 4)]);
    let mut a = Client::new("a", &["orders"]);
    a.instance = Some("inst-a".into());
    let mut b = Client::new("b", &["orders"]);
    let mut clients = [a, b.clone()];
    w.settle(&mut clients);
    let a_owned = clients[0].owned.clone();
    let epoch = w.group.group_epoch();

    let mut req = w.request(&clients[0]);
    req.member_epoch = -2;
    let (resp, _) = w.send(&req).unwrap();
    assert_eq!(resp.member_epoch, -2);
    assert_eq!(
        w.group.group_epoch(),
        epoch,
        "a temporary leave does not rebalance"
    );

    // Another process may not take the instance id while... it is released
    // here, so a new incarnation (new member id) takes it over.
    let mut a2 = Client::new("a2", &["orders"]);
    a2.instance = Some("inst-a".into());
    w.beat(&mut a2);
    assert!(w.group.member("a").is_none());
    assert_eq!(a2.owned, a_owned);
    // Now the id is held: a third incarnation is refused.
    let mut a3 = Client::new("a3", &["orders"]);
    a3.instance = Some("inst-a".into());
    let req = w.request(&a3);
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::UnreleasedInstanceId(_))
    ));
    // And the old id heartbeating with the instance is fenced.
    let mut old = clients[0].clone();
    old.epoch = 3;
    let req = w.request(&old);
    assert!(matches!(
        w.send(&req),
        Err(ConsumerGroupError::FencedInstanceId(_))
    ));
    w.beat(&mut b);
}

#[test]
fn new_partitions_bump_the_epoch_and_get_assigned() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let mut clients = [Client::new("a", &["orders"]), Client::new("b", &["orders"])];
    w.settle(&mut clients);
    let epoch = w.group.group_epoch();
    w.topics = image(&[("orders", T1, 4)]);
    w.settle(&mut clients);
    assert!(w.group.group_epoch() > epoch);
    assert_eq!(all(&clients), partitions(T1, 4));
}

#[test]
fn a_regex_subscription_picks_up_new_topics() {
    let mut w = World::new(&[("orders-eu", T1, 2), ("payments", T2, 2)]);
    let mut a = Client::new("a", &[]);
    a.regex = Some("orders-.*".into());
    let mut clients = [a];
    w.settle(&mut clients);
    assert_eq!(all(&clients), partitions(T1, 2));
    let t3 = Uuid::from_u128(3);
    w.topics = image(&[
        ("orders-eu", T1, 2),
        ("payments", T2, 2),
        ("orders-us", t3, 1),
    ]);
    w.settle(&mut clients);
    let mut expected = partitions(T1, 2);
    expected.extend(partitions(t3, 1));
    assert_eq!(all(&clients), expected);
    assert!(w.group.regexes().contains_key("orders-.*"));
}

#[test]
fn a_regex_resolves_only_to_describable_topics_also_when_topics_change() {
    let mut w = World::new(&[("orders-eu", T1, 2), ("orders-us", T2, 2)]);
    let mut a = Client::new("a", &[]);
    a.regex = Some("orders-.*".into());
    a.describable = Some(["orders-eu".to_string(), "orders-ap".to_string()].into());
    let mut clients = [a];
    w.settle(&mut clients);
    assert_eq!(all(&clients), partitions(T1, 2));
    // A new matching topic is re-resolved through the same filter.
    let (t3, t4) = (Uuid::from_u128(3), Uuid::from_u128(4));
    w.topics = image(&[
        ("orders-eu", T1, 2),
        ("orders-us", T2, 2),
        ("orders-ap", t3, 1),
        ("orders-sa", t4, 1),
    ]);
    w.settle(&mut clients);
    let mut expected = partitions(T1, 2);
    expected.extend(partitions(t3, 1));
    assert_eq!(all(&clients), expected);
}

#[test]
fn a_describe_granted_later_takes_effect_at_the_next_periodic_refresh() {
    let mut w = World::new(&[("orders-eu", T1, 2), ("orders-us", T2, 2)]);
    let mut a = Client::new("a", &[]);
    a.regex = Some("orders-.*".into());
    a.describable = Some(["orders-eu".to_string()].into());
    let mut clients = [a];
    w.settle(&mut clients);
    assert_eq!(all(&clients), partitions(T1, 2));
    // DESCRIBE on orders-us is granted; no topic changes. Within the
    // refresh interval nothing is resolved again.
    clients[0].describable = Some(["orders-eu".to_string(), "orders-us".to_string()].into());
    let interval = w.config.regex_refresh_interval_ms;
    w.clock.advance(interval - 1_000);
    w.settle(&mut clients);
    assert_eq!(all(&clients), partitions(T1, 2));
    // Past it, the next heartbeat resolves the pattern again.
    w.clock.advance(2_000);
    w.settle(&mut clients);
    let mut expected = partitions(T1, 2);
    expected.extend(partitions(T2, 2));
    assert_eq!(all(&clients), expected);
    // A refresh that finds nothing new rewrites the resolution (its time
    // moves on) without a rebalance.
    let epoch = w.group.group_epoch();
    let resolved_at = w.group.regexes()["orders-.*"].timestamp_ms;
    w.clock.advance(interval + 1);
    w.settle(&mut clients);
    assert_eq!(w.group.group_epoch(), epoch);
    assert!(w.group.regexes()["orders-.*"].timestamp_ms > resolved_at);
}

#[test]
fn a_member_that_does_not_revoke_in_time_is_fenced() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let mut a = Client::new("a", &["orders"]);
    w.beat(&mut a);
    let mut b = Client::new("b", &["orders"]);
    w.beat(&mut b);
    // a is asked to revoke; it gets a deadline at its epoch.
    let req = w.request(&a);
    let (_, out) = w.send(&req).unwrap();
    let deadline = out.timers.iter().find_map(|t| match t {
        TimerOp::Rebalance {
            member_epoch,
            deadline_ms,
            ..
        } => Some((*member_epoch, *deadline_ms)),
        _ => None,
    });
    let (epoch, at) = deadline.expect("a revocation deadline");
    assert_eq!(at, w.clock.now_ms() + 300_000);
    w.clock.advance(300_000);
    let (config, topics, now) = (w.config.clone(), w.topics.clone(), w.clock.now_ms());
    let ctx = Context {
        config: &config,
        topics: &topics,
        now_ms: now,
    };
    // A deadline of another epoch does nothing.
    assert!(rebalance_expired(&mut w.group, "a", epoch + 5, ctx)
        .records
        .is_empty());
    assert!(!rebalance_expired(&mut w.group, "a", epoch, ctx)
        .records
        .is_empty());
    assert!(w.group.member("a").is_none());
}

#[test]
fn replaying_the_records_rebuilds_the_group() {
    let mut w = World::new(&[("orders", T1, 5), ("payments", T2, 3)]);
    let mut a = Client::new("a", &["orders"]);
    a.instance = Some("i".into());
    let mut b = Client::new("b", &[]);
    b.regex = Some("pay.*".into());
    let mut clients = [a, b, Client::new("c", &["orders", "payments"])];
    w.settle(&mut clients);
    let mut req = w.request(&clients[2]);
    req.member_epoch = -1;
    w.send(&req).unwrap();
    w.beat(&mut clients[0]);
    let g = w.replayed();
    assert_eq!(g.group_epoch(), w.group.group_epoch());
    assert_eq!(g.assignment_epoch(), w.group.assignment_epoch());
    assert_eq!(g.members(), w.group.members());
    assert_eq!(g.target(), w.group.target());
    assert_eq!(g.regexes(), w.group.regexes());
    assert_eq!(g.state(), w.group.state());
    // And the records survive their byte encoding.
    for r in &w.log {
        let key = r.encode_key("g");
        let value = r.encode_value();
        let (_, back) = ConsumerGroupRecord::decode(&key, value.as_deref()).unwrap();
        assert_eq!(&back, r);
    }
}

#[test]
fn offset_commits_check_the_member_epoch() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let mut a = Client::new("a", &["orders"]);
    w.beat(&mut a);
    let g = &w.group;
    assert!(validate_offset_commit(g, "a", None, a.epoch, false, 9).is_ok());
    assert!(matches!(
        validate_offset_commit(g, "a", None, a.epoch - 1, false, 9),
        Err(ConsumerGroupError::StaleMemberEpoch(_))
    ));
    assert!(matches!(
        validate_offset_commit(g, "x", None, 1, false, 9),
        Err(ConsumerGroupError::UnknownMemberId(_))
    ));
    assert!(matches!(
        validate_offset_commit(g, "a", None, a.epoch, false, 8),
        Err(ConsumerGroupError::UnsupportedVersion(_))
    ));
    assert!(validate_offset_commit(g, "", None, -1, true, 3).is_ok());
    assert!(validate_offset_fetch(g, None, -1).is_ok());
    assert!(validate_offset_fetch(g, Some("a"), a.epoch).is_ok());
    assert!(matches!(
        validate_offset_fetch(g, Some("a"), 0),
        Err(ConsumerGroupError::StaleMemberEpoch(_))
    ));
}

#[test]
fn an_empty_group_can_be_deleted() {
    let mut w = World::new(&[("orders", T1, 2)]);
    let mut a = Client::new("a", &["orders"]);
    w.beat(&mut a);
    assert!(matches!(
        delete(&mut w.group),
        Err(ConsumerGroupError::NonEmptyGroup)
    ));
    let mut req = w.request(&a);
    req.member_epoch = -1;
    w.send(&req).unwrap();
    assert_eq!(w.group.state(), ConsumerGroupState::Empty);
    let out = delete(&mut w.group).unwrap();
    assert_eq!(
        out.records.last(),
        Some(&ConsumerGroupRecord::GroupEpoch(None))
    );
    assert!(w.group.target().is_empty());
}

#[test]
fn the_range_assignor_is_used_when_members_ask_for_it() {
    let mut w = World::new(&[("orders", T1, 4)]);
    let mut a = Client::new("a", &["orders"]);
    let req = {
        let mut r = w.request(&a);
        r.server_assignor = Some("range".into());
        r
    };
    let (resp, _) = w.send(&req).unwrap();
    a.epoch = resp.member_epoch;
    a.owned = resp.assignment.unwrap_or_default();
    let mut clients = [a, Client::new("b", &["orders"])];
    w.settle(&mut clients);
    assert_eq!(w.group.preferred_assignor("uniform"), "range");
    assert_eq!(clients[0].owned, assignment::from_pairs([(T1, vec![0, 1])]));
    assert_eq!(clients[1].owned, assignment::from_pairs([(T1, vec![2, 3])]));
}
