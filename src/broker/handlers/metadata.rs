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

use super::str_bytes;
use super::AUTHORIZED_OPERATIONS_OMITTED;
use crate::acl::{AclOperation, ResourceType};
use crate::broker::{is_internal_topic, validate_topic_name, Broker, Session};
use crate::storage::Topic;

/// What every topic entry needs: who asks, and whether they want to know
/// their authorized operations.
struct Ctx<'a> {
    broker: &'a Broker,
    session: &'a Session,
    include_ops: bool,
}

impl Ctx<'_> {
    fn topic_ops(&self, name: &str) -> i32 {
        if self.include_ops {
            self.broker
                .authorized_operations(self.session, ResourceType::Topic, name)
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        }
    }

    fn may_describe(&self, name: &str) -> bool {
        self.broker.authorize(
            self.session,
            AclOperation::Describe,
            ResourceType::Topic,
            name,
        )
    }
}

/// Kafka's answer for a topic the client may not see: no id, no partitions
/// (and no authorized operations), so its existence is not disclosed.
fn unauthorized(name: Option<TopicName>, id: uuid::Uuid) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_name(name)
        .with_topic_id(id)
        .with_error_code(ResponseError::TopicAuthorizationFailed.code())
        .with_topic_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED)
}

pub fn handle(
    broker: &Broker,
    req: MetadataRequest,
    version: i16,
    session: &Session,
) -> MetadataResponse {
    let ctx = Ctx {
        broker,
        session,
        include_ops: req.include_topic_authorized_operations,
    };
    let may_create =
        broker.config().auto_create_topics_enable && (version < 4 || req.allow_auto_topic_creation);

    let topics = match req.topics {
        // v0 has no null: an empty list means all topics there.
        None => all_topics(&ctx),
        Some(list) if list.is_empty() && version == 0 => all_topics(&ctx),
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
                _ if !t.topic_id.is_nil() => by_id(&ctx, t.topic_id),
                Some(name) => by_name(&ctx, &name, may_create),
                None => by_id(&ctx, t.topic_id),
            })
            .collect(),
    };

    let advertised = broker.advertised_for(&session.listener);
    MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(broker.node_id()))
            .with_host(str_bytes(advertised.host.clone()))
            .with_port(advertised.port as i32)])
        .with_cluster_id(Some(str_bytes(broker.cluster_id())))
        .with_controller_id(BrokerId(broker.node_id()))
        .with_topics(topics)
        .with_cluster_authorized_operations(if req.include_cluster_authorized_operations {
            // As Kafka: 0 without DESCRIBE on the cluster.
            if broker.authorize_quiet(
                session,
                AclOperation::Describe,
                ResourceType::Cluster,
                crate::acl::CLUSTER_NAME,
            ) {
                broker.authorized_operations(
                    session,
                    ResourceType::Cluster,
                    crate::acl::CLUSTER_NAME,
                )
            } else {
                0
            }
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        })
}

/// Every topic the client may describe; the others are left out, as in Kafka.
fn all_topics(ctx: &Ctx<'_>) -> Vec<MetadataResponseTopic> {
    ctx.broker
        .logs()
        .topics()
        .iter()
        .filter(|t| ctx.may_describe(t.name()))
        .map(|t| describe(ctx, t))
        .collect()
}

fn by_name(ctx: &Ctx<'_>, name: &TopicName, may_create: bool) -> MetadataResponseTopic {
    let broker = ctx.broker;
    // Checked before the topic's existence is looked at, so a client learns
    // nothing about topics it may not describe.
    if !ctx.may_describe(name) {
        return unauthorized(Some(name.clone()), uuid::Uuid::nil());
    }
    let error = |code: ResponseError| {
        MetadataResponseTopic::default()
            .with_name(Some(name.clone()))
            .with_error_code(code.code())
            .with_topic_authorized_operations(ctx.topic_ops(name))
    };
    if let Some(topic) = broker.logs().topic(name) {
        return describe(ctx, &topic);
    }
    if validate_topic_name(name).is_err() {
        return error(ResponseError::InvalidTopicException);
    }
    if !may_create {
        return error(ResponseError::UnknownTopicOrPartition);
    }
    // Auto-creation needs CREATE on the cluster or on the topic.
    if !broker.authorize_quiet(
        ctx.session,
        AclOperation::Create,
        ResourceType::Cluster,
        crate::acl::CLUSTER_NAME,
    ) && !broker.authorize(ctx.session, AclOperation::Create, ResourceType::Topic, name)
    {
        return unauthorized(Some(name.clone()), uuid::Uuid::nil());
    }
    // Created synchronously, so unlike Kafka (which answers LEADER_NOT_AVAILABLE
    // first) the topic is usable in this very response.
    match broker.create_topic(name, broker.config().num_partitions, BTreeMap::new(), false) {
        Ok(Some(topic)) => describe(ctx, &topic),
        // Lost a race with another creator: it exists now.
        Err(_) if broker.logs().topic(name).is_some() => match broker.logs().topic(name) {
            Some(topic) => describe(ctx, &topic),
            None => error(ResponseError::LeaderNotAvailable),
        },
        Ok(None) | Err(_) => error(ResponseError::LeaderNotAvailable),
    }
}

fn by_id(ctx: &Ctx<'_>, id: uuid::Uuid) -> MetadataResponseTopic {
    match ctx.broker.logs().topic_by_id(id) {
        // Ids are not secret (Kafka answers with the id and no name).
        Some(topic) if !ctx.may_describe(topic.name()) => unauthorized(None, id),
        Some(topic) => describe(ctx, &topic),
        None => MetadataResponseTopic::default()
            .with_topic_id(id)
            .with_error_code(ResponseError::UnknownTopicId.code())
            .with_topic_authorized_operations(ctx.topic_ops("")),
    }
}

fn describe(ctx: &Ctx<'_>, topic: &Arc<Topic>) -> MetadataResponseTopic {
    let node = BrokerId(ctx.broker.node_id());
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
        .with_topic_authorized_operations(ctx.topic_ops(topic.name()))
}
