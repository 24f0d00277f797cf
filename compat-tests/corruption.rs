//! A corrupted tail of the last log segment: garbage appended, the last batch
//! cut in half, or the last batch's bytes flipped (CRC mismatch). After a
//! restart every complete earlier batch is readable without errors, and new
//! messages continue right after the last valid offset.

use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::producer::FutureRecord;

use crate::harness::*;

const BATCHES: i64 = 20;

/// Produces `BATCHES` single-message batches (each send awaited on its own).
async fn produce_batches(broker: &Broker, topic: &str) {
    let producer = future_producer(broker, &[("linger.ms", "0")]);
    for i in 0..BATCHES {
        let v = format!("batch-{i}");
        let d = producer
            .send(
                FutureRecord::to(topic).partition(0).key(&v).payload(&v),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce {i}: {e}")));
        assert_eq!(d.offset, i);
    }
}

/// The newest `.log` segment of `<topic>-0`.
fn last_segment(broker: &Broker, topic: &str) -> PathBuf {
    let dir = broker.partition_dir(topic, 0);
    let mut logs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    logs.pop()
        .unwrap_or_else(|| panic!("no .log segment in {}", dir.display()))
}

/// (start position, total size) of each complete batch in a segment file.
fn batch_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = 0usize;
    while pos + 12 <= bytes.len() {
        let len = i32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().unwrap());
        if len <= 0 {
            break; // zero fill (pre-allocated file) or garbage
        }
        let end = pos + 12 + len as usize;
        if end > bytes.len() {
            break;
        }
        spans.push((pos, end - pos));
        pos = end;
    }
    spans
}

/// Restarts, then checks offsets 0..valid are intact and the next produce
/// lands at `valid`.
async fn check_after_restart(broker: &mut Broker, topic: &str, valid: i64) {
    broker.restart();
    let c = consumer(broker, &[]);
    let (low, high) = c
        .fetch_watermarks(topic, 0, OP_TIMEOUT)
        .expect("watermarks after restart");
    assert_eq!(
        (low, high),
        (0, valid),
        "watermarks after recovering the corrupt tail"
    );
    assign_from_start(&c, topic, &[0]);
    let got = consume_exact(&c, valid as usize, Duration::from_secs(15));
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.offset(), i as i64);
        assert_eq!(payload_str(m), format!("batch-{i}"));
    }

    let producer = future_producer(broker, &[]);
    let d = producer
        .send(
            FutureRecord::<(), _>::to(topic)
                .partition(0)
                .payload("after-recovery"),
            Duration::from_secs(10),
        )
        .await
        .unwrap_or_else(|(e, _)| broker.fail(&format!("produce after recovery: {e}")));
    assert_eq!(
        d.offset, valid,
        "new messages continue after the last valid offset"
    );
    let more = consume_exact(&c, 1, Duration::from_secs(10));
    assert_eq!(more[0].offset(), valid);
    assert_eq!(payload_str(&more[0]), "after-recovery");
}

#[test]
fn garbage_appended_to_last_segment() {
    if skip_if_external("needs the broker's data dir") {
        return;
    }
    let mut broker = Broker::start();
    run(async {
        let topic = unique_topic("corrupt-garbage");
        create_topic(&broker, &topic, 1).await;
        produce_batches(&broker, &topic).await;
        broker.stop();

        let seg = last_segment(&broker, &topic);
        let bytes = fs::read(&seg).unwrap();
        let spans = batch_spans(&bytes);
        assert_eq!(
            spans.len() as i64,
            BATCHES,
            "batches found in {}",
            seg.display()
        );
        let end = spans.last().map(|(s, l)| s + l).unwrap();
        // A plausible batch header (next offset, length 500) followed by junk.
        let mut garbage = Vec::new();
        garbage.extend_from_slice(&BATCHES.to_be_bytes());
        garbage.extend_from_slice(&500i32.to_be_bytes());
        garbage.extend_from_slice(&[0xAB; 57]);
        let mut f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.seek(SeekFrom::Start(end as u64)).unwrap();
        f.write_all(&garbage).unwrap();
        f.sync_all().unwrap();
        drop(f);

        check_after_restart(&mut broker, &topic, BATCHES).await;
    });
}

#[test]
fn last_batch_truncated_mid_way() {
    if skip_if_external("needs the broker's data dir") {
        return;
    }
    let mut broker = Broker::start();
    run(async {
        let topic = unique_topic("corrupt-trunc");
        create_topic(&broker, &topic, 1).await;
        produce_batches(&broker, &topic).await;
        broker.stop();

        let seg = last_segment(&broker, &topic);
        let bytes = fs::read(&seg).unwrap();
        let spans = batch_spans(&bytes);
        assert_eq!(
            spans.len() as i64,
            BATCHES,
            "batches found in {}",
            seg.display()
        );
        let (start, len) = *spans.last().unwrap();
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len((start + len / 2) as u64).unwrap();
        f.sync_all().unwrap();
        drop(f);

        check_after_restart(&mut broker, &topic, BATCHES - 1).await;
    });
}

#[test]
fn last_batch_crc_mismatch_after_crash() {
    if skip_if_external("needs the broker's data dir") {
        return;
    }
    let mut broker = Broker::start_with(&[("log.flush.interval.messages", "1")]);
    run(async {
        let topic = unique_topic("corrupt-crc");
        create_topic(&broker, &topic, 1).await;
        produce_batches(&broker, &topic).await;
        broker.kill();

        let seg = last_segment(&broker, &topic);
        let bytes = fs::read(&seg).unwrap();
        let spans = batch_spans(&bytes);
        assert_eq!(
            spans.len() as i64,
            BATCHES,
            "batches found in {}",
            seg.display()
        );
        let (start, len) = *spans.last().unwrap();
        // Flip the last byte of the batch (inside the record's value): the
        // length still matches but the CRC-32C no longer does.
        let pos = start + len - 1;
        let mut f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.seek(SeekFrom::Start(pos as u64)).unwrap();
        f.write_all(&[bytes[pos] ^ 0xFF]).unwrap();
        f.sync_all().unwrap();
        drop(f);

        check_after_restart(&mut broker, &topic, BATCHES - 1).await;
    });
}
