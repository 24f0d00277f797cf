//! Fetch: whole record batches straight from the log, never decoded.
//! `read_committed` (isolation level 1) stops at the last stable offset and
//! lists the aborted transactions in range, so clients drop their batches.
//!
//! Long polling: when fewer than `min_bytes` are available the handler waits
//! on the partitions' append notifications (subscribed *before* reading, so
//! an append between the read and the wait is not missed) until enough data
//! arrived or `max_wait_ms` passed. No timers poll the log.
//!
//! Fetch v0–3 read legacy message sets: v0–1 magic 0, v2–3 magic 1. The
//! stored v2 batches are down-converted per partition
//! (`record::down_convert`, as Kafka 3.x's `RecordsUtil.downConvert`):
//! control batches dropped, headers lost, compressed batches re-compressed
//! with their codec, zstd answered UNSUPPORTED_COMPRESSION_TYPE. Sizes
//! (`min_bytes`, `max_bytes`, `partition_max_bytes`) count converted bytes,
//! and a partition's message set holds whole messages only.
//!
//! Fetch sessions (KIP-227) are declined by always answering session id 0,
//! which every client treats as "keep sending full fetches".

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::FetchTopic;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse, ProducerId};
use kafka_protocol::ResponseError;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::debug;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{storage_error_code, Broker, Session};
use crate::record::{decompression_limit, down_convert, fetch_magic, RecordError};
use crate::storage::{Isolation, Log, ReadResult, StorageError, Topic};

/// Bound on a client-requested wait, so a misbehaving client cannot park a
/// connection for hours.
const MAX_WAIT_CAP: Duration = Duration::from_secs(60);

pub async fn handle(
    broker: &Broker,
    req: FetchRequest,
    version: i16,
    session: &Session,
) -> FetchResponse {
    if version >= 7 {
        if req.session_id != 0 {
            return FetchResponse::default()
                .with_error_code(ResponseError::FetchSessionIdNotFound.code());
        }
        if req.session_epoch > 0 {
            return FetchResponse::default()
                .with_error_code(ResponseError::InvalidFetchSessionEpoch.code());
        }
    }
    // A follower's fetch (replica id >= 0) needs CLUSTER_ACTION instead of
    // READ on each topic, as in Kafka; Skiff has no followers, but a tool
    // that fetches as one gets the same answers.
    let from_follower = req.replica_id.0 >= 0 || req.replica_state.replica_id.0 >= 0;
    let cluster_action =
        from_follower && broker.authorize_cluster(session, AclOperation::ClusterAction);
    let topics: Vec<(FetchTopic, Result<Arc<Topic>, ResponseError>)> = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = if version >= 13 {
                broker
                    .logs()
                    .topic_by_id(t.topic_id)
                    .ok_or(ResponseError::UnknownTopicId)
            } else {
                broker
                    .logs()
                    .topic(&t.topic)
                    .ok_or(ResponseError::UnknownTopicOrPartition)
            };
            let name = topic.as_ref().map_or(t.topic.as_str(), |t| t.name());
            let readable = cluster_action
                || (!from_follower
                    && broker.authorize(session, AclOperation::Read, ResourceType::Topic, name));
            let topic = match topic {
                // An unknown id reveals nothing; a name is checked before its existence.
                Err(ResponseError::UnknownTopicId) => Err(ResponseError::UnknownTopicId),
                _ if !readable => Err(ResponseError::TopicAuthorizationFailed),
                other => other,
            };
            (t, topic)
        })
        .collect();

    let max_wait = Duration::from_millis(req.max_wait_ms.max(0) as u64).min(MAX_WAIT_CAP);
    let deadline = Instant::now() + max_wait;
    let min_bytes = req.min_bytes.max(0) as usize;
    // The broker's fetch.max.bytes bounds what a client may make us read into memory.
    let max_bytes = (req.max_bytes.max(0) as usize).min(broker.config().fetch_max_bytes);
    let read_committed = version >= 4 && req.isolation_level == 1;
    // A fetch naming no partition (the Java consumer's session-closing fetch
    // on close) is answered at once, as Kafka's ReplicaManager does: nothing
    // it waits for can arrive.
    let names_partitions = topics.iter().any(|(t, _)| !t.partitions.is_empty());

    loop {
        let may_wait = names_partitions && min_bytes > 0 && Instant::now() < deadline;
        let mut wakeups = Vec::new();
        if may_wait {
            for (t, topic) in &topics {
                if let Ok(topic) = topic {
                    for p in &t.partitions {
                        if let Some(log) = topic.partition(p.partition) {
                            wakeups.push(log.subscribe());
                        }
                    }
                }
            }
        }
        let (responses, bytes, any_error) = read_all(&topics, version, max_bytes, read_committed);
        if !may_wait || any_error || bytes >= min_bytes {
            return FetchResponse::default().with_responses(responses);
        }
        if !wait_any(&mut wakeups, deadline).await {
            // Deadline passed: answer with whatever is there now.
            let (responses, _, _) = read_all(&topics, version, max_bytes, read_committed);
            return FetchResponse::default().with_responses(responses);
        }
    }
}

