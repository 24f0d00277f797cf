//! Consumer-group scenarios, classic protocol (JoinGroup/SyncGroup,
//! `group.protocol=classic`) next to KIP-848 (ConsumerGroupHeartbeat,
//! `group.protocol=consumer`), one row each so the two sit side by side:
//!
//! * `group-stable-*`: time from starting N librdkafka members at once
//!   (the first member's first JoinGroup / heartbeat follows within a
//!   millisecond) to a stable assignment: every member holds some
//!   partitions, none twice, all 32 covered. With Kafka's default heartbeat
//!   interval (classic: the client's `heartbeat.interval.ms` 3 s; consumer:
//!   the broker's `group.consumer.heartbeat.interval.ms` 5 s) and with both
//!   at 500 ms.
//! * `group-consume-*`: three members reading a pre-filled 32-partition
//!   topic to its end; a partition counts as read when its highest
//!   delivered offset reaches the high watermark, so a record delivered
//!   twice (a partition moving during the join) is counted once, and the
//!   duplicates are reported beside the rate.
//!
//! Each scenario starts a fresh Skiff (and, with `--peer kafka`, a fresh
//! Apache Kafka) with the settings it needs.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

use super::{
    clients, fill, scaled, temp_data_dir, topic_name, Kind, Measurement, Outcome, Peer, Runner,
};

/// Partitions of every group scenario's topic.
pub const PARTITIONS: i32 = 32;
/// Longest wait for a stable assignment or the end of the topic.
const LIMIT: Duration = Duration::from_secs(120);

/// The group scenarios, in catalog order: classic and consumer rows adjacent.
pub fn scenarios(scale: f64) -> Vec<(String, Kind)> {
    let mut v = Vec::new();
    for heartbeat_ms in [None, Some(500u32)] {
        for members in [1usize, 3, 10] {
            for consumer in [false, true] {
                let hb = heartbeat_ms.map_or("default".to_string(), |ms| ms.to_string());
                v.push((
                    format!("group-stable-hb{hb}-{members}m-{}", protocol(consumer)),
                    Kind::GroupStable {
                        members,
                        consumer,
                        heartbeat_ms,
                    },
                ));
            }
        }
    }
    // One member too: the same read with no rebalance, so a difference
    // between the protocols in the 3-member rows can be told apart from
    // the fetch path's own. And three with 500 ms heartbeats: members that
    // join while the first holds everything get the partitions it releases
    // at their next heartbeat, so the interval bounds the 3-member rows.
    for (members, heartbeat_ms) in [(3usize, None), (1, None), (3, Some(500u32))] {
        for consumer in [false, true] {
            let hb = heartbeat_ms.map_or(String::new(), |ms| format!("hb{ms}-"));
            v.push((
                format!("group-consume-{members}m-1k-p32-{hb}{}", protocol(consumer)),
                Kind::GroupConsume {
                    members,
                    size: 1024,
                    count: scaled(200_000, scale, 400),
                    consumer,
                    heartbeat_ms,
                },
            ));
        }
    }
    v
}

fn protocol(consumer: bool) -> &'static str {
    if consumer {
        "consumer"
    } else {
        "classic"
    }
}

/// Broker settings for a heartbeat interval (the bounds must allow it).
/// Kafka gets Skiff's `group.initial.rebalance.delay.ms` (0; Kafka's own
/// default is 3 s), so both treat a classic group's first joins alike.
fn broker_sets(peer: Peer, heartbeat_ms: Option<u32>) -> Vec<String> {
    let mut v = match peer {
        Peer::Skiff => vec!["http.listeners=off".to_string()],
        Peer::Kafka => vec!["group.initial.rebalance.delay.ms=0".to_string()],
    };
    if let Some(ms) = heartbeat_ms {
        v.push(format!("group.consumer.heartbeat.interval.ms={ms}"));
        v.push(format!("group.consumer.min.heartbeat.interval.ms={ms}"));
    }
    v
}

/// One group member polling in its own thread.
struct Member {
    stop: Arc<AtomicBool>,
    assignment: Arc<Mutex<BTreeSet<i32>>>,
    /// This member's deliveries and `clients::now_ns` of its first (0: none).
    delivered: Arc<(AtomicU64, AtomicU64)>,
    handle: Option<JoinHandle<Result<(), String>>>,
}

/// What members deliver, shared by all of them.
#[derive(Default)]
struct Progress {
    /// Per partition: one past the highest offset delivered.
    next: Vec<AtomicI64>,
    deliveries: AtomicU64,
    bytes: AtomicU64,
    /// `clients::now_ns` of the first delivery (0: none yet).
    first_ns: AtomicU64,
}

