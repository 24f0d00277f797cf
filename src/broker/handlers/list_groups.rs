//! ListGroups: every group, optionally filtered by state (v4+) and type
//! (v5+): classic groups from the group coordinator, share groups
//! (type and protocol type "share", KIP-932) from the share coordinator.

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{Broker, Session};

pub fn handle(
    broker: &Broker,
    req: ListGroupsRequest,
    version: i16,
    session: &Session,
) -> ListGroupsResponse {
    // DESCRIBE on the cluster lists every group; otherwise only the groups
    // the client may describe, as Kafka.
    let all = broker.authorize_quiet(
        session,
        AclOperation::Describe,
        ResourceType::Cluster,
        crate::acl::CLUSTER_NAME,
    );
    let strings = |v: Vec<kafka_protocol::protocol::StrBytes>| {
        v.iter().map(|s| s.as_str().to_string()).collect::<Vec<_>>()
    };
    let states = if version >= 4 {
        strings(req.states_filter)
    } else {
        Vec::new()
    };
    let types = if version >= 5 {
        strings(req.types_filter)
    } else {
        Vec::new()
    };
    let mut groups: Vec<ListedGroup> = broker
        .groups()
        .list_groups(&states, &types)
        .into_iter()
        .filter(|g| {
            all || broker.authorize_quiet(
                session,
                AclOperation::Describe,
                ResourceType::Group,
                &g.group_id,
            )
        })
        .map(|g| {
            ListedGroup::default()
                .with_group_id(GroupId(str_bytes(g.group_id)))
                .with_protocol_type(str_bytes(g.protocol_type))
                .with_group_state(str_bytes(g.state))
                .with_group_type(str_bytes(g.group_type))
        })
        .collect();
    let wanted = |filter: &[String], value: &str| {
        filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value))
    };
    if broker.shares().enabled() && wanted(&types, "share") {
        for (id, state) in broker.shares().list_groups() {
            if wanted(&states, state) {
                groups.push(
                    ListedGroup::default()
                        .with_group_id(GroupId(str_bytes(id)))
                        .with_protocol_type(str_bytes("share"))
                        .with_group_state(str_bytes(state))
                        .with_group_type(str_bytes("share")),
                );
            }
        }
    }
    ListGroupsResponse::default().with_groups(groups)
}
