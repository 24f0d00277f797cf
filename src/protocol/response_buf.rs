//! `ResponseBuf`: response frames on their way to the socket, as encoded
//! bytes interleaved with record data that is referenced, not copied.
//!
//! Why: a Fetch response is mostly record batches read from segment files,
//! up to `fetch.max.bytes` (32 partitions × 1 MiB with client defaults).
//! Encoding them into one contiguous buffer copied every byte once more and
//! held the copy next to the originals (and the buffer kept its capacity
//! for the life of the connection). Here, while a response is encoded,
//! the encoder's `put_slice` of a slice that *is* one of the records `Bytes`
//! registered with [`ResponseOut::share`] (same address and length) closes
//! the current piece of encoded bytes and appends a clone of that `Bytes`
//! (a reference count) instead. The connection writes the pieces with
//! vectored writes and drops each one once sent; for records read through
//! a file mapping (see `storage::segment`) that also unmaps them.

use std::collections::VecDeque;
use std::ops::Range;

use bytes::buf::UninitSlice;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::protocol::buf::ByteBufMut;

/// Slices shorter than this are copied even if shareable: a separate piece
/// costs an iovec entry and a reference count.
const SHARE_MIN_BYTES: usize = 4096;

/// After a write, a piece buffer that grew beyond this (a huge Metadata
/// response, say) is released rather than kept for the connection's life.
const KEEP_CAPACITY: usize = 256 * 1024;

/// Where responses are encoded (see `encode_response`).
pub trait ResponseOut: ByteBufMut {
    /// The contiguous buffer for responses encoded in one piece.
    fn contiguous(&mut self) -> &mut BytesMut;
    /// Drops everything from `offset` (as given by `ByteBufMut::offset`)
    /// on: undoes a response whose encoding failed half-way.
    fn truncate_to(&mut self, offset: usize);
    /// Data the next `put_slice` calls may reference instead of copying.
    fn share(&mut self, _data: Vec<Bytes>) {}
}

impl ResponseOut for BytesMut {
    fn contiguous(&mut self) -> &mut BytesMut {
        self
    }
    fn truncate_to(&mut self, offset: usize) {
        self.truncate(offset);
    }
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct ResponseBuf {
    /// Finished pieces, in order.
    pieces: VecDeque<Bytes>,
    /// Bytes in `pieces`.
    pieces_len: usize,
    /// The piece being encoded into.
    cur: BytesMut,
    /// Registered by `share` for the response being encoded.
    shareable: Vec<Bytes>,
}

impl ResponseBuf {
    pub fn new() -> ResponseBuf {
        ResponseBuf {
            cur: BytesMut::with_capacity(4096),
            ..ResponseBuf::default()
        }
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.pieces_len + self.cur.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the piece being encoded to the finished ones.
    fn seal(&mut self) {
        if !self.cur.is_empty() {
            let piece = self.cur.split().freeze();
            self.pieces_len += piece.len();
            self.pieces.push_back(piece);
        }
    }

    /// The pending bytes as at most `max` slices, for a vectored write.
    pub fn io_slices(&mut self, max: usize) -> Vec<std::io::IoSlice<'_>> {
        self.seal();
        self.pieces
            .iter()
            .take(max)
            .map(|p| std::io::IoSlice::new(p))
            .collect()
    }

    /// Drops the first `n` pending bytes (written), releasing each piece as
    /// soon as it is entirely sent.
    pub fn consume(&mut self, mut n: usize) {
        self.seal();
        while n > 0 {
            let Some(front) = self.pieces.front_mut() else {
                break;
            };
            let k = n.min(front.len());
            front.advance(k);
            self.pieces_len -= k;
            n -= k;
            if front.is_empty() {
                self.pieces.pop_front();
            }
        }
        if self.pieces.is_empty() && self.cur.capacity() > KEEP_CAPACITY {
            self.cur = BytesMut::with_capacity(4096);
        }
    }

