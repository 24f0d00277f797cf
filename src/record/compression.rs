//! The four record-batch codecs of Kafka's v2 format (attribute bits 0-2):
//! decompress and compress the bytes that follow the 61-byte batch header.
//!
//! Only the log cleaner (to thin compressed batches) and the append path of
//! compacted topics (to check that every record has a key) come here; the
//! produce/fetch path still moves compressed batches untouched.
//!
//! Framings, as Kafka reads and writes them:
//! * **gzip (1)**: an RFC 1952 gzip stream (Java's `GZIPOutputStream`).
//!   Concatenated members are read as one stream, like `GZIPInputStream`.
//! * **snappy (2)**: the Java client writes snappy-java's *xerial* framing
//!   (16-byte header `\x82SNAPPY\0` + version 1 + compatible version 1, then
//!   blocks of `u32` big-endian length + raw snappy block of at most 32 KiB
//!   of input). librdkafka writes *raw* snappy (one unframed block) and
//!   Kafka's `SnappyInputStream` accepts both, so reading does too, telling
//!   them apart by the 8-byte magic exactly as Java and librdkafka do.
//!   Writing always uses the xerial framing, as Kafka's cleaner does.
//! * **lz4 (3)**: the LZ4 *frame* format; written like Kafka's
//!   `Lz4BlockOutputStream` (64 KiB independent blocks, no checksums).
//! * **zstd (4)**: a zstd frame.
//!
//! Compression levels are the codecs' Kafka defaults (gzip 6, lz4 9, zstd 3):
//! what Kafka's cleaner uses when it rebuilds a batch.
//!
//! **Bounded output.** A batch is small on the wire but may claim gigabytes
//! once decompressed. Every decompressor here stops (with an error) as soon
//! as the output would exceed the caller's `limit`. Output buffers grow with
//! the data actually produced (amortized doubling, so at most about twice
//! the limit), never from a size the input claims: snappy's claimed lengths
//! are checked against the limit before anything is allocated. See
//! [`decompression_limit`] for the limit the broker uses. The codecs' own
//! working memory is bounded too: lz4 frames at most 4 MiB blocks, zstd
//! windows at most 2^[`ZSTD_WINDOW_LOG_MAX`] bytes.

use std::io::{Read, Write};

use super::RecordError;

/// Smallest decompression limit, whatever `max.message.bytes` says: a topic
/// configured with tiny batches may still receive well-compressed ones.
const MIN_LIMIT_BASE: usize = 1 << 20;
/// How much larger than a batch may be allowed (after clamping up to
/// [`MIN_LIMIT_BASE`]) its records may be once decompressed. Text and JSON
/// compress 5-20×; 64× leaves room for very repetitive payloads while a
/// default topic (1 MiB batches) still caps out at 64 MiB per batch.
const LIMIT_FACTOR: usize = 64;
/// Upper bound of the limit, however large `max.message.bytes` is.
const MAX_LIMIT: usize = 1 << 30;

/// Largest zstd window accepted (log2): zstd's own default cap (128 MiB),
/// made explicit because the decoder allocates up to one window per frame.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// snappy-java's stream header: magic (8 bytes), version 1, compatible 1.
const XERIAL_HEADER: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
/// Uncompressed bytes per xerial block (snappy-java's default block size).
const XERIAL_BLOCK: usize = 32 * 1024;

/// Kafka's default compression levels (`GzipCompression`, `Lz4Compression`,
/// `ZstdCompression` `DEFAULT_LEVEL`).
const GZIP_LEVEL: u32 = 6;
const LZ4_LEVEL: u32 = 9;
const ZSTD_LEVEL: i32 = 3;

/// The most bytes the records of one batch may decompress to, for a topic
/// whose `max.message.bytes` is `max_message_bytes`:
/// `min(max(max_message_bytes, 1 MiB) × 64, 1 GiB)`.
pub fn decompression_limit(max_message_bytes: i32) -> usize {
    usize::try_from(max_message_bytes)
        .unwrap_or(0)
        .max(MIN_LIMIT_BASE)
        .saturating_mul(LIMIT_FACTOR)
        .min(MAX_LIMIT)
}

