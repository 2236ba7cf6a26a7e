//! Values as the file or the environment writes them, before they are read into their kinds
//! (`kinds`, `lists`): a scalar as written, and a list that the environment writes as one
//! comma-separated string.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// A boolean or a number as written. TOML gives it typed; an environment variable gives
/// text. Kept as written so that validation, not the `config` crate's lenient conversions
/// (which read `5` as true and `1.5` as 2), decides what is accepted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float, or an integer too large for `i64`.
    Float(f64),
    /// A string, e.g. every environment variable.
    Text(String),
}

impl fmt::Display for Scalar {
    /// As TOML writes it: strings quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(value) => write!(f, "{value}"),
            Self::Int(value) => write!(f, "{value}"),
            Self::Float(value) => write!(f, "{value}"),
            Self::Text(value) => write!(f, "{value:?}"),
        }
    }
}

impl Scalar {
    /// A whole number as written in TOML or as text in the environment.
    pub(crate) fn integer(&self) -> Option<i64> {
        match self {
            Self::Int(number) => Some(*number),
            Self::Text(text) => text.trim().parse().ok(),
            Self::Bool(_) | Self::Float(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a single value")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(value).map_or(Scalar::Float(value as f64), Scalar::Int))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(value))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(value.to_owned()))
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A list as written: a TOML array of strings, or one string of comma-separated items, which
/// is how an environment variable writes a list (`PATHWISE_UPSTREAM__SERVERS=a,b`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawList {
    /// A TOML array.
    Items(Vec<String>),
    /// A string; its items are separated by commas, and it may be empty.
    Joined(String),
}

impl RawList {
    /// The items: an array's as they are; a string's split at commas, trimmed, empty ones
    /// dropped (so that an empty variable is an empty list).
    pub(crate) fn items(&self) -> Vec<&str> {
        match self {
            Self::Items(items) => items.iter().map(String::as_str).collect(),
            Self::Joined(text) => text
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for RawList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = RawList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawList, E> {
                Ok(RawList::Joined(value.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawList, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(RawList::Items(items))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}
