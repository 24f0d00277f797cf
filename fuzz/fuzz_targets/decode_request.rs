//! Request framing + header + body decoding of every served API.
//!
//! The input is a byte stream as a client would send it: size-prefixed
//! frames, cut exactly as `server::Connection` cuts them (a negative size
//! or one above `socket.request.max.bytes` ends the connection), each
//! frame decoded by `skiff::protocol::decode_request` (header version
//! chosen from the API key and version, version checked against the served
//! table, body decoded). Nothing may panic, and a decoded request must
//! re-encode (the broker echoes parts of requests in responses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use skiff_fuzz_common::frames;

#[path = "../src/common.rs"]
mod skiff_fuzz_common;

fuzz_target!(|data: &[u8]| {
    for frame in frames(data) {
        skiff_fuzz_common::decode_one(frame);
    }
});
