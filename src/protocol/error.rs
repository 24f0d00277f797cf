//! Errors of the wire layer: what makes a frame impossible to answer.

use thiserror::Error;

/// Why a request frame cannot be turned into a request we serve. Every variant
/// closes the connection, as Kafka's SocketServer does: the client sent
/// something it had no business sending.
#[derive(Debug, Error)]
pub enum ProtocolError {
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    #[error("API {api} is not served by this broker")]
    UnservedApi { api: &'static str },
    #[error("{api} version {version} is not served (supported {min}..={max})")]
    UnsupportedVersion {
        api: &'static str,
        version: i16,
        min: i16,
        max: i16,
    },
    #[error("frame of {0} bytes is too short for a request header")]
    Truncated(usize),
    #[error("malformed {api} v{version} request: {reason}")]
    Malformed {
        api: &'static str,
        version: i16,
        reason: String,
    },
    #[error("cannot encode {api} v{version} response: {reason}")]
    Encode {
        api: &'static str,
        version: i16,
        reason: String,
    },
}