/// A v2 batch's compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// 0: records stored as is.
    None,
    /// 1: gzip.
    Gzip,
    /// 2: snappy (xerial-framed or raw).
    Snappy,
    /// 3: lz4 frame.
    Lz4,
    /// 4: zstd.
    Zstd,
}

impl Compression {
    /// The codec of a batch with these attributes; ids 5-7 are not codecs.
    pub fn from_attributes(attributes: i16) -> Result<Self, RecordError> {
        Self::from_id((attributes & super::ATTR_COMPRESSION_MASK) as u8)
    }

    /// The codec with this id (attribute bits 0-2).
    pub fn from_id(id: u8) -> Result<Self, RecordError> {
        match id {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(RecordError::UnknownCompression(other)),
        }
    }

    /// The id stored in attribute bits 0-2.
    pub fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Kafka's name for the codec (`compression.type`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Decompresses `input` (a batch's bytes after its header). Fails with
    /// [`RecordError::DecompressedTooLarge`] as soon as the output would
    /// exceed `limit` bytes, and with [`RecordError::Decompression`] on
    /// malformed or truncated input.
    pub fn decompress(self, input: &[u8], limit: usize) -> Result<Vec<u8>, RecordError> {
        match self {
            Compression::None => {
                if input.len() > limit {
                    return Err(RecordError::DecompressedTooLarge { limit });
                }
                Ok(input.to_vec())
            }
            Compression::Gzip => {
                read_bounded(self, flate2::read::MultiGzDecoder::new(input), limit)
            }
            Compression::Snappy => snappy_decompress(input, limit),
            Compression::Lz4 => {
                let mut d = lz4::Decoder::new(input).map_err(|e| self.error(e))?;
                let out = read_bounded(self, &mut d, limit)?;
                // The decoder reports a truncated frame as a clean end of
                // input; only `finish` tells whether the frame was complete.
                let (_, done) = d.finish();
                done.map_err(|e| self.error(e))?;
                Ok(out)
            }
            Compression::Zstd => {
                let mut d =
                    zstd::stream::read::Decoder::with_buffer(input).map_err(|e| self.error(e))?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)
                    .map_err(|e| self.error(e))?;
                read_bounded(self, d, limit)
            }
        }
    }

    /// Compresses `input` (encoded records) with this codec's Kafka
    /// framing and default level.
    pub fn compress(self, input: &[u8]) -> Result<Vec<u8>, RecordError> {
        match self {
            Compression::None => Ok(input.to_vec()),
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(
                    Vec::with_capacity(input.len() / 2),
                    flate2::Compression::new(GZIP_LEVEL),
                );
                e.write_all(input).map_err(|e| self.error(e))?;
                e.finish().map_err(|e| self.error(e))
            }
            Compression::Snappy => snappy_compress_xerial(input),
            Compression::Lz4 => {
                let mut e = lz4::EncoderBuilder::new()
                    .level(LZ4_LEVEL)
                    .block_size(lz4::BlockSize::Max64KB)
                    .block_mode(lz4::BlockMode::Independent)
                    .checksum(lz4::ContentChecksum::NoChecksum)
                    .build(Vec::with_capacity(input.len() / 2))
                    .map_err(|e| self.error(e))?;
                e.write_all(input).map_err(|e| self.error(e))?;
                let (out, r) = e.finish();
                r.map_err(|e| self.error(e))?;
                Ok(out)
            }
            Compression::Zstd => {
                zstd::stream::encode_all(input, ZSTD_LEVEL).map_err(|e| self.error(e))
            }
        }
    }

    fn error(self, e: impl std::fmt::Display) -> RecordError {
        RecordError::Decompression {
            codec: self.name(),
            reason: e.to_string(),
        }
    }
}

