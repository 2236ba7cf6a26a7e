//! Loading: the file's text, then the `PATHWISE_*` environment, then the flags of `pathwise
//! serve`, each winning over the one before; unknown keys refused by name; then every key read
//! and the rules between keys checked. The sources are passed in: tests give a map, never
//! `std::env::set_var`.

use std::collections::HashMap;
use std::path::Path;

use config::{Environment, File, FileFormat, ValueKind};

use super::keys::RawConfig;
use super::raw::RawList;
use super::section::{Section, Shape};
use super::{Config, ConfigError, Origin, rules};

/// The flags of `pathwise serve` that set config keys. A flag given replaces the whole list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--listen ADDR`, repeatable: replaces `listen.addresses`.
    pub listen: Vec<String>,
    /// `--upstream SERVER`, repeatable: replaces `upstream.servers`.
    pub upstream: Vec<String>,
    /// `--metrics ADDR|off`: replaces `metrics.listen`.
    pub metrics: Option<String>,
}

impl Flags {
    /// Puts the flags given over what the file and environment say.
    fn apply(&self, raw: &mut RawConfig) {
        if !self.listen.is_empty() {
            raw.listen.addresses = Some(RawList::Items(self.listen.clone()));
        }
        if !self.upstream.is_empty() {
            raw.upstream.servers = Some(RawList::Items(self.upstream.clone()));
        }
        if let Some(metrics) = &self.metrics {
            raw.metrics.listen = Some(metrics.clone());
        }
    }

    /// The flag that set `key`, if one did.
    fn origin_of(&self, key: &str) -> Option<Origin> {
        match key {
            "listen.addresses" if !self.listen.is_empty() => Some(Origin::Flag("--listen")),
            "upstream.servers" if !self.upstream.is_empty() => Some(Origin::Flag("--upstream")),
            "metrics.listen" if self.metrics.is_some() => Some(Origin::Flag("--metrics")),
            _ => None,
        }
    }
}

/// The environment variables' prefix; `PATHWISE_<SECTION>__<KEY>` sets `section.key`.
const ENV_PREFIX: &str = "PATHWISE";

/// Builds the configuration from `file_text` (TOML; `None` for no file), the environment
/// `env` (only its `PATHWISE_*` variables are read; lists are comma-separated there) and
/// `flags`. Errors name the dotted key, the bad value and what is accepted; they do not name
/// the file, which the caller knows (see [`load_file`]).
pub fn load(
    file_text: Option<&str>,
    env: &HashMap<String, String>,
    flags: &Flags,
) -> Result<Config, ConfigError> {
    let attribute = |error: ConfigError| attribute(error, env, flags);
    let tree = merge(file_text, env)?;
    check_keys("", &tree).map_err(attribute)?;
    let mut raw: RawConfig = tree
        .try_deserialize()
        .map_err(from_crate)
        .map_err(attribute)?;
    flags.apply(&mut raw);
    let config = Config::read(raw).map_err(attribute)?;
    rules::check(&config).map_err(attribute)?;
    Ok(config)
}

/// [`load`] with the text of the file at `path`; every error names the file.
pub fn load_file(
    path: &Path,
    env: &HashMap<String, String>,
    flags: &Flags,
) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_owned(),
        error,
    })?;
    load(Some(&text), env, flags).map_err(|error| ConfigError::InFile {
        path: path.to_owned(),
        error: Box::new(error),
    })
}

/// This process's `PATHWISE_*` variables (any case, as the `config` crate matches them), for
/// [`load`]. A value that is not UTF-8 is kept lossily, so that validation names it rather
/// than it vanishing.
pub fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            env_key(&name)?;
            Some((name, value.to_string_lossy().into_owned()))
        })
        .collect()
}

/// The file and the environment merged by the `config` crate, as one tree of values.
fn merge(
    file_text: Option<&str>,
    env: &HashMap<String, String>,
) -> Result<config::Value, ConfigError> {
    let mut builder = config::Config::builder();
    if let Some(text) = file_text {
        builder = builder.add_source(File::from_str(text, FileFormat::Toml));
    }
    let environment = Environment::with_prefix(ENV_PREFIX)
        // `PATHWISE_POLICY__FILTER_AAAA`: one `_` after the prefix, `__` between levels. The
        // prefix separator would otherwise default to the level separator, `PATHWISE__`.
        .prefix_separator("_")
        .separator("__")
        .source(Some(env.clone()));
    builder
        .add_source(environment)
        .build()
        .and_then(config::Config::try_deserialize)
        .map_err(from_crate)
}

/// The dotted key an environment variable sets, if it is a `PATHWISE_` one; the same mapping
/// as the `config` crate's (case-insensitive, `__` between levels).
fn env_key(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    let rest = lower.strip_prefix(&format!("{}_", ENV_PREFIX.to_lowercase()))?;
    Some(rest.replace("__", "."))
}

/// Refuses the first key (in sorted order, per table) that the raw form does not have,
/// naming the keys its table accepts; and any table written as a plain value. serde's own
/// unknown-field error would name neither the table nor the environment variable.
fn check_keys(path: &str, value: &config::Value) -> Result<(), ConfigError> {
    match Config::shape(path) {
        None => Ok(()),
        Some(Shape::Table(fields)) => check_table(path, value, fields),
        Some(Shape::Rows(fields)) => {
            let ValueKind::Array(rows) = &value.kind else {
                return Err(ConfigError::invalid(
                    path,
                    format!(
                        "{} is not a list of tables ([[{path}]] rows)",
                        describe(value)
                    ),
                ));
            };
            rows.iter()
                .enumerate()
                .try_for_each(|(i, row)| check_table(&format!("{path}[{i}]"), row, fields))
        }
    }
}

