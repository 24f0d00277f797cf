//! The broker: shared state behind every connection, and the one exhaustive
//! dispatch from a decoded request to its handler (one file per API under
//! `handlers/`). Handlers translate between Kafka messages and storage calls;
//! they never touch files or sockets. Storage errors become Kafka error codes
//! in `error_code.rs` only.

mod authz;
mod error_code;
mod handlers;
mod session;
pub mod topic_configs;

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{RequestKind, ResponseKind};
#[cfg(test)]
use kafka_protocol::protocol::Encodable;
use kafka_protocol::ResponseError;
use tracing::info;

use crate::acl::{AclConfig, Authorizer};
use crate::clock::Clock;
use crate::config::{BrokerConfig, HostPort};
use crate::group::{GroupConfig, GroupCoordinator};
use crate::meta::{self, MetaError, ProducerIdAllocator};
use crate::protocol::{self, Request};
use crate::security::scram_store::ScramStore;
use crate::share::{ShareConfig, ShareCoordinator};
use crate::storage::{
    LogConfig, LogManager, RetentionSchedule, StorageError, TimestampType, Topic,
};
use crate::txn::coordinator::ProducerIdSource;
use crate::txn::{TransactionCoordinator, TxnConfig, TxnError};

pub use error_code::{storage_error_code, txn_error_code};
pub use session::{KafkaPrincipal, Session};

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the data dir")]
    Storage(#[from] StorageError),
    #[error("cannot read broker metadata")]
    Meta(#[from] MetaError),
    #[error("cannot load consumer groups from __consumer_offsets")]
    Groups(#[source] StorageError),
    #[error("cannot load transactions from __transaction_state")]
    Transactions(#[source] StorageError),
    #[error("cannot load the ACLs")]
    Acls(#[from] crate::acl::StoreError),
    #[error("cannot load SCRAM credentials")]
    Scram(#[from] crate::security::scram_store::StoreError),
    #[error("cannot load share groups from __share_group_state")]
    Shares(#[source] StorageError),
}

/// A failure that leaves no sensible answer: the connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{0} is advertised but has no handler")]
    Unhandled(&'static str),
}

/// Why a topic could not be created.
#[derive(Debug)]
pub struct TopicError {
    pub code: ResponseError,
    pub message: String,
}

impl TopicError {
    fn new(code: ResponseError, message: impl Into<String>) -> TopicError {
        TopicError {
            code,
            message: message.into(),
        }
    }
}

/// State shared by every connection.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    /// Each listener's name and the address its clients are told to use.
    advertised: Vec<(String, HostPort)>,
    scram: Arc<ScramStore>,
    cluster_id: String,
    logs: Arc<LogManager>,
    clock: Arc<dyn Clock>,
    producer_ids: Arc<ProducerIdAllocator>,
    groups: Arc<GroupCoordinator>,
    txns: Arc<TransactionCoordinator>,
    /// Present only when `authorizer.class.name` is set: `None` authorizes
    /// everything (see `authz.rs`).
    authorizer: Option<Authorizer>,
    shares: Arc<ShareCoordinator>,
}

impl Broker {
    /// Opens (and recovers) the data dir. `bound_ports` are the listeners'
    /// real ports in `config.listeners` order, advertised when no advertised
    /// address is configured (a missing entry: the configured port).
    pub fn open(
        config: BrokerConfig,
        clock: Arc<dyn Clock>,
        bound_ports: &[u16],
    ) -> Result<Broker, StartError> {
        let cluster_id = meta::load_or_create_cluster_id(&config.data_dir)?;
        let producer_ids = Arc::new(ProducerIdAllocator::open(&config.data_dir)?);
        if config.max_open_segment_files > 0 {
            crate::storage::file_cache::set_capacity(config.max_open_segment_files);
        }
        let now_ms = clock.now_ms();
        let logs = LogManager::open(&config.data_dir, log_defaults(&config), now_ms)?
            .with_retention_schedule(RetentionSchedule::new(
                now_ms,
                config.log_retention_check_interval_ms,
                config.log_initial_task_delay_ms,
            ));
        if config.testing_fault_injection {
            logs.enable_fault_injection_file();
        }
        let advertised = config
            .listeners
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let port = bound_ports.get(i).copied().unwrap_or(l.bind.port);
                (l.name.clone(), l.advertised_address(port))
            })
            .collect();
        let scram = Arc::new(ScramStore::open(
            Some(&config.data_dir),
            &config.sasl.users,
        )?);
        let groups = Arc::new(
            GroupCoordinator::open(GroupConfig::from_broker(&config), &logs, clock.clone())
                .map_err(StartError::Groups)?,
        );
        let logs = Arc::new(logs);
        // Timers that fence consumer group members reassign partitions:
        // they read the topics themselves, so a fence before the first
        // heartbeat after a restart does not assign against no topics.
        let source_logs = logs.clone();
        groups.set_topics_source(crate::group::coordinator::TopicsSource(Arc::new(
            move || consumer_group_topics_of(&source_logs),
        )));
        let ids = producer_ids.clone();
        let next_producer_id: ProducerIdSource = Arc::new(move || {
            ids.next_id().map_err(|e| {
                tracing::error!(error = %e, "cannot allocate a producer id");
                TxnError::ProducerIdAllocation
            })
        });
        let txns = Arc::new(
            TransactionCoordinator::open(
                TxnConfig::from_broker(&config),
                logs.clone(),
                groups.clone(),
                clock.clone(),
                next_producer_id,
            )
            .map_err(StartError::Transactions)?,
        );
        let authorizer = if config.authorizer_enabled {
            Some(Authorizer::open(
                &config.data_dir,
                AclConfig {
                    super_users: config.super_users.clone(),
                    allow_everyone_if_no_acl_found: config.allow_everyone_if_no_acl_found,
                },
            )?)
        } else {
            None
        };
        let shares = Arc::new(
            ShareCoordinator::open(
                ShareConfig::from_broker(&config),
                logs.clone(),
                clock.clone(),
            )
            .map_err(StartError::Shares)?,
        );
        Ok(Broker {
            authorizer,
            config,
            advertised,
            scram,
            cluster_id,
            logs,
            clock,
            producer_ids,
            groups,
            txns,
            shares,
        })
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    pub fn logs(&self) -> &Arc<LogManager> {
        &self.logs
    }

    /// The group coordinator (its timer task is spawned by `main`).
    pub fn groups(&self) -> &Arc<GroupCoordinator> {
        &self.groups
    }

    /// The topics KIP-848 consumer groups see: every topic but the
    /// internal ones, which no pattern should pull into a subscription.
    pub fn consumer_group_topics(&self) -> crate::group::consumer::topics::TopicsImage {
        consumer_group_topics_of(&self.logs)
    }

    /// The transaction coordinator (its timer task is spawned by `main`).
    pub fn txns(&self) -> &Arc<TransactionCoordinator> {
        &self.txns
    }

    /// The share group coordinator (KIP-932).
    pub fn shares(&self) -> &Arc<ShareCoordinator> {
        &self.shares
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn node_id(&self) -> i32 {
        self.config.node_id
    }

    /// The first listener's advertised address (the one logs and the HTTP API show).
    pub fn advertised(&self) -> &HostPort {
        // BrokerConfig always has at least one listener.
        &self.advertised[0].1
    }

    /// The advertised address of `listener`: what Metadata, DescribeCluster
    /// and FindCoordinator tell a client that connected through it.
    pub fn advertised_for(&self, listener: &str) -> &HostPort {
        self.advertised
            .iter()
            .find(|(name, _)| name == listener)
            .map_or_else(|| self.advertised(), |(_, a)| a)
    }

    /// SASL users and SCRAM credentials.
    pub fn scram(&self) -> &Arc<ScramStore> {
        &self.scram
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The ApiVersions list, straight from the table dispatch checks against.
    pub fn api_versions(&self) -> Vec<ApiVersion> {
        protocol::SERVED
            .iter()
            .filter(|r| self.shares.enabled() || !protocol::versions::is_share_api(r.key))
            .map(|r| {
                ApiVersion::default()
                    .with_api_key(r.key as i16)
                    .with_min_version(r.min)
                    .with_max_version(r.max)
            })
            .collect()
    }

    /// Answers one request from the connection `session`. `Ok(None)` means
    /// no response is sent (acks=0 produce).
    pub async fn handle(
        &self,
        request: Request,
        session: &Session,
    ) -> Result<Option<ResponseKind>, BrokerError> {
        if self.authorizer.is_some() {
            // The audit log names the request (and logs a denial once per request).
            let api = crate::protocol::name_of(request.api_key);
            return authz::audited(api, self.dispatch(request, session)).await;
        }
        self.dispatch(request, session).await
    }

    async fn dispatch(
        &self,
        request: Request,
        session: &Session,
    ) -> Result<Option<ResponseKind>, BrokerError> {
        let v = request.version;
        let response = match request.body {
            RequestKind::ApiVersions(r) => {
                ResponseKind::ApiVersions(handlers::api_versions::handle(self, r, v))
            }
            RequestKind::Metadata(r) => {
                ResponseKind::Metadata(handlers::metadata::handle(self, r, v, session))
            }
            RequestKind::Produce(r) => {
                return Ok(handlers::produce::handle(self, r, v, session).map(ResponseKind::Produce))
            }
            RequestKind::Fetch(r) => {
                ResponseKind::Fetch(handlers::fetch::handle(self, r, v, session).await)
            }
            RequestKind::ListOffsets(r) => {
                ResponseKind::ListOffsets(handlers::list_offsets::handle(self, r, v, session))
            }
            RequestKind::OffsetForLeaderEpoch(r) => ResponseKind::OffsetForLeaderEpoch(
                handlers::offset_for_leader_epoch::handle(self, r, v, session),
            ),
            RequestKind::CreateTopics(r) => {
                ResponseKind::CreateTopics(handlers::create_topics::handle(self, r, v, session))
            }
            RequestKind::DeleteTopics(r) => {
                ResponseKind::DeleteTopics(handlers::delete_topics::handle(self, r, v, session))
            }
            RequestKind::CreatePartitions(r) => ResponseKind::CreatePartitions(
                handlers::create_partitions::handle(self, r, v, session),
            ),
            RequestKind::DescribeConfigs(r) => ResponseKind::DescribeConfigs(
                handlers::describe_configs::handle(self, r, v, session),
            ),
            RequestKind::DescribeCluster(r) => ResponseKind::DescribeCluster(
                handlers::describe_cluster::handle(self, r, v, session),
            ),
            RequestKind::InitProducerId(r) => ResponseKind::InitProducerId(
                handlers::init_producer_id::handle(self, r, v, session),
            ),
            RequestKind::FindCoordinator(r) => ResponseKind::FindCoordinator(
                handlers::find_coordinator::handle(self, r, v, session),
            ),
            RequestKind::JoinGroup(r) if !self.may_read_group(session, &r.group_id) => {
                ResponseKind::JoinGroup(
                    kafka_protocol::messages::JoinGroupResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code())
                        .with_protocol_name((v < 7).then(Default::default)),
                )
            }
            // A group id is one type only: as Kafka, a share group's id is
            // "not a classic group" / "not a consumer group".
            RequestKind::JoinGroup(r) if self.shares.has_group(&r.group_id) => {
                ResponseKind::JoinGroup(
                    kafka_protocol::messages::JoinGroupResponse::default()
                        .with_error_code(ResponseError::GroupIdNotFound.code())
                        .with_protocol_name((v < 7).then(Default::default)),
                )
            }
            RequestKind::JoinGroup(r) => {
                let client_id = request.client_id.as_deref().unwrap_or_default();
                ResponseKind::JoinGroup(
                    handlers::join_group::handle(self, r, v, client_id, &session.client_host).await,
                )
            }
            RequestKind::SyncGroup(r) if !self.may_read_group(session, &r.group_id) => {
                ResponseKind::SyncGroup(
                    kafka_protocol::messages::SyncGroupResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::SyncGroup(r) => {
                ResponseKind::SyncGroup(handlers::sync_group::handle(self, r, v).await)
            }
            RequestKind::Heartbeat(r) if !self.may_read_group(session, &r.group_id) => {
                ResponseKind::Heartbeat(
                    kafka_protocol::messages::HeartbeatResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::Heartbeat(r) => {
                ResponseKind::Heartbeat(handlers::heartbeat::handle(self, r, v))
            }
            RequestKind::LeaveGroup(r) if !self.may_read_group(session, &r.group_id) => {
                ResponseKind::LeaveGroup(
                    kafka_protocol::messages::LeaveGroupResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::LeaveGroup(r) => {
                ResponseKind::LeaveGroup(handlers::leave_group::handle(self, r, v))
            }
            RequestKind::OffsetCommit(r) => {
                ResponseKind::OffsetCommit(handlers::offset_commit::handle(self, r, v, session))
            }
            RequestKind::OffsetFetch(r) => {
                ResponseKind::OffsetFetch(handlers::offset_fetch::handle(self, r, v, session))
            }
            RequestKind::DescribeGroups(r) => {
                ResponseKind::DescribeGroups(handlers::describe_groups::handle(self, r, v, session))
            }
            RequestKind::ListGroups(r) => {
                ResponseKind::ListGroups(handlers::list_groups::handle(self, r, v, session))
            }
            RequestKind::DeleteGroups(r) => {
                ResponseKind::DeleteGroups(handlers::delete_groups::handle(self, r, v, session))
            }
            RequestKind::OffsetDelete(r) => {
                ResponseKind::OffsetDelete(handlers::offset_delete::handle(self, r, v, session))
            }
            RequestKind::DeleteRecords(r) => {
                ResponseKind::DeleteRecords(handlers::delete_records::handle(self, r, v, session))
            }
            RequestKind::DescribeLogDirs(r) => ResponseKind::DescribeLogDirs(
                handlers::describe_log_dirs::handle(self, r, v, session),
            ),
            RequestKind::AlterConfigs(r) => {
                ResponseKind::AlterConfigs(handlers::alter_configs::handle(self, r, v, session))
            }
            RequestKind::IncrementalAlterConfigs(r) => ResponseKind::IncrementalAlterConfigs(
                handlers::incremental_alter_configs::handle(self, r, v, session),
            ),
            RequestKind::AddPartitionsToTxn(r) => ResponseKind::AddPartitionsToTxn(
                handlers::add_partitions_to_txn::handle(self, r, v, session),
            ),
            RequestKind::AddOffsetsToTxn(r) => ResponseKind::AddOffsetsToTxn(
                handlers::add_offsets_to_txn::handle(self, r, v, session),
            ),
            RequestKind::EndTxn(r) => {
                ResponseKind::EndTxn(handlers::end_txn::handle(self, r, v, session))
            }
            RequestKind::TxnOffsetCommit(r) => ResponseKind::TxnOffsetCommit(
                handlers::txn_offset_commit::handle(self, r, v, session),
            ),
            RequestKind::DescribeTransactions(r) => ResponseKind::DescribeTransactions(
                handlers::describe_transactions::handle(self, r, v, session),
            ),
            RequestKind::DescribeProducers(r) => ResponseKind::DescribeProducers(
                handlers::describe_producers::handle(self, r, v, session),
            ),
            RequestKind::ListTransactions(r) => ResponseKind::ListTransactions(
                handlers::list_transactions::handle(self, r, v, session),
            ),
            RequestKind::CreateAcls(r) => {
                ResponseKind::CreateAcls(handlers::create_acls::handle(self, r, v, session))
            }
            RequestKind::DescribeAcls(r) => {
                ResponseKind::DescribeAcls(handlers::describe_acls::handle(self, r, v, session))
            }
            RequestKind::DeleteAcls(r) => {
                ResponseKind::DeleteAcls(handlers::delete_acls::handle(self, r, v, session))
            }
            RequestKind::DescribeTopicPartitions(r) => ResponseKind::DescribeTopicPartitions(
                handlers::describe_topic_partitions::handle(self, r, v, session),
            ),
            // As Kafka: quotas need DESCRIBE_CONFIGS on the cluster, SCRAM
            // credentials DESCRIBE to list and ALTER to change.
            RequestKind::DescribeClientQuotas(_)
                if !self.authorize_cluster(session, crate::acl::AclOperation::DescribeConfigs) =>
            {
                ResponseKind::DescribeClientQuotas(
                    kafka_protocol::messages::DescribeClientQuotasResponse::default()
                        .with_error_code(ResponseError::ClusterAuthorizationFailed.code()),
                )
            }
            RequestKind::DescribeUserScramCredentials(_)
                if !self.authorize_cluster(session, crate::acl::AclOperation::Describe) =>
            {
                ResponseKind::DescribeUserScramCredentials(
                    kafka_protocol::messages::DescribeUserScramCredentialsResponse::default()
                        .with_error_code(ResponseError::ClusterAuthorizationFailed.code()),
                )
            }
            RequestKind::AlterUserScramCredentials(r)
                if !self.authorize_cluster(session, crate::acl::AclOperation::Alter) =>
            {
                ResponseKind::AlterUserScramCredentials(handlers::user_scram_credentials::refuse(r))
            }
            RequestKind::DescribeClientQuotas(r) => {
                ResponseKind::DescribeClientQuotas(handlers::describe_client_quotas::handle(r))
            }
            RequestKind::SaslHandshake(r) => {
                ResponseKind::SaslHandshake(handlers::sasl::handshake(r))
            }
            RequestKind::SaslAuthenticate(r) => {
                ResponseKind::SaslAuthenticate(handlers::sasl::authenticate(r))
            }
            RequestKind::DescribeUserScramCredentials(r) => {
                ResponseKind::DescribeUserScramCredentials(
                    handlers::user_scram_credentials::describe(self, r),
                )
            }
            RequestKind::AlterUserScramCredentials(r) => ResponseKind::AlterUserScramCredentials(
                handlers::user_scram_credentials::alter(self, r),
            ),
            RequestKind::ConsumerGroupHeartbeat(r)
                if !self.may_read_group(session, &r.group_id) =>
            {
                ResponseKind::ConsumerGroupHeartbeat(
                    kafka_protocol::messages::ConsumerGroupHeartbeatResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::ConsumerGroupHeartbeat(r) if self.shares.has_group(&r.group_id) => {
                ResponseKind::ConsumerGroupHeartbeat(
                    kafka_protocol::messages::ConsumerGroupHeartbeatResponse::default()
                        .with_error_code(ResponseError::GroupIdNotFound.code())
                        .with_error_message(Some(handlers::str_bytes(format!(
                            "Group {} is not a consumer group.",
                            r.group_id.as_str()
                        )))),
                )
            }
            // Kafka's KafkaApis: every subscribed topic name must be describable.
            RequestKind::ConsumerGroupHeartbeat(r)
                if !self.may_describe_topics(session, r.subscribed_topic_names.as_deref()) =>
            {
                ResponseKind::ConsumerGroupHeartbeat(
                    kafka_protocol::messages::ConsumerGroupHeartbeatResponse::default()
                        .with_error_code(ResponseError::TopicAuthorizationFailed.code()),
                )
            }
            RequestKind::ConsumerGroupHeartbeat(r) => {
                let client_id = request.client_id.as_deref().unwrap_or_default();
                ResponseKind::ConsumerGroupHeartbeat(handlers::consumer_group_heartbeat::handle(
                    self, r, v, client_id, session,
                ))
            }
            RequestKind::ConsumerGroupDescribe(r) => ResponseKind::ConsumerGroupDescribe(
                handlers::consumer_group_describe::handle(self, r, v, session),
            ),
            // As Kafka's KafkaApis: the group needs READ, every subscribed
            // topic name DESCRIBE.
            RequestKind::ShareGroupHeartbeat(r) if !self.may_read_group(session, &r.group_id) => {
                ResponseKind::ShareGroupHeartbeat(
                    kafka_protocol::messages::ShareGroupHeartbeatResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::ShareGroupHeartbeat(r)
                if !self.may_describe_topics(session, r.subscribed_topic_names.as_deref()) =>
            {
                ResponseKind::ShareGroupHeartbeat(
                    kafka_protocol::messages::ShareGroupHeartbeatResponse::default()
                        .with_error_code(ResponseError::TopicAuthorizationFailed.code()),
                )
            }
            RequestKind::ShareFetch(r)
                if !self
                    .may_read_group(session, r.group_id.as_ref().map_or("", |g| g.as_str())) =>
            {
                ResponseKind::ShareFetch(
                    kafka_protocol::messages::ShareFetchResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::ShareAcknowledge(r)
                if !self
                    .may_read_group(session, r.group_id.as_ref().map_or("", |g| g.as_str())) =>
            {
                ResponseKind::ShareAcknowledge(
                    kafka_protocol::messages::ShareAcknowledgeResponse::default()
                        .with_error_code(ResponseError::GroupAuthorizationFailed.code()),
                )
            }
            RequestKind::ShareGroupHeartbeat(r) => {
                let client_id = request.client_id.as_deref().unwrap_or_default();
                ResponseKind::ShareGroupHeartbeat(handlers::share_group_heartbeat::handle(
                    self,
                    r,
                    v,
                    client_id,
                    &session.client_host,
                ))
            }
            RequestKind::ShareGroupDescribe(r) => {
                ResponseKind::ShareGroupDescribe(handlers::share_group_describe::handle(self, r, v))
            }
            RequestKind::ShareFetch(r) => {
                ResponseKind::ShareFetch(handlers::share_fetch::handle(self, r, v, session).await)
            }
            RequestKind::ShareAcknowledge(r) => ResponseKind::ShareAcknowledge(
                handlers::share_acknowledge::handle(self, r, v, session),
            ),
            RequestKind::DescribeShareGroupOffsets(r) => ResponseKind::DescribeShareGroupOffsets(
                handlers::share_group_offsets::describe(self, r, v, session),
            ),
            RequestKind::AlterShareGroupOffsets(r) => ResponseKind::AlterShareGroupOffsets(
                handlers::share_group_offsets::alter(self, r, v, session),
            ),
            RequestKind::DeleteShareGroupOffsets(r) => ResponseKind::DeleteShareGroupOffsets(
                handlers::share_group_offsets::delete(self, r, v, session),
            ),
            _ => return Err(BrokerError::Unhandled(protocol::name_of(request.api_key))),
        };
        Ok(Some(response))
    }

    /// Creates a topic (auto-creation and CreateTopics both come here).
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<Option<Arc<Topic>>, TopicError> {
        validate_topic_name(name)
            .map_err(|m| TopicError::new(ResponseError::InvalidTopicException, m))?;
        if self.logs.topic(name).is_some() {
            return Err(TopicError::new(
                ResponseError::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ));
        }
        if let Some(other) = self.colliding_topic(name) {
            return Err(TopicError::new(
                ResponseError::InvalidTopicException,
                format!("Topic '{name}' collides with existing topic: {other}"),
            ));
        }
        if partitions < 1 {
            return Err(TopicError::new(
                ResponseError::InvalidPartitions,
                "Number of partitions must be larger than 0.",
            ));
        }
        topic_configs::validate_overrides(&overrides, self.logs.defaults())
            .map_err(|m| TopicError::new(ResponseError::InvalidConfig, m))?;
        if validate_only {
            return Ok(None);
        }
        match self.logs.create_topic(
            name,
            partitions,
            uuid::Uuid::new_v4(),
            overrides,
            self.now_ms(),
        ) {
            Ok(topic) => {
                info!(topic = name, partitions, "created topic");
                Ok(Some(topic))
            }
            Err(e) => Err(TopicError::new(storage_error_code(&e), e.to_string())),
        }
    }

    /// Kafka refuses topics whose names differ only by '.' versus '_', since
    /// both map to the same metric names.
    fn colliding_topic(&self, name: &str) -> Option<String> {
        if !name.contains(['.', '_']) {
            return None;
        }
        let norm = name.replace('.', "_");
        self.logs
            .topics()
            .into_iter()
            .map(|t| t.name().to_string())
            .find(|other| other != name && other.replace('.', "_") == norm)
    }

    /// The producer id for a new idempotent producer.
    pub fn next_producer_id(&self) -> Result<i64, MetaError> {
        self.producer_ids.next_id()
    }
}

/// The storage defaults that broker-level keys set.
fn log_defaults(c: &BrokerConfig) -> LogConfig {
    LogConfig {
        segment_bytes: c.log_segment_bytes,
        segment_ms: c.log_roll_ms,
        index_interval_bytes: c.log_index_interval_bytes,
        segment_index_bytes: c.log_index_size_max_bytes,
        flush_messages: c.log_flush_interval_messages,
        flush_ms: c.log_flush_interval_ms,
        message_timestamp_type: if c.log_message_timestamp_type == "LogAppendTime" {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        },
        max_message_bytes: c.message_max_bytes,
        retention_ms: c.log_retention_ms,
        retention_bytes: c.log_retention_bytes,
        cleanup_policy: c.log_cleanup_policy.clone(),
        // Compaction settings: Kafka's defaults (no broker-level keys yet).
        ..LogConfig::default()
    }
}

/// The topics of `logs` KIP-848 consumer groups see: every topic but the
/// internal ones, which no pattern should pull into a subscription.
fn consumer_group_topics_of(logs: &LogManager) -> crate::group::consumer::topics::TopicsImage {
    crate::group::consumer::topics::TopicsImage::new(
        logs.topics()
            .iter()
            .filter(|t| !is_internal_topic(t.name()))
            .map(|t| (t.name().to_string(), t.id(), t.partition_count())),
    )
}

/// Topics the broker itself writes; clients may read but not write or reshape them.
pub fn is_internal_topic(name: &str) -> bool {
    matches!(
        name,
        "__consumer_offsets" | "__transaction_state" | crate::share::SHARE_STATE_TOPIC
    )
}

/// Kafka's topic name rules: 1..=249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return Err("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > 249 {
        return Err(format!(
            "Topic name is illegal, it can't be longer than 249 characters, topic name: {name}"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::RawConfig;
    use kafka_protocol::messages::*;

    /// A default request body for every served API: adding an API to the
    /// served table without a handler fails `every_advertised_version_is_served`.
    fn default_request(key: ApiKey) -> RequestKind {
        match key {
            ApiKey::Produce => RequestKind::Produce(ProduceRequest::default().with_acks(1)),
            ApiKey::Fetch => RequestKind::Fetch(FetchRequest::default()),
            ApiKey::ListOffsets => RequestKind::ListOffsets(ListOffsetsRequest::default()),
            ApiKey::Metadata => RequestKind::Metadata(MetadataRequest::default()),
            ApiKey::ApiVersions => RequestKind::ApiVersions(
                ApiVersionsRequest::default()
                    .with_client_software_name(kafka_protocol::protocol::StrBytes::from_static_str(
                        "t",
                    ))
                    .with_client_software_version(
                        kafka_protocol::protocol::StrBytes::from_static_str("1"),
                    ),
            ),
            ApiKey::CreateTopics => RequestKind::CreateTopics(CreateTopicsRequest::default()),
            ApiKey::DeleteTopics => RequestKind::DeleteTopics(DeleteTopicsRequest::default()),
            ApiKey::InitProducerId => RequestKind::InitProducerId(InitProducerIdRequest::default()),
            ApiKey::OffsetForLeaderEpoch => {
                RequestKind::OffsetForLeaderEpoch(OffsetForLeaderEpochRequest::default())
            }
            ApiKey::DescribeConfigs => {
                RequestKind::DescribeConfigs(DescribeConfigsRequest::default())
            }
            ApiKey::CreatePartitions => {
                RequestKind::CreatePartitions(CreatePartitionsRequest::default())
            }
            ApiKey::DescribeCluster => RequestKind::DescribeCluster(
                DescribeClusterRequest::default().with_endpoint_type(1),
            ),
            ApiKey::FindCoordinator => {
                RequestKind::FindCoordinator(FindCoordinatorRequest::default())
            }
            ApiKey::JoinGroup => RequestKind::JoinGroup(JoinGroupRequest::default()),
            ApiKey::SyncGroup => RequestKind::SyncGroup(SyncGroupRequest::default()),
            ApiKey::Heartbeat => RequestKind::Heartbeat(HeartbeatRequest::default()),
            ApiKey::LeaveGroup => RequestKind::LeaveGroup(LeaveGroupRequest::default()),
            ApiKey::OffsetCommit => RequestKind::OffsetCommit(OffsetCommitRequest::default()),
            ApiKey::OffsetFetch => {
                RequestKind::OffsetFetch(OffsetFetchRequest::default().with_topics(Some(vec![])))
            }
            ApiKey::DescribeGroups => RequestKind::DescribeGroups(DescribeGroupsRequest::default()),
            ApiKey::ListGroups => RequestKind::ListGroups(ListGroupsRequest::default()),
            ApiKey::DeleteGroups => RequestKind::DeleteGroups(DeleteGroupsRequest::default()),
            ApiKey::OffsetDelete => RequestKind::OffsetDelete(OffsetDeleteRequest::default()),
            ApiKey::DeleteRecords => RequestKind::DeleteRecords(DeleteRecordsRequest::default()),
            ApiKey::DescribeLogDirs => {
                RequestKind::DescribeLogDirs(DescribeLogDirsRequest::default())
            }
            ApiKey::AlterConfigs => RequestKind::AlterConfigs(AlterConfigsRequest::default()),
            ApiKey::IncrementalAlterConfigs => {
                RequestKind::IncrementalAlterConfigs(IncrementalAlterConfigsRequest::default())
            }
            ApiKey::AddPartitionsToTxn => {
                RequestKind::AddPartitionsToTxn(AddPartitionsToTxnRequest::default())
            }
            ApiKey::AddOffsetsToTxn => {
                RequestKind::AddOffsetsToTxn(AddOffsetsToTxnRequest::default())
            }
            ApiKey::EndTxn => RequestKind::EndTxn(EndTxnRequest::default()),
            ApiKey::TxnOffsetCommit => {
                RequestKind::TxnOffsetCommit(TxnOffsetCommitRequest::default())
            }
            ApiKey::DescribeTransactions => {
                RequestKind::DescribeTransactions(DescribeTransactionsRequest::default())
            }
            ApiKey::ListTransactions => {
                RequestKind::ListTransactions(ListTransactionsRequest::default())
            }
            ApiKey::DescribeTopicPartitions => RequestKind::DescribeTopicPartitions(
                DescribeTopicPartitionsRequest::default().with_response_partition_limit(2000),
            ),
            ApiKey::DescribeProducers => {
                RequestKind::DescribeProducers(DescribeProducersRequest::default())
            }
            ApiKey::ConsumerGroupHeartbeat => RequestKind::ConsumerGroupHeartbeat(
                ConsumerGroupHeartbeatRequest::default()
                    .with_group_id(GroupId(
                        kafka_protocol::protocol::StrBytes::from_static_str("g"),
                    ))
                    .with_member_id(kafka_protocol::protocol::StrBytes::from_static_str("m")),
            ),
            ApiKey::ConsumerGroupDescribe => {
                RequestKind::ConsumerGroupDescribe(ConsumerGroupDescribeRequest::default())
            }
            ApiKey::CreateAcls => RequestKind::CreateAcls(CreateAclsRequest::default()),
            ApiKey::DescribeAcls => RequestKind::DescribeAcls(DescribeAclsRequest::default()),
            ApiKey::DeleteAcls => RequestKind::DeleteAcls(DeleteAclsRequest::default()),
            ApiKey::SaslHandshake => RequestKind::SaslHandshake(SaslHandshakeRequest::default()),
            ApiKey::DescribeClientQuotas => {
                RequestKind::DescribeClientQuotas(DescribeClientQuotasRequest::default())
            }
            ApiKey::SaslAuthenticate => {
                RequestKind::SaslAuthenticate(SaslAuthenticateRequest::default())
            }
            ApiKey::DescribeUserScramCredentials => RequestKind::DescribeUserScramCredentials(
                DescribeUserScramCredentialsRequest::default(),
            ),
            ApiKey::AlterUserScramCredentials => {
                RequestKind::AlterUserScramCredentials(AlterUserScramCredentialsRequest::default())
            }
            ApiKey::ShareGroupHeartbeat => {
                RequestKind::ShareGroupHeartbeat(ShareGroupHeartbeatRequest::default())
            }
            ApiKey::ShareGroupDescribe => {
                RequestKind::ShareGroupDescribe(ShareGroupDescribeRequest::default())
            }
            ApiKey::ShareFetch => RequestKind::ShareFetch(ShareFetchRequest::default()),
            ApiKey::ShareAcknowledge => {
                RequestKind::ShareAcknowledge(ShareAcknowledgeRequest::default())
            }
            ApiKey::DescribeShareGroupOffsets => {
                RequestKind::DescribeShareGroupOffsets(DescribeShareGroupOffsetsRequest::default())
            }
            ApiKey::AlterShareGroupOffsets => {
                RequestKind::AlterShareGroupOffsets(AlterShareGroupOffsetsRequest::default())
            }
            ApiKey::DeleteShareGroupOffsets => {
                RequestKind::DeleteShareGroupOffsets(DeleteShareGroupOffsetsRequest::default())
            }
            other => panic!("{other:?} is served but has no default request in this test"),
        }
    }

    #[tokio::test]
    async fn every_advertised_version_is_served() {
        let dir = tempfile::tempdir().unwrap();
        let mut raw = RawConfig::default();
        raw.merge_set(&format!("log.dirs={}", dir.path().display()))
            .unwrap();
        let config = BrokerConfig::resolve(&raw).unwrap();
        let broker = Broker::open(config, Arc::new(SystemClock), &[9092]).unwrap();
        for range in protocol::SERVED {
            for version in range.min..=range.max {
                if !protocol::versions::accepts(*range, version) {
                    continue;
                }
                // Round-trip through the wire codec so the request is one a client could send.
                let mut frame = bytes::BytesMut::new();
                RequestHeader::default()
                    .with_request_api_key(range.key as i16)
                    .with_request_api_version(version)
                    .with_correlation_id(1)
                    .encode(&mut frame, range.key.request_header_version(version))
                    .unwrap();
                default_request(range.key)
                    .encode(&mut frame, version)
                    .unwrap();
                let request = match protocol::decode_request(frame.freeze()).unwrap() {
                    protocol::Incoming::Request(r) => r,
                    other => panic!("{other:?}"),
                };
                let response = broker
                    .handle(request, &Session::plaintext("/127.0.0.1"))
                    .await
                    .unwrap_or_else(|e| panic!("{:?} v{version}: {e}", range.key));
                let body =
                    response.unwrap_or_else(|| panic!("{:?} v{version}: no response", range.key));
                let mut out = bytes::BytesMut::new();
                protocol::encode_response(&mut out, range.key, version, 1, &body)
                    .unwrap_or_else(|e| panic!("{:?} v{version}: {e}", range.key));
            }
        }
    }

    #[test]
    fn produce_v0_to_v2_and_fetch_v0_to_v3_are_served() {
        // Advertised from v0 (librdkafka's compression probe needs Produce's)
        // and served: legacy clients send them (KIP-896 removed them in Kafka 4.0).
        for key in [ApiKey::Produce, ApiKey::Fetch] {
            let r = protocol::served(key).unwrap();
            assert_eq!(r.min, 0, "{key:?}");
            assert!(protocol::versions::accepts(r, 0), "{key:?}");
        }
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "bad name", "é", &"a".repeat(250)] {
            assert!(validate_topic_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_topic_name(&"a".repeat(249)).is_ok());
    }
}
