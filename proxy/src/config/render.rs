//! What comes out of the one definition besides reading: the effective configuration as TOML
//! (what `pathwise check-config` prints, in the layout of `deploy/pathwise.toml`; loading the
//! text gives the same `Config` back), and the key table of `docs/configuration.md`.

use std::fmt::Write;

use super::Config;
use super::section::{KeyDoc, Reload, Section, Toml};

impl Config {
    /// Every key as TOML, sections and keys in the order of `deploy/pathwise.toml`.
    pub fn to_toml(&self) -> String {
        let mut out = Toml::default();
        self.write(&mut out);
        out.0
    }

    /// The documentation of every key, in the order of `deploy/pathwise.toml`.
    pub fn reference() -> Vec<KeyDoc> {
        let mut keys = Vec::new();
        <Self as Section>::reference(&mut keys);
        keys
    }

    /// The tables of `docs/configuration.md`: one per section, a row per key.
    pub fn reference_markdown() -> String {
        let mut out = String::new();
        let mut section = None;
        for key in Self::reference() {
            let (table, name) = key.key.rsplit_once('.').expect("every key is in a table");
            if section != Some(table) {
                section = Some(table);
                let _ = write!(
                    out,
                    "{}### `[{table}]`\n\n\
                     | Key | Accepts | Default | On SIGHUP | What it does |\n\
                     | --- | --- | --- | --- | --- |\n",
                    if out.is_empty() { "" } else { "\n" },
                );
            }
            let default = key
                .default
                .map_or_else(|| "not set".to_owned(), |value| format!("`{value}`"));
            let reload = match key.reload {
                Reload::Sighup => "applied",
                Reload::Restart => "needs a restart",
            };
            let doc: Vec<&str> = key.doc.lines().map(str::trim).collect();
            let _ = writeln!(
                out,
                "| `{name}` | {} | {default} | {reload} | {} |",
                cell(&key.accepts),
                cell(&doc.join(" ")),
            );
        }
        out
    }
}

/// Text that a Markdown table cell shows as it is.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
