//! Any bytes as an upstream's answer, through shaping to a client (see
//! `checks::response_path`).

#![no_main]

libfuzzer_sys::fuzz_target!(|upstream: &[u8]| pathwise_fuzz::checks::response_path(upstream));
