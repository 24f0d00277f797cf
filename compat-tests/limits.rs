//! Bounded resources: each configured limit holds (`max.connections`,
//! `socket.request.max.bytes`, `message.max.bytes`/`max.message.bytes`),
//! 10,000 partitions and 1,000 concurrent connections run with the segment
//! descriptor cap (`skiff.max.open.segment.files`) holding, and a consumer
//! that never reads its responses does not make the broker buffer without
//! bound (the server answers one request per connection at a time and
//! stops reading while a response waits for the socket).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreateTopicsRequest, MetadataRequest, ProduceRequest,
};
use kafka_protocol::protocol::StrBytes;

use crate::harness::*;

const MESSAGE_TOO_LARGE: i16 = 10;

/// The broker's pid, found by its (unique) data directory on its command line.
fn broker_pid(broker: &Broker) -> u32 {
    let needle = broker
        .data_dir()
        .expect("local broker")
        .to_string_lossy()
        .to_string();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        let argv0 = cmd.split('\0').next().unwrap_or("");
        if argv0.ends_with("/skiff") && cmd.contains(&needle) {
            return pid;
        }
    }
    panic!("no broker process with {needle}");
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn api_versions_frame() -> Vec<u8> {
    let req = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("limits"))
        .with_client_software_version(StrBytes::from_static_str("1"));
    RawClient::encode_request(&req, 3, 1)
}

/// Whether a raw ApiVersions on `s` is answered within `limit`.
fn answered_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut size = [0u8; 4];
    s.read_exact(&mut size).is_ok()
}

#[test]
fn max_connections_holds() {
    if skip_if_external("sets max.connections") {
        return;
    }
    let broker = Broker::start_with(&[("max.connections", "5")]);
    let mut held: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = TcpStream::connect(broker.bootstrap()).unwrap();
            s.write_all(&api_versions_frame()).unwrap();
            assert!(answered_within(&mut s, Duration::from_secs(5)));
            s
        })
        .collect();
    // The sixth waits in the accept queue, unanswered...
    let mut sixth = TcpStream::connect(broker.bootstrap()).unwrap();
    sixth.write_all(&api_versions_frame()).unwrap();
    assert!(
        !answered_within(&mut sixth, Duration::from_millis(800)),
        "6th connection served"
    );
    // ...until one of the five closes.
    held.pop();
    assert!(
        answered_within(&mut sixth, Duration::from_secs(5)),
        "6th connection never served"
    );
}

#[test]
fn socket_request_max_bytes_holds() {
    if skip_if_external("sets socket.request.max.bytes") {
        return;
    }
    let broker = Broker::start_with(&[("socket.request.max.bytes", "2048")]);
    let mut raw = RawClient::connect(&broker.bootstrap());
    // A request under the limit is served...
    let topics: Vec<String> = (0..20).map(|i| format!("t{i:040}")).collect();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let resp = raw.call(&metadata_request(Some(&names), false), 9);
    assert_eq!(resp.topics.len(), 20);
    // ...one over it closes the connection before its body is read.
    let big: Vec<String> = (0..60).map(|i| format!("t{i:040}")).collect();
    let names: Vec<&str> = big.iter().map(String::as_str).collect();
    let frame = RawClient::encode_request(&metadata_request(Some(&names), false), 9, 99);
    assert!(frame.len() > 2048 + 4);
    let _ = raw.send_bytes(&frame);
    assert!(
        raw.closed_within(Duration::from_secs(5)),
        "oversized frame not refused"
    );
    // Others are unaffected.
    let mut other = RawClient::connect(&broker.bootstrap());
    other.call(&MetadataRequest::default(), 9);
}

#[test]
fn message_max_bytes_holds_with_topic_override() {
    if skip_if_external("sets message.max.bytes") {
        return;
    }
    let broker = Broker::start_with(&[("message.max.bytes", "5000")]);
    run(async {
        let small = unique_topic("mmb");
        let big = unique_topic("mmb-override");
        create_topic(&broker, &small, 1).await;
        create_topic_with(&broker, &big, 1, &[("max.message.bytes", "20000")]).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let v = raw.pick_version(ApiKey::Produce, 9);
        let mut produce = |topic: &str, len: usize| {
            let value = vec![b'm'; len];
            produce_result(&raw.call(
                &produce_request(topic, 0, encode_batch(&[&value], None), -1),
                v,
            ))
            .0
        };
        assert_eq!(produce(&small, 4000), 0);
        assert_eq!(produce(&small, 6000), MESSAGE_TOO_LARGE);
        assert_eq!(produce(&big, 6000), 0);
        assert_eq!(produce(&big, 25000), MESSAGE_TOO_LARGE);
    });
}

