//! IncrementalAlterConfigs (KIP-339): per key SET, DELETE (back to the
//! default), APPEND and SUBTRACT (list-typed keys only, starting from the
//! default when the topic has no override). The result is validated and
//! applied exactly like AlterConfigs (see `alter_configs`).

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::ResponseError;

use super::alter_configs::{
    alter_broker, alter_topic, check_duplicates, unsupported, ResourceError, RESOURCE_BROKER,
    RESOURCE_TOPIC,
};
use super::str_bytes;
use crate::acl::AclOperation;
use crate::broker::{topic_configs, Broker, Session};
use crate::config::KeyType;

/// ConfigResource.Type GROUP (KIP-848/KIP-932 group configs).
const RESOURCE_GROUP: i8 = 32;
const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

pub fn handle(
    broker: &Broker,
    req: IncrementalAlterConfigsRequest,
    _version: i16,
    session: &Session,
) -> IncrementalAlterConfigsResponse {
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
                RESOURCE_TOPIC => alter_topic(
                    broker,
                    r.resource_name.as_str(),
                    |current| {
                        let mut new = current.clone();
                        for c in &r.configs {
                            apply_op(
                                &mut new,
                                c.name.as_str(),
                                c.config_operation,
                                c.value.as_ref().map(|v| v.as_str()),
                            )?;
                        }
                        Ok(new)
                    },
                    validate_only,
                ),
                RESOURCE_BROKER => alter_broker(broker, r.resource_name.as_str(), &keys),
                // Share-group keys only for now (share.*), see share::config.
                RESOURCE_GROUP => {
                    let ops: Vec<(String, i8, Option<String>)> = r
                        .configs
                        .iter()
                        .map(|c| {
                            let value = c.value.as_ref().map(|v| v.as_str().to_string());
                            (c.name.as_str().to_string(), c.config_operation, value)
                        })
                        .collect();
                    broker
                        .shares()
                        .alter_group_config(r.resource_name.as_str(), &ops, validate_only)
                        .map_err(|e| (ResponseError::InvalidConfig, e.0))
                }
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
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

/// Applies one operation to a topic's overrides.
fn apply_op(
    overrides: &mut std::collections::BTreeMap<String, String>,
    name: &str,
    op: i8,
    value: Option<&str>,
) -> Result<(), ResourceError> {
    let Some(key) = topic_configs::topic_key(name) else {
        return Err((
            ResponseError::InvalidConfig,
            format!("Unknown topic config name: {name}"),
        ));
    };
    match op {
        OP_SET => {
            let Some(v) = value else {
                return Err((
                    ResponseError::InvalidConfig,
                    format!("Null value not supported for : {name}"),
                ));
            };
            overrides.insert(name.to_string(), v.to_string());
        }
        OP_DELETE => {
            overrides.remove(name);
        }
        OP_APPEND | OP_SUBTRACT => {
            if key.key_type != KeyType::List {
                let verb = if op == OP_APPEND {
                    "append"
                } else {
                    "subtract"
                };
                return Err((
                    ResponseError::InvalidConfig,
                    format!("Config value {verb} is not allowed for config key: {name}"),
                ));
            }
            let current = overrides
                .get(name)
                .cloned()
                .unwrap_or_else(|| key.default.to_string());
            let mut items: Vec<String> = current
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let given: Vec<&str> = value
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if op == OP_APPEND {
                for g in given {
                    if !items.iter().any(|i| i == g) {
                        items.push(g.to_string());
                    }
                }
            } else {
                items.retain(|i| !given.contains(&i.as_str()));
            }
            overrides.insert(name.to_string(), items.join(","));
        }
        other => {
            return Err((
                ResponseError::InvalidRequest,
                format!("Unknown config operation {other} for {name}"),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn operations() {
        let mut o = BTreeMap::new();
        apply_op(&mut o, "retention.ms", OP_SET, Some("10")).unwrap();
        apply_op(&mut o, "cleanup.policy", OP_APPEND, Some("compact")).unwrap();
        assert_eq!(o["cleanup.policy"], "delete,compact");
        apply_op(&mut o, "cleanup.policy", OP_SUBTRACT, Some("delete")).unwrap();
        assert_eq!(o["cleanup.policy"], "compact");
        apply_op(&mut o, "retention.ms", OP_DELETE, None).unwrap();
        assert!(!o.contains_key("retention.ms"));
        assert_eq!(
            apply_op(&mut o, "retention.ms", OP_APPEND, Some("1"))
                .unwrap_err()
                .0,
            ResponseError::InvalidConfig
        );
        assert_eq!(
            apply_op(&mut o, "nope", OP_SET, Some("1")).unwrap_err().0,
            ResponseError::InvalidConfig
        );
        assert_eq!(
            apply_op(&mut o, "retention.ms", 9, Some("1"))
                .unwrap_err()
                .0,
            ResponseError::InvalidRequest
        );
    }
}
