//! Reads the ordering keys of a config file: `policy.order` and `[[policy.order_table]]`.
//!
//! Only these keys are read here; validating the whole file is `pathwise check-config`'s job.

use std::path::Path;

use anyhow::{Context, bail};
use config::{Config, File, FileFormat};
use pathwise_policy::{PolicyTable, TableKind, TableRow};
use serde::Deserialize;

/// The ordering settings of one config file.
#[derive(Debug)]
pub struct OrderSettings {
    /// `policy.order`, default `seed`.
    pub order: TableKind,
    rows: Vec<RawRow>,
}

/// One `[[policy.order_table]]` row as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    prefix: String,
    precedence: u8,
    label: u8,
}

/// Reads `policy.order` and `policy.order_table` from the TOML file at `path`.
pub fn read(path: &Path) -> anyhow::Result<OrderSettings> {
    let config = Config::builder()
        .add_source(File::from(path).format(FileFormat::Toml))
        .build()
        .with_context(|| format!("reading {}", path.display()))?;
    let order = match config.get_string("policy.order") {
        Ok(text) => text
            .parse()
            .map_err(|e| anyhow::anyhow!("policy.order: {e}"))?,
        Err(config::ConfigError::NotFound(_)) => TableKind::Seed,
        Err(e) => bail!("policy.order: {e}"),
    };
    let rows = match config.get::<Vec<RawRow>>("policy.order_table") {
        Ok(rows) => rows,
        Err(config::ConfigError::NotFound(_)) => Vec::new(),
        Err(e) => bail!("policy.order_table: {e}"),
    };
    Ok(OrderSettings { order, rows })
}

impl OrderSettings {
    /// The custom table of the `[[policy.order_table]]` rows; each bad row is named.
    pub fn custom_table(&self) -> anyhow::Result<PolicyTable> {
        let mut rows = Vec::with_capacity(self.rows.len());
        for (i, raw) in self.rows.iter().enumerate() {
            let prefix = raw
                .prefix
                .parse()
                .map_err(|e| anyhow::anyhow!("policy.order_table[{i}].prefix: {e}"))?;
            rows.push(TableRow {
                prefix,
                precedence: raw.precedence,
                label: raw.label,
            });
        }
        PolicyTable::custom(rows).map_err(|e| anyhow::anyhow!("policy.order_table: {e}"))
    }
}
