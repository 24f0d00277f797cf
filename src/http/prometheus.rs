//! `/metrics` in the Prometheus text format (0.0.4). Names follow the JMX
//! exporter's for Kafka (`kafka_server_brokertopicmetrics_*`,
//! `kafka_network_requestmetrics_*`, `kafka_log_log_*`) and kafka_exporter's
//! for topics and groups (`kafka_topic_partition_*`, `kafka_consumergroup_*`).
//! Gauges are read at scrape time from storage and the group coordinator;
//! counters come from `crate::metrics`.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use kafka_protocol::messages::ApiKey;

use super::{typed, AppState};
use crate::metrics::{self, LATENCY_BUCKETS};
use crate::protocol;

/// Escapes a label value (backslash, quote, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn api_name(key: i16) -> String {
    match ApiKey::try_from(key) {
        Ok(k) => protocol::name_of(k).to_string(),
        Err(_) => format!("Unknown{key}"),
    }
}

fn error_name(code: i16) -> String {
    if code == 0 {
        return "NONE".into();
    }
    match kafka_protocol::ResponseError::try_from_code(code) {
        Some(e) => {
            // MemberIdRequired -> MEMBER_ID_REQUIRED, Kafka's own spelling.
            let mut n = String::new();
            for (i, c) in format!("{e:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    n.push('_');
                }
                n.push(c.to_ascii_uppercase());
            }
            n
        }
        None => format!("UNKNOWN_{code}"),
    }
}

pub(super) async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    typed("text/plain; version=0.0.4; charset=utf-8", render(&s))
}

