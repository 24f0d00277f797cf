//! DeleteGroups: removes empty groups and their committed offsets
//! (tombstones in `__consumer_offsets`); NON_EMPTY_GROUP while members exist.
//! An id the group coordinator does not know may be a share group (KIP-932).

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::acl::{AclOperation, ResourceType};
use crate::broker::error_code::group_error_code;
use crate::broker::{Broker, Session};
use crate::group::GroupError;
use kafka_protocol::ResponseError;

pub fn handle(
    broker: &Broker,
    req: DeleteGroupsRequest,
    _version: i16,
    session: &Session,
) -> DeleteGroupsResponse {
    let may_delete =
        |g: &str| broker.authorize(session, AclOperation::Delete, ResourceType::Group, g);
    let (names, denied): (Vec<_>, Vec<_>) =
        req.groups_names.into_iter().partition(|g| may_delete(g));
    let ids: Vec<String> = names.iter().map(|g| g.as_str().to_string()).collect();
    let results = broker
        .groups()
        .delete_groups(&ids)
        .into_iter()
        .zip(names)
        .map(|(r, id)| {
            let code = match r {
                Ok(()) => 0,
                Err(GroupError::GroupIdNotFound(_)) => match broker.shares().delete_group(&id) {
                    Ok(()) => 0,
                    Err(true) => ResponseError::NonEmptyGroup.code(),
                    Err(false) => ResponseError::GroupIdNotFound.code(),
                },
                Err(e) => group_error_code(&e).code(),
            };
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(code)
        })
        .chain(denied.into_iter().map(|id| {
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(ResponseError::GroupAuthorizationFailed.code())
        }))
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}
