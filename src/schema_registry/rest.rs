//! The REST endpoints, with the paths, query parameters and JSON shapes of
//! Confluent's Schema Registry API (and its error bodies, see [`super::error`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use super::error::{json_response, RegistryError};
use super::format::{Compatibility, Mode, SchemaType};
use super::records::{parse_references, references_json};
use super::store::{Registry, SchemaRequest, StoredSchema, SubjectVersion, VersionSpec};

type Reg = State<Arc<Registry>>;
type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, RegistryError>;
type Body = Result<Bytes, BytesRejection>;

/// The registry's routes, with bodies capped at `max_body` bytes.
pub fn router(registry: Arc<Registry>, max_body: usize) -> Router {
    Router::new()
        .route("/", get(|| async { ok(json!({})) }))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route(
            "/schemas/types",
            get(|| async { ok(json!(["JSON", "PROTOBUF", "AVRO"])) }),
        )
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(schema_text_by_id))
        .route("/schemas/ids/{id}/subjects", get(id_subjects))
        .route("/schemas/ids/{id}/versions", get(id_versions))
        .route(
            "/config",
            get(get_global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(get_config).put(put_config).delete(delete_config),
        )
        .route("/mode", get(get_global_mode).put(put_global_mode))
        .route(
            "/mode/{subject}",
            get(get_mode).put(put_mode).delete(delete_mode),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(check_version),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(check_all),
        )
        .fallback(|| async {
            RegistryError::Http(404, "HTTP 404 Not Found".to_string()).into_response()
        })
        .method_not_allowed_fallback(|| async {
            RegistryError::Http(405, "HTTP 405 Method Not Allowed".to_string()).into_response()
        })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(registry)
}

fn ok(body: Value) -> Response {
    json_response(StatusCode::OK, &body)
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn body_json(body: Body) -> Result<Value, RegistryError> {
    let bytes = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => RegistryError::Http(
            413,
            "Request body is larger than schema.registry.max.schema.bytes".to_string(),
        ),
        other => RegistryError::Http(400, other.body_text()),
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::Http(400, format!("Unrecognized request body: {e}")))
}

/// Confluent's RegisterSchemaRequest: schema, schemaType, references, id, version.
fn schema_request(body: Body) -> Result<SchemaRequest, RegistryError> {
    let v = body_json(body)?;
    let schema = v
        .get("schema")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| RegistryError::InvalidSchema("Empty schema".to_string()))?
        .to_string();
    let schema_type = match v.get("schemaType").and_then(Value::as_str) {
        None => SchemaType::Avro,
        Some(t) => SchemaType::parse(t)
            .ok_or_else(|| RegistryError::InvalidSchema(format!("Invalid schema type {t}")))?,
    };
    let references = parse_references(v.get("references"))
        .ok_or_else(|| RegistryError::InvalidSchema("Invalid references".to_string()))?;
    let int = |k: &str| {
        v.get(k)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    Ok(SchemaRequest {
        schema,
        schema_type,
        references,
        id: int("id"),
        version: int("version"),
    })
}

/// The fields every schema answer carries: schemaType unless AVRO,
/// references when any, then schema.
fn schema_fields(m: &mut Map<String, Value>, r: &Registry, s: &StoredSchema, fmt: Fmt<'_>) {
    if s.schema_type != SchemaType::Avro {
        m.insert("schemaType".into(), s.schema_type.name().into());
    }
    if !s.references.is_empty() {
        m.insert("references".into(), references_json(&s.references));
    }
    m.insert("schema".into(), schema_text(r, s, fmt).into());
}

/// `?format=`: `serialized` renders a Protobuf schema as a base64
/// FileDescriptorProto (what confluent-kafka Python's deserializer asks for).
type Fmt<'a> = Option<&'a String>;

fn schema_text(r: &Registry, s: &StoredSchema, fmt: Fmt<'_>) -> String {
    if s.schema_type == SchemaType::Protobuf && fmt.is_some_and(|f| f == "serialized") {
        if let Ok(super::format::Parsed::Protobuf(p)) = r.parsed(s) {
            if let Some(b64) = super::protobuf::serialized(p) {
                return b64;
            }
        }
    }
    s.schema.clone()
}

