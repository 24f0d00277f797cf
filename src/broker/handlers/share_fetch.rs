//! ShareFetch (KIP-932, v1–v2): within a share session, applies the
//! piggybacked acknowledgements, then reads each session partition and
//! acquires what it read for the member (records locked for
//! `share.record.lock.duration.ms`), answering the batches with the
//! acquired offset ranges and their delivery counts. `max_records` is a
//! soft limit, as in Kafka: whole record batches are acquired (exact only
//! with ShareAcquireMode RECORD_LIMIT, v2).
//!
//! A v2 request flagged `is_renew_ack` (KIP-1222) only acknowledges: as in
//! Kafka its fetch parameters must be 0 (else INVALID_REQUEST) and nothing
//! is acquired, so a renewal is not delayed by a fetch.
//!
//! Long polling: with nothing to acquire the request waits until a
//! partition is appended to, a record is released, or `max_wait_ms`
//! passes (in slices, so an expiring lock is noticed too).

use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::share_fetch_response::{
    AcquiredRecords, LeaderIdAndEpoch, PartitionData, ShareFetchableTopicResponse,
};
use kafka_protocol::messages::{ShareFetchRequest, ShareFetchResponse};
use kafka_protocol::ResponseError;
use tokio::time::Instant;
use uuid::Uuid;

use super::share_acknowledge::{
    ack_error_code, check_renew, may_read_topic, session_error_code, share_request_ids, PendingAck,
};
use super::str_bytes;
use crate::broker::{storage_error_code, Broker, Session};
use crate::share::{AckBatch, FetchLimits};
use crate::storage::StorageError;

/// Bound on a client-requested wait.
const MAX_WAIT_CAP: Duration = Duration::from_secs(60);
/// Longest single wait, so lock expiry is noticed by a waiting fetch.
const WAIT_SLICE: Duration = Duration::from_millis(250);
/// Kafka's default `max.poll.records`, for a request that names no limit.
const DEFAULT_MAX_RECORDS: usize = 500;

#[derive(Default)]
struct PartitionOut {
    error: Option<ResponseError>,
    ack_error: Option<ResponseError>,
    /// Acknowledgements for it were in the request: answered even when
    /// nothing else is, as Kafka merges the acknowledge results in.
    acked: bool,
    records: Option<Bytes>,
    acquired: Vec<AcquiredRecords>,
}

