//! The configuration: what every other module reads, and how it is loaded.
//!
//! Each key is defined once, in `keys`, from which come the typed structs, their defaults,
//! reading and validation (`kinds`, `lists`; rules between keys in `rules`), the TOML that
//! `pathwise check-config` prints, the table of `docs/configuration.md`, and whether a change
//! is applied on SIGHUP or needs a restart. Loading (file text, `PATHWISE_*` environment,
//! flags) lives in `load`.

mod error;
mod keys;
mod kinds;
mod lists;
mod load;
mod raw;
mod render;
mod rules;
pub(crate) mod section;
#[cfg(test)]
mod tests;
mod value;

pub use error::{ConfigError, Origin};
pub use keys::{
    CacheConfig, Config, ExplicitConfig, ListenConfig, LogConfig, MetricsConfig, PathsConfig,
    PolicySection, UpstreamConfig,
};
pub use load::{Flags, load, load_file, process_env};
pub use section::{KeyDoc, Reload};
pub use value::{
    LogFormat, PathOverride, Strategy, UpstreamSpec, format_duration, parse_duration,
    parse_listen_address,
};

use pathwise_policy::{PolicyConfig, PolicyTable};
use section::Section;

impl Config {
    /// Gives the restart-only keys of `new` (the config a SIGHUP read) back their values in
    /// `self` (the config in force), so that `new` is what the reload puts in force; returns
    /// the dotted keys whose change so waits for a restart, for the reload to warn about.
    pub fn keep_restart_only(&self, new: &mut Config) -> Vec<&'static str> {
        let mut kept = Vec::new();
        Section::keep_restart_only(self, new, &mut kept);
        kept
    }

    /// The rules between keys (no upstream that is pathwise itself, TTL bounds in order, ...),
    /// for a config assembled after loading: a reload checks the config it would put in force,
    /// whose restart-only keys are the old ones.
    pub fn check_rules(&self) -> Result<(), ConfigError> {
        rules::check(self)
    }
}

impl PolicySection {
    /// The decision inputs of the policy crate.
    pub fn policy_config(&self) -> PolicyConfig {
        PolicyConfig {
            filter_aaaa: self.filter_aaaa,
            keep_teredo_destinations: self.keep_teredo_destinations,
            require_a: self.require_a,
            break_dnssec: self.break_dnssec,
            filtered_ttl: u32::try_from(self.filtered_ttl.as_secs()).unwrap_or(u32::MAX),
        }
    }

    /// The ordering table `order` names.
    pub fn table(&self) -> PolicyTable {
        PolicyTable::builtin(self.order).unwrap_or_else(|| {
            PolicyTable::custom(self.order_table.iter().copied())
                .expect("validation rejects a custom order without rows")
        })
    }
}
