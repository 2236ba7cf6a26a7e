//! The kinds of value a key can have: how each is read from what the file or environment
//! wrote (a failure names the key, the bad value and what is accepted), shown as TOML, and
//! described in the documentation. Lists are in `lists`.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::raw::Scalar;
use super::section::Kind;
use super::value::{format_duration, parse_duration, parse_metrics_listen};

/// A TOML basic string. JSON's escapes are a subset of TOML's, so serde_json quotes it.
pub(crate) fn quoted(value: impl std::fmt::Display) -> String {
    serde_json::to_string(&value.to_string()).expect("a string always serializes")
}

/// `problem` about `key`.
fn invalid(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::invalid(key, problem)
}

/// A duration, zero included (`25ms`, `30s`, `2m`, `1h`, `1d`).
pub(crate) struct AnyDuration;

impl Kind for AnyDuration {
    type Raw = String;
    type Value = Duration;
    fn accepts() -> String {
        "duration".to_owned()
    }
    fn read(key: &str, raw: String) -> Result<Duration, ConfigError> {
        parse_duration(&raw).map_err(|problem| invalid(key, problem))
    }
    fn show(value: &Duration) -> Option<String> {
        Some(quoted(format_duration(*value)))
    }
}

/// A duration that must not be zero: a timeout or an interval.
pub(crate) struct Timeout;

impl Kind for Timeout {
    type Raw = String;
    type Value = Duration;
    fn accepts() -> String {
        "duration, more than 0s".to_owned()
    }
    fn read(key: &str, raw: String) -> Result<Duration, ConfigError> {
        match AnyDuration::read(key, raw.clone())? {
            Duration::ZERO => Err(invalid(key, format!("{raw:?} is not more than 0s"))),
            value => Ok(value),
        }
    }
    fn show(value: &Duration) -> Option<String> {
        AnyDuration::show(value)
    }
}

/// A duration that becomes a DNS TTL, which counts whole seconds (RFC 2181 section 8).
pub(crate) struct Ttl;

impl Kind for Ttl {
    type Raw = String;
    type Value = Duration;
    fn accepts() -> String {
        "duration, whole seconds".to_owned()
    }
    fn read(key: &str, raw: String) -> Result<Duration, ConfigError> {
        let value = AnyDuration::read(key, raw.clone())?;
        if value.subsec_nanos() != 0 {
            return Err(invalid(
                key,
                format!("{raw:?} is not a whole number of seconds (DNS TTLs count seconds)"),
            ));
        }
        Ok(value)
    }
    fn show(value: &Duration) -> Option<String> {
        AnyDuration::show(value)
    }
}

/// `true` or `false`; from the environment, those words in any case.
pub(crate) struct Flag;

impl Kind for Flag {
    type Raw = Scalar;
    type Value = bool;
    fn accepts() -> String {
        "true or false".to_owned()
    }
    fn read(key: &str, raw: Scalar) -> Result<bool, ConfigError> {
        match raw {
            Scalar::Bool(value) => Ok(value),
            Scalar::Text(text) if text.eq_ignore_ascii_case("true") => Ok(true),
            Scalar::Text(text) if text.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(invalid(key, format!("{other} is not true or false"))),
        }
    }
    fn show(value: &bool) -> Option<String> {
        Some(value.to_string())
    }
}

/// A whole number of at least `MIN`.
pub(crate) struct Count<const MIN: usize>;

impl<const MIN: usize> Kind for Count<MIN> {
    type Raw = Scalar;
    type Value = usize;
    fn accepts() -> String {
        format!("whole number, at least {MIN}")
    }
    fn read(key: &str, raw: Scalar) -> Result<usize, ConfigError> {
        raw.integer()
            .and_then(|number| usize::try_from(number).ok())
            .filter(|number| *number >= MIN)
            .ok_or_else(|| {
                invalid(
                    key,
                    format!("{raw} is not a whole number of at least {MIN}"),
                )
            })
    }
    fn show(value: &usize) -> Option<String> {
        Some(value.to_string())
    }
}

/// A per-second rate or a burst: 0 to 1,000,000.
pub(crate) struct Rate;

impl Rate {
    const MAX: usize = 1_000_000;
}

impl Kind for Rate {
    type Raw = Scalar;
    type Value = u32;
    fn accepts() -> String {
        format!("whole number, 0 to {}", Self::MAX)
    }
    fn read(key: &str, raw: Scalar) -> Result<u32, ConfigError> {
        let value = Count::<0>::read(key, raw.clone())?;
        if value > Self::MAX {
            return Err(invalid(
                key,
                format!("{raw} is more than {} (0 means no limit)", Self::MAX),
            ));
        }
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    }
    fn show(value: &u32) -> Option<String> {
        Some(value.to_string())
    }
}

