//! `LogManager`: the data directory ↔ topics and partitions (Kafka's
//! `LogManager`): loads everything on open, creates and deletes topics,
//! adds partitions, and drives periodic flush/roll and shutdown flush.
//!
//! Crash safety of the admin operations, in the order they touch disk:
//! * create topic: metadata file written durably, then partition
//!   directories created (a crash in between leaves metadata whose missing
//!   directories are created empty on the next open);
//! * create partitions: metadata rewritten with the new count, then the new
//!   partition directories (same reasoning);
//! * delete topic: metadata file removed (the commit point), then every
//!   partition directory renamed to `<dir>.<topic id>.deleted` and removed.
//!   On open, `*.deleted` directories are removed, and partition
//!   directories that no topic owns (a crash between the two steps) are
//!   renamed to `*.stray` and left alone, never deleted and never adopted
//!   by a later topic of the same name.
//!
//! * alter topic config: metadata rewritten with the new overrides, then
//!   the topic's and every partition's config swapped in memory (a crash in
//!   between: the next open reads the new overrides).
//!
//! Admin operations are serialized by one mutex; lookups (`topic`,
//! `topic_by_id`) take a read lock on the topic map only.
//!
//! Background work: [`LogManager::run_periodic`] runs each partition's
//! periodic maintenance (flush, roll, and retention on the
//! [`RetentionSchedule`]) inline, and hands
//! compaction to one cleaner thread, started when a pass is due and none
//! is running, so a long cleaning pass never delays the periodic task.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

use tracing::{info, warn};
use uuid::Uuid;

use super::error::{io_err, Result, StorageError};
use super::fault::{FaultPlan, CONTROL_FILE};
use super::file_names::{parse_partition_dir, partition_dir_name, DELETED_SUFFIX, STRAY_SUFFIX};
use super::fs_util::fsync_dir;
use super::log::Log;
use super::log_config::LogConfig;
use super::topic_store::{TopicMetadata, TopicStore};
use crate::record::TopicPartition;

/// A topic: its identity, resolved config and partitions.
#[derive(Debug)]
pub struct Topic {
    name: String,
    id: Uuid,
    /// The resolved config and the overrides it was resolved from; swapped
    /// together by `alter_topic_config`.
    config: RwLock<(LogConfig, BTreeMap<String, String>)>,
    partitions: RwLock<Vec<Arc<Log>>>,
}

impl Topic {
    /// Topic name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Topic id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Number of partitions.
    pub fn partition_count(&self) -> i32 {
        self.logs().len() as i32
    }

    /// The log of partition `p`, if it exists.
    pub fn partition(&self, p: i32) -> Option<Arc<Log>> {
        let i = usize::try_from(p).ok()?;
        self.logs().get(i).cloned()
    }

    /// All partitions' logs, by partition index.
    pub fn partitions(&self) -> Vec<Arc<Log>> {
        self.logs().clone()
    }

    /// The resolved config (broker defaults + overrides).
    pub fn config(&self) -> LogConfig {
        self.cfg().0.clone()
    }

    /// The topic-level overrides (given at creation, changed by
    /// AlterConfigs).
    pub fn overrides(&self) -> BTreeMap<String, String> {
        self.cfg().1.clone()
    }

    fn cfg(&self) -> RwLockReadGuard<'_, (LogConfig, BTreeMap<String, String>)> {
        self.config.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn logs(&self) -> RwLockReadGuard<'_, Vec<Arc<Log>>> {
        self.partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn logs_mut(&self) -> RwLockWriteGuard<'_, Vec<Arc<Log>>> {
        self.partitions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn metadata(&self, partitions: i32) -> TopicMetadata {
        TopicMetadata::new(&self.name, self.id, partitions, self.overrides())
    }
}

#[derive(Debug, Default)]
struct Topics {
    by_name: BTreeMap<String, Arc<Topic>>,
    by_id: HashMap<Uuid, Arc<Topic>>,
}