fn version_json(r: &Registry, v: &SubjectVersion, fmt: Fmt<'_>) -> Value {
    let mut m = Map::new();
    m.insert("subject".into(), v.subject.as_str().into());
    m.insert("version".into(), v.version.into());
    m.insert("id".into(), v.schema.id.into());
    schema_fields(&mut m, r, &v.schema, fmt);
    Value::Object(m)
}

/// A stored schema's own text as the body (`.../schema` endpoints).
fn raw_schema(reg: &Registry, s: &StoredSchema, fmt: Fmt<'_>) -> Response {
    let mut r = (StatusCode::OK, schema_text(reg, s, fmt)).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(super::error::CONTENT_TYPE),
    );
    r
}

async fn list_subjects(State(r): Reg, Query(q): Params) -> Answer {
    let prefix = q.get("subjectPrefix").map(String::as_str).unwrap_or("");
    Ok(ok(json!(r.subjects(flag(&q, "deleted"), prefix))))
}

async fn list_versions(State(r): Reg, Path(subject): Path<String>, Query(q): Params) -> Answer {
    Ok(ok(json!(r.versions(&subject, flag(&q, "deleted"))?)))
}

async fn register(
    State(r): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Body,
) -> Answer {
    let req = schema_request(body)?;
    let (id, version) = r.register(&subject, &req, flag(&q, "normalize"))?;
    let v = r.version(&subject, VersionSpec::Number(version), true)?;
    let mut m = Map::new();
    m.insert("id".into(), id.into());
    m.insert("version".into(), version.into());
    schema_fields(&mut m, &r, &v.schema, q.get("format"));
    Ok(ok(Value::Object(m)))
}

async fn lookup(
    State(r): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Body,
) -> Answer {
    let req = schema_request(body)?;
    let v = r.lookup(&subject, &req, flag(&q, "normalize"), flag(&q, "deleted"))?;
    Ok(ok(version_json(&r, &v, q.get("format"))))
}

