//! `share-consume-*`: share-group (KIP-932) consume throughput with 1 and 3
//! consumers on one partition. Each consumer is a raw Kafka-protocol client
//! (the `kafka-protocol` crate over a blocking TCP stream, one thread each):
//! it joins with ShareGroupHeartbeat, then loops ShareFetch, acknowledging
//! (ACCEPT) what the previous fetch acquired piggybacked on the next one,
//! and finally ShareAcknowledge for the last batch. The figure is acquired
//! records per second until every produced record was acquired and
//! accepted; a record acquired twice or missing fails the scenario.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::share_acknowledge_request::{
    AcknowledgePartition, AcknowledgeTopic, AcknowledgementBatch as AckBatch,
};
use kafka_protocol::messages::share_fetch_request::{
    AcknowledgementBatch, FetchPartition, FetchTopic,
};
use kafka_protocol::messages::{
    GroupId, IncrementalAlterConfigsRequest, RequestHeader, ResponseHeader,
    ShareAcknowledgeRequest, ShareFetchRequest, ShareGroupHeartbeatRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use uuid::Uuid;

const LIMIT: Duration = Duration::from_secs(300);

struct Conn {
    stream: TcpStream,
    correlation: i32,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        Ok(Conn {
            stream,
            correlation: 0,
        })
    }

    fn call<R: Request>(&mut self, req: &R, version: i16) -> Result<R::Response, String> {
        self.correlation += 1;
        let mut buf = BytesMut::new();
        let mut header = RequestHeader::default();
        header.request_api_key = R::KEY;
        header.request_api_version = version;
        header.correlation_id = self.correlation;
        header.client_id = Some(StrBytes::from_static_str("skiff-bench-share"));
        header
            .encode(&mut buf, R::header_version(version))
            .map_err(|e| e.to_string())?;
        req.encode(&mut buf, version).map_err(|e| e.to_string())?;
        let len = u32::try_from(buf.len()).map_err(|e| e.to_string())?;
        let mut frame = len.to_be_bytes().to_vec();
        frame.extend_from_slice(&buf);
        self.stream.write_all(&frame).map_err(|e| e.to_string())?;
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(|e| format!("read api {}: {e}", R::KEY))?;
        let mut body = vec![0u8; u32::from_be_bytes(size) as usize];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        let mut body = Bytes::from(body);
        ResponseHeader::decode(&mut body, R::Response::header_version(version))
            .map_err(|e| e.to_string())?;
        R::Response::decode(&mut body, version).map_err(|e| e.to_string())
    }
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// What the consumers did together.
pub struct ShareRun {
    pub records: u64,
    pub bytes: u64,
    pub secs: f64,
}

/// Consumes the `count` records of partition 0 of `topic` (already
/// produced) with `consumers` share consumers in a fresh group.
pub fn run(addr: &str, topic: &str, count: u64, consumers: usize) -> Result<ShareRun, String> {
    let group = format!("{topic}-share");
    let mut admin = Conn::open(addr)?;
    let cfg = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(32)
            .with_resource_name(s(&group))
            .with_configs(vec![AlterableConfig::default()
                .with_name(s("share.auto.offset.reset"))
                .with_config_operation(0)
                .with_value(Some(s("earliest")))]),
    ]);
    let r = admin.call(&cfg, 1)?;
    if r.responses.first().is_none_or(|r| r.error_code != 0) {
        return Err(format!("set share.auto.offset.reset: {r:?}"));
    }
    // Every consumer joins before the clock starts.
    let mut joined = Vec::new();
    for _ in 0..consumers {
        let mut c = Conn::open(addr)?;
        let member = Uuid::new_v4().to_string();
        let hb = ShareGroupHeartbeatRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_member_id(s(&member))
            .with_member_epoch(0)
            .with_subscribed_topic_names(Some(vec![TopicName(s(topic))]));
        let r = c.call(&hb, 1)?;
        let topic_id = r
            .assignment
            .and_then(|a| a.topic_partitions.first().map(|t| t.topic_id))
            .filter(|_| r.error_code == 0)
            .ok_or_else(|| format!("join: error {}", r.error_code))?;
        joined.push((c, member, topic_id));
    }
    let acquired = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = joined
        .into_iter()
        .map(|(c, member, topic_id)| {
            let acquired = acquired.clone();
            let group = group.clone();
            std::thread::spawn(move || consume(c, &group, &member, topic_id, count, &acquired))
        })
        .collect();
    let mut records = 0;
    let mut bytes = 0;
    let mut offsets = Vec::new();
    for h in handles {
        let (n, b, o) = h.join().map_err(|_| "a consumer thread panicked")??;
        records += n;
        bytes += b;
        offsets.extend(o);
    }
    let secs = started.elapsed().as_secs_f64();
    offsets.sort_unstable();
    offsets.dedup();
    if records != count || offsets.len() as u64 != count {
        return Err(format!(
            "acquired {records} records ({} distinct offsets) of {count}",
            offsets.len()
        ));
    }
    Ok(ShareRun {
        records,
        bytes,
        secs,
    })
}

