//! Any bytes as a client's query, through the whole query path (see `checks::query_path`).

#![no_main]

libfuzzer_sys::fuzz_target!(|packet: &[u8]| pathwise_fuzz::checks::query_path(packet));
