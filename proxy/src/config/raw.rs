//! The configuration as written: one serde struct per table, unknown keys refused,
//! every value as the file or environment gives it. `validate` turns this into [`Config`].
//!
//! Every key is an `Option`, so a missing key takes its default from [`Config::default`].
//!
//! [`Config`]: super::Config
//! [`Config::default`]: super::Config

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[listen]`
    #[serde(default)]
    pub listen: RawListen,
    /// `[upstream]`
    #[serde(default)]
    pub upstream: RawUpstream,
    /// `[cache]`
    #[serde(default)]
    pub cache: RawCache,
    /// `[paths]`
    #[serde(default)]
    pub paths: RawPaths,
    /// `[policy]`
    #[serde(default)]
    pub policy: RawPolicy,
    /// `[metrics]`
    #[serde(default)]
    pub metrics: RawMetrics,
    /// `[log]`
    #[serde(default)]
    pub log: RawLog,
}

/// `[listen]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListen {
    /// `IP[:port]` entries.
    pub addresses: Option<RawList>,
    /// CIDR entries.
    pub allow: Option<RawList>,
    /// A duration.
    pub tcp_idle_timeout: Option<String>,
    /// A count.
    pub max_tcp_connections: Option<Scalar>,
    /// A count.
    pub max_tcp_per_client: Option<Scalar>,
    /// A duration.
    pub tcp_read_timeout: Option<String>,
    /// A count (queries per second).
    pub client_rate: Option<Scalar>,
    /// A count.
    pub client_burst: Option<Scalar>,
}

/// `[upstream]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// Upstream specs.
    pub servers: Option<RawList>,
    /// sequential, round-robin or fastest.
    pub strategy: Option<String>,
    /// A duration.
    pub timeout: Option<String>,
    /// A path.
    pub resolv_conf: Option<String>,
    /// A path.
    pub tls_ca_file: Option<String>,
    /// A count.
    pub max_outstanding: Option<Scalar>,
    /// A boolean.
    pub randomize_case: Option<Scalar>,
    /// A boolean.
    pub cookies: Option<Scalar>,
}

/// `[cache]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    /// A count.
    pub max_entries: Option<Scalar>,
    /// A duration in whole seconds.
    pub min_ttl: Option<String>,
    /// A duration in whole seconds.
    pub max_ttl: Option<String>,
    /// A duration in whole seconds.
    pub max_negative_ttl: Option<String>,
    /// A boolean.
    pub serve_stale: Option<Scalar>,
    /// A duration.
    pub stale_max_age: Option<String>,
}

/// `[paths]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaths {
    /// A duration.
    pub stabilize: Option<String>,
    /// A duration.
    pub poll_interval: Option<String>,
    /// A boolean.
    pub require_route: Option<Scalar>,
    /// Interface names or glob patterns.
    pub ignore_interfaces: Option<RawList>,
    /// A boolean.
    pub count_ula: Option<Scalar>,
    /// A boolean.
    pub count_documentation: Option<Scalar>,
    /// `"auto"`, or path names.
    #[serde(rename = "override")]
    pub path_override: Option<RawList>,
}

/// `[policy]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// teredo-only, no-native, always or never.
    pub filter_aaaa: Option<String>,
    /// A boolean.
    pub keep_teredo_destinations: Option<Scalar>,
    /// A boolean.
    pub require_a: Option<Scalar>,
    /// A boolean.
    pub break_dnssec: Option<Scalar>,
    /// A duration in whole seconds.
    pub filtered_ttl: Option<String>,
    /// seed, rfc6724 or custom.
    pub order: Option<String>,
    /// `[[policy.order_table]]` rows.
    pub order_table: Option<Vec<RawOrderRow>>,
    /// `[policy.explicit]`
    #[serde(default)]
    pub explicit: RawExplicit,
}

/// One `[[policy.order_table]]` row. The fields are optional here only so that a missing one
/// is reported by its dotted key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrderRow {
    /// `ADDRESS/LENGTH`.
    pub prefix: Option<String>,
    /// 0 to 255.
    pub precedence: Option<Scalar>,
    /// 0 to 255.
    pub label: Option<Scalar>,
}

/// `[policy.explicit]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExplicit {
    /// CIDR entries.
    pub clients: Option<RawList>,
    /// An EDNS option code.
    pub edns_option: Option<Scalar>,
    /// A boolean.
    pub lone_aaaa: Option<Scalar>,
    /// A duration.
    pub pair_window: Option<String>,
    /// A duration.
    pub hold: Option<String>,
    /// A count.
    pub max_pairs: Option<Scalar>,
}

/// `[metrics]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// A socket address or `off`.
    pub listen: Option<String>,
}

/// `[log]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// error, warn, info, debug or trace.
    pub level: Option<String>,
    /// text or json.
    pub format: Option<String>,
}

/// A boolean or a number as written. TOML gives it typed; an environment variable gives
/// text. Kept as written so that validation, not the `config` crate's lenient conversions
/// (which read `5` as true and `1.5` as 2), decides what is accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
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
pub enum RawList {
    /// A TOML array.
    Items(Vec<String>),
    /// A string; its items are separated by commas, and it may be empty.
    Joined(String),
}

impl RawList {
    /// The items: an array's as they are; a string's split at commas, trimmed, empty ones
    /// dropped (so that an empty variable is an empty list).
    pub fn items(&self) -> Vec<&str> {
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

/// What a table of the file holds, for the check that names unknown keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A table with these keys.
    Table(&'static [&'static str]),
    /// An array of tables, each with these keys.
    Rows(&'static [&'static str]),
}

/// The shape of the table at dotted `path` (`""` is the whole file); `None` for a value.
pub(crate) fn shape_of(path: &str) -> Option<Shape> {
    let shape = match path {
        "" => Shape::Table(fields_of::<RawConfig>()),
        "listen" => Shape::Table(fields_of::<RawListen>()),
        "upstream" => Shape::Table(fields_of::<RawUpstream>()),
        "cache" => Shape::Table(fields_of::<RawCache>()),
        "paths" => Shape::Table(fields_of::<RawPaths>()),
        "policy" => Shape::Table(fields_of::<RawPolicy>()),
        "policy.order_table" => Shape::Rows(fields_of::<RawOrderRow>()),
        "policy.explicit" => Shape::Table(fields_of::<RawExplicit>()),
        "metrics" => Shape::Table(fields_of::<RawMetrics>()),
        "log" => Shape::Table(fields_of::<RawLog>()),
        _ => return None,
    };
    Some(shape)
}

/// The field names of a derived `Deserialize` struct, in declaration order (renames
/// applied), so that the accepted keys of an error message are exactly the struct's.
///
/// serde passes them to `Deserializer::deserialize_struct`; this deserializer records them
/// and stops.
fn fields_of<T: de::DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

/// The deserializer of [`fields_of`]: it only answers `deserialize_struct`.
struct FieldProbe<'a>(&'a mut &'static [&'static str]);

/// How a [`FieldProbe`] stops: every call fails once the fields are recorded.
#[derive(Debug)]
struct Probed;

impl fmt::Display for Probed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Self
    }
}

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Probed> {
        *self.0 = fields;
        Err(Probed)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
