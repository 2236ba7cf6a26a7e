//! The machinery of the one definition in `keys`: the `section!` macro, which turns each
//! table's list of keys into its typed struct, its raw serde form, its defaults, its reading,
//! its TOML, its rows of `docs/configuration.md` and its restart-only keys.

use std::fmt::Write;

use serde::de::DeserializeOwned;

use super::ConfigError;

/// How one kind of value is read, shown and described. Each key names its kind once, in
/// `keys`; everything else about the key follows from it.
pub(crate) trait Kind {
    /// The value as the file or the environment writes it (what serde reads).
    type Raw: DeserializeOwned;
    /// The typed value.
    type Value;
    /// The fields of each row, for a key written as `[[table]]` rows.
    const ROWS: Option<&'static [&'static str]> = None;
    /// What is accepted, in words, for the documentation.
    fn accepts() -> String;
    /// The typed value of `raw`; an error names the dotted `key`.
    fn read(key: &str, raw: Self::Raw) -> Result<Self::Value, ConfigError>;
    /// The value as TOML; `None` when TOML cannot write it and the key is left out.
    fn show(value: &Self::Value) -> Option<String>;
    /// Writes `key = value` to `out` (`dotted` is the whole key, for rows).
    fn write(out: &mut Toml, key: &str, dotted: &str, value: &Self::Value) {
        let _ = dotted;
        match Self::show(value) {
            Some(text) => out.key(key, &text),
            // TOML has no "none"; the key is left out.
            None => out.line(&format!("# {key}: not set")),
        }
    }
}

/// One table of the configuration (`section!` implements it).
pub(crate) trait Section: Sized + Default {
    /// The table as written, every key optional.
    type Raw: DeserializeOwned + Default;
    /// The keys and sub-tables the table accepts, in order.
    const KEYS: &'static [&'static str];
    /// Reads `raw`; a key left out takes its default.
    fn read(raw: Self::Raw) -> Result<Self, ConfigError>;
    /// Writes the table and its sub-tables as TOML.
    fn write(&self, out: &mut Toml);
    /// Pushes to `out` each restart-only key whose value differs in `new`, and gives it back
    /// its value in `self` (the one in force until the restart).
    fn keep_restart_only(&self, new: &mut Self, out: &mut Vec<&'static str>);
    /// Pushes the documentation of each key, sub-tables' too.
    fn reference(out: &mut Vec<KeyDoc>);
    /// What the table at dotted `path` holds, if it is this table, a sub-table or rows.
    fn shape(path: &str) -> Option<Shape>;
}

/// When a change to a key takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reload {
    /// At the next SIGHUP.
    Sighup,
    /// Only at the next start; a SIGHUP that changes it logs a warning and keeps the old value.
    Restart,
}

/// The documentation of one key, from its definition.
#[derive(Clone, Debug)]
pub struct KeyDoc {
    /// The dotted key.
    pub key: &'static str,
    /// What is accepted.
    pub accepts: String,
    /// The default as TOML, or `None` for a key not set by default.
    pub default: Option<String>,
    /// When a change takes effect.
    pub reload: Reload,
    /// What the key does: its doc comment.
    pub doc: &'static str,
}

/// What a table of the file holds, for the check that names unknown keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A table with these keys.
    Table(&'static [&'static str]),
    /// An array of tables, each with these keys.
    Rows(&'static [&'static str]),
}

/// Pushes `key` to `out` when it is restart-only and changed; whether it did.
pub(crate) fn note_change(
    out: &mut Vec<&'static str>,
    reload: Reload,
    key: &'static str,
    changed: bool,
) -> bool {
    let kept = reload == Reload::Restart && changed;
    if kept {
        out.push(key);
    }
    kept
}

/// TOML text being written.
#[derive(Default)]
pub(crate) struct Toml(pub(crate) String);

impl Toml {
    /// `[name]`, after a blank line unless it is the first.
    pub(crate) fn table(&mut self, name: &str) {
        self.header(&format!("[{name}]"));
    }

    /// `[[name]]`: one more row of an array of tables.
    pub(crate) fn rows(&mut self, name: &str) {
        self.header(&format!("[[{name}]]"));
    }

    fn header(&mut self, header: &str) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.line(header);
    }

    /// `key = value`.
    pub(crate) fn key(&mut self, key: &str, value: &str) {
        self.line(&format!("{key} = {value}"));
    }

    /// One line as it is.
    pub(crate) fn line(&mut self, line: &str) {
        let _ = writeln!(self.0, "{line}");
    }
}

