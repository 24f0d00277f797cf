//! ShareAcknowledge (KIP-932, v1–v2): acknowledgements outside a fetch
//! (ACCEPT, RELEASE, REJECT, and RENEW from v2), within the member's share
//! session; epoch -1 also closes the session, releasing what it still holds.
//! RENEW is accepted only in a request flagged `is_renew_ack`, as in Kafka.

use std::collections::BTreeMap;

use kafka_protocol::messages::share_acknowledge_response::{
    LeaderIdAndEpoch, PartitionData, ShareAcknowledgeTopicResponse,
};
use kafka_protocol::messages::{ShareAcknowledgeRequest, ShareAcknowledgeResponse};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};
use crate::share::{AckBatch, AckError, SessionError};

/// One acknowledgement batch of a request.
pub struct PendingAck {
    pub topic_id: Uuid,
    pub partition: i32,
    pub first: i64,
    pub last: i64,
    pub types: Vec<i8>,
}

pub fn session_error_code(e: &SessionError) -> ResponseError {
    match e {
        SessionError::NotFound => ResponseError::ShareSessionNotFound,
        SessionError::InvalidEpoch { .. } => ResponseError::InvalidShareSessionEpoch,
        SessionError::LimitReached => ResponseError::ShareSessionLimitReached,
    }
}

/// Kafka's rule (KIP-1222) for a RENEW acknowledgement: only in a request
/// flagged `is_renew_ack` (v2+; a v1 request never is), else the batch is
/// refused with INVALID_REQUEST and not applied.
pub fn check_renew(types: &[i8], is_renew_ack: bool) -> Result<(), ResponseError> {
    if !is_renew_ack && types.contains(&ACK_TYPE_RENEW) {
        return Err(ResponseError::InvalidRequest);
    }
    Ok(())
}

/// AcknowledgeType RENEW (KIP-1222).
const ACK_TYPE_RENEW: i8 = 4;

pub fn ack_error_code(e: &AckError) -> ResponseError {
    match e {
        AckError::InvalidRecordState(_) => ResponseError::InvalidRecordState,
        AckError::InvalidRequest(_) => ResponseError::InvalidRequest,
    }
}

/// The group and member ids a ShareFetch or ShareAcknowledge must carry, or
/// the top-level error Kafka answers (disabled share groups, missing ids,
/// INVALID_REQUEST for an empty member id or one longer than 36 characters).
///
/// As in Kafka 4.2, membership of the group is not checked: the share
/// session is keyed by (group, member id) alone, so an id the group
/// coordinator does not know opens a session with epoch 0 and fetches, and
/// any other epoch without a session is SHARE_SESSION_NOT_FOUND.
pub fn share_request_ids(
    broker: &Broker,
    group_id: Option<&str>,
    member_id: Option<&str>,
) -> Result<(String, String), (ResponseError, &'static str)> {
    if !broker.shares().enabled() {
        return Err((
            ResponseError::UnsupportedVersion,
            "Share groups are disabled.",
        ));
    }
    match (group_id, member_id) {
        (Some(g), Some(m)) if !g.is_empty() && is_valid_member_id(m) => {
            Ok((g.to_string(), m.to_string()))
        }
        (Some(g), Some(_)) if !g.is_empty() => Err((
            ResponseError::InvalidRequest,
            "Invalid member id in the request.",
        )),
        _ => Err((
            ResponseError::InvalidRequest,
            "GroupId and MemberId are required.",
        )),
    }
}

/// Kafka's rule for the member id of a share request: not empty and at most
/// 36 characters (a UUID's string form).
fn is_valid_member_id(member_id: &str) -> bool {
    !member_id.is_empty() && member_id.chars().count() <= 36
}

/// Whether the session may READ the topic `topic_id` (what a share consumer
/// needs on each topic it fetches or acknowledges). An unknown id is let
/// through: it is answered UNKNOWN_TOPIC_OR_PARTITION by the read.
pub fn may_read_topic(broker: &Broker, session: &Session, topic_id: Uuid) -> bool {
    match broker.logs().topic_by_id(topic_id) {
        Some(t) => broker.authorize(session, AclOperation::Read, ResourceType::Topic, t.name()),
        None => true,
    }
}

pub fn handle(
    broker: &Broker,
    req: ShareAcknowledgeRequest,
    _version: i16,
    session: &Session,
) -> ShareAcknowledgeResponse {
    let shares = broker.shares();
    let top = |code: ResponseError, message: &str| {
        ShareAcknowledgeResponse::default()
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
    let epoch = req.share_session_epoch;
    if let Err(e) = shares.update_session(
        session.connection_id,
        &group_id,
        &member_id,
        epoch,
        false,
        &[],
        &[],
    ) {
        return top(session_error_code(&e), &e.to_string());
    }
    let mut results: BTreeMap<Uuid, Vec<PartitionData>> = BTreeMap::new();
    for t in &req.topics {
        let authorized = may_read_topic(broker, session, t.topic_id);
        for p in &t.partitions {
            let mut error: Option<ResponseError> =
                (!authorized).then_some(ResponseError::TopicAuthorizationFailed);
            for b in p.acknowledgement_batches.iter().filter(|_| authorized) {
                if let Err(e) = check_renew(&b.acknowledge_types, req.is_renew_ack) {
                    error.get_or_insert(e);
                    continue;
                }
                if let Err(e) = shares.acknowledge(
                    &group_id,
                    &member_id,
                    t.topic_id,
                    p.partition_index,
                    AckBatch {
                        first: b.first_offset,
                        last: b.last_offset,
                        types: &b.acknowledge_types,
                    },
                ) {
                    error.get_or_insert(ack_error_code(&e));
                }
            }
            results.entry(t.topic_id).or_default().push(
                PartitionData::default()
                    .with_partition_index(p.partition_index)
                    .with_error_code(error.map_or(0, |e| e.code()))
                    .with_error_message(error.map(|e| str_bytes(e.to_string())))
                    .with_current_leader(
                        LeaderIdAndEpoch::default()
                            .with_leader_id(broker.node_id())
                            .with_leader_epoch(0),
                    ),
            );
        }
    }
    if epoch == -1 {
        shares.close_session(&group_id, &member_id);
    }
    ShareAcknowledgeResponse::default()
        .with_acquisition_lock_timeout_ms(
            i32::try_from(shares.lock_duration_ms(&group_id)).unwrap_or(i32::MAX),
        )
        .with_responses(
            results
                .into_iter()
                .map(|(topic_id, partitions)| {
                    ShareAcknowledgeTopicResponse::default()
                        .with_topic_id(topic_id)
                        .with_partitions(partitions)
                })
                .collect(),
        )
}
