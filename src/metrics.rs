//! Broker metrics: counters and histograms anyone may record into, read by
//! the HTTP listener's `/metrics` (`crate::http`). A leaf: no internal deps.
//!
//! Hot-path cost: recording is one or a few relaxed atomic adds. Per-API
//! counters and latency buckets live in fixed static arrays indexed by API key
//! (and error code); per-topic counters sit in a copy-on-write map behind
//! [`ArcSwap`], so a lookup on the produce/fetch path is a lock-free load plus
//! a hash lookup. Only the first record for a topic not seen before takes a
//! (writers-only) mutex to insert it. No `metrics`/`prometheus` crate: both
//! put a lock (a registry or a `RwLock`'d label map) on every labelled
//! update, and the exposition format is a few lines of text to write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

/// API keys 0..MAX_API are tracked (Kafka's highest is below 100).
pub const MAX_API: usize = 128;
/// Error codes -1..=126 are tracked (index = code + 1); others count as -1.
pub const ERROR_SLOTS: usize = 128;
/// Upper bounds (seconds) of the request latency histogram buckets; +Inf is implicit.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const LATENCY_BUCKETS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// One API's request latency histogram (cumulative buckets are computed on read).
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len() + 1],
            sum_us: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        let i = LATENCY_BUCKETS_US
            .iter()
            .position(|b| us <= *b)
            .unwrap_or(LATENCY_BUCKETS_US.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// `(cumulative counts per bucket incl. +Inf, sum in seconds, count)`.
    pub fn snapshot(&self) -> (Vec<u64>, f64, u64) {
        let mut acc = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                acc += b.load(Relaxed);
                acc
            })
            .collect();
        (
            cumulative,
            self.sum_us.load(Relaxed) as f64 / 1e6,
            self.count.load(Relaxed),
        )
    }
}

/// Per-topic traffic counters.
#[derive(Debug, Default)]
pub struct TopicCounters {
    pub bytes_in: AtomicU64,
    pub messages_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub messages_out: AtomicU64,
}

/// All broker metrics. One process-wide instance: [`global`].
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    started_unix: f64,
    requests: [AtomicU64; MAX_API],
    errors: Box<[[AtomicU64; ERROR_SLOTS]]>,
    latency: Box<[Histogram]>,
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    topics: ArcSwap<HashMap<Arc<str>, Arc<TopicCounters>>>,
    topics_write: Mutex<()>,
    /// Completed join phases of classic groups with members (each hands
    /// out a new generation: Kafka's `classic-group-completed-rebalance`).
    classic_rebalances: AtomicU64,
    /// Group epoch bumps of share groups (an assignment change: Kafka's
    /// `share-group-rebalance-count`).
    share_rebalances: AtomicU64,
}

impl Metrics {
    fn new() -> Metrics {
        Metrics {
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            requests: [const { AtomicU64::new(0) }; MAX_API],
            errors: (0..MAX_API)
                .map(|_| [const { AtomicU64::new(0) }; ERROR_SLOTS])
                .collect(),
            latency: (0..MAX_API).map(|_| Histogram::new()).collect(),
            connections_open: AtomicI64::new(0),
            connections_total: AtomicU64::new(0),
            topics: ArcSwap::from_pointee(HashMap::new()),
            topics_write: Mutex::new(()),
            classic_rebalances: AtomicU64::new(0),
            share_rebalances: AtomicU64::new(0),
        }
    }

    fn api(api_key: i16) -> Option<usize> {
        usize::try_from(api_key).ok().filter(|k| *k < MAX_API)
    }

    /// One request of `api_key` answered (or failed) after `elapsed`.
    pub fn record_request(&self, api_key: i16, elapsed: Duration) {
        if let Some(k) = Self::api(api_key) {
            self.requests[k].fetch_add(1, Relaxed);
            self.latency[k].observe(elapsed);
        }
    }

    /// One error code (0 = NONE) reported in a response of `api_key`.
    pub fn record_error_code(&self, api_key: i16, code: i16) {
        if let Some(k) = Self::api(api_key) {
            let slot = usize::try_from(i32::from(code) + 1)
                .ok()
                .filter(|s| *s < ERROR_SLOTS)
                .unwrap_or(0);
            self.errors[k][slot].fetch_add(1, Relaxed);
        }
    }

