//! A Confluent-compatible Schema Registry built into the broker: the REST API
//! on its own listener (`schema.registry.listeners`, default `127.0.0.1:8081`),
//! schemas stored in the compacted internal topic `_schemas` in Confluent's
//! key/value JSON format, and compatibility checks for Avro, Protobuf and
//! JSON Schema.
//!
//! Deps: storage, coordinator_log, config, clock, http (its listener
//! plumbing only). The console (src/http) reads the registry through
//! [`Registry`] to show schemas and decode Confluent wire-format messages.
//!
//! - [`store`]: the registry: its operations, writes to `_schemas`, the replay;
//!   `state`: the memory state and the one function that applies a record.
//! - [`records`]: the `_schemas` key and value JSON shapes.
//! - [`rest`] and [`error`]: the endpoints and Confluent's error bodies.
//! - [`format`]: parsing and canonical text per schema type, and the
//!   compatibility dispatch; [`avro`], [`protobuf`], [`json_schema`] the rules
//!   ([`json_schema_model`] and [`json_schema_diff`] for JSON Schema);
//!   [`protobuf_normalize`] Confluent's normalized Protobuf text.
//! - [`wire`]: the Confluent wire format (magic 0, schema id, payload).

pub mod avro;
pub mod error;
pub mod format;
pub mod json_schema;
pub mod json_schema_diff;
pub mod json_schema_model;
pub mod protobuf;
pub mod protobuf_diff;
pub mod protobuf_normalize;
pub mod records;
pub mod rest;
mod state;
pub mod store;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use tracing::info;

pub use store::Registry;

use crate::http::HttpError;

/// Serves the registry's REST API on `schema.registry.listeners` (own
/// thread, see src/http). Logs `schema registry ready addr=IP:PORT`.
/// Returns the bound address and a handle whose notification stops the
/// thread; `None` when disabled or the default port is taken.
pub fn start(
    registry: Arc<Registry>,
) -> Result<Option<(SocketAddr, Arc<tokio::sync::Notify>)>, HttpError> {
    let config = registry.broker_config();
    let Some(hp) = config.schema_registry_listener.clone() else {
        info!("schema registry disabled (schema.registry.listeners is empty or off)");
        return Ok(None);
    };
    let key = "schema.registry.listeners";
    let Some(listener) = crate::http::bind(&config, key, &hp)? else {
        return Ok(None);
    };
    let addr = crate::http::local_addr(&listener, key)?;
    let max_body = config.schema_registry_max_bytes;
    let stop = crate::http::serve_on_thread(
        "skiff-schema-registry",
        listener,
        rest::router(registry, max_body),
    )?;
    info!("schema registry ready addr={addr}");
    Ok(Some((addr, stop)))
}
