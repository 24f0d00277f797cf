//! Crash-safety harnesses (the real binary, SIGKILL, damaged files).
//!
//! * `sigkill_loop_loses_no_acknowledged_message`: N iterations of producing
//!   with acks=all against a broker with `log.flush.interval.messages=1`
//!   while a consumer group commits offsets, SIGKILL at a random moment,
//!   restart, then check that every acknowledged message is present exactly
//!   once and in order, that nothing else appeared, and that the group's
//!   committed offset is at least the last acknowledged commit.
//!   `SKIFF_CRASH_ITERATIONS` (default 20) sets N; 1000 is the soak setting.
//! * `damaged_tail_segment_and_indexes_never_serve_corrupt_batches`: N
//!   iterations of producing, killing the broker, then truncating or
//!   overwriting random bytes of the tail segment and its index files; the
//!   broker must start, truncate to the last valid batch, rebuild its
//!   indexes, serve only batches whose CRC and contents are the ones
//!   produced at those offsets, and continue appending right after them.
//!   `SKIFF_CORRUPTION_ITERATIONS` (default 12) sets N.
//!
//! Randomness comes from a seed printed at the start (`SKIFF_CRASH_SEED`
//! replays a run).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::FutureRecord;
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::*;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn from_env(test: &str) -> Rng {
        let seed = std::env::var("SKIFF_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| now_ms() as u64 ^ u64::from(std::process::id()));
        eprintln!("{test}: seed {seed} (SKIFF_CRASH_SEED={seed} replays it)");
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Every record of partition 0 from `from` to the high watermark, via raw
/// fetches: (offset, value). Each batch's CRC is checked by Skiff's own
/// validator before its records are decoded.
fn read_from(raw: &mut RawClient, topic: &str, from: i64) -> (Vec<(i64, String)>, i64) {
    let v = raw.pick_version(ApiKey::Fetch, 12);
    let mut out = Vec::new();
    let mut offset = from;
    loop {
        let resp = raw.call(&fetch_request(v, topic, uuid::Uuid::nil(), 0, offset, 0), v);
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0, "fetch {topic} at {offset}");
        let records: Bytes = p.records.clone().unwrap_or_default();
        if records.is_empty() {
            return (out, p.high_watermark);
        }
        let headers = skiff::record::validate_batches(&records)
            .unwrap_or_else(|e| panic!("served a corrupt batch at {offset}: {e}"));
        for r in decode_records(&records) {
            if r.offset >= offset {
                let value = r.value.map(|v| String::from_utf8_lossy(&v).to_string());
                out.push((r.offset, value.unwrap_or_default()));
            }
        }
        offset = headers.last().unwrap().next_offset();
    }
}

#[test]
fn sigkill_loop_loses_no_acknowledged_message() {
    if skip_if_external("kills and restarts the broker") {
        return;
    }
    let iterations = env_usize("SKIFF_CRASH_ITERATIONS", 20);
    let mut rng = Rng::from_env("sigkill_loop");
    // Small segments and a small, compacted __consumer_offsets: kills also
    // land in segment rolls and in the cleaner's rewrites and swaps.
    let mut broker = Broker::start_with(&[
        ("log.flush.interval.messages", "1"),
        ("log.segment.bytes", "65536"),
        ("offsets.topic.segment.bytes", "8192"),
    ]);
    let topic = unique_topic("crash");
    let group = unique_topic("crash-group");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let started = Instant::now();
    // Everything acknowledged so far, in offset order.
    let mut acked_all: BTreeMap<i64, String> = BTreeMap::new();
    let mut last_acked_commit = -1i64;
    let mut log_end = 0i64;
    for iter in 0..iterations {
        let kill_after = Duration::from_millis(30 + rng.below(400));
        let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        // Group commits, concurrently with producing.
        let commit_acked = Arc::new(AtomicI64::new(-1));
        let committer = {
            let (bootstrap, topic, group) = (broker.bootstrap(), topic.clone(), group.clone());
            let (stop, commit_acked) = (stop.clone(), commit_acked.clone());
            let first = last_acked_commit.max(0) + 1;
            std::thread::spawn(move || {
                let c: BaseConsumer = rdkafka::ClientConfig::new()
                    .set("bootstrap.servers", &bootstrap)
                    .set("group.id", &group)
                    .set("enable.auto.commit", "false")
                    .set("socket.timeout.ms", "2000")
                    .set("reconnect.backoff.max.ms", "200")
                    .set("log_level", "0")
                    .create()
                    .expect("consumer");
                let mut next = first;
                while !stop.load(Ordering::SeqCst) {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition_offset(&topic, 0, Offset::Offset(next))
                        .unwrap();
                    if c.commit(&tpl, CommitMode::Sync).is_ok() {
                        commit_acked.store(next, Ordering::SeqCst);
                        next += 1;
                    } else {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                next - 1
            })
        };
        run(async {
            let producer = Arc::new(future_producer(
                &broker,
                &[
                    ("acks", "all"),
                    ("linger.ms", "1"),
                    ("enable.idempotence", "false"),
                    ("message.send.max.retries", "0"),
                    ("message.timeout.ms", "2000"),
                    ("request.timeout.ms", "1500"),
                ],
            ));
            let sender = {
                let (producer, topic, acked, stop) =
                    (producer.clone(), topic.clone(), acked.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut i = 0u64;
                    let mut inflight = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let v = format!("i{iter:04}-m{i:06}");
                        i += 1;
                        let Ok(f) = producer.send_result(
                            FutureRecord::<(), _>::to(&topic).partition(0).payload(&v),
                        ) else {
                            break;
                        };
                        inflight.push((v, f));
                        if inflight.len() >= 8 {
                            let (v, f) = inflight.remove(0);
                            if let Ok(Ok(d)) = f.await {
                                acked.lock().unwrap().push((d.offset, v));
                            }
                        }
                    }
                    for (v, f) in inflight {
                        if let Ok(Ok(d)) = f.await {
                            acked.lock().unwrap().push((d.offset, v));
                        }
                    }
                })
            };
            tokio::time::sleep(kill_after).await;
            broker.kill();
            stop.store(true, Ordering::SeqCst);
            // Reports of deliveries acknowledged before the kill arrive at
            // once; the rest can only fail. Not waiting for their timeouts
            // may only leave an acknowledgement uncounted (a weaker check,
            // never a false failure).
            let _ = tokio::time::timeout(Duration::from_millis(1500), sender).await;
        });
        // Restart first: a commit in flight at the kill only returns once
        // a broker answers.
        broker.restart();
        let attempted_commit = committer.join().expect("committer");

        let mut acked = std::mem::take(&mut *acked.lock().unwrap());
        acked.sort();
        let mut raw = RawClient::connect(&broker.bootstrap());
        let (got, hw) = read_from(&mut raw, &topic, log_end);
        // Offsets strictly increasing and contiguous from the old log end.
        for (k, (o, _)) in got.iter().enumerate() {
            assert_eq!(
                *o,
                log_end + k as i64,
                "iteration {iter}: offsets not contiguous"
            );
        }
        assert_eq!(got.last().map_or(log_end, |r| r.0 + 1), hw);
        let by_offset: BTreeMap<i64, &String> = got.iter().map(|(o, v)| (*o, v)).collect();
        for (o, v) in &acked {
            assert_eq!(
                by_offset.get(o).map(|s| s.as_str()),
                Some(v.as_str()),
                "iteration {iter}: acknowledged {v} at {o} missing after SIGKILL"
            );
        }
        // Nothing from another iteration, no value twice, values in send order.
        let mut seen = std::collections::HashSet::new();
        let mut last_seq = -1i64;
        for (_, v) in &got {
            assert!(
                v.starts_with(&format!("i{iter:04}-")),
                "iteration {iter}: stray {v}"
            );
            assert!(seen.insert(v.clone()), "iteration {iter}: {v} twice");
            let seq: i64 = v.rsplit('m').next().unwrap().parse().unwrap();
            assert!(seq > last_seq, "iteration {iter}: {v} out of order");
            last_seq = seq;
        }
        acked_all.extend(acked);
        log_end = hw;

        // Committed offsets: at least the last acknowledged commit.
        let acked_commit = commit_acked.load(Ordering::SeqCst);
        let c = consumer(&broker, &[("group.id", &group)]);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&topic, 0);
        let committed = match c
            .committed_offsets(tpl, OP_TIMEOUT)
            .expect("committed")
            .elements()[0]
            .offset()
        {
            Offset::Offset(o) => o,
            _ => -1,
        };
        assert!(
            committed >= acked_commit.max(last_acked_commit) && committed <= attempted_commit.max(last_acked_commit),
            "iteration {iter}: committed {committed}, last acknowledged commit {acked_commit}, attempted {attempted_commit}"
        );
        last_acked_commit = committed;
    }
    // One full pass at the end: every acknowledged message, exactly once.
    let mut raw = RawClient::connect(&broker.bootstrap());
    let (all, _) = read_from(&mut raw, &topic, 0);
    let positions: BTreeMap<&String, i64> = all.iter().map(|(o, v)| (v, *o)).collect();
    assert_eq!(positions.len(), all.len(), "a value appears twice");
    for (o, v) in &acked_all {
        assert_eq!(positions.get(v), Some(o), "{v} lost");
    }
    eprintln!(
        "sigkill_loop: {iterations} iterations, {} acknowledged messages, {} stored, committed offset {last_acked_commit}, {:?}",
        acked_all.len(),
        all.len(),
        started.elapsed()
    );
}