/// Waits until one of `wakeups` sees an append or `deadline` passes. Returns
/// false on the deadline.
async fn wait_any(wakeups: &mut [watch::Receiver<i64>], deadline: Instant) -> bool {
    if wakeups.is_empty() {
        tokio::time::sleep_until(deadline).await;
        return false;
    }
    let mut changed: Vec<Pin<Box<_>>> = wakeups.iter_mut().map(|w| Box::pin(w.changed())).collect();
    let any = poll_fn(|cx| {
        for c in changed.iter_mut() {
            if c.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    });
    tokio::time::timeout_at(deadline, any).await.is_ok()
}

/// Reads every requested partition once. Returns the responses, the bytes
/// gathered, and whether any partition errored (errors answer at once).
fn read_all(
    topics: &[(FetchTopic, Result<Arc<Topic>, ResponseError>)],
    version: i16,
    max_bytes: usize,
    read_committed: bool,
) -> (Vec<FetchableTopicResponse>, usize, bool) {
    let mut total = 0usize;
    let mut any_error = false;
    let responses = topics
        .iter()
        .map(|(t, topic)| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let empty = PartitionData::default()
                        .with_partition_index(p.partition)
                        .with_high_watermark(-1)
                        .with_last_stable_offset(-1)
                        .with_log_start_offset(-1)
                        .with_preferred_read_replica((-1).into())
                        .with_records(Some(Bytes::new()))
                        .with_aborted_transactions(read_committed.then(Vec::new));
                    let topic = match topic {
                        Ok(topic) => topic,
                        Err(code) => {
                            any_error = true;
                            return empty.with_error_code(code.code());
                        }
                    };
                    let Some(log) = topic.partition(p.partition) else {
                        any_error = true;
                        return empty
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    if p.current_leader_epoch > 0 {
                        any_error = true;
                        return watermarks(empty, &log)
                            .with_error_code(ResponseError::UnknownLeaderEpoch.code());
                    }
                    let limit = (p.partition_max_bytes.max(0) as usize)
                        .min(max_bytes.saturating_sub(total));
                    // KIP-74: the first batch of the first partition with data is
                    // returned whole even when it exceeds the limits, so a
                    // consumer can always make progress.
                    let min_one = total == 0;
                    let isolation = if read_committed {
                        Isolation::ReadCommitted
                    } else {
                        Isolation::ReadUncommitted
                    };
                    let read = log
                        .read(p.fetch_offset, limit, min_one, isolation)
                        .map_err(FetchError::from)
                        .and_then(|read| {
                            legacy_read(&log, read, version, p.fetch_offset, limit, min_one)
                        });
                    match read {
                        Ok(read) => {
                            total += read.records.len();
                            crate::metrics::global().record_fetch(
                                topic.name(),
                                read.records.len(),
                                read.record_count,
                            );
                            let aborted = read_committed.then(|| {
                                read.aborted
                                    .iter()
                                    .map(|a| {
                                        AbortedTransaction::default()
                                            .with_producer_id(ProducerId(a.producer_id))
                                            .with_first_offset(a.first_offset)
                                    })
                                    .collect()
                            });
                            empty
                                .with_high_watermark(read.high_watermark)
                                .with_last_stable_offset(read.last_stable_offset)
                                .with_log_start_offset(read.log_start_offset)
                                .with_aborted_transactions(aborted)
                                .with_records(Some(read.records))
                        }
                        Err(FetchError::Unconvertible(e)) => {
                            any_error = true;
                            debug!(topic = topic.name(), partition = p.partition, error = %e, "down-conversion refused");
                            watermarks(empty, &log)
                                .with_error_code(ResponseError::UnsupportedCompressionType.code())
                        }
                        Err(FetchError::Storage(e)) => {
                            any_error = true;
                            let code = match e {
                                StorageError::OffsetOutOfRange { .. } => {
                                    ResponseError::OffsetOutOfRange
                                }
                                ref other => storage_error_code(other),
                            };
                            watermarks(empty, &log).with_error_code(code.code())
                        }
                    }
                })
                .collect();
            let mut response = FetchableTopicResponse::default().with_partitions(partitions);
            if version >= 13 {
                response.topic_id = t.topic_id;
            } else {
                response.topic = t.topic.clone();
            }
            response
        })
        .collect();
    (responses, total, any_error)
}

