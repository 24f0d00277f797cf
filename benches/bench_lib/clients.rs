//! The client side of every scenario, built on rdkafka (librdkafka): a
//! producer that pushes as fast as the client lets it, a consumer that reads
//! a topic from offset 0 (assigned or through a consumer group), a paced
//! producer/consumer pair for end-to-end latency, and topic administration.
//!
//! Every worker counts what arrives (delivery reports, consumed offsets) so
//! a run proves that every message made it, whatever the timing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

/// A consumer that makes no progress for this long has failed.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout for metadata, admin and watermark requests.
const OP_TIMEOUT: Duration = Duration::from_secs(30);

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the first call in this process (a monotonic clock that
/// producer and consumer threads share, for latencies embedded in payloads).
pub fn now_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Client settings common to every client: only what is needed to connect
/// and keep librdkafka quiet. Everything else stays at librdkafka's defaults
/// unless a scenario says otherwise.
pub fn base_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("client.id", "skiff-bench")
        .set("log_level", "3");
    for (k, v) in SECURITY.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        c.set(k, v);
    }
    c
}

/// Security settings (`security.protocol`, SASL login, CA) every client
/// created until the next call adds: the TLS scenarios (`tls.rs`) set them
/// around their runs, so the produce/consume code stays the one they share.
static SECURITY: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

pub fn set_security(settings: Vec<(String, String)>) {
    *SECURITY.lock().unwrap_or_else(|e| e.into_inner()) = settings;
}

/// A unique consumer group id for this process.
pub fn group_id(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

/// `n` distinct payloads of `size` bytes. The first half of each is
/// pseudo-random, the second half repeats an ASCII phrase, so lz4 has
/// something to do (about 2:1) without the data being trivially compressible.
pub fn payload_pool(size: usize, n: usize) -> Vec<Vec<u8>> {
    const PHRASE: &[u8] = b"skiff-bench payload: the quick brown fox jumps over the lazy dog. ";
    (0..n)
        .map(|k| {
            let mut x = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut p = Vec::with_capacity(size);
            while p.len() < size / 2 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                p.extend_from_slice(&x.to_le_bytes());
            }
            p.truncate(size / 2);
            let mut i = k % PHRASE.len();
            while p.len() < size {
                p.push(PHRASE[i % PHRASE.len()]);
                i += 1;
            }
            p
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Producing
// ---------------------------------------------------------------------------

/// Delivery-report tallies.
#[derive(Default)]
pub struct Tally {
    pub ok: AtomicU64,
    pub err: AtomicU64,
    pub first_err: Mutex<Option<String>>,
}

/// A producer context that counts delivery reports.
pub struct CountingContext(pub Arc<Tally>);

impl ClientContext for CountingContext {}

impl ProducerContext for CountingContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.0.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.0.err.fetch_add(1, Ordering::Relaxed);
                let mut first = self.0.first_err.lock().unwrap();
                if first.is_none() {
                    *first = Some(e.to_string());
                }
            }
        }
    }
}

/// What a producer is asked to do.
#[derive(Debug, Clone)]
pub struct ProduceJob {
    pub topic: String,
    pub partitions: i32,
    pub count: u64,
    pub size: usize,
    /// `"1"` or `"all"`.
    pub acks: &'static str,
    /// `"none"` or `"lz4"`.
    pub compression: &'static str,
    pub idempotent: bool,
    /// Send one message to partition 0 and wait for its acknowledgement
    /// before the clock starts (connections up, idempotent producer id
    /// acquired: librdkafka can take ~0.5 s for that). It is not counted in
    /// the stats but it is in the topic: `count + 1` messages.
    pub warmup: bool,
}

/// What a producer did.
#[derive(Debug, Clone)]
pub struct ProduceStats {
    /// From the first send to the end of `flush` (every delivery report in).
    pub secs: f64,
    pub delivered: u64,
    pub failed: u64,
    pub first_error: Option<String>,
}