/// Owns the data directory. `Send + Sync`; share it as `Arc<LogManager>`.
#[derive(Debug)]
pub struct LogManager {
    data_dir: PathBuf,
    defaults: LogConfig,
    store: TopicStore,
    topics: RwLock<Topics>,
    /// Serializes create/delete/create_partitions/alter config.
    admin: Mutex<()>,
    /// The write path's fault-injection seam, shared by every log.
    faults: Arc<FaultPlan>,
    /// The cleaner thread of the pass in progress, if any.
    cleaner: Mutex<Option<JoinHandle<()>>>,
    retention: RetentionSchedule,
}

/// When retention is next enforced. Kafka checks every
/// `log.retention.check.interval.ms` (5 minutes), the first time
/// `log.initial.task.delay.ms` (30 s) after start-up; Skiff takes the
/// shorter of the two for the first check, so a short interval set for a
/// test is not held back by the 30 s delay. Records produced with an old
/// timestamp therefore stay readable until the next check, as against Kafka.
#[derive(Debug)]
pub struct RetentionSchedule {
    interval_ms: i64,
    next_ms: AtomicI64,
}

impl RetentionSchedule {
    /// Kafka's defaults: 300000 ms between checks, 30000 ms before the first.
    pub const DEFAULT_INTERVAL_MS: i64 = 300_000;
    pub const DEFAULT_INITIAL_DELAY_MS: i64 = 30_000;

    /// A schedule whose first check is due `min(initial_delay_ms,
    /// interval_ms)` after `now_ms`.
    pub fn new(now_ms: i64, interval_ms: i64, initial_delay_ms: i64) -> RetentionSchedule {
        let interval_ms = interval_ms.max(1);
        let first = initial_delay_ms.clamp(0, interval_ms);
        RetentionSchedule {
            interval_ms,
            next_ms: AtomicI64::new(now_ms.saturating_add(first)),
        }
    }

    /// Whether a check is due at `now_ms`; if so the next one is scheduled
    /// one interval from now (a late tick delays the following check
    /// rather than bunching checks together).
    fn take_due(&self, now_ms: i64) -> bool {
        let next = self.next_ms.load(Ordering::Acquire);
        if now_ms < next {
            return false;
        }
        self.next_ms
            .compare_exchange(
                next,
                now_ms.saturating_add(self.interval_ms),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }
}

/// Memory for the cleaner's offset map (Kafka's
/// `log.cleaner.dedupe.buffer.size` default).
pub const CLEANER_MAP_BYTES: usize = 128 * 1024 * 1024;

impl LogManager {
    /// Opens `data_dir` (creating it): removes half-deleted partitions,
    /// moves stray ones aside, loads every topic and recovers each
    /// partition (one `info` line per partition).
    pub fn open(data_dir: &Path, defaults: LogConfig, now_ms: i64) -> Result<LogManager> {
        fs::create_dir_all(data_dir).map_err(io_err("create data directory", data_dir))?;
        let store = TopicStore::open(data_dir)?;
        let metas = store.load_all()?;
        let counts: HashMap<&str, i32> = metas
            .iter()
            .map(|(m, _)| (m.name.as_str(), m.partitions))
            .collect();
        let mut moved = false;
        for entry in fs::read_dir(data_dir).map_err(io_err("list", data_dir))? {
            let entry = entry.map_err(io_err("list", data_dir))?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if name.ends_with(&format!(".{DELETED_SUFFIX}")) {
                remove_dir_logged(&path);
                continue;
            }
            let Some((topic, partition)) = parse_partition_dir(&name) else {
                continue;
            };
            if counts.get(topic).is_none_or(|&n| partition >= n) {
                move_aside(&path, STRAY_SUFFIX)?;
                moved = true;
            }
        }
        if moved {
            fsync_dir(data_dir)?;
        }
        let faults = Arc::new(FaultPlan::default());
        let mut topics = Topics::default();
        for (meta, id) in metas {
            let config = defaults.with_overrides(&meta.config)?;
            let mut logs = Vec::with_capacity(meta.partitions as usize);
            for p in 0..meta.partitions {
                logs.push(Arc::new(Log::open_with_faults(
                    &data_dir.join(partition_dir_name(&meta.name, p)),
                    TopicPartition::new(meta.name.clone(), p),
                    config.clone(),
                    now_ms,
                    Arc::clone(&faults),
                )?));
            }
            let topic = Arc::new(Topic {
                name: meta.name.clone(),
                id,
                config: RwLock::new((config, meta.config)),
                partitions: RwLock::new(logs),
            });
            topics.by_id.insert(id, Arc::clone(&topic));
            topics.by_name.insert(meta.name, topic);
        }
        info!(data_dir = %data_dir.display(), topics = topics.by_name.len(), "log manager opened");
        Ok(LogManager {
            data_dir: data_dir.to_path_buf(),
            defaults,
            store,
            topics: RwLock::new(topics),
            admin: Mutex::new(()),
            faults,
            cleaner: Mutex::new(None),
            retention: RetentionSchedule::new(
                now_ms,
                RetentionSchedule::DEFAULT_INTERVAL_MS,
                RetentionSchedule::DEFAULT_INITIAL_DELAY_MS,
            ),
        })
    }

