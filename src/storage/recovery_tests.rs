//! Tests of loading a partition (see `recovery`): the recovery point rule
//! (what a restart trusts and what it rescans, after a clean shutdown and
//! after a crash), torn and corrupt tails, missing or corrupt indexes, and
//! producer state after a restart. A file of their own because they drive
//! whole logs; `recovery` itself has no unit-sized parts left to test.

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::file_names::{offset_file_path, FileKind, RECOVERY_POINT_CHECKPOINT};
use super::log_config::LogConfig;
use super::partition_files::{read_recovery_point, write_recovery_point};
use super::test_util::*;
use super::{Log, StorageError};

/// Big segments (one active segment), an index entry every 100 bytes.
fn one_segment() -> LogConfig {
    LogConfig {
        index_interval_bytes: 100,
        ..LogConfig::default()
    }
}

fn active_index_entries(
    log: &Log,
) -> (
    Vec<super::offset_index::OffsetPosition>,
    Vec<super::time_index::TimestampOffset>,
) {
    log.lock().active.index_entries().unwrap()
}

/// Flips one byte of a record value inside the batch starting at byte
/// `pos`: its CRC no longer matches, but its header still parses.
fn damage_payload(path: &std::path::Path, pos: u64) {
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let at = pos + crate::record::BATCH_HEADER_LEN as u64 + 10;
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, at).unwrap();
    f.write_all_at(&[b[0] ^ 0xff], at).unwrap();
}

#[test]
fn clean_restart_trusts_the_indexes_without_rebuilding() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), one_segment());
    for i in 0..40 {
        log.append(batch(3, i * 10), 0).unwrap();
    }
    let (offsets, times) = active_index_entries(&log);
    assert!(offsets.len() > 10 && !times.is_empty());
    log.checkpoint().unwrap();
    assert_eq!(read_recovery_point(&pdir(dir.path())), Some(120));
    let before = read_all(&log);
    drop(log);
    // Shorten the index to a valid prefix. A rebuild would restore every
    // entry; a trusted index stays as found.
    let index = offset_file_path(&pdir(dir.path()), 0, FileKind::Index);
    let kept = 4;
    fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap()
        .set_len(kept * 8)
        .unwrap();
    let log = open(dir.path(), one_segment());
    assert_eq!(fs::metadata(&index).unwrap().len(), kept * 8);
    let (reopened, reopened_times) = active_index_entries(&log);
    assert_eq!(reopened, offsets[..kept as usize]);
    assert_eq!(reopened_times, times);
    // Still correct: lookups just scan further, and appends continue.
    assert_eq!(read_all(&log), before);
    assert_eq!(log.high_watermark(), 120);
    assert_eq!(log.flushed_offset(), 120, "nothing left to flush");
    assert_eq!(log.append(batch(1, 500), 0).unwrap().base_offset, 120);
    assert_eq!(log.max_timestamp(), Some((120, 500)));
}

#[test]
fn crash_restart_rescans_only_from_the_recovery_point() {
    let dir = tempfile::tempdir().unwrap();
    let p = pdir(dir.path());
    let log = open(dir.path(), one_segment());
    for i in 0..30 {
        log.append(batch(2, i * 10), 0).unwrap();
    }
    log.flush().unwrap();
    log.checkpoint_recovery_point(1_000_000, false);
    assert_eq!(read_recovery_point(&p), Some(60));
    for i in 30..50 {
        log.append(batch(2, i * 10), 0).unwrap();
    }
    let live = active_index_entries(&log);
    let rp_position = live
        .0
        .iter()
        .find(|e| e.offset > 50)
        .map(|e| e.position)
        .unwrap();
    let before = read_all(&log);
    drop(log); // a crash: nothing flushed since offset 60
    let seg = offset_file_path(&p, 0, FileKind::Log);
    // Damage a batch well below the recovery point. A full rescan would
    // truncate the log there; below the recovery point the log is trusted.
    damage_payload(&seg, 0);
    // Tear the tail, past the recovery point: that part is rescanned.
    let len = fs::metadata(&seg).unwrap().len();
    assert!(rp_position < len - 30);
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 30)
        .unwrap();
    let log = open(dir.path(), one_segment());
    assert_eq!(log.high_watermark(), 98, "only the torn last batch is gone");
    assert_eq!(log.flushed_offset(), 60, "no fsync on open for the tail");
    // The indexes are what appending the surviving batches live writes.
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = open(reference_dir.path(), one_segment());
    for i in 0..49 {
        reference.append(batch(2, i * 10), 0).unwrap();
    }
    assert_eq!(active_index_entries(&log), active_index_entries(&reference));
    // Record 97 (the second of the batch at 96) holds the max timestamp.
    assert_eq!(log.max_timestamp(), Some((97, 481)));
    // Batches above the damage read back as before the crash.
    let r = log
        .read(60, 1 << 20, true, super::Isolation::ReadUncommitted)
        .unwrap();
    let got = crate::record::validate_batches(&r.records).unwrap();
    assert_eq!(got[..], before[30..49]);
    // And the next flush moves the recovery point on.
    log.flush().unwrap();
    log.checkpoint_recovery_point(2_000_000, false);
    assert_eq!(read_recovery_point(&p), Some(98));
}

