//! One raw value to its typed value, a failure named by its dotted key: the building blocks
//! of `validate`.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::raw::{RawList, Scalar};
use super::value::parse_duration;

/// A value parsed by `parse`, whose error text follows the key.
pub(super) fn parsed<T>(
    key: &str,
    raw: Option<String>,
    default: T,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match raw {
        Some(text) => parse(&text).map_err(|problem| ConfigError::invalid(key, problem)),
        None => Ok(default),
    }
}

/// A list, each item parsed by `parse` and named `key[i]` when bad.
pub(super) fn list<T>(
    key: &str,
    raw: Option<RawList>,
    default: Vec<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.items()
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            parse(item).map_err(|problem| ConfigError::invalid(format!("{key}[{i}]"), problem))
        })
        .collect()
}

pub(super) fn duration(
    key: &str,
    raw: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    parsed(key, raw, default, parse_duration)
}

/// A duration that must not be zero (a timeout or an interval).
pub(super) fn positive_duration(
    key: &str,
    raw: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    parsed(key, raw, default, |text| match parse_duration(text)? {
        Duration::ZERO => Err(format!("{text:?} is not more than 0s")),
        value => Ok(value),
    })
}

/// A duration that becomes a DNS TTL, which counts whole seconds (RFC 2181 section 8).
pub(super) fn ttl(
    key: &str,
    raw: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    parsed(key, raw, default, |text| {
        let value = parse_duration(text)?;
        if value.subsec_nanos() != 0 {
            return Err(format!(
                "{text:?} is not a whole number of seconds (DNS TTLs count seconds)"
            ));
        }
        Ok(value)
    })
}

/// `true` or `false`; from the environment, those words in any case.
pub(super) fn boolean(key: &str, raw: Option<Scalar>, default: bool) -> Result<bool, ConfigError> {
    match raw {
        None => Ok(default),
        Some(Scalar::Bool(value)) => Ok(value),
        Some(Scalar::Text(text)) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(Scalar::Text(text)) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ConfigError::invalid(
            key,
            format!("{other} is not true or false"),
        )),
    }
}

/// A whole number as written in TOML or as text in the environment.
pub(super) fn integer(value: &Scalar) -> Option<i64> {
    match value {
        Scalar::Int(number) => Some(*number),
        Scalar::Text(text) => text.trim().parse().ok(),
        Scalar::Bool(_) | Scalar::Float(_) => None,
    }
}

/// A count of at least `min`.
pub(super) fn count(
    key: &str,
    raw: Option<Scalar>,
    default: usize,
    min: usize,
) -> Result<usize, ConfigError> {
    let Some(value) = raw else {
        return Ok(default);
    };
    integer(&value)
        .and_then(|number| usize::try_from(number).ok())
        .filter(|number| *number >= min)
        .ok_or_else(|| {
            ConfigError::invalid(
                key,
                format!("{value} is not a whole number of at least {min}"),
            )
        })
}

/// A precedence or label: 0 to 255.
pub(super) fn byte(key: &str, value: &Scalar) -> Result<u8, ConfigError> {
    integer(value)
        .and_then(|number| u8::try_from(number).ok())
        .ok_or_else(|| {
            ConfigError::invalid(key, format!("{value} is not a whole number from 0 to 255"))
        })
}

/// A file name; empty is refused (it would name the current directory).
pub(super) fn file_path(key: &str, raw: Option<String>) -> Result<Option<PathBuf>, ConfigError> {
    match raw {
        Some(text) if text.is_empty() => Err(ConfigError::invalid(key, "\"\" is not a file name")),
        other => Ok(other.map(PathBuf::from)),
    }
}
