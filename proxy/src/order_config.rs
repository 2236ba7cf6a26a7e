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

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn write_config(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("pathwise-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn custom_rows_become_a_table() {
        let path = write_config(
            "rows",
            r#"
            [policy]
            order = "custom"
            [[policy.order_table]]
            prefix = "::/0"
            precedence = 40
            label = 1
            [[policy.order_table]]
            prefix = "10.0.0.0/8"
            precedence = 60
            label = 4
            "#,
        );
        let settings = read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(settings.order, TableKind::Custom);
        let table = settings.custom_table().unwrap();
        assert_eq!(table.precedence("10.9.9.9".parse::<IpAddr>().unwrap()), 60);
        assert_eq!(table.precedence("2a00::1".parse::<IpAddr>().unwrap()), 40);
    }

    #[test]
    fn a_bad_row_is_named_by_its_key() {
        let path = write_config(
            "bad",
            "[[policy.order_table]]\nprefix = \"10.0.0.0/40\"\nprecedence = 1\nlabel = 1\n",
        );
        let error = read(&path).unwrap().custom_table().unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            error.to_string(),
            "policy.order_table[0].prefix: \"10.0.0.0/40\" is not a prefix \
             (expected ADDRESS/LENGTH, e.g. 2001::/32 or 10.0.0.0/8)"
        );
    }

    #[test]
    fn a_bad_order_names_the_accepted_values() {
        let path = write_config("order", "[policy]\norder = \"fastest\"\n");
        let error = read(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            error.to_string(),
            "policy.order: \"fastest\" is not one of seed, rfc6724, custom"
        );
    }
}
