//! ListOffsets: earliest, latest, max-timestamp and by-timestamp look-ups.
//! Under `read_committed` (isolation level 1, v2+) nothing at or past the
//! last stable offset is answered: "latest" is the LSO, as in Kafka.
//!
//! v0 (removed in Kafka 4.0 by KIP-896) answers as Kafka 3.9 did: a list of
//! up to `max_num_offsets` segment-granular offsets (`old_style_offsets`, see
//! `Log::legacy_offsets_before`) instead of one offset and timestamp; of the
//! negative timestamps only latest and earliest exist.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ResponseError;

use crate::acl::{AclOperation, ResourceType};
use crate::broker::{storage_error_code, Broker, Session};
use crate::storage::Log;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3; // v7+
const EARLIEST_LOCAL: i64 = -4; // v8+, KIP-405
const LATEST_TIERED: i64 = -5; // v9+, KIP-1005

pub fn handle(
    broker: &Broker,
    req: ListOffsetsRequest,
    version: i16,
    session: &Session,
) -> ListOffsetsResponse {
    let read_committed = version >= 2 && req.isolation_level == 1;
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = broker.logs().topic(&t.name);
            let denied = !broker.authorize(
                session,
                AclOperation::Describe,
                ResourceType::Topic,
                &t.name,
            );
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(-1);
                    if denied {
                        return base
                            .with_error_code(ResponseError::TopicAuthorizationFailed.code());
                    }
                    let log = topic.as_ref().and_then(|t| t.partition(p.partition_index));
                    let Some(log) = log else {
                        return base.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    if version == 0 {
                        if p.timestamp < EARLIEST {
                            return base.with_error_code(ResponseError::UnsupportedVersion.code());
                        }
                        return base.with_old_style_offsets(log.legacy_offsets_before(
                            p.timestamp,
                            p.max_num_offsets,
                            broker.now_ms(),
                        ));
                    }
                    if p.current_leader_epoch > 0 {
                        return base.with_error_code(ResponseError::UnknownLeaderEpoch.code());
                    }
                    match lookup(&log, p.timestamp, version, read_committed) {
                        Ok(Some((offset, timestamp))) => base
                            .with_offset(offset)
                            .with_timestamp(timestamp)
                            // The field exists from v4; the codec refuses it before.
                            .with_leader_epoch(if version >= 4 { 0 } else { -1 }),
                        Ok(None) => base,
                        Err(code) => base.with_error_code(code.code()),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// The (offset, timestamp) answering `timestamp`, `None` for "no such offset".
fn lookup(
    log: &Log,
    timestamp: i64,
    version: i16,
    read_committed: bool,
) -> Result<Option<(i64, i64)>, ResponseError> {
    let last_fetchable = if read_committed {
        log.last_stable_offset()
    } else {
        log.high_watermark()
    };
    let found = match timestamp {
        LATEST => return Ok(Some((last_fetchable, -1))),
        EARLIEST => return Ok(Some((log.log_start_offset(), -1))),
        MAX_TIMESTAMP if version >= 7 => log.max_timestamp(),
        // Everything is local: the earliest local offset is the log start.
        EARLIEST_LOCAL if version >= 8 => return Ok(Some((log.log_start_offset(), -1))),
        // Nothing is tiered.
        LATEST_TIERED if version >= 9 => None,
        t if t < 0 => return Err(ResponseError::UnsupportedVersion),
        t => log
            .offset_for_timestamp(t)
            .map_err(|e| storage_error_code(&e))?,
    };
    Ok(found.filter(|(offset, _)| *offset < last_fetchable))
}