/// Reads `r` to its end, failing once more than `limit` bytes come out.
/// The output grows with what is actually produced (never reserved from a
/// size the input claims).
fn read_bounded(codec: Compression, r: impl Read, limit: usize) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    r.take(cap)
        .read_to_end(&mut out)
        .map_err(|e| codec.error(e))?;
    if out.len() > limit {
        return Err(RecordError::DecompressedTooLarge { limit });
    }
    Ok(out)
}

fn snappy_decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, RecordError> {
    let err = |e: snap::Error| Compression::Snappy.error(e);
    // Same test as snappy-java's `SnappyInputStream` and librdkafka: the
    // 8-byte magic (header version fields are not checked).
    let xerial = input.len() >= XERIAL_HEADER.len() && input[..8] == XERIAL_HEADER[..8];
    if !xerial {
        let n = snap::raw::decompress_len(input).map_err(err)?;
        if n > limit {
            return Err(RecordError::DecompressedTooLarge { limit });
        }
        let mut out = vec![0u8; n];
        let written = snap::raw::Decoder::new()
            .decompress(input, &mut out)
            .map_err(err)?;
        out.truncate(written);
        return Ok(out);
    }
    let mut out = Vec::new();
    let mut rest = &input[XERIAL_HEADER.len()..];
    let mut decoder = snap::raw::Decoder::new();
    while !rest.is_empty() {
        let len_bytes: [u8; 4] = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| truncated_snappy("block length"))?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let block = rest
            .get(4..4usize.saturating_add(len))
            .ok_or_else(|| truncated_snappy("block"))?;
        rest = &rest[4 + len..];
        let n = snap::raw::decompress_len(block).map_err(err)?;
        let start = out.len();
        if n > limit - start {
            return Err(RecordError::DecompressedTooLarge { limit });
        }
        out.resize(start + n, 0);
        let written = decoder.decompress(block, &mut out[start..]).map_err(err)?;
        out.truncate(start + written);
    }
    Ok(out)
}

fn truncated_snappy(what: &str) -> RecordError {
    RecordError::Decompression {
        codec: "snappy",
        reason: format!("xerial stream truncated in a {what}"),
    }
}

