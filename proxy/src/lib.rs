//! pathwise: a DNS stub resolver and forwarding proxy that knows the host's IPv6 paths.
//!
//! This crate holds everything with I/O; the decisions live in `pathwise-policy`.

pub mod cache;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod explicit;
pub mod host;
pub mod metric_names;
pub mod metrics;
pub mod paths;
pub mod server;
pub mod singleflight;
pub mod upstream;

#[cfg(test)]
pub(crate) mod testing;
