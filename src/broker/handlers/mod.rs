//! One file per API: decode-side translation from a Kafka request to broker,
//! storage calls, and back to a Kafka response.

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod alter_configs;
pub mod api_versions;
pub mod commit_plan;
pub mod consumer_group_describe;
pub mod consumer_group_heartbeat;
pub mod create_acls;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_acls;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_acls;
pub mod describe_client_quotas;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_log_dirs;
pub mod describe_producers;
pub mod describe_topic_partitions;
pub mod describe_transactions;
pub mod end_txn;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod list_transactions;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod produce;
pub mod sasl;
pub mod share_acknowledge;
pub mod share_fetch;
pub mod share_group_describe;
pub mod share_group_heartbeat;
pub mod share_group_offsets;
pub mod sync_group;
pub mod txn_offset_commit;
pub mod user_scram_credentials;

use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::acl::{AclOperation, ResourceType, CLUSTER_NAME};
use crate::broker::{Broker, Session};

/// Kafka's config-resource authorization (DescribeConfigs with
/// DESCRIBE_CONFIGS, AlterConfigs/IncrementalAlterConfigs with
/// ALTER_CONFIGS): brokers and broker loggers on the cluster, topics and
/// groups on themselves, each with its own error code. Other resource
/// types are left to the handler (they are refused anyway).
pub fn authorize_config_resource(
    broker: &Broker,
    session: &Session,
    op: AclOperation,
    resource_type: i8,
    name: &str,
) -> Result<(), (ResponseError, String)> {
    let (resource, resource_name, denied) = match resource_type {
        // BROKER, BROKER_LOGGER, CLIENT_METRICS
        4 | 8 | 16 => (
            ResourceType::Cluster,
            CLUSTER_NAME,
            ResponseError::ClusterAuthorizationFailed,
        ),
        2 => (
            ResourceType::Topic,
            name,
            ResponseError::TopicAuthorizationFailed,
        ),
        32 => (
            ResourceType::Group,
            name,
            ResponseError::GroupAuthorizationFailed,
        ),
        _ => return Ok(()),
    };
    if broker.authorize(session, op, resource, resource_name) {
        Ok(())
    } else {
        Err((denied, denied.to_string()))
    }
}

/// The "authorized operations omitted" marker Kafka sends when they were not requested.
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

pub fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}