pub(crate) fn render(s: &AppState) -> String {
    let b = &s.broker;
    let m = metrics::global();
    let mut o = String::with_capacity(16 * 1024);

    // -- Process -----------------------------------------------------------------
    head(
        &mut o,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
    );
    let _ = writeln!(
        o,
        "process_resident_memory_bytes {}",
        metrics::process_rss_bytes().unwrap_or(0)
    );
    head(
        &mut o,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
    );
    let _ = writeln!(o, "process_start_time_seconds {:.3}", m.start_time_unix());
    head(
        &mut o,
        "skiff_uptime_seconds",
        "gauge",
        "Seconds since the broker started.",
    );
    let _ = writeln!(o, "skiff_uptime_seconds {:.3}", m.uptime().as_secs_f64());
    head(
        &mut o,
        "skiff_build_info",
        "gauge",
        "Skiff version (always 1).",
    );
    let _ = writeln!(
        o,
        "skiff_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );

    // -- Connections ----------------------------------------------------------------
    let (open, total) = m.connections();
    head(
        &mut o,
        "kafka_server_socket_server_metrics_connection_count",
        "gauge",
        "Open Kafka client connections.",
    );
    let _ = writeln!(
        o,
        "kafka_server_socket_server_metrics_connection_count {open}"
    );
    head(
        &mut o,
        "kafka_server_socket_server_metrics_connection_creation_total",
        "counter",
        "Kafka client connections accepted.",
    );
    let _ = writeln!(
        o,
        "kafka_server_socket_server_metrics_connection_creation_total {total}"
    );

    // -- Requests ---------------------------------------------------------------------
    head(
        &mut o,
        "kafka_network_requestmetrics_requests_total",
        "counter",
        "Requests answered, per API.",
    );
    let requests = m.requests();
    for (k, n) in &requests {
        let _ = writeln!(
            o,
            "kafka_network_requestmetrics_requests_total{{request=\"{}\"}} {n}",
            api_name(*k)
        );
    }
    head(
        &mut o,
        "kafka_network_requestmetrics_errors_total",
        "counter",
        "Error codes in responses (NONE included), per API and error.",
    );
    for (k, code, n) in m.error_codes() {
        let _ = writeln!(
            o,
            "kafka_network_requestmetrics_errors_total{{request=\"{}\",error=\"{}\"}} {n}",
            api_name(k),
            error_name(code)
        );
    }
    head(
        &mut o,
        "kafka_network_requestmetrics_request_duration_seconds",
        "histogram",
        "Time from a decoded request to its response, per API.",
    );
    for (k, _) in &requests {
        let Some(h) = m.latency(*k) else { continue };
        let (cumulative, sum, count) = h.snapshot();
        let name = api_name(*k);
        for (i, c) in cumulative.iter().enumerate() {
            let le = LATENCY_BUCKETS
                .get(i)
                .map(|b| b.to_string())
                .unwrap_or_else(|| "+Inf".into());
            let _ = writeln!(o, "kafka_network_requestmetrics_request_duration_seconds_bucket{{request=\"{name}\",le=\"{le}\"}} {c}");
        }
        let _ = writeln!(
            o,
            "kafka_network_requestmetrics_request_duration_seconds_sum{{request=\"{name}\"}} {sum}"
        );
        let _ = writeln!(o, "kafka_network_requestmetrics_request_duration_seconds_count{{request=\"{name}\"}} {count}");
    }

    // -- Topics: traffic ----------------------------------------------------------------
    let counters: Vec<_> = m
        .topics()
        .into_iter()
        .filter(|(t, _)| b.logs().topic(t).is_some())
        .collect();
    for (name, help, get) in [
        (
            "kafka_server_brokertopicmetrics_bytesin_total",
            "Bytes appended by producers, per topic.",
            0,
        ),
        (
            "kafka_server_brokertopicmetrics_messagesin_total",
            "Records appended by producers, per topic.",
            1,
        ),
        (
            "kafka_server_brokertopicmetrics_bytesout_total",
            "Bytes returned to fetchers, per topic.",
            2,
        ),
        (
            "kafka_server_brokertopicmetrics_messagesout_total",
            "Records in batches returned to fetchers, per topic (whole batches).",
            3,
        ),
    ] {
        head(&mut o, name, "counter", help);
        for (t, c) in &counters {
            let v = match get {
                0 => c.bytes_in.load(Relaxed),
                1 => c.messages_in.load(Relaxed),
                2 => c.bytes_out.load(Relaxed),
                _ => c.messages_out.load(Relaxed),
            };
            let _ = writeln!(o, "{name}{{topic=\"{}\"}} {v}", esc(t));
        }
    }

    // -- Topics and partitions: state ---------------------------------------------------------
    let mut topics = b.logs().topics();
    topics.sort_by(|a, b| a.name().cmp(b.name()));
    head(
        &mut o,
        "kafka_server_replicamanager_partitioncount",
        "gauge",
        "Partitions on this broker.",
    );
    let _ = writeln!(
        o,
        "kafka_server_replicamanager_partitioncount {}",
        topics
            .iter()
            .map(|t| i64::from(t.partition_count()))
            .sum::<i64>()
    );
    head(
        &mut o,
        "kafka_topic_partitions",
        "gauge",
        "Partitions per topic.",
    );
    for t in &topics {
        let _ = writeln!(
            o,
            "kafka_topic_partitions{{topic=\"{}\"}} {}",
            esc(t.name()),
            t.partition_count()
        );
    }
    let mut current = String::new();
    let mut oldest = String::new();
    let mut size = String::new();
    let mut segments = String::new();
    for t in &topics {
        for l in t.partitions() {
            let labels = format!(
                "topic=\"{}\",partition=\"{}\"",
                esc(t.name()),
                l.topic_partition().partition
            );
            let _ = writeln!(
                current,
                "kafka_topic_partition_current_offset{{{labels}}} {}",
                l.high_watermark()
            );
            let _ = writeln!(
                oldest,
                "kafka_topic_partition_oldest_offset{{{labels}}} {}",
                l.log_start_offset()
            );
            let _ = writeln!(size, "kafka_log_log_size{{{labels}}} {}", l.size_bytes());
            let _ = writeln!(
                segments,
                "kafka_log_log_numlogsegments{{{labels}}} {}",
                l.segment_count()
            );
        }
    }
    head(
        &mut o,
        "kafka_topic_partition_current_offset",
        "gauge",
        "High watermark (log end offset) per partition.",
    );
    o.push_str(&current);
    head(
        &mut o,
        "kafka_topic_partition_oldest_offset",
        "gauge",
        "Log start offset per partition.",
    );
    o.push_str(&oldest);
    head(
        &mut o,
        "kafka_log_log_size",
        "gauge",
        "Bytes on disk per partition.",
    );
    o.push_str(&size);
    head(
        &mut o,
        "kafka_log_log_numlogsegments",
        "gauge",
        "Segments per partition.",
    );
    o.push_str(&segments);

    // -- Consumer groups ---------------------------------------------------------------------------
    let groups = b.groups().list_groups(&[], &[]);
    let ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
    let described = b.groups().describe_groups(&ids);
    let consumer = super::api::consumer_groups(b, &groups);
    let shares = b.shares().snapshot();
    // (group id, type, state, members) of every group of every type.
    let mut all: Vec<(String, &str, &str, usize)> = Vec::new();
    for (g, d) in groups.iter().zip(&described) {
        if shares.iter().any(|s| s.group_id == g.group_id) {
            continue;
        }
        match consumer.get(&g.group_id) {
            Some(c) => all.push((g.group_id.clone(), "consumer", c.state, c.members.len())),
            None => all.push((
                g.group_id.clone(),
                "classic",
                d.state.as_str(),
                d.members.len(),
            )),
        }
    }
    for s in &shares {
        all.push((s.group_id.clone(), "share", s.state, s.members.len()));
    }
    head(
        &mut o,
        "kafka_consumergroup_members",
        "gauge",
        "Members per group (classic, consumer and share groups).",
    );
    for (id, _, _, n) in &all {
        let _ = writeln!(
            o,
            "kafka_consumergroup_members{{consumergroup=\"{}\"}} {n}",
            esc(id)
        );
    }
    head(
        &mut o,
        "kafka_consumergroup_state",
        "gauge",
        "1 for the group's current state.",
    );
    for (id, _, state, _) in &all {
        let _ = writeln!(
            o,
            "kafka_consumergroup_state{{consumergroup=\"{}\",state=\"{state}\"}} 1",
            esc(id)
        );
    }
    head(
        &mut o,
        "kafka_coordinator_groups",
        "gauge",
        "Groups by type (classic, consumer, share) and state (Kafka's group-count metrics).",
    );
    let mut by_type: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for (_, t, state, _) in &all {
        *by_type.entry((t, state)).or_default() += 1;
    }
    for ((t, state), n) in by_type {
        let _ = writeln!(
            o,
            "kafka_coordinator_groups{{type=\"{t}\",state=\"{state}\"}} {n}"
        );
    }
    head(
        &mut o,
        "kafka_coordinator_group_consumer_rebalances_total",
        "counter",
        "Rebalances (group epoch bumps) of consumer-protocol (KIP-848) groups since start.",
    );
    let _ = writeln!(
        o,
        "kafka_coordinator_group_consumer_rebalances_total {}",
        b.groups().consumer_group_rebalances()
    );
    head(
        &mut o,
        "kafka_coordinator_group_classic_rebalances_total",
        "counter",
        "Completed rebalances (join phases ending in a new generation with members) of classic groups since start.",
    );
    let _ = writeln!(
        o,
        "kafka_coordinator_group_classic_rebalances_total {}",
        m.classic_rebalances()
    );
    head(
        &mut o,
        "kafka_coordinator_group_share_rebalances_total",
        "counter",
        "Rebalances (group epoch bumps: assignment changes) of share groups since start.",
    );
    let _ = writeln!(
        o,
        "kafka_coordinator_group_share_rebalances_total {}",
        m.share_rebalances()
    );
    share_groups(&mut o, &shares);
    let mut cur = String::new();
    let mut lag = String::new();
    let mut lag_sum = String::new();
    for g in &ids {
        let lags = super::api::group_lags(b, g);
        let mut per_topic: std::collections::BTreeMap<&str, i64> = Default::default();
        for (t, p, committed, _end, l) in &lags {
            let labels = format!(
                "consumergroup=\"{}\",topic=\"{}\",partition=\"{p}\"",
                esc(g),
                esc(t)
            );
            let _ = writeln!(
                cur,
                "kafka_consumergroup_current_offset{{{labels}}} {committed}"
            );
            let _ = writeln!(lag, "kafka_consumergroup_lag{{{labels}}} {l}");
            *per_topic.entry(t).or_default() += l;
        }
        for (t, l) in per_topic {
            let _ = writeln!(
                lag_sum,
                "kafka_consumergroup_lag_sum{{consumergroup=\"{}\",topic=\"{}\"}} {l}",
                esc(g),
                esc(t)
            );
        }
    }
    head(
        &mut o,
        "kafka_consumergroup_current_offset",
        "gauge",
        "Committed offset per group and partition.",
    );
    o.push_str(&cur);
    head(
        &mut o,
        "kafka_consumergroup_lag",
        "gauge",
        "High watermark minus committed offset per group and partition.",
    );
    o.push_str(&lag);
    head(
        &mut o,
        "kafka_consumergroup_lag_sum",
        "gauge",
        "Lag summed over a topic's partitions per group.",
    );
    o.push_str(&lag_sum);
    o
}

/// Share groups (KIP-932): members, and per share-partition the start
/// offset and the records in flight / under an acquisition lock.
fn share_groups(o: &mut String, shares: &[crate::share::snapshot::ShareGroupView]) {
    head(
        o,
        "kafka_sharegroup_members",
        "gauge",
        "Members per share group.",
    );
    for g in shares {
        let _ = writeln!(
            o,
            "kafka_sharegroup_members{{sharegroup=\"{}\"}} {}",
            esc(&g.group_id),
            g.members.len()
        );
    }
    let mut start = String::new();
    let mut in_flight = String::new();
    let mut acquired = String::new();
    for g in shares {
        for p in &g.partitions {
            let labels = format!(
                "sharegroup=\"{}\",topic=\"{}\",partition=\"{}\"",
                esc(&g.group_id),
                esc(&p.topic),
                p.partition
            );
            let c = &p.counts;
            let _ = writeln!(
                start,
                "kafka_sharegroup_start_offset{{{labels}}} {}",
                c.start_offset
            );
            let _ = writeln!(
                in_flight,
                "kafka_sharegroup_records_in_flight{{{labels}}} {}",
                c.in_flight
            );
            let _ = writeln!(
                acquired,
                "kafka_sharegroup_records_acquired{{{labels}}} {}",
                c.acquired
            );
        }
    }
    for (name, help, body) in [
        (
            "kafka_sharegroup_start_offset",
            "Share-partition start offset (the first offset not yet acknowledged or archived).",
            start,
        ),
        (
            "kafka_sharegroup_records_in_flight",
            "Records between the share-partition start and end offsets.",
            in_flight,
        ),
        (
            "kafka_sharegroup_records_acquired",
            "Records under an unexpired acquisition lock.",
            acquired,
        ),
    ] {
        head(o, name, "gauge", help);
        o.push_str(&body);
    }
}
