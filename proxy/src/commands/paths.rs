//! `pathwise paths [--json]`: the host's addresses as the path watcher judges them, the path
//! state, and whether the AAAA filter is active.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::config::{self, Config, Flags, PathOverride};
use crate::paths::{Inventory, Report};

/// `pathwise paths`.
#[derive(Args, Debug)]
pub struct PathsArgs {
    /// Print {"addresses": [...], "paths": [...], "filter_active": bool} as JSON.
    #[arg(long)]
    pub json: bool,
    /// The config whose [paths] and policy.filter_aaaa apply; without it, the built-in defaults.
    /// PATHWISE_* environment variables apply, as they do for serve.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Reads the host once and prints the report. The state is what the addresses give now:
/// `paths.stabilize` delays a running server's view of a new path, not this one.
pub fn run(args: &PathsArgs) -> anyhow::Result<()> {
    let config = load(args)?;
    let inventory = Inventory::read(&config.paths)?;
    let (state, pinned) = match config.paths.path_override {
        PathOverride::Fixed(state) => (state, true),
        PathOverride::Auto => (inventory.paths(), false),
    };
    let report = Report {
        inventory: &inventory,
        state,
        pinned,
        mode: config.policy.filter_aaaa,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report.to_json())?)?;
    } else {
        out.write_all(report.to_text().as_bytes())?;
    }
    Ok(())
}

fn load(args: &PathsArgs) -> anyhow::Result<Config> {
    let environment = config::process_env();
    let flags = Flags::default();
    let loaded = match &args.config {
        Some(path) => config::load_file(path, &environment, &flags),
        None => config::load(None, &environment, &flags),
    };
    Ok(loaded?)
}
