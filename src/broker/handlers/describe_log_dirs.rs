//! DescribeLogDirs: Skiff has one log dir (`log.dirs`); every partition is
//! in it. Sizes are the partitions' segment bytes; v4 adds the file
//! system's total and usable bytes (statvfs). Requested topics or
//! partitions that do not exist are left out, as Kafka does. v0 (removed in
//! Kafka 4.0 by KIP-896) is v1 without the throttle time.

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};

use super::str_bytes;
use kafka_protocol::ResponseError;

use crate::acl::AclOperation;
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DescribeLogDirsRequest,
    _version: i16,
    session: &Session,
) -> DescribeLogDirsResponse {
    if !broker.authorize_cluster(session, AclOperation::Describe) {
        return DescribeLogDirsResponse::default()
            .with_error_code(ResponseError::ClusterAuthorizationFailed.code());
    }
    let logs = broker.logs();
    let wanted: Vec<(std::sync::Arc<crate::storage::Topic>, Option<Vec<i32>>)> = match req.topics {
        None => logs.topics().into_iter().map(|t| (t, None)).collect(),
        Some(ts) => ts
            .into_iter()
            .filter_map(|t| {
                logs.topic(&t.topic)
                    .map(|topic| (topic, Some(t.partitions)))
            })
            .collect(),
    };
    let topics = wanted
        .into_iter()
        .map(|(topic, parts)| {
            let partitions = topic
                .partitions()
                .iter()
                .enumerate()
                .filter(|(i, _)| parts.as_ref().is_none_or(|ps| ps.contains(&(*i as i32))))
                .map(|(i, log)| {
                    DescribeLogDirsPartition::default()
                        .with_partition_index(i as i32)
                        .with_partition_size(log.size_bytes() as i64)
                        .with_offset_lag(0)
                        .with_is_future_key(false)
                })
                .collect();
            DescribeLogDirsTopic::default()
                .with_name(TopicName(str_bytes(topic.name())))
                .with_partitions(partitions)
        })
        .collect();
    let dir = logs.data_dir();
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let (total, usable) = logs
        .disk_space()
        .map_or((-1, -1), |(t, u)| (t as i64, u as i64));
    let result = DescribeLogDirsResult::default()
        .with_error_code(0)
        .with_log_dir(str_bytes(dir.display().to_string()))
        .with_topics(topics)
        .with_total_bytes(total)
        .with_usable_bytes(usable);
    DescribeLogDirsResponse::default().with_results(vec![result])
}
