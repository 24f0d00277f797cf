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
use super::records::{parse_references, references_json, ConfigValue};
use super::store::{
    ConfigUpdate, Registry, SchemaRequest, StoredSchema, SubjectVersion, VersionSpec,
};

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

/// A PUT /config body: `compatibility` (or `compatibilityLevel`) and
/// `normalize`; a field left out keeps the stored value, `null` clears it.
fn config_update(body: Body) -> Result<ConfigUpdate, RegistryError> {
    let v = body_json(body)?;
    let o = v.as_object().ok_or_else(|| {
        RegistryError::Http(422, "Unrecognized request body: not an object".to_string())
    })?;
    let compatibility = match o
        .get("compatibility")
        .or_else(|| o.get("compatibilityLevel"))
    {
        None => None,
        Some(Value::Null) => Some(None),
        Some(l) => Some(Some(
            l.as_str()
                .and_then(Compatibility::parse)
                .ok_or(RegistryError::InvalidCompatibility)?,
        )),
    };
    let normalize = match o.get("normalize") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Bool(b)) => Some(Some(*b)),
        Some(other) => {
            return Err(RegistryError::Http(
                422,
                format!("Unrecognized request body: normalize must be a boolean, not {other}"),
            ))
        }
    };
    Ok(ConfigUpdate {
        compatibility,
        normalize,
    })
}

/// A config as GET and DELETE /config answer it (Confluent's Config entity).
fn config_json(c: &ConfigValue) -> Value {
    let mut m = Map::new();
    if let Some(n) = c.normalize {
        m.insert("normalize".into(), n.into());
    }
    if let Some(l) = c.compatibility {
        m.insert("compatibilityLevel".into(), l.name().into());
    }
    Value::Object(m)
}

/// A config as PUT /config answers it (Confluent's ConfigUpdateRequest:
/// the level under `compatibility`).
fn config_update_json(c: &ConfigValue) -> Value {
    let mut m = Map::new();
    if let Some(l) = c.compatibility {
        m.insert("compatibility".into(), l.name().into());
    }
    if let Some(n) = c.normalize {
        m.insert("normalize".into(), n.into());
    }
    Value::Object(m)
}

fn mode_from(body: Body) -> Result<Mode, RegistryError> {
    let v = body_json(body)?;
    v.get("mode")
        .and_then(Value::as_str)
        .and_then(Mode::parse)
        .ok_or(RegistryError::InvalidMode)
}

async fn get_global_config(State(r): Reg) -> Answer {
    Ok(ok(config_json(&r.config(None, true)?)))
}

async fn put_global_config(State(r): Reg, body: Body) -> Answer {
    let update = config_update(body)?;
    Ok(ok(config_update_json(&r.update_config(None, update)?)))
}

async fn delete_global_config(State(r): Reg) -> Answer {
    Ok(ok(config_json(&r.delete_config(None)?)))
}

async fn get_config(State(r): Reg, Path(subject): Path<String>, Query(q): Params) -> Answer {
    let c = r.config(Some(&subject), flag(&q, "defaultToGlobal"))?;
    Ok(ok(config_json(&c)))
}

async fn put_config(State(r): Reg, Path(subject): Path<String>, body: Body) -> Answer {
    let update = config_update(body)?;
    Ok(ok(config_update_json(
        &r.update_config(Some(&subject), update)?,
    )))
}

async fn delete_config(State(r): Reg, Path(subject): Path<String>) -> Answer {
    Ok(ok(config_json(&r.delete_config(Some(&subject))?)))
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
