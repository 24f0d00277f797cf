//! Partition logs on local disk: segments, indexes, recovery, idempotent
//! producer state and topic metadata. The storage layer knows the record
//! batch *format* (`crate::record`) but nothing of requests, responses, API
//! keys or sockets; the broker maps [`StorageError`] to Kafka error codes.
//!
//! Files (see `file_names` for the full layout):
//!
//! ```text
//! <data>/.skiff/topics/<topic>.toml      topic metadata      (topic_store)
//! <data>/<topic>-<p>/<offset:020>.log        batches             (segment)
//! <data>/<topic>-<p>/<offset:020>.index      offset → position   (offset_index)
//! <data>/<topic>-<p>/<offset:020>.timeindex  timestamp → offset  (time_index)
//! <data>/<topic>-<p>/<offset:020>.txnindex   aborted transactions (txn_index)
//! <data>/<topic>-<p>/<offset:020>.snapshot   producer state      (producer_state)
//! ```
//!
//! Modules, after Kafka's storage classes:
//! * `log_manager` (`LogManager`): every partition of the data dir;
//! * `log` (`UnifiedLog`): one partition, its append, read and flush paths,
//!   extended by `txn` (markers, `read`, LSO), `retention` (retention,
//!   DeleteRecords, `run_periodic`), `offset_lookup` (ListOffsets) and
//!   `cleaner` + `cleaner_rewrite` (`LogCleaner`: compaction);
//! * `local_log` (`LocalLog`): the segments and offsets under the partition
//!   lock; `log_flush`: what is durable (group commit, recovery point);
//! * `recovery` (`LogLoader`): loads a partition directory into a
//!   `LocalLog`; `batch_scan` validates a segment file for `segment`
//!   (`LogSegment`); `partition_files`: checkpoints and snapshot files;
//! * `offset_index`/`time_index` on `index_file` (`AbstractIndex`),
//!   `txn_index` (`TransactionIndex` files), `txn_state` (marker format,
//!   LSO rule, aborted transactions), `producer_state`
//!   (`ProducerStateManager`), `log_config` (`LogConfig`), `file_names`
//!   (`LogFileUtils`), `topic_store`, `fs_util`, `error`.
//!
//! Time is always an argument (`now_ms`); nothing here reads the clock.
//! Retention (`retention.ms`/`retention.bytes`, see `retention`),
//! DeleteRecords and compaction (`cleaner`) run from
//! `LogManager::run_periodic`; the write path consults a fault-injection
//! seam (`fault`). Every segment and index file is opened through
//! `file_cache`, which caps the descriptors storage keeps open (lazy open,
//! least recently used closed first).

mod batch_scan;
mod cleaner;
mod cleaner_rewrite;
mod error;
mod fault;
pub mod file_cache;
mod file_names;
mod fs_util;
mod index_file;
mod local_log;
mod log;
mod log_config;
mod log_flush;
mod log_manager;
mod offset_index;
mod offset_lookup;
mod partition_files;
mod producer_state;
mod recovery;
mod retention;
mod segment;
mod time_index;
mod topic_store;
mod txn;
mod txn_index;
mod txn_state;

#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod test_util;

pub use error::StorageError;
pub use log::{flush_logs, AppendInfo, Log, ReadResult};
pub use log_config::{LogConfig, TimestampType};
pub use log_manager::{LogManager, RetentionSchedule, Topic};
pub use txn_index::AbortedTxn;
pub use txn_state::Isolation;
