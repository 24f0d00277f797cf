//! ConsumerGroupDescribe (v0–v1, KIP-848): a consumer group's state,
//! epochs, assignor and members with their current and target
//! assignments. An unknown id, or a group of another type, answers
//! GROUP_ID_NOT_FOUND as Kafka does. v1 adds the member type (1: consumer
//! protocol).

use kafka_protocol::messages::consumer_group_describe_response::{
    Assignment, DescribedGroup, Member, TopicPartitions,
};
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, GroupId, TopicName,
};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::consumer_group_heartbeat::error_message;
use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::error_code::group_error_code;
use crate::broker::{Broker, Session};

/// Authorized operations unknown (the request did not ask, or no ACLs).
const NO_AUTHORIZED_OPERATIONS: i32 = i32::MIN;

/// KIP-1099: the member type of a consumer-protocol member.
const MEMBER_TYPE_CONSUMER: i8 = 1;
/// A member that joined with JoinGroup (online migration, KIP-848).
const MEMBER_TYPE_CLASSIC: i8 = 0;

fn assignment(a: &[(Uuid, String, Vec<i32>)]) -> Assignment {
    Assignment::default().with_topic_partitions(
        a.iter()
            .map(|(id, name, ps)| {
                TopicPartitions::default()
                    .with_topic_id(*id)
                    .with_topic_name(TopicName(str_bytes(name.clone())))
                    .with_partitions(ps.clone())
            })
            .collect(),
    )
}

pub fn handle(
    broker: &Broker,
    req: ConsumerGroupDescribeRequest,
    version: i16,
    session: &Session,
) -> ConsumerGroupDescribeResponse {
    let ids: Vec<String> = req
        .group_ids
        .iter()
        .map(|g| g.as_str().to_string())
        .collect();
    let described = broker
        .groups()
        .consumer_group_describe(&ids, &broker.consumer_group_topics());
    let groups = described
        .into_iter()
        .map(|d| {
            let may_describe = broker.authorize(
                session,
                AclOperation::Describe,
                ResourceType::Group,
                &d.group_id,
            );
            let g = DescribedGroup::default()
                .with_group_id(GroupId(str_bytes(d.group_id)))
                .with_authorized_operations(NO_AUTHORIZED_OPERATIONS);
            if !may_describe {
                return g.with_error_code(ResponseError::GroupAuthorizationFailed.code());
            }
            if let Some(e) = &d.error {
                return g
                    .with_error_code(group_error_code(e).code())
                    .with_error_message(error_message(e));
            }
            g.with_group_state(str_bytes(d.state))
                .with_group_epoch(d.group_epoch)
                .with_assignment_epoch(d.assignment_epoch)
                .with_assignor_name(str_bytes(d.assignor_name))
                .with_members(
                    d.members
                        .iter()
                        .map(|m| {
                            let member = Member::default()
                                .with_member_id(str_bytes(m.member_id.clone()))
                                .with_instance_id(m.instance_id.clone().map(str_bytes))
                                .with_rack_id(m.rack_id.clone().map(str_bytes))
                                .with_member_epoch(m.member_epoch)
                                .with_client_id(str_bytes(m.client_id.clone()))
                                .with_client_host(str_bytes(m.client_host.clone()))
                                .with_subscribed_topic_names(
                                    m.subscribed_topic_names
                                        .iter()
                                        .map(|t| TopicName(str_bytes(t.clone())))
                                        .collect(),
                                )
                                .with_subscribed_topic_regex(
                                    m.subscribed_topic_regex.clone().map(str_bytes),
                                )
                                .with_assignment(assignment(&m.assignment))
                                .with_target_assignment(assignment(&m.target_assignment));
                            if version >= 1 {
                                member.with_member_type(if m.classic {
                                    MEMBER_TYPE_CLASSIC
                                } else {
                                    MEMBER_TYPE_CONSUMER
                                })
                            } else {
                                member
                            }
                        })
                        .collect(),
                )
        })
        .collect();
    ConsumerGroupDescribeResponse::default().with_groups(groups)
}