/// The newest `.log` of `dir` and its two index files.
fn tail_files(dir: &PathBuf) -> [PathBuf; 3] {
    let mut logs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let log = logs.pop().expect("a segment");
    [
        log.clone(),
        log.with_extension("index"),
        log.with_extension("timeindex"),
    ]
}

#[test]
fn damaged_tail_segment_and_indexes_never_serve_corrupt_batches() {
    if skip_if_external("damages the broker's files") {
        return;
    }
    let iterations = env_usize("SKIFF_CORRUPTION_ITERATIONS", 12);
    let mut rng = Rng::from_env("corruption_loop");
    let mut broker = Broker::start_with(&[
        ("log.segment.bytes", "4096"),
        ("log.index.interval.bytes", "128"),
    ]);
    let topic = unique_topic("damage");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let dir = broker.partition_dir(&topic, 0);
    // What was produced at each offset (survivors must match it).
    let mut produced: BTreeMap<i64, String> = BTreeMap::new();
    let mut damages = BTreeMap::<&str, usize>::new();
    for iter in 0..iterations {
        run(async {
            let producer = future_producer(&broker, &[("linger.ms", "0")]);
            for i in 0..(10 + rng.below(30)) {
                let v = format!("it{iter}-{i}-{}", "p".repeat(rng.below(200) as usize));
                let d = producer
                    .send(
                        FutureRecord::<(), _>::to(&topic).partition(0).payload(&v),
                        Duration::from_secs(10),
                    )
                    .await
                    .unwrap_or_else(|(e, _)| broker.fail(&format!("produce: {e}")));
                produced.insert(d.offset, v);
            }
        });
        broker.kill();
        let [log, index, timeindex] = tail_files(&dir);
        let target = match rng.below(4) {
            0 | 1 => log,
            2 => index,
            _ => timeindex,
        };
        let mut bytes = fs::read(&target).unwrap_or_default();
        let what = if bytes.is_empty() || rng.below(2) == 0 {
            let cut = rng.below(bytes.len() as u64 + 1) as usize;
            bytes.truncate(cut);
            "truncate"
        } else {
            for _ in 0..(1 + rng.below(4)) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next() as u8;
            }
            "overwrite"
        };
        let kind = target.extension().unwrap().to_string_lossy().to_string();
        *damages
            .entry(match (what, kind.as_str()) {
                ("truncate", "log") => "truncate .log",
                ("truncate", "index") => "truncate .index",
                ("truncate", _) => "truncate .timeindex",
                (_, "log") => "overwrite .log",
                (_, "index") => "overwrite .index",
                _ => "overwrite .timeindex",
            })
            .or_default() += 1;
        fs::write(&target, &bytes).unwrap();
        broker.restart();

        let mut raw = RawClient::connect(&broker.bootstrap());
        let (got, hw) = read_from(&mut raw, &topic, 0);
        for (k, (o, v)) in got.iter().enumerate() {
            assert_eq!(
                *o, k as i64,
                "iteration {iter} ({what} {kind}): offsets not contiguous"
            );
            assert_eq!(
                produced.get(o),
                Some(v),
                "iteration {iter} ({what} {kind}): offset {o} serves data that was never produced there"
            );
        }
        assert_eq!(
            got.len() as i64,
            hw,
            "iteration {iter}: high watermark {hw}, records {}",
            got.len()
        );
        // Lost records are gone for good; appends continue right after.
        produced.retain(|o, _| *o < hw);
        run(async {
            let producer = future_producer(&broker, &[("linger.ms", "0")]);
            let v = format!("after-{iter}");
            let d = producer
                .send(
                    FutureRecord::<(), _>::to(&topic).partition(0).payload(&v),
                    Duration::from_secs(10),
                )
                .await
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce after restart: {e}")));
            assert_eq!(
                d.offset, hw,
                "iteration {iter}: append continues at the log end"
            );
            produced.insert(d.offset, v);
        });
        // Index lookups agree with the data: every offset is fetchable.
        // (About 60 probes, so long soaks stay linear.)
        for o in (0..hw).step_by((hw as usize / 60).max(7)) {
            let (from_o, _) = read_from(&mut raw, &topic, o);
            assert_eq!(
                from_o.first().map(|r| r.0),
                Some(o),
                "iteration {iter}: fetch at {o}"
            );
        }
    }
    eprintln!("corruption_loop: {iterations} iterations, damage applied: {damages:?}");
}
