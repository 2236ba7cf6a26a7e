//! `pathwise [serve]`: load the config, set up logging, and run the server until stopped.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tokio::sync::watch;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use std::sync::Arc;

use pathwise_policy::PathState;

use crate::config::{self, Config, Flags, LogFormat, UpstreamSpec};
use crate::metrics::Metrics;
use crate::paths::Watcher;
use crate::server;

/// `pathwise serve`.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// The config file (TOML); without it, the built-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen on ADDR (UDP and TCP), repeatable; replaces listen.addresses.
    #[arg(long = "listen", value_name = "ADDR", value_parser = parse_listen)]
    pub listen: Vec<String>,
    /// Forward to SERVER (IP[:port], tcp://IP[:port], tls://IP[:port]#name), repeatable;
    /// replaces upstream.servers.
    #[arg(long = "upstream", value_name = "SERVER", value_parser = parse_upstream)]
    pub upstream: Vec<String>,
    /// Serve metrics on ADDR, or "off"; replaces metrics.listen.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
}

impl ServeArgs {
    fn flags(&self) -> Flags {
        Flags {
            listen: self.listen.clone(),
            upstream: self.upstream.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Reads the config from the file (if any), the `PATHWISE_*` environment and the flags.
    fn load(&self) -> anyhow::Result<Config> {
        let environment = config::process_env();
        let loaded = match &self.config {
            Some(path) => config::load_file(path, &environment, &self.flags()),
            None => config::load(None, &environment, &self.flags()),
        };
        Ok(loaded?)
    }
}

/// `--listen ADDR`, read as a `listen.addresses` entry is, so that a bad one is a bad
/// argument (one line naming it, exit 2) rather than a bad configuration. Only the value
/// itself is checked here: the rules between keys (e.g. an upstream on a listen address) need
/// the whole configuration, and `load` checks them.
fn parse_listen(text: &str) -> Result<String, String> {
    config::parse_listen_address(text).map(|_| text.to_owned())
}

/// `--upstream SERVER`, read as an `upstream.servers` entry is (see [`parse_listen`]).
fn parse_upstream(text: &str) -> Result<String, String> {
    text.parse::<UpstreamSpec>().map(|_| text.to_owned())
}

/// Runs the server; returns once it has stopped cleanly.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.load()?;
    init_logging(&config);
    tracing::info!("pathwise {} starting", env!("CARGO_PKG_VERSION"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // The host is read before the listeners open: the first answer is already shaped by
        // the host's real paths.
        let metrics = Arc::new(Metrics::new());
        let changes = Arc::clone(&metrics);
        let on_change = Box::new(move |_: PathState| changes.record_path_change());
        let (watcher, paths) = Watcher::start(&config.paths, on_change);
        let (paths_config, paths_configs) = watch::channel(config.paths.clone());
        tokio::spawn(watcher.run(paths_configs));
        let reload: server::Reloader = Box::new(move || args.load().map_err(|e| format!("{e:#}")));
        let reloaded: server::Reloaded = Box::new(move |config: &Config| {
            paths_config.send_replace(config.paths.clone());
        });
        server::run(config, paths, reload, reloaded, metrics).await
    })?;
    Ok(())
}

/// The log: `log.level` for pathwise, but at most errors from the DNS library. hickory-proto
/// logs a warning for some malformed messages (`incomplete or poorly formatted EDNS
/// options`), and a client controls those: one line per packet it sends would let any client
/// flood the log. pathwise itself says what it does with a bad packet (FORMERR, a drop, a
/// metric), at debug level.
fn init_logging(config: &Config) {
    let targets = log_targets(config.log.level);
    let builder = tracing_subscriber::fmt()
        .with_max_level(config.log.level)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Text => builder.finish().with(targets).try_init(),
        LogFormat::Json => builder.json().finish().with(targets).try_init(),
    };
}

/// `level` for every target but the DNS library's, which logs errors only.
fn log_targets(level: tracing::Level) -> Targets {
    Targets::new().with_default(level).with_target(
        DNS_LIBRARY,
        LevelFilter::ERROR.min(LevelFilter::from_level(level)),
    )
}

/// The target prefix of the DNS library's log lines (its crate name).
const DNS_LIBRARY: &str = "hickory_proto";

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn the_dns_library_logs_errors_only() {
        let targets = log_targets(Level::DEBUG);
        assert!(targets.would_enable("hickory_proto::rr::rdata::opt", &Level::ERROR));
        assert!(!targets.would_enable("hickory_proto::rr::rdata::opt", &Level::WARN));
        assert!(targets.would_enable("pathwise::server", &Level::DEBUG));
        let quiet = log_targets(Level::INFO);
        assert!(!quiet.would_enable("pathwise::server", &Level::DEBUG));
    }
}