pub async fn handle(
    broker: &Broker,
    req: ShareFetchRequest,
    _version: i16,
    session: &Session,
) -> ShareFetchResponse {
    let shares = broker.shares();
    let top = |code: ResponseError, message: &str| {
        ShareFetchResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message)))
    };
    let (group_id, member_id) = match share_request_ids(
        broker,
        req.group_id.as_ref().map(|g| g.as_str()),
        req.member_id.as_ref().map(|m| m.as_str()),
    ) {
        Ok(ids) => ids,
        Err((code, message)) => return top(code, message),
    };
    // ShareAcquireMode (v2): 0 batch_optimized (v1's only mode), 1
    // record_limit; checked before the share session moves.
    let record_limit = match req.share_acquire_mode {
        0 => false,
        1 => true,
        _ => return top(ResponseError::InvalidRequest, "Unknown share acquire mode."),
    };
    let renew_only = req.is_renew_ack;
    if renew_only
        && (req.max_bytes != 0
            || req.min_bytes != 0
            || req.max_records != 0
            || req.max_wait_ms != 0)
    {
        return top(
            ResponseError::InvalidRequest,
            "MaxBytes, MinBytes, MaxRecords and MaxWaitMs must be 0 when IsRenewAck is set.",
        );
    }
    let epoch = req.share_session_epoch;
    let mut added = Vec::new();
    let mut acks: Vec<PendingAck> = Vec::new();
    for t in &req.topics {
        for p in &t.partitions {
            added.push((t.topic_id, p.partition_index));
            for b in &p.acknowledgement_batches {
                acks.push(PendingAck {
                    topic_id: t.topic_id,
                    partition: p.partition_index,
                    first: b.first_offset,
                    last: b.last_offset,
                    types: b.acknowledge_types.clone(),
                });
            }
        }
    }
    if epoch == 0 && !acks.is_empty() {
        return top(
            ResponseError::InvalidRequest,
            "Acknowledge data present in the initial ShareFetch request.",
        );
    }
    let forgotten: Vec<(Uuid, i32)> = req
        .forgotten_topics_data
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t.topic_id, *p)))
        .collect();
    let session_partitions = match shares.update_session(
        session.connection_id,
        &group_id,
        &member_id,
        epoch,
        true,
        &added,
        &forgotten,
    ) {
        Ok(p) => p,
        Err(e) => return top(session_error_code(&e), &e.to_string()),
    };
    let mut out: BTreeMap<(Uuid, i32), PartitionOut> = BTreeMap::new();
    // As Kafka: READ on every topic of the request and of the session; a
    // topic without it answers TOPIC_AUTHORIZATION_FAILED per partition and
    // is neither acknowledged nor fetched.
    let mut denied = std::collections::BTreeSet::new();
    let mentioned = session_partitions.iter().chain(&added).map(|(t, _)| *t);
    for topic_id in mentioned.chain(acks.iter().map(|a| a.topic_id)) {
        if !denied.contains(&topic_id) && !may_read_topic(broker, session, topic_id) {
            denied.insert(topic_id);
        }
    }
    for (topic_id, partition) in session_partitions.iter().chain(&added) {
        if denied.contains(topic_id) {
            out.entry((*topic_id, *partition)).or_default().error =
                Some(ResponseError::TopicAuthorizationFailed);
        }
    }
    for b in acks.iter().filter(|b| denied.contains(&b.topic_id)) {
        let entry = out.entry((b.topic_id, b.partition)).or_default();
        entry.error = Some(ResponseError::TopicAuthorizationFailed);
    }
    let session_partitions: Vec<(Uuid, i32)> = session_partitions
        .into_iter()
        .filter(|(t, _)| !denied.contains(t))
        .collect();
    for b in acks.iter().filter(|b| !denied.contains(&b.topic_id)) {
        out.entry((b.topic_id, b.partition)).or_default().acked = true;
        if let Err(e) = check_renew(&b.types, req.is_renew_ack) {
            let entry = out.entry((b.topic_id, b.partition)).or_default();
            entry.ack_error.get_or_insert(e);
            continue;
        }
        let batch = AckBatch {
            first: b.first,
            last: b.last,
            types: &b.types,
        };
        let result = shares.acknowledge(&group_id, &member_id, b.topic_id, b.partition, batch);
        let entry = out.entry((b.topic_id, b.partition)).or_default();
        if let Err(e) = result {
            entry.ack_error.get_or_insert(ack_error_code(&e));
        }
    }
    if epoch == -1 {
        // The final request of a session: acknowledgements only.
        shares.close_session(&group_id, &member_id);
        return response(broker, &group_id, out);
    }
    if renew_only {
        // Acknowledgements only: a fetch could outlast the renewed lock.
        return response(broker, &group_id, out);
    }
    let max_records = usize::try_from(req.max_records)
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_RECORDS);
    let batch_size = usize::try_from(req.batch_size)
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(max_records);
    let max_bytes = usize::try_from(req.max_bytes)
        .unwrap_or(0)
        .min(broker.config().fetch_max_bytes)
        .max(1);
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0)).min(MAX_WAIT_CAP);
    let deadline = Instant::now() + wait;
    loop {
        // Subscribed before reading, so an append in between is not missed.
        let mut wakeups = Vec::new();
        for (topic_id, partition) in &session_partitions {
            if let Some(log) = broker
                .logs()
                .topic_by_id(*topic_id)
                .and_then(|t| t.partition(*partition))
            {
                wakeups.push(log.subscribe());
            }
        }
        let released = shares.release_notify().notified();
        tokio::pin!(released);
        // Registers interest now: a release during the reads below wakes us.
        released.as_mut().enable();
        let mut records_left = max_records;
        let mut bytes_left = max_bytes;
        let mut any = false;
        for (topic_id, partition) in &session_partitions {
            if records_left == 0 || bytes_left == 0 {
                break;
            }
            let entry = out.entry((*topic_id, *partition)).or_default();
            let limits = FetchLimits {
                max_records: records_left,
                batch_size,
                record_limit,
                max_bytes: bytes_left,
            };
            match shares.acquire(&group_id, &member_id, *topic_id, *partition, limits) {
                Ok(a) if !a.ranges.is_empty() => {
                    any = true;
                    let n: i64 = a.ranges.iter().map(|r| r.last - r.first + 1).sum();
                    records_left = records_left.saturating_sub(usize::try_from(n).unwrap_or(0));
                    bytes_left = bytes_left.saturating_sub(a.records.len());
                    entry.acquired = a
                        .ranges
                        .iter()
                        .map(|r| {
                            AcquiredRecords::default()
                                .with_first_offset(r.first)
                                .with_last_offset(r.last)
                                .with_delivery_count(r.delivery_count)
                        })
                        .collect();
                    entry.records = Some(a.records);
                }
                Ok(_) => {}
                Err(StorageError::UnknownTopic(_)) => {
                    entry.error = Some(ResponseError::UnknownTopicOrPartition)
                }
                Err(e) => entry.error = Some(storage_error_code(&e)),
            }
        }
        let now = Instant::now();
        if any || now >= deadline || out.values().any(|p| p.error.is_some()) {
            return response(broker, &group_id, out);
        }
        let slice = (deadline - now).min(WAIT_SLICE);
        let mut changed: Vec<Pin<Box<_>>> =
            wakeups.iter_mut().map(|w| Box::pin(w.changed())).collect();
        let appended = poll_fn(|cx| {
            for c in changed.iter_mut() {
                if c.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        });
        tokio::select! {
            _ = appended => {}
            _ = released => {}
            _ = tokio::time::sleep(slice) => {}
        }
    }
}