fn snappy_compress_xerial(input: &[u8]) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(XERIAL_HEADER.len() + input.len() / 2 + 64);
    out.extend_from_slice(XERIAL_HEADER);
    let mut encoder = snap::raw::Encoder::new();
    for chunk in input.chunks(XERIAL_BLOCK) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        let start = out.len();
        out.resize(start + snap::raw::max_compress_len(chunk.len()), 0);
        let n = encoder
            .compress(chunk, &mut out[start..])
            .map_err(|e| Compression::Snappy.error(e))?;
        out.truncate(start + n);
        // n <= max_compress_len(32 KiB), far below u32::MAX.
        out[at..start].copy_from_slice(&(n as u32).to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect()
    }

    #[test]
    fn every_codec_roundtrips_empty_small_and_multi_block_inputs() {
        for codec in ALL {
            for n in [0usize, 1, 100, 70_000, 300_000] {
                let data = sample(n);
                let c = codec.compress(&data).unwrap();
                let d = codec.decompress(&c, 1 << 20).unwrap();
                assert_eq!(d, data, "{} n={n}", codec.name());
            }
            assert_eq!(Compression::from_id(codec.id()).unwrap(), codec);
        }
        assert!(matches!(
            Compression::from_id(5),
            Err(RecordError::UnknownCompression(5))
        ));
        assert_eq!(
            Compression::from_attributes(0x13).unwrap(),
            Compression::Lz4
        );
    }

    #[test]
    fn snappy_reads_raw_and_xerial_and_writes_xerial() {
        let data = sample(100_000);
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(Compression::Snappy.decompress(&raw, 1 << 20).unwrap(), data);
        let framed = Compression::Snappy.compress(&data).unwrap();
        assert_eq!(&framed[..16], &XERIAL_HEADER[..]);
        // 100_000 bytes = 4 blocks of at most 32 KiB.
        let mut rest = &framed[16..];
        let mut blocks = 0;
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            rest = &rest[4 + len..];
            blocks += 1;
        }
        assert_eq!(blocks, 4);
        // Bytes written by Kafka's Java client (snappy-java) for one record
        // with the value "sdfdsf": a known vector.
        let java = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x0f\x0d\x30\x18\x00\x00\x00\x01\x0csdfdsf\x00";
        let d = Compression::Snappy.decompress(java, 1 << 10).unwrap();
        assert_eq!(d.len(), 13);
        assert_eq!(&d[6..12], b"sdfdsf");
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 4 << 20];
        for codec in ALL {
            let c = codec.compress(&zeros).unwrap();
            assert!(
                matches!(
                    codec.decompress(&c, 1 << 20),
                    Err(RecordError::DecompressedTooLarge { limit }) if limit == 1 << 20
                ),
                "{}",
                codec.name()
            );
            // Exactly at the limit is fine.
            assert_eq!(codec.decompress(&c, 4 << 20).unwrap().len(), 4 << 20);
        }
        // Raw snappy claiming 1 GiB in its header: refused before allocating.
        let mut claim = Vec::new();
        let mut n: u32 = 1 << 30;
        while n >= 0x80 {
            claim.push((n as u8) | 0x80);
            n >>= 7;
        }
        claim.push(n as u8);
        claim.extend_from_slice(&[0, 0, 0]);
        assert!(matches!(
            Compression::Snappy.decompress(&claim, 1 << 20),
            Err(RecordError::DecompressedTooLarge { .. })
        ));
        // Same inside a xerial block.
        let mut framed = XERIAL_HEADER.to_vec();
        framed.extend_from_slice(&(claim.len() as u32).to_be_bytes());
        framed.extend_from_slice(&claim);
        assert!(matches!(
            Compression::Snappy.decompress(&framed, 1 << 20),
            Err(RecordError::DecompressedTooLarge { .. })
        ));
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let data = sample(50_000);
        for codec in ALL.into_iter().skip(1) {
            let c = codec.compress(&data).unwrap();
            // Truncated anywhere: an error (or, for a cut that happens to
            // land on a block boundary of a stream format, a shorter output
            // that is never longer than the original).
            for cut in [0, 1, 5, 17, c.len() / 2, c.len() - 1] {
                match codec.decompress(&c[..cut], 1 << 20) {
                    Ok(d) => assert!(d.len() < data.len(), "{} cut {cut}", codec.name()),
                    Err(RecordError::Decompression { .. }) => {}
                    Err(e) => panic!("{}: unexpected {e}", codec.name()),
                }
            }
            // Flipped bytes: never a panic, never past the limit.
            for i in (0..c.len()).step_by(7) {
                let mut bad = c.clone();
                bad[i] ^= 0x5a;
                if let Ok(d) = codec.decompress(&bad, 1 << 17) {
                    assert!(d.len() <= 1 << 17);
                }
            }
            for junk in [&b""[..], b"\x00", b"hello, world", &[0xff; 64][..]] {
                let _ = codec.decompress(junk, 1 << 16);
            }
        }
        // A xerial header whose block length points past the end.
        let mut framed = XERIAL_HEADER.to_vec();
        framed.extend_from_slice(&1000u32.to_be_bytes());
        framed.extend_from_slice(b"short");
        assert!(matches!(
            Compression::Snappy.decompress(&framed, 1 << 20),
            Err(RecordError::Decompression { .. })
        ));
    }

    #[test]
    fn limit_scales_with_max_message_bytes_within_bounds() {
        assert_eq!(decompression_limit(0), 64 << 20);
        assert_eq!(decompression_limit(-5), 64 << 20);
        assert_eq!(decompression_limit(1_048_588), 1_048_588 * 64);
        assert_eq!(decompression_limit(i32::MAX), 1 << 30);
    }
}
