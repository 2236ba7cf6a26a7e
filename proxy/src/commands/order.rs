//! `pathwise order ADDR...`: destinations in RFC 6724 section 6 preference order.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;
use pathwise_policy::{
    AddressClass, PolicyTable, RankedDestination, SourceAddress, TableKind, classify,
    sort_destinations,
};
use serde_json::Value;

use crate::cli::OrderArgs;
use crate::config::{self, Flags};
use crate::host;

/// Sorts the destinations over the given sources (default: the host's addresses) and prints
/// them most preferred first.
pub fn run(args: &OrderArgs) -> anyhow::Result<()> {
    let table = table_for(args, &config::process_env())?;
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

/// The table named by `--table`, else by the config's `policy.order`, else `seed`. The
/// config is read as `pathwise serve` reads it, with the `PATHWISE_*` variables of `env`.
fn table_for(args: &OrderArgs, env: &HashMap<String, String>) -> anyhow::Result<PolicyTable> {
    let policy = match &args.config {
        Some(path) => Some(config::load_file(path, env, &Flags::default())?.policy),
        None => None,
    };
    let kind = args
        .table
        .map(TableKind::from)
        .or(policy.as_ref().map(|policy| policy.order))
        .unwrap_or(TableKind::Seed);
    if let Some(table) = PolicyTable::builtin(kind) {
        return Ok(table);
    }
    let policy =
        policy.context("--table custom needs --config FILE with [[policy.order_table]] rows")?;
    PolicyTable::custom(policy.order_table.iter().copied())
        .map_err(|e| anyhow::anyhow!("policy.order_table: {e}"))
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

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::PathBuf;

    use super::*;
    use crate::cli::TableArg;

    /// `pathwise order --config FILE [--table TABLE]` with `text` in the file.
    fn table_of(name: &str, text: &str, table: Option<TableArg>) -> anyhow::Result<PolicyTable> {
        let path: PathBuf =
            std::env::temp_dir().join(format!("pathwise-order-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let args = OrderArgs {
            table,
            config: Some(path.clone()),
            sources: Vec::new(),
            json: false,
            destinations: Vec::new(),
        };
        let result = table_for(&args, &HashMap::new());
        std::fs::remove_file(&path).unwrap();
        result
    }

    #[test]
    fn the_configs_custom_rows_make_the_table() {
        let rows = "[[policy.order_table]]\nprefix = \"::/0\"\nprecedence = 40\nlabel = 1\n\
                    [[policy.order_table]]\nprefix = \"10.0.0.0/8\"\nprecedence = 60\nlabel = 4\n";
        let custom = format!("[policy]\norder = \"custom\"\n{rows}");
        for (table, text) in [(None, custom.as_str()), (Some(TableArg::Custom), rows)] {
            let table = table_of("rows", text, table).unwrap();
            assert_eq!(table.precedence("10.9.9.9".parse::<IpAddr>().unwrap()), 60);
            assert_eq!(table.precedence("2a00::1".parse::<IpAddr>().unwrap()), 40);
        }
    }

    #[test]
    fn the_config_is_checked_as_serve_checks_it() {
        let error = table_of("bad", "[policy]\norder = \"fastest\"\n", None).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with(": policy.order: \"fastest\" is not one of seed, rfc6724, custom"),
            "{error}"
        );
        let error = table_of("none", "", Some(TableArg::Custom)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "policy.order_table: the custom table is empty (add [[policy.order_table]] rows)"
        );
    }
}
