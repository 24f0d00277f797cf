//! Storage tests across modules: `Log` (append, read, roll, recovery,
//! idempotence, timestamps, flush) and `LogManager` (topics on disk).
//! Single-module tests live next to their code.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::record::{
    validate_batch, BatchBuilder, BatchHeader, BatchIter, NewRecord, RecordIter, TopicPartition,
};

fn records(n: usize, ts: i64, value_len: usize) -> Vec<NewRecord> {
    (0..n)
        .map(|i| NewRecord::new(ts + i as i64, vec![b'v'; value_len]))
        .collect()
}

fn batch(n: usize, ts: i64) -> Bytes {
    Bytes::from(BatchBuilder::new(0, ts).build(&records(n, ts, 20)))
}

fn idem(pid: i64, epoch: i16, seq: i32, n: usize) -> Bytes {
    Bytes::from(
        BatchBuilder::new(0, 1000)
            .producer(pid, epoch, seq)
            .build(&records(n, 1000, 10)),
    )
}

fn small() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 64,
        ..LogConfig::default()
    }
}

fn pdir(root: &Path) -> PathBuf {
    root.join("t-0")
}

fn open(root: &Path, config: LogConfig) -> Log {
    Log::open(&pdir(root), TopicPartition::new("t", 0), config, 0).unwrap()
}

/// Every batch header in the log, read through the public API.
fn read_all(log: &Log) -> Vec<BatchHeader> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let r = log.read(offset, 300, true).unwrap();
        assert!(!r.records.is_empty(), "no progress at {offset}");
        for item in BatchIter::new(&r.records) {
            let (_, h) = item.unwrap();
            offset = h.next_offset();
            out.push(h);
        }
    }
    out
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn storage_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<LogManager>();
    check::<Log>();
    check::<Topic>();
    check::<StorageError>();
}

#[test]
fn append_assigns_contiguous_offsets_and_reads_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    let mut expected = 0;
    for n in 1..=10 {
        let info = log.append(batch(n, 1000 + n as i64), 5).unwrap();
        assert_eq!(info.base_offset, expected);
        assert_eq!(info.log_append_time_ms, -1);
        assert!(!info.duplicate);
        expected += n as i64;
    }
    assert_eq!(log.high_watermark(), expected);
    assert_eq!(log.log_end_offset(), expected);
    // Every offset reads back the batch containing it first, CRC intact and
    // offsets rewritten on disk.
    for offset in 0..expected {
        let r = log.read(offset, 1 << 20, true).unwrap();
        let hs = crate::record::validate_batches(&r.records).unwrap();
        assert!(hs[0].base_offset <= offset && offset <= hs[0].last_offset());
        assert_eq!(hs.last().unwrap().next_offset(), expected);
        assert_eq!(r.high_watermark, expected);
        assert_eq!(r.log_start_offset, 0);
        assert!(hs.iter().all(|h| h.partition_leader_epoch == 0));
    }
    // At the log end: empty. Past it or before the start: out of range.
    assert!(log.read(expected, 100, true).unwrap().records.is_empty());
    assert!(matches!(
        log.read(expected + 1, 100, true),
        Err(StorageError::OffsetOutOfRange { requested, log_start: 0, log_end }) if requested == expected + 1 && log_end == expected
    ));
    assert!(matches!(
        log.read(-1, 100, true),
        Err(StorageError::OffsetOutOfRange { .. })
    ));
    // max_bytes: whole batches only; KIP-74 for the first one.
    let first = log.read(0, 1 << 20, true).unwrap();
    let first_len =
        validate_batch(&first.records[..BatchIter::new(&first.records).nth(1).unwrap().unwrap().0])
            .unwrap()
            .total_len();
    assert_eq!(
        log.read(0, first_len, true).unwrap().records.len(),
        first_len
    );
    assert_eq!(
        log.read(0, first_len + 10, true).unwrap().records.len(),
        first_len
    );
    assert_eq!(log.read(0, 1, true).unwrap().records.len(), first_len);
    assert!(log.read(0, 1, false).unwrap().records.is_empty());
}