/// Produces `job.count` messages as fast as the client allows, message `i`
/// to partition `i % partitions` (so every partition gets the same share),
/// and waits for every delivery report.
pub fn produce(bootstrap: &str, job: &ProduceJob) -> Result<ProduceStats, String> {
    let tally = Arc::new(Tally::default());
    let mut cfg = base_config(bootstrap);
    cfg.set("acks", job.acks)
        .set("compression.type", job.compression)
        .set(
            "enable.idempotence",
            if job.idempotent { "true" } else { "false" },
        );
    let producer: BaseProducer<CountingContext> = cfg
        .create_with_context(CountingContext(tally.clone()))
        .map_err(|e| format!("create producer: {e}"))?;
    // Connect and learn the leaders before the clock starts.
    producer
        .client()
        .fetch_metadata(Some(&job.topic), OP_TIMEOUT)
        .map_err(|e| format!("metadata for {}: {e}", job.topic))?;

    let pool = payload_pool(job.size, 1024);
    if job.warmup {
        producer
            .send(
                BaseRecord::<(), [u8]>::to(&job.topic)
                    .payload(&pool[0][..])
                    .partition(0),
            )
            .map_err(|(e, _)| format!("send warm-up message: {e}"))?;
        flush(&producer, Duration::from_secs(60))?;
        if tally.ok.swap(0, Ordering::Relaxed) != 1 {
            return Err(format!(
                "warm-up message not acknowledged: {}",
                tally.first_err.lock().unwrap().clone().unwrap_or_default()
            ));
        }
    }
    let started = Instant::now();
    for i in 0..job.count {
        let payload = &pool[(i % pool.len() as u64) as usize];
        let mut record: BaseRecord<'_, (), [u8]> = BaseRecord::to(&job.topic)
            .payload(&payload[..])
            .partition((i % job.partitions as u64) as i32);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(format!("send message {i}: {e}")),
            }
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    flush(&producer, Duration::from_secs(600))?;
    let secs = started.elapsed().as_secs_f64();
    let first_error = tally.first_err.lock().unwrap().clone();
    Ok(ProduceStats {
        secs,
        delivered: tally.ok.load(Ordering::Relaxed),
        failed: tally.err.load(Ordering::Relaxed),
        first_error,
    })
}

/// Waits for every delivery report, with 1 ms resolution.
///
/// rust-rdkafka's `BaseProducer::flush` polls in 100 ms steps and its
/// `poll(t)` always blocks for all of `t`, so a plain `flush` rounds every
/// run up to the next 100 ms. Each `flush(1 ms)` here still calls
/// `rd_kafka_flush`, which sends lingering batches at once.
fn flush<C: ProducerContext>(producer: &BaseProducer<C>, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        match producer.flush(Duration::from_millis(1)) {
            Ok(()) => return Ok(()),
            Err(KafkaError::Flush(_)) if Instant::now() < deadline => {}
            Err(e) => {
                return Err(format!(
                    "flush: {e} ({} messages still in flight)",
                    producer.in_flight_count()
                ))
            }
        }
    }
}

