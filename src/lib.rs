//! Skiff: a single-binary broker that speaks the Kafka wire protocol.
//!
//! # Layout
//!
//! Dependencies point down only (see `../shared/ARCHITECTURE.md`):
//!
//! - [`server`]: TCP accept loop, per-connection framing, responses in request order.
//! - [`protocol`]: request/response codecs (the kafka-protocol crate) and the
//!   table of served API versions that ApiVersions advertises.
//! - [`broker`]: shared broker state and one handler per API; maps storage
//!   errors to Kafka error codes.
//! - [`storage`]: topics → partitions → logs of segments (`.log`, `.index`,
//!   `.timeindex`), recovery, idempotent producer state. No wire protocol.
//! - [`acl`]: ACLs, the authorizer that checks a principal's action against
//!   them (Kafka's StandardAuthorizer rules), and their durable file.
//! - [`group`]: the consumer group coordinator (classic protocol) and
//!   committed offsets in the internal `__consumer_offsets` topic.
//! - [`share`]: share groups (KIP-932): members, share-partition record
//!   states and share sessions, persisted in `__share_group_state`.
//! - [`record`]: the Kafka v2 record batch format (validation, CRC, in-place offsets).
//! - [`http`]: the web console, its JSON API, `/metrics` and health checks, on
//!   their own small runtime thread.
//! - [`schema_registry`]: a Confluent-compatible Schema Registry (REST API on
//!   its own listener, schemas in the internal `_schemas` topic).
//! - [`metrics`]: a leaf: lock-free counters and histograms anyone may record into.
//! - [`security`]: listeners, TLS, SASL authentication and SCRAM credentials;
//!   yields the principal of a connection (authorization is the broker's).
//! - [`config`], [`clock`], [`meta`]: leaves: configuration, injected time,
//!   broker metadata files.

pub mod acl;
pub mod broker;
pub mod clock;
pub mod config;
pub mod coordinator_log;
pub mod group;
pub mod http;
mod launch;
pub mod meta;
pub mod metrics;
pub mod protocol;
pub mod record;
pub mod schema_registry;
pub mod security;
pub mod server;
pub mod share;
pub mod storage;
pub mod txn;

pub use launch::{Broker, BrokerBuilder, LaunchError};