#[test]
fn a_corrupt_index_below_the_recovery_point_is_caught_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let p = pdir(dir.path());
    let log = open(dir.path(), small());
    for i in 0..60 {
        log.append(batch(2, i * 10), 0).unwrap();
    }
    assert!(log.segment_count() > 3);
    log.checkpoint().unwrap();
    let before = read_all(&log);
    drop(log);
    let first = offset_file_path(&p, 0, FileKind::Index);
    let good = fs::read(&first).unwrap();
    assert!(good.len() >= 16);
    // The last entry moved to a position inside a batch: within the file
    // and below the next segment, so only the batch-start check sees it.
    let mut bad = good.clone();
    let n = bad.len();
    let pos = u32::from_be_bytes(bad[n - 4..].try_into().unwrap()) + 5;
    bad[n - 4..].copy_from_slice(&pos.to_be_bytes());
    fs::write(&first, &bad).unwrap();
    // A torn entry on the second segment's time index.
    let second_ts = files_with_ext(&p, "timeindex")[1].clone();
    let ts_good = fs::read(&second_ts).unwrap();
    fs::write(&second_ts, [&ts_good[..], &[0, 1, 2][..]].concat()).unwrap();
    let log = open(dir.path(), small());
    assert_eq!(fs::read(&first).unwrap(), good, "rebuilt from the log");
    assert_eq!(
        fs::read(&second_ts).unwrap(),
        ts_good,
        "rebuilt from the log"
    );
    assert_eq!(read_all(&log), before);
    for offset in 0..120 {
        let r = log
            .read(offset, 1, true, super::Isolation::ReadUncommitted)
            .unwrap();
        let h = crate::record::validate_batch(&r.records).unwrap();
        assert!(h.base_offset <= offset && offset <= h.last_offset());
    }
}

#[test]
fn a_truncation_below_the_recovery_point_lowers_it_durably() {
    let dir = tempfile::tempdir().unwrap();
    let p = pdir(dir.path());
    let log = open(dir.path(), small());
    for i in 0..60 {
        log.append(batch(2, i * 10), 0).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);
    // Disk damage in the second segment, whose index is gone too: it is
    // rebuilt, the damage found, and the log ends there.
    let logs = files_with_ext(&p, "log");
    fs::remove_file(logs[1].with_extension("index")).unwrap();
    damage_payload(&logs[1], 0);
    let log = open(dir.path(), small());
    let end = log.high_watermark();
    assert!(end < 120);
    assert_eq!(read_recovery_point(&p), Some(end));
    assert_eq!(log.flushed_offset(), end);
    // New appends there are not mistaken for flushed data after a crash.
    log.append(batch(2, 0), 0).unwrap();
    drop(log);
    let log = open(dir.path(), small());
    assert_eq!(log.high_watermark(), end + 2);
}

#[test]
fn a_torn_or_foreign_checkpoint_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    assert_eq!(read_recovery_point(p), None);
    write_recovery_point(p, 1234, false).unwrap();
    assert_eq!(read_recovery_point(p), Some(1234));
    let path = p.join(RECOVERY_POINT_CHECKPOINT);
    let text = fs::read_to_string(&path).unwrap();
    for cut in 0..text.len() {
        fs::write(&path, &text[..cut]).unwrap();
        assert_eq!(read_recovery_point(p), None, "cut at {cut}");
    }
    fs::write(&path, "99999 00000000\n").unwrap();
    assert_eq!(read_recovery_point(p), None);
    write_recovery_point(p, 7, true).unwrap();
    assert_eq!(read_recovery_point(p), Some(7));
}

