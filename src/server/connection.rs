//! One client connection: owns the socket and its read buffer, reads
//! size-prefixed frames and writes response frames. Nothing else sees raw bytes.

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::protocol::ResponseBuf;

/// How much the read buffer grows at a time. A frame's declared size is
/// never reserved up front: a peer that announces 100 MiB and sends nothing
/// costs us nothing.
const READ_CHUNK: usize = 64 * 1024;

/// Pieces handed to one `writev` (Linux accepts up to 1024).
const IOV_MAX: usize = 64;

/// Why a connection stopped reading frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame size {size} is outside 0..={max}")]
    BadSize { size: i32, max: usize },
    #[error("peer closed the connection in the middle of a frame")]
    TornFrame,
    #[error("socket error")]
    Io(#[from] std::io::Error),
}

/// A client connection over plain TCP or TLS.
#[derive(Debug)]
pub struct Connection<S = TcpStream> {
    stream: S,
    buffer: BytesMut,
    max_frame: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S, max_frame: usize) -> Connection<S> {
        Connection {
            stream,
            buffer: BytesMut::with_capacity(4096),
            max_frame,
        }
    }

    /// Changes the largest frame accepted (smaller before SASL authentication,
    /// as Kafka's `sasl.server.max.receive.size`).
    pub fn set_max_frame(&mut self, max_frame: usize) {
        self.max_frame = max_frame;
    }

    /// Reads the next frame's body (without its size prefix). `Ok(None)` when
    /// the peer closed cleanly between frames.
    pub async fn read_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            if let Some(frame) = self.parse_frame()? {
                return Ok(Some(frame));
            }
            if self.buffer.capacity() - self.buffer.len() < READ_CHUNK / 4 {
                self.buffer.reserve(READ_CHUNK);
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::TornFrame)
                };
            }
        }
    }

    /// Splits one complete frame off the buffer, checking its size first.
    fn parse_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        if self.buffer.len() < 4 {
            return Ok(None);
        }
        let size = i32::from_be_bytes([
            self.buffer[0],
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
        ]);
        if size < 0 || size as usize > self.max_frame {
            return Err(FrameError::BadSize {
                size,
                max: self.max_frame,
            });
        }
        let size = size as usize;
        if self.buffer.len() < 4 + size {
            // Grow towards the frame size in bounded steps as bytes arrive.
            let missing = 4 + size - self.buffer.len();
            let spare = self.buffer.capacity() - self.buffer.len();
            if spare < missing {
                self.buffer.reserve(missing.min(READ_CHUNK * 16));
            }
            return Ok(None);
        }
        self.buffer.advance(4);
        Ok(Some(self.buffer.split_to(size).freeze()))
    }

    /// Writes and empties `out` with vectored writes, so record data it
    /// references goes from its own memory (or the page cache) straight to
    /// the socket, each piece released as soon as it is sent.
    pub async fn write_response(&mut self, out: &mut ResponseBuf) -> std::io::Result<()> {
        while !out.is_empty() {
            let n = {
                let slices = out.io_slices(IOV_MAX);
                self.stream.write_vectored(&slices).await?
            };
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            out.consume(n);
        }
        // TLS keeps encrypted bytes it could not send yet; plain TCP: a no-op.
        self.stream.flush().await
    }

    /// Whether a whole further request is already buffered: the caller may
    /// then hold its responses back and write them in one go.
    pub fn has_complete_frame(&self) -> bool {
        if self.buffer.len() < 4 {
            return false;
        }
        let size = i32::from_be_bytes([
            self.buffer[0],
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
        ]);
        size >= 0 && self.buffer.len() >= 4 + size as usize
    }
}
