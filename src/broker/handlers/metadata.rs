//! Metadata: the one broker, and topics with their partitions, topic ids and
//! leader epochs. Requesting an unknown topic creates it when
//! `auto.create.topics.enable` is on and (v4+) the client allows it.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::ResponseError;

use super::{
    str_bytes, ALL_CLUSTER_OPERATIONS, ALL_TOPIC_OPERATIONS, AUTHORIZED_OPERATIONS_OMITTED,
};
use crate::broker::{is_internal_topic, validate_topic_name, Broker};
use crate::config::HostPort;
use crate::storage::Topic;

pub fn handle(
    broker: &Broker,
    req: MetadataRequest,
    version: i16,
    advertised: &HostPort,
) -> MetadataResponse {
    let topic_ops = if req.include_topic_authorized_operations {
        ALL_TOPIC_OPERATIONS
    } else {
        AUTHORIZED_OPERATIONS_OMITTED
    };
    let may_create =
        broker.config().auto_create_topics_enable && (version < 4 || req.allow_auto_topic_creation);

    let topics = match req.topics {
        // v0 has no null: an empty list means all topics there.
        None => all_topics(broker, topic_ops),
        Some(list) if list.is_empty() && version == 0 => all_topics(broker, topic_ops),
        Some(list) => list
            .into_iter()
            // Each topic is answered once, as Kafka does (it collects the request's
            // topics into a set): kafka-clients 3.9 may list a topic twice, and two
            // entries for it make the client log a spurious topic-id change.
            .filter({
                let mut seen = std::collections::HashSet::new();
                move |t| seen.insert((t.topic_id, t.name.clone()))
            })
            // A non-nil id wins over the name, as in Kafka: the Java client asks by id
            // with the name left at its default "" (not null).
            .map(|t| match t.name {
                _ if !t.topic_id.is_nil() => by_id(broker, t.topic_id, topic_ops),
                Some(name) => by_name(broker, &name, may_create, topic_ops),
                None => by_id(broker, t.topic_id, topic_ops),
            })
            .collect(),
    };

    MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(broker.node_id()))
            .with_host(str_bytes(advertised.host.clone()))
            .with_port(advertised.port as i32)])
        .with_cluster_id(Some(str_bytes(broker.cluster_id())))
        .with_controller_id(BrokerId(broker.node_id()))
        .with_topics(topics)
        .with_cluster_authorized_operations(if req.include_cluster_authorized_operations {
            ALL_CLUSTER_OPERATIONS
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        })
}

fn all_topics(broker: &Broker, topic_ops: i32) -> Vec<MetadataResponseTopic> {
    broker
        .logs()
        .topics()
        .iter()
        .map(|t| describe(broker, t, topic_ops))
        .collect()
}

fn by_name(
    broker: &Broker,
    name: &TopicName,
    may_create: bool,
    topic_ops: i32,
) -> MetadataResponseTopic {
    let error = |code: ResponseError| {
        MetadataResponseTopic::default()
            .with_name(Some(name.clone()))
            .with_error_code(code.code())
            .with_topic_authorized_operations(topic_ops)
    };
    if let Some(topic) = broker.logs().topic(name) {
        return describe(broker, &topic, topic_ops);
    }
    if validate_topic_name(name).is_err() {
        return error(ResponseError::InvalidTopicException);
    }
    if !may_create {
        return error(ResponseError::UnknownTopicOrPartition);
    }
    // Created synchronously, so unlike Kafka (which answers LEADER_NOT_AVAILABLE
    // first) the topic is usable in this very response.
    match broker.create_topic(name, broker.config().num_partitions, BTreeMap::new(), false) {
        Ok(Some(topic)) => describe(broker, &topic, topic_ops),
        // Lost a race with another creator: it exists now.
        Err(_) if broker.logs().topic(name).is_some() => match broker.logs().topic(name) {
            Some(topic) => describe(broker, &topic, topic_ops),
            None => error(ResponseError::LeaderNotAvailable),
        },
        Ok(None) | Err(_) => error(ResponseError::LeaderNotAvailable),
    }
}

fn by_id(broker: &Broker, id: uuid::Uuid, topic_ops: i32) -> MetadataResponseTopic {
    match broker.logs().topic_by_id(id) {
        Some(topic) => describe(broker, &topic, topic_ops),
        None => MetadataResponseTopic::default()
            .with_topic_id(id)
            .with_error_code(ResponseError::UnknownTopicId.code())
            .with_topic_authorized_operations(topic_ops),
    }
}

fn describe(broker: &Broker, topic: &Arc<Topic>, topic_ops: i32) -> MetadataResponseTopic {
    let node = BrokerId(broker.node_id());
    let partitions = (0..topic.partition_count())
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(node)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(str_bytes(topic.name()))))
        .with_topic_id(topic.id())
        .with_is_internal(is_internal_topic(topic.name()))
        .with_partitions(partitions)
        .with_topic_authorized_operations(topic_ops)
}