#[test]
fn without_a_checkpoint_the_active_segment_is_recovered_and_one_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = pdir(dir.path());
    let log = open(dir.path(), one_segment());
    assert_eq!(read_recovery_point(&p), None, "new partitions write none");
    for i in 0..10 {
        log.append(batch(2, i), 0).unwrap();
    }
    drop(log);
    let log = open(dir.path(), one_segment());
    assert_eq!(log.flushed_offset(), 20);
    assert_eq!(read_recovery_point(&p), Some(20));
    // A new partition writes its first one at the first flush, without
    // waiting for the interval.
    let fresh = Log::open(
        &dir.path().join("t-1"),
        crate::record::TopicPartition::new("t", 1),
        one_segment(),
        0,
    )
    .unwrap();
    fresh.append(batch(2, 0), 0).unwrap();
    fresh.flush().unwrap();
    fresh.run_periodic(1, true).unwrap();
    assert_eq!(read_recovery_point(&dir.path().join("t-1")), Some(2));
}

#[test]
fn flush_logs_makes_deferred_appends_durable_together() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig {
        flush_messages: 1,
        ..LogConfig::default()
    };
    let logs: Vec<std::sync::Arc<Log>> = (0..5)
        .map(|p| {
            std::sync::Arc::new(
                Log::open(
                    &dir.path().join(format!("t-{p}")),
                    crate::record::TopicPartition::new("t", p),
                    cfg.clone(),
                    0,
                )
                .unwrap(),
            )
        })
        .collect();
    let mut pending = Vec::new();
    for log in &logs {
        let (info, flush) = log.append_unflushed(batch(3, 0), 0).unwrap();
        assert_eq!(info.base_offset, 0);
        assert_eq!(flush, Some(3), "flush.messages=1 asks for a flush");
        assert_eq!(log.flushed_offset(), 0, "not flushed yet");
        pending.push((std::sync::Arc::clone(log), 3));
    }
    let results = super::flush_logs(&pending, 0);
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|r| r.is_ok()));
    assert!(logs.iter().all(|l| l.flushed_offset() == 3));
    // The default policy asks for nothing.
    let lazy = open(dir.path(), LogConfig::default());
    assert_eq!(lazy.append_unflushed(batch(1, 0), 0).unwrap().1, None);
    assert!(super::flush_logs(&[], 0).is_empty());
}

/// Writes `n` single-record batches into a fresh one-segment log and
/// returns the segment file and the end position of each batch.
fn one_segment_log(root: &Path, n: i64) -> (std::path::PathBuf, Vec<u64>) {
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
        // Appends continue right after the valid prefix.
        assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, whole);
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
        let log = open(dir.path(), LogConfig::default());
        // Every byte is checked: the CRC covers 21.., and the base
        // offset, length, leader epoch (always 0 here) and magic are
        // checked by the scan.
        assert_eq!(log.high_watermark(), batch_idx as i64, "flip at {i}");
        assert_eq!(fs::metadata(&seg).unwrap().len(), batch_start);
        assert_eq!(read_all(&log).len() as i64, log.high_watermark());
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
                                              // Leftovers that recovery clears away.
    fs::write(p.join("00000000000099999999.index"), [0u8; 8]).unwrap();
    fs::write(p.join("00000000000000000000.log.tmp"), b"x").unwrap();
    let log = open(dir.path(), small());
    assert_eq!(read_all(&log), before);
    for f in files_with_ext(&p, "index") {
        assert_eq!(fs::metadata(&f).unwrap().len() % 8, 0);
    }
    assert!(fs::metadata(&indexes[0]).unwrap().len() > 0);
    assert_eq!(fs::metadata(&time_indexes[1]).unwrap().len() % 12, 0);
    assert!(fs::metadata(&time_indexes[3]).unwrap().len() > 0);
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
    // Damage the last byte of the second segment and remove its index
    // so that recovery scans it.
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
    // Writes continue at the truncation point, in the recovered segment.
    let next = log.high_watermark();
    assert_eq!(log.append(batch(1, 0), 0).unwrap().base_offset, next);
    assert_eq!(read_all(&log).last().unwrap().base_offset, next);
}

#[test]
fn producer_state_survives_restart_with_and_without_snapshots() {
    for clean in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), small());
            // Enough to roll several times (a snapshot at each roll).
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
        // The last batch (seq 58..=59, offsets 87..=88) is a duplicate;
        // 60 is next.
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
    // Lose the second batch (torn tail): the snapshot at 2 is now ahead
    // of the log and must not be used.
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
