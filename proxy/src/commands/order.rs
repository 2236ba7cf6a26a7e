//! `pathwise order ADDR...`: destinations in RFC 6724 §6 preference order.

use std::io::Write;

use anyhow::Context;
use pathwise_policy::{
    AddressClass, PolicyTable, RankedDestination, SourceAddress, TableKind, classify,
    sort_destinations,
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
        for note in label_notes(&table, &ranked) {
            writeln!(out, "{note}")?;
        }
    }
    Ok(())
}

/// Whether `entry`'s destination has a label in `table` and its source the same one (RFC 6724
/// rule 5).
fn label_matches(table: &PolicyTable, entry: &RankedDestination) -> bool {
    entry.source.is_some_and(|source| {
        let label = table.label(entry.destination);
        label.is_some() && label == table.label(source.address)
    })
}

/// A `# ...` line for each destination that rule 5 (prefer matching label) put after one of
/// lower precedence: the order then differs from the table's precedence, and says why. The
/// usual case: on a host without a 6to4 address a 6to4 destination has no source of its label,
/// and IPv4, whose label its IPv4 source shares, goes first.
fn label_notes(table: &PolicyTable, ranked: &[RankedDestination]) -> Vec<String> {
    let mut notes = Vec::new();
    for (position, later) in ranked.iter().enumerate() {
        let Some(source) = later.source else {
            continue;
        };
        if label_matches(table, later) {
            continue;
        }
        let precedence = table.precedence(later.destination);
        let Some(earlier) = ranked[..position].iter().find(|earlier| {
            label_matches(table, earlier) && table.precedence(earlier.destination) < precedence
        }) else {
            continue;
        };
        let label = |address| {
            table
                .label(address)
                .map_or("none".to_owned(), |l| l.to_string())
        };
        let class = classify(later.destination);
        let six_to_four = if class == AddressClass::SixToFour {
            " (a 6to4 destination matches only a 6to4 source)"
        } else {
            ""
        };
        notes.push(format!(
            "# {} ({class}) comes after {} ({}) despite its higher precedence ({precedence} > {}): \
             RFC 6724 rule 5 (prefer matching label) comes before rule 6 (precedence), and its \
             source {} has label {}, not {}{six_to_four}",
            later.destination,
            earlier.destination,
            classify(earlier.destination),
            table.precedence(earlier.destination),
            source.address,
            label(source.address),
            label(later.destination),
        ));
    }
    notes
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
