//! What OffsetCommit and TxnOffsetCommit share: deciding per partition
//! whether the handler answers itself (unknown partition, a refusal that
//! covers the whole request) or the group coordinator decides, and putting
//! the coordinator's answers back in request order.

use kafka_protocol::ResponseError;

use crate::broker::error_code::group_error_code;
use crate::broker::Broker;
use crate::group::coordinator::CommitOffset;
use crate::group::GroupError;

/// One requested partition, protocol-neutral.
pub struct RequestedOffset<'a> {
    /// Index of its topic in the request.
    pub topic_index: usize,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<&'a str>,
    /// OffsetCommit v1's explicit commit time (`None`: now).
    pub commit_timestamp_ms: Option<i64>,
}

/// Per partition, in request order: an answer decided here, or `None`
/// (the coordinator's next answer).
pub struct CommitPlan {
    slots: Vec<(usize, i32, Option<i16>)>,
}

/// Splits `requested` into the plan and the offsets to hand the
/// coordinator. `refused` answers every partition (an authorization failure
/// of the whole request); partitions of topics `may_read` refuses get
/// TOPIC_AUTHORIZATION_FAILED, unknown ones UNKNOWN_TOPIC_OR_PARTITION.
pub fn plan<'a>(
    broker: &Broker,
    requested: impl IntoIterator<Item = RequestedOffset<'a>>,
    refused: Option<ResponseError>,
    may_read: impl Fn(&str) -> bool,
) -> (CommitPlan, Vec<CommitOffset>) {
    let mut slots = Vec::new();
    let mut offsets = Vec::new();
    for r in requested {
        if let Some(code) = refused {
            slots.push((r.topic_index, r.partition, Some(code.code())));
            continue;
        }
        if !may_read(r.topic) {
            let code = ResponseError::TopicAuthorizationFailed.code();
            slots.push((r.topic_index, r.partition, Some(code)));
            continue;
        }
        let exists = broker
            .logs()
            .topic(r.topic)
            .is_some_and(|k| r.partition >= 0 && r.partition < k.partition_count());
        if !exists {
            let code = ResponseError::UnknownTopicOrPartition.code();
            slots.push((r.topic_index, r.partition, Some(code)));
            continue;
        }
        slots.push((r.topic_index, r.partition, None));
        offsets.push(CommitOffset {
            topic: r.topic.to_string(),
            partition: r.partition,
            offset: r.offset,
            leader_epoch: r.leader_epoch,
            metadata: r.metadata.map(str::to_string),
            commit_timestamp_ms: r.commit_timestamp_ms,
        });
    }
    (CommitPlan { slots }, offsets)
}

impl CommitPlan {
    /// (topic index, partition, error code) for every requested partition,
    /// in request order, given one code per offset [`plan`] handed the
    /// coordinator.
    pub fn answers(self, codes: Vec<i16>) -> impl Iterator<Item = (usize, i32, i16)> {
        let mut codes = codes.into_iter();
        self.slots.into_iter().map(move |(t, partition, decided)| {
            let code = decided.unwrap_or_else(|| {
                codes
                    .next()
                    .unwrap_or(ResponseError::UnknownServerError.code())
            });
            (t, partition, code)
        })
    }
}

/// The wire codes of the coordinator's per-offset answers.
pub fn group_codes(results: &[Result<(), GroupError>]) -> Vec<i16> {
    results
        .iter()
        .map(|r| r.as_ref().err().map_or(0, |e| group_error_code(e).code()))
        .collect()
}