impl Member {
    fn start(
        bootstrap: &str,
        group: &str,
        topic: &str,
        consumer: bool,
        heartbeat_ms: Option<u32>,
        progress: Option<Arc<Progress>>,
    ) -> Result<Member, String> {
        let mut c = clients::base_config(bootstrap);
        c.set("group.id", group)
            .set("group.protocol", protocol(consumer))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false");
        if let (false, Some(ms)) = (consumer, heartbeat_ms) {
            // Classic members learn of a rebalance at their own heartbeat.
            c.set("heartbeat.interval.ms", ms.to_string());
        }
        let kc: BaseConsumer = c.create().map_err(|e| format!("create consumer: {e}"))?;
        kc.subscribe(&[topic])
            .map_err(|e| format!("subscribe {topic}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let assignment = Arc::new(Mutex::new(BTreeSet::new()));
        let delivered: Arc<(AtomicU64, AtomicU64)> = Arc::default();
        let (t_stop, t_assignment, t_delivered) =
            (stop.clone(), assignment.clone(), delivered.clone());
        let handle = std::thread::spawn(move || -> Result<(), String> {
            while !t_stop.load(Ordering::Relaxed) {
                match kc.poll(Duration::from_millis(20)) {
                    Some(Ok(m)) => {
                        if t_delivered.0.fetch_add(1, Ordering::Relaxed) == 0 {
                            t_delivered.1.store(clients::now_ns(), Ordering::Relaxed);
                        }
                        if let Some(p) = &progress {
                            let _ = p.first_ns.compare_exchange(
                                0,
                                clients::now_ns().max(1),
                                Ordering::Relaxed,
                                Ordering::Relaxed,
                            );
                            p.deliveries.fetch_add(1, Ordering::Relaxed);
                            p.bytes.fetch_add(
                                m.payload().map_or(0, |v| v.len()) as u64,
                                Ordering::Relaxed,
                            );
                            if let Some(n) = p.next.get(m.partition() as usize) {
                                n.fetch_max(m.offset() + 1, Ordering::Relaxed);
                            }
                        }
                    }
                    Some(Err(e)) => eprintln!("group member: {e}"),
                    None => {}
                }
                let now: BTreeSet<i32> = kc
                    .assignment()
                    .map(|tpl| tpl.elements().iter().map(|e| e.partition()).collect())
                    .unwrap_or_default();
                if let Ok(mut a) = t_assignment.lock() {
                    *a = now;
                }
            }
            kc.unsubscribe();
            Ok(())
        });
        Ok(Member {
            stop,
            assignment,
            delivered,
            handle: Some(handle),
        })
    }

    fn assignment(&self) -> BTreeSet<i32> {
        self.assignment
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Every member holds partitions, none twice, all `partitions` covered.
fn stable(members: &[Member], partitions: i32) -> bool {
    let sets: Vec<BTreeSet<i32>> = members.iter().map(Member::assignment).collect();
    let total: usize = sets.iter().map(BTreeSet::len).sum();
    let union: BTreeSet<i32> = sets.iter().flatten().copied().collect();
    sets.iter().all(|s| !s.is_empty())
        && total == partitions as usize
        && union.len() == partitions as usize
}

/// Stops members in parallel (a classic leave, a consumer-protocol leave
/// heartbeat), so ten of them do not take ten close timeouts.
fn stop_all(members: Vec<Member>) {
    for m in &members {
        m.stop.store(true, Ordering::Relaxed);
    }
    drop(members);
}

fn time_to_stable(
    bootstrap: &str,
    members: usize,
    consumer: bool,
    heartbeat_ms: Option<u32>,
) -> Result<Measurement, String> {
    let admin = clients::admin(bootstrap)?;
    let topic = topic_name("group-stable");
    clients::create_topic(&admin, &topic, PARTITIONS)?;
    let group = clients::group_id("bench-stable");
    let started = Instant::now();
    let mut ms = Vec::with_capacity(members);
    for _ in 0..members {
        ms.push(Member::start(
            bootstrap,
            &group,
            &topic,
            consumer,
            heartbeat_ms,
            None,
        )?);
    }
    let took = loop {
        if stable(&ms, PARTITIONS) {
            break started.elapsed();
        }
        if started.elapsed() > LIMIT {
            let held: Vec<usize> = ms.iter().map(|m| m.assignment().len()).collect();
            stop_all(ms);
            return Err(format!(
                "no stable assignment within {LIMIT:?} (partitions held: {held:?})"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    stop_all(ms);
    let _ = clients::delete_topic(&admin, &topic);
    let interval = match (heartbeat_ms, consumer) {
        (Some(ms), _) => format!("{ms} ms"),
        (None, false) => "3000 ms (client default)".into(),
        (None, true) => "5000 ms (broker default)".into(),
    };
    Ok(Measurement {
        value: Some(("ms", took.as_secs_f64() * 1e3)),
        fields: vec![
            ("members".into(), members.to_string()),
            ("partitions".into(), PARTITIONS.to_string()),
        ],
        note: format!(
            "{} protocol, heartbeat {interval}: {members} member(s) to a stable assignment",
            protocol(consumer)
        ),
        ..Default::default()
    })
}

fn group_consume(
    bootstrap: &str,
    members: usize,
    size: usize,
    count: u64,
    consumer: bool,
    heartbeat_ms: Option<u32>,
) -> Result<Measurement, String> {
    let admin = clients::admin(bootstrap)?;
    let topic = topic_name("group-consume");
    clients::create_topic(&admin, &topic, PARTITIONS)?;
    fill(bootstrap, &topic, PARTITIONS, count, size)?;
    let hw = clients::high_watermarks(bootstrap, &topic, PARTITIONS)?;
    let progress = Arc::new(Progress {
        next: (0..PARTITIONS).map(|_| AtomicI64::new(0)).collect(),
        ..Default::default()
    });
    let group = clients::group_id("bench-group-consume");
    let start_ns = clients::now_ns();
    let mut ms = Vec::with_capacity(members);
    for _ in 0..members {
        ms.push(Member::start(
            bootstrap,
            &group,
            &topic,
            consumer,
            heartbeat_ms,
            Some(progress.clone()),
        )?);
    }
    let read = |p: &Progress| -> u64 {
        p.next
            .iter()
            .zip(&hw)
            .map(|(n, h)| n.load(Ordering::Relaxed).min(*h).max(0) as u64)
            .sum()
    };
    let end_ns = loop {
        if read(&progress) >= count {
            break clients::now_ns();
        }
        if clients::now_ns() - start_ns > LIMIT.as_nanos() as u64 {
            break clients::now_ns();
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    // Who read how much, and when each started: a member that got its
    // partitions late reads less.
    let per_member: Vec<String> = ms
        .iter()
        .map(|m| {
            let first = m.delivered.1.load(Ordering::Relaxed);
            let from_ms = if first == 0 {
                "-".to_string()
            } else {
                format!("{:.0}", first.saturating_sub(start_ns) as f64 / 1e6)
            };
            format!("{}@{from_ms}ms", m.delivered.0.load(Ordering::Relaxed))
        })
        .collect();
    stop_all(ms);
    let _ = clients::delete_topic(&admin, &topic);
    let arrived = read(&progress);
    if arrived < count {
        return Err(format!(
            "{arrived} of {count} records read within {LIMIT:?}"
        ));
    }
    let first_ns = progress.first_ns.load(Ordering::Relaxed).max(start_ns);
    let steady = (end_ns.saturating_sub(first_ns)) as f64 / 1e9;
    let total = (end_ns - start_ns) as f64 / 1e9;
    let join_ms = (first_ns - start_ns) as f64 / 1e6;
    let deliveries = progress.deliveries.load(Ordering::Relaxed);
    let mb_per_s = arrived as f64 * size as f64 / steady.max(1e-9) / 1e6;
    let msgs_per_s = arrived as f64 / steady.max(1e-9);
    Ok(Measurement {
        expected: count,
        arrived,
        secs: steady,
        msgs_per_s,
        mb_per_s,
        payload_bytes: arrived * size as u64,
        value: Some(("mb_per_s", mb_per_s)),
        fields: vec![
            ("records_per_s".into(), format!("{msgs_per_s:.0}")),
            ("join_ms".into(), format!("{join_ms:.1}")),
            ("total_s".into(), format!("{total:.3}")),
            (
                "duplicates".into(),
                deliveries.saturating_sub(arrived).to_string(),
            ),
            ("per_member".into(), per_member.join("/")),
        ],
        note: format!(
            "{} protocol, {members} members: {msgs_per_s:.0} records/s, first record {join_ms:.0} ms after start (not counted)",
            protocol(consumer)
        ),
        ..Default::default()
    })
}

impl Runner<'_> {
    /// A `group-*` scenario on a fresh broker of `peer` (the mock column
    /// stays empty: librdkafka's mock cluster is not a group coordinator to
    /// compare with).
    pub(super) fn group_scenario(&mut self, peer: Peer, kind: &Kind) -> Outcome {
        if !self.local(peer) {
            return Outcome::Skipped(
                "consumer groups' timing needs a local broker (not --bootstrap)".into(),
            );
        }
        let heartbeat = match kind {
            Kind::GroupStable { heartbeat_ms, .. } | Kind::GroupConsume { heartbeat_ms, .. } => {
                *heartbeat_ms
            }
            _ => None,
        };
        let res = (|| -> Result<Measurement, String> {
            let dir = temp_data_dir(&format!("{}-groups", peer.tag()))?;
            let p = self.start_broker(peer, dir.path(), &broker_sets(peer, heartbeat))?;
            let bootstrap = p.addr().to_string();
            let r = match *kind {
                Kind::GroupStable {
                    members,
                    consumer,
                    heartbeat_ms,
                } => time_to_stable(&bootstrap, members, consumer, heartbeat_ms),
                Kind::GroupConsume {
                    members,
                    size,
                    count,
                    consumer,
                    heartbeat_ms,
                } => group_consume(&bootstrap, members, size, count, consumer, heartbeat_ms),
                _ => Err("not a group scenario".into()),
            };
            let r = r.map_err(|e| format!("{e}\n{}", p.log_tail()));
            p.stop()?;
            r
        })();
        res.map_or_else(Outcome::Failed, Outcome::Measured)
    }
}
