//! DescribeUserScramCredentials and AlterUserScramCredentials, with the
//! checks and messages of Kafka's ScramImage and ScramControlManager: what
//! `kafka-configs --entity-type users --alter --add-config
//! 'SCRAM-SHA-256=[password=...]'` sends. Clients send the salted password;
//! only StoredKey/ServerKey are kept (`security::scram_store`).

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::ResponseError;
use tracing::{error, info};

use super::str_bytes;
use crate::broker::Broker;
use crate::security::sasl::scram::{
    ScramCredential, ScramMechanism, MAX_ITERATIONS, MIN_ITERATIONS,
};

pub fn describe(
    broker: &Broker,
    req: DescribeUserScramCredentialsRequest,
) -> DescribeUserScramCredentialsResponse {
    let all = broker.scram().describe();
    // user -> asked twice
    let mut users: BTreeMap<String, bool> = BTreeMap::new();
    match req.users.filter(|u| !u.is_empty()) {
        None => {
            for u in all.keys() {
                users.insert(u.clone(), false);
            }
        }
        Some(list) => {
            for u in list {
                let dup = users.contains_key(u.name.as_str());
                users.insert(u.name.to_string(), dup);
            }
        }
    }
    let results = users
        .into_iter()
        .map(|(user, duplicate)| {
            let r = DescribeUserScramCredentialsResult::default().with_user(str_bytes(user.clone()));
            if duplicate {
                return r
                    .with_error_code(ResponseError::DuplicateResource.code())
                    .with_error_message(Some(str_bytes(format!(
                        "Cannot describe SCRAM credentials for the same user twice in a single request: {user}"
                    ))));
            }
            match all.get(&user) {
                Some(infos) => r.with_credential_infos(
                    infos
                        .iter()
                        .map(|(m, i)| {
                            CredentialInfo::default()
                                .with_mechanism(m.type_code())
                                .with_iterations(*i)
                        })
                        .collect(),
                ),
                None => r
                    .with_error_code(ResponseError::ResourceNotFound.code())
                    .with_error_message(Some(str_bytes(format!(
                        "Attempt to describe a user credential that does not exist: {user}"
                    )))),
            }
        })
        .collect();
    DescribeUserScramCredentialsResponse::default().with_results(results)
}

fn check_name_and_mechanism(
    name: &str,
    mechanism: i8,
) -> Result<ScramMechanism, (ResponseError, &'static str)> {
    if name.is_empty() {
        return Err((
            ResponseError::UnacceptableCredential,
            "Username must not be empty",
        ));
    }
    ScramMechanism::from_type(mechanism).ok_or((
        ResponseError::UnsupportedSaslMechanism,
        "Unknown SCRAM mechanism",
    ))
}

/// Every user named in the request gets CLUSTER_AUTHORIZATION_FAILED (the
/// session may not ALTER the cluster); nothing is changed.
pub fn refuse(req: AlterUserScramCredentialsRequest) -> AlterUserScramCredentialsResponse {
    let names: std::collections::BTreeSet<String> = req
        .deletions
        .iter()
        .map(|d| d.name.to_string())
        .chain(req.upsertions.iter().map(|u| u.name.to_string()))
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(
        names
            .into_iter()
            .map(|user| {
                AlterUserScramCredentialsResult::default()
                    .with_user(super::str_bytes(user))
                    .with_error_code(ResponseError::ClusterAuthorizationFailed.code())
            })
            .collect(),
    )
}

pub fn alter(
    broker: &Broker,
    req: AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    let store = broker.scram();
    let mut errors: HashMap<String, (ResponseError, String)> = HashMap::new();
    let mut deletions: BTreeMap<String, ScramMechanism> = BTreeMap::new();
    let mut upserts: BTreeMap<String, (ScramMechanism, ScramCredential)> = BTreeMap::new();
    let twice = || {
        (
            ResponseError::DuplicateResource,
            "A user credential cannot be altered twice in the same request".to_string(),
        )
    };
    for d in &req.deletions {
        let name = d.name.to_string();
        if errors.contains_key(&name) {
            continue;
        }
        if deletions.remove(&name).is_some() {
            errors.insert(name, twice());
            continue;
        }
        match check_name_and_mechanism(&name, d.mechanism) {
            Err((code, m)) => {
                errors.insert(name, (code, m.to_string()));
            }
            Ok(m) if !store.has_stored(&name, m) => {
                errors.insert(
                    name,
                    (
                        ResponseError::ResourceNotFound,
                        "Attempt to delete a user credential that does not exist".into(),
                    ),
                );
            }
            Ok(m) => {
                deletions.insert(name, m);
            }
        }
    }
    for u in req.upsertions {
        let name = u.name.to_string();
        if errors.contains_key(&name) {
            continue;
        }
        if deletions.remove(&name).is_some() || upserts.remove(&name).is_some() {
            errors.insert(name, twice());
            continue;
        }
        let m = match check_name_and_mechanism(&name, u.mechanism) {
            Ok(m) => m,
            Err((code, m)) => {
                errors.insert(name, (code, m.to_string()));
                continue;
            }
        };
        if u.iterations < MIN_ITERATIONS {
            errors.insert(
                name,
                (
                    ResponseError::UnacceptableCredential,
                    "Too few iterations".into(),
                ),
            );
            continue;
        }
        if u.iterations > MAX_ITERATIONS {
            errors.insert(
                name,
                (
                    ResponseError::UnacceptableCredential,
                    "Too many iterations".into(),
                ),
            );
            continue;
        }
        let credential = ScramCredential::from_salted_password(
            m,
            &u.salted_password,
            u.salt.to_vec(),
            u.iterations,
        );
        upserts.insert(name, (m, credential));
    }
    let deletion_list: Vec<(String, ScramMechanism)> = deletions.into_iter().collect();
    let upsert_list: Vec<(String, ScramMechanism, ScramCredential)> =
        upserts.into_iter().map(|(u, (m, c))| (u, m, c)).collect();
    let mut results = Vec::new();
    let applied: Vec<String> = deletion_list
        .iter()
        .map(|(u, _)| u.clone())
        .chain(upsert_list.iter().map(|(u, _, _)| u.clone()))
        .collect();
    match store.apply(&deletion_list, upsert_list) {
        Ok(()) => {
            for user in applied {
                info!(user, "SCRAM credential altered");
                results.push(AlterUserScramCredentialsResult::default().with_user(str_bytes(user)));
            }
        }
        Err(e) => {
            error!(error = %e, "cannot persist SCRAM credentials");
            for user in applied {
                results.push(
                    AlterUserScramCredentialsResult::default()
                        .with_user(str_bytes(user))
                        .with_error_code(ResponseError::KafkaStorageError.code())
                        .with_error_message(Some(str_bytes("cannot persist SCRAM credentials"))),
                );
            }
        }
    }
    for (user, (code, message)) in errors {
        results.push(
            AlterUserScramCredentialsResult::default()
                .with_user(str_bytes(user))
                .with_error_code(code.code())
                .with_error_message(Some(str_bytes(message))),
        );
    }
    AlterUserScramCredentialsResponse::default().with_results(results)
}
