//! AlterConfigs (the legacy, whole-set API): for a TOPIC resource the given
//! configs *replace* all of the topic's overrides (keys not listed go back
//! to their defaults), validated as in CreateTopics, persisted with the
//! topic and applied to its partitions at once. BROKER resources: every
//! Skiff broker config is static (read from the file, environment and
//! flags at start), so a non-empty change is refused as Kafka refuses a
//! static key: INVALID_CONFIG, "Cannot update these configs dynamically".
//! The shared pieces are used by IncrementalAlterConfigs too.

use std::collections::{BTreeMap, HashSet};

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::ResponseError;
use tracing::info;

use super::str_bytes;
use crate::acl::AclOperation;
use crate::broker::{storage_error_code, topic_configs, validate_topic_name, Broker, Session};

pub(crate) const RESOURCE_TOPIC: i8 = 2;
pub(crate) const RESOURCE_BROKER: i8 = 4;
pub(crate) const RESOURCE_BROKER_LOGGER: i8 = 8;

/// An error for one resource: code and message.
pub(crate) type ResourceError = (ResponseError, String);

pub fn handle(
    broker: &Broker,
    req: AlterConfigsRequest,
    _version: i16,
    session: &Session,
) -> AlterConfigsResponse {
    let validate_only = req.validate_only;
    let responses = req
        .resources
        .into_iter()
        .map(|r| {
            let keys: Vec<&str> = r.configs.iter().map(|c| c.name.as_str()).collect();
            let outcome = super::authorize_config_resource(
                broker,
                session,
                AclOperation::AlterConfigs,
                r.resource_type,
                &r.resource_name,
            )
            .and_then(|()| check_duplicates(&keys))
            .and_then(|()| match r.resource_type {
                RESOURCE_TOPIC => {
                    let mut new = BTreeMap::new();
                    for c in &r.configs {
                        let Some(v) = &c.value else {
                            return Err((
                                ResponseError::InvalidConfig,
                                format!("Null value not supported for topic configs: {}", c.name),
                            ));
                        };
                        new.insert(c.name.to_string(), v.to_string());
                    }
                    alter_topic(broker, r.resource_name.as_str(), |_| Ok(new), validate_only)
                }
                RESOURCE_BROKER => alter_broker(broker, r.resource_name.as_str(), &keys),
                other => Err(unsupported(other)),
            });
            let (code, message) = match outcome {
                Ok(()) => (0, None),
                Err((code, m)) => (code.code(), Some(str_bytes(m))),
            };
            AlterConfigsResourceResponse::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}

pub(crate) fn check_duplicates(keys: &[&str]) -> Result<(), ResourceError> {
    let mut seen = HashSet::new();
    let dups: Vec<&str> = keys.iter().copied().filter(|k| !seen.insert(*k)).collect();
    if dups.is_empty() {
        Ok(())
    } else {
        Err((
            ResponseError::InvalidRequest,
            format!("Error due to duplicate config keys: {}", dups.join(", ")),
        ))
    }
}

pub(crate) fn unsupported(resource_type: i8) -> ResourceError {
    let what = if resource_type == RESOURCE_BROKER_LOGGER {
        "BROKER_LOGGER".to_string()
    } else {
        resource_type.to_string()
    };
    (
        ResponseError::InvalidRequest,
        format!("Unsupported resource type {what} for altering configs"),
    )
}

/// Validates and (unless `validate_only`) applies new overrides for a
/// topic; `build` turns the current overrides into the new ones.
pub(crate) fn alter_topic(
    broker: &Broker,
    name: &str,
    build: impl FnOnce(&BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ResourceError>,
    validate_only: bool,
) -> Result<(), ResourceError> {
    validate_topic_name(name).map_err(|m| (ResponseError::InvalidTopicException, m))?;
    let Some(topic) = broker.logs().topic(name) else {
        return Err((
            ResponseError::UnknownTopicOrPartition,
            format!("Topic {name} does not exist"),
        ));
    };
    let new = build(&topic.overrides())?;
    topic_configs::validate_overrides(&new, broker.logs().defaults())
        .map_err(|m| (ResponseError::InvalidConfig, m))?;
    if validate_only {
        return Ok(());
    }
    broker
        .logs()
        .alter_topic_config(name, new.clone())
        .map_err(|e| (storage_error_code(&e), e.to_string()))?;
    info!(topic = name, overrides = ?new, "topic config altered");
    Ok(())
}

/// Skiff's broker configs are all static: only an empty change succeeds.
pub(crate) fn alter_broker(
    broker: &Broker,
    name: &str,
    keys: &[&str],
) -> Result<(), ResourceError> {
    if !name.is_empty() && name != broker.node_id().to_string() {
        return Err((
            ResponseError::InvalidRequest,
            format!(
                "Unexpected broker id, expected {} or empty string, but received {name}",
                broker.node_id()
            ),
        ));
    }
    if keys.is_empty() {
        return Ok(());
    }
    Err((
        ResponseError::InvalidConfig,
        format!(
            "Cannot update these configs dynamically: Set({})",
            keys.join(", ")
        ),
    ))
}