async fn get_version(
    State(r): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Answer {
    let v = r.version(&subject, VersionSpec::parse(&version)?, flag(&q, "deleted"))?;
    Ok(ok(version_json(&r, &v, q.get("format"))))
}

async fn get_version_schema(
    State(r): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Answer {
    let v = r.version(&subject, VersionSpec::parse(&version)?, flag(&q, "deleted"))?;
    Ok(raw_schema(&r, &v.schema, q.get("format")))
}

async fn referenced_by(State(r): Reg, Path((subject, version)): Path<(String, String)>) -> Answer {
    Ok(ok(json!(
        r.referenced_by(&subject, VersionSpec::parse(&version)?)?
    )))
}

async fn delete_subject(State(r): Reg, Path(subject): Path<String>, Query(q): Params) -> Answer {
    Ok(ok(
        json!(r.delete_subject(&subject, flag(&q, "permanent"))?),
    ))
}

async fn delete_version(
    State(r): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Answer {
    let spec = VersionSpec::parse(&version)?;
    Ok(ok(json!(r.delete_version(
        &subject,
        spec,
        flag(&q, "permanent")
    )?)))
}

fn parse_id(id: &str) -> Result<i32, RegistryError> {
    id.parse::<i32>()
        .map_err(|_| RegistryError::Http(404, "HTTP 404 Not Found".to_string()))
}

fn stored(r: &Registry, id: &str) -> Result<Arc<StoredSchema>, RegistryError> {
    let id = parse_id(id)?;
    r.schema_by_id(id)
        .ok_or(RegistryError::SchemaIdNotFound(id))
}

async fn schema_by_id(State(r): Reg, Path(id): Path<String>, Query(q): Params) -> Answer {
    let s = stored(&r, &id)?;
    let mut m = Map::new();
    schema_fields(&mut m, &r, &s, q.get("format"));
    Ok(ok(Value::Object(m)))
}

async fn schema_text_by_id(State(r): Reg, Path(id): Path<String>, Query(q): Params) -> Answer {
    let s = stored(&r, &id)?;
    Ok(raw_schema(&r, &s, q.get("format")))
}

async fn id_subjects(State(r): Reg, Path(id): Path<String>, Query(q): Params) -> Answer {
    let s = stored(&r, &id)?;
    let mut subjects: Vec<String> = r
        .id_versions(s.id, flag(&q, "deleted"))
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    subjects.dedup();
    Ok(ok(json!(subjects)))
}

async fn id_versions(State(r): Reg, Path(id): Path<String>, Query(q): Params) -> Answer {
    let s = stored(&r, &id)?;
    let list: Vec<Value> = r
        .id_versions(s.id, flag(&q, "deleted"))
        .into_iter()
        .map(|(subject, version)| json!({"subject": subject, "version": version}))
        .collect();
    Ok(ok(Value::Array(list)))
}

fn level_from(body: Body) -> Result<Compatibility, RegistryError> {
    let v = body_json(body)?;
    v.get("compatibility")
        .or_else(|| v.get("compatibilityLevel"))
        .and_then(Value::as_str)
        .and_then(Compatibility::parse)
        .ok_or(RegistryError::InvalidCompatibility)
}

fn mode_from(body: Body) -> Result<Mode, RegistryError> {
    let v = body_json(body)?;
    v.get("mode")
        .and_then(Value::as_str)
        .and_then(Mode::parse)
        .ok_or(RegistryError::InvalidMode)
}

async fn get_global_config(State(r): Reg) -> Answer {
    Ok(ok(
        json!({"compatibilityLevel": r.compatibility(None, true)?.name()}),
    ))
}

async fn put_global_config(State(r): Reg, body: Body) -> Answer {
    let level = level_from(body)?;
    r.set_compatibility(None, level)?;
    Ok(ok(json!({"compatibility": level.name()})))
}

async fn delete_global_config(State(r): Reg) -> Answer {
    Ok(ok(
        json!({"compatibilityLevel": r.delete_compatibility(None)?.name()}),
    ))
}

async fn get_config(State(r): Reg, Path(subject): Path<String>, Query(q): Params) -> Answer {
    let level = r.compatibility(Some(&subject), flag(&q, "defaultToGlobal"))?;
    Ok(ok(json!({"compatibilityLevel": level.name()})))
}

async fn put_config(State(r): Reg, Path(subject): Path<String>, body: Body) -> Answer {
    let level = level_from(body)?;
    r.set_compatibility(Some(&subject), level)?;
    Ok(ok(json!({"compatibility": level.name()})))
}

async fn delete_config(State(r): Reg, Path(subject): Path<String>) -> Answer {
    Ok(ok(
        json!({"compatibilityLevel": r.delete_compatibility(Some(&subject))?.name()}),
    ))
}

async fn get_global_mode(State(r): Reg) -> Answer {
    Ok(ok(json!({"mode": r.mode(None, true)?.name()})))
}

async fn put_global_mode(State(r): Reg, body: Body) -> Answer {
    let mode = mode_from(body)?;
    r.set_mode(None, mode)?;
    Ok(ok(json!({"mode": mode.name()})))
}

async fn get_mode(State(r): Reg, Path(subject): Path<String>, Query(q): Params) -> Answer {
    Ok(ok(
        json!({"mode": r.mode(Some(&subject), flag(&q, "defaultToGlobal"))?.name()}),
    ))
}

async fn put_mode(State(r): Reg, Path(subject): Path<String>, body: Body) -> Answer {
    let mode = mode_from(body)?;
    r.set_mode(Some(&subject), mode)?;
    Ok(ok(json!({"mode": mode.name()})))
}

async fn delete_mode(State(r): Reg, Path(subject): Path<String>) -> Answer {
    Ok(ok(json!({"mode": r.delete_mode(&subject)?.name()})))
}

fn compat_answer(messages: Vec<String>, verbose: bool) -> Response {
    let mut m = Map::new();
    m.insert("is_compatible".into(), messages.is_empty().into());
    if verbose {
        m.insert("messages".into(), json!(messages));
    }
    ok(Value::Object(m))
}

async fn check_version(
    State(r): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
    body: Body,
) -> Answer {
    let spec = VersionSpec::parse(&version)?;
    let req = schema_request(body)?;
    let messages = r.check_compatibility(&subject, Some(spec), &req, flag(&q, "normalize"))?;
    Ok(compat_answer(messages, flag(&q, "verbose")))
}

async fn check_all(
    State(r): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Body,
) -> Answer {
    let req = schema_request(body)?;
    let messages = r.check_compatibility(&subject, None, &req, flag(&q, "normalize"))?;
    Ok(compat_answer(messages, flag(&q, "verbose")))
}