#[test]
fn append_rejects_invalid_batches() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(
        dir.path(),
        LogConfig {
            max_message_bytes: 200,
            ..LogConfig::default()
        },
    );
    let mut bad_crc = batch(1, 0).to_vec();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 1;
    assert!(matches!(
        log.append(Bytes::from(bad_crc), 0),
        Err(StorageError::Record(
            crate::record::RecordError::CorruptCrc { .. }
        ))
    ));
    let mut control = BatchBuilder::new(0, 0);
    control.attributes = crate::record::ATTR_CONTROL;
    let control = control.build(&records(1, 0, 1));
    assert!(matches!(
        log.append(Bytes::from(control), 0),
        Err(StorageError::InvalidRecord(_))
    ));
    let empty = BatchBuilder::new(0, 0).build(&[]);
    assert!(matches!(
        log.append(Bytes::from(empty), 0),
        Err(StorageError::InvalidRecord(_))
    ));
    let big = Bytes::from(BatchBuilder::new(0, 0).build(&records(1, 0, 300)));
    assert!(matches!(
        log.append(big, 0),
        Err(StorageError::RecordTooLarge { max: 200, .. })
    ));
    let mut legacy = batch(1, 0).to_vec();
    legacy[16] = 1;
    assert!(matches!(
        log.append(Bytes::from(legacy), 0),
        Err(StorageError::Record(
            crate::record::RecordError::UnsupportedMagic(1)
        ))
    ));
    assert_eq!(log.high_watermark(), 0);
    assert_eq!(log.size_bytes(), 0);
}

#[test]
fn rolls_by_size_and_reads_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), small());
    for i in 0..60 {
        log.append(batch(3, i * 10), i).unwrap();
    }
    assert!(log.segment_count() > 5, "{}", log.segment_count());
    let hs = read_all(&log);
    assert_eq!(hs.len(), 60);
    assert!(hs
        .windows(2)
        .all(|w| w[0].next_offset() == w[1].base_offset));
    let on_disk: u64 = files_with_ext(&pdir(dir.path()), "log")
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(log.size_bytes(), on_disk);
    for f in files_with_ext(&pdir(dir.path()), "log") {
        assert!(fs::metadata(&f).unwrap().len() <= 1024);
    }
    // Segment files are named by the base offset of their first batch.
    let names: Vec<i64> = files_with_ext(&pdir(dir.path()), "log")
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(names.len(), log.segment_count());
    for base in names {
        assert!(hs.iter().any(|h| h.base_offset == base));
    }
    // A batch larger than segment.bytes still goes in (alone).
    let huge = Bytes::from(BatchBuilder::new(0, 0).build(&records(1, 0, 2000)));
    log.append(huge, 100).unwrap();
    log.append(batch(1, 0), 100).unwrap();
    assert_eq!(read_all(&log).len(), 62);
}

#[test]
fn rolls_by_time_and_by_full_index() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(
        dir.path(),
        LogConfig {
            segment_ms: 100,
            ..LogConfig::default()
        },
    );
    log.append(batch(1, 0), 1_000).unwrap();
    log.append(batch(1, 0), 1_050).unwrap();
    assert_eq!(log.segment_count(), 1);
    log.append(batch(1, 0), 1_100).unwrap();
    assert_eq!(log.segment_count(), 2);
    // run_periodic rolls a non-empty segment whose time is up, never an empty one.
    log.run_periodic(1_150).unwrap();
    assert_eq!(log.segment_count(), 2);
    log.run_periodic(1_200).unwrap();
    assert_eq!(log.segment_count(), 3);
    log.run_periodic(5_000).unwrap();
    assert_eq!(log.segment_count(), 3);
    assert_eq!(read_all(&log).len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let log = open(
        dir.path(),
        LogConfig {
            index_interval_bytes: 0,
            segment_index_bytes: 16, // two offset index entries
            ..LogConfig::default()
        },
    );
    for _ in 0..10 {
        log.append(batch(1, 0), 0).unwrap();
    }
    assert!(log.segment_count() >= 3, "{}", log.segment_count());
    assert_eq!(read_all(&log).len(), 10);
}

