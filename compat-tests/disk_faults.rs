//! Disk full and I/O errors: produce gets KAFKA_STORAGE_ERROR, fetches keep
//! working, writes resume once the fault is gone, and nothing acknowledged
//! before is lost (also across a restart).
//!
//! Two ways in: the storage layer's fault-injection seam, armed through
//! the testing key `skiff.testing.fault.injection` and the control file
//! `<log.dirs>/.skiff/fault-injection`; and a real full disk, a 3 MiB tmpfs
//! (needs root and `mount`; the test prints `SKIP:` and returns otherwise).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kafka_protocol::messages::ApiKey;

use crate::harness::*;

const KAFKA_STORAGE_ERROR: i16 = 56;

/// (error code, base offset) of a raw acks=-1 produce of one batch.
fn produce(raw: &mut RawClient, topic: &str, values: &[&[u8]]) -> (i16, i64) {
    let v = raw.pick_version(ApiKey::Produce, 9);
    let resp = raw.call(
        &produce_request(topic, 0, encode_batch(values, None), -1),
        v,
    );
    produce_result(&resp)
}

fn all_values(raw: &mut RawClient, topic: &str, from: i64) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut offset = from;
    loop {
        let got = raw_fetch_values(raw, topic, 0, offset);
        let Some(last) = got.last() else {
            return out;
        };
        offset = last.0 + 1;
        out.extend(got.into_iter().map(|(o, v)| (o, v.unwrap_or_default())));
    }
}

#[test]
fn injected_disk_full_and_io_errors_fail_produce_only_until_cleared() {
    if skip_if_external("uses Skiff's fault-injection seam") {
        return;
    }
    let mut broker = Broker::start_with(&[
        ("skiff.testing.fault.injection", "true"),
        ("log.flush.interval.messages", "1"),
    ]);
    run(async {
        let topic = unique_topic("faults");
        create_topic(&broker, &topic, 1).await;
        let control = broker
            .data_dir()
            .unwrap()
            .join(".skiff")
            .join("fault-injection");
        let mut raw = RawClient::connect(&broker.bootstrap());
        let mut acked = Vec::new();
        for i in 0..20 {
            let v = format!("before-{i}");
            let (code, off) = produce(&mut raw, &topic, &[v.as_bytes()]);
            assert_eq!(code, 0);
            acked.push((off, v));
        }
        for fault in ["enospc", "eio"] {
            std::fs::write(&control, fault).unwrap();
            // The periodic task picks the file up within a tick.
            wait_for_async("produce to fail", Duration::from_secs(5), || {
                let (code, off) = produce(&mut raw, &topic, &[b"probe"]);
                if code == 0 {
                    acked.push((off, "probe".to_string()));
                }
                (code != 0).then_some(())
            })
            .await;
            for _ in 0..3 {
                let (code, off) = produce(&mut raw, &topic, &[b"refused"]);
                assert_eq!((code, off), (KAFKA_STORAGE_ERROR, -1), "{fault}");
            }
            // Reads are unaffected.
            let got = all_values(&mut raw, &topic, 0);
            assert_eq!(
                &got[..acked.len()],
                &acked[..],
                "{fault}: reads while failing"
            );
            std::fs::remove_file(&control).unwrap();
            wait_for_async("produce to work again", Duration::from_secs(5), || {
                let v = format!("after-{fault}");
                let (code, off) = produce(&mut raw, &topic, &[v.as_bytes()]);
                (code == 0).then(|| acked.push((off, v)))
            })
            .await;
        }
        let got = all_values(&mut raw, &topic, 0);
        for a in &acked {
            assert!(got.contains(a), "{a:?} lost");
        }
        broker.restart();
        let mut raw = RawClient::connect(&broker.bootstrap());
        let after = all_values(&mut raw, &topic, 0);
        assert_eq!(after, got, "after restart");
    });
}

/// Unmounts on drop (declared before the broker, so the broker dies first).
struct Mount(PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() {
        Ok(Mount(dir.to_path_buf()))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

#[test]
fn a_real_full_tmpfs_fails_produce_and_recovers_when_space_returns() {
    if skip_if_external("mounts a tmpfs for the broker's data") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let _mount = match mount_tmpfs(root.path(), "3m") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("SKIP: cannot mount a tmpfs here ({e})");
            return;
        }
    };
    let data = root.path().join("data");
    let mut broker = Broker::start_with(&[
        ("log.dirs", data.to_str().unwrap()),
        ("log.segment.bytes", "262144"),
        ("log.flush.interval.messages", "1"),
    ]);
    run(async {
        let topic = unique_topic("tmpfs");
        create_topic(&broker, &topic, 1).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let value = vec![b'x'; 16 * 1024];
        let mut acked = Vec::new();
        let mut refused = 0;
        for i in 0..400 {
            let mut v = format!("{i:05}-").into_bytes();
            v.extend_from_slice(&value);
            let (code, off) = produce(&mut raw, &topic, &[&v]);
            match code {
                0 => acked.push(off),
                KAFKA_STORAGE_ERROR => {
                    refused += 1;
                    if refused >= 3 {
                        break;
                    }
                }
                other => panic!("produce {i}: error {other}"),
            }
        }
        assert!(
            refused >= 3,
            "the 3 MiB disk never filled ({} acked)",
            acked.len()
        );
        assert!(
            acked.len() > 50,
            "only {} acknowledged before ENOSPC",
            acked.len()
        );
        // Everything acknowledged is readable while the disk is full.
        let got = all_values(&mut raw, &topic, 0);
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), acked);
        // Free space: DeleteRecords removes the older segments.
        use kafka_protocol::messages::delete_records_request::{
            DeleteRecordsPartition, DeleteRecordsTopic,
        };
        let cut = acked[acked.len() / 2];
        let req = kafka_protocol::messages::DeleteRecordsRequest::default()
            .with_timeout_ms(5000)
            .with_topics(vec![DeleteRecordsTopic::default()
                .with_name(topic_name(&topic))
                .with_partitions(vec![DeleteRecordsPartition::default()
                    .with_partition_index(0)
                    .with_offset(cut)])]);
        let r = raw.call(&req, 2);
        assert_eq!(r.topics[0].partitions[0].error_code, 0);
        let (code, off) = produce(&mut raw, &topic, &[b"after the disk had room again"]);
        assert_eq!(code, 0, "produce once space returned");
        assert_eq!(
            off,
            acked.last().unwrap() + 1,
            "no gap, nothing half-written"
        );
        broker.restart();
        let mut raw = RawClient::connect(&broker.bootstrap());
        let got = all_values(&mut raw, &topic, cut);
        let expect: Vec<i64> = acked
            .iter()
            .copied()
            .filter(|o| *o >= cut)
            .chain([off])
            .collect();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), expect);
        assert!(got[..got.len() - 1]
            .iter()
            .all(|(_, v)| v.ends_with(&"x".repeat(64))));
    });
}
