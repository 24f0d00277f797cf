//! The JSON API under `/api`: the facts every console view shows, with
//! stable field names (documented in README.md, "HTTP console and API").

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::messages::read_page;
use super::AppState;
use crate::broker::topic_configs::{
    self, SOURCE_DEFAULT, SOURCE_DYNAMIC_TOPIC, SOURCE_STATIC_BROKER,
};
use crate::broker::{is_internal_topic, Broker};
use crate::config::Source;
use crate::group::coordinator::{
    ConsumerGroupDescription, GroupDescription, TopicPartitions, CONSUMER_GROUP_TYPE,
};
use crate::record::{BatchBuilder, NewRecord};
use crate::share::snapshot::ShareGroupView;
use crate::storage::Topic;

/// Most messages one page holds.
pub const MAX_PAGE: usize = 100;
/// Default page size.
pub const DEFAULT_PAGE: usize = 20;
/// Most log bytes read to fill one page.
pub const MAX_PAGE_READ_BYTES: usize = 16 * 1024 * 1024;
/// Default and largest shown size of one key/value/header.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 4096;
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/broker", get(broker_info))
        .route("/api/topics", get(list_topics).post(create_topic))
        .route(
            "/api/topics/{topic}",
            get(topic_detail).delete(delete_topic),
        )
        .route(
            "/api/topics/{topic}/partitions/{partition}/messages",
            get(browse),
        )
        .route("/api/topics/{topic}/messages", axum::routing::post(produce))
        .route("/api/groups", get(list_groups))
        .route("/api/groups/{group}", get(group_detail))
}

/// An error answer: `{"error": message}` with a status.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, what)
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Default => "default",
        Source::File => "file",
        Source::Env => "env",
        Source::Cli => "cli",
    }
}

fn topic_source_name(s: i8) -> &'static str {
    match s {
        SOURCE_DYNAMIC_TOPIC => "topic",
        SOURCE_STATIC_BROKER => "broker",
        SOURCE_DEFAULT => "default",
        _ => "other",
    }
}

async fn broker_info(State(s): State<Arc<AppState>>) -> ApiResult {
    let b = &s.broker;
    let c = b.config();
    let log_bytes: u64 = b
        .logs()
        .topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|l| l.size_bytes())
        .sum();
    let disk = b.logs().disk_space();
    let m = crate::metrics::global();
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "node_id": b.node_id(),
        "cluster_id": b.cluster_id(),
        "uptime_ms": m.uptime().as_millis() as u64,
        "start_time_ms": (m.start_time_unix() * 1000.0) as i64,
        "data_dir": b.logs().data_dir().display().to_string(),
        "log_bytes": log_bytes,
        "disk_total_bytes": disk.map(|d| d.0),
        "disk_free_bytes": disk.map(|d| d.1),
        "listener": c.first_listener().bind.to_string(),
        "advertised_listener": b.advertised().to_string(),
        "http_listener": s.http_addr.map(|a| a.to_string()),
        "read_only": s.read_only,
        "topic_count": b.logs().topics().len(),
        "group_count": b.groups().group_count(),
        "config": c.entries.iter().map(|e| json!({
            "name": e.key.name,
            // Secrets (ssl.keystore.key, sasl.users, ...) are never shown.
            "value": if e.key.key_type == crate::config::KeyType::Password { None } else { e.value.clone() },
            "default": e.key.default,
            "source": source_name(e.source),
            "doc": e.key.doc,
        })).collect::<Vec<_>>(),
    })))
}

fn partition_json(t: &Topic) -> Vec<Value> {
    t.partitions()
        .iter()
        .map(|l| {
            json!({
                "partition": l.topic_partition().partition,
                "log_start_offset": l.log_start_offset(),
                "high_watermark": l.high_watermark(),
                "messages": (l.high_watermark() - l.log_start_offset()).max(0),
                "size_bytes": l.size_bytes(),
                "segment_count": l.segment_count(),
            })
        })
        .collect()
}

fn topic_summary(t: &Topic) -> Value {
    let parts = t.partitions();
    json!({
        "name": t.name(),
        "id": t.id().to_string(),
        "internal": is_internal_topic(t.name()),
        "partition_count": t.partition_count(),
        "messages": parts.iter().map(|l| (l.high_watermark() - l.log_start_offset()).max(0)).sum::<i64>(),
        "size_bytes": parts.iter().map(|l| l.size_bytes()).sum::<u64>(),
    })
}