#[test]
fn reopen_keeps_everything_and_continues_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let log = open(dir.path(), small());
        for i in 0..40 {
            log.append(batch(2, i), i).unwrap();
        }
        read_all(&log)
        // dropped without flush: like a SIGKILL (the page cache survives)
    };
    let log = open(dir.path(), small());
    assert_eq!(read_all(&log), before);
    assert_eq!(log.high_watermark(), 80);
    assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, 80);
    // Indexes of sealed segments were trusted, the active one rebuilt: both
    // still answer every lookup.
    for o in 0..81 {
        let r = log.read(o, 100, true).unwrap();
        let (_, h) = BatchIter::new(&r.records).next().unwrap().unwrap();
        assert!(h.base_offset <= o && o <= h.last_offset());
    }
}

#[test]
fn empty_partition_dir_is_a_fresh_log() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(pdir(dir.path())).unwrap();
    let log = open(dir.path(), small());
    assert_eq!(
        (
            log.log_start_offset(),
            log.high_watermark(),
            log.segment_count()
        ),
        (0, 0, 1)
    );
    assert_eq!(log.max_timestamp(), None);
    assert_eq!(log.offset_for_timestamp(0).unwrap(), None);
}

/// Writes `n` single-record batches into a fresh log (one segment) and
/// returns the active segment file and the end position of each batch.
fn one_segment_log(root: &Path, n: i64) -> (PathBuf, Vec<u64>) {
    let log = open(root, LogConfig::default());
    let mut ends = Vec::new();
    for i in 0..n {
        log.append(batch(1, i), 0).unwrap();
        ends.push(log.size_bytes());
    }
    assert_eq!(log.segment_count(), 1);
    (files_with_ext(&pdir(root), "log").remove(0), ends)
}

#[test]
fn recovery_truncates_a_torn_tail_at_every_length() {
    let dir = tempfile::tempdir().unwrap();
    let (seg, ends) = one_segment_log(dir.path(), 4);
    let full = fs::read(&seg).unwrap();
    for cut in 0..=full.len() {
        fs::write(&seg, &full[..cut]).unwrap();
        let whole = ends.iter().filter(|&&e| e <= cut as u64).count() as i64;
        let log = open(dir.path(), LogConfig::default());
        assert_eq!(log.high_watermark(), whole, "cut at {cut}");
        let valid_len = if whole == 0 {
            0
        } else {
            ends[whole as usize - 1]
        };
        assert_eq!(fs::metadata(&seg).unwrap().len(), valid_len, "cut at {cut}");
        assert_eq!(read_all(&log).len() as i64, whole);
        // The log accepts appends right after the valid prefix.
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, whole);
        drop(log);
    }
}

#[test]
fn recovery_truncates_at_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (seg, ends) = one_segment_log(dir.path(), 3);
    let full = fs::read(&seg).unwrap();
    for i in 0..full.len() {
        let mut damaged = full.clone();
        damaged[i] ^= 0x10;
        fs::write(&seg, &damaged).unwrap();
        let batch_idx = ends.iter().filter(|&&e| e <= i as u64).count();
        let batch_start = if batch_idx == 0 {
            0
        } else {
            ends[batch_idx - 1]
        };
        let within = i as u64 - batch_start;
        let log = open(dir.path(), LogConfig::default());
        if (12..16).contains(&within) {
            // The partition leader epoch is neither checked nor covered by
            // the CRC: nothing to detect.
            assert_eq!(log.high_watermark(), 3, "flip at {i}");
        } else {
            assert_eq!(log.high_watermark(), batch_idx as i64, "flip at {i}");
            assert_eq!(fs::metadata(&seg).unwrap().len(), batch_start);
        }
        for h in read_all(&log) {
            assert!(h.base_offset < log.high_watermark());
        }
        drop(log);
        fs::write(&seg, &full).unwrap();
    }
}

