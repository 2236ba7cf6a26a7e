//! `pathwise order ADDR...`: destinations in RFC 6724 section 6 preference order.

use std::io::Write;

use anyhow::Context;
use pathwise_policy::{
    PolicyTable, RankedDestination, SourceAddress, TableKind, classify, sort_destinations,
};
use serde_json::Value;

use crate::cli::OrderArgs;
use crate::{host, order_config};

/// Sorts the destinations over the given sources (default: the host's addresses) and prints
/// them most preferred first.
pub fn run(args: &OrderArgs) -> anyhow::Result<()> {
    let table = table_for(args)?;
    let sources: Vec<SourceAddress> = if args.sources.is_empty() {
        host::source_addresses().context("listing the host's addresses for default sources")?
    } else {
        args.sources.clone()
    };
    let ranked = sort_destinations(&table, &sources, &args.destinations);
    let mut out = std::io::stdout().lock();
    if args.json {
        let values: Vec<Value> = ranked
            .iter()
            .map(|r| Value::String(r.destination.to_string()))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&values)?)?;
    } else {
        for entry in &ranked {
            writeln!(out, "{}", to_text(entry))?;
        }
    }
    Ok(())
}

/// The table named by `--table`, else by the config's `policy.order`, else `seed`.
fn table_for(args: &OrderArgs) -> anyhow::Result<PolicyTable> {
    let settings = match &args.config {
        Some(path) => Some(order_config::read(path)?),
        None => None,
    };
    let kind = args
        .table
        .map(TableKind::from)
        .or(settings.as_ref().map(|s| s.order))
        .unwrap_or(TableKind::Seed);
    if let Some(table) = PolicyTable::builtin(kind) {
        return Ok(table);
    }
    let settings =
        settings.context("--table custom needs --config FILE with [[policy.order_table]] rows")?;
    settings.custom_table()
}

/// `2001:db8:1::1 documentation source=2001:db8:1::2`, or `source=none` (RFC 6724 rule 1).
fn to_text(entry: &RankedDestination) -> String {
    let source = entry
        .source
        .map_or_else(|| "none".to_owned(), |s| s.address.to_string());
    format!(
        "{} {} source={}",
        entry.destination,
        classify(entry.destination),
        source
    )
}