async fn list_topics(State(s): State<Arc<AppState>>) -> ApiResult {
    let mut topics = s.broker.logs().topics();
    topics.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(Json(json!({
        "topics": topics.iter().map(|t| topic_summary(t)).collect::<Vec<_>>(),
    })))
}

async fn topic_detail(State(s): State<Arc<AppState>>, Path(name): Path<String>) -> ApiResult {
    let b = &s.broker;
    let t = b
        .logs()
        .topic(&name)
        .ok_or_else(|| not_found("no such topic"))?;
    let configs = topic_configs::describe_topic(&t.overrides(), b.config(), b.logs().defaults());
    let mut v = topic_summary(&t);
    v["partitions"] = Value::from(partition_json(&t));
    v["configs"] = configs
        .iter()
        .map(|c| json!({ "name": c.name, "value": c.value, "source": topic_source_name(c.source) }))
        .collect();
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
struct CreateTopic {
    name: String,
    #[serde(default)]
    partitions: Option<i32>,
    #[serde(default)]
    configs: BTreeMap<String, String>,
}

async fn create_topic(State(s): State<Arc<AppState>>, Json(req): Json<CreateTopic>) -> Response {
    let b = &s.broker;
    let partitions = req.partitions.unwrap_or(b.config().num_partitions);
    match b.create_topic(&req.name, partitions, req.configs, false) {
        Ok(Some(t)) => (StatusCode::CREATED, Json(topic_summary(&t))).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{:?}: {}", e.code, e.message),
        )
        .into_response(),
    }
}

async fn delete_topic(State(s): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let b = &s.broker;
    if b.logs().topic(&name).is_none() {
        return not_found("no such topic").into_response();
    }
    if !b.config().delete_topic_enable {
        return ApiError::new(StatusCode::FORBIDDEN, "delete.topic.enable is false")
            .into_response();
    }
    if is_internal_topic(&name) {
        return ApiError::new(StatusCode::FORBIDDEN, "internal topics cannot be deleted")
            .into_response();
    }
    match b.logs().delete_topic(&name) {
        Ok(()) => {
            tracing::info!(topic = name, "deleted topic (http)");
            if let Err(e) = b.groups().delete_topic_offsets(&name) {
                tracing::warn!(topic = name, error = %e, "cannot delete the topic's committed offsets");
            }
            crate::metrics::global().remove_topic(&name);
            Json(json!({ "deleted": name })).into_response()
        }
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct BrowseQuery {
    offset: Option<i64>,
    timestamp: Option<i64>,
    latest: Option<usize>,
    limit: Option<usize>,
    max_value_bytes: Option<usize>,
}

async fn browse(
    State(s): State<Arc<AppState>>,
    Path((topic, partition)): Path<(String, i32)>,
    Query(q): Query<BrowseQuery>,
) -> ApiResult {
    let t = s
        .broker
        .logs()
        .topic(&topic)
        .ok_or_else(|| not_found("no such topic"))?;
    let log = t
        .partition(partition)
        .ok_or_else(|| not_found("no such partition"))?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let max_value = q
        .max_value_bytes
        .unwrap_or(DEFAULT_MAX_VALUE_BYTES)
        .clamp(16, MAX_VALUE_BYTES);
    let (start, hw) = (log.log_start_offset(), log.high_watermark());
    let from = if let Some(n) = q.latest {
        let n = n.clamp(1, MAX_PAGE);
        (hw - n as i64).max(start)
    } else if let Some(ts) = q.timestamp {
        match log.offset_for_timestamp(ts) {
            Ok(Some((o, _))) => o,
            Ok(None) => hw,
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.to_string(),
                ))
            }
        }
    } else {
        q.offset.unwrap_or(start).clamp(start, hw)
    };
    let limit = if q.latest.is_some() {
        q.latest.unwrap_or(limit).clamp(1, MAX_PAGE)
    } else {
        limit
    };
    let page = read_page(
        &log,
        s.registry.as_deref(),
        from,
        limit,
        max_value,
        MAX_PAGE_READ_BYTES,
    )
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let first = page
        .messages
        .first()
        .and_then(|m| m["offset"].as_i64())
        .unwrap_or(from);
    Ok(Json(json!({
        "topic": topic,
        "partition": partition,
        "log_start_offset": start,
        "high_watermark": hw,
        "from_offset": from,
        "limit": limit,
        "messages": page.messages,
        "next_offset": (page.next_offset < hw).then_some(page.next_offset),
        "prev_offset": (first > start).then(|| (first - limit as i64).max(start)),
    })))
}

