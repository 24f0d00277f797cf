//! DescribeGroups: state, protocol and members (client ids, hosts,
//! assignments). An unknown group is reported as Dead, with
//! GROUP_ID_NOT_FOUND from v6 (KIP-1043) and no error before, as Kafka does.

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse};
use kafka_protocol::ResponseError;

use super::{str_bytes, AUTHORIZED_OPERATIONS_OMITTED};
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: DescribeGroupsRequest,
    version: i16,
    session: &Session,
) -> DescribeGroupsResponse {
    let ids: Vec<String> = req.groups.iter().map(|g| g.as_str().to_string()).collect();
    let groups = broker
        .groups()
        .describe_groups(&ids)
        .into_iter()
        .zip(req.groups)
        .map(|(d, id)| {
            if !broker.authorize(session, AclOperation::Describe, ResourceType::Group, &id) {
                return DescribedGroup::default()
                    .with_group_id(id)
                    .with_error_code(ResponseError::GroupAuthorizationFailed.code())
                    .with_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED);
            }
            let base = DescribedGroup::default()
                .with_group_id(id)
                .with_group_state(str_bytes(d.state.as_str()))
                .with_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED);
            if !d.found {
                return if version >= 6 {
                    base.with_error_code(ResponseError::GroupIdNotFound.code())
                        .with_error_message(Some(str_bytes(format!(
                            "Group {} not found.",
                            d.group_id
                        ))))
                } else {
                    base
                };
            }
            let members = d
                .members
                .into_iter()
                .map(|m| {
                    DescribedGroupMember::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_group_instance_id(if version >= 4 {
                            m.group_instance_id.map(str_bytes)
                        } else {
                            None
                        })
                        .with_client_id(str_bytes(m.client_id))
                        .with_client_host(str_bytes(m.client_host))
                        .with_member_metadata(m.metadata)
                        .with_member_assignment(m.assignment)
                })
                .collect();
            base.with_protocol_type(str_bytes(d.protocol_type))
                .with_protocol_data(str_bytes(d.protocol_data))
                .with_members(members)
                .with_authorized_operations(if version >= 3 && req.include_authorized_operations {
                    broker.authorized_operations(session, ResourceType::Group, &d.group_id)
                } else {
                    AUTHORIZED_OPERATIONS_OMITTED
                })
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}