    /// A client connection was accepted.
    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Relaxed);
        self.connections_total.fetch_add(1, Relaxed);
    }

    /// A client connection closed.
    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Relaxed);
    }

    /// The counters of `topic`, created on first use.
    pub fn topic(&self, topic: &str) -> Arc<TopicCounters> {
        if let Some(c) = self.topics.load().get(topic) {
            return c.clone();
        }
        let _writer = self.topics_write.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.topics.load_full();
        if let Some(c) = current.get(topic) {
            return c.clone();
        }
        let mut next = (*current).clone();
        let c = Arc::new(TopicCounters::default());
        next.insert(Arc::from(topic), c.clone());
        self.topics.store(Arc::new(next));
        c
    }

    /// A produced batch of `records` records and `bytes` bytes was appended to `topic`.
    pub fn record_produce(&self, topic: &str, bytes: usize, records: i32) {
        let c = self.topic(topic);
        c.bytes_in.fetch_add(bytes as u64, Relaxed);
        c.messages_in.fetch_add(records.max(0) as u64, Relaxed);
    }

    /// `bytes` bytes holding `records` records were fetched from `topic`.
    pub fn record_fetch(&self, topic: &str, bytes: usize, records: u64) {
        if bytes == 0 {
            return;
        }
        let c = self.topic(topic);
        c.bytes_out.fetch_add(bytes as u64, Relaxed);
        c.messages_out.fetch_add(records, Relaxed);
    }

    /// Forgets a deleted topic's counters.
    pub fn remove_topic(&self, topic: &str) {
        let _writer = self.topics_write.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.topics.load_full();
        if current.contains_key(topic) {
            let mut next = (*current).clone();
            next.remove(topic);
            self.topics.store(Arc::new(next));
        }
    }

    // -- Reading (for /metrics) ------------------------------------------------

    /// Time since the process started recording metrics.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Process start as Unix seconds.
    pub fn start_time_unix(&self) -> f64 {
        self.started_unix
    }

    /// `(api_key, requests)` for every API with at least one request.
    pub fn requests(&self) -> Vec<(i16, u64)> {
        (0..MAX_API)
            .filter_map(|k| {
                let n = self.requests[k].load(Relaxed);
                (n > 0).then_some((k as i16, n))
            })
            .collect()
    }

    /// `(api_key, error_code, count)` for every non-zero counter.
    pub fn error_codes(&self) -> Vec<(i16, i16, u64)> {
        let mut out = Vec::new();
        for (k, row) in self.errors.iter().enumerate() {
            for (slot, c) in row.iter().enumerate() {
                let n = c.load(Relaxed);
                if n > 0 {
                    out.push((k as i16, slot as i16 - 1, n));
                }
            }
        }
        out
    }

    /// The latency histogram of `api_key`.
    pub fn latency(&self, api_key: i16) -> Option<&Histogram> {
        Self::api(api_key).map(|k| &self.latency[k])
    }

    /// `(open now, accepted in total)`.
    pub fn connections(&self) -> (i64, u64) {
        (
            self.connections_open.load(Relaxed),
            self.connections_total.load(Relaxed),
        )
    }

    /// A classic group finished a join phase with members.
    pub fn record_classic_rebalance(&self) {
        self.classic_rebalances.fetch_add(1, Relaxed);
    }

    /// Classic-group rebalances since start.
    pub fn classic_rebalances(&self) -> u64 {
        self.classic_rebalances.load(Relaxed)
    }

    /// A share group's epoch moved by `bumps`.
    pub fn record_share_rebalances(&self, bumps: u64) {
        self.share_rebalances.fetch_add(bumps, Relaxed);
    }

    /// Share-group rebalances (group epoch bumps) since start.
    pub fn share_rebalances(&self) -> u64 {
        self.share_rebalances.load(Relaxed)
    }

    /// Every topic with counters, sorted by name.
    pub fn topics(&self) -> Vec<(Arc<str>, Arc<TopicCounters>)> {
        let mut v: Vec<_> = self
            .topics
            .load()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Resident set size of this process in bytes (Linux `/proc/self/statm`).
pub fn process_rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok().filter(|p| *p > 0).unwrap_or(4096))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60));
        let (b, sum, n) = h.snapshot();
        assert_eq!(n, 3);
        assert_eq!(b[0], 1);
        assert_eq!(b[3], 2); // <= 5 ms
        assert_eq!(*b.last().unwrap(), 3);
        assert!(sum > 60.0);
    }

    #[test]
    fn counters_by_topic_and_error_code() {
        let m = Metrics::new();
        m.record_produce("a", 100, 3);
        m.record_produce("a", 50, 2);
        m.record_fetch("a", 10, 1);
        m.record_error_code(0, 0);
        m.record_error_code(0, 3);
        m.record_error_code(0, 999);
        let a = m.topic("a");
        assert_eq!(a.bytes_in.load(Relaxed), 150);
        assert_eq!(a.messages_in.load(Relaxed), 5);
        assert_eq!(a.messages_out.load(Relaxed), 1);
        assert_eq!(m.error_codes(), vec![(0, -1, 1), (0, 0, 1), (0, 3, 1)]);
        m.remove_topic("a");
        assert!(m.topics().is_empty());
    }
}
