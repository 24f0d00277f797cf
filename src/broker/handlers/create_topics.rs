//! CreateTopics: validated like Kafka (names, partitions, replication factor,
//! configs, duplicates), created synchronously so the topic is in Metadata
//! and accepts produce the moment the response leaves. v0–v1 (removed in
//! Kafka 4.0 by KIP-896) are served too: v0 has no `validate_only` and its
//! answer only the name and error code, v1 adds the error message.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{topic_configs, Broker, Session, TopicError};

pub fn handle(
    broker: &Broker,
    req: CreateTopicsRequest,
    version: i16,
    session: &Session,
) -> CreateTopicsResponse {
    // CREATE on the cluster covers every topic; otherwise CREATE on each.
    let cluster_create = broker.authorize_quiet(
        session,
        AclOperation::Create,
        ResourceType::Cluster,
        crate::acl::CLUSTER_NAME,
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in &req.topics {
        *seen.entry(t.name.to_string()).or_default() += 1;
    }
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.to_string();
            let result = CreatableTopicResult::default()
                .with_name(t.name.clone())
                .with_num_partitions(-1)
                .with_replication_factor(-1);
            let fail = |e: TopicError| {
                result
                    .clone()
                    .with_error_code(e.code.code())
                    .with_error_message(Some(str_bytes(e.message)))
            };
            if seen.get(&name).copied().unwrap_or(0) > 1 {
                return fail(TopicError::new(
                    ResponseError::InvalidRequest,
                    format!("Create topics request from client contains multiple entries for topic {name}."),
                ));
            }
            if !cluster_create
                && !broker.authorize(session, AclOperation::Create, ResourceType::Topic, &name)
            {
                return fail(TopicError::new(
                    ResponseError::TopicAuthorizationFailed,
                    "Authorization failed.",
                ));
            }
            let partitions = match plan_partitions(broker, t.num_partitions, t.replication_factor, &t.assignments) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            let mut overrides = BTreeMap::new();
            for c in &t.configs {
                match &c.value {
                    Some(v) => {
                        overrides.insert(c.name.to_string(), v.to_string());
                    }
                    None => {
                        return fail(TopicError::new(
                            ResponseError::InvalidConfig,
                            format!("Null value not supported for topic configs: {}", c.name),
                        ))
                    }
                }
            }
            let described = topic_configs::describe_topic(&overrides, broker.config(), broker.logs().defaults());
            match broker.create_topic(&name, partitions, overrides, req.validate_only) {
                Ok(created) => {
                    let mut ok = result
                        .with_num_partitions(partitions)
                        .with_replication_factor(1);
                    if let Some(topic) = created {
                        ok.topic_id = topic.id();
                    }
                    let may_describe_configs = broker.authorize(
                        session,
                        AclOperation::DescribeConfigs,
                        ResourceType::Topic,
                        &name,
                    );
                    if version >= 5 && !may_describe_configs {
                        ok.topic_config_error_code =
                            ResponseError::TopicAuthorizationFailed.code();
                        ok.num_partitions = -1;
                        ok.replication_factor = -1;
                    } else if version >= 5 {
                        ok.configs = Some(
                            described
                                .into_iter()
                                .map(|c| {
                                    CreatableTopicConfigs::default()
                                        .with_name(str_bytes(c.name))
                                        .with_value(c.value.map(str_bytes))
                                        .with_read_only(c.read_only)
                                        .with_config_source(c.source)
                                })
                                .collect(),
                        );
                    }
                    ok
                }
                Err(e) => fail(e),
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

/// The partition count to create, checking the replication factor and any
/// manual assignment against the one broker there is.
fn plan_partitions(
    broker: &Broker,
    num_partitions: i32,
    replication_factor: i16,
    assignments: &[kafka_protocol::messages::create_topics_request::CreatableReplicaAssignment],
) -> Result<i32, TopicError> {
    if !assignments.is_empty() {
        if num_partitions != -1 || replication_factor != -1 {
            return Err(TopicError::new(
                ResponseError::InvalidRequest,
                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
            ));
        }
        for (i, a) in assignments.iter().enumerate() {
            if a.partition_index != i as i32 {
                return Err(TopicError::new(
                    ResponseError::InvalidReplicaAssignment,
                    "Partitions should be a consecutive 0-based integer sequence",
                ));
            }
            if a.broker_ids.is_empty()
                || a.broker_ids.iter().any(|b| b.0 != broker.node_id())
                || a.broker_ids.len() > 1
            {
                return Err(TopicError::new(
                    ResponseError::InvalidReplicaAssignment,
                    format!(
                        "Replica assignment for partition {i} must be [{}]",
                        broker.node_id()
                    ),
                ));
            }
        }
        return Ok(assignments.len() as i32);
    }
    let partitions = match num_partitions {
        -1 => broker.config().num_partitions,
        n if n > 0 => n,
        _ => {
            return Err(TopicError::new(
                ResponseError::InvalidPartitions,
                "Number of partitions was set to an invalid non-positive value.",
            ))
        }
    };
    match replication_factor {
        -1 | 1 => Ok(partitions),
        n if n > 1 => Err(TopicError::new(
            ResponseError::InvalidReplicationFactor,
            format!(
                "Unable to replicate the partition {n} time(s): The target replication factor of {n} cannot be reached because only 1 broker(s) are registered."
            ),
        )),
        _ => Err(TopicError::new(
            ResponseError::InvalidReplicationFactor,
            "Replication factor must be larger than 0, or -1 to use the default value.",
        )),
    }
}
