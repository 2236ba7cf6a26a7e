//! Tests of loading and validation: the example file is the defaults, every bad value's
//! message is exact, environment and flags win in that order.

mod example;
mod keys;
mod regression;
mod reload;
mod sources;
mod values;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use pathwise_policy::{FilterMode, Path, PathState, TableKind};

use super::*;

/// `deploy/pathwise.toml`, the example config: every key at its default.
const EXAMPLE: &str = include_str!("../../../../deploy/pathwise.toml");

/// The tables of the example, by header.
const TABLES: [&str; 8] = [
    "listen",
    "upstream",
    "cache",
    "paths",
    "policy",
    "policy.explicit",
    "metrics",
    "log",
];

fn no_env() -> HashMap<String, String> {
    HashMap::new()
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn from_text(text: &str) -> Result<Config, ConfigError> {
    load(Some(text), &no_env(), &Flags::default())
}

fn error_of(text: &str) -> String {
    from_text(text).expect_err(text).to_string()
}

/// The lines that are neither comments nor blank.
fn significant_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
}