/// `(low, high)` watermarks of every partition of `topic`.
pub fn watermarks(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<Vec<(i64, i64)>, String> {
    let p: BaseProducer = base_config(bootstrap)
        .create()
        .map_err(|e| format!("create client: {e}"))?;
    (0..partitions)
        .map(|i| {
            p.client()
                .fetch_watermarks(topic, i, OP_TIMEOUT)
                .map_err(|e| format!("watermarks of {topic}-{i}: {e}"))
        })
        .collect()
}

/// High watermark of every partition of `topic`.
pub fn high_watermarks(bootstrap: &str, topic: &str, partitions: i32) -> Result<Vec<i64>, String> {
    Ok(watermarks(bootstrap, topic, partitions)?
        .into_iter()
        .map(|(_, high)| high)
        .collect())
}

// ---------------------------------------------------------------------------
// Consuming
// ---------------------------------------------------------------------------

/// What a consumer did.
#[derive(Debug, Clone)]
pub struct ConsumeStats {
    /// From assign/subscribe to the last message.
    pub secs: f64,
    /// From the first to the last message (for groups: excludes the join).
    pub steady_secs: f64,
    /// From subscribe to the first message.
    pub first_msg_secs: f64,
    pub received: u64,
}

/// Reads `expected` messages of `size` bytes from the start of every
/// partition, either assigned directly or (with `group`) by subscribing
/// through a consumer group. Checks that offsets are contiguous from the
/// start in every partition and that each partition yields exactly its
/// round-robin share, so a duplicate or a gap is an error, not a slightly
/// wrong figure.
///
/// `window`: for a broker that keeps only part of the log (librdkafka's
/// mock keeps 5 MiB per partition), the retained `(low, high)` offsets of
/// each partition. The consumer then reads `low..high` again and again
/// (seeking back to `low` at `high`) until each partition has yielded its
/// share, with `fetch.wait.max.ms=0` so the fetch at `high` that is in
/// flight when it seeks back returns at once instead of after 500 ms.
/// Without `window`, every partition must start at offset 0.
pub fn consume(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    expected: u64,
    size: usize,
    group: bool,
    window: Option<&[(i64, i64)]>,
) -> Result<ConsumeStats, String> {
    if let Some(w) = window {
        if w.len() != partitions as usize || w.iter().any(|(lo, hi)| hi <= lo) {
            return Err(format!("bad retained window {w:?}"));
        }
    }
    let mut cfg = base_config(bootstrap);
    if window.is_some() {
        cfg.set("fetch.wait.max.ms", "0");
    }
    // librdkafka needs a group.id even to `assign`; without `group` the
    // consumer never subscribes or commits.
    cfg.set("group.id", group_id("skiff-bench"))
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // The issue: raise queued.min.messages so the client prefetches
        // enough that the broker, not the client, is what is measured.
        .set("queued.min.messages", "1000000");
    if !group {
        cfg.set("enable.auto.commit", "false");
    }
    let consumer: BaseConsumer = cfg.create().map_err(|e| format!("create consumer: {e}"))?;
    consumer
        .client()
        .fetch_metadata(Some(topic), OP_TIMEOUT)
        .map_err(|e| format!("metadata for {topic}: {e}"))?;

    let started = Instant::now();
    if group {
        consumer
            .subscribe(&[topic])
            .map_err(|e| format!("subscribe: {e}"))?;
    } else {
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .map_err(|e| format!("assign list: {e}"))?;
        }
        consumer.assign(&tpl).map_err(|e| format!("assign: {e}"))?;
    }

    let share = |p: usize| -> u64 {
        expected / partitions as u64 + u64::from((p as u64) < expected % partitions as u64)
    };
    let mut next: Vec<i64> = match window {
        Some(w) => w.iter().map(|(lo, _)| *lo).collect(),
        None => vec![0; partitions as usize],
    };
    let mut got = vec![0u64; partitions as usize];
    let mut received = 0u64;
    let mut first_at: Option<Instant> = None;
    let mut last_progress = Instant::now();
    while received < expected {
        match consumer.poll(Duration::from_millis(100)) {
            None => {
                if last_progress.elapsed() > STALL_TIMEOUT {
                    return Err(format!(
                        "consumer stalled: {received} of {expected} messages after {:?}",
                        started.elapsed()
                    ));
                }
            }
            Some(Err(e)) => {
                return Err(format!("consumer error after {received} messages: {e}"));
            }
            Some(Ok(m)) => {
                let p = m.partition();
                if window.is_some()
                    && got.get(p as usize).map(|g| *g >= share(p as usize)) == Some(true)
                {
                    // Re-reading a window: this partition stopped mid-window
                    // when it had yielded its share (and was paused); what
                    // was already fetched beyond that is not counted.
                    continue;
                }
                let slot = next
                    .get_mut(p as usize)
                    .ok_or_else(|| format!("message from unexpected partition {p}"))?;
                if m.offset() != *slot {
                    return Err(format!(
                        "partition {p}: expected offset {}, got {} (gap or duplicate)",
                        *slot,
                        m.offset()
                    ));
                }
                *slot += 1;
                let len = m.payload().map(|v| v.len()).unwrap_or(0);
                if len != size {
                    return Err(format!(
                        "partition {p} offset {}: {len} bytes, expected {size}",
                        m.offset()
                    ));
                }
                let pi = p as usize;
                got[pi] += 1;
                if got[pi] > share(pi) {
                    return Err(format!(
                        "partition {p}: more than the {} messages produced to it",
                        share(pi)
                    ));
                }
                if let Some(w) = window {
                    let (lo, hi) = w[pi];
                    if got[pi] == share(pi) {
                        let mut tpl = TopicPartitionList::new();
                        tpl.add_partition(topic, p);
                        consumer
                            .pause(&tpl)
                            .map_err(|e| format!("pause {topic}-{p}: {e}"))?;
                    } else if *slot == hi {
                        *slot = lo;
                        consumer
                            .seek(topic, p, Offset::Offset(lo), OP_TIMEOUT)
                            .map_err(|e| format!("seek {topic}-{p} to {lo}: {e}"))?;
                    }
                }
                received += 1;
                first_at.get_or_insert_with(Instant::now);
                last_progress = Instant::now();
            }
        }
    }
    let end = Instant::now();
    for (p, n) in got.iter().enumerate() {
        if *n != share(p) {
            return Err(format!(
                "partition {p}: consumed {n} messages, expected {}",
                share(p)
            ));
        }
    }
    let first_at = first_at.unwrap_or(end);
    Ok(ConsumeStats {
        secs: (end - started).as_secs_f64(),
        steady_secs: (end - first_at).as_secs_f64().max(1e-9),
        first_msg_secs: (first_at - started).as_secs_f64(),
        received,
    })
}