#[test]
fn missing_or_corrupt_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let log = open(dir.path(), small());
        for i in 0..50 {
            log.append(batch(2, i * 3), i).unwrap();
        }
        log.flush().unwrap();
        read_all(&log)
    };
    let p = pdir(dir.path());
    let indexes = files_with_ext(&p, "index");
    let time_indexes = files_with_ext(&p, "timeindex");
    assert!(indexes.len() >= 4);
    fs::remove_file(&indexes[0]).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&time_indexes[1])
        .and_then(|mut f| std::io::Write::write_all(&mut f, &[1, 2, 3]))
        .unwrap();
    fs::write(&indexes[2], [0xffu8; 16]).unwrap(); // points far beyond the log
    fs::write(&time_indexes[3], []).unwrap(); // a non-empty segment needs an entry
                                              // Leftovers that recovery must clear away.
    fs::write(p.join("00000000000099999999.index"), [0u8; 8]).unwrap();
    fs::write(p.join("00000000000000000000.log.tmp"), b"x").unwrap();
    let log = open(dir.path(), small());
    assert_eq!(read_all(&log), before);
    for f in files_with_ext(&p, "index") {
        assert_eq!(fs::metadata(&f).unwrap().len() % 8, 0);
    }
    assert!(fs::metadata(&indexes[0]).unwrap().len() > 0);
    assert_eq!(fs::metadata(&time_indexes[1]).unwrap().len() % 12, 0);
    assert!(!p.join("00000000000099999999.index").exists());
    assert!(!p.join("00000000000000000000.log.tmp").exists());
    for ts in [0, 1, 50, 149, 150] {
        assert_eq!(
            log.offset_for_timestamp(ts).unwrap(),
            brute_force_ts(&log, ts),
            "ts {ts}"
        );
    }
}

#[test]
fn corrupt_sealed_segment_drops_the_segments_after_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), small());
        for i in 0..50 {
            log.append(batch(2, i), i).unwrap();
        }
    }
    let p = pdir(dir.path());
    let logs = files_with_ext(&p, "log");
    assert!(logs.len() >= 4);
    // Damage the last byte of the second segment and remove its index so
    // that recovery scans it.
    let victim = &logs[1];
    let mut data = fs::read(victim).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0xff;
    fs::write(victim, &data).unwrap();
    fs::remove_file(victim.with_extension("index")).unwrap();
    let log = open(dir.path(), small());
    let hs = read_all(&log);
    let second_base: i64 = victim
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(log.high_watermark() > second_base);
    assert_eq!(hs.last().unwrap().next_offset(), log.high_watermark());
    assert_eq!(log.segment_count(), 2);
    assert_eq!(files_with_ext(&p, "log").len(), 2);
    // Writes continue at the truncation point, into the recovered segment.
    let next = log.high_watermark();
    assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, next);
}

fn brute_force_ts(log: &Log, ts: i64) -> Option<(i64, i64)> {
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let r = log.read(offset, 1 << 20, true).unwrap();
        for item in BatchIter::new(&r.records) {
            let (pos, h) = item.unwrap();
            for rec in RecordIter::new(&r.records[pos..pos + h.total_len()]).unwrap() {
                let rec = rec.unwrap();
                if rec.timestamp >= ts {
                    return Some((rec.offset, rec.timestamp));
                }
            }
            offset = h.next_offset();
        }
    }
    None
}

#[test]
fn offset_for_timestamp_matches_a_record_scan() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig {
        segment_bytes: 700,
        index_interval_bytes: 100,
        ..LogConfig::default()
    };
    let log = open(dir.path(), cfg.clone());
    // Timestamps mostly increase, with some going backwards inside and
    // across batches.
    let mut t = 1_000;
    for i in 0..40 {
        let recs: Vec<_> = (0..3)
            .map(|j| {
                let ts = if (i + j) % 7 == 0 {
                    t - 50
                } else {
                    t + j as i64 * 5
                };
                NewRecord::new(ts, b"x".to_vec())
            })
            .collect();
        log.append(Bytes::from(BatchBuilder::new(0, t).build(&recs)), 0)
            .unwrap();
        t += 20;
    }
    assert!(log.segment_count() > 3);
    let check = |log: &Log| {
        for ts in (900..t + 40).step_by(7) {
            assert_eq!(
                log.offset_for_timestamp(ts).unwrap(),
                brute_force_ts(log, ts),
                "ts {ts}"
            );
        }
        let (off, max) = log.max_timestamp().unwrap();
        assert_eq!(max, t - 20 + 10);
        let r = log.read(off, 1, true).unwrap();
        assert_eq!(validate_batch(&r.records).unwrap().max_timestamp, max);
    };
    check(&log);
    drop(log);
    let log = open(dir.path(), cfg);
    check(&log);
}

