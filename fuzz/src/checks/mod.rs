//! The checks of the fuzz targets, in one place: the targets under `fuzz/fuzz_targets/` run
//! them under libFuzzer, and `proxy/tests/fuzz_corpus.rs` (which includes this module by
//! path) runs them over the committed corpus and every regression input on stable Rust.
//! A failed check panics, which libFuzzer reports as a crash and the test as a failure.

mod answer;
mod host;
mod query;
mod response;

pub use query::query_path;
pub use response::response_path;
