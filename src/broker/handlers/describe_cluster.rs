//! DescribeCluster: this one broker, which is also the controller clients see.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::ResponseError;

use super::{str_bytes, ALL_CLUSTER_OPERATIONS, AUTHORIZED_OPERATIONS_OMITTED};
use crate::broker::Broker;

const ENDPOINT_TYPE_BROKER: i8 = 1;

pub fn handle(
    broker: &Broker,
    req: DescribeClusterRequest,
    version: i16,
) -> DescribeClusterResponse {
    let response = DescribeClusterResponse::default()
        .with_endpoint_type(ENDPOINT_TYPE_BROKER)
        .with_cluster_id(str_bytes(broker.cluster_id()))
        .with_controller_id(BrokerId(broker.node_id()));
    if version >= 1 && req.endpoint_type != ENDPOINT_TYPE_BROKER {
        return response
            .with_error_code(ResponseError::UnsupportedEndpointType.code())
            .with_error_message(Some(str_bytes("Skiff only serves broker endpoints")));
    }
    let advertised = broker.advertised();
    response
        .with_brokers(vec![DescribeClusterBroker::default()
            .with_broker_id(BrokerId(broker.node_id()))
            .with_host(str_bytes(advertised.host.clone()))
            .with_port(advertised.port as i32)])
        .with_cluster_authorized_operations(if req.include_cluster_authorized_operations {
            ALL_CLUSTER_OPERATIONS
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        })
}