/// A key's name in TOML: the field's, unless the definition gives another.
macro_rules! key_name {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $toml:literal) => {
        $toml
    };
}

/// Defines one table: each key once, with its doc comment (the documentation's text), its
/// TOML name when that is not the field's (`path_override as "override"`), its type, its
/// default, its kind (how it is read, shown and described) and when a change takes effect
/// (`Sighup` or `Restart`); then the sub-tables.
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident($raw:ident) at $path:literal {
            $(
                $(#[doc = $doc:literal])*
                $field:ident $(as $toml:literal)?: $ty:ty = $default:expr, $kind:ty, $when:ident;
            )*
        }
        $(tables {
            $(
                $(#[doc = $tdoc:literal])*
                $table:ident: $tty:ident;
            )*
        })?
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $($(#[doc = $doc])* pub $field: $ty,)*
            $($($(#[doc = $tdoc])* pub $table: $tty,)*)?
        }

        #[doc = concat!("[`", stringify!($name), "`] as written: every key optional, unknown \
                         keys refused.")]
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $raw {
            $(
                $(#[serde(rename = $toml)])?
                pub(crate) $field: Option<<$kind as $crate::config::section::Kind>::Raw>,
            )*
            $($(
                #[serde(default)]
                pub(crate) $table: <$tty as $crate::config::section::Section>::Raw,
            )*)?
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $($field: $default,)*
                    $($($table: <$tty>::default(),)*)?
                }
            }
        }

        impl $crate::config::section::Section for $name {
            type Raw = $raw;
            const KEYS: &'static [&'static str] =
                &[$(key_name!($field $($toml)?),)* $($(stringify!($table),)*)?];

            fn read(raw: $raw) -> Result<Self, $crate::config::ConfigError> {
                let _ = &raw;
                Ok(Self {
                    $($field: match raw.$field {
                        Some(value) => <$kind as $crate::config::section::Kind>::read(
                            concat!($path, ".", key_name!($field $($toml)?)),
                            value,
                        )?,
                        None => $default,
                    },)*
                    $($($table: <$tty as $crate::config::section::Section>::read(raw.$table)?,)*)?
                })
            }

            fn write(&self, out: &mut $crate::config::section::Toml) {
                if !$path.is_empty() {
                    out.table($path);
                }
                $(<$kind as $crate::config::section::Kind>::write(
                    out,
                    key_name!($field $($toml)?),
                    concat!($path, ".", key_name!($field $($toml)?)),
                    &self.$field,
                );)*
                $($(<$tty as $crate::config::section::Section>::write(&self.$table, out);)*)?
            }

            fn keep_restart_only(&self, new: &mut Self, out: &mut Vec<&'static str>) {
                let _ = (&new, &out);
                $(if $crate::config::section::note_change(
                    out,
                    $crate::config::section::Reload::$when,
                    concat!($path, ".", key_name!($field $($toml)?)),
                    self.$field != new.$field,
                ) {
                    new.$field.clone_from(&self.$field);
                })*
                $($(<$tty as $crate::config::section::Section>::keep_restart_only(&self.$table, &mut new.$table, out);)*)?
            }

            fn reference(out: &mut Vec<$crate::config::section::KeyDoc>) {
                let defaults = Self::default();
                let _ = (&defaults, &out);
                $(out.push($crate::config::section::KeyDoc {
                    key: concat!($path, ".", key_name!($field $($toml)?)),
                    accepts: <$kind as $crate::config::section::Kind>::accepts(),
                    default: <$kind as $crate::config::section::Kind>::show(&defaults.$field),
                    reload: $crate::config::section::Reload::$when,
                    doc: concat!($($doc, "\n",)*),
                });)*
                $($(<$tty as $crate::config::section::Section>::reference(out);)*)?
            }

            fn shape(path: &str) -> Option<$crate::config::section::Shape> {
                if path == $path {
                    return Some($crate::config::section::Shape::Table(Self::KEYS));
                }
                $(if path == concat!($path, ".", key_name!($field $($toml)?)) {
                    return <$kind as $crate::config::section::Kind>::ROWS.map($crate::config::section::Shape::Rows);
                })*
                $($(if let Some(shape) = <$tty as $crate::config::section::Section>::shape(path) {
                    return Some(shape);
                })*)?
                None
            }
        }
    };
}

pub(crate) use {key_name, section};