#[test]
fn log_append_time_stamps_batches() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(
        dir.path(),
        LogConfig {
            message_timestamp_type: TimestampType::LogAppendTime,
            ..LogConfig::default()
        },
    );
    let info = log.append(batch(3, 5), 777_000).unwrap();
    assert_eq!(info.log_append_time_ms, 777_000);
    let r = log.read(0, 1 << 20, true).unwrap();
    let h = validate_batch(&r.records).unwrap();
    assert!(h.timestamp_type_is_log_append());
    assert_eq!((h.base_timestamp, h.max_timestamp), (777_000, 777_000));
    assert_eq!(
        log.offset_for_timestamp(700_000).unwrap(),
        Some((0, 777_000))
    );
    assert_eq!(log.max_timestamp(), Some((0, 777_000)));
}

#[test]
fn idempotent_producer_dedup_and_sequence_checks() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    assert_eq!(log.append(idem(7, 0, 0, 2), 0).unwrap().base_offset, 0);
    assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, 2);
    assert_eq!(log.append(idem(7, 0, 2, 3), 0).unwrap().base_offset, 3);
    // Retry of the first batch: original offset, nothing appended.
    let dup = log.append(idem(7, 0, 0, 2), 0).unwrap();
    assert!(dup.duplicate);
    assert_eq!(dup.base_offset, 0);
    assert_eq!(log.high_watermark(), 6);
    assert!(matches!(
        log.append(idem(7, 0, 9, 1), 0),
        Err(StorageError::OutOfOrderSequence {
            producer_id: 7,
            first_seq: 9,
            last_seq: 4,
            ..
        })
    ));
    assert!(matches!(
        log.append(idem(7, 1, 5, 1), 0),
        Err(StorageError::OutOfOrderSequence { .. })
    ));
    assert_eq!(log.append(idem(7, 1, 0, 1), 0).unwrap().base_offset, 6);
    assert!(matches!(
        log.append(idem(7, 0, 5, 1), 0),
        Err(StorageError::InvalidProducerEpoch {
            epoch: 0,
            current_epoch: 1,
            ..
        })
    ));
    // Another producer starts anywhere.
    assert_eq!(log.append(idem(8, 3, 100, 1), 0).unwrap().base_offset, 7);
    assert_eq!(log.high_watermark(), 8);
}

#[test]
fn producer_state_survives_restart_with_and_without_snapshots() {
    for clean in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), small());
            // Enough to roll several times (snapshots at each roll).
            let mut seq = 0;
            for _ in 0..30 {
                log.append(idem(1, 0, seq, 2), 0).unwrap();
                seq += 2;
                log.append(batch(1, 0), 0).unwrap();
            }
            assert!(log.segment_count() > 2);
            assert!(!files_with_ext(&pdir(dir.path()), "snapshot").is_empty());
            if clean {
                log.checkpoint().unwrap();
            }
        }
        let snaps = files_with_ext(&pdir(dir.path()), "snapshot");
        assert!(snaps.len() <= 2, "old snapshots are pruned: {snaps:?}");
        let log = open(dir.path(), small());
        // The last batch (seq 58..59) is a duplicate; 60 is next.
        let dup = log.append(idem(1, 0, 58, 2), 0).unwrap();
        assert!(dup.duplicate, "clean={clean}");
        assert_eq!(dup.base_offset, 87);
        assert!(matches!(
            log.append(idem(1, 0, 61, 1), 0),
            Err(StorageError::OutOfOrderSequence { .. })
        ));
        assert!(!log.append(idem(1, 0, 60, 1), 0).unwrap().duplicate);
    }
}

#[test]
fn producer_snapshot_beyond_the_log_end_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), LogConfig::default());
        log.append(idem(1, 0, 0, 1), 0).unwrap();
        log.append(idem(1, 0, 1, 1), 0).unwrap();
        log.checkpoint().unwrap(); // snapshot at offset 2
    }
    // Lose the second batch (torn tail): the snapshot at 2 is now ahead of
    // the log and must not be used.
    let seg = files_with_ext(&pdir(dir.path()), "log").remove(0);
    let len = fs::metadata(&seg).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    let log = open(dir.path(), LogConfig::default());
    assert_eq!(log.high_watermark(), 1);
    assert!(files_with_ext(&pdir(dir.path()), "snapshot").is_empty());
    // seq 1 was lost, so it is not a duplicate: it is appended again.
    let info = log.append(idem(1, 0, 1, 1), 0).unwrap();
    assert!(!info.duplicate);
    assert_eq!(info.base_offset, 1);
}