#[derive(Debug, Deserialize)]
struct ProduceHeader {
    key: String,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Produce {
    #[serde(default)]
    partition: i32,
    key: Option<String>,
    value: Option<String>,
    #[serde(default)]
    headers: Vec<ProduceHeader>,
}

async fn produce(
    State(s): State<Arc<AppState>>,
    Path(topic): Path<String>,
    Json(req): Json<Produce>,
) -> ApiResult {
    let b: &Broker = &s.broker;
    let t = b
        .logs()
        .topic(&topic)
        .ok_or_else(|| not_found("no such topic"))?;
    if is_internal_topic(&topic) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cannot produce to an internal topic",
        ));
    }
    let log = t
        .partition(req.partition)
        .ok_or_else(|| not_found("no such partition"))?;
    let now = b.now_ms();
    let record = NewRecord {
        timestamp: now,
        key: req.key.map(String::into_bytes),
        value: req.value.map(String::into_bytes),
        headers: req
            .headers
            .into_iter()
            .map(|h| (h.key.into_bytes(), h.value.map(String::into_bytes)))
            .collect(),
    };
    let batch = Bytes::from(BatchBuilder::new(0, now).build(&[record]));
    let len = batch.len();
    let info = log
        .append(batch, now)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    crate::metrics::global().record_produce(&topic, len, 1);
    Ok(Json(json!({
        "topic": topic,
        "partition": req.partition,
        "offset": info.base_offset,
        "timestamp": now,
    })))
}

/// Lag of every committed partition of `group`: `(topic, partition, committed, log end, lag)`.
pub(crate) fn group_lags(b: &Broker, group: &str) -> Vec<(String, i32, i64, i64, i64)> {
    let mut out = Vec::new();
    for ft in b.groups().fetch_offsets(group, None) {
        let topic = b.logs().topic(&ft.topic);
        for p in ft.partitions {
            if p.offset < 0 {
                continue;
            }
            let Some(log) = topic.as_ref().and_then(|t| t.partition(p.partition)) else {
                continue;
            };
            let end = log.high_watermark();
            out.push((
                ft.topic.clone(),
                p.partition,
                p.offset,
                end,
                (end - p.offset).max(0),
            ));
        }
    }
    out.sort();
    out
}

async fn list_groups(State(s): State<Arc<AppState>>) -> ApiResult {
    let b = &s.broker;
    let groups = b.groups().list_groups(&[], &[]);
    let ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
    let described = b.groups().describe_groups(&ids);
    let consumer = consumer_groups(b, &groups);
    let shares = b.shares().snapshot();
    let share_ids: std::collections::BTreeSet<&str> =
        shares.iter().map(|g| g.group_id.as_str()).collect();
    let mut out: Vec<Value> = groups.iter().zip(&described)
        .filter(|(g, _)| !share_ids.contains(g.group_id.as_str()))
        .map(|(g, d)| {
            let lags = group_lags(b, &g.group_id);
            let total_lag = lags.iter().map(|l| l.4).sum::<i64>();
            match consumer.get(&g.group_id) {
                // KIP-848: the broker assigns; members carry epochs.
                Some(c) => json!({
                    "group_id": c.group_id,
                    "group_type": "consumer",
                    "group_protocol": "consumer",
                    "state": c.state,
                    "protocol_type": "consumer",
                    "protocol": c.assignor_name,
                    "group_epoch": c.group_epoch,
                    "assignment_epoch": c.assignment_epoch,
                    "member_count": c.members.len(),
                    "member_epochs": c.members.iter().map(|m| json!({"member_id": m.member_id, "member_epoch": m.member_epoch})).collect::<Vec<_>>(),
                    "members": c.members.iter().map(|m| json!({
                        "member_id": m.member_id,
                        "member_epoch": m.member_epoch,
                        "member_state": m.state,
                        "assignment": named_partitions(&m.assignment),
                    })).collect::<Vec<_>>(),
                    "total_lag": total_lag,
                }),
                None => json!({
                    "group_id": d.group_id,
                    "group_type": "classic",
                    "group_protocol": "classic",
                    "state": d.state.as_str(),
                    "protocol_type": d.protocol_type,
                    "protocol": d.protocol_data,
                    "member_count": d.members.len(),
                    "total_lag": total_lag,
                }),
            }
        }).collect();
    out.extend(shares.iter().map(share_group_json));
    Ok(Json(json!({ "groups": out })))
}

/// `[{topic, partitions}]` of a described consumer-group assignment.
fn named_partitions(a: &[(uuid::Uuid, String, Vec<i32>)]) -> Vec<Value> {
    a.iter()
        .map(|(_, t, ps)| json!({"topic": t, "partitions": ps}))
        .collect()
}