type Consumed = (u64, u64, Vec<i64>);

fn consume(
    mut c: Conn,
    group: &str,
    member: &str,
    topic_id: Uuid,
    count: u64,
    acquired: &AtomicU64,
) -> Result<Consumed, String> {
    let deadline = Instant::now() + LIMIT;
    let mut epoch = 0;
    let mut pending: Vec<(i64, i64)> = Vec::new();
    let (mut records, mut bytes, mut offsets) = (0u64, 0u64, Vec::new());
    while acquired.load(Ordering::Relaxed) < count {
        if Instant::now() > deadline {
            return Err(format!("{member}: timed out at {records} records"));
        }
        let acks = pending
            .drain(..)
            .map(|(first, last)| {
                AcknowledgementBatch::default()
                    .with_first_offset(first)
                    .with_last_offset(last)
                    .with_acknowledge_types(vec![1])
            })
            .collect();
        let req = ShareFetchRequest::default()
            .with_group_id(Some(GroupId(s(group))))
            .with_member_id(Some(s(member)))
            .with_share_session_epoch(epoch)
            .with_max_wait_ms(100)
            .with_min_bytes(1)
            .with_max_bytes(8 << 20)
            .with_max_records(500)
            .with_batch_size(500)
            .with_topics(vec![FetchTopic::default()
                .with_topic_id(topic_id)
                .with_partitions(vec![FetchPartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(acks)])]);
        let r = c.call(&req, 1)?;
        if r.error_code != 0 {
            return Err(format!("{member}: ShareFetch error {}", r.error_code));
        }
        epoch += 1;
        for p in r.responses.iter().flat_map(|t| &t.partitions) {
            if p.error_code != 0 || p.acknowledge_error_code != 0 {
                return Err(format!(
                    "{member}: partition error {} / ack error {}",
                    p.error_code, p.acknowledge_error_code
                ));
            }
            bytes += p.records.as_ref().map_or(0, |r| r.len() as u64);
            for a in &p.acquired_records {
                let n = (a.last_offset - a.first_offset + 1) as u64;
                records += n;
                acquired.fetch_add(n, Ordering::Relaxed);
                offsets.extend(a.first_offset..=a.last_offset);
                pending.push((a.first_offset, a.last_offset));
            }
        }
    }
    if !pending.is_empty() {
        let ack = ShareAcknowledgeRequest::default()
            .with_group_id(Some(GroupId(s(group))))
            .with_member_id(Some(s(member)))
            .with_share_session_epoch(epoch)
            .with_topics(vec![AcknowledgeTopic::default()
                .with_topic_id(topic_id)
                .with_partitions(vec![AcknowledgePartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(
                        pending
                            .iter()
                            .map(|(first, last)| {
                                AckBatch::default()
                                    .with_first_offset(*first)
                                    .with_last_offset(*last)
                                    .with_acknowledge_types(vec![1])
                            })
                            .collect(),
                    )])]);
        let r = c.call(&ack, 1)?;
        if r.error_code != 0 {
            return Err(format!("{member}: ShareAcknowledge error {}", r.error_code));
        }
    }
    Ok((records, bytes, offsets))
}
