//! The fuzz targets' checks (`fuzz/src/common.rs`, included verbatim) in
//! the normal test run, without libFuzzer: every seed in `fuzz/seeds/`,
//! whatever corpus a local fuzzing run left in `fuzz/corpus/` (capped), and
//! a deterministic set of mutations of the seeds (byte flips, truncations,
//! insertions, splices, recomputed CRCs). A decoder regression that panics
//! fails here, not only under `cargo fuzz`.

use std::path::Path;

#[path = "../fuzz/src/common.rs"]
mod common;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn files(dir: &Path, cap: usize) -> Vec<Vec<u8>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    names.truncate(cap);
    names.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
            3 if !other.is_empty() => {
                let i = rng.below(v.len() + 1);
                let j = rng.below(other.len());
                v.splice(i..i, other[j..].iter().copied().take(64));
            }
            _ if v.len() > 4 => {
                // A plausible length at a random spot (sizes, array counts).
                let i = rng.below(v.len() - 4);
                let n = [0i32, 1, -1, 0x7fff_ffff, 64][rng.below(5)];
                v[i..i + 4].copy_from_slice(&n.to_be_bytes());
            }
            _ => {}
        }
    }
    v
}

fn replay(target: &str, check: impl Fn(&[u8]), mutations_per_seed: usize) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = files(&root.join("seeds").join(target), usize::MAX);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let corpus = files(&root.join("corpus").join(target), 5_000);
    let mut n = 0;
    for input in seeds.iter().chain(&corpus) {
        check(input);
        n += 1;
    }
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    for (i, seed) in seeds.iter().enumerate() {
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..mutations_per_seed {
            check(&mutate(&mut rng, seed, other));
            n += 1;
        }
    }
    n
}

#[test]
fn request_decoder_corpus_and_mutations_do_not_panic() {
    let n = replay(
        "decode_request",
        |data| {
            for frame in common::frames(data) {
                common::decode_one(frame);
            }
        },
        150,
    );
    eprintln!("decode_request: {n} inputs");
}

#[test]
fn record_batch_corpus_and_mutations_do_not_panic() {
    let n = replay("record_batch", common::check_batches, 3_000);
    eprintln!("record_batch: {n} inputs");
}