    /// Copies every finished piece back into `cur`: needed only if an
    /// encoder reaches back into bytes already split off (`range` or `seek`
    /// below the current piece), which the response encoders do not do.
    fn unsplit(&mut self) {
        if self.pieces.is_empty() {
            return;
        }
        let mut all = BytesMut::with_capacity(self.len());
        for p in self.pieces.drain(..) {
            all.extend_from_slice(&p);
        }
        all.extend_from_slice(&self.cur);
        self.cur = all;
        self.pieces_len = 0;
    }
}

// SAFETY: every method delegates to `BytesMut`, whose `BufMut` contract
// (`chunk_mut` is writable, `advance_mut` only past initialized bytes) is
// upheld by the caller exactly as it would be for `cur` itself.
unsafe impl BufMut for ResponseBuf {
    fn remaining_mut(&self) -> usize {
        self.cur.remaining_mut()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: forwarded; see the impl comment.
        unsafe { self.cur.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.cur.chunk_mut()
    }

    fn put_slice(&mut self, src: &[u8]) {
        if src.len() >= SHARE_MIN_BYTES {
            let found = self
                .shareable
                .iter()
                .find(|b| b.as_ptr() == src.as_ptr() && b.len() == src.len())
                .cloned();
            if let Some(data) = found {
                self.seal();
                self.pieces_len += data.len();
                self.pieces.push_back(data);
                return;
            }
        }
        self.cur.extend_from_slice(src);
    }
}

impl ByteBufMut for ResponseBuf {
    fn offset(&self) -> usize {
        self.len()
    }

    fn seek(&mut self, offset: usize) {
        if offset < self.pieces_len {
            self.unsplit();
        }
        self.cur.resize(offset - self.pieces_len, 0);
    }

    fn range(&mut self, r: Range<usize>) -> &mut [u8] {
        if r.start < self.pieces_len {
            self.unsplit();
        }
        let base = self.pieces_len;
        &mut self.cur[r.start - base..r.end - base]
    }
}

impl ResponseOut for ResponseBuf {
    fn contiguous(&mut self) -> &mut BytesMut {
        &mut self.cur
    }

    fn truncate_to(&mut self, offset: usize) {
        if offset < self.pieces_len {
            self.unsplit();
        }
        self.cur.truncate(offset - self.pieces_len);
    }

    fn share(&mut self, data: Vec<Bytes>) {
        self.shareable = data;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(buf: &mut ResponseBuf) -> (Vec<u8>, usize) {
        let slices = buf.io_slices(usize::MAX);
        let pieces = slices.len();
        let all: Vec<u8> = slices.iter().flat_map(|s| s.to_vec()).collect();
        buf.consume(all.len());
        (all, pieces)
    }

    #[test]
    fn shared_slices_are_referenced_and_the_bytes_come_out_in_order() {
        let data = Bytes::from(vec![7u8; 10_000]);
        let mut buf = ResponseBuf::new();
        buf.put_i32(1);
        buf.share(vec![data.clone()]);
        buf.put_slice(&data);
        buf.put_i16(2);
        // Equal content at another address is copied, not referenced.
        let copy = vec![7u8; 10_000];
        buf.put_slice(&copy);
        assert_eq!(buf.len(), 4 + 10_000 + 2 + 10_000);
        let (all, pieces) = drain(&mut buf);
        assert_eq!(pieces, 3, "head, the shared data, the rest");
        let mut want = vec![0, 0, 0, 1];
        want.extend_from_slice(&data);
        want.extend_from_slice(&[0, 2]);
        want.extend_from_slice(&copy);
        assert_eq!(all, want);
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_writes_and_reaching_back_keep_the_bytes_right() {
        let data = Bytes::from((0..9000u32).map(|i| i as u8).collect::<Vec<_>>());
        let mut buf = ResponseBuf::new();
        buf.put_i32(0);
        buf.share(vec![data.clone()]);
        buf.put_slice(&data);
        buf.put_u8(9);
        // An encoder patching an earlier gap forces the pieces together.
        buf.range(0..4).copy_from_slice(&[1, 2, 3, 4]);
        let mut want = vec![1, 2, 3, 4];
        want.extend_from_slice(&data);
        want.push(9);
        let mut got = Vec::new();
        while !buf.is_empty() {
            let first = buf.io_slices(1)[0].to_vec();
            let n = first.len().min(1000);
            got.extend_from_slice(&first[..n]);
            buf.consume(n);
        }
        assert_eq!(got, want);
        // Truncating undoes a half-encoded response.
        buf.put_i32(5);
        let mark = buf.offset();
        buf.share(vec![data.clone()]);
        buf.put_slice(&data);
        buf.truncate_to(mark);
        assert_eq!(drain(&mut buf).0, vec![0, 0, 0, 5]);
    }
}