fn response(
    broker: &Broker,
    group_id: &str,
    out: BTreeMap<(Uuid, i32), PartitionOut>,
) -> ShareFetchResponse {
    let mut topics: BTreeMap<Uuid, Vec<PartitionData>> = BTreeMap::new();
    for ((topic_id, partition), p) in out {
        if p.error.is_none() && p.ack_error.is_none() && !p.acked && p.acquired.is_empty() {
            // Nothing to say about this partition; the client keeps it in its session.
            continue;
        }
        let leader = if p.error == Some(ResponseError::UnknownTopicOrPartition) {
            LeaderIdAndEpoch::default()
                .with_leader_id(-1)
                .with_leader_epoch(-1)
        } else {
            LeaderIdAndEpoch::default()
                .with_leader_id(broker.node_id())
                .with_leader_epoch(0)
        };
        topics.entry(topic_id).or_default().push(
            PartitionData::default()
                .with_partition_index(partition)
                .with_error_code(p.error.map_or(0, |e| e.code()))
                .with_error_message(p.error.map(|e| str_bytes(e.to_string())))
                .with_acknowledge_error_code(p.ack_error.map_or(0, |e| e.code()))
                .with_acknowledge_error_message(p.ack_error.map(|e| str_bytes(e.to_string())))
                .with_current_leader(leader)
                .with_records(Some(p.records.unwrap_or_default()))
                .with_acquired_records(p.acquired),
        );
    }
    ShareFetchResponse::default()
        .with_acquisition_lock_timeout_ms(
            i32::try_from(broker.shares().lock_duration_ms(group_id)).unwrap_or(i32::MAX),
        )
        .with_responses(
            topics
                .into_iter()
                .map(|(topic_id, partitions)| {
                    ShareFetchableTopicResponse::default()
                        .with_topic_id(topic_id)
                        .with_partitions(partitions)
                })
                .collect(),
        )
}