// ---------------------------------------------------------------------------
// End-to-end latency
// ---------------------------------------------------------------------------

/// Latency percentiles and what was measured.
#[derive(Debug, Clone)]
pub struct LatencyStats {
    /// Measured messages received (all of them, or this is an error).
    pub received: u64,
    /// Measured messages per second actually achieved (send of the first to
    /// receipt of the last).
    pub msgs_per_s: f64,
    /// p50, p99, p999 in milliseconds.
    pub p_ms: [f64; 3],
    pub max_ms: f64,
}

const WARMUP: u8 = 0;
const MEASURED: u8 = 1;

/// Sends `count` 100-byte messages to partition 0 of `topic` at `rate` per
/// second (client defaults plus `extra` producer settings), each carrying
/// its send time, while a consumer (client defaults) reads them and records
/// receive time minus send time.
pub fn latency(
    bootstrap: &str,
    topic: &str,
    rate: u64,
    count: u64,
    extra: &[(&str, &str)],
) -> Result<LatencyStats, String> {
    let consumer_ready = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let consumer_thread = {
        let bootstrap = bootstrap.to_string();
        let topic = topic.to_string();
        let ready = consumer_ready.clone();
        let stop = stop.clone();
        std::thread::spawn(move || -> Result<(Vec<u64>, u64), String> {
            let consumer: BaseConsumer = base_config(&bootstrap)
                .set("group.id", group_id("skiff-bench-lat"))
                .set("enable.auto.commit", "false")
                .set("auto.offset.reset", "earliest")
                .create()
                .map_err(|e| format!("create consumer: {e}"))?;
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, 0, Offset::Beginning)
                .map_err(|e| e.to_string())?;
            consumer.assign(&tpl).map_err(|e| format!("assign: {e}"))?;
            let mut lat = Vec::with_capacity(count as usize);
            let mut last_recv = 0u64;
            let mut last_progress = Instant::now();
            while (lat.len() as u64) < count {
                if stop.load(Ordering::Relaxed) {
                    return Err("producer gave up".into());
                }
                match consumer.poll(Duration::from_millis(100)) {
                    None => {
                        if last_progress.elapsed() > STALL_TIMEOUT {
                            return Err(format!(
                                "consumer stalled after {} of {count} measured messages",
                                lat.len()
                            ));
                        }
                    }
                    Some(Err(e)) => return Err(format!("consumer error: {e}")),
                    Some(Ok(m)) => {
                        let now = now_ns();
                        last_progress = Instant::now();
                        let p = m.payload().unwrap_or(&[]);
                        if p.len() < 9 {
                            return Err(format!("short latency payload ({} bytes)", p.len()));
                        }
                        match p[0] {
                            WARMUP => ready.store(true, Ordering::Relaxed),
                            _ => {
                                let sent = u64::from_le_bytes(p[1..9].try_into().unwrap());
                                lat.push(now.saturating_sub(sent));
                                last_recv = now;
                            }
                        }
                    }
                }
            }
            Ok((lat, last_recv))
        })
    };

    let result = (|| -> Result<u64, String> {
        let tally = Arc::new(Tally::default());
        let mut cfg = base_config(bootstrap);
        for (k, v) in extra {
            cfg.set(*k, *v);
        }
        let producer: BaseProducer<CountingContext> = cfg
            .create_with_context(CountingContext(tally.clone()))
            .map_err(|e| format!("create producer: {e}"))?;
        let mut payload = payload_pool(100, 1).pop().unwrap();

        // Warm up until the consumer sees messages: connections are open and
        // the fetcher is running before anything is measured.
        let warm_deadline = Instant::now() + Duration::from_secs(60);
        payload[0] = WARMUP;
        while !consumer_ready.load(Ordering::Relaxed) {
            if Instant::now() > warm_deadline {
                return Err("consumer saw no warm-up message within 60 s".into());
            }
            producer
                .send(
                    BaseRecord::<(), [u8]>::to(topic)
                        .payload(&payload[..])
                        .partition(0),
                )
                .map_err(|(e, _)| format!("send warm-up: {e}"))?;
            producer.poll(Duration::from_millis(20));
        }

        payload[0] = MEASURED;
        let interval_ns = 1_000_000_000 / rate.max(1);
        let start = now_ns();
        for i in 0..count {
            let due = start + i * interval_ns;
            loop {
                let now = now_ns();
                if now >= due {
                    break;
                }
                let wait = due - now;
                if wait > 200_000 {
                    std::thread::sleep(Duration::from_nanos(wait - 100_000));
                } else {
                    std::hint::spin_loop();
                }
            }
            payload[1..9].copy_from_slice(&now_ns().to_le_bytes());
            let mut record = BaseRecord::<(), [u8]>::to(topic)
                .payload(&payload[..])
                .partition(0);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        record = r;
                        producer.poll(Duration::from_millis(1));
                    }
                    Err((e, _)) => return Err(format!("send: {e}")),
                }
            }
            producer.poll(Duration::ZERO);
        }
        flush(&producer, Duration::from_secs(120))?;
        if let Some(e) = tally.first_err.lock().unwrap().clone() {
            return Err(format!("delivery failed: {e}"));
        }
        Ok(start)
    })();
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    let consumed = consumer_thread
        .join()
        .map_err(|_| "latency consumer panicked".to_string())?;
    let start = result?;
    let (mut lat, last_recv) = consumed?;
    lat.sort_unstable();
    let pct = |q: f64| -> f64 {
        let idx = ((lat.len() as f64 - 1.0) * q).round() as usize;
        lat[idx.min(lat.len() - 1)] as f64 / 1e6
    };
    Ok(LatencyStats {
        received: lat.len() as u64,
        msgs_per_s: lat.len() as f64 / ((last_recv.saturating_sub(start)) as f64 / 1e9).max(1e-9),
        p_ms: [pct(0.50), pct(0.99), pct(0.999)],
        max_ms: *lat.last().unwrap_or(&0) as f64 / 1e6,
    })
}