#[test]
fn flush_messages_one_fsyncs_before_returning_and_group_commits() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(
        dir.path(),
        LogConfig {
            flush_messages: 1,
            segment_bytes: 4096,
            ..LogConfig::default()
        },
    ));
    log.append(batch(2, 0), 0).unwrap();
    assert_eq!(log.flushed_offset(), 2);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| {
                        let info = log.append(batch(1, 0), 0).unwrap();
                        // Acknowledged ⇒ durable.
                        assert!(log.flushed_offset() > info.base_offset);
                        info.base_offset
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut offsets: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (2..202).collect::<Vec<_>>());
    assert_eq!(read_all(&log).len(), 201);
}

#[test]
fn flush_ms_and_rolled_segments_are_flushed_periodically() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(
        dir.path(),
        LogConfig {
            flush_ms: 1000,
            segment_bytes: 300,
            ..LogConfig::default()
        },
    );
    log.append(batch(1, 0), 0).unwrap();
    assert_eq!(log.flushed_offset(), 0);
    log.run_periodic(500).unwrap();
    assert_eq!(log.flushed_offset(), 0);
    log.run_periodic(1000).unwrap();
    assert_eq!(log.flushed_offset(), 1);
    for _ in 0..5 {
        log.append(batch(2, 0), 1100).unwrap();
    }
    assert!(log.segment_count() > 1);
    // Not yet flush.ms since the last flush, but rolled segments get flushed.
    log.run_periodic(1200).unwrap();
    assert!(log.flushed_offset() > 1);
    log.flush().unwrap();
    assert_eq!(log.flushed_offset(), log.high_watermark());
}

#[test]
fn subscribers_see_the_high_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    let mut rx = log.subscribe();
    assert_eq!(*rx.borrow_and_update(), 0);
    assert!(!rx.has_changed().unwrap());
    log.append(batch(3, 0), 0).unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), 3);
}

fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn log_manager_topic_lifecycle_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id_a = uuid::Uuid::new_v4();
    {
        let mgr = LogManager::open(&data, LogConfig::default(), 0).unwrap();
        assert!(mgr.topics().is_empty());
        let a = mgr
            .create_topic(
                "b-topic",
                2,
                id_a,
                overrides(&[("segment.bytes", "2048")]),
                0,
            )
            .unwrap();
        assert_eq!(a.config().segment_bytes, 2048);
        assert_eq!(a.overrides(), overrides(&[("segment.bytes", "2048")]));
        assert_eq!(mgr.topic("b-topic").unwrap().id(), id_a);
        assert_eq!(mgr.topic_by_id(id_a).unwrap().name(), "b-topic");
        assert!(matches!(
            mgr.create_topic("b-topic", 1, uuid::Uuid::new_v4(), BTreeMap::new(), 0),
            Err(StorageError::TopicAlreadyExists(_))
        ));
        assert!(matches!(
            mgr.create_topic(
                "bad",
                1,
                uuid::Uuid::new_v4(),
                overrides(&[("segment.bytes", "x")]),
                0
            ),
            Err(StorageError::InvalidConfig { .. })
        ));
        assert!(matches!(
            mgr.create_topic("zero", 0, uuid::Uuid::new_v4(), BTreeMap::new(), 0),
            Err(StorageError::InvalidPartitions { .. })
        ));
        assert!(mgr.topic("bad").is_none() && mgr.topic("zero").is_none());
        mgr.create_topic("a-topic", 1, uuid::Uuid::new_v4(), BTreeMap::new(), 0)
            .unwrap();
        let names: Vec<_> = mgr.topics().iter().map(|t| t.name().to_string()).collect();
        assert_eq!(names, ["a-topic", "b-topic"]);

        let p1 = a.partition(1).unwrap();
        p1.append(batch(2, 0), 0).unwrap();
        assert!(a.partition(2).is_none() && a.partition(-1).is_none());
        assert!(matches!(
            mgr.create_partitions("b-topic", 2, 0),
            Err(StorageError::InvalidPartitions {
                current: 2,
                requested: 2,
                ..
            })
        ));
        mgr.create_partitions("b-topic", 4, 0).unwrap();
        assert_eq!(a.partition_count(), 4);
        a.partition(3).unwrap().append(batch(1, 0), 0).unwrap();
        assert!(matches!(
            mgr.create_partitions("nope", 4, 0),
            Err(StorageError::UnknownTopic(_))
        ));
        mgr.flush_all().unwrap();
        mgr.run_periodic(10);
    }
    {
        let mgr = LogManager::open(&data, LogConfig::default(), 0).unwrap();
        let a = mgr.topic("b-topic").unwrap();
        assert_eq!(a.id(), id_a);
        assert_eq!(a.partition_count(), 4);
        assert_eq!(a.config().segment_bytes, 2048);
        assert_eq!(a.partition(1).unwrap().high_watermark(), 2);
        assert_eq!(a.partition(3).unwrap().high_watermark(), 1);
        let held = a.partition(0).unwrap();
        mgr.delete_topic("b-topic").unwrap();
        assert!(mgr.topic("b-topic").is_none());
        assert!(mgr.topic_by_id(id_a).is_none());
        assert!(matches!(
            mgr.delete_topic("b-topic"),
            Err(StorageError::UnknownTopic(_))
        ));
        assert!(matches!(
            held.append(batch(1, 0), 0),
            Err(StorageError::UnknownTopic(_))
        ));
        assert!(!data.join("b-topic-0").exists());
        // Re-creating the name starts from scratch.
        let again = mgr
            .create_topic("b-topic", 1, uuid::Uuid::new_v4(), BTreeMap::new(), 0)
            .unwrap();
        assert_eq!(again.partition(0).unwrap().high_watermark(), 0);
        mgr.delete_topic("b-topic").unwrap();
    }
    let mgr = LogManager::open(&data, LogConfig::default(), 0).unwrap();
    let names: Vec<_> = mgr.topics().iter().map(|t| t.name().to_string()).collect();
    assert_eq!(names, ["a-topic"]);
    let leftovers: Vec<_> = fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut leftovers = leftovers;
    leftovers.sort();
    assert_eq!(leftovers, [".skiff", "a-topic-0"]);
}

#[test]
fn log_manager_open_cleans_deleted_and_sets_strays_aside() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    {
        let mgr = LogManager::open(data, LogConfig::default(), 0).unwrap();
        mgr.create_topic("keep", 1, uuid::Uuid::new_v4(), BTreeMap::new(), 0)
            .unwrap()
            .partition(0)
            .unwrap()
            .append(batch(1, 0), 0)
            .unwrap();
    }
    // A crash mid-delete left a renamed directory; a crash between the
    // metadata removal and the rename left an orphan partition directory;
    // metadata says 1 partition but a directory for partition 5 exists.
    fs::create_dir_all(data.join("gone-0.abc.deleted")).unwrap();
    fs::write(
        data.join("gone-0.abc.deleted/00000000000000000000.log"),
        b"x",
    )
    .unwrap();
    fs::create_dir_all(data.join("orphan-0")).unwrap();
    fs::create_dir_all(data.join("keep-5")).unwrap();
    let mgr = LogManager::open(data, LogConfig::default(), 0).unwrap();
    assert!(!data.join("gone-0.abc.deleted").exists());
    assert!(!data.join("orphan-0").exists());
    assert!(!data.join("keep-5").exists());
    let strays = fs::read_dir(data)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .ends_with(".stray")
        })
        .count();
    assert_eq!(strays, 2);
    let keep = mgr.topic("keep").unwrap();
    assert_eq!(keep.partition(0).unwrap().high_watermark(), 1);
    // A partition directory missing for a known topic is recreated empty.
    drop(keep);
    drop(mgr);
    fs::remove_dir_all(data.join("keep-0")).unwrap();
    let mgr = LogManager::open(data, LogConfig::default(), 0).unwrap();
    assert_eq!(
        mgr.topic("keep")
            .unwrap()
            .partition(0)
            .unwrap()
            .high_watermark(),
        0
    );
    // Defaults apply to topics without overrides.
    assert_eq!(mgr.defaults(), &LogConfig::default());
}
