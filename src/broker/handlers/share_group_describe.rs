//! ShareGroupDescribe (KIP-932): state, epochs, assignor and members of
//! share groups; an unknown id is GROUP_ID_NOT_FOUND, as in Kafka.

use kafka_protocol::messages::share_group_describe_response::{
    Assignment, DescribedGroup, Member, TopicPartitions,
};
use kafka_protocol::messages::{ShareGroupDescribeRequest, ShareGroupDescribeResponse, TopicName};
use kafka_protocol::ResponseError;

use super::{str_bytes, AUTHORIZED_OPERATIONS_OMITTED};
use crate::broker::Broker;

/// READ 3, DELETE 6, DESCRIBE 8 (no ACLs here).
const ALL_GROUP_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8);

pub fn handle(
    broker: &Broker,
    req: ShareGroupDescribeRequest,
    _version: i16,
) -> ShareGroupDescribeResponse {
    let shares = broker.shares();
    let groups = req
        .group_ids
        .into_iter()
        .map(|id| {
            let base = DescribedGroup::default()
                .with_group_id(id.clone())
                .with_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED);
            let found = if shares.enabled() {
                shares.describe(id.as_str())
            } else {
                None
            };
            let Some(g) = found else {
                return base
                    .with_group_state(str_bytes("Dead"))
                    .with_error_code(ResponseError::GroupIdNotFound.code())
                    .with_error_message(Some(str_bytes(format!(
                        "Group {} not found.",
                        id.as_str()
                    ))));
            };
            let name_of = |topic_id| {
                broker
                    .logs()
                    .topic_by_id(topic_id)
                    .map(|t| t.name().to_string())
                    .unwrap_or_default()
            };
            let members = g
                .members
                .values()
                .map(|m| {
                    let assignment = Assignment::default().with_topic_partitions(
                        m.assignment
                            .iter()
                            .map(|(topic_id, parts)| {
                                TopicPartitions::default()
                                    .with_topic_id(*topic_id)
                                    .with_topic_name(TopicName(str_bytes(name_of(*topic_id))))
                                    .with_partitions(parts.iter().copied().collect())
                            })
                            .collect(),
                    );
                    Member::default()
                        .with_member_id(str_bytes(m.member_id.clone()))
                        .with_rack_id(m.rack_id.clone().map(str_bytes))
                        .with_member_epoch(m.member_epoch)
                        .with_client_id(str_bytes(m.client_id.clone()))
                        .with_client_host(str_bytes(m.client_host.clone()))
                        .with_subscribed_topic_names(
                            m.subscribed_topics
                                .iter()
                                .map(|t| TopicName(str_bytes(t.clone())))
                                .collect(),
                        )
                        .with_assignment(assignment)
                })
                .collect();
            base.with_group_state(str_bytes(g.state()))
                .with_group_epoch(g.group_epoch)
                .with_assignment_epoch(g.assignment_epoch)
                .with_assignor_name(str_bytes("simple"))
                .with_members(members)
                .with_authorized_operations(if req.include_authorized_operations {
                    ALL_GROUP_OPERATIONS
                } else {
                    AUTHORIZED_OPERATIONS_OMITTED
                })
        })
        .collect();
    ShareGroupDescribeResponse::default().with_groups(groups)
}
