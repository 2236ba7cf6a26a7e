//! A small seeded random number generator (SplitMix64) for the hostile and spoofing tests:
//! no dependency, and a storm that found something can be replayed from its printed seed.

use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that replays a run: `PWTEST_SEED=0x1234abcd` (or decimal)
/// gives every seeded test that seed instead of one from the clock. Not `PATHWISE_...`, which
/// pathwise would read as a config key.
pub const SEED_VAR: &str = "PWTEST_SEED";

/// A test's seed: [`SEED_VAR`] when it is set, else one from the clock that differs between
/// runs. It is printed when made, and again, with the command line that replays it, if the
/// test panics while it is alive (keep it in a variable until the test's end).
#[derive(Debug)]
pub struct Seed {
    value: u64,
    test: &'static str,
}

impl Seed {
    /// The seed for `test` (its function name, for the replay line).
    pub fn for_test(test: &'static str) -> Self {
        let value = match std::env::var(SEED_VAR) {
            Ok(text) => parse_seed(&text).unwrap_or_else(|| {
                panic!("{SEED_VAR}={text:?} is not a number (0x... or decimal)")
            }),
            Err(_) => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0x5eed, |elapsed| elapsed.as_nanos() as u64),
        };
        eprintln!("seed {value:#x} ({SEED_VAR}={value:#x} replays it)");
        Self { value, test }
    }

    /// The seed itself.
    pub fn value(&self) -> u64 {
        self.value
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "{} failed with seed {:#x}; replay it with
  \
                 {SEED_VAR}={:#x} cargo nextest run -p pathwise-tests -E 'test(/{}$/)'",
                self.test, self.value, self.value, self.test
            );
        }
    }
}

/// `0x`-prefixed hexadecimal or decimal.
fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): fast, and good enough to pick mutations and IDs.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// From a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// 16 random bits.
    pub fn u16(&mut self) -> u16 {
        self.next_u64() as u16
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }
}
