//! Validating scan of a segment file (the heart of Kafka's
//! `LogSegment.recover`): walks the batches of a `.log` file in large
//! chunks, checking length, magic, contiguous offsets, leader epoch and
//! CRC-32C, and says where and why the valid prefix ends. Used by
//! `segment` when it recovers a segment; it knows nothing of indexes,
//! recovery points or the partition directory.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::error::{io_err, Result};
use crate::record::{validate_batch, BatchHeader, RecordError, BATCH_HEADER_LEN};

/// Recovery reads the log in chunks of this size (one `pread` per chunk
/// rather than two per batch).
const SCAN_CHUNK_BYTES: usize = 1 << 20;

/// Relative offsets are stored in 32 bits (Kafka: signed int).
const MAX_RELATIVE_OFFSET: i64 = i32::MAX as i64;

/// Sliding window over a file for sequential scanning.
struct ChunkReader<'a> {
    file: &'a File,
    path: &'a Path,
    file_len: u64,
    start: u64,
    buf: Vec<u8>,
}

impl<'a> ChunkReader<'a> {
    /// `len` bytes at `pos` (the caller checked `pos + len <= file_len`).
    fn get(&mut self, pos: u64, len: usize) -> Result<&[u8]> {
        let end = pos + len as u64;
        if pos < self.start || end > self.start + self.buf.len() as u64 {
            let want = len
                .max(SCAN_CHUNK_BYTES)
                .min((self.file_len - pos) as usize);
            self.buf.resize(want, 0);
            self.file
                .read_exact_at(&mut self.buf, pos)
                .map_err(io_err("read", self.path))?;
            self.start = pos;
        }
        let at = (pos - self.start) as usize;
        // Within the window by construction unless the file shrank under us.
        self.buf
            .get(at..at + len)
            .ok_or_else(|| io_err("read", self.path)(std::io::ErrorKind::UnexpectedEof.into()))
    }
}

/// Walks the batches of a segment file of `file_len` bytes whose base
/// offset is `base_offset`, calling `on_batch(position, header)` for each
/// valid one, and returns why it stopped early (`None` = the whole file is
/// valid). Only I/O errors (and errors from `on_batch`) are `Err`: damage
/// is an expected outcome, not a failure.
pub(crate) fn scan_segment(
    file: &File,
    path: &Path,
    file_len: u64,
    base_offset: i64,
    allow_gaps: bool,
    on_batch: impl FnMut(u64, &BatchHeader) -> Result<()>,
) -> Result<Option<RecordError>> {
    scan_segment_from(
        file,
        path,
        file_len,
        base_offset,
        (0, base_offset),
        allow_gaps,
        on_batch,
    )
}