/// Mounts a tmpfs (for 10,000 partitions' worth of directory fsyncs), or
/// `None` where mounting is not allowed.
struct Mount(std::path::PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
fn try_tmpfs(dir: &Path) -> Option<Mount> {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512m", "tmpfs"])
        .arg(dir)
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| Mount(dir.to_path_buf()))
}

#[test]
fn ten_thousand_partitions_and_a_thousand_connections_under_the_descriptor_cap() {
    if skip_if_external("counts the broker's descriptors") {
        return;
    }
    const PARTITIONS: i32 = 10_000;
    const CONNECTIONS: usize = 1_000;
    const CAP: usize = 2_000;
    let root = tempfile::tempdir().unwrap();
    let mount = try_tmpfs(root.path());
    let data = root.path().join("data");
    let cap = CAP.to_string();
    let mut sets = vec![("skiff.max.open.segment.files", cap.as_str())];
    let data_s = data.to_string_lossy().to_string();
    if mount.is_some() {
        sets.push(("log.dirs", data_s.as_str()));
    } else {
        eprintln!("note: no tmpfs; creating 10,000 partitions on the test disk");
    }
    let broker = Broker::start_with(&sets);
    let started = Instant::now();
    let pid = broker_pid(&broker);
    let topic = unique_topic("many");
    let mut raw = RawClient::connect(&broker.bootstrap());
    raw.stream
        .set_read_timeout(Some(Duration::from_secs(50)))
        .unwrap();
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(50_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(&topic))
            .with_num_partitions(PARTITIONS)
            .with_replication_factor(1)]);
    let resp = raw.call(&req, 5);
    assert_eq!(
        resp.topics[0].error_code, 0,
        "{:?}",
        resp.topics[0].error_message
    );
    let created = started.elapsed();
    // One record into every partition, 500 partitions per request.
    let v = raw.pick_version(ApiKey::Produce, 9);
    for chunk in (0..PARTITIONS).collect::<Vec<_>>().chunks(500) {
        let mut td = TopicProduceData::default();
        td.name = topic_name(&topic);
        td.partition_data = chunk
            .iter()
            .map(|p| {
                let mut pd = PartitionProduceData::default();
                pd.index = *p;
                pd.records = Some(encode_batch(&[format!("p{p}").as_bytes()], None));
                pd
            })
            .collect();
        let mut req = ProduceRequest::default();
        req.acks = -1;
        req.timeout_ms = 30_000;
        req.topic_data = vec![td];
        let resp = raw.call(&req, v);
        for p in &resp.responses[0].partition_responses {
            assert_eq!(p.error_code, 0, "partition {}", p.index);
        }
    }
    let fds_after_produce = open_fds(pid);
    // A thousand connections at once, each served.
    let mut conns: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| TcpStream::connect(broker.bootstrap()).expect("connect"))
        .collect();
    for c in conns.iter_mut() {
        c.write_all(&api_versions_frame()).unwrap();
    }
    for (i, c) in conns.iter_mut().enumerate() {
        assert!(
            answered_within(c, Duration::from_secs(20)),
            "connection {i} not served"
        );
    }
    let fds_with_connections = open_fds(pid);
    // Reads across every partition (each needs its segment open).
    for p in (0..PARTITIONS).step_by(97) {
        let got = raw_fetch_values(&mut raw, &topic, p, 0);
        assert_eq!(got, vec![(0, Some(format!("p{p}")))]);
    }
    let fds_end = open_fds(pid);
    let rss = rss_kib(pid);
    eprintln!(
        "{PARTITIONS} partitions created in {created:?}; descriptors: {fds_after_produce} after produce, \
         {fds_with_connections} with {CONNECTIONS} connections, {fds_end} at the end; RSS {rss} KiB"
    );
    // 30,000 segment files would exceed the cap (and the 20,000 limit here).
    assert!(
        fds_after_produce <= CAP + 100,
        "{fds_after_produce} descriptors"
    );
    assert!(
        fds_with_connections <= CAP + CONNECTIONS + 100,
        "{fds_with_connections}"
    );
    assert!(fds_end <= CAP + CONNECTIONS + 100, "{fds_end}");
    drop(conns);
    drop(broker);
    drop(mount);
}

