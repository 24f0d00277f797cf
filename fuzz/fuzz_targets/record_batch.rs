//! Record-batch validation: everything the broker does with producer bytes
//! before (and instead of) decoding them: `validate_batch`, walking
//! concatenated batches, cutting on batch boundaries, and for uncompressed
//! batches the record iterator, the timestamp search and the compaction
//! re-encoder, whose output must validate and decode to the same records.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/common.rs"]
mod skiff_fuzz_common;

fuzz_target!(|data: &[u8]| {
    skiff_fuzz_common::check_batches(data);
});
