//! DescribeConfigs for topics and this broker: every key with its effective
//! value, source, type, and (on request) synonyms and documentation.
//!
//! v0 (removed in Kafka 4.0 by KIP-896) has no config source; it says
//! `is_default` instead, true for a key nobody set (source DEFAULT_CONFIG),
//! which is how Kafka filled it while it hand-wrote that schema (2.x).

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::acl::AclOperation;
use crate::broker::topic_configs::{self, DescribedConfig};
use crate::broker::{validate_topic_name, Broker, Session};

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;
const RESOURCE_GROUP: i8 = 32;

pub fn handle(
    broker: &Broker,
    req: DescribeConfigsRequest,
    version: i16,
    session: &Session,
) -> DescribeConfigsResponse {
    let results = req
        .resources
        .into_iter()
        .map(|r| {
            let result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            let fail = |code: ResponseError, message: String| {
                result
                    .clone()
                    .with_error_code(code.code())
                    .with_error_message(Some(str_bytes(message)))
            };
            let name = r.resource_name.as_str();
            if let Err((code, message)) = super::authorize_config_resource(
                broker,
                session,
                AclOperation::DescribeConfigs,
                r.resource_type,
                name,
            ) {
                return fail(code, message);
            }
            let configs = match r.resource_type {
                RESOURCE_TOPIC => {
                    if let Err(m) = validate_topic_name(name) {
                        return fail(ResponseError::InvalidTopicException, m);
                    }
                    let Some(topic) = broker.logs().topic(name) else {
                        return fail(
                            ResponseError::UnknownTopicOrPartition,
                            format!("Topic {name} does not exist"),
                        );
                    };
                    topic_configs::describe_topic(&topic.overrides(), broker.config(), broker.logs().defaults())
                }
                RESOURCE_BROKER => {
                    if name.is_empty() {
                        // The cluster-wide dynamic defaults: Skiff has none.
                        Vec::new()
                    } else if name == broker.node_id().to_string() {
                        topic_configs::describe_broker(broker.config())
                    } else {
                        return fail(
                            ResponseError::InvalidRequest,
                            format!(
                                "Unexpected broker id, expected {} or empty string, but received {name}",
                                broker.node_id()
                            ),
                        );
                    }
                }
                RESOURCE_GROUP => topic_configs::describe_group(&broker.shares().group_config(name)),
                other => {
                    return fail(
                        ResponseError::InvalidRequest,
                        format!("Unsupported resource type {other} for DescribeConfigs"),
                    )
                }
            };
            let wanted = r.configuration_keys.as_ref();
            let configs = configs
                .into_iter()
                .filter(|c| wanted.is_none_or(|keys| keys.iter().any(|k| k.as_str() == c.name)))
                .map(|c| {
                    entry(
                        c,
                        version,
                        req.include_synonyms,
                        version >= 3 && req.include_documentation,
                    )
                })
                .collect();
            result.with_configs(configs)
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn entry(
    c: DescribedConfig,
    version: i16,
    synonyms: bool,
    documentation: bool,
) -> DescribeConfigsResourceResult {
    // As Kafka: a password-type value is reported as null and sensitive.
    let sensitive = c.key_type == crate::config::KeyType::Password;
    let value = if sensitive { None } else { c.value };
    DescribeConfigsResourceResult::default()
        .with_is_default(version == 0 && c.source == topic_configs::SOURCE_DEFAULT)
        .with_name(str_bytes(c.name))
        .with_value(value.map(str_bytes))
        .with_read_only(c.read_only)
        .with_config_source(c.source)
        .with_is_sensitive(sensitive)
        .with_config_type(topic_configs::type_code(c.key_type))
        .with_documentation(documentation.then(|| str_bytes(c.doc)))
        .with_synonyms(if synonyms {
            c.synonyms
                .into_iter()
                .map(|(name, value, source)| {
                    DescribeConfigsSynonym::default()
                        .with_name(str_bytes(name))
                        .with_value(if sensitive {
                            None
                        } else {
                            value.map(str_bytes)
                        })
                        .with_source(source)
                })
                .collect()
        } else {
            Vec::new()
        })
}
