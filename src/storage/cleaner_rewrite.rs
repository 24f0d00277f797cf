//! The rewrite step of log compaction (see `cleaner` for the pass): which
//! batches a pass may look into, and thinning each batch of a segment
//! group by the pass's rules: superseded records and expired tombstones
//! dropped, a delete horizon given to new tombstones, aborted transactions
//! dropped, a producer's last batch kept as a bare header, compressed
//! batches recompressed with their own codec, anything undecodable copied
//! whole. Works on `SegmentReader`s and a file path; knows nothing of the
//! segment map or the swap.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use tracing::warn;

use super::error::{io_err, Result};
use super::segment::SegmentReader;
use super::txn_index::AbortedBatches;
use crate::record::{
    rebuild_batch, BatchHeader, DecodedBatch, Record, TopicPartition, ATTR_DELETE_HORIZON,
};

/// Calls `f(position, header, batch bytes)` for every batch of a segment.
pub(super) fn for_each_batch(
    reader: &SegmentReader,
    mut f: impl FnMut(u64, &BatchHeader, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut pos = 0u64;
    while let Some(h) = reader.header_at(pos)? {
        let batch = reader.read_batch(pos, &h)?;
        f(pos, &h, &batch)?;
        pos += h.total_len() as u64;
    }
    Ok(())
}

/// Runs `f` over the records of a batch the cleaner may look into, or
/// returns `None` for a batch it copies whole: control and transactional
/// batches, and compressed batches that cannot be decoded within `limit`
/// (see the module docs; an uncompressed batch that cannot be read fails
/// the pass, as before, since its CRC was fine and the broker wrote it).
/// Both the offset map and the rewrite go through here, so they always
/// agree on which batches were looked into.
pub(super) fn with_records<T>(
    tp: &TopicPartition,
    h: &BatchHeader,
    batch: &[u8],
    limit: usize,
    f: impl FnOnce(&[Record<'_>]) -> Result<T>,
) -> Result<Option<T>> {
    if h.is_control() || h.is_transactional() {
        return Ok(None);
    }
    let compressed = h.compression() != 0;
    let decoded = match DecodedBatch::new(batch, limit) {
        Ok(d) => d,
        Err(e) if compressed => {
            warn!(partition = %tp, base_offset = h.base_offset, error = %e,
                "cannot decompress batch; copying it uncleaned");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let records = match decoded.records().collect::<Result<Vec<_>, _>>() {
        Ok(r) => r,
        Err(e) if compressed => {
            warn!(partition = %tp, base_offset = h.base_offset, error = %e,
                "malformed records in compressed batch; copying it uncleaned");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    f(&records).map(Some)
}

/// What the rewrite of one pass keeps and drops.
pub(super) struct CleanRules<'a> {
    /// Latest offset per key over the mapped range.
    pub(super) map: &'a HashMap<Vec<u8>, i64>,
    /// Base offset of each producer's last batch.
    pub(super) producer_last: &'a HashMap<i64, i64>,
    pub(super) now_ms: i64,
    /// Horizon given to tombstones seen for the first time.
    pub(super) delete_horizon: i64,
    /// Decompressed-size bound per batch.
    pub(super) limit: usize,
    /// Batches of aborted transactions (dropped).
    pub(super) aborted: &'a AbortedBatches,
}

/// Writes the cleaned batches of `segments` to `path` (fsynced). Returns
/// (bytes written, records removed).
pub(super) fn write_cleaned(
    tp: &TopicPartition,
    path: &Path,
    segments: &[&SegmentReader],
    rules: &CleanRules<'_>,
) -> Result<(u64, u64)> {
    let file = File::create(path).map_err(io_err("create", path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut removed = 0u64;
    for reader in segments {
        for_each_batch(reader, |_, h, batch| {
            if rules.aborted.contains(h) {
                // As for a batch that loses every record (see `clean_batch`),
                // a producer's last batch stays as a bare header.
                removed += h.record_count.max(0) as u64;
                if rules.producer_last.get(&h.producer_id) == Some(&h.base_offset) {
                    let bare = rebuild_batch(h, &[], h.attributes, h.base_timestamp)?;
                    out.write_all(&bare).map_err(io_err("write", path))?;
                    written += bare.len() as u64;
                }
                return Ok(());
            }
            // `None`: the batch is copied byte for byte.
            let cleaned: Option<Vec<u8>> = with_records(tp, h, batch, rules.limit, |records| {
                let (rebuilt, dropped) = clean_batch(h, records, rules)?;
                removed += dropped;
                Ok(rebuilt)
            })?
            .flatten();
            let bytes: &[u8] = cleaned.as_deref().unwrap_or(batch);
            out.write_all(bytes).map_err(io_err("write", path))?;
            written += bytes.len() as u64;
            Ok(())
        })?;
    }
    let file = out
        .into_inner()
        .map_err(|e| io_err("write", path)(e.into_error()))?;
    file.sync_all().map_err(io_err("fsync", path))?;
    Ok((written, removed))
}

/// Thins one batch whose records are `records`. Returns the batch to write
/// instead of the original (`None`: the original, untouched; an empty
/// `Vec`: nothing) and how many records it lost.
fn clean_batch(
    h: &BatchHeader,
    records: &[Record<'_>],
    rules: &CleanRules<'_>,
) -> Result<(Option<Vec<u8>>, u64)> {
    let horizon_set = h.attributes & ATTR_DELETE_HORIZON != 0;
    let mut keep: Vec<Record<'_>> = Vec::with_capacity(records.len());
    let mut dropped = 0u64;
    let mut needs_horizon = false;
    for r in records {
        let superseded = r
            .key
            .and_then(|k| rules.map.get(k))
            .is_some_and(|&latest| latest > r.offset);
        let expired_tombstone =
            r.value.is_none() && r.key.is_some() && horizon_set && h.base_timestamp <= rules.now_ms;
        if superseded || expired_tombstone {
            dropped += 1;
            continue;
        }
        if r.value.is_none() && r.key.is_some() && !horizon_set {
            needs_horizon = true;
        }
        keep.push(r.clone());
    }
    let rebuilt = if dropped == 0 && !needs_horizon {
        None
    } else if keep.is_empty() {
        let producers_last =
            h.has_producer_id() && rules.producer_last.get(&h.producer_id) == Some(&h.base_offset);
        if producers_last {
            Some(rebuild_batch(h, &[], h.attributes, h.base_timestamp)?)
        } else {
            Some(Vec::new())
        }
    } else if needs_horizon {
        Some(rebuild_batch(
            h,
            &keep,
            h.attributes | ATTR_DELETE_HORIZON,
            rules.delete_horizon,
        )?)
    } else {
        Some(rebuild_batch(h, &keep, h.attributes, h.base_timestamp)?)
    };
    Ok((rebuilt, dropped))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;

    use super::*;
    use crate::record::{validate_batches, Compression, BATCH_HEADER_LEN, CRC_START};
    use crate::record::{BatchBuilder, NewRecord};
    use crate::storage::cleaner::tests::{compacted, contents, keyed, latest, CLEANER_TEST_MAP};
    use crate::storage::test_util::*;
    use crate::storage::LogConfig;

    const CODECS: [Compression; 4] = [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// One batch of `records` (key, value) compressed with `codec`.
    fn keyed_batch(codec: Compression, records: &[(String, Option<String>)], ts: i64) -> Bytes {
        let recs: Vec<NewRecord> = records
            .iter()
            .map(|(k, v)| NewRecord {
                timestamp: ts,
                key: Some(k.as_bytes().to_vec()),
                value: v.as_ref().map(|v| v.as_bytes().to_vec()),
                headers: Vec::new(),
            })
            .collect();
        Bytes::from(
            BatchBuilder::new(0, ts)
                .build_compressed(&recs, codec)
                .unwrap(),
        )
    }

    /// A one-record batch whose body is replaced by `body` under `codec`'s
    /// attribute bits, with a valid CRC: for bodies no codec would write.
    fn with_body(codec: Compression, body: &[u8]) -> Bytes {
        let mut b = keyed("k", Some("v"), 0)[..BATCH_HEADER_LEN].to_vec();
        b[22] |= codec.id();
        b.extend_from_slice(body);
        let len = (b.len() - 12) as i32;
        b[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = crc32c::crc32c(&b[CRC_START..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        Bytes::from(b)
    }

    #[test]
    fn compressed_batches_are_mapped_and_thinned_keeping_codec_and_offsets() {
        for codec in CODECS {
            let dir = tempfile::tempdir().unwrap();
            let cfg = LogConfig {
                segment_bytes: 2_000,
                ..compacted()
            };
            let log = open(dir.path(), cfg.clone());
            let mut expect = BTreeMap::new();
            // 60 batches of 5 records over 7 keys: each batch holds keys
            // that later batches overwrite.
            let mut n = 0;
            for b in 0..60 {
                let recs: Vec<(String, Option<String>)> = (0..5)
                    .map(|_| {
                        n += 1;
                        let k = format!("key-{}", n % 7);
                        let v = format!("value-{n}-{}", "p".repeat(40));
                        expect.insert(k.clone(), Some(v.clone()));
                        (k, Some(v))
                    })
                    .collect();
                log.append(keyed_batch(codec, &recs, 1000 + b), 0).unwrap();
            }
            // An uncompressed update shadows the compressed ones of its key;
            // a compressed tombstone is kept (its horizon is ahead).
            log.append(keyed("key-1", Some("plain"), 2000), 0).unwrap();
            expect.insert("key-1".into(), Some("plain".into()));
            log.append(keyed_batch(codec, &[("key-2".into(), None)], 2001), 0)
                .unwrap();
            expect.insert("key-2".into(), None);
            // Enough after it that everything above is in sealed segments.
            for i in 0..40 {
                log.append(keyed("filler", Some(&format!("{i:0>200}")), 3000), 0)
                    .unwrap();
            }
            expect.insert("filler".into(), Some(format!("{:0>200}", 39)));
            let before = contents(&log);
            let size_before = log.size_bytes();
            let stats = log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
            let after = contents(&log);
            assert_eq!(latest(&after), expect, "{}", codec.name());
            assert!(after.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(after.iter().all(|r| before.contains(r)), "offsets kept");
            assert!(stats.records_removed >= 290, "{} {stats:?}", codec.name());
            assert!(
                log.size_bytes() < size_before / 2,
                "{}: {} -> {}",
                codec.name(),
                size_before,
                log.size_bytes()
            );
            // One record per key is left, and every batch still compressed
            // is compressed with the producer's codec.
            let key_records = after.iter().filter(|r| r.1.starts_with("key-")).count();
            assert_eq!(key_records, 7, "{}: {after:?}", codec.name());
            let headers = read_all(&log);
            let compressed: Vec<_> = headers.iter().filter(|h| h.compression() != 0).collect();
            assert!(compressed.len() >= 3, "{headers:?}");
            assert!(compressed.iter().all(|h| h.compression() == codec.id()));
            // The tombstone's batch got its delete horizon and kept its codec.
            let tomb = headers
                .iter()
                .find(|h| h.attributes & ATTR_DELETE_HORIZON != 0)
                .unwrap();
            assert_eq!(tomb.compression(), codec.id());
            // Reopen: the same, and nothing left to do.
            drop(log);
            let log = open(dir.path(), cfg);
            assert_eq!(contents(&log), after);
            assert!(log.clean(10_000, CLEANER_TEST_MAP).unwrap().is_none());
        }
    }

    #[test]
    fn an_undecodable_compressed_batch_is_copied_whole() {
        let dir = tempfile::tempdir().unwrap();
        // Written while the topic was not compacted (no key check then).
        let log = open(
            dir.path(),
            LogConfig {
                cleanup_policy: "delete".into(),
                ..compacted()
            },
        );
        let garbage = with_body(Compression::Gzip, b"definitely not gzip");
        log.append(garbage.clone(), 0).unwrap();
        log.set_config(compacted());
        for i in 0..60 {
            log.append(keyed("k", Some(&format!("{i:0>30}")), 100), 0)
                .unwrap();
        }
        let stats = log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        assert!(stats.records_removed > 0);
        let r = log
            .read(0, 1 << 20, true, crate::storage::Isolation::ReadUncommitted)
            .unwrap();
        let h = validate_batches(&r.records).unwrap();
        assert_eq!(h[0].base_offset, 0);
        assert_eq!(&r.records[..h[0].total_len()], &garbage[..]);
    }

    #[test]
    fn compacted_topics_check_keys_inside_compressed_batches() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), compacted());
        for codec in CODECS {
            let keyless = BatchBuilder::new(0, 0)
                .build_compressed(
                    &[
                        NewRecord {
                            key: Some(b"a".to_vec()),
                            ..NewRecord::new(0, b"x".to_vec())
                        },
                        NewRecord::new(0, b"no key".to_vec()),
                    ],
                    codec,
                )
                .unwrap();
            assert!(
                matches!(
                    log.append(Bytes::from(keyless), 0),
                    Err(crate::storage::StorageError::InvalidRecord(_))
                ),
                "{}",
                codec.name()
            );
            log.append(keyed_batch(codec, &[("a".into(), Some("b".into()))], 0), 0)
                .unwrap();
            // A body its codec cannot read is refused too.
            assert!(matches!(
                log.append(with_body(codec, b"\x00garbage\xff"), 0),
                Err(crate::storage::StorageError::Record(
                    crate::record::RecordError::Decompression { .. }
                ))
            ));
        }
        // A bomb: 65 MiB of zeros in a few KiB of zstd, over the limit of a
        // topic whose max.message.bytes is 1 MiB (64 MiB).
        let bomb = Compression::Zstd.compress(&vec![0u8; 65 << 20]).unwrap();
        assert!(bomb.len() < 64 << 10);
        assert!(matches!(
            log.append(with_body(Compression::Zstd, &bomb), 0),
            Err(crate::storage::StorageError::Record(
                crate::record::RecordError::DecompressedTooLarge { .. }
            ))
        ));
        // A delete-policy topic does not look inside at all.
        let dir = tempfile::tempdir().unwrap();
        let plain = open(dir.path(), small());
        plain
            .append(with_body(Compression::Zstd, &bomb), 0)
            .unwrap();
    }

    #[test]
    fn a_producers_last_compressed_batch_survives_as_a_bare_header() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), compacted());
        for seq in 0..3 {
            let b = BatchBuilder::new(0, 100)
                .producer(9, 0, seq * 2)
                .build_compressed(
                    &[
                        NewRecord {
                            key: Some(b"a".to_vec()),
                            ..NewRecord::new(100, b"v".to_vec())
                        },
                        NewRecord {
                            key: Some(b"a".to_vec()),
                            ..NewRecord::new(100, b"w".to_vec())
                        },
                    ],
                    Compression::Lz4,
                )
                .unwrap();
            log.append(Bytes::from(b), 0).unwrap();
        }
        log.append(keyed("a", Some("final"), 200), 0).unwrap();
        for i in 0..60 {
            log.append(keyed("b", Some(&format!("{i}")), 300), 0)
                .unwrap();
        }
        log.clean(10_000, CLEANER_TEST_MAP).unwrap().unwrap();
        let headers = read_all(&log);
        let of_producer: Vec<_> = headers.iter().filter(|h| h.producer_id == 9).collect();
        assert_eq!(of_producer.len(), 1, "{of_producer:?}");
        let h = of_producer[0];
        assert_eq!((h.base_offset, h.last_offset(), h.record_count), (4, 5, 0));
        assert_eq!((h.base_sequence, h.compression()), (4, 0));
        assert_eq!(h.total_len(), BATCH_HEADER_LEN);
    }
}
