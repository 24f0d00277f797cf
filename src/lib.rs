//! Skiff: a single-binary broker that speaks the Kafka wire protocol.
//!
//! # Layout
//!
//! Dependencies point down only (see `../shared/ARCHITECTURE.md`); each
//! module's own doc comment maps its files.
//!
//! The edge:
//! - `launch` ([`Broker`], [`BrokerBuilder`]): starts and stops one whole
//!   broker in-process: binds the listeners, opens the data dir, runs the
//!   background tasks and the HTTP threads. The `skiff` binary and embedding
//!   tests both go through it; it is the crate's one supported API.
//! - `server`: accept loops per listener, TLS and SASL before the first
//!   request, per-connection framing, responses in request order.
//! - `security`: listener settings, TLS (rustls), SASL mechanisms (PLAIN,
//!   SCRAM, OAUTHBEARER) and stored SCRAM credentials; yields a connection's
//!   principal. `skiff dev-certs` lives here.
//! - `protocol`: request/response codecs (the kafka-protocol crate) and the
//!   table of served API versions that ApiVersions advertises.
//!
//! The broker:
//! - `broker`: shared broker state, the one dispatch from a request to its
//!   handler (one file per API under `broker/handlers/`), authorization calls,
//!   and the only mapping from layer errors to Kafka error codes.
//! - `acl`: ACL bindings, the authorizer (Kafka's StandardAuthorizer rules)
//!   and their durable file.
//!
//! Coordinators (each keeps its state in an internal compacted topic):
//! - `group`: classic groups (`classic_*`, `ClassicGroup`) and KIP-848
//!   consumer groups (`consumer/`, `consumer_membership`) in one
//!   `GroupMetadataManager`, committed offsets in the `OffsetMetadataManager`,
//!   all persisted to `__consumer_offsets` (`offsets.rs`); a thin
//!   `GroupCoordinator` routes.
//! - `share`: share groups (KIP-932): members, share-partition record
//!   states, share sessions, persisted in `__share_group_state`.
//! - `txn`: the transaction coordinator (`__transaction_state`, markers).
//! - `schema_registry`: a Confluent-compatible Schema Registry (REST API on
//!   its own listener, schemas in `_schemas`, Avro/Protobuf/JSON Schema
//!   compatibility).
//! - `coordinator_log`: the internal-topic log the coordinators share
//!   (append, flush policy, replay).
//!
//! Storage and formats (no wire protocol):
//! - `storage`: topics → partitions → `Log` (`LocalLog` segments, the
//!   loader in `recovery`, `retention`, `txn_state`, the cleaner), indexes and
//!   idempotent producer state.
//! - `record`: the Kafka record batch formats (v2 validation, CRC, in-place
//!   offsets; legacy magic 0/1 conversion).
//!
//! Around it:
//! - `http`: the web console, its JSON API, `/metrics` and health checks, on
//!   their own runtime thread.
//! - `metrics`: a leaf: lock-free counters and histograms anyone may record into.
//! - [`config`], `clock`, `meta`: leaves: configuration (Kafka's key
//!   names), injected time, broker metadata files.
//!
//! Only `launch`'s types and [`config`] are public API. `protocol`, `record`,
//! `schema_registry` and `security` are public but hidden from the docs, for
//! the fuzz targets and the compat tests' independent decoders; everything
//! else is `pub(crate)`.

pub(crate) mod acl;
pub(crate) mod broker;
pub(crate) mod clock;
pub mod config;
pub(crate) mod coordinator_log;
pub(crate) mod group;
pub(crate) mod http;
mod launch;
pub(crate) mod meta;
pub(crate) mod metrics;
// Public only for the fuzz targets (fuzz/) and the compat tests' independent
// decoders, and `skiff dev-certs`; not a supported API.
#[doc(hidden)]
pub mod protocol;
// Public only for the fuzz targets (fuzz/) and the compat tests' independent
// decoders, and `skiff dev-certs`; not a supported API.
#[doc(hidden)]
pub mod record;
// Public only for the fuzz targets (fuzz/) and the compat tests' independent
// decoders, and `skiff dev-certs`; not a supported API.
#[doc(hidden)]
pub mod schema_registry;
// Public only for the fuzz targets (fuzz/) and the compat tests' independent
// decoders, and `skiff dev-certs`; not a supported API.
#[doc(hidden)]
pub mod security;
pub(crate) mod server;
pub(crate) mod share;
pub(crate) mod storage;
pub(crate) mod txn;

pub use launch::{Broker, BrokerBuilder, LaunchError};