/// What `target` has and `current` lacks, per topic (non-empty only).
fn missing_from(
    target: &[(uuid::Uuid, String, Vec<i32>)],
    current: &[(uuid::Uuid, String, Vec<i32>)],
) -> Vec<Value> {
    target
        .iter()
        .filter_map(|(id, t, ps)| {
            let have: Vec<i32> = current
                .iter()
                .filter(|(c, _, _)| c == id)
                .flat_map(|(_, _, ps)| ps.iter().copied())
                .collect();
            let want: Vec<i32> = ps.iter().copied().filter(|p| !have.contains(p)).collect();
            (!want.is_empty()).then(|| json!({"topic": t, "partitions": want}))
        })
        .collect()
}

/// A share group (KIP-932) as `/api/groups` and `/api/groups/{id}` show
/// it: members with subscriptions and assignments, and each
/// share-partition's start offset and record-state counts.
fn share_group_json(g: &ShareGroupView) -> Value {
    json!({
        "group_id": g.group_id,
        "group_type": "share",
        "group_protocol": "share",
        "state": g.state,
        "protocol_type": "share",
        "protocol": "simple",
        "group_epoch": g.group_epoch,
        "assignment_epoch": g.assignment_epoch,
        "member_count": g.members.len(),
        "members": g.members.iter().map(|m| json!({
            "member_id": m.member.member_id,
            "member_epoch": m.member.member_epoch,
            "client_id": m.member.client_id,
            "client_host": m.member.client_host,
            "subscribed_topic_names": m.member.subscribed_topics,
            "assignment": m.assignment.iter().map(|(t, ps)| json!({"topic": t, "partitions": ps})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "share_partitions": g.partitions.iter().map(|p| json!({
            "topic": p.topic,
            "partition": p.partition,
            "start_offset": p.counts.start_offset,
            "end_offset": p.counts.end_offset,
            "in_flight": p.counts.in_flight,
            "acquired": p.counts.acquired,
            "available": p.counts.available,
            "acknowledged": p.counts.acknowledged,
            "archived": p.counts.archived,
        })).collect::<Vec<_>>(),
        "in_flight": g.partitions.iter().map(|p| p.counts.in_flight).sum::<u64>(),
        "acquired": g.partitions.iter().map(|p| p.counts.acquired).sum::<u64>(),
        // Share groups have no committed offsets: lag is not defined.
        "total_lag": 0,
        "offsets": [],
    })
}

/// ConsumerGroupDescribe of the KIP-848 groups among `groups`, by id.
pub(super) fn consumer_groups(
    b: &Broker,
    groups: &[crate::group::coordinator::ListedGroup],
) -> BTreeMap<String, ConsumerGroupDescription> {
    let ids: Vec<String> = groups
        .iter()
        .filter(|g| g.group_type == CONSUMER_GROUP_TYPE)
        .map(|g| g.group_id.clone())
        .collect();
    if ids.is_empty() {
        return BTreeMap::new();
    }
    b.groups()
        .consumer_group_describe(&ids, &b.consumer_group_topics())
        .into_iter()
        .filter(|d| d.error.is_none())
        .map(|d| (d.group_id.clone(), d))
        .collect()
}

/// A KIP-848 group's detail: members with epochs, reconciliation states,
/// current and target assignments.
fn consumer_group_detail(b: &Broker, c: &ConsumerGroupDescription) -> Value {
    let named = named_partitions;
    let revoking: BTreeMap<String, TopicPartitions> = b
        .groups()
        .consumer_pending_revocation(&c.group_id, &b.consumer_group_topics())
        .into_iter()
        .collect();
    let mut owner: BTreeMap<(String, i32), String> = BTreeMap::new();
    for m in &c.members {
        for (_, t, ps) in &m.assignment {
            for p in ps {
                owner.insert((t.clone(), *p), m.member_id.clone());
            }
        }
    }
    let lags = group_lags(b, &c.group_id);
    json!({
        "group_id": c.group_id,
        "group_type": "consumer",
        "group_protocol": "consumer",
        "state": c.state,
        "protocol_type": "consumer",
        "protocol": c.assignor_name,
        "group_epoch": c.group_epoch,
        "assignment_epoch": c.assignment_epoch,
        "members": c.members.iter().map(|m| json!({
            "member_id": m.member_id,
            "group_instance_id": m.instance_id,
            "client_id": m.client_id,
            "client_host": m.client_host,
            "member_epoch": m.member_epoch,
            "member_state": m.state,
            "subscribed_topic_names": m.subscribed_topic_names,
            "subscribed_topic_regex": m.subscribed_topic_regex,
            "assignment": named(&m.assignment),
            "target_assignment": named(&m.target_assignment),
            // Held now, not in the target: to be revoked, then reassigned.
            "pending_revocation": revoking.get(&m.member_id).map(|r| r.iter().map(|(t, ps)| json!({"topic": t, "partitions": ps})).collect::<Vec<_>>()).unwrap_or_default(),
            // In the target, not yet held (waiting for another member's revocation).
            "pending_assignment": missing_from(&m.target_assignment, &m.assignment),
        })).collect::<Vec<_>>(),
        "offsets": lags.iter().map(|(t, p, cm, e, l)| json!({
            "topic": t,
            "partition": p,
            "committed_offset": cm,
            "log_end_offset": e,
            "lag": l,
            "member_id": owner.get(&(t.clone(), *p)),
        })).collect::<Vec<_>>(),
        "total_lag": lags.iter().map(|l| l.4).sum::<i64>(),
    })
}

async fn group_detail(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let b = &s.broker;
    if let Some(c) = b
        .groups()
        .consumer_group_describe(std::slice::from_ref(&id), &b.consumer_group_topics())
        .pop()
        .filter(|c| c.error.is_none())
    {
        return Ok(Json(consumer_group_detail(b, &c)));
    }
    if let Some(g) = b.shares().snapshot().iter().find(|g| g.group_id == id) {
        return Ok(Json(share_group_json(g)));
    }
    let d: GroupDescription = b
        .groups()
        .describe_groups(std::slice::from_ref(&id))
        .pop()
        .filter(|d| d.found)
        .ok_or_else(|| not_found("no such group"))?;
    let mut owner: BTreeMap<(String, i32), String> = BTreeMap::new();
    let members: Vec<Value> = d
        .members
        .iter()
        .map(|m| {
            let assignment = decode_assignment(&m.assignment);
            for (t, ps) in &assignment {
                for p in ps {
                    owner.insert((t.clone(), *p), m.member_id.clone());
                }
            }
            json!({
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "assignment": assignment.iter().map(|(t, ps)| json!({"topic": t, "partitions": ps})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let lags = group_lags(b, &id);
    Ok(Json(json!({
        "group_id": d.group_id,
        "group_type": "classic",
        "group_protocol": "classic",
        "state": d.state.as_str(),
        "protocol_type": d.protocol_type,
        "protocol": d.protocol_data,
        "members": members,
        "offsets": lags.iter().map(|(t, p, c, e, l)| json!({
            "topic": t,
            "partition": p,
            "committed_offset": c,
            "log_end_offset": e,
            "lag": l,
            "member_id": owner.get(&(t.clone(), *p)),
        })).collect::<Vec<_>>(),
        "total_lag": lags.iter().map(|l| l.4).sum::<i64>(),
    })))
}

/// A consumer-protocol assignment (`version int16`, then topics as
/// `string + [int32]`); anything else (another protocol type) shows as none.
fn decode_assignment(b: &[u8]) -> Vec<(String, Vec<i32>)> {
    fn parse(b: &[u8]) -> Option<Vec<(String, Vec<i32>)>> {
        let mut pos = 2usize;
        let i32_at = |pos: &mut usize| -> Option<i32> {
            let v = i32::from_be_bytes(b.get(*pos..*pos + 4)?.try_into().ok()?);
            *pos += 4;
            Some(v)
        };
        let n = i32_at(&mut pos)?;
        let mut out = Vec::new();
        for _ in 0..n.max(0) {
            let len = i16::from_be_bytes(b.get(pos..pos + 2)?.try_into().ok()?);
            pos += 2;
            let len = usize::try_from(len).ok()?;
            let name = std::str::from_utf8(b.get(pos..pos + len)?)
                .ok()?
                .to_string();
            pos += len;
            let count = i32_at(&mut pos)?;
            if count < 0 || count as usize > b.len() {
                return None;
            }
            let mut ps = Vec::with_capacity(count as usize);
            for _ in 0..count {
                ps.push(i32_at(&mut pos)?);
            }
            out.push((name, ps));
        }
        Some(out)
    }
    if b.len() < 6 {
        return Vec::new();
    }
    parse(b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_assignment_decodes() {
        let mut b = vec![
            0, 1, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3,
        ];
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(decode_assignment(&b), vec![("t".to_string(), vec![0, 3])]);
        assert!(decode_assignment(&[1, 2, 3]).is_empty());
    }
}