/// An EDNS option code: 0 (off), or one RFC 6891 section 9 sets aside for local and
/// experimental use.
pub(crate) struct EdnsOption;

impl EdnsOption {
    const LOCAL: std::ops::RangeInclusive<i64> = 65001..=65534;
}

impl Kind for EdnsOption {
    type Raw = Scalar;
    type Value = u16;
    fn accepts() -> String {
        "0 (off), or 65001 to 65534".to_owned()
    }
    fn read(key: &str, raw: Scalar) -> Result<u16, ConfigError> {
        match raw.integer() {
            Some(code) if code == 0 || Self::LOCAL.contains(&code) => {
                Ok(u16::try_from(code).expect("checked to be in range"))
            }
            _ => Err(invalid(
                key,
                format!(
                    "{raw} is not 0 (off) or an option code from 65001 to 65534 \
                     (RFC 6891 local/experimental use)"
                ),
            )),
        }
    }
    fn show(value: &u16) -> Option<String> {
        Some(value.to_string())
    }
}

/// A file name; empty is refused (it would name the current directory).
pub(crate) struct File;

impl Kind for File {
    type Raw = String;
    type Value = PathBuf;
    fn accepts() -> String {
        "file name".to_owned()
    }
    fn read(key: &str, raw: String) -> Result<PathBuf, ConfigError> {
        match raw.as_str() {
            "" => Err(invalid(key, "\"\" is not a file name")),
            _ => Ok(PathBuf::from(raw)),
        }
    }
    fn show(value: &PathBuf) -> Option<String> {
        Some(quoted(value.display()))
    }
}

/// A file name, or not set.
pub(crate) struct OptionalFile;

impl Kind for OptionalFile {
    type Raw = String;
    type Value = Option<PathBuf>;
    fn accepts() -> String {
        File::accepts()
    }
    fn read(key: &str, raw: String) -> Result<Option<PathBuf>, ConfigError> {
        File::read(key, raw).map(Some)
    }
    fn show(value: &Option<PathBuf>) -> Option<String> {
        value.as_ref().and_then(File::show)
    }
}

/// A socket address, or `off`.
pub(crate) struct AddressOrOff;

impl Kind for AddressOrOff {
    type Raw = String;
    type Value = Option<SocketAddr>;
    fn accepts() -> String {
        "IP:port, or \"off\"".to_owned()
    }
    fn read(key: &str, raw: String) -> Result<Option<SocketAddr>, ConfigError> {
        parse_metrics_listen(&raw).map_err(|problem| invalid(key, problem))
    }
    fn show(value: &Option<SocketAddr>) -> Option<String> {
        Some(value.map_or_else(|| quoted("off"), quoted))
    }
}

/// A type whose values are a fixed set of names.
pub(crate) trait Choices: Copy + PartialEq + 'static {
    /// Every value, in the order the documentation and error messages list them.
    const ALL: &'static [Self];
    /// The value's name in the configuration.
    fn name(self) -> &'static str;
}

/// One of the names of `T`.
pub(crate) struct Choice<T>(PhantomData<T>);

impl<T: Choices> Choice<T> {
    fn names() -> String {
        let names: Vec<&str> = T::ALL.iter().map(|value| value.name()).collect();
        names.join(", ")
    }
}

impl<T: Choices> Kind for Choice<T> {
    type Raw = String;
    type Value = T;
    fn accepts() -> String {
        format!("one of {}", Self::names())
    }
    fn read(key: &str, raw: String) -> Result<T, ConfigError> {
        T::ALL
            .iter()
            .copied()
            .find(|value| value.name() == raw)
            .ok_or_else(|| invalid(key, format!("{raw:?} is not one of {}", Self::names())))
    }
    fn show(value: &T) -> Option<String> {
        Some(quoted(value.name()))
    }
}

impl Choices for pathwise_policy::FilterMode {
    const ALL: &'static [Self] = &Self::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choices for pathwise_policy::TableKind {
    const ALL: &'static [Self] = &Self::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choices for super::Strategy {
    const ALL: &'static [Self] = &Self::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choices for super::LogFormat {
    const ALL: &'static [Self] = &[Self::Text, Self::Json];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Choices for tracing::Level {
    const ALL: &'static [Self] = &[
        Self::ERROR,
        Self::WARN,
        Self::INFO,
        Self::DEBUG,
        Self::TRACE,
    ];
    /// The names `tracing` uses, lower-case.
    fn name(self) -> &'static str {
        match self {
            Self::ERROR => "error",
            Self::WARN => "warn",
            Self::INFO => "info",
            Self::DEBUG => "debug",
            Self::TRACE => "trace",
        }
    }
}
