//! The console's view of the built-in Schema Registry: subjects with their
//! versions and levels (`/api/schemas…`), and the decoding of keys and values
//! written in the Confluent wire format with their registered schema.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::api::ApiError;
use super::AppState;
use crate::schema_registry::format::{Parsed, SchemaType};
use crate::schema_registry::store::VersionSpec;
use crate::schema_registry::{avro, protobuf, wire, Registry};

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/schemas", get(list))
        .route("/api/schemas/{subject}", get(subject))
}

fn registry(s: &AppState) -> Result<&Registry, ApiError> {
    s.registry
        .as_deref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "the schema registry is not running"))
}

async fn list(State(s): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let r = registry(&s)?;
    let global = r
        .compatibility(None, true)
        .map(|c| c.name())
        .unwrap_or("BACKWARD");
    let subjects: Vec<Value> = r
        .subjects(true, "")
        .into_iter()
        .map(|name| {
            let latest = r.version(&name, VersionSpec::Latest, false).ok();
            let level = r.compatibility(Some(&name), true).map(|c| c.name()).ok();
            json!({
                "subject": name,
                "deleted": latest.is_none(),
                "latest_version": latest.as_ref().map(|v| v.version),
                "latest_id": latest.as_ref().map(|v| v.schema.id),
                "schema_type": latest.as_ref().map(|v| v.schema.schema_type.name()),
                "versions": r.versions(&name, false).map(|v| v.len()).unwrap_or(0),
                "compatibility": level,
            })
        })
        .collect();
    Ok(Json(json!({"compatibility": global, "subjects": subjects})))
}

async fn subject(
    State(s): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = registry(&s)?;
    let versions = r
        .versions(&name, true)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e.to_string()))?;
    let list: Vec<Value> = versions
        .iter()
        .filter_map(|v| r.version(&name, VersionSpec::Number(*v), true).ok())
        .map(|v| {
            json!({
                "version": v.version,
                "id": v.schema.id,
                "deleted": v.deleted,
                "schema_type": v.schema.schema_type.name(),
                "references": v.schema.references.iter().map(|x| json!({"name": x.name, "subject": x.subject, "version": x.version})).collect::<Vec<_>>(),
                "schema": pretty(v.schema.schema_type, &v.schema.schema),
            })
        })
        .collect();
    let level = r
        .compatibility(Some(&name), true)
        .map(|c| c.name())
        .unwrap_or("BACKWARD");
    Ok(Json(
        json!({"subject": name, "compatibility": level, "versions": list}),
    ))
}

/// Avro and JSON Schema texts pretty-printed (for reading and diffing).
fn pretty(t: SchemaType, text: &str) -> String {
    if t == SchemaType::Protobuf {
        return text.to_string();
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

/// `{size, encoding: avro|protobuf|json-schema, schema_id, text}` for a
/// Confluent-framed payload whose schema is registered and decodes it;
/// `None` otherwise (the caller falls back to JSON/UTF-8/hex).
pub(crate) fn decode_framed(registry: &Registry, bytes: &[u8]) -> Option<Value> {
    let (id, payload) = wire::split(bytes)?;
    let stored = registry.schema_by_id(id)?;
    let parsed = registry.parsed(&stored).ok()?;
    let (encoding, value) = match parsed {
        Parsed::Avro(a) => ("avro", avro::decode(a, payload).ok()?),
        Parsed::Protobuf(p) => ("protobuf", protobuf::decode(p, payload).ok()?),
        Parsed::Json(_) => ("json-schema", serde_json::from_slice(payload).ok()?),
    };
    Some(json!({
        "size": bytes.len(),
        "encoding": encoding,
        "schema_id": id,
        "text": serde_json::to_string_pretty(&value).ok()?,
        "truncated": false,
    }))
}