/// Why a partition's read failed.
enum FetchError {
    /// The log could not be read.
    Storage(StorageError),
    /// The data exists but the legacy format cannot carry it (zstd).
    Unconvertible(RecordError),
}

impl From<StorageError> for FetchError {
    fn from(e: StorageError) -> Self {
        FetchError::Storage(e)
    }
}

/// A partition's read as the response carries it.
struct PartitionRead {
    records: Bytes,
    record_count: u64,
    high_watermark: i64,
    last_stable_offset: i64,
    log_start_offset: i64,
    aborted: Vec<crate::storage::AbortedTxn>,
}

/// The read as Fetch `version` must return it: the stored v2 batches for
/// v4+, a down-converted message set of the version's magic for v0–3
/// (whole messages, at most `limit` bytes unless `min_one`).
fn legacy_read(
    log: &Log,
    read: ReadResult,
    version: i16,
    fetch_offset: i64,
    limit: usize,
    min_one: bool,
) -> Result<PartitionRead, FetchError> {
    let Some(magic) = fetch_magic(version) else {
        let record_count = crate::record::BatchIter::headers_only(&read.records)
            .flatten()
            .map(|(_, h)| h.record_count.max(0) as u64)
            .sum();
        return Ok(PartitionRead {
            records: read.records,
            record_count,
            high_watermark: read.high_watermark,
            last_stable_offset: read.last_stable_offset,
            log_start_offset: read.log_start_offset,
            aborted: read.aborted,
        });
    };
    let (records, record_count) = if read.records.is_empty() {
        (Bytes::new(), 0)
    } else {
        let inflate = decompression_limit(log.config().max_message_bytes);
        match down_convert(&read.records, magic, fetch_offset, limit, min_one, inflate) {
            Ok(c) => (Bytes::from(c.bytes), c.records),
            Err(e @ RecordError::UnsupportedCompression { .. }) => {
                return Err(FetchError::Unconvertible(e))
            }
            Err(e) => return Err(FetchError::Storage(StorageError::Record(e))),
        }
    };
    Ok(PartitionRead {
        records,
        record_count,
        high_watermark: read.high_watermark,
        last_stable_offset: read.last_stable_offset,
        log_start_offset: read.log_start_offset,
        aborted: read.aborted,
    })
}

fn watermarks(p: PartitionData, log: &Log) -> PartitionData {
    let hw = log.high_watermark();
    p.with_high_watermark(hw)
        .with_last_stable_offset(log.last_stable_offset())
        .with_log_start_offset(log.log_start_offset())
}
