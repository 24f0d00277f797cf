//! DeleteGroups: removes empty groups and their committed offsets
//! (tombstones in `__consumer_offsets`); NON_EMPTY_GROUP while members exist.

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::broker::error_code::group_error_code;
use crate::broker::Broker;

pub fn handle(broker: &Broker, req: DeleteGroupsRequest, _version: i16) -> DeleteGroupsResponse {
    let ids: Vec<String> = req
        .groups_names
        .iter()
        .map(|g| g.as_str().to_string())
        .collect();
    let results = broker
        .groups()
        .delete_groups(&ids)
        .into_iter()
        .zip(req.groups_names)
        .map(|(r, id)| {
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(r.err().map_or(0, |e| group_error_code(&e).code()))
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}