// ---------------------------------------------------------------------------
// Topic administration (Skiff or any real broker; the mock has its own API)
// ---------------------------------------------------------------------------

fn admin_opts() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(OP_TIMEOUT))
        .operation_timeout(Some(OP_TIMEOUT))
}

/// An admin client; keep one per broker.
pub fn admin(bootstrap: &str) -> Result<AdminClient<DefaultClientContext>, String> {
    base_config(bootstrap)
        .create()
        .map_err(|e| format!("create admin client: {e}"))
}

/// Creates `topic` with `partitions` partitions and waits until metadata
/// shows every partition with a leader.
pub fn create_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    partitions: i32,
) -> Result<(), String> {
    let nt = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let res = futures::executor::block_on(admin.create_topics([&nt], &admin_opts()))
        .map_err(|e| format!("CreateTopics {topic}: {e}"))?;
    for r in res {
        if let Err((name, code)) = r {
            return Err(format!("create topic {name}: {code:?}"));
        }
    }
    let deadline = Instant::now() + OP_TIMEOUT;
    loop {
        if let Ok(md) = admin.inner().fetch_metadata(Some(topic), OP_TIMEOUT) {
            let ok = md.topics().iter().any(|t| {
                t.name() == topic
                    && t.error().is_none()
                    && t.partitions().len() == partitions as usize
                    && t.partitions()
                        .iter()
                        .all(|p| p.leader() >= 0 && p.error().is_none())
            });
            if ok {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "topic {topic} not ready in metadata within {OP_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Deletes `topic` (best effort: the caller only warns on failure).
pub fn delete_topic(admin: &AdminClient<DefaultClientContext>, topic: &str) -> Result<(), String> {
    let res = futures::executor::block_on(admin.delete_topics(&[topic], &admin_opts()))
        .map_err(|e| format!("DeleteTopics {topic}: {e}"))?;
    for r in res {
        if let Err((name, code)) = r {
            return Err(format!("delete topic {name}: {code:?}"));
        }
    }
    Ok(())
}

/// Sum of the high watermarks of every partition of `topic`.
pub fn total_messages(bootstrap: &str, topic: &str, partitions: i32) -> Result<u64, String> {
    Ok(high_watermarks(bootstrap, topic, partitions)?
        .into_iter()
        .map(|h| h.max(0) as u64)
        .sum())
}