/// [`scan_segment`] starting at byte `from.0`, a batch boundary where the
/// batch with base offset `from.1` starts (the recovery point: the bytes
/// before it are trusted, see `LogSegment::recover_from`).
pub(crate) fn scan_segment_from(
    file: &File,
    path: &Path,
    file_len: u64,
    base_offset: i64,
    from: (u64, i64),
    allow_gaps: bool,
    mut on_batch: impl FnMut(u64, &BatchHeader) -> Result<()>,
) -> Result<Option<RecordError>> {
    let (mut pos, mut expected) = from;
    let mut reader = ChunkReader {
        file,
        path,
        file_len,
        start: pos,
        buf: Vec::new(),
    };
    while pos < file_len {
        let remaining = file_len - pos;
        if remaining < BATCH_HEADER_LEN as u64 {
            return Ok(Some(RecordError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: remaining as usize,
            }));
        }
        let h = match BatchHeader::parse(reader.get(pos, BATCH_HEADER_LEN)?) {
            Ok(h) => h,
            Err(e) => return Ok(Some(e)),
        };
        let total = h.total_len();
        if h.batch_length < crate::record::MIN_BATCH_LENGTH {
            return Ok(Some(RecordError::InvalidLength {
                batch_length: h.batch_length,
                available: remaining as usize,
            }));
        }
        if total as u64 > remaining {
            return Ok(Some(RecordError::Truncated {
                needed: total,
                available: remaining as usize,
            }));
        }
        // Appends assign offsets contiguously, so in the active segment any
        // other base offset is damage to the 21 bytes the CRC does not
        // cover. Sealed segments may have been compacted, which leaves gaps
        // (never overlaps): there the base offset may only grow.
        let in_order = if allow_gaps {
            h.base_offset >= expected
        } else {
            h.base_offset == expected
        };
        if !in_order {
            return Ok(Some(RecordError::InvalidRecord(
                "batch offsets not contiguous",
            )));
        }
        // Appends (and the cleaner) always write leader epoch 0 (one
        // replica); anything else is damage to uncovered bytes too.
        if h.partition_leader_epoch != 0 {
            return Ok(Some(RecordError::InvalidRecord(
                "unexpected partition leader epoch",
            )));
        }
        if h.last_offset().saturating_sub(base_offset) > MAX_RELATIVE_OFFSET {
            return Ok(Some(RecordError::InvalidRecord(
                "batch offset outside the segment's range",
            )));
        }
        if let Err(e) = validate_batch(reader.get(pos, total)?) {
            return Ok(Some(e));
        }
        on_batch(pos, &h)?;
        expected = h.next_offset();
        pos += total as u64;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::record::{BatchBuilder, NewRecord};
    use std::io::Write;

    fn write_batches(path: &Path, n: i64) -> Vec<u64> {
        let mut f = fs::File::create(path).unwrap();
        let mut ends = Vec::new();
        let mut total = 0u64;
        for i in 0..n {
            let b = BatchBuilder::new(i * 2, 100 + i).build(&[
                NewRecord::new(100 + i, vec![b'a'; 30]),
                NewRecord::new(101 + i, vec![b'b'; 30]),
            ]);
            f.write_all(&b).unwrap();
            total += b.len() as u64;
            ends.push(total);
        }
        ends
    }

    #[test]
    fn scan_stops_at_every_torn_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let ends = write_batches(&p, 4);
        let full = fs::read(&p).unwrap();
        for cut in 0..=full.len() {
            fs::write(&p, &full[..cut]).unwrap();
            let f = File::open(&p).unwrap();
            let mut n = 0;
            let stop = scan_segment(&f, &p, cut as u64, 0, false, |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut as u64).count();
            assert_eq!(n, whole, "cut {cut}");
            assert_eq!(
                stop.is_none(),
                ends.contains(&(cut as u64)) || cut == 0,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn scan_rejects_non_contiguous_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let a = BatchBuilder::new(5, 0).build(&[NewRecord::new(0, b"x".to_vec())]);
        let b = BatchBuilder::new(5, 0).build(&[NewRecord::new(0, b"y".to_vec())]);
        fs::write(&p, [a.clone(), b].concat()).unwrap();
        let f = File::open(&p).unwrap();
        let len = f.metadata().unwrap().len();
        let mut n = 0;
        let stop = scan_segment(&f, &p, len, 5, false, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 1);
        assert!(matches!(stop, Some(RecordError::InvalidRecord(_))));
        // A batch below the segment base is rejected too, gaps or not.
        let stop = scan_segment(&f, &p, len, 6, false, |_, _| Ok(())).unwrap();
        assert!(stop.is_some());
        let stop = scan_segment(&f, &p, len, 6, true, |_, _| Ok(())).unwrap();
        assert!(stop.is_some());
        // Gaps (a compacted segment) are fine where allowed, overlaps never.
        let c = BatchBuilder::new(9, 0).build(&[NewRecord::new(0, b"z".to_vec())]);
        fs::write(&p, [a, c].concat()).unwrap();
        let f = File::open(&p).unwrap();
        let len = f.metadata().unwrap().len();
        assert!(scan_segment(&f, &p, len, 5, true, |_, _| Ok(()))
            .unwrap()
            .is_none());
        assert!(scan_segment(&f, &p, len, 5, false, |_, _| Ok(()))
            .unwrap()
            .is_some());
    }
}