    /// Replaces the retention schedule (Kafka's defaults until then).
    pub fn with_retention_schedule(mut self, schedule: RetentionSchedule) -> LogManager {
        self.retention = schedule;
        self
    }

    /// The fault-injection plan every log of this manager consults.
    pub fn faults(&self) -> &Arc<FaultPlan> {
        &self.faults
    }

    /// Testing only: from now on `run_periodic` arms and disarms faults as
    /// `<data>/.skiff/fault-injection` says (see `fault`).
    pub fn enable_fault_injection_file(&self) {
        self.faults
            .watch_control_file(self.data_dir.join(".skiff").join(CONTROL_FILE));
    }

    /// Size and free space of the file system holding the data directory:
    /// `(total bytes, bytes available to the broker)`; `None` if unknown.
    pub fn disk_space(&self) -> Option<(u64, u64)> {
        super::fs_util::disk_space(&self.data_dir)
    }

    fn read_topics(&self) -> RwLockReadGuard<'_, Topics> {
        self.topics.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_topics(&self) -> RwLockWriteGuard<'_, Topics> {
        self.topics.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Broker-level defaults every topic config starts from.
    pub fn defaults(&self) -> &LogConfig {
        &self.defaults
    }

    fn open_partition(
        &self,
        topic: &str,
        p: i32,
        config: &LogConfig,
        now_ms: i64,
    ) -> Result<Arc<Log>> {
        let dir = self.data_dir.join(partition_dir_name(topic, p));
        if dir.exists() {
            // Only possible if something outside the broker created it
            // after open; never adopt foreign data.
            move_aside(&dir, STRAY_SUFFIX)?;
        }
        Ok(Arc::new(Log::open_with_faults(
            &dir,
            TopicPartition::new(topic, p),
            config.clone(),
            now_ms,
            Arc::clone(&self.faults),
        )?))
    }

    /// Creates a topic with `partitions` empty partitions. The metadata is
    /// durable before this returns, and `topic()` finds it right after.
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        topic_id: Uuid,
        overrides: BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<Arc<Topic>> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        if self.read_topics().by_name.contains_key(name) {
            return Err(StorageError::TopicAlreadyExists(name.to_string()));
        }
        if partitions <= 0 {
            return Err(StorageError::InvalidPartitions {
                topic: name.to_string(),
                current: 0,
                requested: partitions,
            });
        }
        let config = self.defaults.with_overrides(&overrides)?;
        let meta = TopicMetadata::new(name, topic_id, partitions, overrides.clone());
        self.faults
            .check("write topic metadata for", &self.data_dir)?;
        self.store.save(&meta)?;
        let mut logs = Vec::with_capacity(partitions as usize);
        for p in 0..partitions {
            match self.open_partition(name, p, &config, now_ms) {
                Ok(log) => logs.push(log),
                Err(e) => {
                    // Undo: without metadata the partial directories would
                    // be strays on the next open anyway.
                    if let Err(undo) = self.store.remove(name) {
                        warn!(topic = name, error = %undo, "could not roll back topic metadata");
                    }
                    for log in &logs {
                        self.discard_partition(log, topic_id);
                    }
                    return Err(e);
                }
            }
        }
        let topic = Arc::new(Topic {
            name: name.to_string(),
            id: topic_id,
            config: RwLock::new((config, overrides)),
            partitions: RwLock::new(logs),
        });
        let mut topics = self.write_topics();
        topics.by_id.insert(topic_id, Arc::clone(&topic));
        topics.by_name.insert(name.to_string(), Arc::clone(&topic));
        info!(topic = name, partitions, id = %topic_id, "created topic");
        Ok(topic)
    }

