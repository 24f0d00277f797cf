//! Request metrics: latency per API and the error codes each response carries
//! (Kafka's `RequestMetrics` "errors" counts every error code in a response,
//! NONE included). Reading error codes walks the already-built response
//! struct: no encoding, no record decoding.

use std::time::Instant;

use kafka_protocol::messages::{ApiKey, ResponseKind};

use crate::metrics;

/// Records one answered request: its latency and the error codes of `body`.
pub(crate) fn record(api_key: ApiKey, started: Instant, body: Option<&ResponseKind>) {
    let m = metrics::global();
    let key = api_key as i16;
    m.record_request(key, started.elapsed());
    if let Some(body) = body {
        for_each_error_code(body, |code| m.record_error_code(key, code));
    }
}

/// Calls `f` with every error code in `body` (top-level, per topic, per
/// partition) for the APIs clients use most; other APIs report none.
fn for_each_error_code(body: &ResponseKind, mut f: impl FnMut(i16)) {
    match body {
        ResponseKind::Produce(r) => r
            .responses
            .iter()
            .flat_map(|t| &t.partition_responses)
            .for_each(|p| f(p.error_code)),
        ResponseKind::Fetch(r) => {
            f(r.error_code);
            r.responses
                .iter()
                .flat_map(|t| &t.partitions)
                .for_each(|p| f(p.error_code));
        }
        ResponseKind::ListOffsets(r) => r
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .for_each(|p| f(p.error_code)),
        ResponseKind::Metadata(r) => r.topics.iter().for_each(|t| f(t.error_code)),
        ResponseKind::OffsetCommit(r) => r
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .for_each(|p| f(p.error_code)),
        ResponseKind::OffsetFetch(r) => {
            f(r.error_code);
            r.topics
                .iter()
                .flat_map(|t| &t.partitions)
                .for_each(|p| f(p.error_code));
            r.groups.iter().for_each(|g| f(g.error_code));
        }
        ResponseKind::FindCoordinator(r) => {
            if r.coordinators.is_empty() {
                f(r.error_code)
            } else {
                r.coordinators.iter().for_each(|c| f(c.error_code))
            }
        }
        ResponseKind::JoinGroup(r) => f(r.error_code),
        ResponseKind::SyncGroup(r) => f(r.error_code),
        ResponseKind::Heartbeat(r) => f(r.error_code),
        ResponseKind::LeaveGroup(r) => f(r.error_code),
        ResponseKind::DescribeGroups(r) => r.groups.iter().for_each(|g| f(g.error_code)),
        ResponseKind::ListGroups(r) => f(r.error_code),
        ResponseKind::ApiVersions(r) => f(r.error_code),
        ResponseKind::InitProducerId(r) => f(r.error_code),
        ResponseKind::CreateTopics(r) => r.topics.iter().for_each(|t| f(t.error_code)),
        ResponseKind::DeleteTopics(r) => r.responses.iter().for_each(|t| f(t.error_code)),
        ResponseKind::DeleteGroups(r) => r.results.iter().for_each(|g| f(g.error_code)),
        ResponseKind::DescribeCluster(r) => f(r.error_code),
        _ => {}
    }
}