fn check_table(path: &str, value: &config::Value, fields: &[&str]) -> Result<(), ConfigError> {
    let table = match &value.kind {
        ValueKind::Table(table) => table,
        ValueKind::Nil if path.is_empty() => return Ok(()),
        _ => {
            return Err(ConfigError::invalid(
                path,
                format!("{} is not a table ([{path}])", describe(value)),
            ));
        }
    };
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort();
    for key in keys {
        let dotted = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if !fields.contains(&key.as_str()) {
            return Err(ConfigError::UnknownKey {
                key: dotted,
                accepted: fields.join(", "),
                origin: Origin::File,
            });
        }
        check_keys(&dotted, &table[key])?;
    }
    Ok(())
}

/// A value as an error message shows it: strings quoted, containers by kind.
fn describe(value: &config::Value) -> String {
    match &value.kind {
        ValueKind::String(text) => format!("{text:?}"),
        ValueKind::Array(_) => "a list".to_owned(),
        ValueKind::Table(_) => "a table".to_owned(),
        ValueKind::Nil => "nothing".to_owned(),
        _ => value.to_string(),
    }
}

/// Credits the value of the error's key to the flag or environment variable that set it
/// (flags win over the environment, which wins over the file).
fn attribute(error: ConfigError, env: &HashMap<String, String>, flags: &Flags) -> ConfigError {
    let Some(key) = error.key() else {
        return error;
    };
    // `upstream.servers[1]` was set as `upstream.servers`.
    let setting = key.split('[').next().unwrap_or(key);
    let from_env = || {
        let mut names: Vec<&String> = env
            .keys()
            .filter(|name| {
                env_key(name).is_some_and(|set| {
                    set == setting
                        || set
                            .strip_prefix(setting)
                            .is_some_and(|rest| rest.starts_with('.'))
                })
            })
            .collect();
        names.sort();
        names.first().map(|name| Origin::Env((*name).clone()))
    };
    match flags.origin_of(setting).or_else(from_env) {
        Some(origin) => error.with_origin(origin),
        None => error,
    }
}

/// An error of the `config` crate (TOML syntax, or a value of the wrong type) in our terms.
fn from_crate(error: config::ConfigError) -> ConfigError {
    match error {
        config::ConfigError::FileParse { cause, .. } => {
            ConfigError::Syntax(one_line(&cause.to_string()))
        }
        config::ConfigError::Type {
            unexpected,
            expected,
            key: Some(key),
            ..
        } => ConfigError::invalid(
            key,
            format!("{} is not {expected}", kind_words(&unexpected.to_string())),
        ),
        config::ConfigError::At {
            error,
            key: Some(key),
            ..
        } => ConfigError::invalid(key, reword(&error.to_string())),
        other => ConfigError::Other(other.to_string()),
    }
}

/// serde's `invalid type: sequence, expected a string` as `a list is not a string`.
fn reword(message: &str) -> String {
    message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
        .map_or_else(
            || message.to_owned(),
            |(found, expected)| format!("{} is not {expected}", kind_words(found)),
        )
}

/// serde's names of containers in TOML's words.
fn kind_words(found: &str) -> String {
    match found {
        "sequence" => "a list".to_owned(),
        "map" => "a table".to_owned(),
        other => other.to_owned(),
    }
}

/// A TOML parse error (a location line, a source excerpt with a caret, a message) as one
/// line: `line 2, column 7: duplicate key`. The parser's message for a string without quotes
/// (`level = info`: "invalid float, expected `inf`") misleads, so such a line gets a hint.
fn one_line(text: &str) -> String {
    let mut lines = text.lines();
    let location = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("TOML parse error at ")
        .to_owned();
    let mut source = None;
    let mut message = Vec::new();
    for line in lines {
        // The excerpt's lines start with a gutter: `  |`, `2 | a = =`.
        let after_number = line.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        match after_number.strip_prefix('|') {
            Some(code)
                if after_number.len() < line.len()
                    && line.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                source = Some(code.trim());
            }
            Some(_) => {}
            None if line.trim().is_empty() => {}
            None => message.push(line.trim()),
        }
    }
    let mut one = location;
    if !message.is_empty() {
        one = format!("{one}: {}", message.join("; "));
    }
    if let Some(hint) = source.and_then(|code| quoting_hint(&message, code)) {
        one = format!("{one}; {hint}");
    }
    one
}

/// `strings are quoted: level = "info"`, when `code` is a key set to a bare word that TOML
/// took for a malformed number or boolean, or refused as an unquoted string.
fn quoting_hint(message: &[&str], code: &str) -> Option<String> {
    const BARE_WORD_ERRORS: [&str; 4] = [
        "invalid float",
        "invalid boolean",
        "invalid integer",
        "string values must be quoted",
    ];
    let first = message.first()?;
    if !BARE_WORD_ERRORS
        .iter()
        .any(|start| first.starts_with(start))
    {
        return None;
    }
    let (key, value) = code.split_once('=')?;
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() || value.is_empty() || value.starts_with(['"', '\'', '[', '{']) {
        return None;
    }
    Some(format!("strings are quoted: {key} = \"{value}\""))
}
