//! DescribeCluster: this one broker, which is also the controller clients see.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::ResponseError;

use super::{str_bytes, AUTHORIZED_OPERATIONS_OMITTED};
use crate::acl::{AclOperation, ResourceType, CLUSTER_NAME};
use crate::broker::{Broker, Session};

const ENDPOINT_TYPE_BROKER: i8 = 1;
const ENDPOINT_TYPE_CONTROLLER: i8 = 2;

pub fn handle(
    broker: &Broker,
    req: DescribeClusterRequest,
    version: i16,
    session: &Session,
) -> DescribeClusterResponse {
    let response = DescribeClusterResponse::default()
        .with_endpoint_type(ENDPOINT_TYPE_BROKER)
        .with_cluster_id(str_bytes(broker.cluster_id()))
        .with_controller_id(BrokerId(broker.node_id()));
    // v0 has no endpoint type (it decodes as broker). As Kafka: a known type
    // asked of the wrong endpoint (controllers are not reachable through a
    // broker, KIP-919) is MISMATCHED_ENDPOINT_TYPE; any other value is
    // UNSUPPORTED_ENDPOINT_TYPE.
    if version >= 1 && req.endpoint_type == ENDPOINT_TYPE_CONTROLLER {
        return response
            .with_error_code(ResponseError::MismatchedEndpointType.code())
            .with_error_message(Some(str_bytes(
                "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
            )));
    }
    if version >= 1 && req.endpoint_type != ENDPOINT_TYPE_BROKER {
        return response
            .with_error_code(ResponseError::UnsupportedEndpointType.code())
            .with_error_message(Some(str_bytes(format!(
                "Unsupported endpoint type {}",
                req.endpoint_type
            ))));
    }
    let advertised = broker.advertised_for(&session.listener);
    response
        .with_brokers(vec![DescribeClusterBroker::default()
            .with_broker_id(BrokerId(broker.node_id()))
            .with_host(str_bytes(advertised.host.clone()))
            .with_port(advertised.port as i32)])
        .with_cluster_authorized_operations(if req.include_cluster_authorized_operations {
            // As Kafka: 0 without DESCRIBE on the cluster.
            if broker.authorize_quiet(
                session,
                AclOperation::Describe,
                ResourceType::Cluster,
                crate::acl::CLUSTER_NAME,
            ) {
                broker.authorized_operations(session, ResourceType::Cluster, CLUSTER_NAME)
            } else {
                0
            }
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        })
}
