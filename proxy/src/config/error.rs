//! `ConfigError`: every way a configuration can be refused, each naming the dotted key.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration was refused. The `Display` is one line for the operator: the dotted
/// key, the bad value and what is accepted, plus where the value came from when that was not
/// the file (an environment variable or a flag).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key whose value is malformed, out of range, or inconsistent with another key.
    #[error("{key}: {problem}{origin}")]
    Invalid {
        /// The dotted key, with an index for list items: `upstream.servers[1]`.
        key: String,
        /// What is wrong and what is accepted, e.g.
        /// `"sometimes" is not one of teredo-only, no-native, always, never`.
        problem: String,
        /// Where the value came from.
        origin: Origin,
    },
    /// A key that no section has (a typo, or a key of another version).
    #[error("{key}: unknown key (accepted: {accepted}){origin}")]
    UnknownKey {
        /// The dotted key as written, e.g. `policy.explicit.bogus`.
        key: String,
        /// The keys the enclosing table accepts, comma-separated.
        accepted: String,
        /// Where the key came from.
        origin: Origin,
    },
    /// The file is not TOML.
    #[error("not valid TOML: {0}")]
    Syntax(String),
    /// An error of the `config` crate that names no key (not expected from a TOML file).
    #[error("{0}")]
    Other(String),
    /// The file could not be read.
    #[error("{}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        error: std::io::Error,
    },
    /// An error in the named file (what [`load_file`](super::load_file) returns).
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        error: Box<ConfigError>,
    },
}

impl ConfigError {
    /// An error for `key`, whose value came from the file (or the defaults).
    pub(crate) fn invalid(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            problem: problem.into(),
            origin: Origin::File,
        }
    }

    /// The dotted key the error is about, if it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } | Self::UnknownKey { key, .. } => Some(key),
            Self::InFile { error, .. } => error.key(),
            Self::Syntax(_) | Self::Other(_) | Self::Read { .. } => None,
        }
    }

    /// This error with the key's value attributed to `origin`.
    pub(crate) fn with_origin(mut self, new: Origin) -> Self {
        if let Self::Invalid { origin, .. } | Self::UnknownKey { origin, .. } = &mut self {
            *origin = new;
        }
        self
    }
}

/// Where a value came from; the file is the default and goes unsaid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// The config file, or no source at all (a cross-field check against a default).
    #[default]
    File,
    /// An environment variable, by its name.
    Env(String),
    /// A command-line flag such as `--listen`.
    Flag(&'static str),
}

impl fmt::Display for Origin {
    /// Empty for the file; ` (from NAME)` otherwise, to follow the message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => Ok(()),
            Self::Env(name) => write!(f, " (from {name})"),
            Self::Flag(flag) => write!(f, " (from {flag})"),
        }
    }
}