    /// Deletes a topic: gone from `topic()` and from disk (see module docs
    /// for the order). Holders of its `Arc<Log>`s get `UnknownTopic` on
    /// append from now on.
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let topic = self
            .topic(name)
            .ok_or_else(|| StorageError::UnknownTopic(name.to_string()))?;
        self.store.remove(name)?;
        {
            let mut topics = self.write_topics();
            topics.by_name.remove(name);
            topics.by_id.remove(&topic.id);
        }
        for log in topic.logs().iter() {
            self.discard_partition(log, topic.id);
        }
        if let Err(e) = fsync_dir(&self.data_dir) {
            warn!(topic = name, error = %e, "could not fsync the data directory after delete");
        }
        info!(topic = name, "deleted topic");
        Ok(())
    }

    /// Marks a partition deleted, renames its directory to `*.deleted` and
    /// removes it. Failures are logged: the next open finishes the job.
    fn discard_partition(&self, log: &Log, topic_id: Uuid) {
        log.mark_deleted();
        let dir = log.dir();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let target = dir.with_file_name(format!("{name}.{}.{DELETED_SUFFIX}", topic_id.simple()));
        match fs::rename(dir, &target) {
            Ok(()) => remove_dir_logged(&target),
            Err(e) => {
                warn!(dir = %dir.display(), error = %e, "could not rename partition directory for deletion")
            }
        }
    }

    /// Grows a topic to `new_total` partitions.
    pub fn create_partitions(&self, name: &str, new_total: i32, now_ms: i64) -> Result<()> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let topic = self
            .topic(name)
            .ok_or_else(|| StorageError::UnknownTopic(name.to_string()))?;
        let current = topic.partition_count();
        if new_total <= current {
            return Err(StorageError::InvalidPartitions {
                topic: name.to_string(),
                current,
                requested: new_total,
            });
        }
        self.store.save(&topic.metadata(new_total))?;
        for p in current..new_total {
            // On failure the metadata already says `new_total`: the missing
            // partitions are created on the next open, which is the same
            // outcome a crash here would have.
            let log = self.open_partition(name, p, &topic.config(), now_ms)?;
            topic.logs_mut().push(log);
        }
        info!(
            topic = name,
            from = current,
            to = new_total,
            "created partitions"
        );
        Ok(())
    }

    /// Replaces a topic's overrides (AlterConfigs semantics: `overrides` is
    /// the complete new set). Validated like `create_topic`, persisted, then
    /// applied to every partition at once: retention, cleanup policy and
    /// the rest take effect from the next append or periodic tick.
    pub fn alter_topic_config(
        &self,
        name: &str,
        overrides: BTreeMap<String, String>,
    ) -> Result<()> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let topic = self
            .topic(name)
            .ok_or_else(|| StorageError::UnknownTopic(name.to_string()))?;
        let config = self.defaults.with_overrides(&overrides)?;
        let meta = TopicMetadata::new(name, topic.id, topic.partition_count(), overrides.clone());
        self.faults
            .check("write topic metadata for", &self.data_dir)?;
        self.store.save(&meta)?;
        *topic.config.write().unwrap_or_else(PoisonError::into_inner) = (config.clone(), overrides);
        for log in topic.logs().iter() {
            log.set_config(config.clone());
        }
        info!(topic = name, "altered topic config");
        Ok(())
    }

    /// The topic named `name`.
    pub fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.read_topics().by_name.get(name).cloned()
    }

    /// The topic with id `id`.
    pub fn topic_by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        self.read_topics().by_id.get(&id).cloned()
    }

    /// Every topic, sorted by name.
    pub fn topics(&self) -> Vec<Arc<Topic>> {
        self.read_topics().by_name.values().cloned().collect()
    }

    /// fsyncs every log and index and writes durable producer snapshots
    /// (graceful shutdown). Tries every partition; returns the first error.
    pub fn flush_all(&self) -> Result<()> {
        let mut first_err = None;
        for topic in self.topics() {
            for log in topic.partitions() {
                if let Err(e) = log.checkpoint() {
                    warn!(partition = %log.topic_partition(), error = %e, "flush failed");
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Periodic maintenance for every partition (call about once a
    /// second): `flush.ms` flushes, flushing rolled segments, `segment.ms`
    /// rolls, producer id expiry, and retention when the
    /// [`RetentionSchedule`] says it is due. Errors are logged, not returned.
    pub fn run_periodic(&self, now_ms: i64) {
        self.faults.poll_control_file();
        let retention_due = self.retention.take_due(now_ms);
        let mut compacted = Vec::new();
        for topic in self.topics() {
            let compacts = topic.config().compacts();
            for log in topic.partitions() {
                if let Err(e) = log.run_periodic(now_ms, retention_due) {
                    warn!(partition = %log.topic_partition(), error = %e, "periodic log maintenance failed");
                }
                if compacts {
                    compacted.push(log);
                }
            }
        }
        if !compacted.is_empty() {
            self.start_cleaner(compacted, now_ms);
        }
    }

    /// Starts a cleaner thread over `logs` unless one is still running.
    fn start_cleaner(&self, logs: Vec<Arc<Log>>, now_ms: i64) {
        let mut slot = self.cleaner.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        if let Some(done) = slot.take() {
            let _ = done.join();
        }
        let spawned = std::thread::Builder::new()
            .name("skiff-cleaner".into())
            .spawn(move || clean_logs(&logs, now_ms));
        match spawned {
            Ok(h) => *slot = Some(h),
            Err(e) => warn!(error = %e, "could not start the log cleaner thread"),
        }
    }

    /// Runs one cleaning pass over every compacted partition on the calling
    /// thread and waits for any background pass first (tests, tools).
    pub fn clean_now(&self, now_ms: i64) {
        if let Some(h) = self
            .cleaner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = h.join();
        }
        let logs: Vec<Arc<Log>> = self
            .topics()
            .into_iter()
            .filter(|t| t.config().compacts())
            .flat_map(|t| t.partitions())
            .collect();
        clean_logs(&logs, now_ms);
    }
}

fn clean_logs(logs: &[Arc<Log>], now_ms: i64) {
    for log in logs {
        if let Err(e) = log.clean(now_ms, CLEANER_MAP_BYTES) {
            warn!(partition = %log.topic_partition(), error = %e, "log cleaning failed");
        }
    }
}

/// Renames `path` to `<path>.<random>.<suffix>` so its name is free.
fn move_aside(path: &Path, suffix: &str) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("partition");
    let target = path.with_file_name(format!("{name}.{}.{suffix}", Uuid::new_v4().simple()));
    warn!(dir = %path.display(), to = %target.display(),
        "partition directory belongs to no topic; moved aside, not deleted");
    fs::rename(path, &target).map_err(io_err("rename stray partition directory", path))
}

fn remove_dir_logged(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path) {
        warn!(dir = %path.display(), error = %e, "could not remove deleted partition directory; will retry on next start");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;

    use super::*;
    use crate::storage::test_util::*;
    use crate::storage::{LogConfig, StorageError};

    #[test]
    fn storage_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<LogManager>();
        check::<Log>();
        check::<Topic>();
        check::<StorageError>();
    }

    #[test]
    fn retention_schedule_is_due_after_the_initial_delay_then_every_interval() {
        let s = RetentionSchedule::new(1_000, 5_000, 30_000);
        assert!(!s.take_due(1_000));
        assert!(
            !s.take_due(5_999),
            "the initial delay is capped at the interval"
        );
        assert!(s.take_due(6_000));
        assert!(!s.take_due(6_001), "once per interval");
        assert!(!s.take_due(10_999));
        assert!(s.take_due(11_500), "a late tick still checks");
        assert!(!s.take_due(16_000), "and the next is an interval after it");
        assert!(s.take_due(16_500));
        let kafka = RetentionSchedule::new(0, 300_000, 30_000);
        assert!(!kafka.take_due(29_999));
        assert!(kafka.take_due(30_000));
        assert!(!kafka.take_due(329_999));
        assert!(kafka.take_due(330_000));
    }

    #[test]
    fn periodic_maintenance_enforces_retention_only_when_the_check_is_due() {
        let dir = tempfile::tempdir().unwrap();
        let mgr = LogManager::open(dir.path(), LogConfig::default(), 0)
            .unwrap()
            .with_retention_schedule(RetentionSchedule::new(0, 10_000, 30_000));
        let overrides = BTreeMap::from([
            ("segment.bytes".to_string(), "1024".to_string()),
            ("retention.ms".to_string(), "1000".to_string()),
        ]);
        let t = mgr
            .create_topic("old", 1, Uuid::new_v4(), overrides, 0)
            .unwrap();
        let log = t.partition(0).unwrap();
        // Timestamps far in the past: every sealed segment is past retention.
        for _ in 0..30 {
            log.append(batch(2, 0), 0).unwrap();
        }
        assert!(log.segment_count() > 2);
        for now in [1_000, 5_000, 9_999] {
            mgr.run_periodic(now);
            assert_eq!(log.log_start_offset(), 0, "no check due at {now}");
        }
        mgr.run_periodic(10_000);
        assert!(log.log_start_offset() > 0, "the due check deletes");
    }

    #[test]
    fn log_manager_topic_lifecycle_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let id_a = Uuid::new_v4();
        {
            let mgr = LogManager::open(&data, LogConfig::default(), 0).unwrap();
            assert!(mgr.topics().is_empty());
            let a = mgr
                .create_topic(
                    "b-topic",
                    2,
                    id_a,
                    overrides(&[("segment.bytes", "2048")]),
                    0,
                )
                .unwrap();
            assert_eq!(a.config().segment_bytes, 2048);
            assert_eq!(a.overrides(), overrides(&[("segment.bytes", "2048")]));
            assert_eq!(mgr.topic("b-topic").unwrap().id(), id_a);
            assert_eq!(mgr.topic_by_id(id_a).unwrap().name(), "b-topic");
            assert!(matches!(
                mgr.create_topic("b-topic", 1, Uuid::new_v4(), BTreeMap::new(), 0),
                Err(StorageError::TopicAlreadyExists(_))
            ));
            assert!(matches!(
                mgr.create_topic(
                    "bad",
                    1,
                    Uuid::new_v4(),
                    overrides(&[("segment.bytes", "x")]),
                    0
                ),
                Err(StorageError::InvalidConfig { .. })
            ));
            assert!(matches!(
                mgr.create_topic("zero", 0, Uuid::new_v4(), BTreeMap::new(), 0),
                Err(StorageError::InvalidPartitions { .. })
            ));
            assert!(mgr.topic("bad").is_none() && mgr.topic("zero").is_none());
            mgr.create_topic("a-topic", 1, Uuid::new_v4(), BTreeMap::new(), 0)
                .unwrap();
            let names: Vec<_> = mgr.topics().iter().map(|t| t.name().to_string()).collect();
            assert_eq!(names, ["a-topic", "b-topic"]);

            a.partition(1).unwrap().append(batch(2, 0), 0).unwrap();
            assert!(a.partition(2).is_none() && a.partition(-1).is_none());
            assert!(matches!(
                mgr.create_partitions("b-topic", 2, 0),
                Err(StorageError::InvalidPartitions {
                    current: 2,
                    requested: 2,
                    ..
                })
            ));
            mgr.create_partitions("b-topic", 4, 0).unwrap();
            assert_eq!(a.partition_count(), 4);
            a.partition(3).unwrap().append(batch(1, 0), 0).unwrap();
            assert!(matches!(
                mgr.create_partitions("nope", 4, 0),
                Err(StorageError::UnknownTopic(_))
            ));
            mgr.flush_all().unwrap();
            mgr.run_periodic(10);
        }
        {
            let mgr = LogManager::open(&data, LogConfig::default(), 0).unwrap();
            let a = mgr.topic("b-topic").unwrap();
            assert_eq!(a.id(), id_a);
            assert_eq!(a.partition_count(), 4);
            assert_eq!(a.config().segment_bytes, 2048);
            assert_eq!(a.partition(1).unwrap().high_watermark(), 2);
            assert_eq!(a.partition(3).unwrap().high_watermark(), 1);
            let held = a.partition(0).unwrap();
            mgr.delete_topic("b-topic").unwrap();
            assert!(mgr.topic("b-topic").is_none());
            assert!(mgr.topic_by_id(id_a).is_none());
            assert!(matches!(
                mgr.delete_topic("b-topic"),
                Err(StorageError::UnknownTopic(_))
            ));
            assert!(matches!(
                held.append(batch(1, 0), 0),
                Err(StorageError::UnknownTopic(_))
            ));
            assert!(!data.join("b-topic-0").exists());
            // Re-creating the name starts from scratch.
            let again = mgr
                .create_topic("b-topic", 1, Uuid::new_v4(), BTreeMap::new(), 0)
                .unwrap();
            assert_eq!(again.partition(0).unwrap().high_watermark(), 0);
            mgr.delete_topic("b-topic").unwrap();
        }
        let mgr = LogManager::open(&data, LogConfig::default(), 0).unwrap();
        let names: Vec<_> = mgr.topics().iter().map(|t| t.name().to_string()).collect();
        assert_eq!(names, ["a-topic"]);
        let mut leftovers: Vec<_> = fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        leftovers.sort();
        assert_eq!(leftovers, [".skiff", "a-topic-0"]);
    }

    #[test]
    fn log_manager_open_cleans_deleted_and_sets_strays_aside() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        {
            let mgr = LogManager::open(data, LogConfig::default(), 0).unwrap();
            mgr.create_topic("keep", 1, Uuid::new_v4(), BTreeMap::new(), 0)
                .unwrap()
                .partition(0)
                .unwrap()
                .append(batch(1, 0), 0)
                .unwrap();
        }
        // A crash mid-delete left a renamed directory; a crash between the
        // metadata removal and the rename left an orphan partition
        // directory; and a directory for a partition the topic lacks.
        fs::create_dir_all(data.join("gone-0.abc.deleted")).unwrap();
        fs::write(
            data.join("gone-0.abc.deleted/00000000000000000000.log"),
            b"x",
        )
        .unwrap();
        fs::create_dir_all(data.join("orphan-0")).unwrap();
        fs::create_dir_all(data.join("keep-5")).unwrap();
        let mgr = LogManager::open(data, LogConfig::default(), 0).unwrap();
        assert!(!data.join("gone-0.abc.deleted").exists());
        assert!(!data.join("orphan-0").exists());
        assert!(!data.join("keep-5").exists());
        let strays = fs::read_dir(data)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_str()
                    .unwrap()
                    .ends_with(".stray")
            })
            .count();
        assert_eq!(strays, 2);
        assert_eq!(
            mgr.topic("keep")
                .unwrap()
                .partition(0)
                .unwrap()
                .high_watermark(),
            1
        );
        drop(mgr);
        // A missing partition directory of a known topic is recreated empty.
        fs::remove_dir_all(data.join("keep-0")).unwrap();
        let mgr = LogManager::open(data, LogConfig::default(), 0).unwrap();
        assert_eq!(
            mgr.topic("keep")
                .unwrap()
                .partition(0)
                .unwrap()
                .high_watermark(),
            0
        );
        assert_eq!(mgr.defaults(), &LogConfig::default());
    }
}