#[test]
fn a_consumer_that_never_reads_does_not_make_the_broker_buffer() {
    if skip_if_external("measures the broker's memory") {
        return;
    }
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("slow");
        create_topic(&broker, &topic, 1).await;
        let pid = broker_pid(&broker);
        let mut raw = RawClient::connect(&broker.bootstrap());
        let v = raw.pick_version(ApiKey::Produce, 9);
        let value = pseudo_random_bytes(900 * 1024, 7);
        for _ in 0..24 {
            let r = raw.call(
                &produce_request(&topic, 0, encode_batch(&[&value], None), -1),
                v,
            );
            assert_eq!(produce_result(&r).0, 0);
        }
        let base_rss = rss_kib(pid);
        // 400 pipelined fetches of ~20 MiB each (8 GB of answers), never read.
        let fv = raw.pick_version(ApiKey::Fetch, 12);
        let mut slow = TcpStream::connect(broker.bootstrap()).unwrap();
        slow.set_write_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut sent = 0;
        for i in 0..400 {
            let mut req = fetch_request(fv, &topic, uuid::Uuid::nil(), 0, 0, 0);
            req.max_bytes = 50 * 1024 * 1024;
            let frame = RawClient::encode_request(&req, fv, i + 1);
            if slow.write_all(&frame).is_err() {
                break; // the broker stopped reading: back-pressure reached us
            }
            sent += 1;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = rss_kib(pid);
        eprintln!("slow consumer: {sent} fetches sent, broker RSS {base_rss} -> {rss} KiB");
        assert!(
            rss < base_rss + 120 * 1024,
            "broker RSS grew from {base_rss} to {rss} KiB"
        );
        // Everyone else is still served.
        let mut other = RawClient::connect(&broker.bootstrap());
        let got = raw_fetch_values(&mut other, &topic, 0, 23);
        assert_eq!(got.len(), 1);
        drop(slow);
    });
}

#[test]
fn memory_does_not_grow_with_data_stored() {
    if skip_if_external("measures the broker's memory") {
        return;
    }
    let broker = Broker::start_with(&[
        ("log.segment.bytes", "8388608"),
        ("message.max.bytes", "2000000"),
    ]);
    run(async {
        let topic = unique_topic("mem");
        create_topic(&broker, &topic, 2).await;
        let pid = broker_pid(&broker);
        let mut raw = RawClient::connect(&broker.bootstrap());
        let v = raw.pick_version(ApiKey::Produce, 9);
        let value = pseudo_random_bytes(1024 * 1024, 11);
        let mut produce = |n: usize| {
            for i in 0..n {
                let r = raw.call(
                    &produce_request(&topic, (i % 2) as i32, encode_batch(&[&value], None), 1),
                    v,
                );
                assert_eq!(produce_result(&r).0, 0);
            }
        };
        produce(40);
        let rss_40 = rss_kib(pid);
        produce(160);
        let rss_200 = rss_kib(pid);
        eprintln!("broker RSS after 40 MiB stored: {rss_40} KiB, after 200 MiB: {rss_200} KiB");
        assert!(
            rss_200 < rss_40 + 24 * 1024,
            "RSS grew {rss_40} -> {rss_200} KiB with 160 MiB more data"
        );
    });
}

/// Reads and drops one whole response frame.
fn read_response(s: &mut TcpStream) {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).expect("response size");
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    s.read_exact(&mut body).expect("response body");
}

#[test]
fn idle_connections_are_closed_after_connections_max_idle_ms() {
    if skip_if_external("sets connections.max.idle.ms") {
        return;
    }
    let broker = Broker::start_with(&[("connections.max.idle.ms", "700")]);

    // A connection that keeps sending requests (every 200 ms, for more than
    // twice the idle limit) stays open: idle time restarts with each request.
    let mut busy = TcpStream::connect(broker.bootstrap()).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let until = Instant::now() + Duration::from_millis(1600);
    while Instant::now() < until {
        busy.write_all(&api_versions_frame()).unwrap();
        read_response(&mut busy);
        std::thread::sleep(Duration::from_millis(200));
    }

    // Once it stops, the broker closes it: the next read sees EOF.
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let n = busy
        .read(&mut byte)
        .expect("a clean close, not a reset or timeout");
    assert_eq!(n, 0, "the broker sent bytes nobody asked for");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(8),
        "closed after {waited:?}, expected about 700 ms of idleness"
    );
    wait_for(
        "the idle close in the broker log",
        Duration::from_secs(5),
        || {
            broker
                .log_lines()
                .iter()
                .any(|l| l.contains("idle for more than connections.max.idle.ms"))
                .then_some(())
        },
    );
}
